"""Timelines: working time laid out as UTC intervals and integer microseconds (pure).

The arithmetic under :class:`~ticketing.core.calendars.BusinessCalendar`: a :class:`DayIntervals` is
one local date's working intervals in UTC; a :class:`Timeline` is a year of them in microseconds
since the epoch with running totals, so a point in business time is one bisection away. The
helpers spend a duration on intervals (:func:`consume`), measure their overlap with a range
(:func:`overlap`) and merge pauses (:func:`union`).

Errors: ``ValueError`` for a naive datetime (:func:`utc`).
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
MICROSECOND = timedelta(microseconds=1)

Interval = tuple[datetime, datetime]  # UTC instants: [start, end)

_ZERO = timedelta(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Timeline:
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

    @classmethod
    def of(cls, begin: datetime, end: datetime, intervals: Iterable[Interval]) -> Timeline:
        """The timeline of the year [begin, end) whose working intervals (UTC, in order) are ``intervals``."""
        starts, ends, before, reached, total = [], [], [], [], 0
        for low, high in intervals:
            a, b = micros(low), micros(high)
            starts.append(a)
            ends.append(b)
            before.append(total)
            total += b - a
            reached.append(total)
        return cls(micros(begin), micros(end), tuple(starts), tuple(ends), tuple(before), tuple(reached), total)

    def position(self, at: int) -> int:
        """The business time of the year before the instant ``at``."""
        i = bisect_right(self.ends, at)
        if i == len(self.ends):
            return self.total
        return self.before[i] + max(at - self.starts[i], 0)


@dataclass(frozen=True)
class DayIntervals:
    """One local date's working time."""

    intervals: tuple[Interval, ...]  # UTC, ordered, disjoint, touching ones joined
    total: timedelta


def consume(intervals: tuple[Interval, ...], start: datetime, left: timedelta) -> tuple[datetime | None, timedelta]:
    """Spend ``left`` on ``intervals`` from ``start``: the instant it runs out, or None and what is left."""
    for low, high in intervals:
        if high <= start:
            continue
        low = max(low, start)
        if left <= high - low:
            return low + left, _ZERO
        left -= high - low
    return None, left


def overlap(intervals: tuple[Interval, ...], start: datetime, end: datetime) -> timedelta:
    """How much of ``intervals`` lies inside [start, end)."""
    total = _ZERO
    for low, high in intervals:
        low, high = max(low, start), min(high, end)
        if low < high:
            total += high - low
    return total


def union(pauses: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[Interval]:
    """``pauses`` cut to [start, end), sorted, overlapping and touching ones merged."""
    cut = sorted((max(utc(a), start), min(utc(b), end)) for a, b in pauses)
    merged: list[Interval] = []
    for low, high in cut:
        if low >= high:
            continue
        if merged and merged[-1][1] >= low:
            previous = merged.pop()
            low, high = previous[0], max(previous[1], high)
        merged.append((low, high))
    return merged


def micros(moment: datetime) -> int:
    """``moment`` in microseconds since the epoch."""
    return (moment - _EPOCH) // MICROSECOND


def moment_of(micros: int) -> datetime:
    """The UTC instant ``micros`` microseconds after the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def utc(moment: datetime) -> datetime:
    """The aware ``moment`` in UTC; ValueError for a naive one."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a business calendar needs aware datetimes, not {moment!r}")
    return moment.astimezone(UTC)


def dates(first: date, stop: date) -> Iterator[date]:
    """The dates [first, stop)."""
    return (first + timedelta(days=i) for i in range((stop - first).days))
