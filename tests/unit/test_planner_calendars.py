"""Meeting planning with both sides' calendars (pure): the customer's working week and public
holidays, a playbook's own calendar binding whoever is assigned, at most N customer meetings a day,
and a closing meeting near the end that no check point follows."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.meeting_calendars import (
    account_country,
    country_code,
    covers,
    customer_calendar,
)
from ticketing.core.planner import PlanInput, plan
from ticketing.files.playbooks import load_playbooks

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = load_playbooks(ROOT / "playbooks")
LA, SYDNEY, LONDON, BERLIN, NEW_YORK = (ZoneInfo(z) for z in (
    "America/Los_Angeles", "Australia/Sydney", "Europe/London", "Europe/Berlin", "America/New_York"))


def calendar(name: str, tz: str, country: str, subdivision: str | None = None) -> BusinessCalendar:
    return BusinessCalendar.from_config(CalendarConfig(name=name, timezone=tz, holidays=country, subdivision=subdivision))


PACIFIC = calendar("us-pacific", "America/Los_Angeles", "US", "CA")
EASTERN = calendar("us-eastern", "America/New_York", "US")
GERMANY = calendar("berlin", "Europe/Berlin", "DE")
QUICKSTART = BusinessCalendar.from_config(PLAYBOOKS["quickstart"].calendar)


def given(name: str, start: date, now: datetime, engineer: BusinessCalendar, customer: BusinessCalendar, **kw) -> PlanInput:
    return PlanInput(playbook=PLAYBOOKS[name], start=start, golive=None, calendar=engineer, customer_tz=customer.tz,
                     customer=customer, now=now, **kw)


def with_customer(result, playbook):
    return [p for p in result.placed if playbook.meeting(p.spec_key).with_customer]


def every_day(tz: ZoneInfo) -> BusinessCalendar:
    """A customer 'calendar' that ignores the week and holidays: how planning behaved before."""
    return customer_calendar(tz, None, weekdays=tuple(range(7)))


# --- the customer's working week and public holidays ---------------------------------------------

def test_a_sydney_customer_never_gets_a_weekend_or_an_australian_public_holiday():
    # An engineer in Los Angeles: 13:00-17:00 there is 08:00-12:00 of the next day in Sydney, so
    # Friday afternoons are Saturdays and Monday 25 January is Australia Day (26 January) there;
    # planned as before, the kick-off fell on Saturday 23 January and the intake on Australia Day.
    start, now = date(2027, 1, 20), datetime(2027, 1, 19, 12, 0, tzinfo=timezone.utc)
    sydney = customer_calendar(SYDNEY, account_country(None, "Australia/Sydney"))
    playbook = PLAYBOOKS["professional-services"]
    before = plan(given("professional-services", start, now, PACIFIC, every_day(SYDNEY)))
    bad = lambda p: p.start.astimezone(SYDNEY).weekday() >= 5 or p.start.astimezone(SYDNEY).date() in holidays.AU(years=2027)  # noqa: E731
    assert any(bad(p) for p in with_customer(before, playbook))  # the case the rule is for
    result = plan(given("professional-services", start, now, PACIFIC, sydney))
    meetings = with_customer(result, playbook)
    assert len(meetings) >= 5 and not [p for p in meetings if bad(p)]
    assert all(p.start.astimezone(SYDNEY).date() != date(2027, 1, 26) for p in result.placed)
    for p in meetings:
        local_start, local_end = p.start.astimezone(SYDNEY), p.end.astimezone(SYDNEY)
        assert local_start.hour >= 8 and (local_end.hour, local_end.minute) <= (18, 0), p


def test_a_london_customer_never_gets_boxing_day():
    # Christmas Eve 2025: the first business day after it in New York is Friday 26 December.
    start, now = date(2025, 12, 24), datetime(2025, 12, 23, 12, 0, tzinfo=timezone.utc)
    before = plan(given("enterprise-onboarding", start, now, EASTERN, every_day(LONDON)))
    assert before.get("introduction").start.astimezone(LONDON).date() == date(2025, 12, 26)
    london = customer_calendar(LONDON, account_country(None, "Europe/London"))
    result = plan(given("enterprise-onboarding", start, now, EASTERN, london))
    assert all(p.start.astimezone(LONDON).date() != date(2025, 12, 26) for p in result.placed)
    assert result.get("introduction").start.astimezone(LONDON).date() == date(2025, 12, 29)


def test_a_holiday_names_its_reason_when_it_leaves_no_day():
    # A one-day window on Boxing Day: the reason says it is the customer's holiday.
    playbook = PLAYBOOKS["enterprise-onboarding"]
    intro = dataclasses.replace(playbook.meeting("introduction"), window=dataclasses.replace(
        playbook.meeting("introduction").window, earliest=1, latest=1))
    one_day = dataclasses.replace(playbook, meetings=(intro,))
    result = plan(PlanInput(playbook=one_day, start=date(2025, 12, 24), golive=None, calendar=EASTERN,
                            customer_tz=LONDON, customer=customer_calendar(LONDON, "GB"),
                            now=datetime(2025, 12, 23, 12, 0, tzinfo=timezone.utc)))
    assert result.unplaced[0].reason.endswith("a public holiday of the customer")


def test_the_account_country_wins_over_the_time_zone_and_unknown_ones_give_no_holidays():
    assert account_country("IE", "Europe/London") == "IE"
    assert account_country("United Kingdom", None) == "GB"
    assert account_country(None, "Australia/Sydney") == "AU"
    assert account_country(None, "UTC") is None and account_country("Atlantis", "Etc/GMT+3") is None
    assert country_code("gb") == "GB"
    assert customer_calendar(LONDON, None).holiday(date(2025, 12, 26)) is None
    assert customer_calendar(LONDON, "GB").holiday(date(2025, 12, 26)) is not None


# --- a playbook's own calendar ---------------------------------------------------------------

def test_the_quickstart_calendar_binds_a_berlin_engineer_and_the_engineer_is_told():
    # 08:00-17:00 in Berlin and 08:00-17:00 in Los Angeles never meet: the playbook's calendar wins.
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 7, 0, tzinfo=timezone.utc)
    new_york = customer_calendar(NEW_YORK, "US")
    result = plan(given("quickstart", start, now, GERMANY, new_york, binding=QUICKSTART))
    assert result.unplaced == () and len(result.placed) == 8
    us = holidays.US(years=2026)
    for p in result.placed:
        local_start, local_end = p.start.astimezone(LA), p.end.astimezone(LA)
        assert local_start.weekday() < 5 and local_start.date() not in us, p
        assert local_start.hour >= 8 and (local_end.hour, local_end.minute) <= (17, 0), p
        assert "outside your working hours: the playbook's calendar" in p.warning, p
    assert not covers(GERMANY, QUICKSTART, start)


def test_re_planning_keeps_the_meetings_the_playbook_calendar_placed_outside_the_engineers_hours():
    # A go-live date on the morning of the kick-off re-plans with the current placements: QuickStart
    # has no go-live meeting, so nothing moves. It used to move every meeting the playbook's calendar
    # had placed (they never fit the Berlin engineer's own hours), the kick-off to a day with a day's notice.
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 7, 0, tzinfo=timezone.utc)
    new_york = customer_calendar(NEW_YORK, "US")
    notice = timedelta(hours=24)
    first = plan(given("quickstart", start, now, GERMANY, new_york, binding=QUICKSTART, notice=notice))
    previous = {p.key: (p.start, p.end) for p in first.placed}
    later = min(start for start, _ in previous.values()) - timedelta(hours=2)
    again = plan(dataclasses.replace(given("quickstart", start, later, GERMANY, new_york, binding=QUICKSTART,
                                           notice=notice, previous=previous), golive=date(2026, 12, 14)))
    assert {p.key: (p.start, p.end) for p in again.placed} == previous


def test_an_engineer_whose_hours_overlap_the_playbook_calendar_meets_inside_both_without_a_warning():
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 7, 0, tzinfo=timezone.utc)
    result = plan(given("quickstart", start, now, EASTERN, customer_calendar(NEW_YORK, "US"), binding=QUICKSTART))
    assert result.unplaced == () and all(p.warning == "" for p in result.placed)
    for p in result.placed:
        assert EASTERN.is_open(p.start) and QUICKSTART.is_open(p.start)
        assert EASTERN.is_open(p.end - timedelta(minutes=1)) and QUICKSTART.is_open(p.end - timedelta(minutes=1))
    assert covers(EASTERN, QUICKSTART, start)


# --- spread and ends ---------------------------------------------------------------------------

def test_sprint_zero_interviews_are_at_most_two_a_day():
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 17, 0, tzinfo=timezone.utc)
    playbook = PLAYBOOKS["sprint-zero"]
    customer = customer_calendar(LA, "US")
    stacked = plan(dataclasses.replace(given("sprint-zero", start, now, PACIFIC, customer),
                                       playbook=dataclasses.replace(playbook, max_customer_meetings_per_day=9)))
    interview_days = lambda result: [p.start.astimezone(LA).date() for p in result.placed if p.key.startswith("interview-")]  # noqa: E731
    assert len(set(interview_days(stacked))) == 1  # all four on the first business day, as before
    result = plan(given("sprint-zero", start, now, PACIFIC, customer))
    days = interview_days(result)
    assert len(days) == 4 and max(days.count(d) for d in days) == 2
    per_day = [p.start.astimezone(LA).date() for p in with_customer(result, playbook)]
    assert max(per_day.count(d) for d in per_day) <= 2


def test_the_quickstart_closure_falls_in_the_last_days_and_no_check_point_follows_it():
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 17, 0, tzinfo=timezone.utc)
    playbook = PLAYBOOKS["quickstart"]
    result = plan(given("quickstart", start, now, PACIFIC, customer_calendar(LA, "US"), binding=QUICKSTART))
    closure = result.get("closure")
    day = QUICKSTART.working_days_between(start, closure.start.astimezone(LA).date())
    assert playbook.length_days - 3 <= day <= playbook.length_days
    check_points = [p for p in result.placed if p.spec_key == "check-point"]
    assert check_points and all(p.start < closure.start for p in check_points)


def test_check_points_that_would_follow_the_closure_are_dropped_with_the_reason():
    start, now = date(2026, 11, 13), datetime(2026, 11, 13, 17, 0, tzinfo=timezone.utc)
    playbook = PLAYBOOKS["quickstart"]
    more = dataclasses.replace(playbook.meeting("check-point"), repeat_count=6)
    weekly = dataclasses.replace(playbook, meetings=tuple(more if m.key == "check-point" else m for m in playbook.meetings))
    result = plan(dataclasses.replace(given("quickstart", start, now, PACIFIC, customer_calendar(LA, "US"),
                                            binding=QUICKSTART), playbook=weekly))
    closure = result.get("closure")
    assert all(p.start < closure.start for p in result.placed if p.spec_key == "check-point")
    dropped = [u for u in result.unplaced if u.spec_key == "check-point"]
    assert dropped and all(u.reason.startswith("after the closing meeting (closure") for u in dropped)
