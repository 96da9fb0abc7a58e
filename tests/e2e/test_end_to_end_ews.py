"""The onboarding end to end with an on-premises Exchange mailbox reached through EWS on both sides
(the loopback EWS server, exchangelib, a service account with a password) and ``whiteglove run
--once`` as an operator runs it: the notice arrives, the invitations go out with their Message-IDs
intact, an attendee's answer arrives as a meeting-response item, a meeting keeps off the engineer's
busy time, and a restart resumes from the stored sync state with nothing doubled."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.smtp import Received
from test_end_to_end_calendar import (
    CONFIG,
    CRM,
    DANA,
    PRIYA,
    SUPPORT_NAME,
    TOM,
    CalendarDesk,
    answer,
    invitations,
    start_onboarding,
)

from mailer import parse_message

PASSWORD_ENV = "WG_TEST_EWS_PASSWORD"
PACIFIC = ZoneInfo("America/Los_Angeles")


class SentItems:
    """What the EWS server sent, as the SMTP recorder keeps it (for CalendarDesk.sent)."""

    def __init__(self, ews, address: str) -> None:
        self.ews, self.address, self.logins = ews, address, []

    @property
    def received(self) -> list[Received]:
        found = []
        for raw in self.ews.sent(self.address):
            parsed = parse_message(raw)
            found.append(Received(self.address, tuple(a.email for a in (*parsed.to, *parsed.cc)), raw))
        return found


class Exchange:
    """The EWS server as CalendarDesk delivers to it; a meeting answer arrives as Exchange files it."""

    def __init__(self, ews) -> None:
        self.ews = ews

    def deliver(self, address: str, raw: bytes) -> None:
        answer_item = b"method=REPLY" in raw or b"METHOD:REPLY" in raw
        self.ews.deliver(address, raw, item_class="IPM.Schedule.Meeting.Resp.Pos" if answer_item else "IPM.Note")


@pytest.fixture
def desk(fake_ews, tmp_path, db_url, monkeypatch) -> CalendarDesk:
    address = f"support-{secrets.token_hex(4)}@contoso.test"
    user, password = f"svc-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    fake_ews.add_user(user, password)
    fake_ews.add_mailbox(address)
    fake_ews.add_folder(address, "Processed")
    for colleague in (PRIYA, TOM, DANA):  # their calendars live on the same server
        fake_ews.add_mailbox(colleague)
    monkeypatch.setenv(PASSWORD_ENV, password)

    def write_config():
        text = CONFIG.format(db_url=db_url, imap_host="unused", imap_port=1, address=address,
                             password_env="UNUSED", smtp_host="unused", smtp_port=1, support_name=SUPPORT_NAME,
                             crm=CRM, dana=DANA, priya=PRIYA, tom=TOM)
        text = text.replace('backend = "imap"\n', 'backend = "ews"\nprocessed_folder = "Processed"\n')
        text = text.replace('password_env = "UNUSED"\n', "")
        text = text.replace('[outgoing]\nbackend = "smtp"\n', '[outgoing]\nbackend = "ews"\n')
        text = text.replace('[onboarding]\n', '[onboarding]\nfreebusy = "ews"\n')
        text += (f'\n[ews]\nurl = "{fake_ews.url}"\nauth = "basic"\nusername = "{user}"\npassword_env = "{PASSWORD_ENV}"\n'
                 f'mailbox = "{address}"\nca_file = "{fake_ews.ca_file}"\n')
        path = tmp_path / "whiteglove.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return CalendarDesk(Exchange(fake_ews), address, SentItems(fake_ews, address), tmp_path, write_config, db_url)


def test_an_onboarding_runs_through_exchange_web_services(desk, fake_ews):
    block = (datetime(2026, 12, 8, 8, 0, tzinfo=PACIFIC), datetime(2026, 12, 9, 17, 0, tzinfo=PACIFIC))
    fake_ews.busy[PRIYA] = [(block[0], block[1], "OOF")]
    engagement = start_onboarding(desk)
    invites = invitations(desk)
    assert invites and PRIYA in {i.recipient for i in invites}
    sent_ids = {parse_message(raw).message_id for raw in fake_ews.sent(desk.address)}
    assert {m["message_id"] for m in desk.outbox() if m["status"] == "sent"} == sent_ids
    [notice] = fake_ews.items(desk.address, "Processed")
    assert notice.is_read and notice.categories == ["whiteglove"]
    meetings = {m["key"]: m for m in desk.engagement(engagement)["meetings"] if m["status"] == "planned"}
    intro = datetime.fromisoformat(meetings["introduction"]["start"])
    assert intro.astimezone(PACIFIC).date().isoformat() == "2026-12-10"  # the only free day of its window

    [invite] = [i for i in invites if i.recipient == PRIYA][:1]
    desk.deliver(answer(invite.raw, PRIYA, "ACCEPTED", desk.now + timedelta(minutes=5)))
    desk.at(desk.now + timedelta(minutes=10)).run_once()
    assert desk.partstats(engagement)[(invite.title, PRIYA)] == "ACCEPTED"


def test_a_restart_resumes_from_the_stored_sync_state_and_doubles_nothing(desk, fake_ews):
    start_onboarding(desk)
    before = len(fake_ews.requests)
    sent_before = len(desk.sent())
    out = desk.at(desk.now + timedelta(minutes=1)).run_once()
    assert out.startswith("intake: 0 processed") and len(desk.sent()) == sent_before
    assert fake_ews.requests[before:].count("SyncFolderItems") == 1
    assert len(desk.tickets()) == 1


def test_a_wrong_password_fails_in_seconds_with_one_line(desk, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    started = time.monotonic()
    code, out, err = desk.cli("run", "--once")
    assert code == 1 and time.monotonic() - started < 10
    assert err.strip().splitlines()[-1].startswith("whiteglove: ") and "refused the login of svc-" in err
    assert "not-the-password" not in err


def test_config_check_connect_logs_in_opens_the_folders_and_reads_free_busy(desk):
    code, out, err = desk.cli("config", "check", "--connect")
    assert code == 0, out + err
    lines = [line for line in out.splitlines()[1:] if not line.startswith("warning:")]  # (no authserv_id here)
    assert [line.split()[1] for line in lines] == ["mailbox:", "outgoing:", "free/busy:"]
    assert all(line.startswith("ok") for line in lines) and "Exchange Web Services" in lines[-1]
