"""A weekly series sent as one invitation: what icalendar and vobject (the parsers of two calendar
ecosystems) make of it, across a change to daylight saving time."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr

from mailer import (
    Attendee,
    Invitation,
    Override,
    Weekly,
    read_answers,
    request_instance,
    request_series,
)

LA = ZoneInfo("America/Los_Angeles")
STAMP = datetime(2027, 2, 20, 18, 0, tzinfo=timezone.utc)
HALF = timedelta(minutes=30)
# Mondays 09:30 Pacific from 1 March 2027, five weeks; summer time starts on Sunday 14 March.
FIRST = datetime(2027, 3, 1, 9, 30, tzinfo=LA)
SERIES = Invitation(
    uid="series-7@northwind.example", sequence=0, summary="Weekly check point: Acme", description="Progress.",
    location=None, start=FIRST, end=FIRST + HALF, organizer=Attendee("support@northwind.example", "Support", "CHAIR"),
    attendees=(Attendee("jane@acme.example", "Jane Doe"), Attendee("priya@northwind.example", "Priya Raman")),
)
SKIPPED = datetime(2027, 3, 22, 9, 30, tzinfo=LA)  # a week without a check point
MOVED = Override(datetime(2027, 3, 15, 9, 30, tzinfo=LA), datetime(2027, 3, 16, 10, 0, tzinfo=LA),
                 datetime(2027, 3, 16, 10, 30, tzinfo=LA))
# What the planner placed: the rule's Mondays, but not the 22nd, and the 15th's on Tuesday at 10:00.
PLANNED = [datetime(2027, 3, 1, 9, 30, tzinfo=LA), datetime(2027, 3, 8, 9, 30, tzinfo=LA), MOVED.start,
           datetime(2027, 3, 29, 9, 30, tzinfo=LA)]


def text() -> str:
    return request_series(SERIES, Weekly("America/Los_Angeles", 5, (SKIPPED,)), STAMP, (MOVED,))


def test_the_series_is_one_vcalendar_with_a_master_an_override_and_its_vtimezone():
    cal = icalendar.Calendar.from_ical(text())
    assert str(cal["METHOD"]) == "REQUEST"
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    assert len(events) == 2 and {str(e["UID"]) for e in events} == {SERIES.uid}
    master, moved = sorted(events, key=lambda e: "RECURRENCE-ID" in e)
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["COUNT"] == [5]
    assert master["DTSTART"].params["TZID"] == "America/Los_Angeles" and master["DTSTART"].dt == FIRST
    assert [d.dt for d in master["EXDATE"].dts] == [SKIPPED]
    assert moved["RECURRENCE-ID"].dt == MOVED.recurrence_id and moved["DTSTART"].dt == MOVED.start
    [vtimezone] = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    assert str(vtimezone["TZID"]) == "America/Los_Angeles"
    assert "RDATE" not in text()  # one onset per observance: Outlook misreads long RDATE lists


def test_vobject_expands_the_series_to_exactly_the_planned_times_across_the_change_to_summer_time():
    vcal = vobject.readOne(text())
    master = next(e for e in vcal.vevent_list if not hasattr(e, "recurrence_id"))
    overrides = {e.recurrence_id.value: e.dtstart.value for e in vcal.vevent_list if hasattr(e, "recurrence_id")}
    expanded = [overrides.get(moment, moment) for moment in master.getrruleset()]
    assert expanded == PLANNED
    # 09:30 in Los Angeles is 17:30 UTC before 14 March and 16:30 UTC after.
    assert [t.astimezone(timezone.utc).hour for t in expanded] == [17, 17, 17, 16]


def test_icalendar_reads_the_same_rule_and_exceptions():
    cal = icalendar.Calendar.from_ical(text())
    master = next(c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c)
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=master["DTSTART"].dt)
    skipped = {d.dt for d in master["EXDATE"].dts}
    moved = {c["RECURRENCE-ID"].dt: c["DTSTART"].dt for c in cal.walk("VEVENT") if "RECURRENCE-ID" in c}
    assert [moved.get(t, t) for t in rule if t not in skipped] == PLANNED


def test_one_moved_instance_is_sent_alone_with_the_series_uid_and_its_recurrence_id():
    ics = request_instance(replace(SERIES, sequence=1), MOVED, "America/Los_Angeles", STAMP)
    cal = icalendar.Calendar.from_ical(ics)
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == SERIES.uid and event["SEQUENCE"] == 1 and "RRULE" not in event
    assert event["RECURRENCE-ID"].dt == MOVED.recurrence_id and event["DTSTART"].dt == MOVED.start
    assert vobject.readOne(ics).vevent.recurrence_id.value == MOVED.recurrence_id


def test_a_reply_to_one_instance_is_read_with_its_recurrence_id_in_utc():
    reply = text().replace("METHOD:REQUEST", "METHOD:REPLY").replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED")
    answers = {a.recurrence_id for a in read_answers(reply) if a.attendee == "jane@acme.example"}
    assert answers == {None, MOVED.recurrence_id.astimezone(timezone.utc)}


@pytest.mark.parametrize("weekly, overrides", [
    (Weekly("Mars/Olympus", 3), ()),
    (Weekly("America/Los_Angeles", 0), ()),
    (Weekly("America/Los_Angeles", 3, (datetime(2027, 3, 2, 9, 30, tzinfo=LA),)), ()),  # a Tuesday: no rule time
    (Weekly("America/Los_Angeles", 3), (Override(datetime(2027, 3, 29, 9, 30, tzinfo=LA), FIRST, FIRST + HALF),)),
])
def test_a_series_that_cannot_be_written_is_refused(weekly, overrides):
    with pytest.raises(ValueError):
        request_series(SERIES, weekly, STAMP, overrides)
