"""When an engagement's people hear about its tasks (pure): a task's owners are reminded before it
is due, its engineer is told once it is overdue, and the customer gets a weekly check-point.

Every decision is a function of the task, today's local date and the business calendars: the
reminder is due ``days`` business days (on the engagement's calendar) before the task, until its
day; a task is overdue from the day after it; a check-point goes on the customer's first business
day of the week. A task due before the engagement began is history: nobody is reminded of it or
told it is late. Whether the mail went already is not decided here: the services make a mail's
Message-ID from its cause (the task and its due date, the engagement and the ISO week), so it goes
once however often they ask.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.tasks import Task, TaskStatus


def reminder_day(due: date, days: int, calendar: BusinessCalendar) -> date:
    """The first day a task due on ``due`` is reminded: ``days`` business days before it."""
    return calendar.add_days(due, -days) if days > 0 else due


def needs_reminder(task: Task, today: date, days: int, calendar: BusinessCalendar, began: date) -> bool:
    """Whether ``task``'s owners are to be reminded on ``today``: it is not done, it has a due date
    on or after ``began`` (not history), reminders are on (``days`` > 0), ``today`` is between its
    reminder day and its due date (after that it is overdue, not reminded), and it is not the day
    the engagement began (the welcome and the hand-off have just listed every task)."""
    if days <= 0 or task.status is TaskStatus.DONE or task.due is None or task.due < began or today <= began:
        return False
    return reminder_day(task.due, days, calendar) <= today <= task.due


def is_overdue(task: Task, today: date, began: date) -> bool:
    """Whether ``task`` is overdue on ``today``: not done, due before today, and not history."""
    return task.status is not TaskStatus.DONE and task.due is not None and began <= task.due < today


def first_business_day(week_of: date, calendar: BusinessCalendar) -> date | None:
    """The first working day of the ISO week (Monday to Sunday) holding ``week_of``, or None when
    that week has none."""
    monday = week_of - timedelta(days=week_of.weekday())
    first = calendar.working_day_on_or_after(monday)
    return first if first < monday + timedelta(days=7) else None


def checkpoint_due(now: datetime, calendar: BusinessCalendar, began: date) -> bool:
    """Whether the weekly check-point may go at ``now``: in the customer's business hours on their
    first business day of the week, and not in the week the engagement began (the welcome said it
    all)."""
    today = now.astimezone(calendar.tz).date()
    if today - timedelta(days=today.weekday()) <= began:
        return False
    return first_business_day(today, calendar) == today and calendar.is_open(now)


def due_label(day: date) -> str:
    """A due date as mail shows it: "Fri 18 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def reminder_token(kind: str, first_task: int, due: date, recipient_slug: str) -> str:
    """The token of a reminder (``kind`` "task-reminder") or an overdue notice ("task-overdue"):
    its first task (the smallest id it lists), that task's due date and its recipient. A task is
    listed once per due date and recipient, so no two mails share it."""
    return f"{kind}.{first_task}.{due:%Y%m%d}.{recipient_slug}"
