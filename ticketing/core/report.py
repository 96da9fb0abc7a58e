"""The weekly SLA summary for managers (pure): its figures.

The store builds a :class:`~ticketing.core.report_input.WeekInput` of plain facts (tickets with
their two SLA clocks as :mod:`ticketing.core.sla` computed them, meetings, engagements);
:func:`weekly_summary` turns it into a :class:`Summary`, which :mod:`ticketing.core.report_mail`
renders as the mail and its CSV attachment. Weeks and their ISO labels are :mod:`ticketing.core.weeks`.
Nothing here reads the wall clock or a database, and the input is taken as already scoped to the
manager's engineers.

How the figures are counted (the week is Monday 00:00 to the next Monday 00:00 in the manager's
time zone, half open):

- *opened*: tickets created in the week. *resolved*: tickets whose resolution clock stopped in the
  week (met, breached, or without a target: a resolved ticket is counted even with no SLA).
- *attainment* of a clock kind: of the clocks *settled* in the week, the share met. A met clock
  settles when it stops; a breached one when it breaches (``breached_at``), stopped or not, so
  every clock counts in exactly one week and every breach listed is in the denominator.
  Running, paused and target-less clocks are not counted. Shown as a whole percent (half up)
  with ``met/total``, "n/a" when nothing settled.
- *times*: the ``used`` SLA time of the clocks that stopped in the week (met or breached);
  median and 90th percentile by nearest rank: the smallest time that at least half (nine in ten)
  of them stayed within, always a time some ticket actually took.
- *breaches*: clocks that breached in the week; late by ``used - target`` once stopped, else by
  ``now - due`` (wall time). *open past target*: clocks not stopped whose state is breached or whose
  due time has passed, late by ``now - due``.
- *change*: the same figures for the week before, from the same tickets; attainment changes in
  percentage points between the whole percents shown.
- By priority: P0 to P3 always, then any other priority seen. By engineer: the manager's engineers
  in their order, then anyone else a settled clock belongs to ("" for unassigned).
- *onboarding*: meetings held (starting in the week, before now) and next week's; go-live dates
  from now's local date for 14 days (today + 14 excluded); engagements whose business days
  elapsed exceed the playbook's planned days (both of engagements not closed).
- *portfolio*: the engagements by health, the go-lives of the next 30 days and the overdue tasks
  by owner: :mod:`ticketing.core.portfolio`.
- *the week's tickets* (the CSV): created in the week, with a clock settled or stopped in it, or
  open past target now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# EngagementFacts is the portfolio's, and part of the summary's input: it is imported from here too.
from ticketing.core.portfolio import EngagementFacts, Portfolio, build_portfolio
from ticketing.core.report_input import (
    BREACHED,
    MET,
    ClockFacts,
    MeetingFacts,
    TicketFacts,
    WeekInput,
)
from ticketing.core.weeks import iso_week_label

UTC = ZoneInfo("UTC")
PRIORITIES = ("P0", "P1", "P2", "P3")
CLOCKS = {"first_response": "First response", "resolution": "Resolution"}
GOLIVE_HORIZON_DAYS = 14  # go-live dates from today up to, not including, today + 14 days


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


# -- the figures ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ratio:
    """``met`` of ``total`` clocks within target."""

    met: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        """Whole percent, half rounded up; None when there is nothing to count."""
        return (200 * self.met + self.total) // (2 * self.total) if self.total else None

    def __str__(self) -> str:
        return f"{self.percent}% ({self.met}/{self.total})" if self.total else "n/a"

    def as_json(self) -> dict:
        return {"met": self.met, "total": self.total, "percent": self.percent}


@dataclass(frozen=True)
class Times:
    """Nearest-rank median and 90th percentile of the SLA time used by the clocks that stopped."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    def as_json(self) -> dict:
        return {"count": self.count, "median_minutes": whole_minutes(self.median),
                "p90_minutes": whole_minutes(self.p90)}


@dataclass(frozen=True)
class ClockFigures:
    """One clock kind's figures for a week; ``by_engineer`` is keyed by address ("" unassigned)."""

    overall: Ratio
    by_priority: tuple[tuple[str, Ratio], ...]
    by_engineer: tuple[tuple[str, Ratio], ...]
    times: Times

    def as_json(self) -> dict:
        return {"attainment": self.overall.as_json(),
                "by_priority": {p: r.as_json() for p, r in self.by_priority},
                "by_engineer": {e: r.as_json() for e, r in self.by_engineer},
                "times": self.times.as_json()}


@dataclass(frozen=True)
class WeekFigures:
    week_start: date
    opened: int
    resolved: int
    first_response: ClockFigures
    resolution: ClockFigures

    def as_json(self) -> dict:
        return {"week": iso_week_label(self.week_start), "opened": self.opened, "resolved": self.resolved,
                "first_response": self.first_response.as_json(), "resolution": self.resolution.as_json()}


@dataclass(frozen=True)
class LateClock:
    """A clock past its target: a breach of the week, or a clock still open past its due time."""

    ticket: TicketFacts
    clock: str  # "first_response" or "resolution"
    late: timedelta | None

    @property
    def facts(self) -> ClockFacts:
        return getattr(self.ticket, self.clock)

    def as_json(self) -> dict:
        facts = self.facts
        return {"ticket": self.ticket.id, "subject": self.ticket.subject, "customer": self.ticket.customer,
                "engineer": self.ticket.engineer, "priority": self.ticket.priority, "clock": self.clock,
                "state": facts.state, "due": _iso(facts.due), "breached_at": _iso(facts.breached_at),
                "late_minutes": whole_minutes(self.late), "why": facts.why}


@dataclass(frozen=True)
class Summary:
    """Every figure of one manager's week; ``previous`` is the week before, for the changes."""

    manager_name: str
    manager_email: str
    timezone: ZoneInfo
    now: datetime
    engineers: tuple[tuple[str, str], ...]
    this: WeekFigures
    previous: WeekFigures
    breaches: tuple[LateClock, ...]  # breached in the week, in order
    open_past_target: tuple[LateClock, ...]  # now, most overdue first
    meetings_held: tuple[MeetingFacts, ...]
    meetings_next_week: tuple[MeetingFacts, ...]
    golives: tuple[EngagementFacts, ...]  # go-live in the coming two weeks, soonest first
    past_planned_length: tuple[EngagementFacts, ...]
    tickets: tuple[TicketFacts, ...]  # the week's tickets: the CSV's rows
    portfolio: Portfolio = Portfolio()  # the engagements by health, go-lives ahead, overdue tasks by owner

    @property
    def week_start(self) -> date:
        return self.this.week_start

    @property
    def label(self) -> str:
        return iso_week_label(self.week_start)

    def engineer_name(self, email: str | None) -> str:
        return dict(self.engineers).get(email or "", email or "Unassigned")

    def changes(self) -> dict[str, int | None]:
        """Against the previous week: counts, and attainment in percentage points (None: n/a)."""
        def points(now: Ratio, before: Ratio) -> int | None:
            return None if now.percent is None or before.percent is None else now.percent - before.percent
        this, prev = self.this, self.previous
        return {"opened": this.opened - prev.opened, "resolved": this.resolved - prev.resolved,
                "first_response_pp": points(this.first_response.overall, prev.first_response.overall),
                "resolution_pp": points(this.resolution.overall, prev.resolution.overall)}

    def as_json(self) -> dict:
        """The figures for ``whiteglove report weekly --json`` (durations in whole minutes)."""
        def meeting(m: MeetingFacts) -> dict:
            return {"engagement": m.engagement_id, "account": m.account, "title": m.title,
                    "start": _iso(m.start), "end": _iso(m.end), "engineer": m.engineer}

        def engagement(e: EngagementFacts) -> dict:
            return {"engagement": e.id, "account": e.account, "engineer": e.engineer, "playbook": e.playbook,
                    "golive": e.golive.isoformat() if e.golive else None,
                    "business_days_elapsed": e.business_days_elapsed, "planned_days": e.planned_days}
        return {
            "manager": {"name": self.manager_name, "email": self.manager_email},
            "timezone": self.timezone.key, "week": self.label, "week_start": self.week_start.isoformat(),
            "week_end": (self.week_start + timedelta(days=6)).isoformat(), "now": _iso(self.now),
            "engineers": [{"email": e, "name": n} for e, n in self.engineers],
            "this_week": self.this.as_json(), "previous_week": self.previous.as_json(), "change": self.changes(),
            "breaches": [b.as_json() for b in self.breaches],
            "open_past_target": [o.as_json() for o in self.open_past_target],
            "onboarding": {"meetings_held": [meeting(m) for m in self.meetings_held],
                           "meetings_next_week": [meeting(m) for m in self.meetings_next_week],
                           "golives": [engagement(e) for e in self.golives],
                           "past_planned_length": [engagement(e) for e in self.past_planned_length]},
            "portfolio": self.portfolio.as_json(),
            "tickets": [t.id for t in self.tickets],
        }


def weekly_summary(data: WeekInput) -> Summary:
    """Compute every figure of ``data``'s week (see the module docstring for the definitions).

    Raises ValueError when ``week_start`` is not a Monday or ``now`` is naive.
    """
    if data.week_start.weekday() != 0:
        raise ValueError(f"week_start {data.week_start} is not a Monday")
    if data.now.tzinfo is None:
        raise ValueError("now must be aware")
    tz, now = data.timezone, data.now
    start, end = _midnight(data.week_start, tz), _midnight(data.week_start + timedelta(days=7), tz)
    after_next = _midnight(data.week_start + timedelta(days=14), tz)
    order = tuple(email for email, _ in data.engineers)
    tickets = sorted(data.tickets, key=lambda t: t.id)

    clocks = [(t, name, getattr(t, name)) for t in tickets for name in CLOCKS]
    breaches = sorted((LateClock(t, name, _lateness(c, now)) for t, name, c in clocks
                       if c.state == BREACHED and _settled_at(c, start, end)),
                      key=lambda b: (_settled_at(b.facts, start, end), b.ticket.id))
    overdue = sorted((LateClock(t, name, _lateness(c, now)) for t, name, c in clocks if _open_past_target(c, now)),
                     key=lambda o: (o.facts.due or now, o.ticket.id))
    late_now = {o.ticket.id for o in overdue}  # a set: a scan of ``overdue`` per ticket was quadratic
    week_tickets = tuple(t for t in tickets if _in_week(t, start, end) or t.id in late_now)
    today = now.astimezone(tz).date()
    active = [e for e in data.engagements if e.closed_on is None]
    return Summary(
        manager_name=data.manager_name, manager_email=data.manager_email, timezone=tz, now=now,
        engineers=data.engineers,
        this=_week_figures(tickets, data.week_start, start, end, order),
        previous=_week_figures(tickets, data.week_start - timedelta(days=7), _midnight(
            data.week_start - timedelta(days=7), tz), start, order),
        breaches=tuple(breaches), open_past_target=tuple(overdue),
        meetings_held=tuple(sorted((m for m in data.meetings if _within(m.start, start, min(end, now))),
                                   key=lambda m: m.start)),
        meetings_next_week=tuple(sorted((m for m in data.meetings if _within(m.start, end, after_next)),
                                        key=lambda m: m.start)),
        golives=tuple(sorted((e for e in active if e.golive and
                              today <= e.golive < today + timedelta(days=GOLIVE_HORIZON_DAYS)),
                             key=lambda e: (e.golive, e.id))),
        past_planned_length=tuple(sorted((e for e in active if e.planned_days is not None
                                          and e.business_days_elapsed > e.planned_days),
                                         key=lambda e: (e.planned_days - e.business_days_elapsed, e.id))),
        tickets=week_tickets,
        portfolio=build_portfolio(data.engagements, data.week_start, today),
    )


def _settled_at(clock: ClockFacts, start: datetime, end: datetime) -> datetime | None:
    """When the clock's outcome became known, if in ``[start, end)``: a met clock when it stopped, a
    breached one when it breached (its due time, or its stop, if the breach time is missing)."""
    if clock.state == MET:
        when = clock.stopped_at
    elif clock.state == BREACHED:
        when = clock.breached_at or clock.due or clock.stopped_at
    else:
        return None
    return when if _within(when, start, end) else None


def _open_past_target(clock: ClockFacts, now: datetime) -> bool:
    if clock.stopped or clock.state in (MET, ""):
        return False
    return clock.state == BREACHED or (clock.due is not None and clock.due < now)


def _lateness(clock: ClockFacts, now: datetime) -> timedelta | None:
    """How far over its target, in the clock's own time (business time on a business clock, as
    its target is), whether it has stopped or is still running; else since its due time."""
    if clock.used is not None and clock.target is not None:
        return clock.used - clock.target
    return _since(clock.due, now)


def _since(moment: datetime | None, now: datetime) -> timedelta | None:
    return now - moment if moment is not None else None


def _in_week(ticket: TicketFacts, start: datetime, end: datetime) -> bool:
    clocks = (ticket.first_response, ticket.resolution)
    return (_within(ticket.created_at, start, end) or any(_settled_at(c, start, end) for c in clocks)
            or any(c.stopped and _within(c.stopped_at, start, end) for c in clocks))


def _week_figures(tickets, monday: date, start: datetime, end: datetime, order: tuple[str, ...]) -> WeekFigures:
    opened = resolved = 0
    for t in tickets:  # _within written out: this runs twice for every ticket
        created, clock = t.created_at, t.resolution
        if created is not None and start <= created < end:
            opened += 1
        if clock.stopped and start <= clock.stopped_at < end:
            resolved += 1
    return WeekFigures(
        week_start=monday,
        opened=opened,
        resolved=resolved,
        first_response=_clock_figures(tickets, "first_response", start, end, order),
        resolution=_clock_figures(tickets, "resolution", start, end, order),
    )


def _clock_figures(tickets, name: str, start: datetime, end: datetime, order: tuple[str, ...]) -> ClockFigures:
    # One pass over the tickets, counting each settled clock into its priority and its engineer.
    met_total: dict[tuple[str, str], list[int]] = {}
    used: list[timedelta] = []
    seen_priorities: set[str] = set()
    met = total = 0
    for t in tickets:  # _settled_at and ClockFacts.stopped written out: this runs for every clock, four times
        seen_priorities.add(t.priority)
        c = getattr(t, name)
        state = c.state
        if state == MET:
            when = c.stopped_at
        elif state == BREACHED:
            when = c.breached_at or c.due or c.stopped_at
        else:
            continue
        if when is not None and start <= when < end:
            hit = int(state == MET)
            met, total = met + hit, total + 1
            for key in (("p", t.priority), ("e", t.engineer or "")):
                counts = met_total.setdefault(key, [0, 0])
                counts[0] += hit
                counts[1] += 1
        stopped_at = c.stopped_at
        if stopped_at is not None and c.used is not None and start <= stopped_at < end:
            used.append(c.used)

    def ratio(kind: str, value: str) -> Ratio:
        return Ratio(*met_total.get((kind, value), (0, 0)))
    priorities = list(PRIORITIES) + sorted(seen_priorities - set(PRIORITIES))
    others = sorted({e for kind, e in met_total if kind == "e"} - set(order))
    return ClockFigures(
        overall=Ratio(met, total),
        by_priority=tuple((p, ratio("p", p)) for p in priorities),
        by_engineer=tuple((e, ratio("e", e)) for e in [*order, *others]),
        times=Times(len(used), nearest_rank(used, 50), nearest_rank(used, 90)),
    )


def nearest_rank(values: list[timedelta], percentile: int) -> timedelta | None:
    """The smallest value that at least ``percentile`` % of ``values`` do not exceed (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-percentile * len(ordered) // 100)  # ceiling, in integers
    return ordered[max(rank, 1) - 1]


# -- numbers for JSON ----------------------------------------------------------------------------

def whole_minutes(value: timedelta | None) -> int | None:
    """A duration in whole minutes, rounded down; None for None."""
    return None if value is None else int(value.total_seconds() // 60)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
