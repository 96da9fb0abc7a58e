"""Durations in the configuration: ``"3d"``, ``"8h"``, ``"30min"`` (or ``"30m"``) and their sums
(``"1d12h"``, ``"1h30min"``), read as whole minutes.

A day is 24 hours of the clock it is measured on, so on a business calendar ``"1d"`` would be 24
working hours (nearly three working days): :func:`has_days` lets the checks refuse that there.
"""
from __future__ import annotations

import re

#: What the error for a bad duration lists, so that the operator sees every accepted form.
DURATION_FORMS = '"3d", "8h", "30min" (or "30m"), or a sum such as "1d12h" or "1h30min"'

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_duration(text: str | None) -> int | None:
    """Minutes in "3d", "2h", "30min", "30m", "1d12h", "1h30min"; None when malformed or zero."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()):
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return (days * 24 + hours) * 60 + minutes or None


def has_days(text: str) -> bool:
    """Whether the duration ``text`` (a valid one) counts days."""
    match = _DURATION.match(text or "")
    return bool(match and match.group(1))
