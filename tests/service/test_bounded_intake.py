"""Bounded resources at intake: a message over ``[mailbox] max_message_bytes`` is stored whole and
quarantined unread with the reason, and its sender told once a day (never an automated sender); a
batch is bounded by bytes as well as by count, where the mailbox tells sizes before a fetch."""
from __future__ import annotations

import os
from datetime import timedelta

from support.desk import CONFIG, Desk
from support.fakes import FakeSource

from mailer import MaildirSource
from ticketing.services.intake import Intake

LIMIT = 200_000


def big(size: int, *, sender="Bob Martinez <bob@globex.example>", message_id="<big@globex.example>",
        subject="Full logs", extra="") -> bytes:
    head = (f"From: {sender}\r\nTo: support@northwind.example\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Wed, 18 Nov 2026 16:00:00 +0000\r\n{extra}MIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
            "--XX\r\nContent-Type: text/plain\r\n\r\nThe logs.\r\n"
            '--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="all.log"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n")
    line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n"
    body = line * (max(0, size - len(head)) // len(line) + 1)
    return (head + body + "--XX--\r\n").encode()


def desk_with_limit(store, **kw) -> Desk:
    desk = Desk(store, CONFIG)
    desk.intake = Intake(store, lambda: desk.now, desk.intake.desk, max_message_bytes=LIMIT, **kw)
    return desk


def test_a_message_over_the_limit_is_stored_whole_quarantined_and_its_sender_told_once_a_day(store):
    desk = desk_with_limit(store)
    raw = big(300_000)
    summary = desk.receive(raw)
    assert (summary.processed, summary.quarantined) == (0, 1)
    [entry] = store.list_quarantine()
    assert entry.reason == f"too large: {len(raw)} bytes, over [mailbox] max_message_bytes ({LIMIT})"
    assert store.quarantined(entry.id)[1] == raw  # nothing lost: `quarantine retry` reads it once the limit is raised
    assert store.list_tickets() == [] and desk.mail("notification") == []
    [(mail, told)] = desk.mail()
    assert mail.purpose == "too_large" and mail.recipients == ("bob@globex.example",)
    assert told.subject == "Your message to Northwind Support was too large"
    assert told.header("auto-submitted") == "auto-replied" and told.in_reply_to == ("big@globex.example",)
    assert '"Full logs"' in told.text and "nobody has read it yet" in told.text
    desk.receive(big(400_000, message_id="<bigger@globex.example>"), after=timedelta(hours=3))
    assert len(desk.mail("too_large")) == 1  # the same day: quarantined, not told twice
    assert len(store.list_quarantine()) == 2
    desk.receive(big(400_000, message_id="<next-day@globex.example>"), after=timedelta(days=1))
    assert len(desk.mail("too_large")) == 2


def test_automated_senders_and_our_own_address_are_never_told(store):
    desk = desk_with_limit(store)
    desk.receive(big(300_000, message_id="<ooo@globex.example>", extra="Auto-Submitted: auto-replied\r\n"))
    desk.receive(big(300_000, sender="Support <support@northwind.example>", message_id="<own@x.example>"))
    desk.receive(big(300_000, sender="<MAILER-DAEMON@mx.globex.example>", message_id="<dsn@x.example>",
                     subject="Undeliverable: Full logs"))
    assert len(store.list_quarantine()) == 3 and desk.mail() == []


def test_a_message_under_the_limit_is_read_as_ever(store):
    desk = desk_with_limit(store)
    assert desk.receive(big(150_000)).processed == 1
    [(_, notification)] = desk.mail("notification")
    assert [a.filename for a in notification.attachments] == ["all.log"]


class CountingSource(FakeSource):
    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def fetch(self, keys):
        self.batches.append(len(keys))
        return super().fetch(keys)


def test_a_batch_is_bounded_by_bytes_as_well_as_by_count(store):
    desk = desk_with_limit(store, batch_bytes=250_000)
    source = CountingSource()
    for n in range(6):
        source.add(big(100_000, message_id=f"<m{n}@globex.example>", subject=f"Logs {n}"))
    source.add(big(300_000, message_id="<alone@globex.example>"))
    source.add(big(1_000, message_id="<small@globex.example>"))
    summary = desk.intake.poll(source)
    assert (summary.processed, summary.quarantined) == (7, 1)
    assert source.batches == [2, 2, 2, 1, 1]  # the large one alone


def test_a_maildir_tells_the_size_of_its_messages_without_reading_them(tmp_path):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "1700000000.a.host").write_bytes(b"x" * 1234)
    (tmp_path / "cur" / "1700000001.b.host:2,S").write_bytes(b"y" * 10)
    source = MaildirSource(tmp_path)
    keys = source.list_new(None)
    os.remove(tmp_path / "cur" / "1700000001.b.host:2,S")
    assert source.sizes(keys) == {"1700000000.a.host": 1234}
