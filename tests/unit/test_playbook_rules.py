"""Playbook rules added with both sides' calendars: a playbook's own calendar, internal meetings,
the closing meeting and the customer's daily limit, each read and checked with its key and a fix."""
from __future__ import annotations

from pathlib import Path

import pytest

from ticketing.config import CalendarConfig
from ticketing.errors import Problem
from ticketing.files.playbook_calendar import weekdays
from ticketing.files.playbooks import check_playbooks, load_playbooks

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

TOP = '''name = "demo"
title = "Demo"
source = "000_edea7403beb02fbf.txt"
tiers = ["Demo"]
length_days = 20
'''


def meeting(key: str, attendees: str = '["engineer", "customer:all"]', extra: str = "") -> str:
    return (f'\n[[meetings]]\nkey = "{key}"\ntitle = "{key}"\nduration_minutes = 30\nattendees = {attendees}\n'
            f'anchor = "start"\nwindow = [1, 5]\n{extra}')


def check(tmp_path: Path, text: str) -> list[Problem]:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "demo.toml").write_text(text, encoding="utf-8")
    return check_playbooks(folder, TEMPLATES)


def test_playbooks_check_refuses_an_internal_meeting_that_invites_a_customer(tmp_path):
    problems = check(tmp_path, TOP + meeting("post-mortem", '["engineer", "manager"]', 'optional = ["customer:it"]\n'
                                            'internal = true\n'))
    assert [p.key for p in problems] == ["playbooks/demo.toml: meetings[0].internal"]
    assert "customer:it" in problems[0].message and "internal = false" in problems[0].fix
    assert check(tmp_path, TOP + meeting("post-mortem", '["engineer", "manager"]', "internal = true\n")) == []


def test_one_closing_meeting_at_most_and_never_an_internal_one(tmp_path):
    problems = check(tmp_path, TOP + meeting("a", extra="closes = true\n") + meeting("b", extra="closes = true\n")
                     + meeting("c", '["engineer"]', "internal = true\ncloses = true\n"))
    assert [p.key for p in problems] == ["playbooks/demo.toml: meetings[2].closes", "playbooks/demo.toml: meetings[1].closes",
                                         "playbooks/demo.toml: meetings[2].closes"]


def test_a_playbook_calendar_table_is_read_into_a_business_calendar_config(tmp_path):
    text = ('calendar = { timezone = "America/Los_Angeles", hours = "08:00-17:00", days = "mon-fri", holidays = "US" }\n'
            'max_customer_meetings_per_day = 3\n' + TOP + meeting("kickoff"))
    assert check(tmp_path, text) == []
    playbook = load_playbooks(tmp_path / "playbooks")["demo"]
    assert playbook.calendar == CalendarConfig(
        name="08:00-17:00 America/Los_Angeles, mon-fri, US holidays", timezone="America/Los_Angeles",
        hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-17:00"), holidays="US")
    assert playbook.max_customer_meetings_per_day == 3
    named = 'calendar = "us-pacific"\n' + TOP + meeting("kickoff")
    assert check(tmp_path, named) == [] and load_playbooks(tmp_path / "playbooks")["demo"].calendar == "us-pacific"


@pytest.mark.parametrize("table, key", [
    ('{ hours = "08:00-17:00" }', "calendar.timezone"),
    ('{ timezone = "Mars/Olympus" }', "calendar.timezone"),
    ('{ timezone = "UTC", hours = "17:00-08:00" }', "calendar.hours"),
    ('{ timezone = "UTC", days = "fri-mon" }', "calendar.days"),
    ('{ timezone = "UTC", holidays = "XX" }', "calendar.holidays"),
    ('{ timezone = "UTC", weekdays = "mon" }', "calendar.weekdays"),
    ("7", "calendar"),
])
def test_a_bad_playbook_calendar_is_reported_with_its_key(tmp_path, table, key):
    problems = check(tmp_path, f"calendar = {table}\n" + TOP + meeting("kickoff"))
    assert [p.key for p in problems] == [f"playbooks/demo.toml: {key}"]


def test_the_daily_limit_is_at_least_one(tmp_path):
    problems = check(tmp_path, "max_customer_meetings_per_day = 0\n" + TOP + meeting("kickoff"))
    assert [p.key for p in problems] == ["playbooks/demo.toml: max_customer_meetings_per_day"]


def test_days_read_as_ranges_and_lists():
    assert weekdays("mon-fri") == ("mon", "tue", "wed", "thu", "fri")
    assert weekdays("sat, mon-tue") == ("mon", "tue", "sat")
    assert weekdays("weekdays") is None and weekdays("fri-mon") is None


def test_the_shipped_playbooks_follow_the_practices_calendars_and_ends():
    shipped = load_playbooks(ROOT / "playbooks")
    quickstart = shipped["quickstart"]
    # "QuickStart resources are available from 8-5 (PST) M-F, excluding holidays"
    assert (quickstart.calendar.timezone, quickstart.calendar.holidays) == ("America/Los_Angeles", "US")
    assert set(quickstart.calendar.hours.values()) == {"08:00-17:00"} and len(quickstart.calendar.hours) == 5
    closure = quickstart.meeting("closure")
    assert closure.closes and closure.anchor == "start" and closure.window.latest == quickstart.length_days
    assert closure.window.earliest >= quickstart.length_days - 4
    post_mortem = shipped["professional-services"].meeting("post-mortem")
    assert post_mortem.internal and not post_mortem.with_customer
    assert shipped["sprint-zero"].max_customer_meetings_per_day == 2
    assert [m.key for p in shipped.values() for m in p.meetings if m.internal] == ["post-mortem"]
