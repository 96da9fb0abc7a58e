"""SLA targets' durations: days, hours and minutes, and what the error for a bad one says."""
import pytest
from support.configs import minimal

from ticketing.config import (
    DURATION_FORMS,
    ConfigError,
    config_from_dict,
    parse_duration,
)
from ticketing.config.durations import has_days


@pytest.mark.parametrize("text, minutes", [
    ("3d", 3 * 24 * 60), ("1d12h", 36 * 60), ("1d 12h", 36 * 60), ("2h", 120), ("30min", 30), ("30m", 30),
    ("1h30min", 90), ("2H", 120),
])
def test_a_duration_is_read_as_minutes(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "0h", "3 days", "1.5h", "90", "h", "2h3d", "30mins"])
def test_a_malformed_or_zero_duration_is_none(text):
    assert parse_duration(text) is None


def test_only_a_duration_with_days_has_days():
    assert has_days("1d2h") and not has_days("26h")


def policy(*targets):
    return {"policies": [{"name": "p", "targets": list(targets)}], "default_policy": "p"}


CALENDAR = [{"name": "office", "timezone": "UTC", "hours": dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], "09:00-17:00")}]


def test_days_are_accepted_on_the_round_the_clock_clock():
    config = config_from_dict(minimal(sla=policy({"priority": "P0", "first_response": "1d", "clock": "24x7"})))
    assert parse_duration(config.sla.policies[0].targets[0].first_response) == 24 * 60


def test_a_bad_duration_names_every_accepted_form():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(sla=policy({"priority": "P0", "resolution": "3 days"})))
    [problem] = info.value.problems
    assert problem.key == "sla.policies[0].targets[0].resolution" and problem.message == "not a duration: '3 days'"
    assert DURATION_FORMS in problem.fix and '"3d"' in problem.fix and '"30min"' in problem.fix


def test_days_on_a_business_calendar_are_refused_with_the_working_hours_they_would_mean():
    """"3d" on an 8-hour calendar would be 72 working hours, nine working days: say what to write instead."""
    data = minimal(sla=policy({"priority": "P2", "resolution": "3d", "clock": "office"}))
    data["calendars"] = CALENDAR
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    [problem] = info.value.problems
    assert problem.key == "sla.policies[0].targets[0].resolution"
    assert "counts only working hours" in problem.message
    assert problem.fix.startswith('write "24h" for 3 working day(s) of 8 h on office')
