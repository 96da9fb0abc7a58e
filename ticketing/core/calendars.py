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
    lasts three hours on a spring-forward day and five on a fall-back day. How span edges fall on
    DST-change days is drawn in :mod:`ticketing.core.local_days`.

Durations
    ``timedelta`` values, exact to the microsecond (``MINUTE`` is one minute); where a duration is
    taken, a number is read as minutes. Moments in are aware datetimes; moments out are UTC.

Closing edge
    ``add(m, d)`` for a positive ``d`` is the *earliest* instant by which ``d`` of business time has
    passed, so adding exactly what is left of a span lands on the span's end (Friday 16:00 plus one
    hour is Friday 17:00, not Monday 08:00). Adding nothing returns ``next_open(m)``.

Speed
    Each local year's working intervals are laid out once per calendar as a
    :class:`~ticketing.core.timelines.Timeline`, so :meth:`~BusinessCalendar.add` and
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
from ticketing.core.local_days import (
    MINUTE,
    Span,
    change_days,
    midnight,
    working_intervals,
)
from ticketing.core.timelines import (
    MICROSECOND,
    UTC,
    DayIntervals,
    Interval,
    Timeline,
    consume,
    dates,
    micros,
    moment_of,
    overlap,
    union,
    utc,
)

__all__ = ["MINUTE", "UTC", "BusinessCalendar", "Interval", "Span", "zone"]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_TIME, _DAYS = 0, 1  # what a count adds up: business time, or working days
_WALK_DAYS = 14  # short additions walk this many days before counting arithmetically
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
        moment = utc(moment)
        return any(start <= moment < end for start, end in self._day(self._date(moment)).intervals)

    def next_open(self, moment: datetime, horizon_days: int = 800) -> datetime:
        """The first moment at or after ``moment`` inside working hours (aware, UTC).

        Raises ValueError when the calendar has no working time within ``horizon_days``.
        """
        moment = utc(moment)
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
            moment = utc(moment)  # raises the ValueError
        if self._cache["always"]:
            try:
                return utc(moment) + left
            except OverflowError:
                pass  # past datetime.max: the reference path says so in its own words
        if _FAST_YEARS[0] <= moment.year <= _FAST_YEARS[1]:
            found = self._add_on_timelines(micros(moment), moment.year, left // MICROSECOND)
            if found is not None:
                return found
        return self._add_by_days(utc(moment), left)

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
                    return moment_of(begin)
                goal = line.before[i] + (begin - line.starts[i]) + need
                if goal <= line.total:
                    j = bisect_left(line.reached, goal)  # the first interval by whose end it has passed
                    return moment_of(line.starts[j] + goal - line.before[j])
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
            done, left = consume(self._day(day + timedelta(days=offset)).intervals, start, left)
            if done is not None:
                return done
        # Far away: count whole days arithmetically to find the day on which the rest runs out.
        first = day + timedelta(days=_WALK_DAYS)
        days = self._first(lambda k: self._count(_TIME, first, first + timedelta(days=k)) >= left)
        last = first + timedelta(days=days - 1)
        done, _ = consume(self._day(last).intervals, start, left - self._count(_TIME, first, last))
        assert done is not None, "the day found holds the rest"
        return done

    def elapsed(self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]] = ()) -> timedelta:
        """The business time between ``start`` and ``end``, less the business time of ``pauses``.

        Zero when ``end`` <= ``start``. Pauses are (start, end) pairs of aware moments; they may
        overlap one another and reach outside [start, end) or outside working hours: only business
        time inside [start, end) that some pause covers is taken off, and only once.
        """
        start, end = utc(start), utc(end)
        if end <= start:
            return _ZERO
        if self._cache["always"]:
            total = end - start
            for low, high in union(pauses, start, end) if pauses else ():
                total -= high - low
            return total
        total = self._measure(start, end)
        for low, high in union(pauses, start, end) if pauses else ():
            total -= self._measure(low, high)
        return total

    def spans_between(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """The working intervals inside [start, end), in order, as (start, end) UTC pairs.

        Intervals are cut to [start, end); touching ones (spans 08:00-12:00 and 12:00-17:00, or a
        day ending at 24:00 and the next starting at 00:00) come out joined.
        """
        start, end = utc(start), utc(end)
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

    def _day(self, day: date) -> DayIntervals:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = working_intervals(self.tz, day, self.spans(day))
        return found

    def _line_of(self, at: int, year: int) -> tuple[Timeline, int]:
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

    def _timeline(self, year: int) -> Timeline:
        """The working intervals of the local dates of ``year`` in microseconds, with running totals."""
        key = ("line", year)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = Timeline.of(
                midnight(self.tz, date(year, 1, 1)), midnight(self.tz, date(year + 1, 1, 1)),
                (interval for day in dates(date(year, 1, 1), date(year + 1, 1, 1)) for interval in self._day(day).intervals))
        return found

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
            candidates = {d for d in self.closed | self.opened if d.year == year} | set(change_days(self.tz, year))
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

    def _measure(self, start: datetime, end: datetime) -> timedelta:
        """The business time in [start, end), both UTC and start < end."""
        if _FAST_YEARS[0] < start.year and end.year < _FAST_YEARS[1]:
            a, b = micros(start), micros(end)
            (low, first), (high, last) = self._line_of(a, start.year), self._line_of(b, end.year)
            if last - first < _FAST_YEARS_AHEAD:
                total = high.position(b) - low.position(a)
                if last > first:
                    total += sum(self._timeline(year).total for year in range(first, last))
                return timedelta(microseconds=total)
        first, last = self._date(start).year, self._date(end).year
        if _FAST_YEARS[0] <= first and last <= _FAST_YEARS[1] and last - first < _FAST_YEARS_AHEAD:
            low, high = self._timeline(first), self._timeline(last)
            total = high.position(micros(end)) - low.position(micros(start))
            total += sum(self._timeline(year).total for year in range(first, last))
            return timedelta(microseconds=total)
        return self._measure_by_days(start, end)

    def _measure_by_days(self, start: datetime, end: datetime) -> timedelta:
        """:meth:`_measure` walking the two end days, counting those between arithmetically."""
        first, last = self._date(start), self._date(end)
        if first == last:
            return overlap(self._day(first).intervals, start, end)
        return (overlap(self._day(first).intervals, start, _LATEST) + self._count(_TIME, first + _DAY, last)
                + overlap(self._day(last).intervals, _EARLIEST, end))

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
