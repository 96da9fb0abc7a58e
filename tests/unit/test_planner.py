"""Meeting planning (pure): windows, business hours, holidays, people's days away, the customer's day,
other meetings, go-live dates, and re-planning that moves only what must move."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.planner import PlanInput, plan
from ticketing.files.playbooks import load_playbooks

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = load_playbooks(ROOT / "playbooks")
LA = ZoneInfo("America/Los_Angeles")
PACIFIC = BusinessCalendar.from_config(CalendarConfig(name="us-pacific", timezone="America/Los_Angeles",
                                                      holidays="US", subdivision="CA"))
# Friday 13 November 2026, 09:00 in Los Angeles.
NOW = datetime(2026, 11, 13, 17, 0, tzinfo=timezone.utc)


def given(name="quickstart", start=date(2026, 11, 13), **kw) -> PlanInput:
    fields = dict(playbook=PLAYBOOKS[name], start=start, golive=None, calendar=PACIFIC, customer_tz=LA, now=NOW)
    fields.update(kw)
    return PlanInput(**fields)


def local(moment: datetime, tz=LA) -> datetime:
    return moment.astimezone(tz)


def test_every_meeting_lands_in_business_hours_on_working_days_in_playbook_order():
    result = plan(given())
    assert result.unplaced == ()
    keys = [p.key for p in result.placed]
    assert set(keys) == {"kickoff", "deep-dive", "implementation-1", "implementation-2", "closure",
                         "check-point", "check-point#2", "check-point#3"}
    for p in result.placed:
        assert PACIFIC.is_open(p.start) and PACIFIC.is_open(p.end - timedelta(minutes=1)), p
        assert local(p.start).date() not in (date(2026, 11, 26), date(2026, 11, 27)), p  # Thanksgiving, day after (CA)
    when = {p.key: p for p in result.placed}
    assert when["kickoff"].start < when["deep-dive"].start < when["implementation-1"].start
    assert when["implementation-1"].start < when["implementation-2"].start < when["closure"].start
    # the deep dive is at least two business days after the kick-off
    assert PACIFIC.working_days_between(local(when["kickoff"].start).date(), local(when["deep-dive"].start).date()) >= 2
    assert when["kickoff"].end - when["kickoff"].start == timedelta(minutes=30)
    assert local(when["kickoff"].start).strftime("%a %H:%M") == "Mon 09:00"  # its preferred time, first working day
    # no two meetings overlap, and each keeps the buffer
    ordered = sorted(result.placed, key=lambda p: p.start)
    for a, b in zip(ordered, ordered[1:]):
        assert a.end + timedelta(minutes=15) <= b.start


def test_the_same_inputs_give_the_same_plan():
    assert plan(given()) == plan(given())


def test_days_away_and_other_meetings_are_avoided():
    kickoff_day = date(2026, 11, 16)
    busy = ((datetime(2026, 11, 17, 16, 0, tzinfo=timezone.utc), datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)),)
    result = plan(given(away=frozenset({kickoff_day}), busy=busy))
    kickoff = next(p for p in result.placed if p.key == "kickoff")
    assert local(kickoff.start).date() == date(2026, 11, 18)  # the 16th away, the 17th taken all day


def test_a_customer_far_away_gets_only_times_in_their_working_day():
    berlin = ZoneInfo("Europe/Berlin")
    result = plan(given(customer_tz=berlin))
    for p in result.placed:
        start, end = p.start.astimezone(berlin), p.end.astimezone(berlin)
        assert start.hour >= 8 and (end.hour, end.minute) <= (18, 0), p
    # 08:00-09:00 in Los Angeles is 17:00-18:00 in Berlin: a 90-minute white-glove kick-off never fits
    white = plan(given("white-glove", customer_tz=berlin))
    kickoff = next(u for u in white.unplaced if u.key == "kickoff")
    assert "customer's day" in kickoff.reason
    assert any(u.reason == "its anchor 'kickoff' could not be placed" for u in white.unplaced)


def test_go_live_meetings_wait_for_the_date_then_fall_in_their_windows():
    waiting = plan(given("enterprise-onboarding"))
    assert {u.key: u.reason for u in waiting.unplaced} == {
        "pre-launch": "waiting for the go-live date", "debrief": "waiting for the go-live date"}
    golive = date(2027, 1, 14)
    result = plan(given("enterprise-onboarding", golive=golive))
    pre = result.get("pre-launch")
    debrief = result.get("debrief")
    assert 3 <= PACIFIC.working_days_between(local(pre.start).date(), golive) <= 5
    # two business days after Thursday 14 January is Tuesday the 19th: Monday the 18th is MLK Day
    assert local(debrief.start).date() == date(2027, 1, 19)
    assert pre.warning == "" and debrief.warning == ""


def test_a_go_live_too_close_for_the_window_gets_the_earliest_slot_and_a_warning():
    golive = date(2026, 11, 17)  # Tuesday: 3-5 business days before it (10-12 November) are past on Friday the 13th
    pre = plan(given("enterprise-onboarding", golive=golive)).get("pre-launch")
    assert pre is not None and local(pre.start).date() < golive
    assert local(pre.start) == datetime(2026, 11, 13, 9, 0, tzinfo=LA)  # the first free time from now
    assert "leaves no room" in pre.warning


def test_a_window_that_has_passed_is_reported_as_such():
    result = plan(given("enterprise-onboarding", start=date(2026, 10, 1)))
    reasons = {u.key: u.reason for u in result.unplaced}
    assert reasons["introduction"].startswith("its window (") and reasons["introduction"].endswith("has passed")


def test_replanning_after_a_new_go_live_date_moves_only_the_go_live_meetings():
    first = plan(given("enterprise-onboarding", golive=date(2027, 1, 14)))
    previous = {p.key: (p.start, p.end) for p in first.placed}
    later = plan(given("enterprise-onboarding", golive=date(2027, 2, 2), previous=previous,
                       now=NOW + timedelta(days=10)))
    moved = {p.key for p in later.placed if previous[p.key] != (p.start, p.end)}
    assert moved == {"pre-launch", "debrief"}
    assert 3 <= PACIFIC.working_days_between(local(later.get("pre-launch").start).date(), date(2027, 2, 2)) <= 5


def test_a_meeting_anchored_on_a_moved_meeting_moves_only_when_it_must():
    first = plan(given())
    previous = {p.key: (p.start, p.end) for p in first.placed}
    kickoff_start, kickoff_end = previous["kickoff"]
    # The kick-off is taken away by something else: it moves; the deep-dive follows only if its window demands.
    busy = ((kickoff_start - timedelta(minutes=1), kickoff_end + timedelta(hours=8)),)
    again = plan(given(previous=previous, busy=busy))
    assert again.get("kickoff").start != kickoff_start
    deep = again.get("deep-dive")
    days = PACIFIC.working_days_between(local(again.get("kickoff").start).date(), local(deep.start).date())
    assert 2 <= days <= 4
    untouched = [k for k in ("implementation-2", "closure") if again.get(k) and (again.get(k).start, again.get(k).end) == previous[k]]
    assert untouched  # later meetings whose windows still hold keep their times


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_every_shipped_playbook_plans_fully_for_a_customer_in_the_engineers_zone(name):
    # a go-live inside every engagement: the professional services' ends with its summary (~30 December)
    result = plan(given(name, golive=date(2026, 12, 16)))
    assert result.unplaced == (), result.unplaced


def test_a_meeting_already_sent_keeps_its_time_inside_the_notice_period_and_one_held_never_moves():
    first = plan(given("enterprise-onboarding", notice=timedelta(hours=24)))
    previous = {p.key: (p.start, p.end) for p in first.placed}
    intro_start, _ = previous["introduction"]
    # Four hours before the introduction a go-live date arrives: the introduction is inside the
    # 24 h notice, but its invitation went out, so it stays; later, once held, it is history.
    soon = intro_start - timedelta(hours=4)
    again = plan(given("enterprise-onboarding", golive=date(2027, 1, 14), previous=previous, now=soon,
                       notice=timedelta(hours=24)))
    assert {p.key: (p.start, p.end) for p in again.placed if p.key in previous} == previous
    later = plan(given("enterprise-onboarding", golive=date(2027, 1, 14), previous=previous,
                       now=intro_start + timedelta(days=2), busy=((intro_start, intro_start + timedelta(hours=1)),)))
    assert later.get("introduction").start == intro_start
    assert all(p.start >= intro_start + timedelta(days=2) for p in later.placed if p.key not in previous)
