"""A repeated meeting (QuickStart's weekly check points) goes out as one recurring invitation per
attendee, not one per occurrence, and answers to the series or to one occurrence are recorded."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import vobject
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: QS-1
Close Date: 2026-11-17
Package: QuickStart
Timezone: America/New_York
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE))
    [engagement] = desk.store.engagements()
    return engagement


def check_points(desk: Desk, engagement):
    return [m for m in desk.store.meetings(engagement.id) if m.key.partition("#")[0] == "check-point"]


def series_invites(desk: Desk, to: str):
    return [p for _, p in desk.mail("invite", to=to) if "check point" in p.subject.lower()]


def reply(uid: str, sequence: int, attendee: str, partstat: str, stamp: datetime, recurrence_id: datetime | None = None,
          message_id: str = "<r1@acme.example>") -> bytes:
    ics = "\r\n".join(filter(None, [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "METHOD:REPLY", "BEGIN:VEVENT",
        f"UID:{uid}", f"SEQUENCE:{sequence}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"RECURRENCE-ID:{recurrence_id:%Y%m%dT%H%M%SZ}" if recurrence_id else "",
        f"ORGANIZER:mailto:{SUPPORT}", f"ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}",
        "END:VEVENT", "END:VCALENDAR", ""]))
    return (f"From: {attendee}\r\nTo: {SUPPORT}\r\nSubject: {partstat.title()}: Weekly check point\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n{ics}").encode()


def test_a_quickstart_sends_one_check_point_series_per_attendee_that_expands_to_the_planned_times(desk):
    engagement = start(desk)
    points = check_points(desk, engagement)
    assert len(points) == 3 and all(p.status == "planned" for p in points)
    [uid] = {p.series_uid for p in points}
    assert uid and len({p.recurrence_id for p in points}) == 3

    for attendee in ("jane@acme.example", "marcus@acme.example", "priya@northwind.example"):
        [invite] = series_invites(desk, attendee)  # one, not three
        [part] = {c.text: c for c in invite.calendars}.values()
        assert part.method == "REQUEST"
        vcal = vobject.readOne(part.text)
        master = next(e for e in vcal.vevent_list if not hasattr(e, "recurrence_id"))
        assert master.uid.value == uid and "FREQ=WEEKLY" in master.rrule.value
        moved = {e.recurrence_id.value: e.dtstart.value for e in vcal.vevent_list if hasattr(e, "recurrence_id")}
        expanded = [moved.get(t, t) for t in master.getrruleset()]
        assert [t.astimezone(timezone.utc) for t in expanded] == [p.start for p in points]
    # The rows' own UIDs were never sent: answers can only name the series.
    assert all(p.uid not in (c.text for _, m in desk.mail("invite") for c in m.calendars) for p in points)


def test_a_reply_to_the_series_is_recorded_on_every_occurrence_and_one_to_an_instance_on_that_one(desk):
    engagement = start(desk)
    points = check_points(desk, engagement)
    uid, sequence = points[0].series_uid, min(p.sequence for p in points)
    t1 = desk.now + timedelta(hours=1)
    desk.receive(reply(uid, sequence, "jane@acme.example", "ACCEPTED", t1))

    def jane() -> list[str]:
        return [next(a.partstat for a in p.attendees if a.email == "jane@acme.example") for p in check_points(desk, engagement)]

    assert jane() == ["ACCEPTED"] * 3
    second = points[1]
    desk.receive(reply(uid, second.sequence, "jane@acme.example", "DECLINED", t1 + timedelta(hours=1),
                       recurrence_id=second.recurrence_id, message_id="<r2@acme.example>"))
    assert jane() == ["ACCEPTED", "DECLINED", "ACCEPTED"]
    assert len(desk.store.list_tickets()) == 1  # answers are never tickets


def test_the_engagement_command_shows_the_series_with_its_occurrences(desk, capsys):
    from ticketing.app.cli import views

    engagement = start(desk)
    views.engagement_detail(engagement, desk.store.meetings(engagement.id))
    out = capsys.readouterr().out
    assert "Weekly check point: Acme Corporation: weekly series, 3 occurrences" in out
    assert out.count("occurrence ") == 3


def test_a_contact_who_joins_gets_the_series_once_and_one_who_leaves_one_cancellation_of_it(desk):
    engagement = start(desk)
    uid = check_points(desk, engagement)[0].series_uid
    again = NOTICE.replace("Contact: Marcus Lee <marcus@acme.example>; role=IT",
                           "Contact: Kim Park <kim@acme.example>; role=project lead")
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n2@crm>",
                              body=again))
    [joined] = series_invites(desk, "kim@acme.example")
    [part] = {c.text: c for c in joined.calendars}.values()
    assert part.method == "REQUEST" and f"UID:{uid}" in part.text and "RRULE:FREQ=WEEKLY" in part.text
    cancels = [p for p in series_invites(desk, "marcus@acme.example") if p.subject.startswith("Cancelled")]
    [cancel] = cancels
    [part] = {c.text: c for c in cancel.calendars}.values()
    assert part.method == "CANCEL" and f"UID:{uid}" in part.text and "RECURRENCE-ID" not in part.text
    assert all("marcus@acme.example" not in {a.email for a in p.attendees} for p in check_points(desk, engagement))


def steer(desk: Desk, commands: str, n: int):
    """Priya replies to the hand-off notification with ``commands``; return the invitations it queued."""
    [(_, handoff)] = desk.mail("notification")
    before = len(desk.store.outbox())
    desk.receive(make_message(sender="priya@northwind.example", to=SUPPORT, subject=f"Re: {handoff.subject}",
                              message_id=f"<s{n}@northwind.example>", in_reply_to=f"<{handoff.message_id}>",
                              body=f"{commands}\n\nThanks"))
    return [p for m, p in desk.mail("invite") if m.id in {o.id for o in desk.store.outbox()[before:]}]


def test_an_engineer_moving_one_occurrence_sends_its_override_never_the_occurrences_own_uid(desk):
    engagement = start(desk)
    points = check_points(desk, engagement)
    uid = points[0].series_uid
    second = points[1]
    day = (second.start + timedelta(days=1)).astimezone(LA)
    sent = steer(desk, f"#move {second.key} {day:%Y-%m-%d} 10:00", 1)
    assert sent and all(f"UID:{uid}" in c.text and "RECURRENCE-ID" in c.text for p in sent for c in p.calendars)
    assert all(second.uid not in c.text for p in sent for c in p.calendars)
    moved = next(p for p in check_points(desk, engagement) if p.key == second.key)
    assert moved.start == datetime.combine(day.date(), datetime.min.time().replace(hour=10), LA).astimezone(timezone.utc)



def test_an_engineer_cancelling_one_occurrence_sends_the_series_without_it(desk):
    engagement = start(desk)
    points = check_points(desk, engagement)
    uid, third = points[0].series_uid, points[2]
    sent = steer(desk, f"#cancel {third.key}", 2)
    assert sent and all(third.uid not in c.text for p in sent for c in p.calendars)
    # The series again, with the cancelled week left out: it expands to the two that are left.
    part = next(c for c in sent[0].calendars)
    vcal = vobject.readOne(part.text)
    master = next(e for e in vcal.vevent_list if not hasattr(e, "recurrence_id"))
    overrides = {e.recurrence_id.value: e.dtstart.value for e in vcal.vevent_list if hasattr(e, "recurrence_id")}
    expanded = sorted(overrides.get(t, t).astimezone(timezone.utc) for t in master.getrruleset())
    left = sorted(p.start for p in check_points(desk, engagement) if p.status == "planned")
    assert master.uid.value == uid and expanded == left and len(left) == 2
