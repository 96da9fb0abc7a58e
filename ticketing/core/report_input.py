"""The input of the weekly SLA summary (pure): plain facts of tickets with their two SLA clocks,
meetings and engagements, which the store gathers and :func:`ticketing.core.report.weekly_summary`
counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.portfolio import EngagementFacts

MET, BREACHED, RUNNING, PAUSED = "met", "breached", "running", "paused"


@dataclass(frozen=True)
class ClockFacts:
    """One SLA clock of a ticket as :mod:`ticketing.core.sla` computed it at ``WeekInput.now``.

    ``state``: "met" (stopped within target), "breached" (missed its target, whether it has stopped
    since or is still running), "running", "paused" (e.g. waiting on the customer), or "" when the
    ticket's policy sets no target. Datetimes are aware (UTC).
    """

    state: str
    target: timedelta | None
    used: timedelta | None  # SLA time counted (business time on a business clock)
    stopped_at: datetime | None  # when it stopped (first answer, resolution)
    due: datetime | None
    breached_at: datetime | None
    why: str  # one line, e.g. "2 h 10 min on 24x7, target 2 h; paused 1 h waiting on customer" (may be "" but
    # for a clock past its target: breached, or open past its due time, the only ones shown with it)

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None and self.state not in (RUNNING, PAUSED)


@dataclass(frozen=True)
class TicketFacts:
    """A ticket of one of the manager's engineers; ``engineer`` is the assignee's address."""

    id: int
    subject: str
    customer: str
    engineer: str | None
    priority: str
    kind: str
    status: str
    created_at: datetime
    first_response: ClockFacts
    resolution: ClockFacts


@dataclass(frozen=True)
class MeetingFacts:
    """An onboarding meeting; ``engineer`` is the engineer's address."""

    engagement_id: int
    account: str
    title: str
    start: datetime
    end: datetime
    engineer: str | None


@dataclass(frozen=True)
class WeekInput:
    """Everything one manager's summary is made of."""

    manager_name: str
    manager_email: str
    timezone: ZoneInfo
    week_start: date  # a Monday, in the manager's time zone
    engineers: tuple[tuple[str, str], ...]  # (email, name) of the manager's engineers
    tickets: tuple[TicketFacts, ...]  # every ticket that matters for this week or the one before, or still open
    meetings: tuple[MeetingFacts, ...]  # the engineers' meetings of this week and the next
    engagements: tuple[EngagementFacts, ...]  # the engineers' engagements: active, or closed this week or since
    now: datetime
