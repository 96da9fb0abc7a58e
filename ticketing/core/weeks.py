"""Weeks, Monday to Sunday in a time zone, and their ISO 8601 labels (``"2026-W47"``) (pure)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday of the week (Monday to Sunday in ``tz``) that holds ``moment``, which must be aware."""
    if moment.tzinfo is None:
        raise ValueError("week_of needs an aware datetime")
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def last_completed_week(now: datetime, tz: ZoneInfo) -> date:
    """The Monday of the last full week before ``now`` in ``tz`` (at Monday 00:00, the week just ended)."""
    return week_of(now, tz) - timedelta(days=7)


def iso_week_label(monday: date) -> str:
    """The ISO 8601 week of ``monday`` (any day of it works), e.g. ``"2026-W47"``."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(label: str) -> date:
    """The Monday of an ISO week such as ``"2026-W47"``. Raises ValueError for anything else."""
    found = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", label.strip())
    if not found:
        raise ValueError(f"not an ISO week (like 2026-W47): {label!r}")
    return date.fromisocalendar(int(found[1]), int(found[2]), 1)  # ValueError for W00, W54, a W53 that isn't
