"""Which business calendar an engagement's engineer works (service layer): one answer for the
scorecards, the summaries, the reminders' settings and the engineer's commands."""
from __future__ import annotations

from typing import Mapping

from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar


def engineer_calendar(config: Config, calendars: Mapping[str, BusinessCalendar], email: str | None) -> BusinessCalendar:
    """The calendar of the engineer with address ``email`` (their ``calendar``), else the configuration's first."""
    engineer = config.engineer(email or "")
    return calendars[(engineer.calendar if engineer else None) or config.calendar(None).name]
