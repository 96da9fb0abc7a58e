"""An engagement's tasks: what a playbook says must be done, by whom and by when (pure).

A playbook's ``[[tasks]]`` become :class:`TaskSpec` values (read and checked by
:mod:`ticketing.files.playbook_tasks`). A task is due a number of business days after (negative:
before) its anchor, as a meeting's window counts:

- ``start``: the engagement's start (day 0 is the start itself);
- ``golive``: the go-live date; until it is known the task waits;
- ``meeting:KEY``: the local date of that meeting's first occurrence; until it is placed the task waits;
- ``task:KEY``: that task's due date.

Its owner is a role as meetings' attendees are: ``engineer``, ``project_manager``, ``sales_rep``,
``customer:all`` or ``customer:<contact role>``. ``depends_on`` lists the tasks that must be done
first: :func:`plan_tasks` never lets a task fall due before one it depends on, and says so when it
moves one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from ticketing.core.calendars import BusinessCalendar

#: The internal roles that can own a task; besides them, ``customer:all`` and ``customer:<role>``.
OWNER_ROLES = ("engineer", "project_manager", "sales_rep")
TASK_ANCHORS = ("start", "golive")
WAITING_FOR_GOLIVE = "waiting for the go-live date"


@dataclass(frozen=True)
class TaskSpec:
    key: str
    name: str
    owner: str  # a canonical role
    anchor: str  # "start", "golive", "meeting:KEY" or "task:KEY"
    offset_days: int  # business days after (negative: before) the anchor's day
    phase: str | None = None
    depends_on: tuple[str, ...] = ()
    #: Listed in the customer's mail (the welcome); otherwise ours alone.
    customer_visible: bool = False

    @property
    def anchor_task(self) -> str | None:
        """The key of the task this one is anchored on, or None."""
        return self.anchor.removeprefix("task:") if self.anchor.startswith("task:") else None

    @property
    def anchor_meeting(self) -> str | None:
        """The key of the meeting this one is anchored on, or None."""
        return self.anchor.removeprefix("meeting:") if self.anchor.startswith("meeting:") else None

    @property
    def follows(self) -> tuple[str, ...]:
        """The tasks whose due dates this one's needs: its anchor task, then those it depends on."""
        return tuple(dict.fromkeys(filter(None, (self.anchor_task, *self.depends_on))))

    @property
    def for_customer(self) -> bool:
        """Whether a customer role owns it."""
        return self.owner.startswith("customer:")


@dataclass(frozen=True)
class PlannedTask:
    """A task's due date, or None while it waits; ``reason`` says why it waits or why it moved."""

    key: str
    due: date | None
    reason: str = ""


class TaskStatus(str, Enum):
    OPEN = "open"
    DONE = "done"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Task:
    """One task of an engagement as stored: its playbook's spec planned, and how far it got."""

    id: int
    engagement_id: int
    key: str
    name: str
    owner: str  # a canonical role
    due: date | None  # None while it waits (``note`` says for what)
    status: TaskStatus
    customer_visible: bool
    note: str = ""
    done_at: datetime | None = None


def task_order(specs: tuple[TaskSpec, ...] | list[TaskSpec]) -> list[TaskSpec]:
    """The tasks, each after its anchor task and those it depends on, otherwise in file order.

    Raises ValueError when they never resolve: a cycle, or an unknown task (never for a loaded playbook).
    """
    done: set[str] = set()
    ordered: list[TaskSpec] = []
    pending = list(specs)
    while pending:
        ready = next((s for s in pending if all(k in done for k in s.follows)), None)
        if ready is None:
            raise ValueError(f"the anchors and dependencies of tasks {', '.join(s.key for s in pending)} never resolve")
        pending.remove(ready)
        done.add(ready.key)
        ordered.append(ready)
    return ordered


def plan_tasks(specs: tuple[TaskSpec, ...] | list[TaskSpec], start: date, golive: date | None,
               meetings: dict[str, date], calendar: BusinessCalendar) -> list[PlannedTask]:
    """Each task's due date on ``calendar``'s business days, in the order of ``specs``.

    ``meetings`` holds the local date of each placed meeting's first occurrence by key; a task
    anchored on a meeting not in it, or on the go-live while ``golive`` is None, waits (due None,
    the reason says for what), and so does a task anchored on a waiting task. A task due before a
    task it depends on is moved to that task's due date, the reason naming it; a task whose
    dependency waits keeps its own date and says so. Raises ValueError as :func:`task_order`.
    """
    planned: dict[str, PlannedTask] = {}
    for spec in task_order(specs):
        anchor_day, reason = _anchor_day(spec, start, golive, meetings, planned)
        if anchor_day is None:
            planned[spec.key] = PlannedTask(spec.key, None, reason)
            continue
        due = calendar.add_days(anchor_day, spec.offset_days)
        notes = []
        for key in spec.depends_on:
            before = planned[key]
            if before.due is None:
                notes.append(f"its dependency '{key}' is {before.reason}")
            elif before.due > due:
                notes.append(f"moved from {due.isoformat()}: it depends on '{key}', due {before.due.isoformat()}")
                due = before.due
        planned[spec.key] = PlannedTask(spec.key, due, "; ".join(notes))
    return [planned[spec.key] for spec in specs]


def _anchor_day(spec: TaskSpec, start: date, golive: date | None, meetings: dict[str, date],
                planned: dict[str, PlannedTask]) -> tuple[date | None, str]:
    if spec.anchor == "start":
        return start, ""
    if spec.anchor == "golive":
        return golive, "" if golive else WAITING_FOR_GOLIVE
    if spec.anchor_meeting is not None:
        day = meetings.get(spec.anchor_meeting)
        return day, "" if day else f"waiting for the meeting '{spec.anchor_meeting}' to be placed"
    other = planned[spec.anchor_task]
    return other.due, "" if other.due else f"waiting for the task '{other.key}' ({other.reason})"
