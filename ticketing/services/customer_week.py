"""The customer's working week for an engagement: which country's holidays, which time zone (service layer).

The country is the configured account's ``country``, else the one the contract notice gave, else
the account's time zone's (:func:`ticketing.core.meeting_calendars.account_country`); the calendar
itself is pure (:func:`~ticketing.core.meeting_calendars.customer_calendar`).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from ticketing.config import Config, parse_spans
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Account, Engagement
from ticketing.core.meeting_calendars import account_country, customer_calendar
from ticketing.store import SqlStore


def customer_week(config: Config, store: SqlStore, engagement: Engagement, account: Account | None, tz: ZoneInfo,
                  day: tuple[int, int]) -> BusinessCalendar:
    """The working week of ``engagement``'s customer in ``tz``, ``day`` being the part of it meetings may take."""
    name = (account.name if account else engagement.account).lower()
    configured = next((a.country for a in config.accounts if a.name.lower() == name and a.country), None)
    noticed = store.engagement_details(engagement.id).get("country") if configured is None else None
    return customer_calendar(tz, account_country(configured or noticed, tz.key), day)


def customer_day(config: Config) -> tuple[int, int]:
    """The part of the customer's day (minutes after midnight) meetings and mail may take: the first
    span of ``[onboarding] customer_hours``, else 08:00-18:00."""
    low, high = (parse_spans(config.onboarding.customer_hours) or [(8 * 60, 18 * 60)])[0]
    return low, high
