"""What comes back about meetings, and how invitations go out: calendar notifications without a
calendar part are no tickets, answers to cancelled meetings do not count, and an engineer who
organizes sends the invitations From themselves with the support mailbox as Sender."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest
import vobject
from icalendar import Calendar
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message
from test_onboarding import reply, start

from ticketing.core.domain import MeetingStatus, MessageKind
from ticketing.files.templates import Renderer
from ticketing.services.outbox import message_bytes

PRIYA = "priya@northwind.example"
JANE = "jane@acme.example"


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def meeting(desk: Desk, key: str):
    [engagement] = desk.store.engagements()
    return next(m for m in desk.store.meetings(engagement.id) if m.key == key)


def partstats(desk: Desk, key: str) -> dict[str, str]:
    return {a.email: a.partstat for a in meeting(desk, key).attendees}


def test_an_accepted_notification_without_a_calendar_part_opens_no_ticket_and_is_not_acknowledged(desk):
    start(desk)
    intro = meeting(desk, "introduction")
    tickets, queued, before = desk.store.list_tickets(), len(desk.store.outbox()), partstats(desk, "introduction")

    # Jane's Outlook answer, its calendar part stripped on the way; Apple's "Event accepted" from
    # someone we have no meeting with; Google's answer of Priya (an engineer) to the introduction.
    desk.receive(make_message(sender="Jane Doe <jane@acme.example>", subject=f"Accepted: {intro.title}", body="",
                              message_id="<a1@acme.example>"))
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="Event accepted: Weekly sync",
                              message_id="<a2@globex.example>",
                              body="Bob has accepted your iCal event invitation to the event: Weekly sync."))
    desk.receive(make_message(
        sender="Priya Raman <priya@northwind.example>", message_id="<a3@northwind.example>",
        subject=f"Accepted: {intro.title} @ Wed Nov 25, 2026 10am - 11am (PST) ({PRIYA})",
        body=f"{PRIYA} has accepted this invitation.\n\nInvitation from Google Calendar"))

    assert desk.store.list_tickets() == tickets  # no ticket, no reply to a ticket
    assert len(desk.store.outbox()) == queued  # no acknowledgement, nothing to anyone
    stored = desk.store.messages()[-3:]
    assert [m.kind for m in stored] == [MessageKind.CALENDAR] * 3 and all(m.ticket_id is None for m in stored)
    assert partstats(desk, "introduction") == before  # a subject is no answer to record


def test_a_question_whose_subject_starts_like_a_decline_is_still_a_ticket(desk):
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="Declined: card payment on invoice 118",
                              body="Our card was declined when paying invoice 118. Can you help?"))
    [ticket] = desk.store.list_tickets()
    assert ticket.subject == "Declined: card payment on invoice 118"
    assert desk.mail("acknowledgement")


def cancel_meeting(desk: Desk, key: str):
    """The meeting is cancelled as re-planning cancels one: status cancelled, SEQUENCE raised."""
    m = meeting(desk, key)
    with desk.store.transaction():
        desk.store.save_meeting(engagement_id=m.engagement_id, key=m.key, title=m.title, description=m.description,
                                uid=m.uid, start=m.start, end=m.end, status=MeetingStatus.CANCELLED,
                                note="cancelled for the test", attendees=m.attendees, now=desk.now,
                                sequence=m.sequence + 1)
    return meeting(desk, key)


def test_an_acceptance_of_a_cancelled_meeting_is_stored_but_not_counted(desk):
    start(desk)
    intro = cancel_meeting(desk, "introduction")
    stamp = datetime(2026, 11, 18, 18, tzinfo=timezone.utc)
    queued = len(desk.store.outbox())

    # Jane's calendar answers the cancelled meeting at its current SEQUENCE (an "accept" of the CANCEL).
    desk.receive(reply(desk, intro, JANE, "ACCEPTED", stamp))
    assert partstats(desk, "introduction")[JANE] == "NEEDS-ACTION"
    assert meeting(desk, "introduction").status == MeetingStatus.CANCELLED
    assert desk.store.messages()[-1].kind is MessageKind.CALENDAR
    assert len(desk.store.list_tickets()) == 1 and len(desk.store.outbox()) == queued

    # The same answer to a planned meeting counts (so the one above was refused for the cancellation).
    hand_off = meeting(desk, "hand-off")
    desk.receive(reply(desk, hand_off, JANE, "ACCEPTED", stamp, message_id="<r2@acme.example>"))
    assert partstats(desk, "hand-off")[JANE] == "ACCEPTED"


# -- an engineer organizes --------------------------------------------------------------------------


@pytest.fixture
def engineer_desk(store):
    return Desk(store, {**CONFIG, "onboarding": {"organizer": "engineer"}})


def test_an_engineer_organizing_sends_invitations_from_themselves_with_support_as_sender(engineer_desk):
    desk = engineer_desk
    start(desk)
    intro = meeting(desk, "introduction")
    invites = [(mail, message_from_bytes(message_bytes(desk.store, mail.id, Renderer()), policy=default))
               for mail in desk.store.outbox() if mail.purpose == "invite"]
    to_intro = [(mail, msg) for mail, msg in invites if msg["Subject"] == f"Invitation: {intro.title}"]
    recipients = sorted(r for mail, _ in to_intro for r in mail.recipients)
    # Every attendee, and Priya, the organizer, her own copy.
    assert recipients == sorted(a.email for a in intro.attendees)
    for mail, msg in invites:
        assert msg["From"].addresses[0].addr_spec == PRIYA and msg["From"].addresses[0].display_name == "Priya Raman"
        assert msg["Sender"].addresses[0].addr_spec == SUPPORT
        assert msg["Reply-To"].addresses[0].addr_spec == SUPPORT  # people who write back reach support
        [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        ics = part.get_payload(decode=True).decode("utf-8")
        [event] = Calendar.from_ical(ics).walk("VEVENT")  # icalendar reads it
        organizer = event["ORGANIZER"]
        assert str(organizer).lower() == f"mailto:{PRIYA}" and organizer.params["SENT-BY"] == f"mailto:{SUPPORT}"
        vevent = vobject.readOne(ics).vevent  # and so does vobject, another parser
        assert vevent.organizer.value.lower() == f"mailto:{PRIYA}"
        assert vevent.organizer.params["SENT-BY"] == [f"mailto:{SUPPORT}"]
        attendees = {a.value.lower()[len("mailto:"):] for a in vevent.attendee_list}
        assert PRIYA not in attendees  # the organizer is not asked to answer her own meeting
    # The mail still leaves through support: bounces come back to the support mailbox.
    with desk.store.transaction():
        claimed = desk.store.claim_due_mail(desk.now, 1000, timedelta(minutes=10))
    assert {envelope for _, _, envelope, _ in claimed} == {SUPPORT}


def test_with_support_organizing_invitations_have_no_sender_header_and_no_sent_by(desk):
    start(desk)
    [(mail, parsed)] = desk.mail("invite", to=JANE)[:1]
    msg = message_from_bytes(message_bytes(desk.store, mail.id, Renderer()), policy=default)
    assert msg["From"].addresses[0].addr_spec == SUPPORT and msg["Sender"] is None
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert "SENT-BY" not in event["ORGANIZER"].params


def test_an_engineer_organizing_gets_the_cancellation_too(engineer_desk):
    desk = engineer_desk
    start(desk)
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 14 January 2027."), after=timedelta(hours=1))
    queued = len(desk.store.outbox())
    pre_launch = meeting(desk, "pre-launch")
    cancelled = cancel_meeting(desk, "pre-launch")
    with desk.store.transaction():
        desk.intake.desk.onboarding.invitations.send(cancelled, desk.store.engagements()[0], desk.now, cancelled=True,
                                                     reason="the go-live moved")
    cancels = desk.store.outbox()[queued:]
    assert sorted(r for m in cancels for r in m.recipients) == sorted(a.email for a in pre_launch.attendees)
    assert all(m.subject == f"Cancelled: {pre_launch.title}" for m in cancels)
