"""The go-live date drives every meeting a playbook anchors to it, in all five playbooks (pure planner):
each follows the date, moving the date moves them and only them, and a date that contradicts the plan
is planned as well as it can be with a warning naming the meetings and their dates."""
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
# Friday 13 November 2026, 09:00 in Los Angeles; the contract closed that day.
NOW = datetime(2026, 11, 13, 17, 0, tzinfo=timezone.utc)
START = date(2026, 11, 13)
GOLIVE = date(2027, 3, 10)  # a Wednesday, weeks after every start meeting
#: ... but inside the engagement: the professional services' ends with the project summary (~30 December).
GOLIVES = {"professional-services": date(2026, 12, 16)}
#: The meetings each playbook plans around the go-live, from what its source document says.
GOLIVE_MEETINGS = {
    "enterprise-onboarding": {"pre-launch", "debrief"},
    "white-glove": {"soft-launch", "full-launch", "daily-check-in", "first-month-review"},
    "professional-services": {"cut-over"},
    "quickstart": set(),  # the QuickStart document names no go-live
    "sprint-zero": set(),  # nor does the Sprint 0 checklist
}


def given(name: str, golive: date | None | str = "usual", **kw) -> PlanInput:
    golive = GOLIVES.get(name, GOLIVE) if golive == "usual" else golive
    fields = dict(playbook=PLAYBOOKS[name], start=START, golive=golive, calendar=PACIFIC, customer_tz=LA, now=NOW)
    return PlanInput(**(fields | kw))


def day(placement) -> date:
    return placement.start.astimezone(LA).date()


def business_days(golive: date, placement) -> int:
    return PACIFIC.working_days_between(golive, day(placement))


def spec_keys(keys) -> set[str]:
    return {k.partition("#")[0] for k in keys}


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_the_go_live_meetings_of_each_playbook_wait_for_the_date_then_fall_in_their_windows_around_it(name):
    playbook = PLAYBOOKS[name]
    assert {m.key for m in playbook.meetings if playbook.root_anchor(m.key) == "golive"} == GOLIVE_MEETINGS[name]
    waiting = plan(given(name, golive=None))
    assert spec_keys(u.key for u in waiting.unplaced if u.reason == "waiting for the go-live date") == GOLIVE_MEETINGS[name]
    result = plan(given(name))
    assert result.unplaced == () and [p.warning for p in result.placed if p.warning] == []
    golive = GOLIVES.get(name, GOLIVE)
    for key in GOLIVE_MEETINGS[name]:
        spec = playbook.meeting(key)
        assert spec.window.earliest <= business_days(golive, result.get(key)) <= spec.window.latest, key


@pytest.mark.parametrize("name", [n for n in sorted(PLAYBOOKS) if GOLIVE_MEETINGS[n]])
def test_moving_the_go_live_date_moves_the_go_live_meetings_and_only_them(name):
    first = plan(given(name))
    previous = {p.key: (p.start, p.end) for p in first.placed}
    later = plan(given(name, golive=GOLIVES.get(name, GOLIVE) + timedelta(days=7), previous=previous, now=NOW + timedelta(days=30)))
    moved = {p.key for p in later.placed if previous[p.key] != (p.start, p.end)}
    assert spec_keys(moved) == GOLIVE_MEETINGS[name]
    assert moved == {k for k in previous if k.partition("#")[0] in GOLIVE_MEETINGS[name]}  # every repeat too
    assert all(p.start - previous[p.key][0] >= timedelta(days=5) for p in later.placed if p.key in moved)


def test_white_glove_soft_launch_before_full_launch_on_the_day_daily_check_ins_then_the_month_review():
    result = plan(given("white-glove"))
    assert -10 <= business_days(GOLIVE, result.get("soft-launch")) <= -6  # week 8 of the document, launch week 10
    assert day(result.get("full-launch")) == GOLIVE
    check_ins = [result.get(k) for k in ("daily-check-in", "daily-check-in#2", "daily-check-in#3", "daily-check-in#4",
                                          "daily-check-in#5")]
    assert [business_days(GOLIVE, p) for p in check_ins] == [1, 2, 3, 4, 5]
    review = result.get("first-month-review")
    assert 19 <= business_days(GOLIVE, review) <= 23 and review.start == max(p.start for p in result.placed)


def test_professional_services_supports_the_cut_over_on_the_go_live_day_inside_the_engagement():
    result = plan(given("professional-services"))
    assert day(result.get("cut-over")) == date(2026, 12, 16)
    assert result.get("cut-over").warning == ""
    # a go-live after the project summary, which ends the engagement: not held, and the engineer is told why
    late = plan(given("professional-services", golive=GOLIVE))
    summary = day(late.get("project-summary"))
    assert {u.key: u.reason for u in late.unplaced} == {
        "cut-over": f"after the closing meeting (project-summary, {summary}): not held"}


def test_a_go_live_before_the_development_phase_keeps_the_pre_launch_before_it_and_says_why():
    golive = date(2026, 11, 24)  # the developer consultation is planned on Wednesday the 25th
    names = {"pre-launch": "Pre-launch review", "developer-workflow": "Developer consultation"}
    result = plan(given("enterprise-onboarding", golive=golive, names=names))
    consultation, pre = result.get("developer-workflow"), result.get("pre-launch")
    assert day(consultation) == date(2026, 11, 25)
    assert day(pre) < golive and -5 <= business_days(golive, pre) <= -3  # still a few days before the go-live
    assert pre.warning == (f'the go-live 2026-11-24 is before "Developer consultation" (planned 2026-11-25): '
                           f'"Pre-launch review" is on {day(pre)}, before it; consider moving the go-live date (reply #golive YYYY-MM-DD)')


def test_a_debrief_follows_the_developer_consultation_even_when_the_go_live_comes_first():
    golive = date(2026, 11, 17)  # the debrief's window (19-24 November) ends before the consultation on the 25th
    result = plan(given("enterprise-onboarding", golive=golive))
    consultation, debrief = result.get("developer-workflow"), result.get("debrief")
    assert debrief.start >= consultation.end + timedelta(minutes=15)
    assert day(debrief) == date(2026, 11, 25)  # the first time after it
    assert debrief.warning == ('the go-live 2026-11-17 is before "developer-workflow" (planned 2026-11-25), which '
                               '"debrief" must follow: it is on 2026-11-25, after it, not 2 to 5 business days after '
                               'the go-live; consider moving the go-live date (reply #golive YYYY-MM-DD)')
    # the pre-launch review cannot be 3-5 business days before a go-live two business days away: both reasons
    pre = result.get("pre-launch")
    assert "leaves no room" in pre.warning and 'before "developer-workflow" (planned 2026-11-25)' in pre.warning


def test_a_debrief_whose_consultation_keeps_to_its_window_gets_no_warning():
    result = plan(given("enterprise-onboarding", golive=date(2026, 12, 8)))
    assert result.get("debrief").start > result.get("developer-workflow").end
    assert [p.key for p in result.placed if p.warning] == []


def test_a_white_glove_go_live_before_the_trainings_warns_on_each_launch_meeting_and_keeps_the_trainings():
    golive = date(2026, 11, 24)  # trainings are in weeks 6-7, the executive briefing last
    result = plan(given("white-glove", golive=golive))
    briefing = result.get("executive-briefing")
    for key in ("soft-launch", "full-launch", "daily-check-in"):
        assert f'the go-live 2026-11-24 is before "executive-briefing" (planned {day(briefing)}): "{key}" is on' \
            in result.get(key).warning, key
    assert result.get("daily-check-in#2").warning == ""  # one warning per meeting, not per repeat
    # the review a month after such a go-live would precede the trainings it reviews: it follows them,
    # so the trainings stay planned instead of falling after the closing meeting
    review = result.get("first-month-review")
    assert review.start > briefing.end and "which \"first-month-review\" must follow" in review.warning
    assert {u.key for u in result.unplaced} == set()


def test_a_cut_over_before_the_intake_is_on_the_go_live_day_with_a_warning():
    result = plan(given("professional-services", golive=date(2026, 11, 17)))
    cut_over, intake = result.get("cut-over"), result.get("intake")
    assert day(cut_over) == date(2026, 11, 17) < day(intake)
    assert f'before "intake" (planned {day(intake)})' in cut_over.warning


def test_a_meeting_whose_predecessor_could_not_be_placed_is_not_placed_either():
    result = plan(given("enterprise-onboarding", start=date(2026, 10, 1)))  # the setup windows have passed
    reasons = {u.key: u.reason for u in result.unplaced}
    assert reasons["debrief"] == "the meeting it follows, 'developer-workflow', could not be placed"
    assert result.get("pre-launch") is not None
