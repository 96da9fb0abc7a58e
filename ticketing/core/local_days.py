"""Local days of an IANA time zone, in UTC: where a date begins, its wall-clock spans as instants,
and the days a UTC-offset change falls on (pure).

:func:`working_intervals` turns a date's working spans (minutes after local midnight) into the UTC
intervals whose wall time lies in them, across any DST change that day: a span edge on a wall time
the spring-forward change skips falls at the change itself; a span ending inside the repeated hour
of a fall-back day covers that part of the hour twice (00:00-01:30 is 00:00-01:30 before the change
and 01:00-01:30 after it). :func:`midnight` is where a local date begins; :func:`change_days` lists a
year's DST-change days.

Assumed of the zone, as of every zone in use today: no change within a week undoes another, and
none sends the clock back across midnight into the date it just left from a time other than
midnight.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.timelines import UTC, DayIntervals, Interval, dates

MINUTE = timedelta(minutes=1)

Span = tuple[int, int]  # minutes after local midnight: [start, end)

_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)


def working_intervals(tz: ZoneInfo, day: date, spans: tuple[Span, ...]) -> DayIntervals:
    """The UTC intervals whose wall time on local date ``day`` lies in one of ``spans``."""
    if not spans:
        return DayIntervals((), _ZERO)
    start, end = midnight(tz, day), midnight(tz, day + _DAY)
    local = datetime.combine(day, time(), UTC)
    intervals: list[Interval] = []
    for low, high, offset in _pieces(tz, start, end):
        origin = local - offset  # local midnight, read with this piece's offset
        for first, last in spans:
            a, b = max(low, origin + first * MINUTE), min(high, origin + last * MINUTE)
            if a >= b:
                continue
            if intervals and intervals[-1][1] >= a:  # touching spans, or one cut by a change
                previous = intervals.pop()
                a, b = previous[0], max(previous[1], b)
            intervals.append((a, b))
    return DayIntervals(tuple(intervals), sum((b - a for a, b in intervals), _ZERO))


def _pieces(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the UTC offset changes, each piece with its offset."""
    pieces = []
    while True:
        offset = _offset(tz, start)
        if _offset(tz, end - _SECOND) == offset:
            pieces.append((start, end, offset))
            return pieces
        low, high = start, end - _SECOND  # low has the offset, high another: bisect in seconds
        while high - low > _SECOND:
            middle = low + (high - low) // _SECOND // 2 * _SECOND
            low, high = (middle, high) if _offset(tz, middle) == offset else (low, middle)
        pieces.append((start, high, offset))
        start = high


def _offset(tz: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(tz).utcoffset()


def midnight(tz: ZoneInfo, day: date) -> datetime:
    """The instant (UTC) local date ``day`` begins.

    Where a change skips midnight (Santiago, Cairo), zones skip from midnight on, and reading
    it with the offset before the change (fold=0) gives the change's instant; where midnight
    repeats (Havana), fold=0 gives its first occurrence.
    """
    return datetime.combine(day, time(), tz).astimezone(UTC)


def change_days(tz: ZoneInfo, year: int) -> list[date]:
    """The local dates of ``year`` whose midnights differ in UTC offset: the DST-change days.

    Weeks with one offset at both ends are skipped (no zone changes and changes back within
    a week), so a year costs some 60 offset look-ups.
    """
    def offset(day: date) -> timedelta:
        return datetime.combine(day, time(), tz).utcoffset()

    changes = []
    week = date(year, 1, 1)
    while week.year == year:
        following = week + timedelta(days=7)
        if offset(week) != offset(following):
            changes += [d for d in dates(week, following) if d.year == year and offset(d) != offset(d + _DAY)]
        week = following
    return changes
