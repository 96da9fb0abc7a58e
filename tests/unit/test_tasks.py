"""Planning a playbook's tasks (pure): due dates on the business calendar, go-live anchored tasks
waiting for the date, meetings and tasks as anchors, and dependencies never due after their dependants."""
from __future__ import annotations

from datetime import date

import pytest

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.tasks import WAITING_FOR_GOLIVE, TaskSpec, plan_tasks

US = BusinessCalendar.from_config(CalendarConfig(name="us", timezone="America/New_York", holidays="US"))
START = date(2026, 11, 23)  # a Monday; Thursday 26 November 2026 is Thanksgiving


def task(key: str, anchor: str = "start", offset: int = 0, **kw) -> TaskSpec:
    return TaskSpec(key=key, name=key.title(), owner="engineer", anchor=anchor, offset_days=offset, **kw)


def dues(specs, golive=None, meetings=None) -> dict[str, date | None]:
    return {p.key: p.due for p in plan_tasks(specs, START, golive, meetings or {}, US)}


def test_due_dates_count_business_days_and_skip_the_holiday_and_the_weekend():
    planned = dues([task("same-day"), task("three-days", offset=3), task("five-days", offset=5)])
    assert planned == {"same-day": START, "three-days": date(2026, 11, 27),  # Tue, Wed, (Thanksgiving), Fri
                       "five-days": date(2026, 12, 1)}


def test_a_negative_offset_is_business_days_before_the_anchor():
    meetings = {"kick-off": date(2026, 11, 27)}  # the Friday after Thanksgiving
    assert dues([task("tools", "meeting:kick-off", -1), task("governance", "meeting:kick-off", -2)], meetings=meetings) == {
        "tools": date(2026, 11, 25), "governance": date(2026, 11, 24)}


def test_a_task_anchored_on_the_go_live_waits_for_the_date_then_follows_it():
    specs = [task("uat-signoff", "golive", -3), task("announce", "task:uat-signoff", 1)]
    waiting = plan_tasks(specs, START, None, {}, US)
    assert [(p.due, p.reason) for p in waiting][0] == (None, WAITING_FOR_GOLIVE)
    assert waiting[1].due is None and WAITING_FOR_GOLIVE in waiting[1].reason
    assert dues(specs, golive=date(2026, 12, 15)) == {"uat-signoff": date(2026, 12, 10), "announce": date(2026, 12, 11)}
    assert dues(specs, golive=date(2026, 12, 22)) == {"uat-signoff": date(2026, 12, 17), "announce": date(2026, 12, 18)}


def test_a_task_anchored_on_a_meeting_waits_until_the_meeting_is_placed():
    [planned] = plan_tasks([task("notes", "meeting:kick-off", 1)], START, None, {}, US)
    assert planned.due is None and "kick-off" in planned.reason
    assert dues([task("notes", "meeting:kick-off", 1)], meetings={"kick-off": date(2026, 12, 4)}) == {
        "notes": date(2026, 12, 7)}


def test_a_task_due_before_a_task_it_depends_on_moves_to_that_date_and_says_why():
    specs = [task("kick-off", offset=1, depends_on=("access",)), task("access", offset=4)]
    kick_off, access = plan_tasks(specs, START, None, {}, US)
    assert access.due == date(2026, 11, 30) and access.reason == ""
    assert kick_off.due == access.due and "depends on 'access'" in kick_off.reason and "2026-11-24" in kick_off.reason


def test_a_task_due_after_its_dependencies_keeps_its_date_and_one_whose_dependency_waits_says_so():
    specs = [task("plan", offset=2), task("spec", offset=5, depends_on=("plan",)),
             task("wrap-up", offset=10, depends_on=("go-live-check",)), task("go-live-check", "golive", -1)]
    planned = {p.key: p for p in plan_tasks(specs, START, None, {}, US)}
    assert (planned["spec"].due, planned["spec"].reason) == (date(2026, 12, 1), "")
    assert planned["wrap-up"].due == date(2026, 12, 8) and "go-live-check" in planned["wrap-up"].reason


def test_tasks_in_a_cycle_are_refused():
    with pytest.raises(ValueError, match="never resolve"):
        plan_tasks([task("a", "task:b"), task("b", depends_on=("a",))], START, None, {}, US)
