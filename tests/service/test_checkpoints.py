"""The weekly check-point mail: a QuickStart customer's contacts hear, once a week on their first
business day, what is done, what is due next and which meetings come, in their zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, Desk
from support.mail import make_message

from ticketing.core.tasks import TaskStatus
from ticketing.services.checkpoints import Checkpoints
from ticketing.services.engagement_setting import Settings

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-17
Package: {package}
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""
MON_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk, package: str = "QuickStart"):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE.format(package=package)))
    [engagement] = desk.store.engagements()
    return engagement


def sweep(desk: Desk, now: datetime) -> int:
    """The worker's job as a restart builds it."""
    desk.now = now
    helpdesk = desk.intake.desk
    settings = Settings(desk.store, desk.config, helpdesk.calendars, helpdesk.onboarding)
    return Checkpoints(desk.store, desk.config, helpdesk.mails, helpdesk.outbox, settings).sweep(now)


def test_the_check_point_goes_once_a_week_on_the_customers_first_business_day_in_their_hours(desk):
    engagement = start(desk)
    plan = {t.key: t for t in desk.store.tasks(engagement.id)}["onboarding-plan"]
    with desk.store.transaction():
        desk.store.set_task_status(plan.id, TaskStatus.DONE, desk.now)
    assert sweep(desk, datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)) == 0  # 07:00 in New York
    assert sweep(desk, MON_10AM_NEW_YORK) == 1
    assert sweep(desk, MON_10AM_NEW_YORK.replace(minute=15)) == 0
    assert sweep(desk, datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)) == 0  # Tuesday, after a restart
    [(mail, checkpoint)] = desk.mail("checkpoint")
    assert [a.email for a in checkpoint.to] == ["jane@acme.example", "marcus@acme.example"]
    assert [a.email for a in checkpoint.cc] == ["priya@northwind.example"]
    assert checkpoint.from_.name == "Priya Raman via Northwind Support"
    assert checkpoint.subject == "Weekly check-point: the onboarding of Acme Corporation"
    text = checkpoint.text
    assert "(1 of 4 done)" in text
    assert "Done since last week:\n  - Onboarding plan for your QuickStart (Priya Raman)" in text
    assert "Your agreement on the QuickStart model and the onboarding plan\n    Jane Doe, due Mon 23 Nov 2026" in text
    assert "Accounts and access ready for the implementation sessions\n    Marcus Lee, due Tue 24 Nov 2026" in text
    assert "Onboarding checklist complete" not in text.split("Due in the next two weeks")[1]  # 16 December: later
    assert "times in New York time (EST)" in text
    assert "Product deep-dive: Acme Corporation\n    Mon 23 Nov 2026, 11:00-12:00 EST" in text
    assert "Weekly check point: Acme Corporation (3)" not in text  # 9 December: more than two weeks ahead
    assert sweep(desk, datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)) == 1  # the next week's
    assert len(desk.mail("checkpoint")) == 2


def test_an_overdue_task_is_marked_so_in_the_check_point(desk):
    start(desk)
    sweep(desk, datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc))
    [(_, checkpoint)] = desk.mail("checkpoint")
    assert "Marcus Lee, was due Tue 24 Nov 2026 (overdue)" in checkpoint.text


def test_a_playbook_that_does_not_ask_for_it_sends_no_check_point(desk):
    start(desk, "Enterprise")
    assert sweep(desk, MON_10AM_NEW_YORK) == 0
    assert desk.mail("checkpoint") == []


def test_a_closed_quickstart_engagement_gets_no_check_point(desk):
    engagement = start(desk)
    with desk.store.transaction():
        desk.store.close_engagement(engagement.id, desk.now)
    assert sweep(desk, MON_10AM_NEW_YORK) == 0


def test_an_engagement_that_history_started_gets_no_check_point(desk):
    desk.intake.start_at = desk.now + timedelta(days=1)  # the notice arrived before the start mark: a backfill
    start(desk)
    assert sweep(desk, MON_10AM_NEW_YORK) == 0
