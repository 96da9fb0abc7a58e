"""Each shipped playbook run end to end as a company runs it, through Dovecot and aiosmtpd.

One test per playbook, each the same story in another company's words and calendar: the CRM's
contract-closed alert (each in a real CRM's wording: Salesforce, HubSpot, Dynamics 365, Pipedrive,
a CSV report) from the trusted sender names the package, the contacts and their roles and the
engineer, and the welcome and the invitations go out; a contact writes when they go live, and the
go-live meetings are planned; the CRM sends the deal again with a new go-live and a new contact, so
the plan follows the date and the newcomer is welcomed and invited to the meetings ahead, and only
those; an attendee proposes another time from her calendar (iMIP COUNTER) and the engineer replies
``#accept``, so the meeting moves for everyone.

The customers are in New York, London, Berlin, Sydney and São Paulo; the engineers in Los Angeles
and Berlin. What is asserted is what the people rely on, as properties that hold whatever the
number of meetings a playbook has: every invitation passes the calendar harness's validators
(icalendar and vobject, :func:`assert_is_an_invitation`), every meeting with the customer is on one
of the customer's working days (a weekday that is not a public holiday of their country, checked
with the ``holidays`` package) inside their hours and inside the engineer's (or the playbook's
calendar, for QuickStart), internal meetings never reach a customer, go-live meetings keep their
window around the date, and after ``#accept`` every attendee's latest invitation has the accepted
time and a higher SEQUENCE. The harness is the one of :mod:`test_end_to_end_calendar` (a clock the
test sets, ``desk.at``).
"""
from __future__ import annotations

import csv
import io
import itertools
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import vobject
from test_end_to_end import CRM, DANA, PASSWORD_ENV, PRIYA, SUPPORT_NAME, TOM
from test_end_to_end_calendar import (
    CalendarDesk,
    Invite,
    Mailboxes,
    answer,
    assert_is_an_invitation,
    attendees_of,
    email_of,
    invitations,
    received,
)

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).resolve().parents[2]
REQUIRED, OPTIONAL = "REQ-PARTICIPANT", "OPT-PARTICIPANT"
PAULA = "paula@northwind.example"  # Tom's project manager (QuickStart's meetings call for one)
MARCO = "marco@northwind.example"  # a sales rep whiteglove does not know, named by the CRM
STAFF = {PRIYA: "Priya Raman", TOM: "Tom Becker", DANA: "Dana Whitfield"}

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
summary_weekday = "sat"

[[calendars]]
name = "us-pacific"
timezone = "America/Los_Angeles"
hours = {{ mon = "08:00-17:00", tue = "08:00-17:00", wed = "08:00-17:00", thu = "08:00-17:00", fri = "08:00-17:00" }}
holidays = "US"

[[calendars]]
name = "de-berlin"
timezone = "Europe/Berlin"
hours = {{ mon = "08:00-17:00", tue = "08:00-17:00", wed = "08:00-17:00", thu = "08:00-17:00", fri = "08:00-17:00" }}
holidays = "DE"

[[managers]]
email = "{dana}"
name = "Dana Whitfield"
timezone = "America/Los_Angeles"

[[engineers]]
email = "{priya}"
name = "Priya Raman"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "{dana}"

[[engineers]]
email = "{tom}"
name = "Tom Becker"
timezone = "Europe/Berlin"
calendar = "de-berlin"
manager = "{dana}"
project_manager = "{paula}"
"""


@pytest.fixture
def desk(dovecot, imap_account, smtp_server, tmp_path, db_url, monkeypatch) -> CalendarDesk:
    address, password = imap_account
    monkeypatch.setenv(PASSWORD_ENV, password)

    def write_config() -> Path:
        path = tmp_path / "whiteglove.toml"
        path.write_text(CONFIG.format(
            db_url=db_url, imap_host=dovecot.host, imap_port=dovecot.imap_port, address=address,
            password_env=PASSWORD_ENV, smtp_host=smtp_server.host, smtp_port=smtp_server.port,
            support_name=SUPPORT_NAME, crm=CRM, dana=DANA, priya=PRIYA, tom=TOM, paula=PAULA,
        ), encoding="utf-8")
        return path

    desk = CalendarDesk(dovecot, address, smtp_server, tmp_path, write_config, db_url)
    desk.now = datetime(2026, 11, 1, tzinfo=UTC)  # each test sets its own moment, forward from here
    return desk


@pytest.fixture
def mailboxes(dovecot) -> Mailboxes:
    return Mailboxes(dovecot)


# -- calendars, as the test knows them (not as whiteglove computes them) ------------------------------


@dataclass(frozen=True)
class Week:
    """A working week: a time zone, the hours of a working day, and the country whose public holidays are off."""

    timezone: str
    country: str | None
    hours: tuple[time, time] = (time(8), time(17))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def works_on(self, day: date) -> bool:
        return day.weekday() < 5 and (self.country is None or day not in holidays.country_holidays(
            self.country, years=day.year))

    def holds(self, start: datetime, end: datetime) -> bool:
        """Whether ``start``-``end`` is inside one of this week's working days and its hours."""
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        return (local_start.date() == local_end.date() and self.works_on(local_start.date())
                and self.hours[0] <= local_start.time() and local_end.time() <= self.hours[1])

    def business_days(self, first: date, second: date) -> int:
        """Working days after ``first`` up to and including ``second`` (negative when ``second`` comes first)."""
        step = 1 if second >= first else -1
        count, day = 0, first
        while day != second:
            day += timedelta(days=step)
            count += step if self.works_on(day) else 0
        return count


ENGINEER_WEEKS = {PRIYA: Week("America/Los_Angeles", "US"), TOM: Week("Europe/Berlin", "DE")}
CUSTOMER_HOURS = (time(8), time(18))  # [onboarding] customer_hours


def role_key(role: str) -> str:
    return "-".join(role.lower().replace("_", " ").replace("-", " ").split())


@dataclass
class Company:
    """A customer, its deal and the people on it, as the CRM knows them."""

    playbook: str
    account: str
    timezone: str
    country: str  # the public holidays they keep (the country of their time zone)
    engineer: str
    sales_rep: tuple[str, str]  # (name, email)
    contacts: dict[str, tuple[str, str]]  # email -> (name, role)
    newcomer: tuple[str, str, str]  # (email, name, role): the contact the CRM adds later

    @cached_property
    def spec(self) -> dict:
        with open(ROOT / "playbooks" / f"{self.playbook}.toml", "rb") as file:
            return tomllib.load(file)

    def meeting_spec(self, key: str) -> dict:
        [spec] = [m for m in self.spec["meetings"] if m["key"] == key.partition("#")[0]]
        return spec

    @property
    def customer_week(self) -> Week:
        return Week(self.timezone, self.country, CUSTOMER_HOURS)

    @property
    def business_week(self) -> Week:
        """The week a meeting's window counts in and its time must fit: the playbook's calendar, else the engineer's."""
        calendar = self.spec.get("calendar")
        if isinstance(calendar, dict):
            start, end = calendar.get("hours", "08:00-17:00").split("-")
            return Week(calendar["timezone"], calendar.get("holidays"), (time.fromisoformat(start), time.fromisoformat(end)))
        return ENGINEER_WEEKS[self.engineer]

    def rooted_at_golive(self, key: str) -> bool:
        anchor = self.meeting_spec(key)["anchor"]
        return anchor == "golive" or (anchor.startswith("meeting:") and self.rooted_at_golive(anchor[len("meeting:"):]))

    @property
    def golive_keys(self) -> set[str]:
        return {m["key"] for m in self.spec["meetings"] if self.rooted_at_golive(m["key"])}

    @property
    def internal_keys(self) -> set[str]:
        return {m["key"] for m in self.spec["meetings"] if m.get("internal")}

    def people(self, role: str, contacts: dict[str, tuple[str, str]]) -> list[str]:
        """Who fills a playbook role in this engagement."""
        if role == "engineer":
            return [self.engineer]
        if role == "manager":
            return [DANA]
        if role == "project_manager":
            return [PAULA] if self.engineer == TOM else []
        if role == "sales_rep":
            return [self.sales_rep[1]]
        if role == "customer:all":
            return list(contacts)
        wanted = role_key(role.partition(":")[2])
        return [email for email, (_, r) in contacts.items() if role_key(r) == wanted]

    def invited(self, key: str, contacts: dict[str, tuple[str, str]]) -> dict[str, str]:
        """``{attendee: ROLE}`` of a meeting, from the playbook and the people known when it was sent."""
        spec, found = self.meeting_spec(key), {}
        for roles, param in ((spec["attendees"], REQUIRED), (spec.get("optional", []), OPTIONAL)):
            for role in roles:
                if spec.get("internal") and role.startswith("customer"):
                    continue
                for email in self.people(role, contacts):
                    found.setdefault(email, param)
        return found

    def names(self, contacts: dict[str, tuple[str, str]]) -> dict[str, str]:
        """Each attendee's CN: the name whiteglove knows them by (Paula, configured nowhere, by her address)."""
        return {**STAFF, PAULA: PAULA, self.sales_rep[1]: self.sales_rep[0],
                **{email: name for email, (name, _) in contacts.items()}}


# -- the story, step by step -------------------------------------------------------------------------


_ids = itertools.count(1)


@dataclass
class Onboarding:
    """One company's onboarding as its people meet it: what arrived, what was sent, and the checks."""

    desk: CalendarDesk
    company: Company
    contacts: dict[str, tuple[str, str]] = field(default_factory=dict)
    engagement_id: int = 0
    seen: int = 0  # messages at the SMTP server already looked at

    def __post_init__(self) -> None:
        self.contacts = dict(self.company.contacts)

    # what the test does

    def arrives(self, raw: bytes) -> list[Invite]:
        """``raw`` reaches the support mailbox and the worker runs: returns the calendar objects it sent,
        each REQUEST checked with the harness's validators and against both working weeks."""
        self.desk.deliver(raw)
        self.desk.run_once()
        if not self.engagement_id:
            [engagement] = self.desk.engagements()
            assert engagement["playbook"] == self.company.playbook, engagement
            self.engagement_id = engagement["id"]
        sent = invitations(self.desk, self.seen)
        self.seen = len(self.desk.smtp.received)
        meetings = self.meetings()
        for invite in sent:
            if str(invite.calendar["METHOD"]) == "REQUEST":
                self.check(invite, meetings[invite.uid])
        return sent

    def meetings(self) -> dict[str, dict]:
        """The engagement's meetings by UID, from ``whiteglove engagement ID --json``; a weekly series
        (one invitation for its occurrences) by the series' UID, as its first occurrence with the
        ``occurrences`` it stands for."""
        rows = self.desk.engagement(self.engagement_id)["meetings"]
        found = {m["uid"]: m for m in rows}
        for m in sorted(rows, key=lambda m: m["start"] or ""):
            if m.get("series_uid"):
                found.setdefault(m["series_uid"], dict(m, occurrences=[]))["occurrences"].append(m)
        return found

    # the checks

    def check(self, invite: Invite, meeting: dict) -> None:
        """``invite`` passes the validators, agrees with ``meeting`` (as ``engagement --json`` shows it)
        and fits the customer's working day and the engineer's (an internal one invites no customer)."""
        key, company = meeting["key"], self.company
        occurrences = meeting.get("occurrences")
        listed = {email_of(a) for a in attendees_of(invite.event)}
        # Those invited before a contact joined keep the attendee list they had (README, "#contact add").
        known = {e: c for e, c in self.contacts.items() if e in listed or e != company.newcomer[0]}
        if occurrences:
            assert_is_a_series_invitation(invite, self.desk, occurrences, invited=company.invited(key, known))
        else:
            assert_is_an_invitation(invite, self.desk, sequence=meeting["sequence"], stamp=self.desk.now,
                                    invited=company.invited(key, known), names=company.names(known))
        times = [(datetime.fromisoformat(m["start"]), datetime.fromisoformat(m["end"]))
                 for m in (occurrences or [meeting]) if m["start"]]
        if occurrences:  # the series' own time is its rule's; each occurrence is checked below
            assert invite.sequence >= min(m["sequence"] for m in occurrences)
        else:
            assert (invite.start, invite.end) == times[0]
        customers = {email_of(a) for a in attendees_of(invite.event)} & set(self.contacts)
        if key.partition("#")[0] in company.internal_keys:
            assert not customers and invite.recipient not in self.contacts, invite.title
            return
        assert customers, f"{invite.title} invites nobody of {company.account}"
        for start, end in times:
            assert company.customer_week.holds(start, end), (
                f"{invite.title} at {start.astimezone(company.customer_week.tz)} is outside the customer's working day")
            assert company.business_week.holds(start, end), (
                f"{invite.title} at {start.astimezone(company.business_week.tz)} is outside the engineer's hours")

    def check_golive_meetings(self, golive: date, invites: list[Invite]) -> None:
        """The go-live meetings the playbook has are planned in their windows around ``golive``."""
        company = self.company
        meetings = {m["key"]: m for m in self.meetings().values() if m["status"] == "planned"}
        week = company.business_week
        for key in company.golive_keys:
            found = [m for k, m in meetings.items() if k.partition("#")[0] == key]
            assert found, f"the go-live meeting {key} is not planned"
            anchor = company.meeting_spec(key)["anchor"]
            low, high = company.meeting_spec(key)["window"]
            for meeting in found:
                day = datetime.fromisoformat(meeting["start"]).astimezone(week.tz).date()
                if anchor == "golive" and "#" not in meeting["key"]:  # repeats follow the first, not the window
                    assert low <= week.business_days(golive, day) <= high, (key, day, golive)
                assert {meeting["uid"], meeting.get("series_uid")} & {i.uid for i in invites}, f"no invitation for {key}"

    def check_only_golive_meetings_moved(self, invites: list[Invite]) -> None:
        """A go-live date re-plans the meetings around it; the others keep their time, unsent."""
        shown = self.meetings()
        moved = {shown[i.uid]["title"] for i in invites if i.sequence > 0 and i.recipient != self.company.newcomer[0]
                 and shown[i.uid]["key"].partition("#")[0] not in self.company.golive_keys}
        assert not moved, f"a new go-live date moved {sorted(moved)}"

    def first_meeting_end(self) -> datetime:
        """When the first meeting with the customer ends, as planned now."""
        return min(datetime.fromisoformat(m["end"]) for m in self.meetings().values()
                   if m["status"] == "planned" and m["end"] and set(self.contacts) & {a["email"] for a in m["attendees"]})

    def mail_to_customers(self) -> list:
        return [s for s in self.desk.sent() if set(s.recipients) & set(self.contacts)]

    def check_internal_meetings_stay_ours(self) -> None:
        internal = [m for m in self.meetings().values() if m["key"].partition("#")[0] in self.company.internal_keys]
        for sent in self.mail_to_customers():
            for meeting in internal:
                assert meeting["title"] not in sent.mail.text and meeting["title"] not in (sent.mail.html or ""), (
                    f"{meeting['title']} reached {sent.recipients}")
                for part in sent.mail.calendars:
                    assert meeting["uid"] not in part.text

    # the engineer's side

    def handoff_notification(self):
        [ticket] = [t for t in self.desk.tickets() if t["kind"] == "contract_closed"]
        tag = f"[WG-{ticket['id']}]"
        return next(s for s in self.desk.sent_to(self.company.engineer) if tag in s.mail.subject)

    def engineer_replies(self, commands: str) -> list[Invite]:
        """The engineer answers the hand-off notification with ``commands`` on top."""
        notification = self.handoff_notification()
        engineer = self.company.engineer
        msg = EmailMessage(policy=SMTP)
        msg["From"] = f"{STAFF[engineer]} <{engineer}>"
        msg["To"] = f"{SUPPORT_NAME} <{self.desk.address}>"
        msg["Subject"] = f"Re: {notification.mail.subject}"
        msg["Date"] = format_datetime(self.desk.now)
        msg["Message-ID"] = f"<steer.{next(_ids)}@northwind.example>"
        msg["In-Reply-To"] = f"<{notification.mail.message_id}>"
        msg["References"] = f"<{notification.mail.message_id}>"
        msg.set_content(f"{commands}\n\n{STAFF[engineer].split()[0]}\n")
        return self.arrives(msg.as_bytes())

    def customer_writes(self, sender: str, subject: str, body: str) -> list[Invite]:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = f"{self.contacts[sender][0]} <{sender}>"
        msg["To"] = f"Onboarding <{self.desk.address}>"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(self.desk.now)
        msg["Message-ID"] = f"<mail.{next(_ids)}@{sender.split('@')[1]}>"
        msg.set_content(body)
        return self.arrives(msg.as_bytes())



def assert_is_a_series_invitation(invite: Invite, desk, occurrences: list[dict], *, invited: dict[str, str]) -> None:
    """A weekly series' REQUEST: one master VEVENT with its RRULE and a VTIMEZONE (and an override
    per moved occurrence), read alike by icalendar and vobject, whose expansion is exactly the
    stored occurrences' times."""
    assert str(invite.calendar["METHOD"]) == "REQUEST"
    events = invite.calendar.walk("VEVENT")
    [master] = [e for e in events if "RECURRENCE-ID" not in e]
    assert "RRULE" in master and invite.calendar.walk("VTIMEZONE")
    assert email_of(master["ORGANIZER"]) == desk.address
    listed = {email_of(a): a.params["ROLE"] for a in attendees_of(master)}
    assert invite.recipient in listed and listed == invited
    vcal = vobject.readOne(invite.ics.decode("utf-8"))
    assert vcal.method.value == "REQUEST"
    [vmaster] = [v for v in vcal.vevent_list if not hasattr(v, "recurrence_id")]
    moved = {v.recurrence_id.value: v.dtstart.value for v in vcal.vevent_list if hasattr(v, "recurrence_id")}
    expanded = sorted(moved.get(t, t) for t in vmaster.getrruleset(addRDate=True))
    planned = sorted(datetime.fromisoformat(m["start"]) for m in occurrences if m["status"] == "planned" and m["start"])
    assert expanded == planned, (expanded, planned)


# -- the four steps every playbook goes through ------------------------------------------------------


def started(story: Onboarding, notice: bytes) -> list[Invite]:
    """The CRM's alert starts the engagement: the welcome to the contacts and the invitations."""
    company, desk = story.company, story.desk
    invites = story.arrives(notice)
    assert invites, "no invitation"
    assert all(str(i.calendar["METHOD"]) == "REQUEST" and i.sequence == 0 for i in invites)
    [ticket] = desk.tickets()
    assert (ticket["kind"], ticket["assignee"], ticket["account"]) == ("contract_closed", company.engineer, company.account)
    assert desk.sent_to(CRM) == []
    [welcome] = [s for s in desk.sent() if s.mail.subject.startswith("Welcome to")]
    assert {a.email for a in welcome.mail.to} == set(company.contacts)
    assert company.engineer in {a.email for a in welcome.mail.cc}
    shown = story.meetings()
    for invite in invites:
        if shown[invite.uid]["key"].partition("#")[0] not in company.internal_keys:
            assert invite.title in welcome.mail.text, invite.title
    return invites


def went_live(story: Onboarding, sender: str, subject: str, body: str, golive: date) -> list[Invite]:
    """A contact writes when they go live: the go-live meetings the playbook has are planned around it."""
    invites = story.customer_writes(sender, subject, body)
    [ticket] = [t for t in story.desk.tickets() if t["kind"] == "golive_intent"]
    assert (ticket["golive_date"], ticket["assignee"]) == (golive.isoformat(), story.company.engineer)
    assert story.desk.engagement(story.engagement_id)["golive_date"] == golive.isoformat()
    story.check_golive_meetings(golive, invites)
    story.check_only_golive_meetings_moved(invites)
    return invites


def deal_sent_again(story: Onboarding, notice: bytes, golive: date, before: list[Invite]) -> list[Invite]:
    """The CRM sends the deal again with a new go-live and a new contact, after the first meeting was held."""
    company, desk = story.company, story.desk
    newcomer, name, role = company.newcomer
    story.contacts[newcomer] = (name, role)
    held = {uid for uid, m in story.meetings().items() if m["status"] == "planned" and m["end"]
            and datetime.fromisoformat(m["end"]) <= desk.now and newcomer in company.invited(m["key"], story.contacts)}
    assert held, "no meeting the newcomer's role calls for was held before the deal came again"
    invites = story.arrives(notice)
    assert len(desk.engagements()) == 1
    assert desk.engagement(story.engagement_id)["golive_date"] == golive.isoformat()
    story.check_golive_meetings(golive, invites)
    story.check_only_golive_meetings_moved(invites)

    # The people who had the go-live meetings get them moved: same UID, one SEQUENCE up.
    first = {(invite.uid, invite.recipient): invite for invite in before}  # the latest each had
    for invite in invites:
        if invite.recipient != newcomer and story.meetings()[invite.uid]["key"].partition("#")[0] in company.golive_keys:
            assert (invite.uid, invite.recipient) in first
            assert invite.sequence > first[invite.uid, invite.recipient].sequence

    # The newcomer: welcomed, invited to each meeting ahead her role calls for, never to one held,
    # and never sent an update or a cancellation of a meeting she never had.
    theirs = [i for i in invites if i.recipient == newcomer]
    assert all(str(i.calendar["METHOD"]) == "REQUEST" for i in theirs)
    assert all(i.sent.mail.subject.startswith("Invitation:") for i in theirs), [i.sent.mail.subject for i in theirs]
    assert all(i.start > desk.now for i in theirs)
    ahead = {uid for uid, m in story.meetings().items() if m.get("series_uid") in (None, uid)  # a series, once
             and any(o["status"] == "planned" and o["start"] and datetime.fromisoformat(o["start"]) > desk.now
                     for o in m.get("occurrences", [m]))
             and newcomer in company.invited(m["key"], story.contacts)}
    assert {i.uid for i in theirs} == ahead
    assert not held & {i.uid for i in theirs}
    welcomes = [s for s in desk.sent_to(newcomer) if s.mail.subject.startswith("Welcome to")]
    assert len(welcomes) == 1
    return invites


def proposal(story: Onboarding, invite: Invite) -> tuple[datetime, datetime]:
    """A time to propose for ``invite``'s meeting: the same hour on a later day that suits both weeks
    and leaves the engineer free (the database never books her twice: ``#accept`` of a time she has
    another meeting at is refused)."""
    length = invite.end - invite.start
    week = story.company.business_week
    local = invite.start.astimezone(week.tz)
    taken = [(datetime.fromisoformat(m["start"]), datetime.fromisoformat(m["end"]))
             for m in story.desk.engagement(story.engagement_id)["meetings"] if m["status"] == "planned" and m["start"]]
    for days in range(1, 15):
        start = datetime.combine(local.date() + timedelta(days=days), local.time(), week.tz).astimezone(UTC)
        free = not any(s < start + length and start < e for s, e in taken)
        if story.company.customer_week.holds(start, start + length) and week.holds(start, start + length) and free:
            return start, start + length
    raise AssertionError(f"no day to propose for {invite.title}")


def time_accepted(story: Onboarding, mailboxes: Mailboxes, attendee: str, sent: list[Invite]) -> None:
    """``attendee`` proposes a new time for the next meeting ahead she shares with the newcomer; the
    engineer replies ``#accept``: everyone's latest invitation has that time and a higher SEQUENCE."""
    company, desk = story.company, story.desk
    newcomer = company.newcomer[0]
    latest: dict[tuple[str, str], Invite] = {}
    for invite in sent:
        latest[invite.uid, invite.recipient] = invite
    shared = sorted((i for (uid, who), i in latest.items() if who == newcomer and i.start > desk.now + timedelta(days=2)
                     and (uid, attendee) in latest), key=lambda i: i.start)
    assert shared, f"{attendee} and {newcomer} share no meeting ahead"
    meeting = latest[shared[0].uid, attendee]
    before = {who: i for (uid, who), i in latest.items() if uid == meeting.uid}
    mailboxes.deliver(attendee, meeting.raw)
    start, end = proposal(story, meeting)
    story.desk.at(desk.now + timedelta(minutes=40))
    desk.deliver(answer(received(mailboxes, attendee, meeting.title), attendee, "TENTATIVE", desk.now,
                        comment="Could we do this a day later?", proposed=(start, end)))
    desk.run_once()
    story.seen = len(desk.smtp.received)
    told = [s for s in desk.sent_to(company.engineer) if "proposes another time" in s.mail.subject]
    assert told and meeting.title in told[-1].mail.subject

    story.desk.at(desk.now + timedelta(hours=1))
    updates = story.engineer_replies("#accept")
    mine = {i.recipient: i for i in updates if i.uid == meeting.uid}
    assert set(mine) == set(before), "not every attendee got the moved meeting"
    for who, update in mine.items():
        assert (update.start, update.end) == (start, end), who
        assert update.sequence > before[who].sequence, who
        assert str(update.calendar["METHOD"]) == "REQUEST"
    [results] = [s for s in desk.sent()[-len(updates) - 1:] if "Your reply on" in s.mail.subject]
    assert results.recipients == (company.engineer,)
    assert f"{meeting.title} moved to" in results.mail.text and f"proposed by {attendee}" in results.mail.text


# -- the five playbooks ----------------------------------------------------------------------------


def mail(*, subject: str, text: str, html: str | None = None, headers: dict[str, str] | None = None,
         attachment: tuple[str, str, str] | None = None, message_id: str, now: datetime, sender: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "Onboarding <support@northwind.example>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        filename, subtype, body = attachment
        msg.add_attachment(body.encode("utf-8"), maintype="text", subtype=subtype, filename=filename)
    return msg.as_bytes()


HUDSON = Company(
    playbook="enterprise-onboarding", account="Hudson Freight", timezone="America/New_York", country="US",
    engineer=PRIYA, sales_rep=("Dana Whitfield", DANA),
    contacts={"olivia.chen@hudsonfreight.example": ("Olivia Chen", "project lead"),
              "raj.patel@hudsonfreight.example": ("Raj Patel", "IT")},
    newcomer=("maya.ortiz@hudsonfreight.example", "Maya Ortiz", "IT"),
)


def salesforce_alert(now: datetime, golive: str | None, contacts: dict[str, tuple[str, str]]) -> bytes:
    """A Salesforce workflow email alert on an opportunity moved to Closed Won."""
    people = "\n".join(f"  {name} <{email}> ({role})" for email, (name, role) in contacts.items())
    text = f"""\
Opportunity Closed Won

The following opportunity has been moved to the Closed Won stage.

Opportunity Name: Hudson Freight - Enterprise Platform
Account Name: Hudson Freight
Website: hudsonfreight.example
Opportunity ID: 0065e00000Hf9QzAAJ
Stage: Closed Won
Close Date: 12/14/2026
Amount: USD 184,000.00
Product: Enterprise
Opportunity Owner: Dana Whitfield <{DANA}>
Solutions Engineer: Priya Raman <{PRIYA}>
Time Zone: America/New_York
{f"Target Go-Live: {golive}" if golive else ""}
Contacts:
{people}
Lead Source: Partner Referral

https://northwind.my.salesforce.com/0065e00000Hf9QzAAJ
"""
    return mail(subject="Opportunity Closed Won: Hudson Freight - Enterprise Platform", text=text,
                headers={"Auto-Submitted": "auto-generated", "X-SFDC-LK": "00D5e000000Hf9Q"},
                message_id=f"sfdc.{next(_ids)}@northwind.my.salesforce.com", now=now,
                sender=f"Northwind CRM <{CRM}>")


def test_enterprise_onboarding_for_a_new_york_customer_of_an_engineer_in_los_angeles(desk, mailboxes):
    story = Onboarding(desk, HUDSON)
    # Monday 14 December 2026, 08:00 in Los Angeles; Christmas and New Year are in the windows.
    desk.at(datetime(2026, 12, 14, 16, 0, tzinfo=UTC))
    sent = started(story, salesforce_alert(desk.now, None, HUDSON.contacts))

    desk.at(desk.now + timedelta(hours=3))
    sent += went_live(story, "olivia.chen@hudsonfreight.example", "Go-live date",
                      "Hi Priya,\n\nWe plan to go live on Tuesday 19 January 2027.\n\nOlivia\n", date(2027, 1, 19))

    desk.at(story.first_meeting_end() + timedelta(hours=2))
    contacts = {**HUDSON.contacts, HUDSON.newcomer[0]: HUDSON.newcomer[1:]}
    sent += deal_sent_again(story, salesforce_alert(desk.now, "2027-02-09", contacts), date(2027, 2, 9), sent)

    time_accepted(story, mailboxes, "olivia.chen@hudsonfreight.example", sent + invitations(desk, story.seen))
    story.check_internal_meetings_stay_ours()


THAMES = Company(
    playbook="quickstart", account="Thames Analytics", timezone="Europe/London", country="GB",
    engineer=TOM, sales_rep=("Marco Bianchi", MARCO),
    contacts={"harriet.cole@thamesanalytics.example": ("Harriet Cole", "project lead"),
              "sanjay.mehta@thamesanalytics.example": ("Sanjay Mehta", "IT")},
    newcomer=("fiona.walsh@thamesanalytics.example", "Fiona Walsh", "project lead"),
)


def hubspot_alert(now: datetime, golive: str | None, contacts: dict[str, tuple[str, str]]) -> bytes:
    """HubSpot's deal notification (a workflow's "send internal email"), text and HTML."""
    people = [f"{name} <{email}>, {role.title()}" for email, (name, role) in contacts.items()]
    fields = [("Deal name", "Thames Analytics - QuickStart Express"), ("Deal stage", "Closed won"),
              ("Company name", "Thames Analytics"), ("Company domain name", "thamesanalytics.example"),
              ("Deal ID", "15822946631"), ("Amount", "£24,000.00"), ("Close date", "Dec 21, 2026"),
              ("Product", "QuickStart Express"), ("Deal owner", f"Marco Bianchi <{MARCO}>"),
              ("Onboarding engineer", f"Tom Becker <{TOM}>"), ("Time zone", "Europe/London"),
              *([("Launch date", golive)] if golive else [])]
    text = "Deal closed won\n\nA deal in the Sales Pipeline moved to Closed won.\n\n" + "".join(
        f"{key}: {value}\n" for key, value in fields) + "Contacts:\n" + "".join(f"- {p}\n" for p in people) + (
        "\nView deal: https://app-eu1.hubspot.com/contacts/26735123/record/0-3/15822946631\n")
    html = "<html><body><h2>Deal closed won</h2>" + "".join(
        f"<p><strong>{key}:</strong> {value.replace('<', '&lt;')}</p>" for key, value in fields) + "</body></html>"
    return mail(subject="Deal closed won: Thames Analytics - QuickStart Express", text=text, html=html,
                headers={"Auto-Submitted": "auto-generated", "X-HubSpot-Workflow": "Closed won to onboarding"},
                message_id=f"hs.{next(_ids)}@bf1.hubspotemail.net", now=now, sender=f"HubSpot <{CRM}>")


def test_quickstart_for_a_london_customer_of_an_engineer_in_berlin_keeps_to_quickstarts_pacific_calendar(
        desk, mailboxes):
    story = Onboarding(desk, THAMES)
    # Monday 21 December 2026, 09:00 in Los Angeles, 17:00 in London: Christmas and Boxing Day
    # (Monday 28 December in the UK, a working day in the US) are ahead.
    desk.at(datetime(2026, 12, 21, 17, 0, tzinfo=UTC))
    sent = started(story, hubspot_alert(desk.now, None, THAMES.contacts))

    desk.at(desk.now + timedelta(hours=1))
    sent += went_live(story, "harriet.cole@thamesanalytics.example", "Our launch",
                      "Hello Tom,\n\nOur launch date is 1 February 2027.\n\nBest,\nHarriet\n", date(2027, 2, 1))

    desk.at(story.first_meeting_end() + timedelta(hours=1))
    contacts = {**THAMES.contacts, THAMES.newcomer[0]: THAMES.newcomer[1:]}
    sent += deal_sent_again(story, hubspot_alert(desk.now, "2027-02-15", contacts), date(2027, 2, 15), sent)

    time_accepted(story, mailboxes, "harriet.cole@thamesanalytics.example", sent)
    story.check_internal_meetings_stay_ours()


SPREE = Company(
    playbook="white-glove", account="Spree Logistik GmbH", timezone="Europe/Berlin", country="DE",
    engineer=TOM, sales_rep=("Marco Bianchi", MARCO),
    contacts={"lena.vogel@spree-logistik.example": ("Lena Vogel", "project lead"),
              "jonas.krueger@spree-logistik.example": ("Jonas Krüger", "IT"),
              "katrin.wolf@spree-logistik.example": ("Katrin Wolf", "finance"),
              "martin.brandt@spree-logistik.example": ("Martin Brandt", "exec")},
    newcomer=("aylin.demir@spree-logistik.example", "Aylin Demir", "IT"),
)


def dynamics_alert(now: datetime, golive: str | None, contacts: dict[str, tuple[str, str]]) -> bytes:
    """A Dynamics 365 (Power Automate) "opportunity won" mail: an HTML table, the text part empty of facts."""
    rows = [("Topic", "Spree Logistik - SaaS Enterprise rollout"), ("Potential Customer", "Spree Logistik GmbH"),
            ("Website", "spree-logistik.example"), ("Status Reason", "Won"), ("Actual Close Date", "12/2/2026"),
            ("Actual Revenue", "€212.000,00"), ("Product", "SaaS Enterprise"), ("Owner", f"Marco Bianchi &lt;{MARCO}&gt;"),
            ("Customer Success Manager", f"Tom Becker &lt;{TOM}&gt;"), ("Time Zone", "Europe/Berlin"),
            *([("Target Go-Live Date", golive)] if golive else []),
            ("Stakeholders", "<br>".join(f"{name} &lt;{email}&gt; ({role})" for email, (name, role) in contacts.items())),
            ("Sales Stage", "Close")]
    html = ("<html><body><p>The opportunity below was closed as won.</p><table border=\"1\">"
            + "".join(f"<tr><td><b>{key}</b></td><td>{value}</td></tr>" for key, value in rows)
            + "</table><p><a href=\"https://northwind.crm4.dynamics.com/main.aspx?etn=opportunity\">Open in Dynamics 365</a>"
            "</p></body></html>")
    return mail(subject="Opportunity won: Spree Logistik - SaaS Enterprise rollout",
                text="This message is best viewed in HTML.\n", html=html,
                headers={"Auto-Submitted": "auto-generated", "X-MS-Exchange-Organization-AuthAs": "Internal"},
                message_id=f"d365.{next(_ids)}@northwind.crm4.dynamics.com", now=now,
                sender=f"Dynamics 365 <{CRM}>")


def test_white_glove_for_a_berlin_customer_of_an_engineer_in_berlin(desk, mailboxes):
    story = Onboarding(desk, SPREE)
    # Wednesday 2 December 2026, 08:00 in Berlin; twelve weeks ahead hold Christmas and New Year.
    desk.at(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    sent = started(story, dynamics_alert(desk.now, None, SPREE.contacts))

    desk.at(desk.now + timedelta(hours=2))
    sent += went_live(story, "lena.vogel@spree-logistik.example", "Umstellung / cut-over",
                      "Hallo Tom,\n\nthe cut-over is scheduled for 2027-03-01.\n\nViele Grüße\nLena\n", date(2027, 3, 1))

    desk.at(story.first_meeting_end() + timedelta(hours=1))
    contacts = {**SPREE.contacts, SPREE.newcomer[0]: SPREE.newcomer[1:]}
    sent += deal_sent_again(story, dynamics_alert(desk.now, "2027-03-15", contacts), date(2027, 3, 15), sent)

    time_accepted(story, mailboxes, "jonas.krueger@spree-logistik.example", sent)
    story.check_internal_meetings_stay_ours()


HARBOUR = Company(
    playbook="professional-services", account="Harbour Bridge Health", timezone="Australia/Sydney", country="AU",
    engineer=PRIYA, sales_rep=("Marco Bianchi", MARCO),
    contacts={"grace.nguyen@harbourbridge.example": ("Grace Nguyen", "project lead"),
              "liam.obrien@harbourbridge.example": ("Liam O'Brien", "IT")},
    newcomer=("chloe.tran@harbourbridge.example", "Chloe Tran", "project lead"),
)


def pipedrive_alert(now: datetime, golive: str | None, contacts: dict[str, tuple[str, str]]) -> bytes:
    """Pipedrive's "deal won" notification, its custom fields below the deal's own."""
    [(first, (name, role)), *others] = contacts.items()
    text = f"""\
Marco Bianchi won a deal

Deal: Harbour Bridge Health - Data Platform SOW
Organization: Harbour Bridge Health
Person: {name} <{first}> ({role})
Value: 96,000 AUD
Won time: 2027-01-12 13:05
Pipeline: Enterprise / Stage: Contract signed
Product: Professional Services
Owner: Marco Bianchi <{MARCO}>
Solutions Engineer: Priya Raman <{PRIYA}>
Country: Australia
Time zone: Australia/Sydney
{f"Go-live date: {golive}" if golive else ""}
Other contacts:
""" + "".join(f"  {n} <{e}> ({r})\n" for e, (n, r) in others) + """
Go to deal: https://northwind.pipedrive.com/deal/4821
You are receiving this because you follow this deal. Manage notifications in Pipedrive.
"""
    return mail(subject="Deal won: Harbour Bridge Health - Data Platform SOW", text=text,
                headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
                message_id=f"pd.{next(_ids)}@notifications.pipedrive.com", now=now, sender=f"Pipedrive <{CRM}>")


def test_professional_services_for_a_sydney_customer_of_an_engineer_in_los_angeles_keeps_the_post_mortem_internal(
        desk, mailboxes):
    story = Onboarding(desk, HARBOUR)
    # Tuesday 12 January 2027, 13:05 in Los Angeles: Wednesday 08:05 in Sydney. Australia Day
    # (Tuesday 26 January, a Monday afternoon in Los Angeles) is in the kick-off's weeks.
    desk.at(datetime(2027, 1, 12, 21, 5, tzinfo=UTC))
    sent = started(story, pipedrive_alert(desk.now, None, HARBOUR.contacts))
    shown = story.meetings()
    internal = [i for i in sent if shown[i.uid]["key"] in HARBOUR.internal_keys]
    assert internal, "the post-mortem was not planned"
    assert {i.recipient for i in internal} <= {PRIYA, DANA, MARCO}

    desk.at(desk.now + timedelta(hours=1))
    sent += went_live(story, "grace.nguyen@harbourbridge.example", "Go-live for the data platform",
                      "Hi Priya,\n\nTarget go-live: 3 February 2027.\n\nCheers,\nGrace\n", date(2027, 2, 3))

    desk.at(story.first_meeting_end() + timedelta(hours=1))
    contacts = {**HARBOUR.contacts, HARBOUR.newcomer[0]: HARBOUR.newcomer[1:]}
    # Before the project summary (30-35 business days in): a cut-over after it would not be held.
    sent += deal_sent_again(story, pipedrive_alert(desk.now, "2027-02-17", contacts), date(2027, 2, 17), sent)

    time_accepted(story, mailboxes, "grace.nguyen@harbourbridge.example", sent)
    story.check_internal_meetings_stay_ours()


PAULISTA = Company(
    playbook="sprint-zero", account="Paulista Pagamentos S.A.", timezone="America/Sao_Paulo", country="BR",
    engineer=TOM, sales_rep=("Dana Whitfield", DANA),
    contacts={"joao.silva@paulistapag.example": ("João Silva", "project lead"),
              "ana.souza@paulistapag.example": ("Ana Souza", "IT"),
              "beatriz.lima@paulistapag.example": ("Beatriz Lima", "exec")},
    newcomer=("rafael.costa@paulistapag.example", "Rafael Costa", "project lead"),
)


def csv_report_alert(now: datetime, golive: str | None, contacts: dict[str, tuple[str, str]]) -> bytes:
    """A Salesforce report subscription: "Closed Won - Sprint 0" as a CSV, one row per contact role."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Account Name", "Opportunity ID", "Stage", "Close Date", "Product", "Account Executive",
                     "Solutions Engineer", "Time Zone", "Country", "Target Go-Live", "contact_name", "contact_email",
                     "contact_role"])
    for email, (name, role) in contacts.items():
        writer.writerow(["Paulista Pagamentos S.A.", "0065e00000Pp7LmAAJ", "Closed Won", "2027-04-19", "Sprint 0",
                         f"Dana Whitfield <{DANA}>", f"Tom Becker <{TOM}>", "America/Sao_Paulo", "BR", golive or "",
                         name, email, role])
    text = ("Report: Closed Won - Sprint 0 (subscribed)\n\nThe report's results are attached: one opportunity "
            "moved to Closed Won since the last run.\n\nhttps://northwind.my.salesforce.com/00O5e000008Zr1x\n")
    return mail(subject="Report results: Closed Won - Sprint 0", text=text,
                headers={"Auto-Submitted": "auto-generated"}, attachment=("closed-won-sprint-0.csv", "csv", out.getvalue()),
                message_id=f"report.{next(_ids)}@northwind.my.salesforce.com", now=now,
                sender=f"Salesforce Reports <{CRM}>")


def test_sprint_zero_for_a_sao_paulo_customer_of_an_engineer_in_berlin_spreads_the_interviews(desk, mailboxes):
    story = Onboarding(desk, PAULISTA)
    # Monday 19 April 2027, 08:00 in Berlin, 03:00 in São Paulo: Tiradentes (Wednesday 21 April, a
    # working day in Germany) falls among the interviews.
    desk.at(datetime(2027, 4, 19, 6, 0, tzinfo=UTC))
    sent = started(story, csv_report_alert(desk.now, None, PAULISTA.contacts))
    per_day: dict[date, int] = {}
    shown = story.meetings()
    for uid in {i.uid for i in sent}:
        meeting = shown[uid]
        day = datetime.fromisoformat(meeting["start"]).astimezone(PAULISTA.customer_week.tz).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert max(per_day.values()) <= PAULISTA.spec["max_customer_meetings_per_day"], per_day

    desk.at(desk.now + timedelta(hours=6))
    sent += went_live(story, "joao.silva@paulistapag.example", "Data de go-live",
                      "Olá Tom,\n\nWe plan to go live on 1 June 2027.\n\nAbraços,\nJoão\n", date(2027, 6, 1))

    desk.at(story.first_meeting_end() + timedelta(hours=1))
    contacts = {**PAULISTA.contacts, PAULISTA.newcomer[0]: PAULISTA.newcomer[1:]}
    sent += deal_sent_again(story, csv_report_alert(desk.now, "2027-06-15", contacts), date(2027, 6, 15), sent)

    time_accepted(story, mailboxes, "joao.silva@paulistapag.example", sent)
    story.check_internal_meetings_stay_ours()
