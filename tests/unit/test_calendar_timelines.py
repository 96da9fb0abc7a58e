"""The fast path of business-time arithmetic (a year's intervals as a timeline, bisected) gives exactly
what the day-walking path gives, on random moments, durations and calendars: year ends in zones on
both sides of UTC, DST changes, holidays, closed and open dates, moments in any offset."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketing.config import CalendarConfig
from ticketing.config.sections import WEEKDAYS
from ticketing.core.calendars import UTC, BusinessCalendar
from ticketing.core.sla import _ALL_HOURS
from ticketing.core.timelines import union as _union


def calendar(**kwargs) -> BusinessCalendar:
    return BusinessCalendar.from_config(CalendarConfig(**kwargs))


def fresh() -> list[BusinessCalendar]:
    return [
        calendar(name="los-angeles", timezone="America/Los_Angeles", holidays="US", subdivision="CA"),
        calendar(name="berlin", timezone="Europe/Berlin", holidays="DE", subdivision="BE",
                 hours=dict.fromkeys(WEEKDAYS[:5], "08:00-12:00,13:00-17:00")),
        calendar(name="sydney", timezone="Australia/Sydney", hours=dict.fromkeys(WEEKDAYS[:5], "09:00-17:30"),
                 holidays="AU", subdivision="NSW", closed=(date(2026, 12, 24), date(2027, 6, 30)),
                 open=(date(2026, 10, 3), date(2026, 1, 26))),
        calendar(name="night", timezone="America/Los_Angeles", hours=dict.fromkeys(WEEKDAYS, "00:00-04:00,20:00-24:00")),
        calendar(name="kiritimati", timezone="Pacific/Kiritimati", hours={"sat": "10:00-11:00"}),
        _ALL_HOURS,
    ]


CALENDARS = [pytest.param(index, id=cal.name) for index, cal in enumerate(fresh())]
PROPERTIES = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
ZONES = [UTC, ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"),
         timezone(timedelta(hours=-3, minutes=-30))]
FIRST = datetime(2025, 1, 1, tzinfo=UTC)

#: Anywhere in 2025-2029, on the hour (span edges), or within two days of a New Year (where a local
#: year and the UTC one differ).
moments = st.one_of(
    st.integers(0, 5 * 366 * 86400 * 10**6).map(lambda us: FIRST + timedelta(microseconds=us)),
    st.integers(0, 5 * 366 * 24).map(lambda hours: FIRST + timedelta(hours=hours)),
    st.builds(lambda year, seconds: datetime(year, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds),
              st.integers(2025, 2029), st.integers(-2 * 86400, 2 * 86400)),
).flatmap(lambda moment: st.sampled_from(ZONES).map(lambda zone: moment.astimezone(zone)))
#: Nothing, half hours (landing on span ends), minutes, or up to five years of business time (past
#: the timelines' three years).
durations = st.one_of(st.just(timedelta(0)), st.integers(1, 600).map(lambda m: timedelta(minutes=m)),
                      st.integers(1, 400).map(lambda n: timedelta(minutes=30 * n)),
                      st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5 * 365)))


@pytest.mark.parametrize("index", [p.values[0] for p in CALENDARS], ids=[p.id for p in CALENDARS])
@PROPERTIES
@given(moment=moments, duration=durations)
def test_adding_on_the_timelines_lands_where_walking_the_days_does(index, moment, duration):
    cal, reference = fresh()[index], fresh()[index]  # fresh caches: neither path reuses the other's days
    assert cal.add(moment, duration) == reference._add_by_days(moment.astimezone(UTC), duration)


@pytest.mark.parametrize("index", [p.values[0] for p in CALENDARS], ids=[p.id for p in CALENDARS])
@PROPERTIES
@given(start=moments, length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=4 * 365)))
def test_business_time_measured_on_the_timelines_is_what_walking_the_days_measures(index, start, length):
    cal, reference = fresh()[index], fresh()[index]
    start = start.astimezone(UTC)
    assert cal._measure(start, start + length) == reference._measure_by_days(start, start + length)


def test_an_addition_from_the_last_instant_of_a_year_runs_into_the_next():
    berlin = fresh()[1]
    silvester = datetime.combine(date(2026, 12, 31), time(23, 59, 59), ZoneInfo("Europe/Berlin"))
    # After hours on Thursday 31 December; 1 January a holiday, then the weekend: Monday 4 January.
    assert berlin.add(silvester, timedelta(hours=1)) == datetime(2027, 1, 4, 8, tzinfo=UTC)  # 09:00 CET


ROUND_THE_CLOCK = [_ALL_HOURS, calendar(name="berlin-24x7", timezone="Europe/Berlin", hours=dict.fromkeys(WEEKDAYS, "00:00-24:00"))]


@pytest.mark.parametrize("index", [0, 1], ids=[c.name for c in ROUND_THE_CLOCK])
@PROPERTIES
@given(start=moments, length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
       pauses=st.lists(st.tuples(st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=400)),
                                 st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))), max_size=4))
def test_a_round_the_clock_calendar_measures_with_pauses_what_walking_the_days_measures(index, start, length, pauses):
    """Open every minute, such a calendar answers by plain arithmetic; it must be the reference's answer."""
    cal = ROUND_THE_CLOCK[index]
    reference = BusinessCalendar(name="walk", tz=cal.tz, hours=cal.hours)  # fresh caches
    start = start.astimezone(UTC)
    end = start + length
    spans = [(start + offset, start + offset + width) for offset, width in pauses]
    expected = reference._measure_by_days(start, end) if end > start else timedelta(0)
    for low, high in _union(spans, start, end):
        expected -= reference._measure_by_days(low, high)
    assert cal._cache["always"]
    assert cal.elapsed(start, end, spans) == expected
