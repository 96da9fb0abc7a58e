"""Calendar clients' notifications without a calendar part are noise; people's mail is not (pure)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from support.mail import make_message

from mailer import new_text, parse_message, recognise
from ticketing.config import PrioritiesConfig
from ticketing.core.calendar_noise import calendar_noise, notification_title
from ticketing.core.classify import Context, Sender, classify
from ticketing.core.domain import MessageKind

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)

# Notifications as the clients write them (their wording, shortened), with no calendar part.
NOTIFICATIONS = [
    pytest.param(  # Google Calendar, the attendee's answer
        "Accepted: Kick-off: Acme onboarding @ Wed Nov 25, 2026 10am - 11am (PST) (jane@acme.example)",
        "jane@acme.example has accepted this invitation.\n\nKick-off: Acme onboarding\nWhen: Wednesday Nov 25, 2026 "
        "10am - 11am (PST)\n\nInvitation from Google Calendar\n\nYou are receiving this courtesy email at the account "
        "support@northwind.example because you are the organizer of this event.", {}, "accepted", id="google-accepted"),
    pytest.param(  # Google: the echo of an invitation someone forwarded
        "Invitation: Kick-off: Acme onboarding @ Wed Nov 25, 2026 10am - 11am (PST) (support@northwind.example)",
        "You have been invited to the following event.\n\nKick-off: Acme onboarding\n\nInvitation from Google Calendar",
        {}, "invitation", id="google-invitation-echo"),
    pytest.param(  # Apple Calendar (the corpus holds one whose .ics part was removed)
        "Event accepted: Kick-off", "Jane Doe has accepted your iCal event invitation to the event: Kick-off, "
        "scheduled for November 25, 2026 at 10:00 AM (America/Los_Angeles).", {"X-Mail-Calendar-Part": "Yes"},
        "answer", id="apple-accepted"),
    pytest.param(  # Outlook, its text/calendar part stripped by a gateway: only the meeting's lines are left
        "Tentative: Kick-off", "When: Wednesday, November 25, 2026 10:00 AM-11:00 AM (UTC-08:00) Pacific Time\n"
        "Where: Microsoft Teams Meeting", {}, "tentative", id="outlook-tentative-stripped"),
    pytest.param(
        "Accepted: Kick-off", "", {"Content-Class": "urn:content-classes:calendarmessage"}, "accepted",
        id="outlook-accepted-content-class"),
    pytest.param(
        "Meeting Forward Notification: Kick-off", "Your meeting was forwarded\n\nJane Doe has forwarded your meeting "
        "request to additional recipients.\n\nMeeting\nKick-off\n\nRecipients\nMarcus Lee", {}, "forwarded",
        id="outlook-forward-notification"),
    pytest.param(
        "Updated invitation: Hand-off @ Thu Nov 26, 2026 9am - 10am (PST) (marcus@acme.example)",
        "This event has been changed.\n\nInvitation from Google Calendar", {}, "invitation", id="google-updated"),
    pytest.param(
        "Zugesagt: Kick-off", "", {}, "accepted", id="outlook-german-accepted"),
]


@pytest.mark.parametrize("subject, body, headers, answer", NOTIFICATIONS)
def test_a_calendar_clients_notification_without_a_calendar_part_is_noise(subject, body, headers, answer):
    noise = calendar_noise(subject, body, [(k.lower(), v) for k, v in headers.items()])
    assert noise is not None and noise.answer == answer
    assert not noise.title.endswith(")")  # Google's "@ when (who)" is not part of the title


@pytest.mark.parametrize("subject, body", [
    ("Declined: card payment on invoice 118", "Our card was declined when paying invoice 118. Can you help?"),
    ("Declined: card payment", ""),  # a bare decline counts only for a meeting of ours (below)
    ("Accepted: your proposal, next steps?", "We accepted the proposal last week; who sets up the SSO integration?"),
    ("Invitation: webinar", "Can we invite our whole team to the webinar on Friday?"),
    ("Re: Accepted: Kick-off", "Thanks, see you there. One question about the agenda: can we add SSO?"),
    ("Kick-off accepted", "has accepted this invitation"),  # not the notification's subject form
])
def test_peoples_mail_with_such_words_is_not_noise(subject, body):
    assert calendar_noise(subject, body) is None


def test_a_bare_decline_of_a_meeting_the_sender_is_invited_to_is_noise():
    assert calendar_noise("Declined: Kick-off", "", meeting_titles=["Kick-off"]).answer == "declined"
    assert calendar_noise("Declined: Kick-off", "", meeting_titles=["Hand-off"]) is None


def test_the_title_is_read_from_the_subject():
    assert notification_title("Accepted: Kick-off @ Wed Nov 25, 2026 10am - 11am (PST) (jane@acme.example)") == (
        "accepted", "Kick-off")
    assert notification_title("[EXT] Event accepted: Hand-off") == ("answer", "Hand-off")
    assert notification_title("Kick-off") is None


def classified(raw: bytes, *, engineer: bool = False, titles: frozenset[str] = frozenset()):
    msg = parse_message(raw)
    sender = Sender(msg.from_.email, is_engineer=engineer)
    return classify(msg, recognise(msg), None, new_text(msg.text), sender, Context(meeting_titles=titles), None, NOW,
                    PrioritiesConfig())


def test_classify_stores_a_notification_as_calendar_mail_not_a_ticket_even_from_an_engineer():
    raw = make_message(sender="Jane Doe <jane@acme.example>", subject="Event accepted: Kick-off",
                       body="Jane Doe has accepted your iCal event invitation to the event: Kick-off.")
    c = classified(raw)
    assert c.kind is MessageKind.CALENDAR and c.ticket_kind is None and c.calendar_noise.title == "Kick-off"
    assert "calendar notification without a calendar part" in c.reasons[0]
    engineer = classified(make_message(sender="priya@northwind.example", subject="Accepted: Kick-off", body=""),
                          engineer=True)
    assert engineer.kind is MessageKind.CALENDAR
    question = classified(make_message(subject="Declined: card payment", body="Our card was declined, why?"))
    assert question.kind is MessageKind.NEW


@pytest.mark.corpus
def test_the_corpus_notification_whose_calendar_part_was_removed_is_noise_and_its_siblings_are_answers(corpus_dir):
    folder = corpus_dir / "mail" / "calendar"
    notifications = {}
    for path in sorted(folder.glob("*.eml")):
        msg = parse_message(path.read_bytes())
        if notification_title(msg.subject) is None:
            continue
        noise = None if msg.calendars else calendar_noise(msg.subject, new_text(msg.text), msg.headers)
        notifications[path.name] = (bool(msg.calendars), noise.answer if noise else None)
    # Apple's "Event accepted" without its .ics: noise. Those with a calendar part are answers or
    # invitations the iMIP code reads; none of them is judged by their subject.
    assert notifications["ccs-calendarserver__reply_missing_attachment.eml"] == (False, "answer")
    assert notifications["ccs-calendarserver__good_reply.eml"] == (True, None)
    assert notifications["nextcloud-mail__request_google.eml"] == (True, None)
    assert [name for name, (has_calendar, _) in notifications.items() if not has_calendar] == [
        "ccs-calendarserver__reply_missing_attachment.eml"]
