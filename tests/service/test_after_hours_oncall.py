"""After-hours on-call: a customer's P0/P1 outside its engineer's working hours also goes to
``[support] oncall``, and the acknowledgement says so; inside working hours it does not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, Desk
from support.mail import make_message

NOC = "noc@northwind.example"
PRIYA = "priya@northwind.example"
PAGED = "we have also alerted our on-call engineer"
# Wednesday 18 November 2026, 02:00 in Los Angeles (Priya's calendar is closed) and 11:00 in Berlin.
NIGHT_IN_LA = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(store):
    return Desk(store, {**CONFIG, "support": {**CONFIG["support"], "oncall": NOC}})


def outage(desk: Desk, sender: str = "Bob <bob@globex.example>", subject: str = "Outage of the API",
           message_id: str = "<q1@globex.example>") -> None:
    desk.receive(make_message(sender=sender, subject=subject, body="Every call returns 503.", message_id=message_id))


def test_an_urgent_ticket_after_the_engineers_hours_pages_on_call_and_the_acknowledgement_says_so(desk):
    desk.now = NIGHT_IN_LA - timedelta(minutes=1)
    outage(desk)
    [ticket] = desk.store.list_tickets()
    assert (ticket.priority, ticket.assignee) == ("P0", PRIYA)  # Globex's engineer, asleep
    [(_, paged)] = desk.mail("oncall")
    assert [a.email for a in paged.to] == [NOC]
    assert f"[WG-{ticket.id}] P0" in paged.subject and "Every call returns 503." in paged.text
    assert f"outside the working hours of {PRIYA}" in paged.text
    [(_, note)] = desk.mail("notification")  # the engineer is told as always
    assert note.to[0].email == PRIYA
    [(_, ack)] = desk.mail("acknowledgement")
    assert PAGED in ack.text and PAGED in ack.html


def test_an_urgent_ticket_inside_working_hours_pages_nobody(desk):
    outage(desk)  # 08:00 in Los Angeles: Priya is at work
    [ticket] = desk.store.list_tickets()
    assert ticket.priority == "P0"
    assert desk.mail("oncall") == []
    [(_, ack)] = desk.mail("acknowledgement")
    assert PAGED not in ack.text


def test_at_night_a_question_or_an_urgent_ticket_a_colleague_at_work_takes_pages_nobody(desk):
    desk.now = NIGHT_IN_LA - timedelta(minutes=1)
    outage(desk, subject="How do I export a report?")  # P3
    outage(desk, sender="x@initech.example", message_id="<q2@initech.example>")  # P0 of nobody's account: Tom, in Berlin
    assert [(t.priority, t.assignee) for t in desk.store.list_tickets()] == [
        ("P3", PRIYA), ("P0", "tom@northwind.example")]
    assert desk.mail("oncall") == []


def test_without_an_oncall_address_nobody_is_paged(store):
    desk = Desk(store, CONFIG)
    desk.now = NIGHT_IN_LA - timedelta(minutes=1)
    outage(desk)
    assert desk.mail("oncall") == []
    [(_, ack)] = desk.mail("acknowledgement")
    assert PAGED not in ack.text
