"""Go-live intents are plans the engineer acts on before the cut-over: their priority follows the
day, they run on the go-live SLA policy (business hours), and nobody is paged on a weekend for a
date weeks away."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, SLA, Desk
from support.mail import make_message

from ticketing.core.domain import EventKind

#: Saturday 21 November 2026, 10:00 in Los Angeles.
SATURDAY = datetime(2026, 11, 21, 18, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(store):
    return Desk(store, dict(CONFIG, sla=SLA))


def golive(desk, body, message_id="<g1@globex.example>", **kwargs):
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="Our go-live", message_id=message_id,
                              body=body, **kwargs))
    return desk.store.list_tickets(kind="golive_intent")[-1]


def test_a_go_live_this_week_is_p1_on_the_business_clock_of_the_go_live_policy(desk):
    ticket = golive(desk, "We plan to go live on 20 November 2026.")  # Friday, in two days
    assert (ticket.priority, ticket.golive_date) == ("P1", date(2026, 11, 20))
    assert "go-live in 2 days (at most 5 days away)" in ticket.reasons
    assert ticket.sla_policy == "go-live"
    # Four business hours on the default calendar, not two round-the-clock hours; no resolution target.
    assert ticket.first_response_due - ticket.created_at == timedelta(hours=4)
    assert ticket.resolution_due is None


def test_a_go_live_weeks_away_sent_on_a_saturday_pages_nobody_over_the_weekend(desk):
    desk.now = SATURDAY - timedelta(minutes=1)
    ticket = golive(desk, "We plan to go live in February, probably on 2 February 2027.")
    assert ticket.priority == "P3"
    sweep = desk.intake.desk.sla.sweep
    for hours in range(0, 40, 2):  # all weekend, the sweep runs
        sweep(SATURDAY + timedelta(hours=hours))
    assert [m for m, _ in desk.mail() if m.purpose.startswith("sla")] == []
    # On Monday's business hours the engineer is reminded in time, the executives never.
    for hours in range(40, 72, 1):
        sweep(SATURDAY + timedelta(hours=hours))
    notices = [m for m, _ in desk.mail() if m.purpose.startswith("sla")]
    assert notices and all(r == "priya@northwind.example" for m in notices for r in m.recipients)


def test_the_priority_rises_as_the_day_nears_and_each_step_is_in_the_log(desk):
    ticket = golive(desk, "We plan to go live on 14 January 2027.")
    urgency = desk.intake.desk.urgency
    assert ticket.priority == "P3"
    assert urgency.sweep(datetime(2026, 12, 28, 16, 0, tzinfo=timezone.utc)) == 0  # 17 days
    assert urgency.sweep(datetime(2026, 12, 30, 16, 0, tzinfo=timezone.utc)) == 1  # 15 days
    assert desk.store.get_ticket(ticket.id).priority == "P2"
    assert urgency.sweep(datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)) == 0
    assert urgency.sweep(datetime(2027, 1, 9, 16, 0, tzinfo=timezone.utc)) == 1  # 5 days
    after = desk.store.get_ticket(ticket.id)
    assert after.priority == "P1" and after.first_response_due is not None
    steps = [(e.actor, e.detail["previous"], e.detail["priority"]) for e in desk.store.events(ticket.id)
             if e.kind is EventKind.PRIORITY_CHANGED]
    assert steps == [("whiteglove", "P3", "P2"), ("whiteglove", "P2", "P1")]


def test_the_sweep_never_lowers_an_engineers_priority_but_a_later_day_does(desk):
    ticket = golive(desk, "We plan to go live on 24 November 2026.")  # 6 days
    assert ticket.priority == "P2"
    with desk.store.transaction():
        desk.store.update_ticket(ticket.id, desk.now, priority="P0")  # an engineer's #priority P0
    assert desk.intake.desk.urgency.sweep(desk.now + timedelta(hours=1)) == 0
    assert desk.store.get_ticket(ticket.id).priority == "P0"
    # The customer moves the go-live to March: the ticket is a plan again.
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="Re: Our go-live", message_id="<g2@globex.example>",
                              in_reply_to="<g1@globex.example>", body="We're moving the go-live to March 3, 2027."))
    moved = desk.store.get_ticket(ticket.id)
    assert (moved.golive_date, moved.priority) == (date(2027, 3, 3), "P3")
