"""SLA clocks: how much of a ticket's first-response, resolution and next-response targets is used (pure).

:func:`clocks` reads a ticket's event log and returns its clocks as of ``now``; :func:`moment_at`
says when a clock reaches a share of its target (for warnings); :func:`humanize` writes a duration
in plain words. Nothing here reads the wall clock, a database or the network.

Policies and targets
    A :class:`Policy` holds a :class:`Target` per priority (``"P0"``..``"P3"``) for each clock; a
    priority left out has no target. A target counts on the ``24x7`` clock (:data:`ALWAYS`: every
    instant counts) or on a named :class:`~ticketing.core.calendars.BusinessCalendar` (only its working
    time counts: nights, weekends, holidays are left out). Durations are ``timedelta`` values of
    that clock's time: 9 h on a business clock is one 08:00-17:00 day.

The event log and the ticket's state
    Read by :mod:`ticketing.core.sla_log`: events sorted and de-duplicated, every clock starting at
    the first ``created`` event, the ticket *open*, *pending* or *resolved* as its events say.

Clocks, in this order in the result
    ``first_response``: stops at the first ``engineer_replied`` (relayed or copied); ``pending`` does
    not pause it, as the first answer is owed whatever the state. Time while the ticket is resolved
    does not count, and a ticket left resolved without any answer stops it at that resolution
    (``stopped_by="resolved"``), so a ticket closed without a reply never runs into a breach.

    ``resolution``: time while pending or resolved does not count (pauses ``"pending"`` and
    ``"resolved"``); a reopen resumes the clock where it stood. The clock is stopped when the log
    ends in the resolved state: at the ``resolved`` event that began that last resolved period (a
    second ``resolved`` without a reopen in between changes nothing).

    ``next_response``: only when the policy has a next-response target for the clock's priority. A
    ``customer_replied`` after the first engineer reply starts one when none is running (a reply to
    a pending ticket ends the pending, so it starts one too: that answer waits on us); the next
    ``engineer_replied`` stops it. Further customer replies before that answer do not restart it,
    so it measures from the oldest unanswered message. It pauses like the resolution clock, and a
    log ending resolved stops it there. Only the latest one is reported.

Priority
    ``priority`` is the ticket's current one. A clock still open (running or paused) takes the
    current priority's target, counted from its start, so a change re-targets it retroactively. A
    stopped clock keeps the target of the priority in force when it stopped: the ``"priority"`` of
    the last ``priority_changed`` strictly before the stop, else the ``"previous"`` of the first one
    at or after it, else the current priority.

Figures of a :class:`Clock`
    ``used`` is the clock time counted from the start to the stop, or to ``now`` when not stopped,
    less the pauses. ``remaining`` = max(target - used, 0); ``overrun`` = max(used - target, 0).
    The status is ``breached`` once ``used`` >= target (stopped or not: "under 2 h" means a reply at
    exactly two hours is late), else ``met`` when stopped, ``paused`` while a pause has not ended,
    ``running`` otherwise; a clock without target is ``running``, ``paused`` or ``stopped``.
    ``breached_at`` is the moment ``used`` reached the target (:func:`moment_at` at 1.0).
    ``due`` is the deadline: for a running clock the moment the target is reached if nothing
    pauses it from now on (``calendar.add(now, remaining)``); for a breached clock ``breached_at``;
    for a met clock the deadline it was held to (``calendar.add(stopped_at, remaining)``); None
    while paused before a breach, and without a target.

    ``due``, ``breached_at``, :func:`moment_at` and the stop do not depend on ``now``: they change
    only when an event is added (or the policy, priority or calendars change), so derived due
    times can be stored and recomputed on each event. ``used``, ``remaining``, ``overrun`` and the
    status of a running clock move with ``now`` (a running clock turns ``breached`` once ``now``
    reaches ``due``).

Explanation
    ``Clock.explanation`` is a tuple of plain sentences: when and why the clock started, the
    priority changes and which target applies, the target and its clock, every pause with the time
    it took off, for a business clock the closed periods and the holidays in between, the time
    used of the target, and the due time or how it was met (time to spare) or breached (when, and by
    how much). Moments are written in the calendar's zone ("Mon 16 Nov 2026 09:00 PST"), in UTC on
    the 24x7 clock; business amounts in hours ("26 h of business time").

Errors: ``ValueError`` for a naive datetime, a target that is not a positive ``timedelta``, a
negative fraction, or a target on a calendar missing from ``calendars``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from ticketing.core.calendars import UTC, BusinessCalendar
from ticketing.core.sla_log import (
    PENDING,
    Log,
    Pause,
    Run,
    aware,
    first_response_run,
    next_response_run,
    priority_at,
    read_log,
    resolution_run,
)

__all__ = ["ALWAYS", "FIRST_RESPONSE", "NEXT_RESPONSE", "RESOLUTION", "Clock", "ClockStatus",
           "Policy", "Target", "clocks", "humanize", "moment_at"]

ALWAYS = "24x7"
FIRST_RESPONSE, RESOLUTION, NEXT_RESPONSE = "first_response", "resolution", "next_response"

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)
#: The 24x7 clock, as a calendar open all day every day in UTC: real elapsed time, no DST.
_ALL_HOURS = BusinessCalendar(name=ALWAYS, tz=UTC, hours=(((0, 24 * 60),),) * 7)
_LABELS = {FIRST_RESPONSE: "first response", RESOLUTION: "resolution", NEXT_RESPONSE: "next response"}
_LISTED = 5  # closed periods listed one by one in an explanation


class ClockStatus(str, Enum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"  # stopped, without a target to meet


@dataclass(frozen=True)
class Target:
    """A duration of clock time, on ``24x7`` or on the business calendar of that name."""

    duration: timedelta
    clock: str = ALWAYS

    def __post_init__(self) -> None:
        if not isinstance(self.duration, timedelta) or self.duration <= _ZERO:
            raise ValueError(f"an SLA target is a positive timedelta, not {self.duration!r}")


@dataclass(frozen=True)
class Policy:
    """Targets per priority; a priority missing from a table has no target for that clock."""

    name: str
    first_response: Mapping[str, Target]
    resolution: Mapping[str, Target]
    next_response: Mapping[str, Target] = field(default_factory=dict)

    def target(self, clock: str, priority: str) -> Target | None:
        """The target of clock ``clock`` (``"first_response"``, ...) for ``priority``, or None."""
        return getattr(self, clock).get(priority)



@dataclass(frozen=True)
class Clock:
    """One SLA clock of a ticket as of ``now``; see the module docstring for every figure."""

    name: str  # FIRST_RESPONSE, RESOLUTION or NEXT_RESPONSE
    priority: str  # the priority whose target applies
    target: Target | None
    started_at: datetime
    stopped_at: datetime | None
    stopped_by: str | None  # "engineer_replied" or "resolved"
    used: timedelta
    remaining: timedelta | None
    overrun: timedelta | None
    due: datetime | None
    status: ClockStatus
    breached_at: datetime | None
    pauses: tuple[Pause, ...]
    explanation: tuple[str, ...] = ()

    @property
    def paused(self) -> bool:
        """Whether a pause is under way (a breached clock can be paused too)."""
        return self.stopped_at is None and bool(self.pauses) and self.pauses[-1].end is None




def clocks(events: Sequence[Any], priority: str, policy: Policy, calendars: Mapping[str, BusinessCalendar],
           now: datetime, explain: bool = True) -> tuple[Clock, ...]:
    """The ticket's clocks as of ``now``: first response, resolution, then next response if any.

    Empty when there are no events. ``calendars`` maps names to business calendars; only those the
    targets name are used. ``explain=False`` leaves ``explanation`` empty, for callers that only
    store the figures (writing the words costs more than the figures).
    """
    aware(now)
    log = read_log(events)
    if log is None:
        return ()
    found = [_clock(FIRST_RESPONSE, first_response_run(log), log, priority, policy, calendars, now, explain),
             _clock(RESOLUTION, resolution_run(log), log, priority, policy, calendars, now, explain)]
    run = next_response_run(log)
    if run is not None:
        clock = _clock(NEXT_RESPONSE, run, log, priority, policy, calendars, now, explain)
        if clock.target is not None:
            found.append(clock)
    return tuple(found)


def moment_at(clock: Clock, fraction: float, calendars: Mapping[str, BusinessCalendar]) -> datetime | None:
    """The moment (UTC) ``used`` reaches ``fraction`` of the target, e.g. 0.5, 0.8 or 1.0.

    It may be past. For a running clock, a future moment assumes nothing pauses it from now on.
    None without a target, and when the clock does not get there: it stopped first, or a pause
    that has not ended began first. Raises ValueError for a negative fraction.
    """
    if fraction < 0:
        raise ValueError(f"a share of a target cannot be negative: {fraction!r}")
    if clock.target is None:
        return None
    calendar = _calendar(clock.target, calendars)
    return _reach(calendar, clock.started_at, clock.pauses, clock.stopped_at, clock.target.duration * fraction)


def humanize(duration: timedelta, days: bool = True) -> str:
    """``duration`` in words, cut (not rounded) to two units: "45 min", "1 h 20 min", "3 days 2 h".

    ``days=False`` counts hours past a day ("26 h"), as a business day is not 24 hours. Zero is
    "0 min", less than a minute "under 1 min"; a negative duration gets a minus sign.
    """
    if duration < _ZERO:
        return "-" + humanize(-duration, days)
    if _ZERO < duration < _MINUTE:
        return "under 1 min"
    minutes = duration // _MINUTE
    whole_days, minutes = divmod(minutes, 24 * 60) if days else (0, minutes)
    hours, minutes = divmod(minutes, 60)
    if whole_days:
        return f"{whole_days} day{'s' if whole_days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"



# -- the clock --------------------------------------------------------------------------------------

def _clock(name: str, run: Run, log: Log, current: str, policy: Policy,
           calendars: Mapping[str, BusinessCalendar], now: datetime, explain: bool = True) -> Clock:
    stopped = run.stop is not None
    priority = priority_at(run.stop, log, current) if stopped else current
    target = policy.target(name, priority)
    calendar = _calendar(target, calendars, policy.name) if target else _ALL_HOURS
    end = run.stop if stopped else max(now, run.start)
    used = calendar.elapsed(run.start, end, [(p.start, p.end or end) for p in run.pauses])
    paused = not stopped and bool(run.pauses) and run.pauses[-1].end is None
    remaining = overrun = due = breached_at = None
    if target is None:
        status = ClockStatus.STOPPED if stopped else ClockStatus.PAUSED if paused else ClockStatus.RUNNING
    else:
        remaining, overrun = max(target.duration - used, _ZERO), max(used - target.duration, _ZERO)
        if used >= target.duration:
            status = ClockStatus.BREACHED
            due = breached_at = _reach(calendar, run.start, run.pauses, run.stop, target.duration)
        elif stopped:
            status, due = ClockStatus.MET, calendar.add(run.stop, remaining)
        elif paused:
            status = ClockStatus.PAUSED
        else:
            status, due = ClockStatus.RUNNING, _reach(calendar, run.start, run.pauses, None, target.duration)
    clock = Clock(name, priority, target, run.start, run.stop, run.stopped_by, used, remaining, overrun, due, status,
                  breached_at, run.pauses)
    if not explain:
        return clock
    return replace(clock, explanation=_explain(clock, run, log, policy, calendar, end, current))


def _reach(calendar: BusinessCalendar, start: datetime, pauses: tuple[Pause, ...], stop: datetime | None,
           amount: timedelta) -> datetime | None:
    """The moment ``amount`` of clock time has been counted from ``start``, or None if never."""
    cursor, left = start, amount
    for pause in pauses:
        piece = calendar.elapsed(cursor, pause.start)
        if piece >= left:
            return calendar.add(cursor, left)
        left -= piece
        if pause.end is None:
            return None
        cursor = pause.end
    if stop is None or calendar.elapsed(cursor, stop) >= left:
        return calendar.add(cursor, left)
    return None


def _calendar(target: Target, calendars: Mapping[str, BusinessCalendar], policy: str = "") -> BusinessCalendar:
    if target.clock == ALWAYS:
        return _ALL_HOURS
    try:
        return calendars[target.clock]
    except KeyError:
        where = f"policy {policy!r}: " if policy else ""
        raise ValueError(f"{where}no business calendar named {target.clock!r}") from None


# -- the explanation --------------------------------------------------------------------------------

def _explain(clock: Clock, run: Run, log: Log, policy: Policy, calendar: BusinessCalendar, end: datetime,
             current: str) -> tuple[str, ...]:
    label, business = _LABELS[clock.name], calendar is not _ALL_HOURS
    when, amount = _Words(calendar).when, _Words(calendar).amount
    lines = [f"The {label} clock started {when(clock.started_at)}, {run.origin}."]
    lines += _priority_lines(clock, log, current, when)
    if clock.target is None:
        lines.append(f"The {policy.name} policy sets no {label} target for {clock.priority}: "
                     "time is counted on the 24x7 clock.")
    elif business:
        lines.append(f"Target for {clock.priority} under the {policy.name} policy: {amount(clock.target.duration)} "
                     f"on the {calendar.name} calendar ({calendar.tz.key}); nights, weekends and holidays do not count.")
    else:
        lines.append(f"Target for {clock.priority} under the {policy.name} policy: "
                     f"{humanize(clock.target.duration)} on the 24x7 clock, every hour counts.")
    if clock.name == FIRST_RESPONSE:
        pending = next((since for state, since, _ in log.periods if state == PENDING and since >= clock.started_at
                        and (clock.stopped_at is None or since < clock.stopped_at)), None)
        if pending is not None:
            lines.append(f"Pending from {when(pending)} did not pause it: the first answer is owed in any state.")
    for pause in clock.pauses:
        lines.append(_pause_line(pause, calendar, end, when, amount))
    if business:
        lines += _closed_lines(calendar, clock.started_at, end, when)
    lines += _outcome_lines(clock, when, amount, " (business time)" if business else "")
    return tuple(lines)


def _priority_lines(clock: Clock, log: Log, current: str, when) -> list[str]:
    changes = [(at, previous, priority) for at, previous, priority in log.changes if at >= clock.started_at]
    if not changes:
        return []
    listed = "; ".join(f"{previous} \u2192 {priority} on {when(at)}" for at, previous, priority in changes)
    why = ("the priority in force when it stopped" if clock.stopped_at is not None
           else "the current priority: a change re-targets an open clock from its start")
    return [f"Priority changed: {listed}. It is held to {clock.priority}'s target, {why}."]


def _pause_line(pause: Pause, calendar: BusinessCalendar, end: datetime, when, amount) -> str:
    reason = ("pending (waiting on the customer)" if pause.reason == PENDING else "the ticket was resolved")
    if pause.end is None:
        resumes = ("the customer replies or the ticket is reopened" if pause.reason == PENDING
                   else "the ticket is reopened")
        counted = calendar.elapsed(pause.start, end)
        return (f"Paused since {when(pause.start)} while {reason}: {amount(counted)} not counted so far; "
                f"it resumes when {resumes}.")
    return (f"Paused while {reason} from {when(pause.start)} to {when(pause.end)}: "
            f"{amount(calendar.elapsed(pause.start, pause.end))} not counted.")


def _closed_lines(calendar: BusinessCalendar, start: datetime, end: datetime, when) -> list[str]:
    gaps, cursor = [], start
    for low, high in calendar.spans_between(start, end):
        if low > cursor:
            gaps.append((cursor, low))
        cursor = high
    if cursor < end:
        gaps.append((cursor, end))
    if not gaps:
        return []
    total = sum((high - low for low, high in gaps), _ZERO)
    listed = "; ".join(f"{when(low)} \u2013 {when(high)}" for low, high in gaps[:_LISTED])
    more = f"; and {len(gaps) - _LISTED} more" if len(gaps) > _LISTED else ""
    lines = [(f"Outside the business hours of {calendar.name}, not counted: {humanize(total)} in "
              f"{len(gaps)} period{'s' if len(gaps) > 1 else ''}: {listed}{more}.")]
    holidays = []
    day, last = start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date()
    while day <= last:
        name = calendar.holiday(day)
        if name and calendar.hours[day.weekday()] and not calendar.is_working_day(day):
            holidays.append(f"{name} ({_day(day)})")
        day += timedelta(days=1)
    if holidays:
        lines.append(f"Holidays in that time: {', '.join(holidays)}.")
    return lines


def _outcome_lines(clock: Clock, when, amount, unit: str) -> list[str]:
    target = clock.target
    used = f"Used {amount(clock.used)}."
    if target is not None:
        days = not unit  # business time in hours: a business day is not 24 hours
        used = f"Used {humanize(clock.used, days)} of the {humanize(target.duration, days)} target{unit}."
    stop = ""
    if clock.stopped_at is not None:
        stop = (f"resolved {when(clock.stopped_at)}" if clock.name == RESOLUTION
                else f"answered {when(clock.stopped_at)}" if clock.stopped_by == "engineer_replied"
                else f"stopped {when(clock.stopped_at)}, when the ticket was resolved without an answer")
    if target is None:
        return [used] + ([f"Stopped: {stop}."] if stop else [])
    if clock.status is ClockStatus.BREACHED:
        breach = f"Breached at {when(clock.breached_at)}"
        if stop:
            return [used, f"{breach}; {stop}, {amount(clock.overrun)} over the target."]
        state = "paused" if clock.paused else "still running"
        return [used, f"{breach}; {state}, {amount(clock.overrun)} over the target so far."]
    if clock.status is ClockStatus.MET:
        return [used, f"Met: {stop}, {amount(clock.remaining)} to spare (it was due {when(clock.due)})."]
    if clock.status is ClockStatus.PAUSED:
        return [used, f"No due time while paused: {amount(clock.remaining)} left when it resumes."]
    return [f"{used[:-1]}; {amount(clock.remaining)} left.", f"Due {when(clock.due)} if nothing pauses it."]


@dataclass(frozen=True)
class _Words:
    """Moments in the calendar's zone (UTC for 24x7), amounts of its time (hours for business time)."""

    calendar: BusinessCalendar

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(self.calendar.tz)
        return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}"

    def amount(self, duration: timedelta) -> str:
        if self.calendar is _ALL_HOURS:
            return humanize(duration)
        return humanize(duration, days=False) + " of business time"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
