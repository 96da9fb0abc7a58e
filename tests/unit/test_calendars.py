"""Business time: the algebra of add, elapsed and add_days as properties, then DST days and holidays by hand.

The properties run on four calendars: Los Angeles 8-17 on weekdays with US/CA holidays, Berlin with a
lunch break and DE/BE holidays, Sydney (southern DST) with a closed date and open dates, and a Los
Angeles night desk whose spans 00:00-04:00 and 20:00-24:00 contain the DST changes themselves.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta, timezone

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketing.config import CalendarConfig
from ticketing.config.sections import WEEKDAYS
from ticketing.core.calendars import MINUTE, UTC, BusinessCalendar


def calendar(**kwargs) -> BusinessCalendar:
    return BusinessCalendar.from_config(CalendarConfig(**kwargs))


def los_angeles() -> BusinessCalendar:
    return calendar(name="los-angeles", timezone="America/Los_Angeles", holidays="US", subdivision="CA")


def berlin() -> BusinessCalendar:
    lunch = dict.fromkeys(WEEKDAYS[:5], "08:00-12:00,13:00-17:00")
    return calendar(name="berlin", timezone="Europe/Berlin", hours=lunch, holidays="DE", subdivision="BE")


def sydney() -> BusinessCalendar:
    return calendar(
        name="sydney", timezone="Australia/Sydney", hours=dict.fromkeys(WEEKDAYS[:5], "09:00-17:30"),
        holidays="AU", subdivision="NSW",
        closed=(date(2026, 12, 24), date(2027, 6, 30)),
        open=(date(2026, 10, 3), date(2026, 1, 26), date(2028, 2, 5)),  # two Saturdays and Australia Day
    )


def night_desk() -> BusinessCalendar:
    return calendar(name="night", timezone="America/Los_Angeles", hours=dict.fromkeys(WEEKDAYS, "00:00-04:00,20:00-24:00"))


def odd_hours() -> BusinessCalendar:
    """Span edges inside the repeated hour (01:30) and the skipped hour (02:30) of Los Angeles."""
    hours = dict.fromkeys(WEEKDAYS, "00:00-01:30,02:30-05:00,12:00-13:00")
    return calendar(name="odd", timezone="America/Los_Angeles", hours=hours)


LA, BERLIN, SYDNEY, NIGHT, ODD = los_angeles(), berlin(), sydney(), night_desk(), odd_hours()
CALENDARS = [pytest.param(c, id=c.name) for c in (LA, BERLIN, SYDNEY, NIGHT, ODD)]

#: The DST-change days 2025-2028 of the three zones.
CHANGE_DAYS = {
    "America/Los_Angeles": ["2025-03-09", "2025-11-02", "2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07",
                            "2028-03-12", "2028-11-05"],
    "Europe/Berlin": ["2025-03-30", "2025-10-26", "2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31",
                      "2028-03-26", "2028-10-29"],
    "Australia/Sydney": ["2025-04-06", "2025-10-05", "2026-04-05", "2026-10-04", "2027-04-04", "2027-10-03",
                         "2028-04-02", "2028-10-01"],
}

PROPERTIES = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)


def local(cal: BusinessCalendar, *fields: int) -> datetime:
    """A wall time of the calendar's zone (first occurrence if repeated), as an aware datetime."""
    return datetime(*fields, tzinfo=cal.tz)


@functools.cache
def moments(cal: BusinessCalendar) -> st.SearchStrategy[datetime]:
    """Aware UTC moments over 2025-2028: anywhere, within two days of a DST change, or on a span edge."""
    anywhere = st.integers(0, int((LAST - FIRST).total_seconds())).map(lambda s: FIRST + timedelta(seconds=s))
    changes = [date.fromisoformat(d) for d in CHANGE_DAYS[cal.tz.key]]
    near_change = st.builds(
        lambda day, seconds: datetime.combine(day, time(12), cal.tz).astimezone(UTC) + timedelta(seconds=seconds),
        st.sampled_from(changes), st.integers(-2 * 86400, 2 * 86400),
    )
    edges = sorted({edge for spans in cal.hours for span in spans for edge in span} | {0})
    on_edge = st.builds(
        lambda day, minute: (datetime.combine(day, time()) + minute * MINUTE).replace(tzinfo=cal.tz).astimezone(UTC),
        st.one_of(st.sampled_from(changes), st.dates(date(2025, 1, 1), date(2028, 12, 31))), st.sampled_from(edges),
    )
    fraction = st.one_of(st.just(0), st.just(1), st.integers(0, 59_999_999))  # microseconds
    return st.builds(lambda m, us: m + timedelta(microseconds=us), st.one_of(anywhere, near_change, on_edge), fraction)


#: Minutes (a number) or a timedelta with seconds and microseconds; from nothing to ~18 months of work.
durations = st.one_of(
    st.integers(0, 24 * 60), st.integers(0, 200_000),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
)


def as_timedelta(duration) -> timedelta:
    return duration if isinstance(duration, timedelta) else duration * MINUTE


def span_ends(cal: BusinessCalendar, moment: datetime) -> set[datetime]:
    return {end for _, end in cal.spans_between(moment - timedelta(days=3), moment + timedelta(days=3))}


def open_by_the_wall_clock(cal: BusinessCalendar, moment: datetime) -> bool:
    """The plain definition, read off the local clock: is the wall minute in a span of its local date?"""
    wall = moment.astimezone(cal.tz)
    minute = wall.hour * 60 + wall.minute
    return any(start <= minute < end for start, end in cal.spans(wall.date()))


# -- the algebra of business time -----------------------------------------------------------------------


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data(), duration=durations)
def test_business_time_added_is_business_time_elapsed(cal, data, duration):
    moment = data.draw(moments(cal))
    assert cal.elapsed(moment, cal.add(moment, duration)) == as_timedelta(duration)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data(), duration=durations)
def test_an_addition_lands_at_the_earliest_moment_inside_hours_or_on_the_end_of_a_span(cal, data, duration):
    moment = data.draw(moments(cal))
    result = cal.add(moment, duration)
    assert result.tzinfo is UTC
    if not as_timedelta(duration):
        assert result == cal.next_open(moment) and cal.is_open(result)
        return
    assert result > cal.next_open(moment)
    assert cal.is_open(result) or result in span_ends(cal, result)
    assert cal.elapsed(moment, result - timedelta(microseconds=1)) < as_timedelta(duration)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data(), first=durations, second=durations)
def test_adding_more_lands_later_and_additions_compose(cal, data, first, second):
    moment = data.draw(moments(cal))
    small, large = sorted([as_timedelta(first), as_timedelta(second)])
    if small < large:
        assert cal.add(moment, small) < cal.add(moment, large)
    else:
        assert cal.add(moment, small) == cal.add(moment, large)
    if large:
        assert cal.add(cal.add(moment, small), large) == cal.add(moment, small + large)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data(), duration=durations)
def test_a_later_start_never_finishes_earlier(cal, data, duration):
    early, late = sorted([data.draw(moments(cal)), data.draw(moments(cal))])
    assert cal.add(early, duration) <= cal.add(late, duration)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data())
def test_elapsed_is_additive_and_is_the_length_of_the_spans_between(cal, data):
    a, b, c = sorted(data.draw(moments(cal)) for _ in range(3))
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert cal.elapsed(c, a) == timedelta(0) and cal.elapsed(a, a) == timedelta(0)
    spans = list(cal.spans_between(a, c))
    assert sum((end - start for start, end in spans), timedelta(0)) == cal.elapsed(a, c)
    assert all(a <= start < end <= c for start, end in spans)
    assert all(first[1] < second[0] for first, second in zip(spans, spans[1:]))


@pytest.mark.parametrize("cal", CALENDARS)
@settings(PROPERTIES, max_examples=40)
@given(data=st.data(), minutes=st.integers(0, 3 * 24 * 60),
       pauses=st.lists(st.tuples(st.integers(-600, 4500), st.integers(0, 900)), max_size=4))
def test_elapsed_counts_the_minutes_the_wall_clock_calls_open_and_no_pause_covers(cal, data, minutes, pauses):
    start = data.draw(moments(cal)).replace(second=0, microsecond=0)
    end = start + minutes * MINUTE
    pauses = [(start + offset * MINUTE, start + (offset + length) * MINUTE) for offset, length in pauses]
    counted = 0
    for i in range(minutes):
        minute = start + i * MINUTE
        if open_by_the_wall_clock(cal, minute) and not any(low <= minute < high for low, high in pauses):
            counted += 1
    assert cal.elapsed(start, end, pauses) == counted * MINUTE
    sample = [start + i * MINUTE for i in range(0, minutes, 7)]
    assert [cal.is_open(moment) for moment in sample] == [open_by_the_wall_clock(cal, moment) for moment in sample]


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(data=st.data())
def test_a_pause_takes_its_business_time_off_once_however_often_it_is_given(cal, data):
    a, p, q, c = sorted(data.draw(moments(cal)) for _ in range(4))
    without = cal.elapsed(a, p) + cal.elapsed(q, c)
    assert cal.elapsed(a, c, [(p, q)]) == without
    assert cal.elapsed(a, c, [(p, q), (p, q), (q - (q - p) / 3, q)]) == without
    assert cal.elapsed(a, c, [(q, p)]) == cal.elapsed(a, c)  # backwards: empty
    assert cal.elapsed(a, c, [(a - timedelta(days=9), c + timedelta(days=9))]) == timedelta(0)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(day=st.dates(date(2025, 1, 1), date(2028, 12, 31)), other=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
       n=st.integers(-400, 400), m=st.integers(1, 60))
def test_add_days_and_working_days_between_undo_each_other(cal, day, other, n, m):
    landed = cal.add_days(day, n)
    assert cal.is_working_day(landed)
    if n == 0:
        assert landed == cal.working_day_on_or_after(day) >= day
        assert not any(cal.is_working_day(day + timedelta(days=i)) for i in range((landed - day).days))
    else:
        assert cal.working_days_between(day, landed) == n
        assert (landed > day) == (n > 0)
    target = cal.working_day_on_or_after(other)
    assert cal.add_days(day, cal.working_days_between(day, target)) == target
    same_sign = m if n >= 0 else -m
    assert cal.add_days(cal.add_days(day, n or 1), same_sign) == cal.add_days(day, (n or 1) + same_sign)


@pytest.mark.parametrize("cal", CALENDARS)
@PROPERTIES
@given(a=st.dates(date(2025, 1, 1), date(2028, 12, 31)), days=st.integers(-500, 500))
def test_working_days_between_counts_what_is_working_day_says(cal, a, days):
    b = a + timedelta(days=days)
    if b >= a:
        expected = sum(cal.is_working_day(a + timedelta(days=i)) for i in range(1, days + 1))
    else:
        expected = -sum(cal.is_working_day(b + timedelta(days=i)) for i in range(-days))
    assert cal.working_days_between(a, b) == expected
    following, before = cal.next_working_day(a), cal.previous_working_day(a)
    assert before < a < following and cal.is_working_day(before) and cal.is_working_day(following)
    assert cal.working_days_between(a, following) == 1 and cal.working_days_between(a, before) == -1


# -- DST days, by hand ------------------------------------------------------------------------------------


@pytest.mark.parametrize("friday, monday, utc_hour", [
    ((2026, 3, 6), (2026, 3, 9), 15),  # spring forward on Sunday 2026-03-08: Monday is UTC-7
    ((2026, 10, 30), (2026, 11, 2), 16),  # fall back on Sunday 2026-11-01: Monday is UTC-8
    ((2027, 3, 12), (2027, 3, 15), 15),
    ((2027, 11, 5), (2027, 11, 8), 16),
])
def test_an_hour_added_at_half_past_four_on_friday_before_a_dst_sunday_lands_monday_at_half_past_eight(friday, monday, utc_hour):
    landed = LA.add(local(LA, *friday, 16, 30), 60)
    assert landed.astimezone(LA.tz) == local(LA, *monday, 8, 30)
    assert landed == datetime(*monday, utc_hour, 30, tzinfo=UTC)


@pytest.mark.parametrize("before, after, utc_hour", [
    ((2026, 3, 27, 16, 30), (2026, 3, 30), 6),  # CEST from Sunday 2026-03-29
    ((2026, 10, 23, 16, 30), (2026, 10, 26), 7),  # CET from Sunday 2026-10-25
    ((2027, 3, 25, 16, 30), (2027, 3, 30), 6),  # 2027-03-28 is Easter Sunday: Good Friday and Easter Monday off
    ((2027, 10, 29, 16, 30), (2027, 11, 1), 7),  # Reformation Day (31 Oct) is no holiday in Berlin, and a Sunday
])
def test_an_hour_added_before_a_berlin_dst_weekend_lands_at_half_past_eight_on_the_next_working_day(before, after, utc_hour):
    landed = BERLIN.add(local(BERLIN, *before), 60)
    assert landed.astimezone(BERLIN.tz) == local(BERLIN, *after, 8, 30)
    assert landed == datetime(*after, utc_hour, 30, tzinfo=UTC)


def test_elapsed_across_a_dst_weekend_counts_only_business_minutes():
    friday, monday = local(LA, 2026, 3, 6, 16), local(LA, 2026, 3, 9, 10)
    assert monday.astimezone(UTC) - friday.astimezone(UTC) == timedelta(hours=65)  # the Sunday had 23 hours
    assert LA.elapsed(friday, monday) == timedelta(hours=3)
    assert BERLIN.elapsed(local(BERLIN, 2026, 10, 23, 11), local(BERLIN, 2026, 10, 26, 14)) == timedelta(hours=10)


@pytest.mark.parametrize("day, hours", [((2026, 3, 8), 7), ((2026, 11, 1), 9), ((2027, 3, 14), 7), ((2027, 11, 7), 9)])
def test_a_span_across_two_in_the_morning_is_measured_in_real_elapsed_time(day, hours):
    midnight = datetime.combine(date(*day), time(), NIGHT.tz)
    next_midnight = datetime.combine(date(*day) + timedelta(days=1), time(), NIGHT.tz)
    assert NIGHT.elapsed(midnight, next_midnight) == timedelta(hours=hours)  # 00:00-04:00 and 20:00-24:00
    four = NIGHT.add(midnight, (hours - 4) * 60)  # 00:00-04:00 is three or five real hours
    assert four.astimezone(NIGHT.tz).replace(tzinfo=None) == datetime.combine(date(*day), time(4))


def test_span_edges_in_a_skipped_hour_fall_at_the_change_and_in_a_repeated_hour_cover_both_occurrences():
    def day_length(day: date) -> timedelta:
        return ODD.elapsed(datetime.combine(day, time(), ODD.tz), datetime.combine(day + timedelta(days=1), time(), ODD.tz))

    assert day_length(date(2026, 3, 4)) == timedelta(hours=5)  # 1.5 + 2.5 + 1
    # Spring forward: nothing reads 02:00-02:59, so 02:30-05:00 starts at the change (03:00 PDT).
    assert day_length(date(2026, 3, 8)) == timedelta(hours=4, minutes=30)
    assert ODD.next_open(local(ODD, 2026, 3, 8, 1, 45)) == datetime(2026, 3, 8, 10, tzinfo=UTC)
    # Fall back: 00:00-01:30 is 00:00-01:30 PDT and again 01:00-01:30 PST, two intervals.
    assert day_length(date(2026, 11, 1)) == timedelta(hours=5, minutes=30)
    night = list(ODD.spans_between(local(ODD, 2026, 11, 1), local(ODD, 2026, 11, 1, 6)))
    assert night == [(datetime(2026, 11, 1, 7, tzinfo=UTC), datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
                     (datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
                     (datetime(2026, 11, 1, 10, 30, tzinfo=UTC), datetime(2026, 11, 1, 13, tzinfo=UTC))]


@pytest.mark.parametrize("zone, changes", [
    ("America/Santiago", [(2026, 4, 4), (2026, 9, 6)]),  # Saturday 24:00 back to 23:00; Sunday starts at 01:00
    ("Africa/Cairo", [(2026, 4, 24), (2026, 10, 29)]),  # Friday starts at 01:00; Thursday 24:00 back to 23:00
    ("America/Havana", [(2026, 3, 8), (2026, 11, 1)]),  # 00:00 skipped; 00:00-01:00 repeated
])
def test_a_round_the_clock_desk_counts_real_time_where_changes_skip_or_repeat_midnight(zone, changes):
    desk = calendar(name="always", timezone=zone, hours=dict.fromkeys(WEEKDAYS, "00:00-24:00"))
    for day in changes:
        noon = datetime.combine(date(*day), time(12), desk.tz).astimezone(UTC)
        for minutes in range(-36 * 60, 36 * 60, 13):
            moment = noon + minutes * MINUTE
            assert desk.is_open(moment)
            assert desk.add(moment, 90) == moment + 90 * MINUTE
            assert desk.elapsed(moment, moment + timedelta(days=3)) == timedelta(days=3)
        assert list(desk.spans_between(noon - timedelta(days=2), noon + timedelta(days=2))) == \
            [(noon - timedelta(days=2), noon + timedelta(days=2))]


def test_both_occurrences_of_a_repeated_hour_are_open_and_a_skipped_one_never_happens():
    first = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT
    second = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 01:30 PST
    assert first.astimezone(NIGHT.tz).hour == second.astimezone(NIGHT.tz).hour == 1
    assert NIGHT.is_open(first) and NIGHT.is_open(second)
    assert NIGHT.elapsed(first, second) == timedelta(hours=1)
    # 01:59 PST plus two minutes is 02:01: spring forward on 2026-03-08 jumps from 02:00 to 03:00.
    before = datetime(2026, 3, 8, 9, 59, tzinfo=UTC)
    assert NIGHT.add(before, 2).astimezone(NIGHT.tz) == local(NIGHT, 2026, 3, 8, 3, 1)


def test_an_hour_from_eleven_in_berlin_ends_at_noon_and_the_next_minute_waits_for_lunch_to_end():
    eleven = local(BERLIN, 2026, 3, 30, 11)
    assert BERLIN.add(eleven, 60).astimezone(BERLIN.tz) == local(BERLIN, 2026, 3, 30, 12)
    assert BERLIN.add(eleven, 61).astimezone(BERLIN.tz) == local(BERLIN, 2026, 3, 30, 13, 1)
    assert BERLIN.add(local(BERLIN, 2026, 3, 30, 12), 0).astimezone(BERLIN.tz) == local(BERLIN, 2026, 3, 30, 13)
    assert [(s.astimezone(BERLIN.tz).hour, e.astimezone(BERLIN.tz).hour) for s, e in
            BERLIN.spans_between(local(BERLIN, 2026, 3, 30), local(BERLIN, 2026, 3, 31))] == [(8, 12), (13, 17)]


def test_spans_between_joins_the_night_across_midnight_and_cuts_at_the_window():
    spans = list(NIGHT.spans_between(local(NIGHT, 2026, 6, 1, 21), local(NIGHT, 2026, 6, 2, 3)))
    assert spans == [(local(NIGHT, 2026, 6, 1, 21).astimezone(UTC), local(NIGHT, 2026, 6, 2, 3).astimezone(UTC))]
    assert list(LA.spans_between(local(LA, 2026, 6, 6), local(LA, 2026, 6, 8))) == []  # a weekend


# -- holidays, closed and open dates ------------------------------------------------------------------


def test_thanksgiving_and_the_day_after_are_off_in_california():
    assert LA.holiday(date(2026, 11, 26)) == "Thanksgiving Day"
    assert LA.holiday(date(2026, 11, 27)) == "Day After Thanksgiving"
    assert LA.next_working_day(date(2026, 11, 25)) == date(2026, 11, 30)
    landed = LA.add(local(LA, 2026, 11, 25, 16), 120)
    assert landed.astimezone(LA.tz) == local(LA, 2026, 11, 30, 9)
    assert LA.elapsed(local(LA, 2026, 11, 25, 8), local(LA, 2026, 12, 1, 8)) == timedelta(hours=18)


def test_christmas_2026_on_a_friday_makes_a_long_weekend():
    assert LA.holiday(date(2026, 12, 25)) == "Christmas Day"
    assert LA.previous_working_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert LA.elapsed(local(LA, 2026, 12, 24, 8), local(LA, 2026, 12, 28, 8)) == timedelta(hours=9)


def test_independence_day_2026_on_a_saturday_is_observed_on_friday_july_3():
    assert LA.holiday(date(2026, 7, 4)) == "Independence Day"
    assert LA.holiday(date(2026, 7, 3)) == "Independence Day (observed)"
    assert not LA.is_working_day(date(2026, 7, 3))
    assert LA.next_working_day(date(2026, 7, 2)) == date(2026, 7, 6)
    assert LA.add(local(LA, 2026, 7, 2, 16), 120).astimezone(LA.tz) == local(LA, 2026, 7, 6, 9)


def test_new_year_2028_on_a_saturday_is_observed_on_friday_2027_12_31_and_christmas_2027_on_the_24th():
    assert LA.holiday(date(2027, 12, 31)) == "New Year's Day (observed)"
    assert LA.holiday(date(2027, 12, 24)) == "Christmas Day (observed)"
    assert LA.next_working_day(date(2027, 12, 23)) == date(2027, 12, 27)
    assert LA.next_working_day(date(2027, 12, 30)) == date(2028, 1, 3)
    assert LA.working_days_between(date(2027, 12, 23), date(2028, 1, 3)) == 5
    assert LA.add(local(LA, 2027, 12, 30, 16), 120).astimezone(LA.tz) == local(LA, 2028, 1, 3, 9)


def test_international_womens_day_is_off_in_berlin():
    assert BERLIN.holiday(date(2027, 3, 8)) is not None  # the name follows the process's locale
    assert not BERLIN.is_working_day(date(2027, 3, 8))
    assert BERLIN.add(local(BERLIN, 2027, 3, 5, 16, 30), 60).astimezone(BERLIN.tz) == local(BERLIN, 2027, 3, 9, 8, 30)
    assert BERLIN.working_days_between(date(2027, 3, 5), date(2027, 3, 9)) == 1
    assert BERLIN.elapsed(local(BERLIN, 2027, 3, 5, 8), local(BERLIN, 2027, 3, 10, 8)) == timedelta(hours=16)


def test_an_open_date_overrides_a_holiday():
    monday = date(2026, 1, 26)
    assert SYDNEY.holiday(monday) == "Australia Day"
    assert SYDNEY.is_working_day(monday) and SYDNEY.spans(monday) == ((540, 1050),)
    assert SYDNEY.add(local(SYDNEY, 2026, 1, 23, 17, 30), 60).astimezone(SYDNEY.tz) == local(SYDNEY, 2026, 1, 26, 10)


def test_a_closed_date_is_off_like_a_holiday():
    assert SYDNEY.holiday(date(2026, 12, 24)) is None and not SYDNEY.is_working_day(date(2026, 12, 24))
    # Christmas (Friday), Boxing Day (Saturday) observed on Monday the 28th: Tuesday is next.
    assert SYDNEY.next_working_day(date(2026, 12, 23)) == date(2026, 12, 29)
    assert SYDNEY.elapsed(local(SYDNEY, 2026, 12, 23, 17), local(SYDNEY, 2026, 12, 29, 10)) == timedelta(hours=1, minutes=30)


def test_an_open_saturday_works_mondays_hours_and_the_dst_sunday_after_it_does_not_count():
    saturday = date(2026, 10, 3)
    assert SYDNEY.spans(saturday) == ((540, 1050),)
    assert SYDNEY.add(local(SYDNEY, 2026, 10, 2, 17, 30), 60) == datetime(2026, 10, 3, 0, tzinfo=UTC)  # 10:00 AEST
    # Sunday: clocks go forward; Monday 2026-10-05 is Labour Day in NSW; Tuesday 10:00 is AEDT.
    landed = SYDNEY.add(local(SYDNEY, 2026, 10, 3, 17, 30), 60)
    assert landed.astimezone(SYDNEY.tz) == local(SYDNEY, 2026, 10, 6, 10)
    assert landed == datetime(2026, 10, 5, 23, tzinfo=UTC)


# -- inputs, errors, purity ---------------------------------------------------------------------------


def test_a_number_is_minutes_and_a_timedelta_is_taken_as_it_is():
    start = local(LA, 2026, 6, 1, 9)
    assert LA.add(start, 90) == LA.add(start, 1.5 * 60) == LA.add(start, timedelta(hours=1, minutes=30))
    assert LA.add(start.astimezone(timezone(timedelta(hours=5, minutes=30))), 90) == LA.add(start, 90)


def test_a_long_addition_is_counted_by_weeks_and_still_exact():
    start = local(LA, 2026, 6, 1, 9, 17, 3)
    ten_years = 10 * 365 * 24 * 60
    landed = LA.add(start, ten_years)
    assert LA.elapsed(start, landed) == ten_years * MINUTE
    assert LA.is_open(landed) or landed in span_ends(LA, landed)


def test_naive_moments_negative_durations_and_calendars_without_hours_are_refused():
    with pytest.raises(ValueError, match="aware"):
        LA.add(datetime(2026, 6, 1, 9), 10)
    with pytest.raises(ValueError, match="aware"):
        LA.elapsed(local(LA, 2026, 6, 1, 9), local(LA, 2026, 6, 2, 9), [(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 11))])
    with pytest.raises(ValueError, match="negative"):
        LA.add(local(LA, 2026, 6, 1, 9), -1)
    with pytest.raises(TypeError):
        LA.add(local(LA, 2026, 6, 1, 9), "60")
    never = calendar(name="never", timezone="UTC", hours={})
    with pytest.raises(ValueError, match="no working"):
        never.add_days(date(2026, 6, 1), 1)
    with pytest.raises(ValueError, match="no working"):
        never.add(datetime(2026, 6, 1, tzinfo=UTC), 10)


def results(cal: BusinessCalendar) -> tuple:
    start = local(cal, 2026, 11, 25, 16)
    return (cal.add(start, 120), cal.add(start, 500_000), cal.elapsed(start, start + timedelta(days=400)),
            cal.is_open(start), cal.next_open(start), cal.add_days(date(2026, 11, 25), 30),
            cal.working_days_between(date(2026, 1, 1), date(2027, 1, 1)),
            list(cal.spans_between(start, start + timedelta(days=7))))


def test_the_calendar_never_reads_the_wall_clock():
    expected = results(los_angeles())
    for frozen in ("1999-12-31 23:59:59", "2031-06-15 12:00:00"):
        with freeze_time(frozen):
            assert results(los_angeles()) == expected
