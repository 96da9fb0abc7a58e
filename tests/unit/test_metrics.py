"""An engagement's success metrics and health (pure): go-live on time or late, length against the plan,
tasks on time and overdue, meetings held, the survey, and the verdict with its reasons in words."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, EngagementStatus, Meeting, MeetingStatus
from ticketing.core.metrics import SuccessTargets, Verdict, measure
from ticketing.core.playbooks import Playbook
from ticketing.core.tasks import Task, TaskStatus

NY = ZoneInfo("America/New_York")
US = BusinessCalendar.from_config(CalendarConfig(name="us", timezone="America/New_York", holidays="US"))
START = datetime(2027, 1, 4, 15, 0, tzinfo=ZoneInfo("UTC"))  # Monday 4 January 2027, 10:00 in New York
TARGETS = SuccessTargets(max_weeks=10, min_survey=8, tasks_on_time_percent=80,
                         required_meetings=("admin-training",))


def playbook(length_days: int = 60, success: SuccessTargets = TARGETS) -> Playbook:
    return Playbook(name="white-glove", title="White glove", source="003.txt", tiers=("White Glove",), sla_policy=None,
                    length_days=length_days, phases=(), emails=(), meetings=(), path=Path("white-glove.toml"),
                    success=success)


def engagement(golive: date | None = date(2027, 3, 3), live_on: date | None = None, closed_at: datetime | None = None,
               **kw) -> Engagement:
    return Engagement(id=7, account="Acme", engineer="eng@example.com", tier="White Glove", contract_id="C-1",
                      close_date=date(2027, 1, 4), sales_rep="rep@example.com", golive_date=golive, ticket_id=1,
                      created_at=START, playbook="white-glove", live_on=live_on, closed_at=closed_at,
                      status=EngagementStatus.CLOSED if closed_at else EngagementStatus.ACTIVE, **kw)


def task(key: str, due: date | None, status: TaskStatus = TaskStatus.OPEN, done_on: date | None = None,
         owner: str = "engineer") -> Task:
    done_at = datetime(done_on.year, done_on.month, done_on.day, 16, 0, tzinfo=NY) if done_on else None
    return Task(id=hash(key) % 1000, engagement_id=7, key=key, name=key.replace("-", " ").capitalize(), owner=owner,
                due=due, status=status, customer_visible=False, done_at=done_at)


def meeting(key: str, day: date, status: MeetingStatus = MeetingStatus.PLANNED, title: str = "") -> Meeting:
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=NY)
    return Meeting(id=hash((key, day)) % 1000, engagement_id=7, key=key, title=title or key.replace("-", " ").capitalize(),
                   description="", uid=f"{key}@x", sequence=0, start=start, end=start + timedelta(hours=1),
                   status=status, note="")


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=NY)


def test_an_engagement_that_went_live_on_plan_with_its_tasks_done_is_on_track():
    tasks = [task("project-plan", date(2027, 1, 8), TaskStatus.DONE, date(2027, 1, 7)),
             task("uat-signoff", date(2027, 2, 26), TaskStatus.DONE, date(2027, 2, 26))]
    meetings = [meeting("kickoff", date(2027, 1, 5)), meeting("admin-training", date(2027, 2, 1)),
                meeting("first-month-review", date(2027, 3, 30))]
    m = measure(engagement(live_on=date(2027, 3, 3)), playbook(), tasks, meetings, [9, 10], at(date(2027, 3, 8)), US)
    assert m.health.verdict is Verdict.ON_TRACK and m.health.reasons == ()
    assert (m.on_time, m.golive_days_late, m.weeks_to_golive) == (True, 0, 8.3)
    assert (m.tasks_on_time.met, m.tasks_on_time.total) == (2, 2)
    assert (m.meetings_held.met, m.meetings_held.total, m.meetings_ahead) == (2, 3, 1)
    assert (m.required_meetings_held.met, m.required_meetings_held.total) == (1, 1)
    assert (m.survey_average, m.survey_count) == (9.5, 2)
    assert m.business_days == 43  # the 45 weekdays after 4 Jan to 8 Mar 2027, less MLK and Presidents' days


def test_a_go_live_past_its_planned_day_is_late_by_the_days_since():
    m = measure(engagement(golive=date(2027, 3, 3)), playbook(), [], [], [], at(date(2027, 3, 15)), US)
    assert m.health.verdict is Verdict.LATE
    assert m.health.reasons == ("go-live 2027-03-03 is 12 days past plan",)
    assert (m.on_time, m.golive_days_late) == (False, 12)


def test_going_live_after_the_plan_and_past_max_weeks_is_late_with_both_reasons():
    m = measure(engagement(golive=date(2027, 3, 3), live_on=date(2027, 3, 22)), playbook(), [], [], [],
                at(date(2027, 3, 25)), US)
    assert m.health.verdict is Verdict.LATE
    assert m.health.reasons == ("went live 2027-03-22, 19 days after the planned 2027-03-03",
                                "went live 11 weeks after the start (target: within 10)")


def test_going_live_early_is_on_time():
    m = measure(engagement(golive=date(2027, 3, 3), live_on=date(2027, 3, 1)), playbook(), [], [], [],
                at(date(2027, 3, 2)), US)
    assert (m.on_time, m.golive_days_late, m.health.verdict) == (True, -2, Verdict.ON_TRACK)


def test_without_a_go_live_date_on_time_is_unknown_until_max_weeks_have_gone():
    early = measure(engagement(golive=None), playbook(), [], [], [], at(date(2027, 2, 1)), US)
    assert (early.on_time, early.golive_days_late, early.health.verdict) == (None, None, Verdict.ON_TRACK)
    assert early.as_json()["metrics"]["golive"] == {"planned": None, "live_on": None, "on_time": None,
                                                     "days_late": None, "weeks_from_start": 4.0}
    overdue = measure(engagement(golive=None), playbook(), [], [], [], at(date(2027, 3, 22)), US)
    assert overdue.health.verdict is Verdict.LATE
    assert overdue.health.reasons == ("not live 11 weeks after the start (target: within 10)",)


def test_overdue_tasks_put_it_at_risk_naming_their_owners_and_count_against_tasks_on_time():
    tasks = [task("project-plan", date(2027, 1, 8), TaskStatus.DONE, date(2027, 1, 12)),
             task("tech-spec", date(2027, 1, 15), owner="customer:it"),
             task("data-export", date(2027, 1, 20), TaskStatus.BLOCKED, owner="customer:all"),
             task("uat-signoff", date(2027, 2, 26)), task("announce", None)]
    m = measure(engagement(), playbook(), tasks, [], [], at(date(2027, 1, 25)), US)
    assert m.health.verdict is Verdict.AT_RISK
    assert [t.key for t in m.overdue_tasks] == ["tech-spec", "data-export"]
    assert (m.tasks_on_time.met, m.tasks_on_time.total) == (0, 3)
    assert m.health.reasons == ("2 tasks overdue (customer:all, customer:it)",
                                "0% of tasks done on time (0/3), target 80%")
    overdue = m.as_json()["metrics"]["tasks"]["overdue"]
    assert [(t["key"], t["days_overdue"]) for t in overdue] == [("tech-spec", 10), ("data-export", 5)]


def test_a_task_due_today_is_not_overdue_yet():
    m = measure(engagement(), playbook(), [task("tech-spec", date(2027, 1, 25))], [], [], at(date(2027, 1, 25), 20), US)
    assert (m.overdue_tasks, m.tasks_on_time.total, m.health.verdict) == ((), 0, Verdict.ON_TRACK)


def test_a_blocked_task_with_the_go_live_two_weeks_away_is_at_risk():
    tasks = [task("uat-signoff", date(2027, 2, 26), TaskStatus.BLOCKED, owner="customer:all")]
    far = measure(engagement(), playbook(), tasks, [], [], at(date(2027, 2, 1)), US)
    assert far.health.verdict is Verdict.ON_TRACK
    near = measure(engagement(), playbook(), tasks, [], [], at(date(2027, 2, 22)), US)
    assert near.health.verdict is Verdict.AT_RISK
    assert near.health.reasons == ("go-live 2027-03-03 in 9 days with 1 task blocked",)


def test_running_past_the_planned_length_is_at_risk():
    m = measure(engagement(golive=None), playbook(length_days=10, success=SuccessTargets()), [], [], [],
                at(date(2027, 1, 25)), US)
    assert (m.business_days, m.planned_days) == (14, 10)  # MLK day, 18 January, is not a business day
    assert m.health.reasons == ("business day 14 of a planned 10",) and m.health.verdict is Verdict.AT_RISK


def test_a_go_live_planned_past_max_weeks_is_at_risk_before_it_comes():
    m = measure(engagement(golive=date(2027, 4, 5)), playbook(), [], [], [], at(date(2027, 2, 1)), US)
    assert m.health.reasons == ("go-live 2027-04-05 is planned 13 weeks after the start (target: within 10)",)


@pytest.mark.parametrize("scores, average, verdict", [([], None, Verdict.ON_TRACK), ([9], 9.0, Verdict.ON_TRACK),
                                                      ([6, 7], 6.5, Verdict.AT_RISK)])
def test_the_survey_counts_only_once_answered_and_below_min_survey_is_at_risk(scores, average, verdict):
    m = measure(engagement(live_on=date(2027, 3, 3)), playbook(), [], [], scores, at(date(2027, 3, 30)), US)
    assert (m.survey_average, m.survey_count, m.health.verdict) == (average, len(scores), verdict)
    if verdict is Verdict.AT_RISK:
        assert m.health.reasons == ("survey 6.5 below 8 (2 answers)",)


def test_a_required_meeting_cancelled_or_not_held_by_the_go_live_is_at_risk():
    cancelled = [meeting("admin-training", date(2027, 2, 1), MeetingStatus.CANCELLED, "Admin training: Acme")]
    m = measure(engagement(), playbook(), [], cancelled, [], at(date(2027, 2, 2)), US)
    assert m.health.reasons == ('required meeting "Admin training: Acme" was cancelled',)
    assert (m.meetings_held.met, m.meetings_held.total, m.meetings_cancelled) == (0, 1, 1)
    later = [meeting("admin-training", date(2027, 3, 10), title="Admin training: Acme")]
    before = measure(engagement(), playbook(), [], later, [], at(date(2027, 2, 2)), US)
    assert before.health.verdict is Verdict.ON_TRACK
    live = measure(engagement(live_on=date(2027, 3, 3)), playbook(), [], later, [], at(date(2027, 3, 4)), US)
    assert live.health.reasons == ('required meeting "Admin training: Acme" not held by the go-live',)


def test_a_meeting_counts_as_held_once_its_end_has_passed():
    meetings = [meeting("kickoff", date(2027, 1, 5))]
    during = measure(engagement(), playbook(), [], meetings, [], at(date(2027, 1, 5), 10) + timedelta(minutes=30), US)
    after = measure(engagement(), playbook(), [], meetings, [], at(date(2027, 1, 5), 11), US)
    assert (during.meetings_held.met, during.meetings_ahead) == (0, 1)
    assert (after.meetings_held.met, after.meetings_ahead) == (1, 0)


def test_a_closed_engagement_is_measured_as_of_its_close():
    closed = at(date(2027, 4, 1), 17)
    tasks = [task("usage-report", date(2027, 3, 29), TaskStatus.DONE, date(2027, 3, 29))]
    m = measure(engagement(live_on=date(2027, 3, 3), closed_at=closed), playbook(), tasks,
                [meeting("first-month-review", date(2027, 4, 20))], [9], at(date(2027, 6, 1)), US)
    assert m.as_of == closed and m.business_days == 61
    assert m.health.verdict is Verdict.ON_TRACK  # past its 60 days, but closed: it ran, it is not running late
    assert (m.meetings_held.met, m.meetings_ahead) == (0, 1)


def test_without_a_playbook_there_are_no_targets_and_no_planned_length():
    m = measure(engagement(golive=date(2027, 3, 3)), None, [], [], [3], at(date(2027, 2, 1)), US)
    assert (m.planned_days, m.targets, m.health.verdict) == (None, SuccessTargets(), Verdict.ON_TRACK)


def test_as_json_carries_the_metrics_and_the_health():
    data = measure(engagement(), playbook(), [], [], [], at(date(2027, 3, 15)), US).as_json()
    assert set(data) == {"metrics", "health"}
    assert data["health"] == {"verdict": "late", "label": "late", "reasons": ["go-live 2027-03-03 is 12 days past plan"]}
    assert data["metrics"]["length"] == {"business_days": 48, "planned_days": 60}
    assert data["metrics"]["targets"]["max_weeks"] == 10


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        measure(engagement(), playbook(), [], [], [], datetime(2027, 3, 1), US)


def test_tasks_missed_only_by_being_overdue_are_said_once_as_overdue():
    m = measure(engagement(), playbook(), [task("tech-spec", date(2027, 1, 15), owner="customer:it")], [], [],
                at(date(2027, 1, 25)), US)
    assert m.tasks_on_time.percent == 0 and m.health.reasons == ("1 task overdue (customer:it)",)
