"""The facts of a closed engagement, planned against actual (pure).

:func:`summarize` takes what the store holds of an engagement (its meetings, tasks, the account's
tickets of its time with their SLA states, the survey answers) and the engineer's business calendar,
and returns an :class:`EngagementSummary`: the dates planned and actual (start, planned end from the
playbook's ``length_days``, close; the go-live planned and the day it went live, with the slip in
business days), the meetings held, not held and cancelled, the tasks done, done late and not done,
the tickets and how their SLA clocks ended, and the survey's answers. :func:`summary_context` and
:func:`customer_context` put it in words for the two mails.

(``ticketing.core.metrics``, written alongside, will give the success metrics and the health
verdict; until it lands, :func:`verdict` here says on time or late.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, Meeting, MeetingStatus, Ticket
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
    started_on: date
    planned_end: date | None  # start + length_days business days
    closed_on: date | None
    business_days: int | None  # start to close
    planned_days: int | None
    golive_planned: date | None
    live_on: date | None
    golive_slip: int | None  # business days the go-live came after (negative: before) its plan
    held: tuple[Meeting, ...]
    not_held: tuple[Meeting, ...]  # placed after the close, or never placed
    cancelled: tuple[Meeting, ...]
    done: tuple[Task, ...]
    late: tuple[Task, ...]  # done after their due date
    open: tuple[Task, ...]  # not done (open or blocked)
    tickets: tuple[Ticket, ...]
    answers: tuple[Answer, ...]

    @property
    def sla_breaches(self) -> int:
        return sum(1 for t in self.tickets if "breached" in (t.first_response_state, t.resolution_state))

    @property
    def average_score(self) -> float | None:
        return sum(a.score for a in self.answers) / len(self.answers) if self.answers else None


def summarize(engagement: Engagement, length_days: int | None, meetings: Sequence[Meeting], tasks: Sequence[Task],
              tickets: Sequence[Ticket], answers: Sequence[Answer], calendar: BusinessCalendar,
              now: datetime) -> EngagementSummary:
    """The engagement's facts (see the module docstring); ``now`` stands for the close while it is open."""
    end = engagement.closed_at or now
    started = engagement.created_at.astimezone(calendar.tz).date()
    closed = engagement.closed_at.astimezone(calendar.tz).date() if engagement.closed_at else None
    planned_end = calendar.add_days(started, length_days) if length_days else None
    slip = None
    if engagement.golive_date and engagement.live_on:
        a, b = sorted((engagement.golive_date, engagement.live_on))
        slip = calendar.working_days_between(a, b) * (1 if engagement.live_on >= engagement.golive_date else -1)
    ordered = sorted(meetings, key=lambda m: (m.start is None, m.start or end, m.id))
    held = tuple(m for m in ordered if m.status is MeetingStatus.PLANNED and m.end is not None and m.end <= end)
    cancelled = tuple(m for m in ordered if m.status is MeetingStatus.CANCELLED)
    not_held = tuple(m for m in ordered if m not in held and m not in cancelled)
    done = tuple(t for t in tasks if t.status is TaskStatus.DONE)
    late = tuple(t for t in done if t.due and t.done_at and t.done_at.astimezone(calendar.tz).date() > t.due)
    return EngagementSummary(
        engagement=engagement, started_on=started, planned_end=planned_end, closed_on=closed,
        business_days=calendar.working_days_between(started, closed) if closed else None, planned_days=length_days,
        golive_planned=engagement.golive_date, live_on=engagement.live_on, golive_slip=slip,
        held=held, not_held=not_held, cancelled=cancelled, done=done, late=late,
        open=tuple(t for t in tasks if t.status is not TaskStatus.DONE),
        tickets=tuple(sorted(tickets, key=lambda t: t.id)), answers=tuple(answers),
    )


def verdict(s: EngagementSummary) -> str:
    """"on time" or what was late, in a few words (the subject line's)."""
    late = []
    if s.closed_on and s.planned_end and s.closed_on > s.planned_end:
        late.append("closed late")
    if s.golive_slip and s.golive_slip > 0:
        late.append("go-live late")
    if s.sla_breaches:
        late.append(f"{s.sla_breaches} SLA breach{'es' if s.sla_breaches > 1 else ''}")
    return ", ".join(late) or "on time"


def day_label(day: date | None) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}" if day else "not known"


def _days(n: int) -> str:
    return f"{n} business day{'s' if abs(n) != 1 else ''}"


def summary_context(s: EngagementSummary, playbook_title: str, engineer_name: str, tz: ZoneInfo) -> dict:
    """The internal summary's values, times in ``tz`` (the engineer's)."""
    e = s.engagement
    if s.golive_slip is None:
        golive = "went live " + day_label(s.live_on) if s.live_on else "no go-live recorded"
    else:
        golive = ("on the planned day" if s.golive_slip == 0 else
                  f"{_days(abs(s.golive_slip))} {'late' if s.golive_slip > 0 else 'early'}")
    length = None
    if s.business_days is not None and s.planned_days:
        over = s.business_days - s.planned_days
        length = f"{_days(s.business_days)} of {s.planned_days} planned" + (
            f" ({over} over)" if over > 0 else " (within plan)")
    return dict(
        account=e.account, engagement_id=e.id, playbook_title=playbook_title, engineer_name=engineer_name,
        verdict=verdict(s),
        dates=[
            ("Started", day_label(s.started_on)),
            ("Planned end", day_label(s.planned_end)),
            ("Closed", day_label(s.closed_on)),
            ("Length", length or "not known"),
            ("Go-live planned", day_label(s.golive_planned)),
            ("Went live", f"{day_label(s.live_on)} ({golive})" if s.live_on else golive),
        ],
        meetings={"held": [f"{m.title}: {moment_label(m.start, tz)}" for m in s.held],
                  "not_held": [f"{m.title}" + (f": {m.note}" if m.note else "") for m in s.not_held],
                  "cancelled": [f"{m.title}" + (f": {m.note}" if m.note else "") for m in s.cancelled]},
        tasks={"done": len(s.done),
               "late": [f"{t.name}: due {day_label(t.due)}, done {day_label(t.done_at.astimezone(tz).date())}"
                        for t in s.late],
               "open": [f"{t.name} ({t.status.value}{', due ' + day_label(t.due) if t.due else ''})"
                        + (f": {t.note}" if t.note else "") for t in s.open]},
        tickets=[{"tag": f"[WG-{t.id}]", "subject": t.subject, "priority": t.priority, "status": t.status.value,
                  "first_response": t.first_response_state or "no target", "resolution": t.resolution_state or "no target"}
                 for t in s.tickets],
        sla_breaches=s.sla_breaches,
        survey=[{"who": a.email, "score": a.score, "comment": a.comment} for a in s.answers],
        average=f"{s.average_score:.1f}" if s.average_score is not None else None,
    )


def customer_context(s: EngagementSummary, internal: set[str], engineer_name: str, greeting: str,
                     support_hours: list[str], tz: ZoneInfo) -> dict:
    """The customer's summary: what was delivered (their meetings held, the checklist's tasks done),
    the go-live, and who helps from now on; ``internal`` are the keys of our own meetings, left out."""
    held = [m for m in s.held if m.key.partition("#")[0] not in internal]
    return dict(
        account=s.engagement.account, engineer_name=engineer_name, greeting=greeting,
        meetings=[f"{m.title}: {moment_label(m.start, tz)}" for m in held],
        tasks=[t.name for t in s.done if t.customer_visible],
        golive=day_label(s.live_on or s.golive_planned) if (s.live_on or s.golive_planned) else None,
        support_hours=support_hours,
    )
