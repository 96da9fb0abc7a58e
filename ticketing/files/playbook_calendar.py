"""A playbook's own business calendar, read from its ``calendar`` key (see playbooks/README.md).

``calendar = "us-pacific"`` names a ``[[calendars]]`` entry of the configuration (checked where the
configuration is known: :func:`ticketing.app.bootstrap.build_playbooks`); a table is read here into
a :class:`~ticketing.config.CalendarConfig`::

    calendar = { timezone = "America/Los_Angeles", hours = "08:00-17:00", days = "mon-fri", holidays = "US" }

``timezone`` is required; ``hours`` defaults to 08:00-17:00 (several spans: "08:00-12:00,13:00-17:00"),
``days`` to mon-fri (ranges and lists: "mon-thu,sat"); ``holidays`` (an ISO country code) and
``subdivision`` are optional.
"""
from __future__ import annotations

from typing import Any, Callable

import holidays as holidays_package

from ticketing.config import CalendarConfig, parse_spans
from ticketing.config.sections import WEEKDAYS
from ticketing.core.calendars import zone

Report = Callable[[str, str, str], None]  # (key, message, fix)

KEYS = ("timezone", "hours", "days", "holidays", "subdivision")
EXAMPLE = '{ timezone = "America/Los_Angeles", hours = "08:00-17:00", days = "mon-fri", holidays = "US" }'


def read_calendar(value: Any, report: Report) -> CalendarConfig | str | None:
    """The calendar ``value`` describes (a name, or a table read into a CalendarConfig); None, its
    problems reported, when it is not usable."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if not isinstance(value, dict):
        report("calendar", "must be the name of a [[calendars]] entry or a table", f"write e.g. calendar = {EXAMPLE}")
        return None
    problems = 0

    def bad(key: str, message: str, fix: str) -> None:
        nonlocal problems
        problems += 1
        report(f"calendar.{key}", message, fix)

    for key in value:
        if key not in KEYS:
            bad(key, "unknown key", f"remove it or correct its spelling; known keys: {', '.join(KEYS)}")
    for key in KEYS:
        if key in value and not (isinstance(value[key], str) and value[key].strip()):
            bad(key, "must be a non-empty string", f"write e.g. calendar = {EXAMPLE}")
    if problems:
        return None
    timezone, hours = value.get("timezone"), value.get("hours", "08:00-17:00")
    days = weekdays(value.get("days", "mon-fri"))
    country, subdivision = value.get("holidays"), value.get("subdivision")
    if timezone is None:
        bad("timezone", "required", 'add timezone = "America/Los_Angeles" to the table')
    elif zone(timezone) is None:
        bad("timezone", f"unknown time zone {timezone!r}", 'use an IANA name such as "America/Los_Angeles"')
    if parse_spans(hours) is None:
        bad("hours", f"not ordered ranges of local times: {hours!r}", 'write e.g. hours = "08:00-17:00"')
    if days is None:
        bad("days", f"not days of the week: {value['days']!r}", 'write e.g. days = "mon-fri" or "mon,tue,thu"')
    supported = holidays_package.list_supported_countries()
    if country is not None and country not in supported:
        bad("holidays", f"the holidays package knows no country {country!r}", 'use an ISO 3166 code such as "US" or "GB"')
    elif subdivision is not None and (country is None or subdivision not in supported[country]):
        bad("subdivision", f"{country or 'no country'} has no subdivision {subdivision!r}", "correct it, or set holidays first")
    if problems:
        return None
    name = f"{hours} {timezone}, {value.get('days', 'mon-fri')}" + (f", {country} holidays" if country else "")
    return CalendarConfig(name=name, timezone=timezone, hours=dict.fromkeys(days, hours), holidays=country,
                          subdivision=subdivision)


def weekdays(text: str) -> tuple[str, ...] | None:
    """``"mon-fri"`` → mon, tue, wed, thu, fri; ``"mon-thu,sat"`` likewise; None when it is not days."""
    found: list[str] = []
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            return None
        low, high = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if high < low:
            return None
        found += [d for d in WEEKDAYS[low:high + 1] if d not in found]
    return tuple(d for d in WEEKDAYS if d in found) or None
