"""Engagements end to end without servers: a notice plans the playbook's meetings and sends the
welcome and the invitations; a go-live date re-plans; answers to invitations are recorded."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from support.desk import CONFIG, NOTICE, SUPPORT, Desk
from support.desk import start_engagement as start
from support.mail import make_message


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def calendar_of(parsed):
    [part] = {p.text: p for p in parsed.calendars}.values()
    return part.method, Calendar.from_ical(part.text)


def test_a_notice_plans_the_playbook_and_sends_the_welcome_and_one_invitation_per_attendee(desk):
    engagement = start(desk)
    assert engagement.playbook == "enterprise-onboarding"
    meetings = {m.key: m for m in desk.store.meetings(engagement.id)}
    assert {k for k, m in meetings.items() if m.status == "planned"} == {"introduction", "hand-off", "developer-workflow"}
    assert {k: m.note for k, m in meetings.items() if m.status == "unplaced"} == {
        "pre-launch": "waiting for the go-live date", "debrief": "waiting for the go-live date"}
    intro = meetings["introduction"]
    # not before the day after the notice (a day's notice), inside Priya's hours in Los Angeles
    assert intro.start >= desk.now + timedelta(hours=24)
    assert {a.email for a in intro.attendees} == {"priya@northwind.example", "jane@acme.example", "marcus@acme.example",
                                                  "sam@northwind.example"}

    [(_, welcome)] = desk.mail("welcome")
    assert {a.email for a in welcome.to} == {"jane@acme.example", "marcus@acme.example"}
    assert {a.email for a in welcome.cc} == {"priya@northwind.example", "sam@northwind.example"}
    assert "Priya Raman" in welcome.text and "single point" in welcome.text
    assert "EST" in welcome.text  # meeting times in the customer's zone
    assert "Pre-launch review" in welcome.text.split("Planned once we know your go-live date", 1)[1]

    invites = desk.mail("invite")
    assert len(invites) == sum(len(m.attendees) for m in meetings.values() if m.status == "planned")
    to_jane = [p for _, p in invites if p.to[0].email == "jane@acme.example"]
    method, cal = calendar_of(to_jane[0])
    [event] = cal.walk("VEVENT")
    assert method == "REQUEST" == str(cal["METHOD"])
    assert str(event["UID"]) in {m.uid for m in meetings.values()} and int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]).lower() == f"mailto:{SUPPORT}"
    assert event["DTSTART"].dt.tzinfo is not None


def test_a_go_live_date_plans_the_go_live_meetings_and_a_new_date_moves_only_them(desk):
    engagement = start(desk)
    sent_before = len(desk.store.outbox())
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 14 January 2027."))
    meetings = {m.key: m for m in desk.store.meetings(engagement.id)}
    assert meetings["pre-launch"].status == meetings["debrief"].status == "planned"
    first = {k: (m.start, m.sequence) for k, m in meetings.items()}
    new_invites = [m for m in desk.store.outbox()[sent_before:] if m.purpose == "invite"]
    assert len(new_invites) == len(meetings["pre-launch"].attendees) + len(meetings["debrief"].attendees)
    assert [m for m in desk.store.outbox()[sent_before:] if m.purpose == "planning"]  # Priya hears of it

    sent_before = len(desk.store.outbox())
    desk.receive(make_message(sender="jane@acme.example", subject="Re: Go-live", message_id="<g2@acme.example>",
                              in_reply_to="<g1@acme.example>", body="We're moving the go-live to February 2, 2027."))
    meetings = {m.key: m for m in desk.store.meetings(engagement.id)}
    moved = {k for k, m in meetings.items() if (m.start, m.sequence) != first[k]}
    assert moved == {"pre-launch", "debrief"}
    assert meetings["pre-launch"].sequence == 1 and meetings["pre-launch"].uid  # same UID, higher SEQUENCE
    updates = [m for m in desk.store.outbox()[sent_before:] if m.purpose == "invite"]
    assert updates and all(m.subject.startswith("Updated invitation:") for m in updates)


def test_a_go_live_intent_without_a_date_asks_the_engineer_for_one(desk):
    start(desk)
    desk.receive(make_message(sender="jane@acme.example", subject="Launch", message_id="<g1@acme.example>",
                              body="We are planning to go live early next year."))
    [(_, ask)] = [(m, p) for m, p in desk.mail("planning") if "needed" in p.subject]
    assert ask.to[0].email == "priya@northwind.example" and "confirm the go-live date" in ask.text


def reply(desk: Desk, meeting, attendee: str, partstat: str, stamp: datetime, method: str = "REPLY", extra: str = "",
          message_id: str = "<r1@acme.example>") -> bytes:
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", f"METHOD:{method}", "BEGIN:VEVENT",
        f"UID:{meeting.uid}", f"SEQUENCE:{meeting.sequence}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"DTSTART:{meeting.start:%Y%m%dT%H%M%SZ}", f"DTEND:{meeting.end:%Y%m%dT%H%M%SZ}",
        f"ORGANIZER:mailto:{SUPPORT}", f"ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}", *filter(None, [extra]),
        "END:VEVENT", "END:VCALENDAR", ""])
    return (f"From: {attendee}\r\nTo: {SUPPORT}\r\nSubject: {partstat.title()}: {meeting.title}\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n{ics}").encode()


def test_answers_to_invitations_are_recorded_for_the_attendee_who_sent_them_newest_first(desk):
    engagement = start(desk)
    intro = next(m for m in desk.store.meetings(engagement.id) if m.key == "introduction")
    t1 = datetime(2026, 11, 18, 18, tzinfo=timezone.utc)
    desk.receive(reply(desk, intro, "jane@acme.example", "ACCEPTED", t1))
    status = lambda: {a.email: a.partstat for a in desk.store.meeting_by_uid(intro.uid).attendees}  # noqa: E731
    assert status()["jane@acme.example"] == "ACCEPTED"
    assert len(desk.store.list_tickets()) == 1  # an answer is never a ticket
    # an older answer arriving late changes nothing; someone answering for another is ignored
    desk.receive(reply(desk, intro, "jane@acme.example", "DECLINED", t1 - timedelta(hours=1), message_id="<r2@x>"))
    assert status()["jane@acme.example"] == "ACCEPTED"
    spoof = reply(desk, intro, "marcus@acme.example", "DECLINED", t1 + timedelta(hours=1), message_id="<r3@x>")
    desk.receive(spoof.replace(b"From: marcus@acme.example", b"From: mallory@evil.example"))
    assert status()["marcus@acme.example"] == "NEEDS-ACTION"
    assert desk.mail("calendar_answer") == []


def test_a_customer_declining_or_proposing_a_new_time_is_passed_to_the_engineer(desk):
    engagement = start(desk)
    intro = next(m for m in desk.store.meetings(engagement.id) if m.key == "introduction")
    stamp = datetime(2026, 11, 18, 18, tzinfo=timezone.utc)
    desk.receive(reply(desk, intro, "marcus@acme.example", "DECLINED", stamp, extra="COMMENT:Out that week"))
    [(_, declined)] = desk.mail("calendar_answer")
    assert declined.to[0].email == "priya@northwind.example" and "declined" in declined.subject
    assert "Out that week" in declined.text
    later = intro.start + timedelta(days=1)
    counter = reply(desk, intro, "jane@acme.example", "TENTATIVE", stamp, method="COUNTER", message_id="<c1@x>")
    counter = counter.replace(f"DTSTART:{intro.start:%Y%m%dT%H%M%SZ}".encode(), f"DTSTART:{later:%Y%m%dT%H%M%SZ}".encode())
    desk.receive(counter)
    proposals = [p for _, p in desk.mail("calendar_answer") if "proposes" in p.subject]
    assert proposals and "Proposed" in proposals[0].text
    jane = next(a for a in desk.store.meeting_by_uid(intro.uid).attendees if a.email == "jane@acme.example")
    assert jane.comment.startswith(f"proposed {later:%Y-%m-%d %H:%M} UTC") and jane.partstat == "NEEDS-ACTION"


def test_an_engagement_whose_tier_no_playbook_serves_plans_nothing_and_says_so(desk):
    engagement = start(desk, NOTICE.replace("Package: Enterprise", "Package: Platinum Mystery"))
    assert engagement.playbook is None and desk.store.meetings(engagement.id) == []
    # the hand-off notification itself asks the engineer to choose; no second mail
    [(_, told)] = desk.mail("notification")
    assert "No playbook matches package Platinum Mystery: reply #playbook NAME (one of enterprise-onboarding," in told.text
    assert desk.mail("planning") == [] and desk.mail("welcome") == [] and desk.mail("invite") == []
