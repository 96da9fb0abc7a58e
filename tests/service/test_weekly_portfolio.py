"""The weekly summary's portfolio, from the store: the manager's engagements with their health and why,
the go-lives of the next 30 days and the overdue tasks by who owns them; a closed engagement is in
the summary of the week it closed and not in the next."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support.desk import NOTICE, Desk
from support.mail import make_message
from test_weekly import configured, weekly

from mailer.message import parse_message
from ticketing.files.templates import Renderer
from ticketing.services.outbox import message_bytes

# Monday 14 December 2026, 08:00 in Los Angeles: the summary of the week of 7 December goes.
MONDAY = datetime(2026, 12, 14, 16, 0, tzinfo=timezone.utc)
WEEK = date(2026, 12, 7)


@pytest.fixture
def desk(store):
    desk = Desk(store, configured())
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE))
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 8 January 2027."))
    return desk


def sent_text(desk: Desk) -> str:
    [mail] = [m for m in desk.store.outbox() if m.purpose == "weekly"]
    return parse_message(message_bytes(desk.store, mail.id, Renderer())).text


def test_the_summary_lists_an_engagement_at_risk_with_why_its_go_live_and_the_customers_overdue_task(desk):
    [engagement] = desk.store.engagements()
    tasks = {t.key: t for t in desk.store.tasks(engagement.id)}
    staging, cdn = tasks["staging-live"], tasks["staging-cdn"]
    assert staging.due < cdn.due < MONDAY.date()  # Marcus's and Priya's staging tasks came due in the week

    def due(task) -> str:
        days = (MONDAY.date() - task.due).days
        return f"due {task.due:%a} {task.due.day} {task.due:%b}, {days} days overdue"
    summaries = weekly(desk)
    assert summaries.run(MONDAY) == 1 and summaries.run(MONDAY + timedelta(minutes=5)) == 0
    text = sent_text(desk)
    assert text[text.index("PORTFOLIO:"):text.index("\nONBOARDING\n")] == (
        "PORTFOLIO: 1 engagement: 1 at risk\n"
        "- Acme Corporation: AT RISK, Priya Raman, enterprise-onboarding\n"
        "  2 tasks overdue (customer:it, engineer)\n"
        "Go-lives in the next 30 days:\n"
        "- Fri 8 Jan (in 25 days)  Acme Corporation, Priya Raman: at risk\n"
        "Overdue tasks by owner:\n"
        "- Marcus Lee (Acme Corporation) (1)\n"
        f"    Acme Corporation: {staging.name}, {due(staging)}\n"
        "- Priya Raman (1)\n"
        f"    Acme Corporation: {cdn.name}, {due(cdn)}\n")
    data = summaries.summary(desk.config.managers[0], WEEK, MONDAY).as_json()["portfolio"]
    assert [(e["account"], e["health"], e["reasons"]) for e in data["engagements"]] == [
        ("Acme Corporation", "at_risk", ["2 tasks overdue (customer:it, engineer)"])]


def test_a_closed_engagement_is_in_the_summary_of_the_week_it_closed_and_not_in_the_next(desk):
    [engagement] = desk.store.engagements()
    with desk.store.transaction():
        desk.store.set_live(engagement.id, date(2026, 12, 8))
        desk.store.close_engagement(engagement.id, datetime(2026, 12, 10, 20, 0, tzinfo=timezone.utc))
    summaries = weekly(desk)
    manager = desk.config.managers[0]
    that_week = summaries.summary(manager, WEEK, MONDAY)
    [shown] = that_week.portfolio.engagements
    assert shown.closed_on == date(2026, 12, 10) and shown.live_on == date(2026, 12, 8)
    assert that_week.portfolio.golives == ()  # live already: no go-live ahead
    next_week = summaries.summary(manager, WEEK + timedelta(days=7), MONDAY + timedelta(days=7))
    assert next_week.portfolio.engagements == () and next_week.past_planned_length == ()
