"""Placing an engagement's meetings in time (pure).

:func:`plan` takes a playbook, the engagement's dates, the engineer's business calendar and other
commitments, and ``now``, and places every meeting: inside its window of business days relative to
its anchor, inside the engineer's working hours and a reasonable part of the customer's day, not
on holidays or the engineer's days away, not overlapping the engineer's other meetings (with a
buffer), after the meeting it is anchored on, and never in the past. The same inputs give the same
plan. A meeting that cannot be placed is reported with the constraint that failed; the rest are
placed.

Re-planning (a new go-live date) passes the current placements as ``previous``: a meeting keeps its
time when it still satisfies every rule given its anchors' new times, so only what must change
changes, and meetings anchored on a moved meeting move with it when they must.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.playbooks import MeetingSpec, Playbook

UTC = ZoneInfo("UTC")
SLOT_MINUTES = 30  # start times are on the hour or the half hour
DEFAULT_BUFFER = timedelta(minutes=15)
#: A reasonable part of the customer's day for a meeting (local wall-clock minutes).
CUSTOMER_DAY = (8 * 60, 18 * 60)
#: How far past the window's last day a too-close meeting may still be placed (business days).
_SEARCH_LIMIT_DAYS = 400


@dataclass(frozen=True)
class Placement:
    """Where one occurrence of a meeting went."""

    key: str  # the playbook's meeting key; a repeat adds "#2", "#3" ...
    spec_key: str
    occurrence: int  # 1 for the first
    start: datetime  # aware, UTC
    end: datetime
    warning: str = ""  # e.g. the go-live date was too close for the window

    def as_json(self) -> dict:
        return {"key": self.key, "start": self.start.isoformat(), "end": self.end.isoformat(), "warning": self.warning}


@dataclass(frozen=True)
class Unplaced:
    key: str
    spec_key: str
    reason: str


@dataclass(frozen=True)
class Plan:
    placed: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]

    def get(self, key: str) -> Placement | None:
        return next((p for p in self.placed if p.key == key), None)


@dataclass(frozen=True)
class PlanInput:
    playbook: Playbook
    start: date  # the engagement's start (contract close), a local date of the engineer's calendar
    golive: date | None
    calendar: BusinessCalendar  # the engineer's
    customer_tz: ZoneInfo
    now: datetime
    busy: tuple[tuple[datetime, datetime], ...] = ()  # the engineer's other meetings
    away: frozenset[date] = frozenset()  # the engineer's out-of-office dates
    previous: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)  # current placements by key
    buffer: timedelta = DEFAULT_BUFFER
    customer_day: tuple[int, int] = CUSTOMER_DAY
    #: The least notice a newly placed meeting gets; a meeting already placed keeps its time even
    #: inside it (its invitation went out), and one that has begun or passed is never moved.
    notice: timedelta = timedelta(0)


def occurrence_keys(spec: MeetingSpec) -> list[str]:
    return [spec.key] + [f"{spec.key}#{n}" for n in range(2, spec.repeat_count + 1)]


def plan(given: PlanInput) -> Plan:
    """Place every meeting of ``given.playbook``; see the module docstring."""
    placed: dict[str, Placement] = {}
    unplaced: list[Unplaced] = []
    taken = list(given.busy)
    for spec in given.playbook.order():
        previous_day: date | None = None
        previous_end: datetime | None = None
        for number, key in enumerate(occurrence_keys(spec), start=1):
            if number == 1:
                anchor = _anchor(spec, given, placed)
                if isinstance(anchor, str):
                    unplaced.append(Unplaced(key, spec.key, anchor))
                    break
                anchor_day, not_before = anchor
                earliest, latest = spec.window.earliest, spec.window.latest
            else:
                # A repeat follows the one before by ``repeat_every`` business days (a day or two
                # later when that day is full).
                anchor_day, not_before = previous_day, previous_end
                earliest, latest = spec.repeat_every, spec.repeat_every + 2
            result = _place(spec, key, number, anchor_day, earliest, latest, not_before, given, taken)
            if isinstance(result, Unplaced):
                unplaced.append(result)
                break
            placed[key] = result
            taken.append((result.start, result.end))
            previous_day = result.start.astimezone(given.calendar.tz).date()
            previous_end = result.end
    ordered = sorted(placed.values(), key=lambda p: (p.start, p.key))
    return Plan(tuple(ordered), tuple(unplaced))


def _anchor(spec: MeetingSpec, given: PlanInput, placed: dict[str, Placement]) -> tuple[date, datetime | None] | str:
    """The day a meeting's window counts from, and the moment it must start after; or why there is none."""
    if spec.anchor == "start":
        return given.start, None
    if spec.anchor == "golive":
        if given.golive is None:
            return "waiting for the go-live date"
        return given.golive, None
    other = spec.anchor.partition(":")[2]
    anchor = placed.get(other)
    if anchor is None:
        return f"its anchor '{other}' could not be placed"
    return anchor.start.astimezone(given.calendar.tz).date(), anchor.end


def _place(spec: MeetingSpec, key: str, number: int, anchor_day: date, earliest: int, latest: int,
           not_before: datetime | None, given: PlanInput, taken: list[tuple[datetime, datetime]]) -> Placement | Unplaced:
    cal = given.calendar
    first_day = _shift(cal, anchor_day, earliest)
    last_day = _shift(cal, anchor_day, latest)
    old = given.previous.get(key)
    if old is not None:
        if old[0] <= given.now:
            return Placement(key, spec.key, number, old[0], old[1])  # begun or held: history
        keep_lower = max(filter(None, (not_before, given.now)))
        if _fits(spec, old[0], first_day, last_day, keep_lower, given, taken, ignore=old):
            return Placement(key, spec.key, number, old[0], old[1])
    lower = max(filter(None, (not_before, given.now + given.notice)))
    warning = ""
    before_golive = spec.anchor == "golive" and latest < 0 and number == 1
    start = _first_slot(spec, first_day, last_day, lower, given, taken)
    if start is None and before_golive:
        # Too close: the earliest possible slot before the go-live day itself, and say so.
        start = _first_slot(spec, lower.astimezone(cal.tz).date(), anchor_day - timedelta(days=1), lower, given, taken)
        if start is not None:
            warning = (f"the go-live date {anchor_day.isoformat()} leaves no room {abs(latest)}-{abs(earliest)} "
                       "business days before it: placed at the earliest possible time")
    if start is None:
        return Unplaced(key, spec.key, _why_not(spec, first_day, last_day, lower, given, taken))
    return Placement(key, spec.key, number, start, start + spec.duration, warning)


def _shift(cal: BusinessCalendar, day: date, business_days: int) -> date:
    return cal.add_days(day, business_days)


def _first_slot(spec: MeetingSpec, first_day: date, last_day: date, lower: datetime, given: PlanInput,
                taken: list[tuple[datetime, datetime]]) -> datetime | None:
    """The best start in the window: the earliest day that has room, the slot nearest the preferred time."""
    day = first_day
    while day <= last_day:
        slots = [s for s in _candidate_starts(spec, day, given) if _fits(spec, s, first_day, last_day, lower, given, taken)]
        if slots:
            if spec.preferred_time is not None:
                wanted = datetime.combine(day, spec.preferred_time)
                return min(slots, key=lambda s: (abs(s.astimezone(given.calendar.tz).replace(tzinfo=None) - wanted), s))
            return slots[0]
        day += timedelta(days=1)
    return None


def _candidate_starts(spec: MeetingSpec, day: date, given: PlanInput) -> list[datetime]:
    cal = given.calendar
    minutes = int(spec.duration.total_seconds() // 60)
    starts = []
    for span_start, span_end in cal.spans(day):
        first = -(-span_start // SLOT_MINUTES) * SLOT_MINUTES
        for minute in range(first, span_end - minutes + 1, SLOT_MINUTES):
            starts.append(cal.local_moment(day, minute))
    return starts


def _fits(spec: MeetingSpec, start: datetime, first_day: date, last_day: date, lower: datetime, given: PlanInput,
          taken: list[tuple[datetime, datetime]], ignore: tuple[datetime, datetime] | None = None) -> bool:
    return not _conflicts(spec, start, first_day, last_day, lower, given, taken, ignore)


def _conflicts(spec: MeetingSpec, start: datetime, first_day: date, last_day: date, lower: datetime,
               given: PlanInput, taken: list[tuple[datetime, datetime]],
               ignore: tuple[datetime, datetime] | None = None) -> str | None:
    """The first rule ``start`` breaks, or None."""
    cal = given.calendar
    end = start + spec.duration
    local = start.astimezone(cal.tz)
    day = local.date()
    if start < lower:
        return "in the past or before the meeting it follows"
    if not first_day <= day <= last_day:
        return "outside the window"
    if day in given.away:
        return "the engineer is out of office"
    minute = local.hour * 60 + local.minute
    length = int(spec.duration.total_seconds() // 60)
    if not any(s <= minute and minute + length <= e for s, e in cal.spans(day)):
        return "outside the engineer's working hours"
    customer_start = start.astimezone(given.customer_tz)
    customer_end = end.astimezone(given.customer_tz)
    low, high = given.customer_day
    if (customer_start.date() != customer_end.date()
            or customer_start.hour * 60 + customer_start.minute < low
            or customer_end.hour * 60 + customer_end.minute > high):
        return "outside a reasonable part of the customer's day"
    for busy_start, busy_end in taken:
        if ignore is not None and (busy_start, busy_end) == ignore:
            continue
        if start < busy_end + given.buffer and busy_start < end + given.buffer:
            return "the engineer has another meeting then"
    return None


def _why_not(spec: MeetingSpec, first_day: date, last_day: date, lower: datetime, given: PlanInput,
             taken: list[tuple[datetime, datetime]]) -> str:
    """Say which constraint left no slot: the one that ruled out the most promising candidates."""
    window = f"{first_day.isoformat()} to {last_day.isoformat()}"
    if last_day < lower.astimezone(given.calendar.tz).date():
        return f"its window ({window}) has passed"
    counts: dict[str, int] = {}
    day = first_day
    any_working = False
    while day <= last_day:
        if given.calendar.is_working_day(day):
            any_working = True
        for start in _candidate_starts(spec, day, given):
            reason = _conflicts(spec, start, first_day, last_day, lower, given, taken)
            if reason:
                counts[reason] = counts.get(reason, 0) + 1
        day += timedelta(days=1)
    if not any_working:
        return f"no working day in its window ({window}): holidays or closed days"
    if not counts:
        return f"no slot of {int(spec.duration.total_seconds() // 60)} minutes fits the working hours in {window}"
    worst = max(counts, key=lambda r: (counts[r], r))
    return f"no time in {window}: {worst}"


def local_label(moment: datetime, end: datetime, tz: ZoneInfo) -> str:
    """e.g. "Tue 1 Dec 2026, 10:00-10:30 EST" in ``tz``."""
    start_local, end_local = moment.astimezone(tz), end.astimezone(tz)
    return f"{start_local:%a} {start_local.day} {start_local:%b %Y}, {start_local:%H:%M}-{end_local:%H:%M} {end_local:%Z}"

