"""When an engagement's 0-10 survey goes to the customer (pure).

A playbook's ``[survey]`` (read by :mod:`ticketing.files.playbook_survey`) says after what:

- ``after_meeting = "KEY"``: once that meeting has ended (a repeated meeting: its last occurrence);
  when it was cancelled or never placed, the survey waits for the engagement's close instead, so
  that no engagement ends without asking;
- ``after = "golive"``: once the go-live day is over (the day it went live, else its planned date);
- ``after = "close"``: once the engagement is closed.

:func:`survey_trigger` gives that moment, :func:`survey_due` whether the survey goes now: the moment
has come, it came after whiteglove knew the engagement (an engagement learnt from history is
never surveyed), and the customer is at work (their business hours, the planner's customer week),
so that the question does not land on a Saturday night; two weeks after its moment it is stale
and no longer goes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Sequence

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, Meeting, MeetingStatus

#: How long after its moment a survey still goes (a worker stopped for a weekend loses nothing; one
#: upgraded long after a review does not ask about it months later).
SEND_WINDOW = timedelta(days=14)
DEFAULT_QUESTION = "How likely are you to recommend us to a colleague? Reply with a number from 0 to 10."
SURVEY_AFTER = ("golive", "close")


@dataclass(frozen=True)
class SurveySpec:
    """A playbook's survey: after which meeting (or ``after``: "golive" or "close"), and what it asks."""

    after_meeting: str | None = None
    after: str | None = None
    question: str = DEFAULT_QUESTION

    @property
    def label(self) -> str:
        return f"after the meeting '{self.after_meeting}'" if self.after_meeting else f"after the {self.after}"


def survey_trigger(spec: SurveySpec, engagement: Engagement, meetings: Sequence[Meeting],
                   customer: BusinessCalendar) -> datetime | None:
    """The moment after which the survey may go (see the module docstring), None while it is not known."""
    if spec.after_meeting:
        held = [m for m in meetings if m.key.partition("#")[0] == spec.after_meeting
                and m.status is MeetingStatus.PLANNED and m.end is not None]
        if held:
            return max(m.end for m in held)
        return engagement.closed_at
    if spec.after == "golive":
        day = engagement.live_on or engagement.golive_date
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=customer.tz)
    return engagement.closed_at


def survey_due(trigger: datetime | None, known_since: datetime, now: datetime, customer: BusinessCalendar) -> bool:
    """Whether to send the survey now: ``trigger`` has passed (less than :data:`SEND_WINDOW` ago), it
    came after ``known_since`` (when whiteglove first knew the engagement), and ``customer`` is open."""
    return (trigger is not None and known_since <= trigger <= now < trigger + SEND_WINDOW
            and customer.is_open(now))
