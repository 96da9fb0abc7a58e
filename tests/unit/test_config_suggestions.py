"""A misspelt key, section or time zone is answered with the name the operator probably meant."""
import pytest
from support.configs import minimal

from ticketing.config import ConfigError, config_from_dict
from ticketing.config.suggest import did_you_mean, nearest_timezones


def only_problem(data):
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    [problem] = info.value.problems
    return problem


def test_a_misspelt_key_suggests_the_known_key_of_its_section():
    problem = only_problem(minimal(mailbox={"pol_seconds": 30}))
    assert (problem.key, problem.message, problem.fix) == ("mailbox.pol_seconds", "unknown key", "did you mean 'poll_seconds'?")


def test_a_key_in_the_wrong_case_suggests_its_spelling():
    assert only_problem(minimal(outgoing={"Retry_Seconds": 30})).fix == "did you mean 'retry_seconds'?"


def test_a_key_of_an_array_of_tables_is_matched_against_that_tables_keys():
    data = minimal(calendars=[{"name": "office", "timezone": "UTC", "holiday": "US"}])
    problem = only_problem(data)
    assert (problem.key, problem.fix) == ("calendars[0].holiday", "did you mean 'holidays'?")


def test_a_misspelt_section_suggests_the_known_section():
    problem = only_problem(minimal(mailbx={}))
    assert (problem.key, problem.message, problem.fix) == ("mailbx", "unknown section", "did you mean 'mailbox'?")


def test_a_key_like_no_other_lists_the_known_keys():
    problem = only_problem(minimal(support={"zzzz": 1}))
    assert problem.fix.startswith("remove it; known keys: address, name, acknowledge")


@pytest.mark.parametrize("written, meant", [
    ("America/New_york", "America/New_York"),
    ("america/los angeles", "America/Los_Angeles"),
    ("Berlin", "Europe/Berlin"),
])
def test_a_time_zone_in_the_wrong_case_or_without_its_region_has_one_answer(written, meant):
    assert nearest_timezones(written) == [meant]


def test_a_misspelt_time_zone_suggests_the_nearest_iana_names():
    assert nearest_timezones("Europe/Berln")[0] == "Europe/Berlin"
    assert nearest_timezones("Mars/Olympus") == []


def test_a_bad_time_zone_in_the_config_names_the_nearest_one():
    problem = only_problem(minimal(managers=[{"email": "m@example.com", "name": "M", "timezone": "America/New_york"}]))
    assert (problem.key, problem.message) == ("managers[0].timezone", "unknown time zone 'America/New_york'")
    assert problem.fix == "did you mean 'America/New_York'?"


def test_an_unrecognisable_time_zone_keeps_the_general_advice():
    problem = only_problem(minimal(accounts=[{"name": "Acme", "timezone": "Mars/Olympus"}]))
    assert "use an IANA name" in problem.fix


def test_several_suggestions_read_as_a_list():
    assert did_you_mean(["a", "b", "c"]) == "did you mean 'a', 'b' or 'c'?"
