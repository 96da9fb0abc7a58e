"""An engagement's success metrics and health (pure): how it is doing against its playbook.

:func:`measure` takes an engagement, its playbook, its tasks, its meetings, its survey scores, the
engineer's business calendar and ``now``, and returns one :class:`EngagementMetrics`;
``as_json()`` gives ``{"metrics": {...}, "health": {...}}``. Nothing here reads a clock or a store.

A closed engagement is measured as of its close (``closed_at``), so its figures stop moving then;
an active one as of ``now``. "Today" is that moment's date on the calendar (the engineer's zone).

The figures:

- *go-live*: the planned date (``golive_date``) against the day it went live (``live_on``): days
  late (negative: early); not live yet and the planned day gone: late by the days since. The weeks
  from the start to the go-live (or to today, while not live) against ``[success] max_weeks``.
- *length*: business days from the start to today against the playbook's ``length_days``.
- *tasks on time*: of the tasks with a due date that are done or whose due date has gone, those
  done on or before it. *Overdue*: not done, due before today (blocked ones too). *Blocked*: blocked.
- *meetings held*: of all the engagement's meetings (each occurrence), those planned whose end has
  passed; the others are ahead, cancelled or not placed. ``required_meetings`` (the white-glove
  trainings) are held when one of their occurrences is.
- *survey*: the average of the customers' scores (0-10) and how many answered.

The verdict (:class:`Verdict`), with every reason in words:

- **late**: the go-live is past its plan: it happened after the planned day, or the planned day
  has gone without it; or it came (or has not come) more than ``max_weeks`` after the start.
- **at risk**: nothing late, but a task is overdue; the go-live is within
  :data:`GOLIVE_NEAR_DAYS` days with a task blocked; the go-live is planned more than ``max_weeks``
  after the start; the engagement has run past ``length_days`` (an active one); fewer tasks done on
  time than ``tasks_on_time_percent`` with one done late (misses that are only overdue tasks are
  said once, as overdue); a survey average below ``min_survey``; or a required meeting
  cancelled, not placed, or not held by the go-live.
- **on track**: none of these.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Sequence

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, Meeting, MeetingStatus
from ticketing.core.playbooks import Playbook
from ticketing.core.report import Ratio
from ticketing.core.success import SuccessTargets
from ticketing.core.tasks import Task, TaskStatus

__all__ = ["EngagementMetrics", "Health", "SuccessTargets", "Verdict", "done_on_time", "held", "measure", "started_on"]

#: A go-live this many days ahead (or fewer) with a task blocked puts the engagement at risk.
GOLIVE_NEAR_DAYS = 14


class Verdict(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"

    @property
    def label(self) -> str:
        """In words: "on track", "at risk", "late"."""
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Health:
    verdict: Verdict
    reasons: tuple[str, ...] = ()  # the late ones first; empty when on track

    def __str__(self) -> str:
        return self.verdict.label + (": " + "; ".join(self.reasons) if self.reasons else "")

    def as_json(self) -> dict:
        return {"verdict": self.verdict.value, "label": self.verdict.label, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class EngagementMetrics:
    """What :func:`measure` found; dates are local dates on the engineer's calendar."""

    engagement_id: int
    as_of: datetime  # now, or the close of a closed engagement
    today: date  # as_of's date on the calendar: the day every figure is counted to
    started_on: date
    planned_golive: date | None
    live_on: date | None
    golive_days_late: int | None  # after the plan (negative: before); None while not due or not planned
    weeks_to_golive: float | None  # from the start to live_on, or to today while not live
    business_days: int  # from the start to today
    planned_days: int | None  # the playbook's length_days
    tasks_on_time: Ratio
    overdue_tasks: tuple[Task, ...]  # most overdue first
    blocked_tasks: tuple[Task, ...]
    meetings_held: Ratio
    meetings_ahead: int
    meetings_cancelled: int
    required_meetings_held: Ratio
    survey_average: float | None  # rounded to one decimal
    survey_count: int
    targets: SuccessTargets
    health: Health

    @property
    def on_time(self) -> bool | None:
        """Whether the go-live kept to its plan: None until it is known (no date, or not due yet)."""
        return None if self.golive_days_late is None else self.golive_days_late <= 0

    def as_json(self) -> dict:
        """``{"metrics": {...}, "health": {...}}`` for ``whiteglove engagement ID --json`` and the mails."""
        def ratio(r: Ratio) -> dict:
            return {"done": r.met, "total": r.total, "percent": r.percent}
        return {
            "metrics": {
                "as_of": self.as_of.isoformat(), "started_on": self.started_on.isoformat(),
                "golive": {"planned": _iso(self.planned_golive), "live_on": _iso(self.live_on),
                           "on_time": self.on_time, "days_late": self.golive_days_late,
                           "weeks_from_start": self.weeks_to_golive},
                "length": {"business_days": self.business_days, "planned_days": self.planned_days},
                "tasks": {"on_time": ratio(self.tasks_on_time),
                          "overdue": [_task_json(t, self.today) for t in self.overdue_tasks],
                          "blocked": [_task_json(t, self.today) for t in self.blocked_tasks]},
                "meetings": {"held": ratio(self.meetings_held), "ahead": self.meetings_ahead,
                             "cancelled": self.meetings_cancelled,
                             "required_held": ratio(self.required_meetings_held)},
                "survey": {"average": self.survey_average, "count": self.survey_count},
                "targets": self.targets.as_json(),
            },
            "health": self.health.as_json(),
        }


def started_on(engagement: Engagement, calendar: BusinessCalendar) -> date:
    """The engagement's first day: the day it was created on the calendar (not before the contract's close)."""
    created = engagement.created_at.astimezone(calendar.tz).date()
    return max(engagement.close_date or created, created)


def measure(engagement: Engagement, playbook: Playbook | None, tasks: Sequence[Task], meetings: Sequence[Meeting],
            survey_scores: Sequence[int], now: datetime, calendar: BusinessCalendar) -> EngagementMetrics:
    """The engagement's metrics and health as of ``now`` (aware), or as of its close when it is closed.

    ``calendar`` is the engineer's business calendar: local dates and business days are its.
    ``survey_scores`` are the customers' answers (0-10). Raises ValueError for a naive ``now``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    as_of = min(now, engagement.closed_at) if engagement.closed_at else now
    today = as_of.astimezone(calendar.tz).date()
    start = started_on(engagement, calendar)
    targets = playbook.success if playbook is not None else SuccessTargets()
    planned, live = engagement.golive_date, engagement.live_on
    if live is not None:
        days_late = (live - planned).days if planned else None
    else:
        days_late = (today - planned).days if planned and today > planned else None
    weeks = round(((live or today) - start).days / 7, 1)
    local = calendar.tz
    dated = [t for t in tasks if t.due is not None and (t.status is TaskStatus.DONE or t.due < today)]
    on_time = [t for t in dated if done_on_time(t, local)]
    overdue = sorted((t for t in tasks if t.status is not TaskStatus.DONE and t.due is not None and t.due < today),
                     key=lambda t: (t.due, t.id))
    blocked = tuple(t for t in tasks if t.status is TaskStatus.BLOCKED)
    were_held = [m for m in meetings if held(m, as_of)]
    required = [key for key in targets.required_meetings if any(m.key == key for m in meetings)]
    scores = list(survey_scores)
    metrics = EngagementMetrics(
        engagement_id=engagement.id, as_of=as_of, today=today, started_on=start, planned_golive=planned, live_on=live,
        golive_days_late=days_late, weeks_to_golive=weeks if (live or engagement.active) else None,
        business_days=max(0, calendar.working_days_between(start, today)),
        planned_days=playbook.length_days if playbook is not None else None,
        tasks_on_time=Ratio(len(on_time), len(dated)), overdue_tasks=tuple(overdue), blocked_tasks=blocked,
        meetings_held=Ratio(len(were_held), len(meetings)),
        meetings_ahead=sum(1 for m in meetings if m.status is MeetingStatus.PLANNED and not held(m, as_of)),
        meetings_cancelled=sum(1 for m in meetings if m.status is MeetingStatus.CANCELLED),
        required_meetings_held=Ratio(sum(1 for key in required if any(m.key == key for m in were_held)), len(required)),
        survey_average=round(sum(scores) / len(scores), 1) if scores else None, survey_count=len(scores),
        targets=targets, health=Health(Verdict.ON_TRACK),  # judged below, from these figures
    )
    late = _late_reasons(metrics)
    risks = _risk_reasons(metrics, engagement, meetings, required)
    verdict = Verdict.LATE if late else Verdict.AT_RISK if risks else Verdict.ON_TRACK
    return replace(metrics, health=Health(verdict, tuple(late + risks)))


def _late_reasons(m: EngagementMetrics) -> list[str]:
    reasons = []
    if m.golive_days_late is not None and m.golive_days_late > 0:
        if m.live_on is not None:
            reasons.append(f"went live {m.live_on.isoformat()}, {_days(m.golive_days_late)} after the planned "
                           f"{m.planned_golive.isoformat()}")
        else:
            reasons.append(f"go-live {m.planned_golive.isoformat()} is {_days(m.golive_days_late)} past plan")
    weeks = m.targets.max_weeks
    if weeks is not None and m.weeks_to_golive is not None and m.weeks_to_golive > weeks:
        if m.live_on is not None:
            reasons.append(f"went live {_weeks(m.weeks_to_golive)} after the start (target: within {weeks})")
        else:
            reasons.append(f"not live {_weeks(m.weeks_to_golive)} after the start (target: within {weeks})")
    return reasons


def _risk_reasons(m: EngagementMetrics, engagement: Engagement, meetings: Sequence[Meeting],
                  required: list[str]) -> list[str]:
    reasons = []
    t = m.targets
    if m.overdue_tasks:
        owners = sorted({task.owner for task in m.overdue_tasks})
        reasons.append(f"{_count(len(m.overdue_tasks), 'task')} overdue ({', '.join(owners)})")
    ahead = (m.planned_golive - m.today).days if m.planned_golive and m.live_on is None else None
    if m.blocked_tasks and ahead is not None and 0 <= ahead <= GOLIVE_NEAR_DAYS:
        reasons.append(f"go-live {m.planned_golive.isoformat()} in {_days(ahead)} with "
                       f"{_count(len(m.blocked_tasks), 'task')} blocked")
    if (t.max_weeks is not None and m.live_on is None and m.planned_golive is not None
            and (m.planned_golive - m.started_on).days > 7 * t.max_weeks):
        reasons.append(f"go-live {m.planned_golive.isoformat()} is planned "
                       f"{_weeks((m.planned_golive - m.started_on).days / 7)} after the start (target: within {t.max_weeks})")
    if engagement.active and m.planned_days is not None and m.business_days > m.planned_days:
        reasons.append(f"business day {m.business_days} of a planned {m.planned_days}")
    percent = m.tasks_on_time.percent
    done_late = m.tasks_on_time.total - m.tasks_on_time.met - len(m.overdue_tasks)  # overdue ones are said above
    if t.tasks_on_time_percent is not None and percent is not None and percent < t.tasks_on_time_percent and done_late:
        reasons.append(f"{percent}% of tasks done on time ({m.tasks_on_time.met}/{m.tasks_on_time.total}), "
                       f"target {t.tasks_on_time_percent}%")
    if t.min_survey is not None and m.survey_average is not None and m.survey_average < t.min_survey:
        reasons.append(f"survey {m.survey_average:g} below {t.min_survey:g} ({_count(m.survey_count, 'answer')})")
    golive_gone = m.live_on is not None or (m.planned_golive is not None and m.planned_golive <= m.today)
    for key in required:
        occurrences = [x for x in meetings if x.key == key]
        title = occurrences[0].title
        if any(held(x, m.as_of) for x in occurrences):
            continue
        if all(x.status is MeetingStatus.CANCELLED for x in occurrences):
            reasons.append(f"required meeting \"{title}\" was cancelled")
        elif all(x.status is not MeetingStatus.PLANNED for x in occurrences):
            reasons.append(f"required meeting \"{title}\" is not placed")
        elif golive_gone:
            reasons.append(f"required meeting \"{title}\" not held by the go-live")
    return reasons


def held(meeting: Meeting, as_of: datetime) -> bool:
    """Whether ``meeting`` was held by ``as_of``: planned, and its end has passed."""
    return meeting.status is MeetingStatus.PLANNED and meeting.end is not None and meeting.end <= as_of


def done_on_time(task: Task, tz: tzinfo) -> bool:
    """Whether ``task`` is done on or before its due day (in ``tz``); one done with no time counts on time."""
    return task.status is TaskStatus.DONE and (task.done_at is None or task.due is None
                                              or task.done_at.astimezone(tz).date() <= task.due)


def _task_json(task: Task, today: date) -> dict:
    return {"key": task.key, "name": task.name, "owner": task.owner, "status": task.status.value,
            "due": _iso(task.due), "days_overdue": (today - task.due).days if task.due and task.due < today else 0,
            "note": task.note}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _days(n: int) -> str:
    return _count(n, "day")


def _weeks(value: float) -> str:
    return f"{value:g} week{'' if value == 1 else 's'}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
