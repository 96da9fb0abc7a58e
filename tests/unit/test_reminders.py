"""When people hear about their tasks (pure): a reminder's days count business days of the
engagement's calendar, an overdue task is one whose day has passed, history gets nothing, the
check-point waits for the customer's first business day; and which answers say "done"."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from support.configs import minimal

from ticketing.config import CalendarConfig, config_from_dict
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.reminders import (
    checkpoint_due,
    first_business_day,
    is_overdue,
    needs_reminder,
    reminder_day,
)
from ticketing.core.task_answers import says_done
from ticketing.core.tasks import Task, TaskStatus
from ticketing.errors import ConfigError

US = BusinessCalendar.from_config(CalendarConfig(name="us", timezone="America/New_York", holidays="US"))
BEGAN = date(2026, 11, 2)


def task(due: date | None, status: TaskStatus = TaskStatus.OPEN) -> Task:
    return Task(1, 1, "staging", "Staging live", "customer:it", due, status, True)


def test_the_reminder_day_counts_business_days_back_over_a_holiday_and_a_weekend():
    # Monday 30 November 2026: two business days before is Wednesday 25 (Thanksgiving and the weekend skipped)
    assert reminder_day(date(2026, 11, 30), 2, US) == date(2026, 11, 25)
    assert reminder_day(date(2026, 12, 3), 2, US) == date(2026, 12, 1)


def test_a_task_is_reminded_from_its_reminder_day_to_its_due_day_and_not_after():
    due = date(2026, 11, 30)
    assert not needs_reminder(task(due), date(2026, 11, 24), 2, US, BEGAN)
    assert needs_reminder(task(due), date(2026, 11, 25), 2, US, BEGAN)
    assert needs_reminder(task(due), date(2026, 11, 28), 2, US, BEGAN)  # the weekend between: still in the window
    assert needs_reminder(task(due), due, 2, US, BEGAN)
    assert not needs_reminder(task(due), date(2026, 12, 1), 2, US, BEGAN)  # overdue now, not reminded


@pytest.mark.parametrize("why, reminded", [
    ("done", task(date(2026, 11, 30), TaskStatus.DONE)),
    ("waiting for its date", task(None)),
    ("history: due before the engagement began", task(date(2026, 10, 30))),
])
def test_no_reminder_for_a_done_task_an_undated_one_or_history(why, reminded):
    assert not needs_reminder(reminded, date(2026, 10, 29), 2, US, BEGAN), why
    assert not needs_reminder(reminded, date(2026, 11, 27), 2, US, BEGAN), why


def test_no_reminder_on_the_day_the_engagement_began_the_welcome_lists_every_task():
    due = date(2026, 11, 3)
    assert not needs_reminder(task(due), BEGAN, 2, US, BEGAN)
    assert needs_reminder(task(due), date(2026, 11, 3), 2, US, BEGAN)


def test_reminders_are_off_with_zero_days_and_a_blocked_task_is_reminded():
    assert not needs_reminder(task(date(2026, 11, 30)), date(2026, 11, 30), 0, US, BEGAN)
    assert needs_reminder(task(date(2026, 11, 30), TaskStatus.BLOCKED), date(2026, 11, 30), 2, US, BEGAN)


def test_a_task_is_overdue_from_the_day_after_it_unless_done_or_history():
    due = date(2026, 11, 30)
    assert not is_overdue(task(due), due, BEGAN)
    assert is_overdue(task(due), date(2026, 12, 1), BEGAN)
    assert is_overdue(task(due, TaskStatus.BLOCKED), date(2026, 12, 1), BEGAN)
    assert not is_overdue(task(due, TaskStatus.DONE), date(2026, 12, 1), BEGAN)
    assert not is_overdue(task(date(2026, 10, 30)), date(2026, 12, 1), BEGAN)
    assert not is_overdue(task(None), date(2026, 12, 1), BEGAN)


def test_the_first_business_day_of_a_week_skips_a_monday_holiday():
    assert first_business_day(date(2026, 12, 2), US) == date(2026, 11, 30)
    assert first_business_day(date(2027, 1, 20), US) == date(2027, 1, 19)  # Martin Luther King Day on the Monday


def test_the_check_point_goes_in_business_hours_on_the_first_business_day_not_in_the_first_week():
    monday_10am = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
    assert checkpoint_due(monday_10am, US, BEGAN)
    assert not checkpoint_due(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc), US, BEGAN)  # 07:00: before hours
    assert not checkpoint_due(datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc), US, BEGAN)  # Tuesday
    assert not checkpoint_due(monday_10am, US, date(2026, 11, 30))  # the week it began
    tuesday_after_mlk = datetime(2027, 1, 19, 15, 0, tzinfo=timezone.utc)
    assert checkpoint_due(tuesday_after_mlk, US, BEGAN)


@pytest.mark.parametrize("text", [
    "done", "Done.", "DONE!", "it's done", "It\u2019s done, thanks", "It is done.", "completed", "Completed - see the link",
    "finished", "All done :)", "Yes, done.", "We're done", "done\n\nMarcus", "\n\n  Done, thanks!",
    "Hi, done",
])
def test_a_reply_that_reports_the_task_done_says_done(text):
    assert says_done(text)


@pytest.mark.parametrize("text", [
    "not done yet", "Not done yet, sorry", "almost done", "is it done?", "Done?", "done by Friday",
    "finished next week", "We will be done tomorrow", "completely stuck on the VPN", "", "Thanks!",
    "Can you help? It is not finished", "I have not finished", "done soon",
])
def test_a_reply_that_does_not_report_it_done_does_not(text):
    assert not says_done(text)


def test_task_reminder_days_defaults_to_two_and_a_negative_value_is_refused_naming_the_key():
    assert config_from_dict(minimal()).onboarding.task_reminder_days == 2
    assert config_from_dict(minimal(onboarding={"task_reminder_days": 0})).onboarding.task_reminder_days == 0
    with pytest.raises(ConfigError) as refused:
        config_from_dict(minimal(onboarding={"task_reminder_days": -1}))
    assert [p.key for p in refused.value.problems] == ["onboarding.task_reminder_days"]
