"""The calendars a meeting must fit besides the engineer's own (pure).

The customer's working week
    :func:`customer_calendar`: Monday to Friday by default, the part of the day ``[onboarding]
    customer_hours`` allows, in the account's time zone, without the public holidays of the account's
    country. The country is the account's ``country`` when known (configuration or notice), else the
    one :data:`ZONE_COUNTRIES` gives for the time zone, else none (no holidays).

A playbook's calendar
    :func:`playbook_calendar`: the business calendar a playbook binds its engagements to (QuickStart:
    08:00-17:00 Pacific, Monday to Friday, US holidays), written in the playbook or naming a
    ``[[calendars]]`` entry. :func:`overlap` measures how much of it an engineer's calendar covers,
    for routing (:func:`covers`).

Nothing here reads a file, the clock or the system's zone tables: the zone table is built in, so the
same account gets the same holidays on every machine.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_package

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar

#: The customer's working week when the account says nothing else: Monday (0) to Friday (4).
WORKING_WEEK = (0, 1, 2, 3, 4)

#: Common IANA zones and the country (ISO 3166-1 alpha-2) whose public holidays they observe. A zone
#: that spans several countries' customers (UTC, Etc/*) is left out on purpose: no guess, no holidays.
ZONE_COUNTRIES: dict[str, str] = {
    # Americas
    "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US", "America/Phoenix": "US",
    "America/Los_Angeles": "US", "America/Anchorage": "US", "America/Detroit": "US", "Pacific/Honolulu": "US",
    "America/Indiana/Indianapolis": "US", "America/Boise": "US",
    "America/Toronto": "CA", "America/Vancouver": "CA", "America/Edmonton": "CA", "America/Winnipeg": "CA",
    "America/Halifax": "CA", "America/St_Johns": "CA", "America/Regina": "CA", "America/Montreal": "CA",
    "America/Mexico_City": "MX", "America/Monterrey": "MX", "America/Tijuana": "MX",
    "America/Sao_Paulo": "BR", "America/Argentina/Buenos_Aires": "AR", "America/Santiago": "CL",
    "America/Bogota": "CO", "America/Lima": "PE",
    # Europe
    "Europe/London": "GB", "Europe/Dublin": "IE", "Europe/Lisbon": "PT", "Europe/Madrid": "ES",
    "Europe/Paris": "FR", "Europe/Brussels": "BE", "Europe/Amsterdam": "NL", "Europe/Luxembourg": "LU",
    "Europe/Berlin": "DE", "Europe/Zurich": "CH", "Europe/Vienna": "AT", "Europe/Rome": "IT",
    "Europe/Copenhagen": "DK", "Europe/Oslo": "NO", "Europe/Stockholm": "SE", "Europe/Helsinki": "FI",
    "Europe/Warsaw": "PL", "Europe/Prague": "CZ", "Europe/Budapest": "HU", "Europe/Bucharest": "RO",
    "Europe/Athens": "GR", "Europe/Istanbul": "TR", "Europe/Kiev": "UA", "Europe/Kyiv": "UA",
    # Middle East and Africa
    "Asia/Dubai": "AE", "Asia/Riyadh": "SA", "Asia/Jerusalem": "IL", "Africa/Johannesburg": "ZA",
    "Africa/Lagos": "NG", "Africa/Nairobi": "KE", "Africa/Cairo": "EG",
    # Asia and the Pacific
    "Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Singapore": "SG", "Asia/Hong_Kong": "HK",
    "Asia/Shanghai": "CN", "Asia/Taipei": "TW", "Asia/Tokyo": "JP", "Asia/Seoul": "KR", "Asia/Manila": "PH",
    "Asia/Jakarta": "ID", "Asia/Bangkok": "TH", "Asia/Kuala_Lumpur": "MY", "Asia/Ho_Chi_Minh": "VN",
    "Australia/Sydney": "AU", "Australia/Melbourne": "AU", "Australia/Brisbane": "AU", "Australia/Perth": "AU",
    "Australia/Adelaide": "AU", "Australia/Hobart": "AU", "Australia/Darwin": "AU", "Australia/Canberra": "AU",
    "Pacific/Auckland": "NZ",
}

#: Country names a CRM writes, and the code they mean (codes themselves are taken as they are).
_COUNTRY_NAMES = {
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "united states": "US", "united states of america": "US", "usa": "US", "australia": "AU", "canada": "CA",
    "germany": "DE", "france": "FR", "ireland": "IE", "netherlands": "NL", "spain": "ES", "italy": "IT",
    "india": "IN", "japan": "JP", "singapore": "SG", "new zealand": "NZ", "brazil": "BR", "mexico": "MX",
    "switzerland": "CH", "sweden": "SE", "norway": "NO", "denmark": "DK", "belgium": "BE", "austria": "AT",
}


def country_code(value: str | None) -> str | None:
    """The ISO 3166 code the ``holidays`` package knows for ``value`` ("GB", "gb", "United Kingdom"), or None."""
    if not value or not value.strip():
        return None
    text = " ".join(value.split())
    code = text.upper() if len(text) == 2 else _COUNTRY_NAMES.get(text.lower())
    return code if code in _supported() else None


def account_country(country: str | None, timezone: str | None) -> str | None:
    """The country whose public holidays an account keeps: ``country`` when it is one, else the one
    of its time zone (:data:`ZONE_COUNTRIES`), else None."""
    return country_code(country) or ZONE_COUNTRIES.get(timezone or "")


def customer_calendar(tz: ZoneInfo, country: str | None, day: tuple[int, int] = (8 * 60, 18 * 60),
                      weekdays: tuple[int, ...] = WORKING_WEEK) -> BusinessCalendar:
    """The customer's working week: ``day`` (minutes after local midnight) on ``weekdays``, in ``tz``,
    closed on the public holidays of ``country`` (none when it is None or unknown)."""
    hours = tuple(((day,) if weekday in weekdays else ()) for weekday in range(7))
    return BusinessCalendar(name="customer", tz=tz, hours=hours, country=country_code(country))


def playbook_calendar(calendar: CalendarConfig | str | None,
                      calendars: dict[str, BusinessCalendar]) -> BusinessCalendar | None:
    """The business calendar a playbook binds its engagements to: its own (a table in the playbook),
    the ``[[calendars]]`` entry it names, or None. Raises KeyError for a name not in ``calendars``."""
    if calendar is None:
        return None
    if isinstance(calendar, str):
        return calendars[calendar]
    return BusinessCalendar.from_config(calendar)


def overlap(a: BusinessCalendar, b: BusinessCalendar, start: date, days: int = 14) -> timedelta:
    """The working time ``a`` and ``b`` share in the ``days`` days from ``start`` (midnight UTC)."""
    low = datetime.combine(start, time(), ZoneInfo("UTC"))
    high = low + timedelta(days=days)
    shared = timedelta(0)
    theirs = list(b.spans_between(low, high))
    for a_start, a_end in a.spans_between(low, high):
        for b_start, b_end in theirs:
            first, last = max(a_start, b_start), min(a_end, b_end)
            if first < last:
                shared += last - first
    return shared


def covers(engineer: BusinessCalendar, binding: BusinessCalendar, start: date, days: int = 14) -> bool:
    """Whether ``engineer``'s hours cover at least half of ``binding``'s working time in the ``days``
    days from ``start``: an engineer who can serve a playbook's calendar."""
    low = datetime.combine(start, time(), ZoneInfo("UTC"))
    total = sum((b - a for a, b in binding.spans_between(low, low + timedelta(days=days))), timedelta(0))
    return total > timedelta(0) and overlap(engineer, binding, start, days) * 2 >= total


@functools.lru_cache(maxsize=1)
def _supported() -> frozenset[str]:
    return frozenset(holidays_package.list_supported_countries())
