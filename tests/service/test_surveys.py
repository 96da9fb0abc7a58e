"""The 0-10 survey: it goes once to the customer's contacts after the meeting its playbook names,
within their working day, and a contact's answer with a number is recorded and told to the engineer."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message, unsigned

from ticketing.core.domain import EventKind

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: WG-1001
Close Date: 2026-11-17
Package: White Glove
Go-Live Date: 2027-01-14
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""
NY = ZoneInfo("America/New_York")
PRIYA = "priya@northwind.example"


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE))
    [engagement] = desk.store.engagements()
    assert engagement.playbook == "white-glove"
    return engagement


def review(desk: Desk, engagement):
    [meeting] = [m for m in desk.store.meetings(engagement.id) if m.key == "first-month-review"]
    assert meeting.end is not None
    return meeting


def surveys(desk: Desk):
    return desk.intake.desk.surveys


def next_weekday_at(moment: datetime, weekday: int, hour: int) -> datetime:
    """The first ``weekday`` (0 = Monday) after ``moment``, at ``hour`` New York time."""
    day = moment.astimezone(NY).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=NY)


def surveyed(desk: Desk, engagement, at: datetime):
    """Run the sweep at ``at``; return the survey mail queued (parsed), or None."""
    desk.now = at
    surveys(desk).sweep(at)
    found = desk.mail("survey")
    return found[0] if found else None


def answer(desk: Desk, survey_mail, body: str, sender: str = "Jane Doe <jane@acme.example>", n: int = 1):
    _, parsed = survey_mail
    before = len(desk.store.outbox())
    desk.receive(make_message(sender=sender, subject=f"Re: {parsed.subject}", message_id=f"<a{n}@acme.example>",
                              in_reply_to=f"<{parsed.message_id}>", references=f"<{parsed.message_id}>", body=body))
    return [(m, p) for m, p in desk.mail() if m.id in {o.id for o in desk.store.outbox()[before:]}]


def test_the_survey_goes_once_after_the_first_month_review_to_the_contacts(desk, store):
    engagement = start(desk)
    meeting = review(desk, engagement)
    assert surveyed(desk, engagement, meeting.start + timedelta(minutes=30)) is None  # the review is not over
    mail, parsed = surveyed(desk, engagement, meeting.end + timedelta(minutes=5))
    # one mail to each contact: an answer by "reply all" reaches no colleague
    assert [m.recipients for m, _ in desk.mail("survey")] == [("jane@acme.example",), ("marcus@acme.example",)]
    assert "How likely are you to recommend us to a colleague? Reply with a number from 0 to 10." in parsed.text
    assert "Acme Corporation" in parsed.text and "Priya Raman" in parsed.text
    assert unsigned(parsed.message_id) == f"wg.survey.{engagement.id}.jane-acme-example@northwind.example"
    # Later passes, and a restarted worker, send nothing more.
    assert surveys(desk).sweep(meeting.end + timedelta(hours=2)) == 0
    restarted = Desk(store, CONFIG)
    assert surveys(restarted).sweep(meeting.end + timedelta(days=3)) == 0
    assert len(desk.mail("survey")) == 2


def test_the_survey_waits_for_the_customers_working_day(desk):
    engagement = start(desk)
    meeting = review(desk, engagement)
    saturday = next_weekday_at(meeting.end, 5, 12)
    assert surveyed(desk, engagement, saturday) is None
    assert saturday.date().isoformat() == "2027-02-13"
    assert surveyed(desk, engagement, next_weekday_at(saturday, 0, 10)) is None  # Presidents' Day in New York
    assert surveyed(desk, engagement, next_weekday_at(saturday, 1, 7)) is None  # Tuesday, before 08:00 there
    assert surveyed(desk, engagement, next_weekday_at(saturday, 1, 9)) is not None


def test_a_survey_whose_moment_is_weeks_past_is_not_sent(desk):
    engagement = start(desk)
    meeting = review(desk, engagement)
    assert surveyed(desk, engagement, next_weekday_at(meeting.end + timedelta(days=14), 2, 10)) is None


def test_a_contacts_number_is_recorded_and_the_engineer_told_once(desk, store):
    engagement = start(desk)
    survey_mail = surveyed(desk, engagement, review(desk, engagement).end + timedelta(minutes=5))
    queued = answer(desk, survey_mail, "Score: 9 - great team, the trainings were worth it\n\n"
                    "Jane Doe\nProject lead | +1 (212) 555-0100\n\n"
                    "On Thu, 18 Feb 2027, Northwind Support <support@northwind.example> wrote:\n"
                    "> How likely are you to recommend us to a colleague? Reply with a number from 0 to 10.\n")
    [(a)] = store.survey_answers(engagement.id)
    assert (a.email, a.score) == ("jane@acme.example", 9)
    assert a.comment.startswith("great team, the trainings were worth it")
    assert "wrote:" not in a.comment
    [(mail, note)] = queued  # one short mail, no ordinary update besides it
    assert mail.purpose == "survey_answer" and mail.recipients == (PRIYA,)
    assert "answered the survey: 9/10" in note.subject and "great team" in note.text
    events = [e for e in store.events(engagement.ticket_id) if e.kind is EventKind.SURVEY_ANSWERED]
    assert [(e.actor, e.detail["score"]) for e in events] == [("jane@acme.example", 9)]
    # She changes her mind: the later answer replaces the first.
    answer(desk, survey_mail, "Actually 10/10, the go-live was flawless.", n=2)
    assert [(a.email, a.score) for a in store.survey_answers(engagement.id)] == [("jane@acme.example", 10)]


def test_a_strangers_number_is_not_recorded(desk, store):
    engagement = start(desk)
    survey_mail = surveyed(desk, engagement, review(desk, engagement).end + timedelta(minutes=5))
    answer(desk, survey_mail, "10", sender="Eve <eve@elsewhere.example>")
    assert store.survey_answers(engagement.id) == []
    assert desk.mail("survey_answer") == []


def test_a_survey_reply_without_a_number_goes_on_as_an_ordinary_reply(desk, store):
    engagement = start(desk)
    survey_mail = surveyed(desk, engagement, review(desk, engagement).end + timedelta(minutes=5))
    queued = answer(desk, survey_mail, "I'd say 7 or 8, hard to tell before the renewal.\n\nMarcus",
                    sender="Marcus Lee <marcus@acme.example>")
    assert store.survey_answers(engagement.id) == []
    assert [m.purpose for m, _ in queued] == ["update"]
    [(_, update)] = queued
    assert "7 or 8" in update.text
    assert store.messages()[-1].ticket_id == engagement.ticket_id  # joined the hand-off ticket, never lost


def test_an_engagement_learnt_from_history_is_never_surveyed(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Hello", message_id="<h0@globex.example>"))
    desk.source.add(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme",
                                 message_id="<n1@crm>", body=NOTICE), received_at=desk.now - timedelta(days=2))
    desk.intake.poll(desk.source)
    [engagement] = desk.store.engagements()
    meeting = review(desk, engagement)
    assert surveyed(desk, engagement, meeting.end + timedelta(minutes=5)) is None
    assert surveyed(desk, engagement, meeting.end + timedelta(days=3, hours=2)) is None


def test_an_engagement_closed_before_its_review_is_surveyed_after_the_close(desk, store):
    engagement = start(desk)
    [(_, handoff)] = desk.mail("notification")
    desk.now = datetime(2026, 12, 1, 15, 0, tzinfo=NY)  # a Tuesday afternoon in New York, long before the review
    desk.receive(make_message(sender=f"Priya Raman <{PRIYA}>", to=SUPPORT, subject=f"Re: {handoff.subject}",
                              message_id="<c1@northwind.example>", in_reply_to=f"<{handoff.message_id}>",
                              body="#close\n\nPriya"))
    closed = store.get_engagement(engagement.id)
    assert not closed.active and review(desk, closed).status.value == "cancelled"
    assert surveyed(desk, closed, desk.now + timedelta(minutes=15)) is not None
    assert {m.recipients for m, _ in desk.mail("survey")} == {("jane@acme.example",), ("marcus@acme.example",)}
