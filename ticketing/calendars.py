"""Business calendars: when a team works, in its own time zone (pure).

A :class:`BusinessCalendar` has an IANA time zone, working hours per weekday (several spans a day
allowed), public holidays from the ``holidays`` package and extra closed or open dates. Holidays
and closures are *local dates* of the calendar, never UTC instants, so a holiday is the whole local
day whatever the offset, and a DST change moves nothing.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")

import holidays as holidays_package

from .config import CalendarConfig, parse_spans
from .config.sections import WEEKDAYS

Span = tuple[int, int]  # minutes after local midnight: [start, end)


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    tz: ZoneInfo
    #: Working spans per weekday, Monday = 0.
    hours: tuple[tuple[Span, ...], ...]
    country: str | None = None
    subdivision: str | None = None
    closed: frozenset[date] = frozenset()
    opened: frozenset[date] = frozenset()
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

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
        """The working spans of local date ``day``: none on holidays and closed days."""
        if day in self.opened:
            return self.hours[day.weekday()] or next((h for h in self.hours if h), ())
        if day in self.closed or self.holiday(day) is not None:
            return ()
        return self.hours[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        return bool(self.spans(day))

    # -- moments ----------------------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether the aware ``moment`` falls inside working hours."""
        local = moment.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.spans(local.date()))

    def next_open(self, moment: datetime, horizon_days: int = 800) -> datetime:
        """The first moment at or after ``moment`` inside working hours (aware, UTC).

        Raises ValueError when the calendar has no working time within ``horizon_days``.
        """
        if self.is_open(moment):
            return moment.astimezone(UTC)
        local = moment.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        for offset in range(horizon_days):
            day = local.date() + timedelta(days=offset)
            for start, end in self.spans(day):
                if offset == 0 and minute >= end:
                    continue
                return self.local_moment(day, start)  # not open now, so this span is still ahead
        raise ValueError(f"calendar {self.name!r} has no working time in {horizon_days} days")

    def local_moment(self, day: date, minute: int) -> datetime:
        """The UTC instant of local wall time ``minute`` on ``day``.

        A wall time skipped by a spring-forward change reads with the offset before the change,
        so it lands an hour later on the clock; a repeated one takes its first occurrence.
        """
        naive = datetime.combine(day, time()) + timedelta(minutes=minute)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)


@functools.lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    return dict(holidays_package.country_holidays(country, subdiv=subdivision, years=year, observed=True))
