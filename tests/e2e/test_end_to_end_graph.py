"""The onboarding end to end with a Microsoft 365 mailbox reached through Microsoft Graph on both
sides (the fake Graph server, app-only tokens from the loopback identity provider), and
``whiteglove run --once`` as an operator runs it: the CRM's notice arrives, the welcome mail and the
invitations go out through ``sendMail`` with their Message-IDs intact, and an attendee's answer is
recorded; meetings keep off the engineer's busy times in her Microsoft 365 calendar. A restart
resumes from the stored delta link with nothing doubled."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.oauth import TENANT
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

SECRET_ENV = "WG_TEST_GRAPH_CLIENT_SECRET"


class SentItems:
    """What the fake Graph's sendMail took, as the SMTP recorder keeps it (for CalendarDesk.sent)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.logins: list[str] = []

    def take(self, mailbox: str, raw: bytes) -> None:
        parsed = parse_message(raw)
        self.received.append(Received(mailbox, tuple(a.email for a in (*parsed.to, *parsed.cc)), raw))


class GraphMailbox:
    """The fake Graph as CalendarDesk delivers to it."""

    def __init__(self, graph) -> None:
        self.graph = graph

    def deliver(self, address: str, raw: bytes) -> None:
        self.graph.deliver(address, raw)


@pytest.fixture
def desk(fake_graph, token_authority, tmp_path, db_url, monkeypatch) -> CalendarDesk:
    address = f"support-{secrets.token_hex(4)}@contoso.test"
    client_id, secret = "graph-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    token_authority.register(client_id, address, secret=secret)
    monkeypatch.setenv(SECRET_ENV, secret)
    ca_file = token_authority.write_ca_file(tmp_path / "ca.pem")
    sent = SentItems()
    fake_graph.on_send = sent.take

    def write_config():
        text = CONFIG.format(db_url=db_url, imap_host="unused", imap_port=1, address=address,
                             password_env="UNUSED", smtp_host="unused", smtp_port=1, support_name=SUPPORT_NAME,
                             crm=CRM, dana=DANA, priya=PRIYA, tom=TOM)
        text = text.replace('backend = "imap"\n', 'backend = "graph"\nprocessed_folder = "Processed"\n')
        text = text.replace('password_env = "UNUSED"\n', "")
        text = text.replace('[onboarding]\n', '[onboarding]\nfreebusy = "graph"\n')
        text = text.replace('[outgoing]\nbackend = "smtp"\n', f'[outgoing]\nbackend = "graph"\nusername = "{address}"\n')
        text += (f'\n[microsoft]\ntenant_id = "{TENANT}"\nclient_id = "{client_id}"\nclient_secret_env = "{SECRET_ENV}"\n'
                 f'authority = "{token_authority.authority}"\nca_file = "{ca_file}"\ngraph_url = "{fake_graph.base_url}"\n')
        path = tmp_path / "whiteglove.toml"
        path.write_text(text, encoding="utf-8")
        return path

    yield CalendarDesk(GraphMailbox(fake_graph), address, sent, tmp_path, write_config, db_url)
    fake_graph.on_send = None


def test_an_onboarding_runs_through_microsoft_graph(desk, fake_graph):
    engagement = start_onboarding(desk)
    invites = invitations(desk)
    assert invites and PRIYA in {i.recipient for i in invites}
    # Every mail went out as composed: the outbox's Message-IDs are the ones in Sent Items.
    outbox_ids = {f"<{m['message_id']}>" for m in desk.outbox() if m["status"] == "sent"}
    sent_ids = {m.internet_message_id for m in fake_graph.folder_messages(desk.address, "sentitems")}
    assert outbox_ids and outbox_ids == sent_ids
    # the notice was filed: read, tagged, moved to Processed
    [notice] = fake_graph.folder_messages(desk.address, "Processed")
    assert notice.is_read and notice.categories == ["whiteglove"]

    [invite] = [i for i in invites if i.recipient == PRIYA][:1]
    desk.deliver(answer(invite.raw, PRIYA, "ACCEPTED", desk.now + timedelta(minutes=5)))
    desk.at(desk.now + timedelta(minutes=10)).run_once()
    statuses = desk.partstats(engagement)
    assert statuses[(invite.title, PRIYA)] == "ACCEPTED"


def test_a_restart_resumes_from_the_stored_delta_link_and_doubles_nothing(desk, fake_graph):
    start_onboarding(desk)
    calls_before = len(fake_graph.calls)
    sent_before = len(desk.sent())
    out = desk.at(desk.now + timedelta(minutes=1)).run_once()  # a new process: the cursor comes from the database
    assert out.startswith("intake: 0 processed")
    assert len(desk.sent()) == sent_before
    delta_calls = [path for method, path in fake_graph.calls[calls_before:] if path.endswith("/messages/delta")]
    assert len(delta_calls) == 1  # one page from the stored link, not the whole folder again
    assert len(desk.tickets()) == 1


PACIFIC = ZoneInfo("America/Los_Angeles")


def test_meetings_keep_off_the_busy_times_in_the_engineers_calendar(desk, fake_graph):
    # Priya's Outlook calendar: Tuesday and Wednesday of the first week taken (a training), Thursday free.
    block = (datetime(2026, 12, 8, 8, 0, tzinfo=PACIFIC), datetime(2026, 12, 9, 17, 0, tzinfo=PACIFIC))
    fake_graph.schedules[PRIYA] = [(block[0], block[1], "oof"), (block[0], block[1], "tentative")]
    calls = len(fake_graph.calls)
    try:
        engagement = start_onboarding(desk)
    finally:
        fake_graph.schedules.pop(PRIYA)
    assert [p for _, p in fake_graph.calls[calls:] if p.endswith("/calendar/getSchedule")]
    meetings = [m for m in desk.engagement(engagement)["meetings"] if m["status"] == "planned"]
    starts = {m["key"]: datetime.fromisoformat(m["start"]) for m in meetings}
    ends = {m["key"]: datetime.fromisoformat(m["end"]) for m in meetings}
    for key in starts:
        assert not (starts[key] < block[1] and ends[key] > block[0]), key
    # the introduction's window is days 1-3 (Tuesday to Thursday): only Thursday was free
    assert starts["introduction"].astimezone(PACIFIC).date().isoformat() == "2026-12-10"


def test_when_the_calendars_cannot_be_read_the_plan_goes_on_and_the_engineer_is_told(desk, fake_graph):
    fake_graph.schedule_fails = True
    try:
        engagement = start_onboarding(desk)
    finally:
        fake_graph.schedule_fails = False
    assert [m for m in desk.engagement(engagement)["meetings"] if m["status"] == "planned"]
    [handoff] = [s for s in desk.sent() if PRIYA in s.recipients and "onboarding hand-off" in s.mail.subject]
    assert "Please check:" in handoff.mail.text and "calendars could not be read" in handoff.mail.text


def test_config_check_connect_tries_the_graph_calls(desk, fake_graph):
    code, out, err = desk.cli("config", "check", "--connect")
    assert code == 0, out + err
    lines = [line for line in out.splitlines()[1:] if not line.startswith("warning:")]  # (no authserv_id here)
    assert [line.split()[1] for line in lines] == ["token", "mailbox:", "outgoing:", "free/busy:"]
    assert all(line.startswith("ok") for line in lines)
    fake_graph.forbidden.add(desk.address)
    try:
        code, out, err = desk.cli("config", "check", "--connect")
    finally:
        fake_graph.forbidden.discard(desk.address)
    assert code == 1 and "fix: grant the app the Calendars.Read" in out and "Mail.ReadWrite" in out
