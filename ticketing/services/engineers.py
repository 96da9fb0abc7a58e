"""An engagement's engineer as the services need them (service layer): which business calendar they
work (the scorecards, the summaries, the reminders' settings, the engineer's commands) and who hears
of the engagement's news (the overdue notices, a customer's "done")."""
from __future__ import annotations

from typing import Mapping

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement


def engineer_calendar(config: Config, calendars: Mapping[str, BusinessCalendar], email: str | None) -> BusinessCalendar:
    """The calendar of the engineer with address ``email`` (their ``calendar``), else the configuration's first."""
    engineer = config.engineer(email or "")
    return calendars[(engineer.calendar if engineer else None) or config.calendar(None).name]


def engineer_address(config: Config, engagement: Engagement) -> Address | None:
    """Who hears of the engagement's news: its engineer, else the first manager; None when neither is configured."""
    email = engagement.engineer or (config.managers[0].email if config.managers else None)
    if not email:
        return None
    person = config.person(email)
    return Address(person.name if person else "", email)
