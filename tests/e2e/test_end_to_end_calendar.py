"""Onboarding meetings end to end, as the people in them meet them: the CRM's contract-closed notice
delivered to a real Dovecot, the worker run as an operator runs it (``whiteglove run --once``), the
invitations received by a real SMTP server (aiosmtpd) and delivered into each attendee's own
Dovecot mailbox, read back over IMAP as a calendar client reads them, and the attendees' iMIP
answers (RFC 6047) built with icalendar from what they received and mailed back to the organizer.

The worker reads the wall clock; here it is frozen (freezegun) around each command, at moments
this module chooses, so the plan is the same on every run and the tests can name the times. The
servers run in other threads and processes and keep the real time (``real_asyncio``: aiosmtpd's
event loop sees the real monotonic clock). What is checked is what people see: the mail at the
SMTP server and in their mailboxes, and ``whiteglove engagement ID --json``.
"""
from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP, default
from email.utils import format_datetime, getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from freezegun import freeze_time
from support.dovecot import DovecotServer
from test_end_to_end import (
    CRM,
    DANA,
    PASSWORD_ENV,
    PRIYA,
    SUPPORT_NAME,
    TOM,
    HelpDesk,
    Sent,
)

pytestmark = pytest.mark.dovecot

PACIFIC = ZoneInfo("America/Los_Angeles")  # Priya's business calendar
EASTERN = ZoneInfo("America/New_York")  # the customer's
PRODID = "-//whiteglove//onboarding//EN"

JANE = "jane@acme.example"  # project lead
RENEE = "renee@acme.example"  # IT; a name that is not ASCII, to see the calendar's UTF-8
CONTACTS = {JANE: "Jane Doe", RENEE: "Renée Dubois"}
PEOPLE = {PRIYA: "Priya Raman", DANA: "Dana Whitfield"}
NAMES = {**CONTACTS, **PEOPLE}

#: Monday 7 December 2026, 07:00 in Los Angeles: the CRM's notice arrives.
CLOSED = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
#: The playbook's meetings, in its order (the last two wait for the go-live date), and whom each invites.
SETUP_MEETINGS = ("Introduction: Acme Corporation onboarding", "Hand-off: Acme Corporation resources and workflow",
                  "Developer workflow consultation: Acme Corporation")
PRE_LAUNCH, DEBRIEF = "Pre-launch review: Acme Corporation", "Go-live debrief: Acme Corporation"
REQUIRED, OPTIONAL = "REQ-PARTICIPANT", "OPT-PARTICIPANT"
INVITED = {
    SETUP_MEETINGS[0]: {PRIYA: REQUIRED, JANE: REQUIRED, RENEE: REQUIRED, DANA: OPTIONAL},  # Dana as sales rep
    SETUP_MEETINGS[1]: {PRIYA: REQUIRED, JANE: REQUIRED, RENEE: REQUIRED},
    SETUP_MEETINGS[2]: {PRIYA: REQUIRED, RENEE: REQUIRED, JANE: OPTIONAL},  # IT required, the project lead optional
    PRE_LAUNCH: {PRIYA: REQUIRED, JANE: REQUIRED, RENEE: REQUIRED},
    DEBRIEF: {PRIYA: REQUIRED, JANE: REQUIRED, RENEE: REQUIRED, DANA: OPTIONAL},  # Dana as sales rep and manager
}
CONFIG = """\
[database]
url = "{db_url}"

[mailbox]
backend = "imap"
start_at = "2000-01-01"  # these tests' clocks are set by hand: every message they deliver is new
host = "{imap_host}"
port = {imap_port}
security = "none"
username = "{address}"
password_env = "{password_env}"
idle = false

[outgoing]
backend = "smtp"
host = "{smtp_host}"
port = {smtp_port}
security = "none"

[support]
address = "{address}"
name = "{support_name}"

[security]
trusted_notice_senders = ["{crm}"]

[onboarding]
organizer = "support"
notice_hours = 24
buffer_minutes = 15
customer_hours = "08:00-18:00"

[sla]
# The managers' weekly summary goes on Saturdays here, out of the weekdays these tests run on,
# so that the mail they count is the onboarding's alone.
summary_weekday = "sat"

[[calendars]]
name = "us-pacific"
timezone = "America/Los_Angeles"
hours = {{ mon = "08:00-17:00", tue = "08:00-17:00", wed = "08:00-17:00", thu = "08:00-17:00", fri = "08:00-17:00" }}

[[managers]]
email = "{dana}"
name = "Dana Whitfield"
timezone = "America/Los_Angeles"

[[engineers]]
email = "{tom}"
name = "Tom Becker"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "{dana}"

[[engineers]]
email = "{priya}"
name = "Priya Raman"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "{dana}"
"""

NOTICE = f"""\
An opportunity has been marked Closed Won.

Event: Closed Won
Account: Acme Corporation
Domains: acme.example
Opportunity ID: OPP-2026-0412
Contract ID: SOW-7781
Close Date: 2026-12-07
Package: Enterprise
Timezone: America/New_York
Sales Rep: Dana Whitfield <{DANA}>
Engineer: Priya Raman <{PRIYA}>
Contact: Jane Doe <{JANE}>; role=project lead
Contact: Renée Dubois <{RENEE}>; role=IT

Notes: Customer wants to be live in January.

--
This message was sent by a workflow rule in Northwind CRM.
"""


# -- the help desk, on a clock the test sets -------------------------------------------------------


class CalendarDesk(HelpDesk):
    """A :class:`HelpDesk` whose commands run at ``now`` (the servers keep the real time)."""

    now: datetime = CLOSED

    def cli(self, *argv: str) -> tuple[int, str, str]:
        with freeze_time(self.now, real_asyncio=True):
            return super().cli(*argv)

    def at(self, moment: datetime) -> CalendarDesk:
        assert moment >= self.now, "the clock only moves forward"
        self.now = moment
        return self

    def engagements(self) -> list[dict]:
        code, out, err = self.cli("engagements", "--json")
        assert code == 0, err
        return json.loads(out)

    def engagement(self, engagement_id: int) -> dict:
        code, out, err = self.cli("engagement", str(engagement_id), "--json")
        assert code == 0, err
        return json.loads(out)

    def partstats(self, engagement_id: int) -> dict[tuple[str, str], str]:
        """``{(meeting title, attendee): PARTSTAT}`` of every planned meeting, from ``engagement --json``."""
        return {(m["title"], a["email"]): a["partstat"] for m in self.engagement(engagement_id)["meetings"]
                for a in m["attendees"] if m["status"] == "planned"}


@pytest.fixture
def desk(dovecot, imap_account, smtp_server, tmp_path, db_url, monkeypatch) -> CalendarDesk:
    address, password = imap_account
    monkeypatch.setenv(PASSWORD_ENV, password)

    def write_config() -> Path:
        path = tmp_path / "whiteglove.toml"
        path.write_text(CONFIG.format(
            db_url=db_url, imap_host=dovecot.host, imap_port=dovecot.imap_port, address=address,
            password_env=PASSWORD_ENV, smtp_host=smtp_server.host, smtp_port=smtp_server.port,
            support_name=SUPPORT_NAME, crm=CRM, dana=DANA, priya=PRIYA, tom=TOM,
        ), encoding="utf-8")
        return path

    return CalendarDesk(dovecot, address, smtp_server, tmp_path, write_config, db_url)


# -- the attendees' side: mailboxes and a calendar client -----------------------------------------


class Mailboxes:
    """The attendees' own Dovecot mailboxes, emptied for the test (the server lives for the session).

    Each keeps one password for the session: Dovecot reads a user's passwd-file at most once a
    second, so a password changed between two tests could be refused.
    """

    PASSWORD = "calendar-client-2026"

    def __init__(self, dovecot: DovecotServer):
        self.dovecot = dovecot
        self.ready: set[str] = set()

    def deliver(self, recipient: str, raw: bytes) -> None:
        if recipient not in self.ready:
            self.dovecot.add_user(recipient, self.PASSWORD)
            with self.dovecot.client(recipient) as client:
                client.select_folder("INBOX")
                if uids := client.search("ALL"):
                    client.delete_messages(uids)
                    client.expunge()
            self.ready.add(recipient)
        self.dovecot.deliver(recipient, raw)

    def inbox(self, owner: str) -> list[bytes]:
        """What ``owner``'s mail client downloads from their INBOX, oldest first."""
        with self.dovecot.client(owner) as client:
            client.select_folder("INBOX", readonly=True)
            fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in sorted(fetched)]


@pytest.fixture
def mailboxes(dovecot) -> Mailboxes:
    return Mailboxes(dovecot)


@dataclass
class Invite:
    """One invitation as its recipient got it: the message and the calendar object it carries."""

    sent: Sent
    raw: bytes  # the whole message, as the SMTP server took it
    mime: Message
    ics: bytes  # the text/calendar part, decoded
    calendar: icalendar.Calendar

    @property
    def recipient(self) -> str:
        [recipient] = self.sent.recipients
        return recipient

    @property
    def event(self) -> icalendar.Event:
        [event] = self.calendar.walk("VEVENT")
        return event

    @property
    def uid(self) -> str:
        return str(self.event["UID"])

    @property
    def sequence(self) -> int:
        return int(self.event["SEQUENCE"])

    @property
    def title(self) -> str:
        return str(self.event["SUMMARY"])

    @property
    def start(self) -> datetime:
        return self.event["DTSTART"].dt

    @property
    def end(self) -> datetime:
        return self.event["DTEND"].dt


def calendar_part(mime: Message) -> Message:
    [part] = [p for p in mime.walk() if p.get_content_type() == "text/calendar"]
    return part


def read_invite(sent: Sent) -> Invite:
    mime = message_from_bytes(sent.envelope.content, policy=default)
    ics = calendar_part(mime).get_payload(decode=True)
    return Invite(sent, sent.envelope.content, mime, ics, icalendar.Calendar.from_ical(ics))


def invitations(desk: CalendarDesk, since: int = 0) -> list[Invite]:
    """The invitations the SMTP server received, after the first ``since`` messages."""
    return [read_invite(s) for s in desk.sent()[since:] if s.mail.calendars]


def by_meeting(invites: list[Invite]) -> dict[str, list[Invite]]:
    meetings: dict[str, list[Invite]] = defaultdict(list)
    for invite in invites:
        meetings[invite.title].append(invite)
    return dict(meetings)


_replies = itertools.count(1)


def answer(received: bytes, attendee: str, partstat: str, stamp: datetime, *, sender: str | None = None,
           comment: str | None = None, proposed: tuple[datetime, datetime] | None = None) -> bytes:
    """The iMIP REPLY (RFC 6047 section 2.3) ``attendee``'s calendar client mails to the organizer.

    Built with icalendar from the invitation as the attendee received it (``received``, read from
    their mailbox): same UID and SEQUENCE, the attendee alone with their PARTSTAT, a new DTSTAMP.
    ``sender`` is who the mail comes from (the attendee, unless someone answers for another).
    With ``proposed`` (a new start and end) it is a COUNTER instead (RFC 5546 section 3.2.7, a
    calendar's "propose new time"): the same object with METHOD:COUNTER and the proposed DTSTART
    and DTEND.
    """
    method = "COUNTER" if proposed else "REPLY"
    invitation = icalendar.Calendar.from_ical(calendar_part(message_from_bytes(received, policy=default))
                                              .get_payload(decode=True))
    [event] = invitation.walk("VEVENT")
    [me] = [a for a in attendees_of(event) if str(a).lower() == f"mailto:{attendee}"]
    reply = icalendar.Calendar()
    reply.add("prodid", "-//Acme Corporation//Calendar 16.0//EN")
    reply.add("version", "2.0")
    reply.add("method", method)
    event_reply = icalendar.Event()
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER"):
        event_reply[name] = event[name]
    if proposed:
        del event_reply["DTSTART"], event_reply["DTEND"]
        event_reply.add("dtstart", proposed[0])
        event_reply.add("dtend", proposed[1])
    event_reply.add("dtstamp", stamp)
    replying = icalendar.vCalAddress(str(me))
    replying.params["CN"] = me.params["CN"]
    replying.params["PARTSTAT"] = partstat
    event_reply.add("attendee", replying)
    if comment:
        event_reply.add("comment", comment)
    reply.add_component(event_reply)

    organizer = event["ORGANIZER"]
    sender = sender or attendee
    verb = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    # the sender's name: as this module knows it, else as the invitation names the attendee
    name = NAMES.get(sender) or (str(me.params["CN"]) if sender == attendee else sender.split("@")[0].title())
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = f"{organizer.params['CN']} <{str(organizer)[len('mailto:'):]}>"
    # Outlook's wording for a proposal; the other clients' differ as little
    msg["Subject"] = f"New Time Proposed: {event['SUMMARY']}" if proposed else f"{verb}: {event['SUMMARY']}"
    msg["Date"] = format_datetime(stamp)
    msg["Message-ID"] = f"<reply.{next(_replies)}@{sender.split('@')[1]}>"
    msg.set_content(f"{name} has proposed a new time for this meeting.\n" if proposed
                    else f"{name} has {verb.lower()} this invitation.\n")
    msg.add_alternative(reply.to_ical().decode("utf-8"), subtype="calendar", params={"method": method})
    return msg.as_bytes()


def attendees_of(event: icalendar.Event) -> list[icalendar.vCalAddress]:
    found = event.get("ATTENDEE", [])
    return list(found) if isinstance(found, list) else [found]


def email_of(address: object) -> str:
    return str(address)[len("mailto:"):].lower()


def notice_mail(desk: CalendarDesk) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Northwind CRM <{CRM}>"
    msg["To"] = f"Onboarding Support <{desk.address}>"
    msg["Subject"] = "Closed Won: Acme Corporation - Enterprise Onboarding (OPP-2026-0412)"
    msg["Date"] = format_datetime(desk.now)
    msg["Message-ID"] = "<opp-2026-0412.closedwon@crm.northwind.example>"
    msg.set_content(NOTICE)
    return msg.as_bytes()


def customer_mail(desk: CalendarDesk, *, sender: str, subject: str, body: str, message_id: str,
                  in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{CONTACTS[sender]} <{sender}>"
    msg["To"] = f"Onboarding Support <{desk.address}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(desk.now)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    msg.set_content(body)
    return msg.as_bytes()


def start_onboarding(desk: CalendarDesk) -> int:
    """The CRM's notice arrives and the worker runs: returns the engagement's id."""
    desk.deliver(notice_mail(desk))
    desk.run_once()
    [engagement] = desk.engagements()
    return engagement["id"]


def business_days_between(first: date, second: date) -> int:
    """How many Monday-to-Friday days there are after ``first`` up to and including ``second``
    (negative when ``second`` comes first)."""
    step = 1 if second >= first else -1
    count, day = 0, first
    while day != second:
        day += timedelta(days=step)
        count += step if day.weekday() < 5 else 0
    return count


def label(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """How a time reads in mail to someone in ``tz``, e.g. "Tue 8 Dec 2026, 13:00-13:30 EST"."""
    s, e = start.astimezone(tz), end.astimezone(tz)
    return f"{s:%a} {s.day} {s:%b %Y}, {s:%H:%M}-{e:%H:%M} {e:%Z}"


def assert_in_business_hours(start: datetime, end: datetime) -> None:
    """Inside Priya's working day (08:00-17:00 Monday to Friday, Los Angeles) and the customer's
    (08:00-18:00 New York)."""
    local_start, local_end = start.astimezone(PACIFIC), end.astimezone(PACIFIC)
    assert local_start.weekday() < 5 and local_start.date() == local_end.date(), start
    assert time(8) <= local_start.time() and local_end.time() <= time(17), start
    customer_start, customer_end = start.astimezone(EASTERN), end.astimezone(EASTERN)
    assert time(8) <= customer_start.time() and customer_end.time() <= time(18), start


def assert_is_an_invitation(invite: Invite, desk: CalendarDesk, *, sequence: int, stamp: datetime,
                            invited: dict[str, str] | None = None, names: dict[str, str] | None = None) -> None:
    """The message and the calendar object of one REQUEST, as RFC 5545, 5546 and 6047 and mail clients want them.

    ``invited`` is ``{attendee: ROLE}`` of the meeting (default: this module's ``INVITED`` for its
    title), ``names`` each attendee's CN (default: ``NAMES``).
    """
    invited = INVITED[invite.title] if invited is None else invited
    names = NAMES if names is None else names
    raw = invite.raw
    # The whole message: CR LF line endings only.
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    # multipart/mixed holding multipart/alternative (text, HTML, calendar) and invite.ics.
    assert invite.mime.get_content_type() == "multipart/mixed"
    alternative, attachment = invite.mime.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    inline = list(alternative.iter_parts())[2]
    assert inline.get_param("method") == "REQUEST"
    assert inline.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics" and attachment.get_content_disposition() == "attachment"
    assert attachment.get_content_type() in ("application/ics", "text/calendar")
    assert attachment.get_payload(decode=True) == invite.ics

    # The calendar's own lines: CR LF, at most 75 octets, folded (RFC 5545 3.1), each valid UTF-8.
    ics = invite.ics
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    lines = ics.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), [line for line in lines if len(line) > 75]
    assert any(line.startswith(b" ") for line in lines)  # the long DESCRIPTION is folded, not cut
    for line in lines:
        line.decode("utf-8")  # never folded inside a character
    unfolded = ics.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8").split("\r\n")
    assert "METHOD:REQUEST" in unfolded and "VERSION:2.0" in unfolded and f"PRODID:{PRODID}" in unfolded
    assert sum(line == "BEGIN:VEVENT" for line in unfolded) == 1
    assert [line for line in unfolded if line.startswith("DTSTAMP")] == [f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}"]

    # As icalendar reads it.
    cal, event = invite.calendar, invite.event
    assert (str(cal["METHOD"]), str(cal["VERSION"]), str(cal["PRODID"])) == ("REQUEST", "2.0", PRODID)
    assert len(cal.walk("VEVENT")) == 1 and len(cal.subcomponents) == 1
    assert invite.sequence == sequence
    assert event["DTSTAMP"].dt == stamp and event["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert invite.start.utcoffset() == timedelta(0) and invite.end > invite.start
    assert email_of(event["ORGANIZER"]) == desk.address and event["ORGANIZER"].params["CN"] == SUPPORT_NAME
    listed = {email_of(a): a.params for a in attendees_of(event)}
    assert invite.recipient in listed
    assert {email: params["ROLE"] for email, params in listed.items()} == invited
    for email, params in listed.items():
        assert params["CN"] == names[email], email
        assert (params["PARTSTAT"], params["RSVP"]) == ("NEEDS-ACTION", "TRUE"), email

    # As vobject (another parser, the one of many CalDAV tools) reads it: the same facts.
    vcal = vobject.readOne(ics.decode("utf-8"))
    assert (vcal.method.value, vcal.version.value, vcal.prodid.value) == ("REQUEST", "2.0", PRODID)
    [vevent] = vcal.vevent_list
    assert (vevent.uid.value, int(vevent.sequence.value)) == (invite.uid, sequence)
    assert (vevent.dtstart.value, vevent.dtend.value, vevent.dtstamp.value) == (invite.start, invite.end, stamp)
    assert vevent.organizer.value.lower() == f"mailto:{desk.address}"
    assert {a.value.lower()[len("mailto:"):]: (a.params["PARTSTAT"], a.params["RSVP"], a.params["ROLE"])
            for a in vevent.attendee_list} == {e: (["NEEDS-ACTION"], ["TRUE"], [p["ROLE"]]) for e, p in listed.items()}


# -- the tests -------------------------------------------------------------------------------------


def test_a_contract_closed_notice_sends_the_welcome_and_an_invitation_per_meeting_to_each_attendee(desk):
    engagement_id = start_onboarding(desk)
    [ticket] = desk.tickets()
    assert (ticket["kind"], ticket["assignee"], ticket["account"]) == ("contract_closed", PRIYA, "Acme Corporation")
    assert desk.sent_to(CRM) == []

    invites = invitations(desk)
    meetings = by_meeting(invites)
    assert set(meetings) == set(SETUP_MEETINGS)  # the go-live meetings wait for the go-live date
    for title in SETUP_MEETINGS:
        assert sorted(i.recipient for i in meetings[title]) == sorted(INVITED[title]), title
    for invite in invites:
        assert_is_an_invitation(invite, desk, sequence=0, stamp=CLOSED)
        assert invite.sent.mail.subject == f"Invitation: {invite.title}"
        assert invite.sent.envelope.mail_from == desk.address
        assert invite.sent.mail.from_.email == desk.address
        # The text says when in the reader's own zone: Priya and Dana in Los Angeles, the customer in New York.
        zone = PACIFIC if invite.recipient in (PRIYA, DANA) else EASTERN
        assert label(invite.start, invite.end, zone) in invite.sent.mail.text, invite.recipient

    # One meeting, one UID and one calendar object, whoever it is sent to; each meeting its own UID.
    uids = {}
    for title, copies in meetings.items():
        assert len({c.ics for c in copies}) == 1, title
        uids[title] = copies[0].uid
        assert len({c.sent.mail.message_id for c in copies}) == len(copies)
    assert len(set(uids.values())) == len(uids)
    shown = {m["title"]: m for m in desk.engagement(engagement_id)["meetings"]}
    for title, uid in uids.items():
        assert (shown[title]["uid"], shown[title]["sequence"], shown[title]["status"]) == (uid, 0, "planned")

    # Placed in the playbook's order, each after the one it follows, a day's notice at least, in
    # business hours, within its window of business days.
    intro, hand_off, workshop = (meetings[t][0] for t in SETUP_MEETINGS)
    assert CLOSED + timedelta(hours=24) <= intro.start < intro.end <= hand_off.start < hand_off.end <= workshop.start
    for invite in (intro, hand_off, workshop):
        assert_in_business_hours(invite.start, invite.end)
    close_day = CLOSED.astimezone(PACIFIC).date()
    assert 1 <= business_days_between(close_day, intro.start.astimezone(PACIFIC).date()) <= 3
    assert 2 <= business_days_between(intro.start.astimezone(PACIFIC).date(), hand_off.start.astimezone(PACIFIC).date()) <= 5
    assert 5 <= business_days_between(hand_off.start.astimezone(PACIFIC).date(), workshop.start.astimezone(PACIFIC).date()) <= 10
    # The clock is frozen, so the plan is known: the first business day with a day's notice, at
    # the playbook's preferred 10:00 (Priya's time); the hand-off two business days later.
    assert (intro.start, intro.end) == (datetime(2026, 12, 8, 18, 0, tzinfo=UTC), datetime(2026, 12, 8, 18, 30, tzinfo=UTC))
    assert hand_off.start.astimezone(PACIFIC).date() == date(2026, 12, 10)

    # The welcome: to the contacts, Priya and Dana in copy, every meeting in the customer's time.
    [welcome] = [s for s in desk.sent() if s.mail.subject.startswith("Welcome to")]
    assert {a.email for a in welcome.mail.to} == {JANE, RENEE}
    assert {a.email for a in welcome.mail.cc} == {PRIYA, DANA}
    assert sorted(welcome.recipients) == sorted([JANE, RENEE, PRIYA, DANA])
    assert not welcome.mail.calendars
    for invite in (intro, hand_off, workshop):
        assert invite.title in welcome.mail.text
        assert label(invite.start, invite.end, EASTERN) in welcome.mail.text
    assert "Priya Raman" in welcome.mail.text and PRIYA in welcome.mail.text
    still = welcome.mail.text.split("Planned once we know your go-live date", 1)[1]
    assert PRE_LAUNCH in still and DEBRIEF in still

    # Priya hears of the hand-off ticket; nobody gets anything else.
    others = [s for s in desk.sent() if not s.mail.calendars and s.mail.message_id != welcome.mail.message_id]
    assert [s.recipients for s in others] == [(PRIYA,)]
    assert len(desk.sent()) == len(invites) + 2
    assert len(invites) == sum(len(INVITED[title]) for title in SETUP_MEETINGS)

    # Another pass sends nothing again.
    desk.at(CLOSED + timedelta(minutes=5)).run_once()
    assert len(desk.sent()) == len(invites) + 2


def deliver_invitations(mailboxes: Mailboxes, invites: list[Invite]) -> None:
    """The mail server hands each invitation to its recipient's mailbox, as the SMTP server took it."""
    for invite in invites:
        mailboxes.deliver(invite.recipient, invite.raw)


def received(mailboxes: Mailboxes, owner: str, title: str) -> bytes:
    """The newest invitation to ``title`` in ``owner``'s mailbox, as their calendar client downloads it."""
    found = [raw for raw in mailboxes.inbox(owner) if summary_of(raw) == title]
    assert found, f"{owner} has no invitation to {title}"
    return found[-1]


def summary_of(raw: bytes) -> str | None:
    mime = message_from_bytes(raw, policy=default)
    parts = [p for p in mime.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    [event] = icalendar.Calendar.from_ical(parts[0].get_payload(decode=True)).walk("VEVENT")
    return str(event["SUMMARY"])


def test_each_attendee_finds_the_invitation_in_their_mailbox_and_their_acceptance_is_recorded_and_not_answered(
        desk, mailboxes):
    engagement_id = start_onboarding(desk)
    invites = invitations(desk)
    deliver_invitations(mailboxes, invites)
    # Each attendee's mailbox holds their invitations and no one else's, byte for byte as sent.
    for person in (PRIYA, JANE, RENEE, DANA):
        assert sorted(mailboxes.inbox(person)) == sorted(
            DovecotServer.stored(i.raw) for i in invites if i.recipient == person), person

    [ticket] = desk.tickets()
    sent_before, queued_before = len(desk.smtp.received), len(desk.outbox())
    before = desk.partstats(engagement_id)
    assert set(before.values()) == {"NEEDS-ACTION"}

    # Jane accepts the introduction in her calendar; her client mails the REPLY to the organizer.
    intro = received(mailboxes, JANE, SETUP_MEETINGS[0])
    accepted_at = desk.at(CLOSED + timedelta(hours=1)).now
    reply = answer(intro, JANE, "ACCEPTED", accepted_at)
    sent = message_from_bytes(reply, policy=default)
    assert [a for _, a in getaddresses([sent["To"]])] == [desk.address]  # the ORGANIZER is the support mailbox
    desk.deliver(reply)
    out = desk.run_once()
    assert "1 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out

    after = desk.partstats(engagement_id)
    assert after == {**before, (SETUP_MEETINGS[0], JANE): "ACCEPTED"}
    [jane] = [a for m in desk.engagement(engagement_id)["meetings"] if m["title"] == SETUP_MEETINGS[0]
              for a in m["attendees"] if a["email"] == JANE]
    assert datetime.fromisoformat(jane["answered_at"]).replace(tzinfo=UTC) == accepted_at
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    assert len(desk.smtp.received) == sent_before and len(desk.outbox()) == queued_before  # nothing answers an ACCEPT

    # Everyone else accepts everything they were invited to, from their own mailboxes: all recorded.
    desk.at(CLOSED + timedelta(hours=2))
    for invite in invites:
        if (invite.title, invite.recipient) != (SETUP_MEETINGS[0], JANE):
            desk.deliver(answer(received(mailboxes, invite.recipient, invite.title), invite.recipient, "ACCEPTED",
                                desk.now))
    out = desk.run_once()
    assert f"{len(invites) - 1} processed, 0 duplicates, 0 quarantined (0 new tickets)" in out
    assert set(desk.partstats(engagement_id).values()) == {"ACCEPTED"}
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    assert len(desk.smtp.received) == sent_before and len(desk.outbox()) == queued_before


def test_a_customer_declining_tells_the_engineer_and_an_answer_sent_for_another_attendee_changes_nothing(
        desk, mailboxes):
    engagement_id = start_onboarding(desk)
    deliver_invitations(mailboxes, invitations(desk))
    [ticket] = desk.tickets()
    hand_off = SETUP_MEETINGS[1]
    before = desk.partstats(engagement_id)
    sent_before = len(desk.smtp.received)

    # Renée (a required customer attendee) declines the hand-off, with a comment.
    desk.at(CLOSED + timedelta(hours=1))
    comment = "I am at a conference that week; could we do the week after?"
    desk.deliver(answer(received(mailboxes, RENEE, hand_off), RENEE, "DECLINED", desk.now, comment=comment))
    desk.run_once()

    assert desk.partstats(engagement_id) == {**before, (hand_off, RENEE): "DECLINED"}
    [told] = desk.sent()[sent_before:]
    assert told.recipients == (PRIYA,)
    assert told.mail.subject == f"Renée Dubois declined {hand_off}"
    assert told.mail.header("auto-submitted") == "auto-generated"
    assert told.mail.from_.email == desk.address
    meeting = next(m for m in desk.engagement(engagement_id)["meetings"] if m["title"] == hand_off)
    start, end = datetime.fromisoformat(meeting["start"]), datetime.fromisoformat(meeting["end"])
    for shown in ("DECLINED", comment, RENEE, label(start, end, PACIFIC), "Acme Corporation"):
        assert shown in told.mail.text, shown
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    sent_before = len(desk.smtp.received)

    # Declines that need no one's attention: Jane is optional at the workshop, Dana at the introduction.
    desk.at(CLOSED + timedelta(hours=2))
    desk.deliver(answer(received(mailboxes, JANE, SETUP_MEETINGS[2]), JANE, "DECLINED", desk.now))
    desk.deliver(answer(received(mailboxes, DANA, SETUP_MEETINGS[0]), DANA, "DECLINED", desk.now))
    desk.run_once()
    assert desk.partstats(engagement_id) == {**before, (hand_off, RENEE): "DECLINED",
                                             (SETUP_MEETINGS[2], JANE): "DECLINED", (SETUP_MEETINGS[0], DANA): "DECLINED"}
    assert len(desk.smtp.received) == sent_before
    settled = desk.partstats(engagement_id)

    # Jane's client (or anyone) answers for Renée: the From header is not the ATTENDEE. Nothing changes.
    desk.at(CLOSED + timedelta(hours=3))
    on_janes_copy = received(mailboxes, JANE, hand_off)
    desk.deliver(answer(on_janes_copy, RENEE, "ACCEPTED", desk.now, sender=JANE))
    desk.deliver(answer(on_janes_copy, RENEE, "ACCEPTED", desk.now, sender="mallory@acme-invoices.example"))
    out = desk.run_once()
    assert "2 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out
    assert desk.partstats(engagement_id) == settled
    assert len(desk.smtp.received) == sent_before
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]


def test_a_go_live_date_plans_the_go_live_meetings_and_a_new_date_updates_only_those(desk, mailboxes):
    engagement_id = start_onboarding(desk)
    setup = {m["title"]: m for m in desk.engagement(engagement_id)["meetings"] if m["status"] == "planned"}

    # An hour after the notice, Jane writes that they plan to go live on Thursday 14 January.
    sent_before = len(desk.smtp.received)
    desk.at(CLOSED + timedelta(hours=1)).deliver(customer_mail(
        desk, sender=JANE, subject="Our go-live", message_id="golive1@acme.example",
        body="Hi Priya,\n\nWe plan to go live on 14 January 2027, after the holidays.\n\nJane\n"))
    desk.run_once()
    [golive] = [t for t in desk.tickets() if t["kind"] == "golive_intent"]
    assert (golive["golive_date"], golive["assignee"], golive["priority"]) == ("2027-01-14", PRIYA, "P3")
    assert desk.engagement(engagement_id)["golive_date"] == "2027-01-14"

    first = by_meeting(invitations(desk, sent_before))
    assert set(first) == {PRE_LAUNCH, DEBRIEF}
    for title, copies in first.items():
        assert sorted(i.recipient for i in copies) == sorted(INVITED[title]), title
    for invite in first[PRE_LAUNCH] + first[DEBRIEF]:
        assert_is_an_invitation(invite, desk, sequence=0, stamp=desk.now)
        assert invite.sent.mail.subject == f"Invitation: {invite.title}"
    pre_launch, debrief = first[PRE_LAUNCH][0], first[DEBRIEF][0]
    for copies in first.values():
        assert len({c.ics for c in copies}) == 1
    cutover = date(2027, 1, 14)
    assert 3 <= business_days_between(pre_launch.start.astimezone(PACIFIC).date(), cutover) <= 5
    assert 2 <= business_days_between(cutover, debrief.start.astimezone(PACIFIC).date()) <= 5
    for invite in (pre_launch, debrief):
        assert_in_business_hours(invite.start, invite.end)
    assert "2027-01-14" in str(pre_launch.event["DESCRIPTION"])
    assert len({pre_launch.uid, debrief.uid, *(m["uid"] for m in setup.values())}) == 5
    # Besides the invitations: Jane's receipt for her ticket, and Priya's notification and plan.
    others = [s for s in desk.sent()[sent_before:] if not s.mail.calendars]
    assert sorted(s.recipients for s in others) == sorted([(JANE,), (PRIYA,), (PRIYA,)])
    deliver_invitations(mailboxes, first[PRE_LAUNCH] + first[DEBRIEF])

    # Later that morning Jane writes again on the same thread: the go-live moves to Thursday 4 February.
    sent_before = len(desk.smtp.received)
    desk.at(CLOSED + timedelta(hours=2, minutes=30)).deliver(customer_mail(
        desk, sender=JANE, subject="Re: Our go-live", message_id="golive2@acme.example",
        in_reply_to="golive1@acme.example",
        body="Hi Priya,\n\nWe're moving the go-live to 4 February 2027: legal needs more time.\n\nJane\n"))
    out = desk.run_once()
    assert "(0 new tickets)" in out
    [shown] = [t for t in desk.tickets() if t["id"] == golive["id"]]
    assert shown["golive_date"] == "2027-02-04"
    assert desk.engagement(engagement_id)["golive_date"] == "2027-02-04"

    updates = by_meeting(invitations(desk, sent_before))
    assert set(updates) == {PRE_LAUNCH, DEBRIEF}  # the setup meetings stay where they are, unsent
    for title, copies in updates.items():
        assert sorted(c.recipient for c in copies) == sorted(c.recipient for c in first[title])
        assert len({c.ics for c in copies}) == 1
        for update in copies:
            assert_is_an_invitation(update, desk, sequence=1, stamp=desk.now)
            assert update.uid == first[title][0].uid
            assert update.sent.mail.subject == f"Updated invitation: {title}"
            assert (update.start, update.end) != (first[title][0].start, first[title][0].end)
    moved_pre_launch, moved_debrief = updates[PRE_LAUNCH][0], updates[DEBRIEF][0]
    cutover = date(2027, 2, 4)
    assert 3 <= business_days_between(moved_pre_launch.start.astimezone(PACIFIC).date(), cutover) <= 5
    assert 2 <= business_days_between(cutover, moved_debrief.start.astimezone(PACIFIC).date()) <= 5
    assert "2027-02-04" in str(moved_pre_launch.event["DESCRIPTION"])
    now_planned = {m["title"]: m for m in desk.engagement(engagement_id)["meetings"] if m["status"] == "planned"}
    for title, meeting in setup.items():
        assert {k: now_planned[title][k] for k in ("uid", "sequence", "start", "end")} == {
            k: meeting[k] for k in ("uid", "sequence", "start", "end")}, title
    assert (now_planned[PRE_LAUNCH]["sequence"], now_planned[DEBRIEF]["sequence"]) == (1, 1)

    # In Jane's mailbox the update carries the UID of the invitation it replaces, one SEQUENCE up.
    deliver_invitations(mailboxes, updates[PRE_LAUNCH] + updates[DEBRIEF])
    versions = defaultdict(list)
    for raw in mailboxes.inbox(JANE):
        [event] = icalendar.Calendar.from_ical(calendar_part(message_from_bytes(raw, policy=default))
                                               .get_payload(decode=True)).walk("VEVENT")
        versions[str(event["SUMMARY"])].append((str(event["UID"]), int(event["SEQUENCE"])))
    assert versions == {PRE_LAUNCH: [(pre_launch.uid, 0), (pre_launch.uid, 1)],
                        DEBRIEF: [(debrief.uid, 0), (debrief.uid, 1)]}


# -- bugs these runs found (each test says what should happen; see its reason for what does) ----


def planned(desk: CalendarDesk, engagement_id: int) -> dict[str, tuple]:
    """``{title: (uid, sequence, start, end)}`` of the engagement's planned meetings."""
    return {m["title"]: (m["uid"], m["sequence"], m["start"], m["end"])
            for m in desk.engagement(engagement_id)["meetings"] if m["status"] == "planned"}


def go_live(desk: CalendarDesk, text: str, message_id: str, in_reply_to: str | None = None) -> None:
    """Jane writes ``text`` about the go-live and the worker runs."""
    desk.deliver(customer_mail(desk, sender=JANE, subject="Re: Our go-live" if in_reply_to else "Our go-live",
                               message_id=message_id, in_reply_to=in_reply_to, body=f"Hi Priya,\n\n{text}\n\nJane\n"))
    desk.run_once()


def test_a_go_live_date_arriving_the_morning_of_the_introduction_moves_no_meeting_already_sent(desk):
    engagement_id = start_onboarding(desk)
    before = planned(desk, engagement_id)
    sent_before = len(desk.smtp.received)

    # Tuesday 06:00 in Los Angeles; the introduction is at 10:00 today.
    desk.at(datetime(2026, 12, 8, 14, 0, tzinfo=UTC))
    go_live(desk, "We plan to go live on 14 January 2027.", "golive1@acme.example")

    assert set(by_meeting(invitations(desk, sent_before))) == {PRE_LAUNCH, DEBRIEF}
    after = planned(desk, engagement_id)
    assert {title: after[title] for title in SETUP_MEETINGS} == before


def test_an_acceptance_of_a_meeting_since_moved_does_not_count_for_its_new_time(desk, mailboxes):
    engagement_id = start_onboarding(desk)
    desk.at(CLOSED + timedelta(hours=1))
    sent_before = len(desk.smtp.received)
    go_live(desk, "We plan to go live on 14 January 2027.", "golive1@acme.example")
    deliver_invitations(mailboxes, [i for i in invitations(desk, sent_before) if i.recipient == RENEE])
    first = received(mailboxes, RENEE, PRE_LAUNCH)

    desk.at(CLOSED + timedelta(hours=2))
    go_live(desk, "We're moving the go-live to 4 February 2027.", "golive2@acme.example", "golive1@acme.example")
    assert planned(desk, engagement_id)[PRE_LAUNCH][1] == 1

    # Renée's calendar, offline since the morning, sends her acceptance of the first time now.
    desk.at(CLOSED + timedelta(hours=3))
    desk.deliver(answer(first, RENEE, "ACCEPTED", desk.now))
    desk.run_once()
    assert desk.partstats(engagement_id)[(PRE_LAUNCH, RENEE)] == "NEEDS-ACTION"


def test_attendees_who_accepted_a_meeting_that_moves_are_asked_again(desk, mailboxes):
    engagement_id = start_onboarding(desk)
    desk.at(CLOSED + timedelta(hours=1))
    sent_before = len(desk.smtp.received)
    go_live(desk, "We plan to go live on 14 January 2027.", "golive1@acme.example")
    deliver_invitations(mailboxes, [i for i in invitations(desk, sent_before) if i.recipient == JANE])
    desk.at(CLOSED + timedelta(hours=1, minutes=30))
    desk.deliver(answer(received(mailboxes, JANE, PRE_LAUNCH), JANE, "ACCEPTED", desk.now))
    desk.run_once()
    assert desk.partstats(engagement_id)[(PRE_LAUNCH, JANE)] == "ACCEPTED"

    desk.at(CLOSED + timedelta(hours=2))
    sent_before = len(desk.smtp.received)
    go_live(desk, "We're moving the go-live to 4 February 2027.", "golive2@acme.example", "golive1@acme.example")
    [update] = [i for i in invitations(desk, sent_before) if i.title == PRE_LAUNCH and i.recipient == JANE]
    [jane] = [a for a in attendees_of(update.event) if email_of(a) == JANE]
    assert (update.sequence, jane.params["PARTSTAT"], jane.params["RSVP"]) == (1, "NEEDS-ACTION", "TRUE")
    assert desk.partstats(engagement_id)[(PRE_LAUNCH, JANE)] == "NEEDS-ACTION"


def test_the_welcome_names_the_sales_rep_by_name(desk):
    start_onboarding(desk)
    [welcome] = [s for s in desk.sent() if s.mail.subject.startswith("Welcome to")]
    assert "Dana Whitfield, who worked with you on the agreement" in welcome.mail.text
    assert "Dana Whitfield, who worked with you on the agreement" in welcome.mail.html
