"""Business calendars: when a team works, in its own time zone, and business-time arithmetic (pure).

A :class:`BusinessCalendar` has an IANA time zone, working hours per weekday (several spans a day
allowed), public holidays from the ``holidays`` package and extra closed or open dates. Holidays
and closures are *local dates* of the calendar, never UTC instants, so a holiday is the whole local
day whatever the offset, and a DST change moves nothing. It is the one business-time calculator of
the application: routing asks :meth:`~BusinessCalendar.is_open`, SLA clocks :meth:`~BusinessCalendar.add`
and :meth:`~BusinessCalendar.elapsed`, meeting planning :meth:`~BusinessCalendar.spans_between`.

Business time
    An instant is business time when its wall-clock time, on its local date, lies in one of that
    date's working spans (:meth:`~BusinessCalendar.spans`). A business duration is the *real elapsed
    time* of those instants, measured in UTC, because that is what an SLA clock owes a customer: a
    span 08:00-17:00 is nine hours on any day (no change happens inside it), but a span 00:00-04:00
    lasts three hours on a spring-forward day and five on a fall-back day. A span edge on a wall time
    the spring-forward change skips falls at the change itself; a span ending inside the repeated
    hour of a fall-back day covers that part of the hour twice (00:00-01:30 is 00:00-01:30 before
    the change and 01:00-01:30 after it). Assumed of the zone, as of every zone in use today: no
    change within a week undoes another, and none sends the clock back across midnight into the
    date it just left from a time other than midnight.

Durations
    ``timedelta`` values, exact to the microsecond (``MINUTE`` is one minute); where a duration is
    taken, a number is read as minutes. Moments in are aware datetimes; moments out are UTC.

Closing edge
    ``add(m, d)`` for a positive ``d`` is the *earliest* instant by which ``d`` of business time has
    passed, so adding exactly what is left of a span lands on the span's end (Friday 16:00 plus one
    hour is Friday 17:00, not Monday 08:00). Adding nothing returns ``next_open(m)``.

Speed
    Each local year's working intervals are laid out once per calendar as a timeline in integer
    microseconds with running totals, so :meth:`~BusinessCalendar.add` and
    :meth:`~BusinessCalendar.elapsed` are two bisections within a few years (some 5 us). Beyond that
    (or near the ends of the dates Python represents), business time over whole days is counted by
    weekly pattern arithmetic, corrected by each year's exceptions (holidays, closed and open dates,
    DST-change days) with prefix sums; days are walked only at the two ends of a range, and nothing
    ever steps minute by minute. Tests hold both paths to the same answers on random inputs.

Errors: ``ValueError`` for a naive datetime, a negative duration, or a calendar with no working time
where some is needed; ``TypeError`` for a duration that is neither a ``timedelta`` nor a number.
"""
from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import holidays as holidays_package

from ticketing.config import CalendarConfig, parse_spans
from ticketing.config.sections import WEEKDAYS

UTC = ZoneInfo("UTC")
MINUTE = timedelta(minutes=1)

Span = tuple[int, int]  # minutes after local midnight: [start, end)
Interval = tuple[datetime, datetime]  # UTC instants: [start, end)

_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_TIME, _DAYS = 0, 1  # what a count adds up: business time, or working days
_WALK_DAYS = 14  # short additions walk this many days before counting arithmetically
_MICRO = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Local years the timelines cover (outside, the day-walking path answers, as it does for an
#: addition or a measure running over more than _FAST_YEARS_AHEAD years).
_FAST_YEARS = (3, 9997)
_FAST_YEARS_AHEAD = 3


@dataclass(frozen=True)
class BusinessCalendar:
    """One team's working time; build it with :meth:`from_config`. Immutable, and safe to share."""

    name: str
    tz: ZoneInfo
    #: Working spans per weekday, Monday = 0.
    hours: tuple[tuple[Span, ...], ...]
    country: str | None = None
    subdivision: str | None = None
    closed: frozenset[date] = frozenset()
    opened: frozenset[date] = frozenset()
    #: Days' intervals, years' exceptions and the weekly pattern, computed once (never compared);
    #: it grows with the days asked about, some 150 KB per calendar and year at worst.
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        fortnight = [self.hours[i % 7] for i in range(14)]
        self._cache["pattern"] = (
            tuple(accumulate((timedelta(minutes=_length(spans)) for spans in fortnight), initial=_ZERO)),
            tuple(accumulate((int(bool(spans)) for spans in fortnight), initial=0)),
        )
        # Open every minute of every day, with no holiday or closed day (the 24x7 clock): business
        # time is real elapsed time, so moments and amounts are plain arithmetic (exactly what the
        # timelines give, in microseconds) and :meth:`add` and :meth:`elapsed` skip them.
        self._cache["always"] = (all(spans == ((0, 24 * 60),) for spans in self.hours)
                                 and self.country is None and not self.closed)

    @classmethod
    def from_config(cls, config: CalendarConfig) -> "BusinessCalendar":
        hours = tuple(tuple(parse_spans(config.hours[day]) or ()) if day in config.hours else () for day in WEEKDAYS)
        return cls(
            name=config.name, tz=ZoneInfo(config.timezone), hours=hours, country=config.holidays,
            subdivision=config.subdivision, closed=frozenset(config.closed), opened=frozenset(config.open),
        )

    # -- days -------------------------------------------------------------------------------------

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on local date ``day`` (observed days included), or None."""
        if self.country is None:
            return None
        return _holidays(self.country, self.subdivision, day.year).get(day)

    def spans(self, day: date) -> tuple[Span, ...]:
        """The working spans of local date ``day``: none on holidays and closed days.

        An open date works its weekday's hours, or the first weekday's that has any.
        """
        if day in self.opened:
            return self.hours[day.weekday()] or next((h for h in self.hours if h), ())
        if day in self.closed or self.holiday(day) is not None:
            return ()
        return self.hours[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        """Whether local date ``day`` has working spans."""
        return bool(self.spans(day))

    def add_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` > 0) or before it (``n`` < 0).

        ``n`` = 0 gives ``day`` itself when it is a working day, else the next working day.
        Raises ValueError when the calendar has no working hours at all.
        """
        if n < 0:
            back = self._first(lambda k: self._count(_DAYS, day - timedelta(days=k), day) >= -n)
            return day - timedelta(days=back)
        start = day + _DAY if n else day  # n = 0 counts the day itself
        ahead = self._first(lambda k: self._count(_DAYS, start, start + timedelta(days=k)) >= max(n, 1))
        return start + timedelta(days=ahead - 1)

    def working_days_between(self, a: date, b: date) -> int:
        """The working days stepped on from ``a`` to ``b``: those in (a, b], or minus those in [b, a).

        So ``working_days_between(day, add_days(day, n)) == n`` for any n other than 0, and
        ``add_days(a, working_days_between(a, b)) == b`` for any working day ``b``.
        """
        if b >= a:
            return self._count(_DAYS, a + _DAY, b + _DAY)
        return -self._count(_DAYS, b, a)

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        return self.add_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day before ``day``."""
        return self.add_days(day, -1)

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` when it is a working day, else the next one."""
        return self.add_days(day, 0)

    # -- moments ----------------------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether the aware ``moment`` falls inside working hours (a span's end is outside it)."""
        moment = _utc(moment)
        return any(start <= moment < end for start, end in self._day(self._date(moment)).intervals)

    def next_open(self, moment: datetime, horizon_days: int = 800) -> datetime:
        """The first moment at or after ``moment`` inside working hours (aware, UTC).

        Raises ValueError when the calendar has no working time within ``horizon_days``.
        """
        moment = _utc(moment)
        first = self._date(moment)
        for offset in range(horizon_days):
            for start, end in self._day(first + timedelta(days=offset)).intervals:
                if end > moment:
                    return max(start, moment)
        raise ValueError(f"calendar {self.name!r} has no working time in {horizon_days} days")

    def add(self, moment: datetime, duration: timedelta | float) -> datetime:
        """The moment (UTC) by which ``duration`` of business time has passed since ``moment``.

        Counting starts at ``next_open(moment)``, which is also what a zero duration returns; a
        positive one gives the earliest such instant, so it is inside working hours or exactly the
        end of a working span. A number is minutes. Raises ValueError for a negative duration and
        when the calendar has no working time.
        """
        left = _duration(duration)
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = _utc(moment)  # raises the ValueError
        if self._cache["always"]:
            try:
                return _utc(moment) + left
            except OverflowError:
                pass  # past datetime.max: the reference path says so in its own words
        if _FAST_YEARS[0] <= moment.year <= _FAST_YEARS[1]:
            found = self._add_on_timelines(_micros(moment), moment.year, left // _MICRO)
            if found is not None:
                return found
        return self._add_by_days(_utc(moment), left)

    def _add_on_timelines(self, at: int, year: int, need: int) -> datetime | None:
        """:meth:`add` by bisection on the years' timelines (``year`` may be one off: the instant
        ``at``'s local year is looked up); None past :data:`_FAST_YEARS_AHEAD` years."""
        line = self._timeline(year)
        if not line.begin <= at < line.end:
            year += 1 if at >= line.end else -1
            line = self._timeline(year)
        for _ in range(_FAST_YEARS_AHEAD):
            i = bisect_right(line.ends, at)
            if i < len(line.ends):
                begin = max(line.starts[i], at)
                if not need:
                    return _moment(begin)
                goal = line.before[i] + (begin - line.starts[i]) + need
                if goal <= line.total:
                    j = bisect_left(line.reached, goal)  # the first interval by whose end it has passed
                    return _moment(line.starts[j] + goal - line.before[j])
                need, at = goal - line.total, line.ends[-1]
            year += 1
            if year > _FAST_YEARS[1]:
                return None
            line = self._timeline(year)
        return None

    def _add_by_days(self, moment: datetime, left: timedelta) -> datetime:
        """:meth:`add` walking days, then counting whole days arithmetically (the reference path)."""
        start = self.next_open(moment)
        if not left:
            return start
        day = self._date(start)
        for offset in range(_WALK_DAYS):
            done, left = _consume(self._day(day + timedelta(days=offset)).intervals, start, left)
            if done is not None:
                return done
        # Far away: count whole days arithmetically to find the day on which the rest runs out.
        first = day + timedelta(days=_WALK_DAYS)
        days = self._first(lambda k: self._count(_TIME, first, first + timedelta(days=k)) >= left)
        last = first + timedelta(days=days - 1)
        done, _ = _consume(self._day(last).intervals, start, left - self._count(_TIME, first, last))
        assert done is not None, "the day found holds the rest"
        return done

    def elapsed(self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]] = ()) -> timedelta:
        """The business time between ``start`` and ``end``, less the business time of ``pauses``.

        Zero when ``end`` <= ``start``. Pauses are (start, end) pairs of aware moments; they may
        overlap one another and reach outside [start, end) or outside working hours: only business
        time inside [start, end) that some pause covers is taken off, and only once.
        """
        start, end = _utc(start), _utc(end)
        if end <= start:
            return _ZERO
        if self._cache["always"]:
            total = end - start
            for low, high in _union(pauses, start, end) if pauses else ():
                total -= high - low
            return total
        total = self._measure(start, end)
        for low, high in _union(pauses, start, end) if pauses else ():
            total -= self._measure(low, high)
        return total

    def spans_between(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """The working intervals inside [start, end), in order, as (start, end) UTC pairs.

        Intervals are cut to [start, end); touching ones (spans 08:00-12:00 and 12:00-17:00, or a
        day ending at 24:00 and the next starting at 00:00) come out joined.
        """
        start, end = _utc(start), _utc(end)
        if end <= start:
            return
        pending: Interval | None = None
        day, last = self._date(start), self._date(end)
        while day <= last:
            for low, high in self._day(day).intervals:
                low, high = max(low, start), min(high, end)
                if low >= high:
                    continue
                if pending is not None and pending[1] == low:
                    pending = (pending[0], high)
                    continue
                if pending is not None:
                    yield pending
                pending = (low, high)
            day += _DAY
        if pending is not None:
            yield pending

    def local_moment(self, day: date, minute: int) -> datetime:
        """The UTC instant of local wall time ``minute`` on ``day``.

        A wall time skipped by a spring-forward change reads with the offset before the change,
        so it lands an hour later on the clock (RFC 5545, 3.3.5); a repeated one takes its first
        occurrence. (Business time itself never needs this reading: a span counts the instants
        whose wall time lies in it, so a span edge in the skipped hour falls at the change.)
        """
        naive = datetime.combine(day, time()) + timedelta(minutes=minute)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    # -- counting ---------------------------------------------------------------------------------

    def _date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _day(self, day: date) -> "_Day":
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._working_intervals(day)
        return found

    def _line_of(self, at: int, year: int) -> tuple["_Timeline", int]:
        """The timeline holding the instant ``at`` and its local year, ``year`` being its UTC year
        (a local year starts at most a day before or after the UTC one): no conversion to the zone."""
        line = self._timeline(year)
        if at < line.begin:
            year -= 1
        elif at >= line.end:
            year += 1
        else:
            return line, year
        return self._timeline(year), year

    def _timeline(self, year: int) -> "_Timeline":
        """The working intervals of the local dates of ``year`` in microseconds, with running totals."""
        key = ("line", year)
        found = self._cache.get(key)
        if found is None:
            starts, ends, before, reached, total = [], [], [], [], 0
            for day in _dates(date(year, 1, 1), date(year + 1, 1, 1)):
                for low, high in self._day(day).intervals:
                    a, b = _micros(low), _micros(high)
                    starts.append(a)
                    ends.append(b)
                    before.append(total)
                    total += b - a
                    reached.append(total)
            found = self._cache[key] = _Timeline(
                _micros(self._midnight(date(year, 1, 1))), _micros(self._midnight(date(year + 1, 1, 1))),
                tuple(starts), tuple(ends), tuple(before), tuple(reached), total)
        return found

    def _working_intervals(self, day: date) -> "_Day":
        """The UTC intervals whose wall time on local date ``day`` lies in one of its spans."""
        spans = self.spans(day)
        if not spans:
            return _Day((), _ZERO)
        start, end = self._midnight(day), self._midnight(day + _DAY)
        midnight = datetime.combine(day, time(), UTC)
        intervals: list[Interval] = []
        for low, high, offset in self._pieces(start, end):
            origin = midnight - offset  # local midnight, read with this piece's offset
            for first, last in spans:
                a, b = max(low, origin + first * MINUTE), min(high, origin + last * MINUTE)
                if a >= b:
                    continue
                if intervals and intervals[-1][1] >= a:  # touching spans, or one cut by a change
                    previous = intervals.pop()
                    a, b = previous[0], max(previous[1], b)
                intervals.append((a, b))
        return _Day(tuple(intervals), sum((b - a for a, b in intervals), _ZERO))

    def _pieces(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
        """[start, end) cut where the UTC offset changes, each piece with its offset."""
        pieces = []
        while True:
            offset = self._offset(start)
            if self._offset(end - _SECOND) == offset:
                pieces.append((start, end, offset))
                return pieces
            low, high = start, end - _SECOND  # low has the offset, high another: bisect in seconds
            while high - low > _SECOND:
                middle = low + (high - low) // _SECOND // 2 * _SECOND
                low, high = (middle, high) if self._offset(middle) == offset else (low, middle)
            pieces.append((start, high, offset))
            start = high

    def _offset(self, moment: datetime) -> timedelta:
        return moment.astimezone(self.tz).utcoffset()

    def _midnight(self, day: date) -> datetime:
        """The instant (UTC) local date ``day`` begins.

        Where a change skips midnight (Santiago, Cairo), zones skip from midnight on, and reading
        it with the offset before the change (fold=0) gives the change's instant; where midnight
        repeats (Havana), fold=0 gives its first occurrence.
        """
        return datetime.combine(day, time(), self.tz).astimezone(UTC)

    def _count(self, what: int, first: date, stop: date) -> timedelta | int:
        """Business time (``_TIME``) or working days (``_DAYS``) of the local dates [first, stop)."""
        if stop <= first:
            return 0 if what == _DAYS else _ZERO
        pattern = self._cache["pattern"][what]
        weeks, rest = divmod((stop - first).days, 7)
        weekday = first.weekday()
        total = pattern[7] * weeks + (pattern[weekday + rest] - pattern[weekday])
        for year in range(first.year, (stop - _DAY).year + 1):
            days, sums = self._exceptions(year)
            total += sums[what][bisect_left(days, stop)] - sums[what][bisect_left(days, first)]
        return total

    def _exceptions(self, year: int) -> tuple[tuple[date, ...], tuple[tuple, tuple]]:
        """The days of ``year`` the weekly pattern gets wrong, and prefix sums of its errors."""
        key = ("year", year)
        found = self._cache.get(key)
        if found is None:
            candidates = {d for d in self.closed | self.opened if d.year == year} | set(self._changes(year))
            if self.country is not None:
                candidates.update(d for d in _holidays(self.country, self.subdivision, year) if d.year == year)
            days, time_errors, day_errors = [], [], []
            for day in sorted(candidates):
                regular = self.hours[day.weekday()]
                time_error = self._day(day).total - timedelta(minutes=_length(regular))
                day_error = int(self.is_working_day(day)) - int(bool(regular))
                if time_error or day_error:
                    days.append(day)
                    time_errors.append(time_error)
                    day_errors.append(day_error)
            sums = (tuple(accumulate(time_errors, initial=_ZERO)), tuple(accumulate(day_errors, initial=0)))
            found = self._cache[key] = (tuple(days), sums)
        return found

    def _changes(self, year: int) -> list[date]:
        """The local dates of ``year`` whose midnights differ in UTC offset: the DST-change days.

        Weeks with one offset at both ends are skipped (no zone changes and changes back within
        a week), so a year costs some 60 offset look-ups.
        """
        def offset(day: date) -> timedelta:
            return datetime.combine(day, time(), self.tz).utcoffset()

        changes = []
        week = date(year, 1, 1)
        while week.year == year:
            following = week + timedelta(days=7)
            if offset(week) != offset(following):
                changes += [d for d in _dates(week, following) if d.year == year and offset(d) != offset(d + _DAY)]
            week = following
        return changes

    def _measure(self, start: datetime, end: datetime) -> timedelta:
        """The business time in [start, end), both UTC and start < end."""
        if _FAST_YEARS[0] < start.year and end.year < _FAST_YEARS[1]:
            a, b = _micros(start), _micros(end)
            (low, first), (high, last) = self._line_of(a, start.year), self._line_of(b, end.year)
            if last - first < _FAST_YEARS_AHEAD:
                total = high.position(b) - low.position(a)
                if last > first:
                    total += sum(self._timeline(year).total for year in range(first, last))
                return timedelta(microseconds=total)
        first, last = self._date(start).year, self._date(end).year
        if _FAST_YEARS[0] <= first and last <= _FAST_YEARS[1] and last - first < _FAST_YEARS_AHEAD:
            low, high = self._timeline(first), self._timeline(last)
            total = high.position(_micros(end)) - low.position(_micros(start))
            total += sum(self._timeline(year).total for year in range(first, last))
            return timedelta(microseconds=total)
        return self._measure_by_days(start, end)

    def _measure_by_days(self, start: datetime, end: datetime) -> timedelta:
        """:meth:`_measure` walking the two end days, counting those between arithmetically."""
        first, last = self._date(start), self._date(end)
        if first == last:
            return _overlap(self._day(first).intervals, start, end)
        return (_overlap(self._day(first).intervals, start, _LATEST) + self._count(_TIME, first + _DAY, last)
                + _overlap(self._day(last).intervals, _EARLIEST, end))

    def _first(self, enough: Callable[[int], bool]) -> int:
        """The smallest k >= 1 for which ``enough(k)`` holds, ``enough`` growing with k."""
        if not any(self.hours):
            raise ValueError(f"calendar {self.name!r} has no working hours")
        low, high, step = 0, 1, 7
        try:
            while not enough(high):
                low, high, step = high, high + step, step * 2
        except OverflowError:
            raise ValueError(f"calendar {self.name!r}: the answer lies outside the dates Python represents") from None
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if enough(middle) else (middle, high)
        return high


@dataclass(frozen=True)
class _Timeline:
    """A year's working intervals [starts[i], ends[i]) in microseconds since the epoch, in order;
    ``before[i]`` is the business time of the year before interval i, ``reached[i]`` by its end;
    [begin, end) is the year itself, from local midnight to local midnight."""

    begin: int
    end: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    before: tuple[int, ...]
    reached: tuple[int, ...]
    total: int

    def position(self, at: int) -> int:
        """The business time of the year before the instant ``at``."""
        i = bisect_right(self.ends, at)
        if i == len(self.ends):
            return self.total
        return self.before[i] + max(at - self.starts[i], 0)


@dataclass(frozen=True)
class _Day:
    intervals: tuple[Interval, ...]  # UTC, ordered, disjoint, touching ones joined
    total: timedelta


def _consume(intervals: tuple[Interval, ...], start: datetime, left: timedelta) -> tuple[datetime | None, timedelta]:
    """Spend ``left`` on ``intervals`` from ``start``: the instant it runs out, or None and what is left."""
    for low, high in intervals:
        if high <= start:
            continue
        low = max(low, start)
        if left <= high - low:
            return low + left, _ZERO
        left -= high - low
    return None, left


def _overlap(intervals: tuple[Interval, ...], start: datetime, end: datetime) -> timedelta:
    total = _ZERO
    for low, high in intervals:
        low, high = max(low, start), min(high, end)
        if low < high:
            total += high - low
    return total


def _union(pauses: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[Interval]:
    """``pauses`` cut to [start, end), sorted, overlapping and touching ones merged."""
    cut = sorted((max(_utc(a), start), min(_utc(b), end)) for a, b in pauses)
    merged: list[Interval] = []
    for low, high in cut:
        if low >= high:
            continue
        if merged and merged[-1][1] >= low:
            previous = merged.pop()
            low, high = previous[0], max(previous[1], high)
        merged.append((low, high))
    return merged


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a business calendar needs aware datetimes, not {moment!r}")
    return moment.astimezone(UTC)


def _duration(duration: timedelta | float) -> timedelta:
    if isinstance(duration, timedelta):
        value = duration
    elif isinstance(duration, (int, float)):
        value = timedelta(minutes=duration)
    else:
        raise TypeError(f"a duration is a timedelta or a number of minutes, not {duration!r}")
    if value < _ZERO:
        raise ValueError(f"a business duration cannot be negative: {duration!r}")
    return value


def _dates(first: date, stop: date) -> Iterator[date]:
    return (first + timedelta(days=i) for i in range((stop - first).days))


def _length(spans: tuple[Span, ...]) -> int:
    return sum(end - start for start, end in spans)


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None for a missing or unknown name (values from inbound mail)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    return dict(holidays_package.country_holidays(country, subdiv=subdivision, years=year, observed=True))
