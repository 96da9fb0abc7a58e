"""[templates] path: an operator's overrides brand the mail customers get, the package untouched."""
from __future__ import annotations

from datetime import timedelta

from support.desk import CONFIG, NOW
from support.fakes import FakeSource
from support.mail import make_message

from mailer import DirectorySender, parse_message
from ticketing.app.bootstrap import build_desk
from ticketing.config import config_from_dict
from ticketing.services.intake import Intake
from ticketing.services.outbox_sender import OutboxSender


def test_an_override_changes_the_acknowledgement_a_customer_gets_and_the_rest_stays_shipped(store, tmp_path):
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "acknowledgement.txt").write_text("ACME Care got it: {{ ticket.tag }} \"{{ ticket.subject }}\".\n")
    (tmp_path / "whiteglove.toml").touch()
    config = config_from_dict(CONFIG | {"templates": {"path": "brand"}}, base_dir=tmp_path)  # relative to the file
    with store.transaction():
        store.sync_accounts(config.accounts, NOW)
    desk = build_desk(config, store)
    source = FakeSource()
    source.add(make_message(sender="Bob <bob@globex.example>", subject="Export fails", body="The CSV export fails."),
               received_at=NOW)
    Intake(store, lambda: NOW, desk).poll(source)

    OutboxSender(store, DirectorySender(tmp_path / "sent"), desk.mails.renderer).send_due(NOW + timedelta(minutes=1))
    sent = [parse_message(p.read_bytes()) for p in sorted((tmp_path / "sent").glob("*.eml"))]
    [ack] = [m for m in sent if m.to[0].email == "bob@globex.example"]
    [ticket] = store.list_tickets()
    assert ack.text.strip() == f'ACME Care got it: [WG-{ticket.id}] "Export fails".'
    assert "Thank you for writing to Northwind Support" in ack.html  # acknowledgement.html: not overridden
    [note] = [m for m in sent if m.to[0].email == "priya@northwind.example"]
    assert "The CSV export fails." in note.text and "ACME" not in note.text
