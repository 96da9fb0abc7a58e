"""Steering an engagement by reply: the commands' shapes, their dates and times, the meeting a
reference names, the latest proposed time and the business-hours warnings (pure)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.commands import HELP, Command, parse_commands
from ticketing.core.domain import Meeting, MeetingAttendee, MeetingStatus
from ticketing.core.steering import (
    ContactChange,
    MoveTo,
    find_meeting,
    find_task,
    hours_warnings,
    is_link,
    latest_proposal,
    read_contact,
    read_day,
    read_move,
    split_reference,
)
from ticketing.core.tasks import Task, TaskStatus

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 18)  # a Wednesday


def meeting(id: int, key: str, title: str, *attendees: MeetingAttendee, start: datetime | None = None) -> Meeting:
    start = start or datetime(2026, 12, 1, 17, tzinfo=timezone.utc)
    return Meeting(id, 1, key, title, "", f"u{id}@x", 0, start, start + timedelta(hours=1), MeetingStatus.PLANNED, "",
                   attendees)


MEETINGS = [meeting(1, "introduction", "Introduction: Acme"), meeting(2, "hand-off", "Hand-off meeting"),
            meeting(3, "developer-workflow", "Developer workflow consultation"),
            meeting(4, "pre-launch", "Pre-launch review")]


def test_each_steering_command_is_taken_with_its_argument_and_listed_in_the_help():
    result = parse_commands('#golive 2027-01-14\n#playbook quickstart\n#contact add "Ann Lee <ann@acme.example>" IT\n'
                            "#contact remove marcus@acme.example\n#accept\n#move intro Dec 3 10:30\n#cancel debrief\n"
                            "#location hand-off https://meet.example/j/1\nThanks")
    assert [c.name for c in result.commands] == ["golive", "playbook", "contact", "contact", "accept", "move", "cancel",
                                                 "location"]
    assert result.commands[0] == Command("golive", "2027-01-14") and result.problems == ()
    assert all(f"#{name}" in HELP[name] for name in ("golive", "playbook", "contact", "accept", "move", "cancel", "location"))


@pytest.mark.parametrize(("text", "problem"), [
    ("#golive", "#golive needs a date"),
    ("#playbook", "#playbook needs a playbook's name"),
    ("#playbook white glove", "#playbook needs one playbook's name, not 'white glove'"),
    ("#contact invite ann@acme.example", "#contact needs add \"Name <email>\" ROLE or remove email"),
    ("#contact remove Ann", "#contact needs add"),
    ("#move intro tomorrow", "#move needs MEETING DATE HH:MM"),
    ("#cancel", "#cancel needs a meeting"),
    ("#location hand-off", "#location needs MEETING and a place or link"),
    ("#done", "#done needs a task"),
    ("#todo", "#todo needs a task"),
    ("#blocked staging-live", "#blocked needs TASK and a reason"),
])
def test_a_steering_command_without_the_argument_it_needs_is_a_problem_not_run(text, problem):
    result = parse_commands(text)
    assert result.commands == () and result.problems[0].startswith(problem)


@pytest.mark.parametrize(("argument", "change"), [
    ('add "Ann Lee <Ann@Acme.example>" IT', ContactChange("add", "ann@acme.example", "Ann Lee", "IT")),
    ("add Ann Lee <ann@acme.example> project lead", ContactChange("add", "ann@acme.example", "Ann Lee", "project lead")),
    ("add ann@acme.example", ContactChange("add", "ann@acme.example")),
    ("remove <Marcus@acme.example>", ContactChange("remove", "marcus@acme.example")),
])
def test_contact_changes_are_read_with_name_address_and_role(argument, change):
    assert read_contact(argument) == change


@pytest.mark.parametrize(("text", "day"), [
    ("2027-01-14", date(2027, 1, 14)), ("14 January 2027", date(2027, 1, 14)), ("Jan 14", date(2027, 1, 14)),
    ("next Tuesday", date(2026, 11, 24)), ("1/14/2027", date(2027, 1, 14)),
])
def test_a_go_live_day_is_read_in_the_forms_customers_write(text, day):
    assert read_day(text, TODAY, LA) == day


@pytest.mark.parametrize("text", ["January", "2027-01-14 or 2027-01-21", "soon", "Q1"])
def test_anything_but_one_day_is_not_a_go_live_date(text):
    assert read_day(text, TODAY, LA).startswith("not one day")


@pytest.mark.parametrize(("argument", "move"), [
    ("intro 2026-12-03 10:30", MoveTo("intro", date(2026, 12, 3), time(10, 30))),
    ("developer workflow Dec 3 2pm", MoveTo("developer workflow", date(2026, 12, 3), time(14, 0))),
    ('"Hand-off meeting" next Tuesday at 9:15 am', MoveTo("Hand-off meeting", date(2026, 11, 24), time(9, 15))),
    ("pre-launch 4 December 12:00 pm", MoveTo("pre-launch", date(2026, 12, 4), time(12, 0))),
])
def test_a_move_is_read_as_meeting_day_and_local_time(argument, move):
    assert read_move(argument, TODAY, LA) == move


@pytest.mark.parametrize("argument", ["intro 10:30", "2026-12-03 10:30", "intro 2026-12-03 10", "intro Dec 3 13pm"])
def test_a_move_without_meeting_day_or_clock_time_is_a_problem(argument):
    assert isinstance(read_move(argument, TODAY, LA), str)


def test_a_location_names_the_meeting_in_one_word_or_quoted():
    assert split_reference("hand-off https://meet.example/j/1") == ("hand-off", "https://meet.example/j/1")
    assert split_reference('"pre-launch review" Room 4B, 2nd floor') == ("pre-launch review", "Room 4B, 2nd floor")
    assert is_link("https://meet.example/j/1") and not is_link("Room 4B") and not is_link("meet.example/j/1")


@pytest.mark.parametrize(("reference", "key"), [
    ("introduction", "introduction"), ("HAND-OFF", "hand-off"), ("workflow", "developer-workflow"),
    ("Pre-launch review", "pre-launch"), ('"intro"', "introduction"),
])
def test_a_meeting_is_named_by_its_key_its_title_or_a_part_only_it_has(reference, key):
    assert find_meeting(reference, MEETINGS, "move").key == key


def test_a_reference_to_several_meetings_or_none_is_a_problem_that_lists_them():
    several = find_meeting("off", [*MEETINGS, meeting(5, "kick-off", "Kick-off")], "cancel")
    assert several.startswith("#cancel off: matches 2 meetings") and "hand-off (Hand-off meeting)" in several
    assert "kick-off (Kick-off)" in several and "introduction" not in several
    none = find_meeting("debrief", MEETINGS, "move")
    assert none.startswith("#move debrief: no meeting matches") and "pre-launch (Pre-launch review)" in none


def test_the_latest_proposal_is_the_one_received_last():
    early = datetime(2026, 11, 19, 9, tzinfo=timezone.utc)
    jane = MeetingAttendee("jane@acme.example", proposed_start=early + timedelta(days=20), proposed_at=early)
    marcus = MeetingAttendee("marcus@acme.example", proposed_start=early + timedelta(days=10),
                             proposed_at=early + timedelta(hours=1))
    meetings = [meeting(1, "introduction", "Intro", jane), meeting(2, "hand-off", "Hand-off", marcus),
                meeting(3, "pre-launch", "Pre-launch", MeetingAttendee("bob@acme.example"))]
    found, attendee = latest_proposal(meetings)
    assert (found.key, attendee.email) == ("hand-off", "marcus@acme.example")
    assert latest_proposal(meetings[:1])[1].email == "jane@acme.example"
    assert latest_proposal(meetings[2:]) is None


def test_times_outside_the_engineers_or_the_customers_hours_are_warned_about():
    calendar = BusinessCalendar.from_config(CalendarConfig(name="us-pacific", timezone="America/Los_Angeles"))
    day = (8 * 60, 18 * 60)

    def at(hour, minutes=60):
        start = datetime(2026, 12, 3, hour, tzinfo=LA)  # a Thursday
        return hours_warnings(start, start + timedelta(minutes=minutes), calendar, NY, day)

    assert at(10) == []  # 10:00 in Los Angeles, 13:00 in New York
    assert at(6) == ["outside the engineer's business hours (us-pacific, America/Los_Angeles)"]  # 09:00 in NY
    assert at(16) == ["outside the customer's day (08:00-18:00 Monday to Friday, America/New_York)"]  # to 20:00 in NY
    assert [w.split(" (")[0] for w in at(4)] == ["outside the engineer's business hours", "outside the customer's day"]
    saturday = datetime(2026, 12, 5, 10, tzinfo=LA)
    assert len(hours_warnings(saturday, saturday + timedelta(hours=1), calendar, NY, day)) == 2


TASKS = [Task(1, 1, "staging-live", "Your application live on staging", "customer:it", date(2026, 12, 11),
              TaskStatus.OPEN, True),
         Task(2, 1, "staging-cdn", "Your staging hostname on our CDN", "customer:it", date(2026, 12, 14),
              TaskStatus.OPEN, True),
         Task(3, 1, "pre-launch-review", "Pre-launch review of the configuration", "engineer", None, TaskStatus.OPEN,
              False)]


def test_the_task_commands_are_read_with_their_task_and_the_blocked_reason():
    result = parse_commands('#done staging-live\n#todo "pre-launch review"\n#blocked staging-cdn DNS not delegated yet\n'
                            "Thanks")
    assert [(c.name, c.argument) for c in result.commands] == [
        ("done", "staging-live"), ("todo", '"pre-launch review"'), ("blocked", "staging-cdn DNS not delegated yet")]
    assert result.problems == () and all(f"#{name}" in HELP[name] for name in ("done", "todo", "blocked"))
    assert split_reference('"staging hostname" waiting on DNS') == ("staging hostname", "waiting on DNS")


@pytest.mark.parametrize(("reference", "key"), [
    ("staging-live", "staging-live"), ("STAGING-CDN", "staging-cdn"), ("hostname", "staging-cdn"),
    ('"Pre-launch review"', "pre-launch-review"), ("your application live on staging", "staging-live"),
])
def test_a_task_is_named_by_its_key_its_name_or_a_part_only_it_has(reference, key):
    assert find_task(reference, TASKS, "done").key == key


def test_a_reference_to_several_tasks_or_none_is_a_problem_that_lists_them():
    several = find_task("staging", TASKS, "done")
    assert several.startswith("#done staging: matches 2 tasks, name one: staging-live (Your application live on staging, "
                              "open); staging-cdn") and "pre-launch-review" not in several
    none = find_task("billing", TASKS, "blocked")
    assert none.startswith("#blocked billing: no task matches; the tasks:") and "pre-launch-review (Pre-launch" in none
