"""A white-glove engagement's go-live meetings, end to end without servers: they wait for the date (the
welcome and the engineer's hand-off say so), a go-live intent plans them around it, and a date that
contradicts the plan is planned as well as it can be with the engineer told what and why."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.desk import CONFIG, Desk
from support.mail import make_message

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-9001
Close Date: 2026-11-17
Package: White Glove
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
Contact: Fiona Park <fiona@acme.example>; role=finance
Contact: Erin Cole <erin@acme.example>; role=exec
"""
LA = ZoneInfo("America/Los_Angeles")
PRIYA = BusinessCalendar.from_config(CalendarConfig(name="us-pacific", timezone="America/Los_Angeles", holidays="US"))
GOLIVE_MEETINGS = {"soft-launch", "full-launch", "daily-check-in", "daily-check-in#2", "daily-check-in#3",
                   "daily-check-in#4", "daily-check-in#5", "first-month-review"}


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE))
    [engagement] = desk.store.engagements()
    return engagement


def go_live(desk: Desk, when: str):
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body=f"We plan to go live on {when}."))


def meetings(desk: Desk, engagement):
    return {m.key: m for m in desk.store.meetings(engagement.id)}


def day(meeting) -> date:
    return meeting.start.astimezone(LA).date()


def test_white_glove_go_live_meetings_wait_for_the_date_and_the_welcome_and_hand_off_say_so(desk):
    engagement = start(desk)
    assert engagement.playbook == "white-glove"
    waiting = {k for k, m in meetings(desk, engagement).items() if m.note == "waiting for the go-live date"}
    assert waiting == {"soft-launch", "full-launch", "daily-check-in", "first-month-review"}  # repeats come with the date
    [(_, welcome)] = desk.mail("welcome")
    planned_later = welcome.text.split("Planned once we know your go-live date", 1)[1]
    for title in ("Soft launch check-in: Acme Corporation", "Full launch: Acme Corporation",
                  "First month review: Acme Corporation"):
        assert title in planned_later
    [(_, hand_off)] = desk.mail("notification", to="priya@northwind.example")
    assert ("The go-live date is not known yet: Soft launch check-in: Acme Corporation, Full launch: Acme Corporation, "
            "Daily launch check-in: Acme Corporation, First month review: Acme Corporation will be planned when it is"
            ) in " ".join(hand_off.text.split())


def test_a_go_live_intent_plans_the_soft_launch_full_launch_and_first_month_review_around_the_date(desk):
    engagement = start(desk)
    go_live(desk, "10 March 2027")
    planned = meetings(desk, engagement)
    assert {k for k in GOLIVE_MEETINGS if planned[k].status == "planned"} == GOLIVE_MEETINGS
    golive = date(2027, 3, 10)
    assert -10 <= PRIYA.working_days_between(golive, day(planned["soft-launch"])) <= -6
    assert day(planned["full-launch"]) == golive
    assert PRIYA.working_days_between(golive, day(planned["daily-check-in"])) == 1
    assert 19 <= PRIYA.working_days_between(golive, day(planned["first-month-review"])) <= 23
    assert all(planned[k].note == "" for k in GOLIVE_MEETINGS)
    [(_, planning)] = [(m, p) for m, p in desk.mail("planning") if "re-planned" in p.subject]
    assert "Soft launch check-in: Acme Corporation: planned for" in planning.text and "Please check" not in planning.text


def test_a_go_live_before_the_trainings_is_planned_and_the_engineer_told_what_and_why(desk):
    engagement = start(desk)
    go_live(desk, "8 December 2026")  # the trainings are in weeks 6-7: late December to early January
    planned = meetings(desk, engagement)
    briefing = planned["executive-briefing"]
    assert planned["full-launch"].status == "planned" and day(planned["full-launch"]) == date(2026, 12, 8)
    assert day(planned["soft-launch"]) < date(2026, 12, 8)
    [(mail, planning)] = [(m, p) for m, p in desk.mail("planning") if "re-planned" in p.subject]
    assert list(mail.recipients) == ["priya@northwind.example"]
    text = " ".join(planning.text.split())
    assert "Please check:" in text
    for key, title in (("soft-launch", "Soft launch check-in: Acme Corporation"), ("full-launch", "Full launch: Acme Corporation")):
        assert (f'{title}: the go-live 2026-12-08 is before "Executive briefing: Acme Corporation" (planned {day(briefing)}): '
                f'"{title}" is on {day(planned[key])}, before it; consider moving the go-live date (reply #golive YYYY-MM-DD)') in text
    # the first month review still follows the trainings it reviews, and none of them is dropped
    assert planned["first-month-review"].start > briefing.end
    assert {k for k, m in planned.items() if m.status != "planned"} == set()  # nothing dropped


def test_two_go_live_changes_in_one_second_each_tell_the_engineer(desk):
    # The notice's Message-ID once came from the clock's second: the later, correct one was dropped.
    engagement = start(desk)
    go_live(desk, "10 February 2027")
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g2@acme.example>",
                              body="Sorry, we plan to go live on 3 March 2027 instead."), after=timedelta(0))
    assert desk.store.get_engagement(engagement.id).golive_date == date(2027, 3, 3)
    told = [p.text for _, p in desk.mail("planning") if "re-planned" in p.subject]
    assert len(told) == 2 and "2027-03-03" in told[-1]
