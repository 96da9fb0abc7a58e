"""An engagement's scorecard from what the store holds: its tasks' statuses, its meetings, its
milestones and its survey answers, measured against the playbook's targets; and the lines
``whiteglove engagement ID`` prints from it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, NOTICE, Desk
from support.mail import make_message

from ticketing.app.bootstrap import build_calendars, build_playbooks
from ticketing.app.cli import scorecard
from ticketing.core.metrics import Verdict
from ticketing.core.tasks import TaskStatus
from ticketing.services.scorecards import Scorecards


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE))
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 14 January 2027."))
    [engagement] = desk.store.engagements()
    return engagement


def scorecards(desk: Desk) -> Scorecards:
    return Scorecards(desk.store, desk.config, build_calendars(desk.config), build_playbooks(desk.config))


def tasks_of(desk: Desk, engagement) -> dict:
    return {t.key: t for t in desk.store.tasks(engagement.id)}


def test_a_task_done_late_and_one_overdue_put_the_engagement_at_risk_on_the_engineers_calendar(desk):
    engagement = start(desk)
    tasks = tasks_of(desk, engagement)
    staging = tasks["staging-live"]
    # Marcus's staging task is done two days after its due date; the staging CDN is left open past its own
    with desk.store.transaction():
        desk.store.set_task_status(staging.id, TaskStatus.DONE,
                                   datetime.combine(staging.due + timedelta(days=2), datetime.min.time(),
                                                    timezone.utc) + timedelta(hours=20))
    now = datetime.combine(tasks["staging-cdn"].due + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=20)
    m = scorecards(desk).measure(desk.store.get_engagement(engagement.id), now)
    assert [t.key for t in m.overdue_tasks] == ["staging-cdn"]
    assert (m.tasks_on_time.met, m.tasks_on_time.total) == (0, 2)
    assert m.health.verdict is Verdict.AT_RISK
    assert m.health.reasons == ("1 task overdue (engineer)", "0% of tasks done on time (0/2), target 80%")
    lines = "\n".join(scorecard.metrics_lines(m))
    assert "  Health: at risk" in lines and "    - 1 task overdue (engineer)" in lines
    assert f"1 overdue: staging-cdn (engineer, due {tasks['staging-cdn'].due})" in lines


def test_a_live_signed_off_and_closed_engagement_shows_its_milestones_survey_and_on_time_go_live(desk):
    engagement = start(desk)
    closing = datetime(2027, 2, 3, 22, 0, tzinfo=timezone.utc)
    with desk.store.transaction():
        for task in desk.store.tasks(engagement.id):
            desk.store.set_task_status(task.id, TaskStatus.DONE, datetime.combine(
                task.due or date(2027, 1, 14), datetime.min.time(), timezone.utc) + timedelta(hours=17))
        desk.store.set_live(engagement.id, date(2027, 1, 14))
        desk.store.set_signoff(engagement.id, date(2027, 1, 29), "Jane Doe")
        desk.store.save_survey_answer(engagement.id, "jane@acme.example", 9, "", closing)
        desk.store.save_survey_answer(engagement.id, "marcus@acme.example", 6, "slow CDN", closing)
        desk.store.close_engagement(engagement.id, closing)
    closed = desk.store.get_engagement(engagement.id)
    m = scorecards(desk).measure(closed, closing + timedelta(days=60))
    assert m.as_of == closing and (m.on_time, m.golive_days_late) == (True, 0)
    assert (m.survey_average, m.survey_count) == (7.5, 2)
    assert m.health.reasons == ("survey 7.5 below 8 (2 answers)",)
    assert (m.meetings_held.met, m.meetings_held.total, m.required_meetings_held.met) == (5, 5, 1)
    assert scorecard.milestones_lines(closed) == [
        "  closed: went live 2027-01-14, signed off 2027-01-29 by Jane Doe, closed 2027-02-03 22:00 UTC"]
    text = "\n".join(scorecard.metrics_lines(m))
    assert "go-live   live on 2027-01-14, planned 2027-01-14 (on the day)" in text
    assert "survey    average 7.5 of 10 from 2 answers, target 8" in text
    data = m.as_json()
    assert data["metrics"]["survey"] == {"average": 7.5, "count": 2}
    assert data["metrics"]["golive"]["on_time"] is True and data["health"]["verdict"] == "at_risk"
