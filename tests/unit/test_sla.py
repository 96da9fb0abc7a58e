"""SLA clocks (pure): business time across nights, weekends, DST changes and Thanksgiving, 24x7 targets,
pending and resolved pauses, reopens, re-prioritisation, met and breached, warning moments, explanations.

Every expected figure is worked out by hand in the comments; ``now`` is always passed explicitly.
"""
from __future__ import annotations

import ast
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import EventKind, TicketEvent
from ticketing.core.sla import (
    ALWAYS,
    FIRST_RESPONSE,
    NEXT_RESPONSE,
    RESOLUTION,
    ClockStatus,
    Policy,
    Target,
    clocks,
    humanize,
    moment_at,
)
from ticketing.core.sla_log import Event, Pause

UTC = timezone.utc
LA = ZoneInfo("America/Los_Angeles")
PACIFIC = BusinessCalendar.from_config(CalendarConfig(name="us-pacific", timezone="America/Los_Angeles",
                                                      holidays="US", subdivision="CA"))
CALENDARS = {"us-pacific": PACIFIC}


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def business(n: float) -> Target:
    return Target(hours(n), "us-pacific")


#: The enterprise policy of the issue: P0/P1 under 2 h first response and 8 h resolution around the
#: clock; P2/P3 on the 8-5 Pacific calendar (a business day is 9 h).
ENTERPRISE = Policy(
    "enterprise",
    first_response={"P0": Target(hours(2)), "P1": Target(hours(2)), "P2": business(4), "P3": business(8)},
    resolution={"P0": Target(hours(8)), "P1": Target(hours(8)), "P2": business(18), "P3": business(45)},
    next_response={"P1": Target(hours(4)), "P2": business(8)},
)


def la(*args) -> datetime:
    return datetime(*args, tzinfo=LA)


def ev(kind: str, at: datetime, **detail) -> Event:
    return Event(at, kind, detail)


def clock(events, name, priority="P2", now=None, policy=ENTERPRISE):
    found = {c.name: c for c in clocks(events, priority, policy, CALENDARS, now)}
    return found[name]


def said(c) -> str:
    return "\n".join(c.explanation)


T0 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # Monday 16 November 2026, 09:00 in Los Angeles


# -- 24x7 targets ---------------------------------------------------------------------------------

def test_a_p1_answer_within_two_hours_meets_first_response_with_the_time_to_spare():
    events = [ev("created", T0), ev("engineer_replied", T0 + minutes(75), copy=False)]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(5))
    assert (c.status, c.priority, c.target) == (ClockStatus.MET, "P1", Target(hours(2), ALWAYS))
    assert (c.used, c.remaining, c.overrun) == (minutes(75), minutes(45), timedelta(0))
    assert (c.stopped_at, c.stopped_by, c.breached_at) == (T0 + minutes(75), "engineer_replied", None)
    assert c.due == T0 + hours(2)
    assert "Used 1 h 15 min of the 2 h target." in c.explanation
    assert "Met: answered Mon 16 Nov 2026 18:15 UTC, 45 min to spare (it was due Mon 16 Nov 2026 19:00 UTC)." in c.explanation


def test_an_unanswered_p0_is_breached_from_the_moment_two_hours_of_its_night_had_passed():
    start = la(2026, 11, 21, 23, 0)  # a Saturday night: every hour counts around the clock
    c = clock([ev("created", start)], FIRST_RESPONSE, "P0", now=start + hours(3.5))
    assert c.status is ClockStatus.BREACHED and c.stopped_at is None
    assert c.breached_at == c.due == start + hours(2)
    assert (c.used, c.remaining, c.overrun) == (hours(3.5), timedelta(0), hours(1.5))
    assert c.explanation[-1] == "Breached at Sun 22 Nov 2026 09:00 UTC; still running, 1 h 30 min over the target so far."


def test_an_answer_at_exactly_the_target_is_late_because_the_target_is_under_two_hours():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(2))]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(3))
    assert (c.status, c.breached_at, c.overrun) == (ClockStatus.BREACHED, T0 + hours(2), timedelta(0))


def test_a_24x7_clock_counts_real_hours_through_the_fall_back_change():
    start = la(2026, 10, 31, 22, 0)  # Saturday 22:00 PDT; at 02:00 on Sunday the clocks go back to 01:00 PST
    c = clock([ev("created", start)], RESOLUTION, "P1", now=start + hours(1))
    assert c.due == datetime(2026, 11, 1, 13, 0, tzinfo=UTC) == start.astimezone(UTC) + hours(8)
    assert c.due.astimezone(LA).strftime("%H:%M %Z") == "05:00 PST"  # seven hours on the wall clock
    assert (c.used, c.remaining) == (hours(1), hours(7))


# -- business calendars ----------------------------------------------------------------------------

def test_a_business_clock_counts_nothing_overnight():
    start = la(2026, 11, 16, 16, 0)  # Monday 16:00: one hour today, the rest tomorrow from 08:00
    c = clock([ev("created", start)], FIRST_RESPONSE, "P2", now=la(2026, 11, 17, 9, 0))
    assert (c.status, c.used, c.remaining) == (ClockStatus.RUNNING, hours(2), hours(2))
    assert c.due == la(2026, 11, 17, 11, 0)
    text = said(c)
    assert "4 h of business time on the us-pacific calendar (America/Los_Angeles)" in text
    assert "Outside the business hours of us-pacific, not counted: 15 h in 1 period: " \
           "Mon 16 Nov 2026 17:00 PST \u2013 Tue 17 Nov 2026 08:00 PST." in text
    assert "Used 2 h of the 4 h target (business time); 2 h of business time left." in text
    assert "Due Tue 17 Nov 2026 11:00 PST if nothing pauses it." in text


def test_a_running_clock_s_due_time_stays_put_as_now_moves_on_so_it_can_be_stored():
    events = [ev("created", la(2026, 11, 20, 15, 0)), ev("engineer_replied", la(2026, 11, 20, 15, 30)),
              ev("pending", la(2026, 11, 20, 16, 0)), ev("customer_replied", la(2026, 11, 23, 10, 0))]
    seen = [clock(events, RESOLUTION, "P2", now=la(2026, 11, 23, 10, 0) + hours(h)) for h in (0, 3, 48)]
    # Friday 1 h, Monday from 10:00: 18 h - 1 h = 17 h -> Mon 7 h, Tue 9 h, Wed 08:00-09:00.
    assert {c.due for c in seen} == {la(2026, 11, 25, 9, 0)}
    assert [c.status for c in seen] == [ClockStatus.RUNNING, ClockStatus.RUNNING, ClockStatus.BREACHED]
    assert [moment_at(c, 0.8, CALENDARS) for c in seen] == [moment_at(seen[0], 0.8, CALENDARS)] * 3


def test_a_business_clock_skips_the_weekend_of_the_spring_forward_change():
    start = la(2026, 3, 6, 15, 0)  # Friday 15:00 PST (23:00 UTC); Sunday 8 March the clocks go forward
    events = [ev("created", start)]
    c = clock(events, RESOLUTION, "P2", now=la(2026, 3, 9, 12, 0))
    # 18 h: Friday 2 h, Monday 9 h, Tuesday 7 h -> Tuesday 15:00 PDT, 22:00 UTC (not 23:00).
    assert c.used == hours(2 + 4)
    assert c.due == datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    assert moment_at(c, 0.5, CALENDARS) == datetime(2026, 3, 9, 22, 0, tzinfo=UTC)  # 9 h: Monday 15:00 PDT
    assert "Fri 6 Mar 2026 17:00 PST \u2013 Mon 9 Mar 2026 08:00 PDT" in said(c)


def test_a_business_clock_skips_the_weekend_of_the_fall_back_change():
    start = la(2026, 10, 30, 16, 0)  # Friday 16:00 PDT (23:00 UTC); Sunday 1 November the clocks go back
    c = clock([ev("created", start)], FIRST_RESPONSE, "P2", now=la(2026, 11, 2, 9, 0))
    # 4 h: Friday 1 h, Monday 3 h -> Monday 11:00 PST, 19:00 UTC.
    assert c.due == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
    assert c.used == hours(2)


def test_thanksgiving_and_the_day_after_are_not_business_time_on_the_pacific_calendar():
    start = la(2026, 11, 25, 16, 0)  # the Wednesday before Thanksgiving, 16:00
    c = clock([ev("created", start)], FIRST_RESPONSE, "P2", now=la(2026, 11, 30, 9, 0))
    # Wednesday 1 h, Thursday and Friday holidays, the weekend, Monday 1 h so far.
    assert (c.used, c.due) == (hours(2), la(2026, 11, 30, 11, 0))
    assert "Holidays in that time: Thanksgiving Day (Thu 26 Nov 2026), Day After Thanksgiving (Fri 27 Nov 2026)." \
        in c.explanation
    assert "Wed 25 Nov 2026 17:00 PST \u2013 Mon 30 Nov 2026 08:00 PST" in said(c)


# -- pending, resolved, reopened ---------------------------------------------------------------------

def test_pending_time_does_not_count_toward_resolution_until_the_customer_replies():
    events = [ev("created", T0), ev("engineer_replied", T0 + minutes(30)), ev("pending", T0 + hours(1)),
              ev("customer_replied", T0 + hours(5)), ev("reopened", T0 + hours(5), previous="pending")]
    c = clock(events, RESOLUTION, "P1", now=T0 + hours(7))
    assert c.pauses == (Pause(T0 + hours(1), T0 + hours(5), "pending"),)
    assert (c.status, c.used, c.remaining, c.due) == (ClockStatus.RUNNING, hours(3), hours(5), T0 + hours(12))
    assert ("Paused while pending (waiting on the customer) from Mon 16 Nov 2026 18:00 UTC to "
            "Mon 16 Nov 2026 22:00 UTC: 4 h not counted.") in c.explanation


def test_pending_does_not_pause_the_first_response_clock():
    events = [ev("created", T0), ev("pending", T0 + minutes(10))]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(3))
    assert (c.pauses, c.used, c.status) == ((), hours(3), ClockStatus.BREACHED)
    assert "Pending from Mon 16 Nov 2026 17:10 UTC did not pause it: the first answer is owed in any state." \
        in c.explanation


def test_a_pending_not_yet_ended_pauses_resolution_with_no_due_time_and_no_growth():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1)), ev("pending", T0 + hours(2))]
    now = T0 + hours(6)
    c = clock(events, RESOLUTION, "P1", now=now)
    assert (c.status, c.due, c.used, c.remaining) == (ClockStatus.PAUSED, None, hours(2), hours(6))
    assert c.paused and c.pauses == (Pause(T0 + hours(2), None, "pending"),)
    assert clock(events, RESOLUTION, "P1", now=now + timedelta(days=3)).used == hours(2)
    text = said(c)
    assert "Paused since Mon 16 Nov 2026 19:00 UTC while pending (waiting on the customer): 4 h not counted so far" in text
    assert "No due time while paused: 6 h left when it resumes." in text


def test_a_paused_clock_past_its_target_stays_breached_and_due_when_it_breached():
    events = [ev("created", T0), ev("pending", T0 + hours(9))]
    c = clock(events, RESOLUTION, "P1", now=T0 + hours(20))
    assert (c.status, c.used, c.due, c.breached_at) == (ClockStatus.BREACHED, hours(9), T0 + hours(8), T0 + hours(8))
    assert c.paused and "paused, 1 h over the target so far" in c.explanation[-1]


def test_a_reopen_resumes_the_resolution_clock_where_it_stood():
    reopened = T0 + timedelta(days=2)
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1)), ev("resolved", T0 + hours(3)),
              ev("reopened", reopened, previous="resolved")]
    c = clock(events, RESOLUTION, "P1", now=reopened + hours(1))
    assert c.pauses == (Pause(T0 + hours(3), reopened, "resolved"),)
    assert (c.status, c.stopped_at, c.used) == (ClockStatus.RUNNING, None, hours(4))
    assert c.due == reopened + hours(5)
    assert any(line.startswith("Paused while the ticket was resolved from") for line in c.explanation)


def test_a_customer_reply_to_a_resolved_ticket_resumes_the_clock_as_a_reopen_does():
    replied = T0 + timedelta(days=1)
    events = [ev("created", T0), ev("resolved", T0 + hours(3)), ev("customer_replied", replied)]
    c = clock(events, RESOLUTION, "P1", now=replied + hours(2))
    assert (c.status, c.used) == (ClockStatus.RUNNING, hours(5))


def test_a_later_resolve_stops_the_clock_again_and_the_last_one_counts():
    events = [ev("created", T0), ev("resolved", T0 + hours(3)), ev("reopened", T0 + timedelta(days=1)),
              ev("resolved", T0 + timedelta(days=1, hours=2)), ev("resolved", T0 + timedelta(days=1, hours=4))]
    c = clock(events, RESOLUTION, "P1", now=T0 + timedelta(days=9))
    # the third resolve finds the ticket resolved already: the stop stays at the second
    assert (c.stopped_at, c.stopped_by) == (T0 + timedelta(days=1, hours=2), "resolved")
    assert (c.status, c.used, c.remaining) == (ClockStatus.MET, hours(5), hours(3))
    assert c.explanation[-1].startswith("Met: resolved Tue 17 Nov 2026 19:00 UTC, 3 h to spare")


def test_a_ticket_resolved_without_an_answer_stops_first_response_at_the_resolution():
    events = [ev("created", T0), ev("resolved", T0 + hours(1))]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + timedelta(days=3))
    assert (c.status, c.stopped_at, c.stopped_by, c.used) == (ClockStatus.MET, T0 + hours(1), "resolved", hours(1))
    assert "when the ticket was resolved without an answer" in c.explanation[-1]


def test_a_resolved_period_before_the_first_answer_does_not_count_toward_it():
    events = [ev("created", T0), ev("resolved", T0 + hours(1)), ev("reopened", T0 + hours(10)),
              ev("engineer_replied", T0 + hours(10.5))]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(11))
    assert (c.status, c.used, c.stopped_by) == (ClockStatus.MET, hours(1.5), "engineer_replied")


# -- priority ---------------------------------------------------------------------------------------

def test_a_priority_raise_retargets_the_open_resolution_clock_from_the_start_but_not_the_answered_first_response():
    start = la(2026, 11, 16, 9, 0)  # P3: 8 h first response and 45 h resolution of business time
    events = [ev("created", start), ev("engineer_replied", la(2026, 11, 16, 14, 0)),
              ev("priority_changed", la(2026, 11, 17, 9, 0), previous="P3", priority="P1")]
    now = la(2026, 11, 17, 10, 0)
    first = clock(events, FIRST_RESPONSE, "P1", now=now)
    assert (first.priority, first.status, first.used, first.remaining) == ("P3", ClockStatus.MET, hours(5), hours(3))
    resolution = clock(events, RESOLUTION, "P1", now=now)
    # P1 resolution is 8 h around the clock from the ticket's start: it was due Monday 17:00.
    assert (resolution.priority, resolution.target) == ("P1", Target(hours(8)))
    assert (resolution.status, resolution.breached_at, resolution.used) == (ClockStatus.BREACHED, start + hours(8), hours(25))
    assert "P3 \u2192 P1 on Tue 17 Nov 2026 17:00 UTC" in said(resolution)
    assert "a change re-targets an open clock from its start" in said(resolution)
    assert "held to P3's target, the priority in force when it stopped" in said(first)


def test_a_priority_lowered_after_a_breach_leaves_the_stopped_clock_breached_and_relaxes_the_open_one():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(3)),
              ev("priority_changed", T0 + hours(4), previous="P1", priority="P3")]
    now = T0 + hours(5)  # Monday 14:00 in Los Angeles: 5 h of business time since 09:00
    first = clock(events, FIRST_RESPONSE, "P3", now=now)
    assert (first.priority, first.status, first.overrun) == ("P1", ClockStatus.BREACHED, hours(1))
    resolution = clock(events, RESOLUTION, "P3", now=now)
    assert (resolution.priority, resolution.status, resolution.used) == ("P3", ClockStatus.RUNNING, hours(5))
    assert resolution.remaining == hours(40)


@pytest.mark.parametrize("answered, priority, status", [
    (la(2026, 11, 16, 12, 0), "P2", ClockStatus.MET),  # before any change: the first change's "previous"
    (la(2026, 11, 16, 13, 30), "P0", ClockStatus.BREACHED),  # between: the last change's "priority"
    (la(2026, 11, 16, 12, 30), "P2", ClockStatus.MET),  # at the change itself: it came with the answer
])
def test_a_stopped_clock_takes_the_priority_in_force_when_it_stopped(answered, priority, status):
    events = [ev("created", la(2026, 11, 16, 9, 0)), ev("engineer_replied", answered),
              ev("priority_changed", la(2026, 11, 16, 12, 30), previous="P2", priority="P0"),
              ev("priority_changed", la(2026, 11, 16, 14, 0), previous="P0", priority="P1")]
    c = clock(events, FIRST_RESPONSE, "P1", now=la(2026, 11, 16, 15, 0))
    assert (c.priority, c.status) == (priority, status)


def test_a_priority_without_a_target_gives_a_clock_with_no_due_time_nor_verdict():
    policy = Policy("basic", first_response={"P1": Target(hours(2))}, resolution={})
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1))]
    first = clock(events, FIRST_RESPONSE, "P3", now=T0 + hours(2), policy=policy)
    resolution = clock(events, RESOLUTION, "P3", now=T0 + hours(2), policy=policy)
    assert (first.target, first.status, first.due, first.remaining) == (None, ClockStatus.STOPPED, None, None)
    assert (resolution.status, resolution.used, resolution.due) == (ClockStatus.RUNNING, hours(2), None)
    assert moment_at(resolution, 0.5, CALENDARS) is None
    assert "The basic policy sets no resolution target for P3" in said(resolution)


# -- warning moments -----------------------------------------------------------------------------------

def test_moment_at_gives_the_50_80_and_100_percent_marks_across_a_pause():
    events = [ev("created", T0), ev("pending", T0 + hours(2)), ev("customer_replied", T0 + hours(5))]
    c = clock(events, RESOLUTION, "P1", now=T0 + hours(6))
    # 8 h around the clock, 3 h of pending in the middle.
    assert moment_at(c, 0.2, CALENDARS) == T0 + minutes(96)
    assert moment_at(c, 0.5, CALENDARS) == T0 + hours(7)
    assert moment_at(c, 0.8, CALENDARS) == T0 + hours(9.4)
    assert moment_at(c, 1.0, CALENDARS) == c.due == T0 + hours(11)


def test_moment_at_is_none_past_an_unended_pause_or_after_the_stop():
    paused = clock([ev("created", T0), ev("pending", T0 + hours(2))], RESOLUTION, "P1", now=T0 + hours(6))
    assert moment_at(paused, 0.2, CALENDARS) == T0 + minutes(96)
    assert moment_at(paused, 0.5, CALENDARS) is None
    stopped = clock([ev("created", T0), ev("resolved", T0 + hours(3))], RESOLUTION, "P1", now=T0 + hours(6))
    assert moment_at(stopped, 0.25, CALENDARS) == T0 + hours(2)
    assert moment_at(stopped, 0.5, CALENDARS) is None
    with pytest.raises(ValueError):
        moment_at(stopped, -0.1, CALENDARS)


def test_moment_at_on_a_business_clock_lands_in_business_hours():
    c = clock([ev("created", la(2026, 3, 6, 15, 0))], FIRST_RESPONSE, "P2", now=la(2026, 3, 6, 15, 30))
    assert moment_at(c, 0.5, CALENDARS) == la(2026, 3, 6, 17, 0)  # 2 h: the close of Friday, not Monday 08:00
    assert moment_at(c, 0.8, CALENDARS) == la(2026, 3, 9, 9, 12)  # 3 h 12 min: Monday 09:12 PDT
    assert moment_at(c, 1.0, CALENDARS) == c.due == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)


# -- next response ----------------------------------------------------------------------------------

def test_next_response_runs_from_the_oldest_unanswered_customer_reply_to_the_next_answer():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1)), ev("customer_replied", T0 + hours(2)),
              ev("customer_replied", T0 + hours(3)), ev("engineer_replied", T0 + hours(5.5))]
    c = clock(events, NEXT_RESPONSE, "P1", now=T0 + hours(7))
    assert (c.started_at, c.stopped_at, c.used, c.status) == (T0 + hours(2), T0 + hours(5.5), hours(3.5), ClockStatus.MET)
    later = clock(events + [ev("customer_replied", T0 + hours(8))], NEXT_RESPONSE, "P1", now=T0 + hours(10))
    assert (later.started_at, later.stopped_at, later.used, later.due) == (T0 + hours(8), None, hours(2), T0 + hours(12))


def test_a_customer_reply_before_the_first_answer_starts_no_next_response_clock():
    events = [ev("created", T0), ev("customer_replied", T0 + hours(1))]
    assert [c.name for c in clocks(events, "P1", ENTERPRISE, CALENDARS, T0 + hours(2))] == [FIRST_RESPONSE, RESOLUTION]


def test_no_next_response_clock_without_a_target_for_the_priority():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1)), ev("customer_replied", T0 + hours(2))]
    assert [c.name for c in clocks(events, "P0", ENTERPRISE, CALENDARS, T0 + hours(3))] == [FIRST_RESPONSE, RESOLUTION]
    assert [c.name for c in clocks(events, "P1", ENTERPRISE, CALENDARS, T0 + hours(3))][-1] == NEXT_RESPONSE


def test_a_customer_answer_to_a_pending_ticket_starts_a_next_response_clock():
    events = [ev("created", T0), ev("pending", T0 + hours(1)), ev("engineer_replied", T0 + hours(1)),
              ev("customer_replied", T0 + hours(20)), ev("reopened", T0 + hours(20), previous="pending")]
    c = clock(events, NEXT_RESPONSE, "P1", now=T0 + hours(21))
    assert (c.started_at, c.pauses, c.used, c.status) == (T0 + hours(20), (), hours(1), ClockStatus.RUNNING)


def test_a_pending_set_without_an_answer_pauses_the_next_response_clock():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1)), ev("customer_replied", T0 + hours(2)),
              ev("pending", T0 + hours(3))]
    c = clock(events, NEXT_RESPONSE, "P1", now=T0 + hours(30))
    assert (c.status, c.used, c.due) == (ClockStatus.PAUSED, hours(1), None)


# -- the event log ----------------------------------------------------------------------------------

def test_events_in_any_order_with_duplicates_give_the_same_clocks():
    events = [ev("created", T0), ev("engineer_replied", T0 + hours(1), copy=True), ev("pending", T0 + hours(2)),
              ev("customer_replied", T0 + hours(4)), ev("reopened", T0 + hours(4), previous="pending"),
              ev("priority_changed", T0 + hours(5), previous="P2", priority="P1"), ev("resolved", T0 + hours(6))]
    expected = clocks(events, "P1", ENTERPRISE, CALENDARS, T0 + hours(9))
    shuffled = events + events[1:4]  # the two events at T0 + 4 h commute, so any order will do
    random.Random(5).shuffle(shuffled)
    assert shuffled != events
    assert clocks(shuffled, "P1", ENTERPRISE, CALENDARS, T0 + hours(9)) == expected
    assert [c.status for c in expected] == [ClockStatus.MET, ClockStatus.MET, ClockStatus.MET]


def test_a_resolve_without_created_starts_the_clocks_at_the_first_event():
    events = [ev("resolved", T0 + hours(2)), ev("assigned", T0, engineer="ana@example.com")]
    resolution = clock(events, RESOLUTION, "P1", now=T0 + hours(3))
    assert (resolution.started_at, resolution.stopped_at, resolution.used) == (T0, T0 + hours(2), hours(2))
    assert "at the ticket's first recorded event (there is no 'created' event)" in resolution.explanation[0]
    only = clock([ev("resolved", T0)], RESOLUTION, "P1", now=T0 + hours(3))
    assert (only.started_at, only.stopped_at, only.used, only.status) == (T0, T0, timedelta(0), ClockStatus.MET)


def test_an_engineer_reply_logged_before_created_is_ignored():
    events = [ev("engineer_replied", T0 - hours(1)), ev("created", T0)]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(1))
    assert (c.started_at, c.stopped_at, c.status, c.used) == (T0, None, ClockStatus.RUNNING, hours(1))


def test_the_store_s_ticket_events_are_read_as_they_are():
    events = [TicketEvent(T0, EventKind.CREATED, "c@example.com"),
              TicketEvent(T0 + hours(1), EventKind.ENGINEER_REPLIED, "e@example.com", {"copy": True})]
    c = clock(events, FIRST_RESPONSE, "P1", now=T0 + hours(2))
    assert (c.status, c.used) == (ClockStatus.MET, hours(1))


def test_no_events_give_no_clocks_and_naive_moments_are_refused():
    assert clocks([], "P1", ENTERPRISE, CALENDARS, T0) == ()
    with pytest.raises(ValueError, match="aware"):
        clocks([ev("created", datetime(2026, 11, 16, 9, 0))], "P1", ENTERPRISE, CALENDARS, T0)
    with pytest.raises(ValueError, match="aware"):
        clocks([ev("created", T0)], "P1", ENTERPRISE, CALENDARS, datetime(2026, 11, 16, 9, 0))


def test_a_target_on_a_calendar_not_given_raises_a_value_error_naming_it():
    policy = Policy("odd", first_response={"P2": Target(hours(4), "emea")}, resolution={})
    with pytest.raises(ValueError, match="policy 'odd': no business calendar named 'emea'"):
        clocks([ev("created", T0)], "P2", policy, CALENDARS, T0)
    with pytest.raises(ValueError):
        Target(timedelta(0))


def test_the_wall_clock_changes_nothing_only_now_does():
    events = [ev("created", T0), ev("pending", T0 + hours(1)), ev("customer_replied", T0 + hours(2))]
    expected = clocks(events, "P2", ENTERPRISE, CALENDARS, T0 + hours(3))
    with freeze_time("2031-06-01 12:00:00"):
        assert clocks(events, "P2", ENTERPRISE, CALENDARS, T0 + hours(3)) == expected
    assert clocks(events, "P2", ENTERPRISE, CALENDARS, T0 + hours(4)) != expected


def test_the_sla_module_imports_no_io_library_and_reads_no_wall_clock():
    tree = ast.parse((Path(__file__).resolve().parents[2] / "ticketing" / "core" / "sla.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported & {"peewee", "playhouse", "os", "socket", "smtplib", "imapclient", "schedule", "time"} == set()
    calls = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert calls & {"now", "utcnow", "today", "time", "monotonic"} == set()


# -- explanations and words ---------------------------------------------------------------------------

def test_the_explanation_tells_the_whole_story_of_a_paused_business_clock_over_thanksgiving():
    events = [ev("created", la(2026, 11, 24, 16, 0)), ev("engineer_replied", la(2026, 11, 25, 12, 0)),
              ev("pending", la(2026, 11, 25, 13, 0)), ev("customer_replied", la(2026, 11, 30, 9, 0)),
              ev("reopened", la(2026, 11, 30, 9, 0), previous="pending")]
    c = clock(events, RESOLUTION, "P2", now=la(2026, 11, 30, 16, 0))
    # Tue 1 h + Wed 08:00-13:00 5 h + Mon 09:00-16:00 7 h = 13 h of 18 h; 5 h left: Mon 1 h, Tue 08:00-12:00.
    assert c.explanation == (
        "The resolution clock started Tue 24 Nov 2026 16:00 PST, when the customer's first message reached our server.",
        ("Target for P2 under the enterprise policy: 18 h of business time on the us-pacific calendar "
         "(America/Los_Angeles); nights, weekends and holidays do not count."),
        ("Paused while pending (waiting on the customer) from Wed 25 Nov 2026 13:00 PST to Mon 30 Nov 2026 09:00 PST: "
         "5 h of business time not counted."),
        ("Outside the business hours of us-pacific, not counted: 5 days 6 h in 2 periods: Tue 24 Nov 2026 17:00 PST "
         "\u2013 Wed 25 Nov 2026 08:00 PST; Wed 25 Nov 2026 17:00 PST \u2013 Mon 30 Nov 2026 08:00 PST."),
        "Holidays in that time: Thanksgiving Day (Thu 26 Nov 2026), Day After Thanksgiving (Fri 27 Nov 2026).",
        "Used 13 h of the 18 h target (business time); 5 h of business time left.",
        "Due Tue 1 Dec 2026 12:00 PST if nothing pauses it.",
    )
    assert c.due == la(2026, 12, 1, 12, 0)


def test_a_breach_explanation_says_when_and_by_how_much_in_business_time():
    events = [ev("created", la(2026, 11, 24, 16, 0)), ev("engineer_replied", la(2026, 11, 25, 12, 0))]
    c = clock(events, FIRST_RESPONSE, "P2", now=la(2026, 11, 25, 13, 0))
    assert (c.status, c.used, c.overrun, c.breached_at) == (ClockStatus.BREACHED, hours(5), hours(1), la(2026, 11, 25, 11, 0))
    assert c.explanation[-1] == ("Breached at Wed 25 Nov 2026 11:00 PST; answered Wed 25 Nov 2026 12:00 PST, "
                                 "1 h of business time over the target.")


@pytest.mark.parametrize("duration, days, words", [
    (minutes(45), True, "45 min"),
    (minutes(80), True, "1 h 20 min"),
    (timedelta(days=3, hours=2, minutes=59), True, "3 days 2 h"),
    (timedelta(days=1), True, "1 day"),
    (hours(2), True, "2 h"),
    (minutes(59) + timedelta(seconds=59), True, "59 min"),
    (timedelta(0), True, "0 min"),
    (timedelta(seconds=30), True, "under 1 min"),
    (hours(26), False, "26 h"),
    (-minutes(90), True, "-1 h 30 min"),
])
def test_humanize_writes_durations_in_two_units_at_most(duration, days, words):
    assert humanize(duration, days) == words
