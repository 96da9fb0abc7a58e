"""The names behind a closed engagement's figures, for its summaries (pure).

Every figure (the go-live against its plan, the length, meetings held, tasks on time and overdue,
the survey's average) and the health verdict with its reasons are the engagement's metrics
(:mod:`ticketing.core.metrics`), measured as of its close: the same ones ``whiteglove engagement ID``
and the weekly portfolio show. :func:`summarize` adds only what the metrics do not hold: which
meetings were held, not held and cancelled (held as the metrics count it: planned, its end past),
which tasks were done, done late and not done, the account's tickets of the engagement's time with
how their SLA clocks ended, the survey's answers with their comments, and the planned end (the
start plus the playbook's ``length_days`` business days). :func:`summary_context` and
:func:`customer_context` put them in words for the two mails.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, Meeting, MeetingStatus, Ticket
from ticketing.core.metrics import EngagementMetrics, done_on_time, held
from ticketing.core.tasks import Task, TaskStatus
from ticketing.core.words import moment_label


@dataclass(frozen=True)
class Answer:
    email: str
    score: int
    comment: str


@dataclass(frozen=True)
class EngagementSummary:
    engagement: Engagement
    metrics: EngagementMetrics  # the figures and the health, as of the close
    planned_end: date | None  # the start + length_days business days
    held: tuple[Meeting, ...]
    not_held: tuple[Meeting, ...]  # ahead of the close, or never placed
    cancelled: tuple[Meeting, ...]
    done: tuple[Task, ...]
    late: tuple[Task, ...]  # done after their due date
    open: tuple[Task, ...]  # not done (open or blocked)
    tickets: tuple[Ticket, ...]
    answers: tuple[Answer, ...]

    @property
    def closed_on(self) -> date | None:
        return self.metrics.today if self.engagement.closed_at else None

    @property
    def sla_breaches(self) -> int:
        return sum(1 for t in self.tickets if "breached" in (t.first_response_state, t.resolution_state))


def summarize(engagement: Engagement, metrics: EngagementMetrics, meetings: Sequence[Meeting], tasks: Sequence[Task],
              tickets: Sequence[Ticket], answers: Sequence[Answer], calendar: BusinessCalendar) -> EngagementSummary:
    """The names behind ``metrics`` (see the module docstring); ``calendar`` is the one they were measured on."""
    as_of = metrics.as_of
    planned_end = calendar.add_days(metrics.started_on, metrics.planned_days) if metrics.planned_days else None
    ordered = sorted(meetings, key=lambda m: (m.start is None, m.start or as_of, m.id))
    were_held = tuple(m for m in ordered if held(m, as_of))
    cancelled = tuple(m for m in ordered if m.status is MeetingStatus.CANCELLED)
    done = tuple(t for t in tasks if t.status is TaskStatus.DONE)
    return EngagementSummary(
        engagement=engagement, metrics=metrics, planned_end=planned_end, held=were_held,
        not_held=tuple(m for m in ordered if m not in were_held and m not in cancelled), cancelled=cancelled,
        done=done, late=tuple(t for t in done if not done_on_time(t, calendar.tz)),
        open=tuple(t for t in tasks if t.status is not TaskStatus.DONE),
        tickets=tuple(sorted(tickets, key=lambda t: t.id)), answers=tuple(answers),
    )


def day_label(day: date | None) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}" if day else "not known"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if abs(n) == 1 else 's'}"


def _golive(m: EngagementMetrics) -> str:
    """The go-live against its plan, in the metrics' days."""
    if m.live_on is None:
        return "no go-live recorded"
    if m.golive_days_late is None:
        return "went live " + day_label(m.live_on)
    if m.golive_days_late == 0:
        return "on the planned day"
    return f"{_count(abs(m.golive_days_late), 'day')} {'late' if m.golive_days_late > 0 else 'early'}"


def _length(s: EngagementSummary) -> str:
    m = s.metrics
    if s.closed_on is None or not m.planned_days:
        return "not known"
    over = m.business_days - m.planned_days
    return f"{_count(m.business_days, 'business day')} of {m.planned_days} planned" + (
        f" ({over} over)" if over > 0 else " (within plan)")


def summary_context(s: EngagementSummary, playbook_title: str, engineer_name: str, tz: ZoneInfo) -> dict:
    """The internal summary's values, times in ``tz`` (the engineer's)."""
    e, m = s.engagement, s.metrics
    target = m.targets.tasks_on_time_percent
    return dict(
        account=e.account, engagement_id=e.id, playbook_title=playbook_title, engineer_name=engineer_name,
        verdict=m.health.verdict.label, reasons=list(m.health.reasons),
        dates=[
            ("Started", day_label(m.started_on)),
            ("Planned end", day_label(s.planned_end)),
            ("Closed", day_label(s.closed_on)),
            ("Length", _length(s)),
            ("Go-live planned", day_label(m.planned_golive)),
            ("Went live", f"{day_label(m.live_on)} ({_golive(m)})" if m.live_on else _golive(m)),
        ],
        meetings={"held": m.meetings_held.met, "total": m.meetings_held.total, "cancelled": m.meetings_cancelled,
                  "held_lines": [f"{x.title}: {moment_label(x.start, tz)}" for x in s.held],
                  "not_held": [f"{x.title}" + (f": {x.note}" if x.note else "") for x in s.not_held],
                  "cancelled_lines": [f"{x.title}" + (f": {x.note}" if x.note else "") for x in s.cancelled]},
        tasks={"on_time": str(m.tasks_on_time), "target": f"{target}%" if target is not None else None,
               "overdue": len(m.overdue_tasks), "blocked": len(m.blocked_tasks),
               "late": [f"{t.name}: due {day_label(t.due)}, done {day_label(t.done_at.astimezone(tz).date())}"
                        for t in s.late if t.done_at is not None],
               "open": [f"{t.name} ({t.status.value}{', due ' + day_label(t.due) if t.due else ''})"
                        + (f": {t.note}" if t.note else "") for t in s.open]},
        tickets=[{"tag": f"[WG-{t.id}]", "subject": t.subject, "priority": t.priority, "status": t.status.value,
                  "first_response": t.first_response_state or "no target", "resolution": t.resolution_state or "no target"}
                 for t in s.tickets],
        sla_breaches=s.sla_breaches,
        survey=[{"who": a.email, "score": a.score, "comment": a.comment} for a in s.answers],
        survey_count=m.survey_count,
        average=f"{m.survey_average:.1f}" if m.survey_average is not None else None,
    )


def customer_context(s: EngagementSummary, internal: set[str], engineer_name: str, greeting: str,
                     support_hours: list[str], tz: ZoneInfo) -> dict:
    """The customer's summary: what was delivered (their meetings held, the checklist's tasks done),
    the go-live, and who helps from now on; ``internal`` are the keys of our own meetings, left out."""
    were_held = [m for m in s.held if m.key.partition("#")[0] not in internal]
    golive = s.metrics.live_on or s.metrics.planned_golive
    return dict(
        account=s.engagement.account, engineer_name=engineer_name, greeting=greeting,
        meetings=[f"{m.title}: {moment_label(m.start, tz)}" for m in were_held],
        tasks=[t.name for t in s.done if t.customer_visible],
        golive=day_label(golive) if golive else None,
        support_hours=support_hours,
    )
