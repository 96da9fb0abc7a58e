"""Placing an engagement's meetings in time (pure).

:func:`plan` takes a playbook, the engagement's dates, the engineer's business calendar and other
commitments, and ``now``, and places every meeting: inside its window of business days relative to
its anchor, inside the engineer's working hours and a reasonable part of the customer's day, not
on holidays or the engineer's days away, not overlapping the engineer's other meetings (with a
buffer), after the meeting it is anchored on, and never in the past. The same inputs give the same
plan. A meeting that cannot be placed is reported with the constraint that failed; the rest are
placed.

Both sides' calendars
    A meeting with customers also falls on a working day of the customer's own calendar
    (``customer``: their working week, public holidays and the reasonable part of their day, see
    :mod:`ticketing.core.meeting_calendars`) and, with the other meetings of the engagement, at most
    ``max_customer_meetings_per_day`` of them on one of the customer's days (the playbook's number
    wins). Internal meetings need neither. A playbook's own calendar (``binding``) binds every
    meeting as well as the engineer's hours, and window days are counted on it; when the two leave
    no time for a meeting, the playbook's calendar wins: the meeting is placed in its hours (the
    engineer's days away and other meetings still count) with a warning telling the engineer.

Meetings that follow others
    A meeting starts after the meetings of its ``after`` as well as its anchor; when its window
    leaves no time after them, a window after its anchor gives way (it is placed at the first time
    after them) and one before it (a pre-launch review) holds. Either way, and when a meeting rooted
    at the go-live falls before a meeting of an earlier phase, it carries a warning naming both
    meetings and their dates (:mod:`ticketing.core.plan_order`).

The closing meeting
    A meeting marked ``closes`` ends the engagement for the customer: a customer meeting that lands
    after it (a weekly check point's last repeat) is dropped, reported as unplaced with the reason.

Re-planning (a new go-live date) passes the current placements as ``previous``: a meeting keeps its
time when it still satisfies every rule given its anchors' new times, so only what must change
changes, and meetings anchored on a moved meeting move with it when they must.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.meeting_calendars import customer_calendar
from ticketing.core.plan_order import after_it, before_predecessors, last_of
from ticketing.core.playbooks import MeetingSpec, Playbook

UTC = ZoneInfo("UTC")
SLOT_MINUTES = 30  # start times are on the hour or the half hour
DEFAULT_BUFFER = timedelta(minutes=15)
#: A reasonable part of the customer's day for a meeting (local wall-clock minutes).
CUSTOMER_DAY = (8 * 60, 18 * 60)
#: At most this many meetings with the customer on one of their days, when neither the playbook nor
#: the caller says.
MAX_CUSTOMER_MEETINGS_PER_DAY = 2


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
    #: The customer's working week and holidays; None: Monday to Friday, ``customer_day``, in ``customer_tz``.
    customer: BusinessCalendar | None = None
    #: The playbook's own business calendar, binding as well as the engineer's; None: the engineer's alone.
    binding: BusinessCalendar | None = None
    max_customer_meetings_per_day: int = MAX_CUSTOMER_MEETINGS_PER_DAY
    #: What warnings call each meeting, by key (e.g. its rendered title); a meeting not in it, its key.
    names: dict[str, str] = field(default_factory=dict)

    @cached_property
    def customer_calendar(self) -> BusinessCalendar:
        return self.customer or customer_calendar(self.customer_tz, None, self.customer_day)

    @property
    def counting(self) -> BusinessCalendar:
        """The calendar whose business days windows count: the playbook's, else the engineer's."""
        return self.binding or self.calendar

    @property
    def per_day(self) -> int:
        return self.playbook.max_customer_meetings_per_day or self.max_customer_meetings_per_day


@dataclass
class _Booked:
    """What is taken so far: the engineer's times, and the customer meetings per customer day."""

    taken: list[tuple[datetime, datetime]]
    customer_days: dict[date, int] = field(default_factory=dict)


def occurrence_keys(spec: MeetingSpec) -> list[str]:
    return [spec.key] + [f"{spec.key}#{n}" for n in range(2, spec.repeat_count + 1)]


def plan(given: PlanInput) -> Plan:
    """Place every meeting of ``given.playbook``; see the module docstring."""
    placed: dict[str, Placement] = {}
    unplaced: list[Unplaced] = []
    booked = _Booked(list(given.busy))
    for spec in given.playbook.order():
        first: Placement | None = None
        previous_day: date | None = None
        previous_end: datetime | None = None
        for number, key in enumerate(occurrence_keys(spec), start=1):
            preferred = None
            if number == 1:
                anchor = _anchor(spec, given, placed)
                if isinstance(anchor, str):
                    unplaced.append(Unplaced(key, spec.key, anchor))
                    break
                anchor_day, not_before = anchor
                earliest, latest = spec.window.earliest, spec.window.latest
                follows = _follows(spec, given, placed, unplaced)
                if isinstance(follows, str):
                    unplaced.append(Unplaced(key, spec.key, follows))
                    break
            else:
                anchor_day, earliest, latest = _repeat_window(spec, number, first, previous_day, given)
                not_before = previous_end
                local = first.start.astimezone(given.calendar.tz)
                preferred = time(local.hour, local.minute)  # the first one's local time
            result = _place(spec, key, number, anchor_day, earliest, latest, not_before, given, booked,
                            follows if number == 1 else None, preferred)
            if isinstance(result, Unplaced):
                unplaced.append(result)
                break
            placed[key] = result
            booked.taken.append((result.start, result.end))
            if spec.with_customer:
                day = result.start.astimezone(given.customer_calendar.tz).date()
                booked.customer_days[day] = booked.customer_days.get(day, 0) + 1
            first = first or result
            previous_day = result.start.astimezone(given.counting.tz).date()
            previous_end = result.end
    unplaced += _after_closing(given, placed)
    for key, warning in before_predecessors(given.playbook, placed, given.golive, given.counting.tz, given.names).items():
        placed[key] = replace(placed[key], warning="; ".join(filter(None, (placed[key].warning, warning))))
    ordered = sorted(placed.values(), key=lambda p: (p.start, p.key))
    return Plan(tuple(ordered), tuple(unplaced))


def _repeat_window(spec: MeetingSpec, number: int, first: Placement, previous_day: date,
                   given: PlanInput) -> tuple[date, int, int]:
    """The day a repeat's window counts from, and the window: (day, earliest, latest).

    When ``repeat_every`` is a whole number of the counting calendar's working weeks, occurrence
    ``number`` aims at the first one's weekday that many weeks on (its local time is preferred
    too), and may go up to two business days later when that day is a holiday or full: the
    repeats stay a weekly series (:mod:`ticketing.core.series`) and one shifted occurrence does
    not drag the ones after it. Otherwise it follows the one before by ``repeat_every`` business
    days (a day or two later when that day is full).
    """
    counting = given.counting
    per_week = sum(1 for hours in counting.hours if hours)
    if per_week and spec.repeat_every % per_week == 0:
        first_day = first.start.astimezone(counting.tz).date()
        weeks = spec.repeat_every // per_week * (number - 1)
        return first_day + timedelta(weeks=weeks), 0, 2
    return previous_day, spec.repeat_every, spec.repeat_every + 2


def _after_closing(given: PlanInput, placed: dict[str, Placement]) -> list[Unplaced]:
    """Take the customer meetings not yet held that start after the closing meeting out of ``placed``."""
    closing = next((s for s in given.playbook.meetings if s.closes), None)
    end = placed.get(closing.key) if closing else None
    if end is None:
        return []
    dropped = []
    for key, placement in list(placed.items()):
        spec = given.playbook.meeting(placement.spec_key)
        if spec.key != closing.key and spec.with_customer and placement.start > end.start and placement.start > given.now:
            del placed[key]
            day = end.start.astimezone(given.counting.tz).date()
            dropped.append(Unplaced(key, spec.key, f"after the closing meeting ({closing.key}, {day.isoformat()}): not held"))
    return dropped


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
    return anchor.start.astimezone(given.counting.tz).date(), anchor.end


def _follows(spec: MeetingSpec, given: PlanInput, placed: dict[str, Placement],
             unplaced: list[Unplaced]) -> Placement | None | str:
    """The placed occurrence ending last among the meetings of ``spec.after``; or why it must wait."""
    ends = []
    for other in spec.after:
        last = last_of(other, placed)
        if last is None:
            waiting = any(u.spec_key == other and u.reason == "waiting for the go-live date" for u in unplaced)
            return "waiting for the go-live date" if waiting else f"the meeting it follows, '{other}', could not be placed"
        ends.append(last)
    return max(ends, key=lambda p: p.end, default=None)


def _place(spec: MeetingSpec, key: str, number: int, anchor_day: date, earliest: int, latest: int,
           not_before: datetime | None, given: PlanInput, booked: _Booked,
           follows: Placement | None = None, preferred: time | None = None) -> Placement | Unplaced:
    if preferred is not None:
        spec = replace(spec, preferred_time=preferred)  # a repeat keeps the first occurrence's time
    counting = given.counting
    free_of_it = not_before  # the lower bound without the meetings of ``after``
    if follows is not None:
        not_before = max(filter(None, (not_before, follows.end)))
    first_day = counting.add_days(anchor_day, earliest)
    last_day = counting.add_days(anchor_day, latest)
    old = given.previous.get(key)
    if old is not None:
        if old[0] <= given.now:
            return Placement(key, spec.key, number, old[0], old[1])  # begun or held: history
        keep_lower = max(filter(None, (not_before, given.now)))
        if _fits(spec, old[0], first_day, last_day, keep_lower, given, booked, ignore=old) or (
                # placed in the playbook's calendar because the engineer's hours left no room: it stays there
                given.binding is not None and _fits(spec, old[0], first_day, last_day, keep_lower,
                                                    replace(given, calendar=given.binding, binding=None), booked, ignore=old)):
            return Placement(key, spec.key, number, old[0], old[1])
    lower = max(filter(None, (not_before, given.now + given.notice)))
    window = (anchor_day, earliest, latest, number)
    start, warning = _search(spec, first_day, last_day, lower, window, given, booked)
    if start is None and given.binding is not None:
        # Nothing inside both the engineer's hours and the playbook's: the playbook's calendar wins.
        start, warning = _search(spec, first_day, last_day, lower, window,
                                 replace(given, calendar=given.binding, binding=None), booked)
        if start is not None:
            warning = "; ".join(filter(None, (
                f"outside your working hours: the playbook's calendar ({given.binding.name}) binds it", warning)))
    if start is None and follows is not None:
        start, warning = _beside(spec, first_day, last_day, latest, free_of_it, follows, given, booked)
    if start is None:
        return Unplaced(key, spec.key, _why_not(spec, first_day, last_day, lower, given, booked))
    return Placement(key, spec.key, number, start, start + spec.duration, warning)


def _beside(spec: MeetingSpec, first_day: date, last_day: date, latest: int, free_of_it: datetime | None,
            follows: Placement, given: PlanInput, booked: _Booked) -> tuple[datetime | None, str]:
    """No time in the window after the meetings of ``after``: a window before its anchor holds (the
    warning comes with the others that fall before a meeting they follow); one after it gives way to
    the first time after them, up to ten business days beyond the window."""
    if latest < 0:
        lower = max(filter(None, (free_of_it, given.now + given.notice)))
        return _first_slot(spec, first_day, last_day, lower, given, booked), ""
    lower = max(follows.end, given.now + given.notice)
    day = max(first_day, lower.astimezone(given.counting.tz).date())
    start = _first_slot(spec, day, given.counting.add_days(max(day, last_day), 10), lower, given, booked)
    if start is None:
        return None, ""
    moved = Placement(spec.key, spec.key, 1, start, start + spec.duration)
    return start, after_it(spec, moved, follows, given.playbook.root_anchor(spec.key), given.golive,
                           given.counting.tz, given.names)


def _search(spec: MeetingSpec, first_day: date, last_day: date, lower: datetime, window: tuple[date, int, int, int],
            given: PlanInput, booked: _Booked) -> tuple[datetime | None, str]:
    """The best start in the window, else (a go-live meeting too close) the earliest before the day, and a warning."""
    anchor_day, earliest, latest, number = window
    start = _first_slot(spec, first_day, last_day, lower, given, booked)
    if start is None and spec.anchor == "golive" and latest < 0 and number == 1:
        # Too close: the earliest possible slot before the go-live day itself, and say so.
        start = _first_slot(spec, lower.astimezone(given.counting.tz).date(), anchor_day - timedelta(days=1), lower,
                            given, booked)
        if start is not None:
            return start, (f"the go-live date {anchor_day.isoformat()} leaves no room {abs(latest)}-{abs(earliest)} "
                           "business days before it: placed at the earliest possible time")
    return start, ""


def _days(first_day: date, last_day: date, given: PlanInput) -> list[date]:
    """The engineer's local dates to look at for a window of the counting calendar's dates: a day
    more on each side when the two calendars' zones differ."""
    pad = timedelta(days=0 if given.calendar.tz.key == given.counting.tz.key else 1)
    day, days = first_day - pad, []
    while day <= last_day + pad:
        days.append(day)
        day += timedelta(days=1)
    return days


def _first_slot(spec: MeetingSpec, first_day: date, last_day: date, lower: datetime, given: PlanInput,
                booked: _Booked) -> datetime | None:
    """The best start in the window: the earliest day that has room, the slot nearest the preferred time."""
    for day in _days(first_day, last_day, given):
        slots = [s for s in _candidate_starts(spec, day, given) if _fits(spec, s, first_day, last_day, lower, given, booked)]
        if slots:
            if spec.preferred_time is not None:
                wanted = datetime.combine(day, spec.preferred_time)
                return min(slots, key=lambda s: (abs(s.astimezone(given.calendar.tz).replace(tzinfo=None) - wanted), s))
            return slots[0]
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
          booked: _Booked, ignore: tuple[datetime, datetime] | None = None) -> bool:
    return not _conflicts(spec, start, first_day, last_day, lower, given, booked, ignore)


def _conflicts(spec: MeetingSpec, start: datetime, first_day: date, last_day: date, lower: datetime,
               given: PlanInput, booked: _Booked, ignore: tuple[datetime, datetime] | None = None) -> str | None:
    """The first rule ``start`` breaks, or None."""
    end = start + spec.duration
    if start < lower:
        return "in the past or before the meeting it follows"
    if not first_day <= start.astimezone(given.counting.tz).date() <= last_day:
        return "outside the window"
    if start.astimezone(given.calendar.tz).date() in given.away:
        return "the engineer is out of office"
    if not _inside(given.calendar, start, spec.duration):
        return "outside the engineer's working hours"
    if given.binding is not None and not _inside(given.binding, start, spec.duration):
        return "outside the playbook's calendar"
    if spec.with_customer:
        reason = _customer_conflict(start, end, given, booked)
        if reason:
            return reason
    for busy_start, busy_end in booked.taken:
        if ignore is not None and (busy_start, busy_end) == ignore:
            continue
        if start < busy_end + given.buffer and busy_start < end + given.buffer:
            return "the engineer has another meeting then"
    return None


def _inside(cal: BusinessCalendar, start: datetime, duration: timedelta) -> bool:
    """Whether [start, start + duration) lies in one working span of ``cal``'s local date of ``start``."""
    local = start.astimezone(cal.tz)
    minute = local.hour * 60 + local.minute
    length = int(duration.total_seconds() // 60)
    return any(s <= minute and minute + length <= e for s, e in cal.spans(local.date()))


def _customer_conflict(start: datetime, end: datetime, given: PlanInput, booked: _Booked) -> str | None:
    """Why the customer cannot meet then: not their working day, not their day's hours, their day full."""
    customer = given.customer_calendar
    local_start, local_end = start.astimezone(customer.tz), end.astimezone(customer.tz)
    day = local_start.date()
    if not customer.is_working_day(day):
        return "a public holiday of the customer" if customer.holiday(day) else "outside the customer's working week"
    begins, ends = local_start.hour * 60 + local_start.minute, local_end.hour * 60 + local_end.minute
    if local_end.date() != day or not any(low <= begins and ends <= high for low, high in customer.spans(day)):
        return "outside a reasonable part of the customer's day"
    if booked.customer_days.get(day, 0) >= given.per_day:
        return f"the customer has {given.per_day} meetings that day already"
    return None


def _why_not(spec: MeetingSpec, first_day: date, last_day: date, lower: datetime, given: PlanInput,
             booked: _Booked) -> str:
    """Say which constraint left no slot: the one that ruled out the most promising candidates."""
    window = f"{first_day.isoformat()} to {last_day.isoformat()}"
    if last_day < lower.astimezone(given.counting.tz).date():
        return f"its window ({window}) has passed"
    counts: dict[str, int] = {}
    any_working = False
    for day in _days(first_day, last_day, given):
        if first_day <= day <= last_day and given.counting.is_working_day(day):
            any_working = True
        for start in _candidate_starts(spec, day, given):
            reason = _conflicts(spec, start, first_day, last_day, lower, given, booked)
            if reason and reason != "outside the window":
                counts[reason] = counts.get(reason, 0) + 1
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

