"""When a repeated meeting's occurrences are sent as one weekly series, and how."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from test_planner_calendars import PACIFIC, QUICKSTART, customer_calendar, given

from ticketing.core.planner import plan
from ticketing.core.series import Occurrence, weekly_series

LA = ZoneInfo("America/Los_Angeles")
HALF_HOUR = timedelta(minutes=30)


def at(month: int, day: int, hour: int = 9, minute: int = 30, length: timedelta = HALF_HOUR) -> tuple[datetime, datetime]:
    start = datetime(2027, month, day, hour, minute, tzinfo=LA)
    return start, start + length


def occurrences(*times: tuple[datetime, datetime]) -> list[Occurrence]:
    keys = ["check-point"] + [f"check-point#{n}" for n in range(2, len(times) + 1)]
    return [Occurrence(k, s.astimezone(ZoneInfo("UTC")), e.astimezone(ZoneInfo("UTC"))) for k, (s, e) in zip(keys, times)]


def test_occurrences_at_the_same_weekday_and_time_every_week_are_one_series_with_a_count():
    # Mondays 09:30 Pacific, across the change to summer time on 14 March 2027: the wall time holds.
    series = weekly_series(occurrences(at(3, 1), at(3, 8), at(3, 15), at(3, 22)), LA)
    assert series is not None
    assert series.start == datetime(2027, 3, 1, 9, 30, tzinfo=LA) and series.duration == HALF_HOUR
    assert series.count == 4 and series.exdates == () and series.overrides == ()
    assert [i.recurrence_id for i in series.instances] == [datetime(2027, 3, d, 9, 30, tzinfo=LA) for d in (1, 8, 15, 22)]


def test_a_week_without_an_occurrence_is_an_exdate_and_the_count_spans_it():
    # No check point in the week of Monday 15 February (Presidents' Day).
    series = weekly_series(occurrences(at(2, 1), at(2, 8), at(2, 22)), LA)
    assert series is not None
    assert series.count == 4
    assert series.exdates == (datetime(2027, 2, 15, 9, 30, tzinfo=LA),)
    assert series.overrides == ()


def test_one_occurrence_at_another_time_is_an_override_of_its_weeks_rule_time():
    # The second falls on Tuesday at 10:00 (Monday was a holiday): its RECURRENCE-ID is Monday 09:30.
    series = weekly_series(occurrences(at(1, 11), at(1, 19, 10, 0), at(1, 25)), LA)
    assert series is not None and series.count == 3 and series.exdates == ()
    [moved] = series.overrides
    assert moved.key == "check-point#2"
    assert moved.recurrence_id == datetime(2027, 1, 18, 9, 30, tzinfo=LA)
    assert moved.start == datetime(2027, 1, 19, 10, 0, tzinfo=LA)


def test_a_first_occurrence_off_the_rule_still_starts_the_series_at_its_weeks_rule_time():
    series = weekly_series(occurrences(at(1, 12, 8, 0), at(1, 18), at(1, 25)), LA)
    assert series is not None and series.start == datetime(2027, 1, 11, 9, 30, tzinfo=LA)
    assert [i.key for i in series.overrides] == ["check-point"]


def test_a_longer_occurrence_is_an_override_too():
    series = weekly_series(occurrences(at(1, 11), at(1, 18, length=timedelta(hours=1)), at(1, 25)), LA)
    assert series is not None and [i.key for i in series.overrides] == ["check-point#2"]


def test_irregular_occurrences_are_sent_separately():
    # Monday, Wednesday, Friday of consecutive weeks at different times: no rule holds for most.
    assert weekly_series(occurrences(at(1, 11), at(1, 20, 8, 0), at(1, 29, 14, 0)), LA) is None
    # Two in one week.
    assert weekly_series(occurrences(at(1, 11), at(1, 13), at(1, 18)), LA) is None
    # Mostly skipped weeks: 2 occurrences in a span of 4 weeks.
    assert weekly_series(occurrences(at(1, 4), at(1, 25)), LA) is None
    # One occurrence is a meeting, not a series.
    assert weekly_series(occurrences(at(1, 4)), LA) is None


def test_the_rule_is_read_in_the_organizers_zone():
    # 09:30 Pacific every Monday is 17:30 or 16:30 UTC: in UTC, the time changes mid-series.
    times = occurrences(at(3, 1), at(3, 8), at(3, 15))
    assert weekly_series(times, LA) is not None
    assert weekly_series(times, ZoneInfo("UTC")) is not None  # 2 of 3 at 17:30 UTC: one override
    assert len(weekly_series(times, ZoneInfo("UTC")).overrides) == 1


def test_planned_check_points_keep_their_weekday_past_a_holiday_and_make_one_series():
    # QuickStart from Thursday 12 November 2026: the check points fall on Thursdays at the first one's
    # time; Thanksgiving (26th, and the 27th, closed) puts the second on Monday 30th, and the third is
    # back on Thursday rather than dragged to Monday. Sent: one series, the second overriding the 26th.
    start, now = date(2026, 11, 12), datetime(2026, 11, 12, 17, 0, tzinfo=ZoneInfo("UTC"))
    result = plan(given("quickstart", start, now, PACIFIC, customer_calendar(LA, "US"), binding=QUICKSTART))
    points = [p for p in result.placed if p.spec_key == "check-point"]
    local = [p.start.astimezone(LA) for p in points]
    assert [t.strftime("%a %d") for t in local] == ["Thu 19", "Mon 30", "Thu 03"]
    assert local[0].time() == local[2].time()
    series = weekly_series([Occurrence(p.key, p.start, p.end) for p in points], QUICKSTART.tz)
    assert series is not None and series.count == 3 and series.exdates == ()
    [moved] = series.overrides
    assert moved.key == "check-point#2" and moved.recurrence_id.date() == date(2026, 11, 26)
