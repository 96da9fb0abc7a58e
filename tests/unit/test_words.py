"""The plain words of ticketing.core.words: support hours in two zones, SLA targets, names."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ticketing.config.sections import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.sla import Policy, Target
from ticketing.core.words import (
    duration_in_words,
    hours_in_words,
    names_in_words,
    sla_in_words,
)

BERLIN = BusinessCalendar.from_config(CalendarConfig(name="eu", timezone="Europe/Berlin"))
SYDNEY = BusinessCalendar.from_config(CalendarConfig(
    name="au", timezone="Australia/Sydney", hours={"mon": "08:00-17:00", "tue": "08:00-17:00", "fri": "09:00-12:00"}))
WEEK = date(2026, 11, 18)


def test_hours_read_in_our_zone_and_in_the_readers_when_their_clock_differs():
    assert hours_in_words(BERLIN, ZoneInfo("Europe/Paris"), WEEK) == ["Monday to Friday, 08:00-17:00 Berlin time (CET)"]
    assert hours_in_words(BERLIN, ZoneInfo("America/New_York"), WEEK) == [
        "Monday to Friday, 08:00-17:00 Berlin time (CET); 02:00-11:00 New York time (EST) for you"]


def test_hours_that_cross_midnight_in_the_readers_zone_say_which_day_and_different_days_get_their_own_line():
    assert hours_in_words(SYDNEY, ZoneInfo("America/Los_Angeles"), WEEK) == [
        "Monday to Tuesday, 08:00-17:00 Sydney time (AEDT); Sunday to Monday, 13:00-22:00 Los Angeles time (PST) for you",
        "Friday, 09:00-12:00 Sydney time (AEDT); Thursday, 14:00-17:00 Los Angeles time (PST) for you"]
    late = BusinessCalendar.from_config(CalendarConfig(name="eu", timezone="Europe/Berlin", hours={"wed": "14:00-18:00"}))
    assert hours_in_words(late, ZoneInfo("Asia/Tokyo"), WEEK) == [
        "Wednesday, 14:00-18:00 Berlin time (CET); 22:00-02:00 the next day Tokyo time (JST) for you"]


def test_sla_targets_in_words_per_priority():
    policy = Policy("enterprise", {"P1": Target(timedelta(hours=2)), "P2": Target(timedelta(minutes=90), "eu")},
                    {"P1": Target(timedelta(hours=8)), "P2": Target(timedelta(days=3))})
    assert sla_in_words(policy, {}, "eu") == [
        "urgent (P1): an answer within 2 hours and a resolution within 8 hours, round the clock",
        "high (P2): an answer within 1 hour 30 minutes of business time and a resolution within 3 days"]


def test_names_and_durations():
    assert names_in_words(["Jane", "", "Marcus", "Helen"]) == "Jane, Marcus and Helen"
    assert names_in_words(["Jane"]) == "Jane" and names_in_words([]) == ""
    assert duration_in_words(timedelta(minutes=30)) == "30 minutes" and duration_in_words(timedelta(hours=1)) == "1 hour"
