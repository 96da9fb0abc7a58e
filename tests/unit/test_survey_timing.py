"""When the survey goes: after its meeting, the go-live day or the close, in the customer's working
day, never for what came before whiteglove knew the engagement, and not weeks late."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ticketing.core.domain import Engagement, Meeting, MeetingStatus
from ticketing.core.meeting_calendars import customer_calendar
from ticketing.core.surveys import SurveySpec, survey_due, survey_trigger

NY = ZoneInfo("America/New_York")
CUSTOMER = customer_calendar(NY, "US")
CREATED = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


def engagement(**kw) -> Engagement:
    values = dict(id=1, account="Acme", engineer=None, tier=None, contract_id="C-1", close_date=None, sales_rep="",
                  golive_date=date(2027, 1, 14), ticket_id=None, created_at=CREATED)
    return Engagement(**{**values, **kw})


def meeting(key: str, start: datetime, status: MeetingStatus = MeetingStatus.PLANNED) -> Meeting:
    return Meeting(id=hash(key) % 1000, engagement_id=1, key=key, title=key, description="", uid=key, sequence=0,
                   start=start, end=start + timedelta(hours=1), status=status, note="")


def test_after_a_repeated_meeting_the_survey_waits_for_its_last_occurrence():
    first = datetime(2027, 2, 1, 15, 0, tzinfo=timezone.utc)
    meetings = [meeting("check-in", first), meeting("check-in#2", first + timedelta(days=1)), meeting("kickoff", first)]
    assert survey_trigger(SurveySpec(after_meeting="check-in"), engagement(), meetings, CUSTOMER) == \
        first + timedelta(days=1, hours=1)


def test_a_cancelled_meeting_leaves_the_survey_to_the_close():
    start = datetime(2027, 2, 1, 15, 0, tzinfo=timezone.utc)
    closed = datetime(2027, 1, 20, 18, 0, tzinfo=timezone.utc)
    spec = SurveySpec(after_meeting="review")
    cancelled = [meeting("review", start, MeetingStatus.CANCELLED)]
    assert survey_trigger(spec, engagement(), cancelled, CUSTOMER) is None
    assert survey_trigger(spec, engagement(closed_at=closed), cancelled, CUSTOMER) == closed


def test_after_the_golive_the_survey_goes_the_next_working_morning():
    spec = SurveySpec(after="golive")
    trigger = survey_trigger(spec, engagement(live_on=date(2027, 1, 19)), [], CUSTOMER)  # went live late
    assert trigger == datetime(2027, 1, 20, 0, 0, tzinfo=NY)
    assert not survey_due(trigger, CREATED, datetime(2027, 1, 20, 7, 30, tzinfo=NY), CUSTOMER)
    assert survey_due(trigger, CREATED, datetime(2027, 1, 20, 8, 15, tzinfo=NY), CUSTOMER)
    assert not survey_due(trigger, CREATED, datetime(2027, 2, 10, 10, 0, tzinfo=NY), CUSTOMER)  # three weeks on
    assert survey_trigger(spec, engagement(golive_date=None), [], CUSTOMER) is None


def test_a_moment_before_whiteglove_knew_the_engagement_is_history():
    trigger = survey_trigger(SurveySpec(after="golive"), engagement(golive_date=date(2026, 11, 2)), [], CUSTOMER)
    assert not survey_due(trigger, CREATED, datetime(2026, 11, 19, 10, 0, tzinfo=NY), CUSTOMER)
