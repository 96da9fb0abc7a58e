"""Whether a repeated meeting's occurrences are one weekly series (pure).

The planner places every occurrence of a repeated meeting (QuickStart's check points, the
professional-services project calls) on its own, honouring holidays and both sides' hours.
:func:`weekly_series` then decides how they are sent: as one recurring event (RFC 5545 3.8.5:
``RRULE:FREQ=WEEKLY;COUNT=n`` in the organizer's zone, an EXDATE for each week without an
occurrence, and an overriding instance, by RECURRENCE-ID, for each occurrence at another time),
or, when they are too irregular, as separate events.

The rule
    The series' weekday, local time and duration are those most of the occurrences share (a tie
    goes to the earliest occurrence's). Each occurrence belongs to the week whose rule day is the
    latest on or before it (the planner moves an occurrence later, past a holiday, never earlier), or
    the next one, at most three days later, when the occurrence before took that week; the first
    belongs to the nearest. Its RECURRENCE-ID is that week's rule time. The
    series runs from the first occurrence's week to the last one's (COUNT weeks); a week without
    an occurrence is an EXDATE. It is **one series** when there are at least two occurrences, no
    two fall in the same week, and more than half of the series' weeks (skipped weeks included)
    hold an occurrence exactly at the rule's time and length. Otherwise they are sent separately.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Occurrence:
    """One placed occurrence of a repeated meeting: its key (``check-point#2``) and aware times."""

    key: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Instance:
    """An occurrence in its series: ``recurrence_id`` is its week's rule time (aware, in the series' zone)."""

    key: str
    recurrence_id: datetime
    start: datetime
    end: datetime
    #: Not at its week's rule time and length: sent as an overriding VEVENT.
    overridden: bool = False


@dataclass(frozen=True)
class WeeklySeries:
    """One weekly recurring event: ``start`` (aware, in ``tz``) is DTSTART, the first week's rule time."""

    tz: ZoneInfo
    start: datetime
    duration: timedelta
    count: int
    exdates: tuple[datetime, ...]
    instances: tuple[Instance, ...]

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def overrides(self) -> tuple[Instance, ...]:
        return tuple(i for i in self.instances if i.overridden)

    def instance(self, key: str) -> Instance | None:
        return next((i for i in self.instances if i.key == key), None)

    def same_rule(self, other: WeeklySeries | None) -> bool:
        """Whether ``other`` has the same master (DTSTART, length, COUNT, EXDATEs, zone)."""
        return other is not None and (self.tz.key, self.start, self.duration, self.count, self.exdates) == (
            other.tz.key, other.start, other.duration, other.count, other.exdates)


def weekly_series(occurrences: Sequence[Occurrence], tz: ZoneInfo) -> WeeklySeries | None:
    """The weekly series of ``occurrences`` in the organizer's zone ``tz``, or None when they are
    to be sent separately (see the module docstring for the rule)."""
    if len(occurrences) < 2:
        return None
    ordered = sorted(occurrences, key=lambda o: (o.start, o.key))
    local = [o.start.astimezone(tz) for o in ordered]
    # The most common weekday and wall time; Counter keeps first-seen order, so a tie goes to the earliest.
    (weekday, wall), _ = Counter((t.weekday(), time(t.hour, t.minute)) for t in local).most_common(1)[0]
    duration, _ = Counter(o.end - o.start for o in ordered).most_common(1)[0]
    days = _rule_days([t.date() for t in local], weekday)
    if days is None:
        return None  # two in one week: not weekly
    first = days[0]
    weeks = [(d - first).days // 7 for d in days]
    count = weeks[-1] + 1
    instances = tuple(
        Instance(o.key, _at(d, wall, tz), o.start.astimezone(tz), o.end.astimezone(tz),
                 o.start != _at(d, wall, tz) or o.end - o.start != duration)
        for o, d in zip(ordered, days)
    )
    regular = sum(1 for i in instances if not i.overridden)
    if regular * 2 <= count:
        return None
    exdates = tuple(_at(first + timedelta(weeks=w), wall, tz) for w in range(count) if w not in set(weeks))
    return WeeklySeries(tz, _at(first, wall, tz), duration, count, exdates, instances)


def _rule_days(days: list[date], weekday: int) -> list[date] | None:
    """The rule day (a date of ``weekday``) of each of the ordered ``days``, or None when two share one.

    The first takes the nearest; each other the latest on or before it (the planner moves an
    occurrence later, past a holiday, not earlier), or the next one, up to three days after it,
    when the one before took that week.
    """
    found: list[date] = []
    for day in days:
        if not found:
            found.append(day + timedelta(days=(weekday - day.weekday() + 3) % 7 - 3))
            continue
        rule_day = day - timedelta(days=(day.weekday() - weekday) % 7)
        if rule_day <= found[-1]:
            rule_day += timedelta(weeks=1)
            if rule_day - day > timedelta(days=3):
                return None
        found.append(rule_day)
    return found


def _at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz)
