"""Reading the day a phrase names ("next Tuesday", "14 January", "end of next week") (pure).

:func:`find_dates` finds every date expression in a clause and resolves it against ``today``, a
local date of the account's time zone; the rules are listed in :mod:`ticketing.core.golive`, which
uses it. Only the standard library: dateparser was tried and was slow and wrong on these phrases.
"""
from __future__ import annotations

import calendar
import re
import string
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

__all__ = ["GRACE", "When", "find_dates", "lower"]

_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
GRACE = timedelta(days=14)  # a year-less date this recent is taken as a past date, not next year's


def lower(text: str) -> str:
    """``text`` in lower case with every character where it was (case-sensitive regexes are ~4x faster)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_LOWER)  # a few characters lower-case to two


_MONTH = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])")
_WD_ANY = (r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
           r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?(?![a-z])")
_WD = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!:)"
_YEAR = r"(?P<year>\d{4})\b"
_UNTIL = r"(?:\s*(?:-|–|to|and|&)\s*[0-3]?\d(?:st|nd|rd|th)?\b)?"  # a range of days: the first is the cut-over
_NUM = r"\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_NUMBERS = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                         "ten", "eleven", "twelve"])}
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"], 1)}
_WEEKDAYS = {d: i for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])}

# Matched on the lower-cased clause (see _lower).
_DATE_PATTERNS = [(name, re.compile(pattern)) for name, pattern in [
    ("iso", r"\b(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})\b"),
    ("numeric", r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?!\d|[/.-]\d)"),
    ("numeric", r"(?<![\d/.-])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\d/]|\.\d)"),
    ("day_month", rf"\b(?:{_WD_ANY},?\s+)?(?:the\s+)?{_DAY}{_UNTIL}(?:\s+of)?[\s-]+{_MONTH}(?:,?[\s-]+{_YEAR})?"),
    ("month_day", rf"\b(?:{_WD_ANY},?\s+)?{_MONTH}\s+(?:the\s+)?{_DAY}{_UNTIL}(?:,?\s+{_YEAR})?"),
    ("day", (rf"\b(?:{_WD_ANY},?\s+(?:the\s+)?(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
             r"|(?:the|on)\s+(?P<day2>[0-3]?\d)(?:st|nd|rd|th))\b"
             r"(?!\s*(?:%|percent|days?|weeks?|months?|hours?|users?|of\s+(?:us|them)))")),
    ("relative", r"\b(?:the\s+day\s+after\s+tomorrow|tomorrow|today|tonight|this\s+evening)\b"),
    ("in_n", (rf"\b(?:in\s+(?P<n>{_NUM})\s+(?P<unit>day|week)s?"
              rf"|(?P<n2>{_NUM})\s+(?P<unit2>day|week)s?\s+from\s+(?:now|today))\b")),
    ("weekday", rf"\b(?:(?P<mod>next|this\s+coming|this|coming)\s+)?{_WD}(?:\s+(?P<nw>next\s+week))?"),
    ("weekday", rf"\bnext\s+week\s+(?:on\s+)?{_WD}"),
    ("week_edge", r"\b(?P<edge>end|start|beginning)\s+of\s+(?:(?P<which>next|this|the)\s+)?week\b"),
    ("month_end", (rf"\bend\s+of\s+(?:(?P<which>next|this|the)\s+month|month|{_MONTH}(?:\s+{_YEAR})?)"
                   r"|\bmonth[\s-]end\b")),
    # No single day: these give golive_date None and a reason from _VAGUE.
    ("quarter", (r"\b(?:q[1-4]|h[12])(?:\s*/?\s*'?\d{2,4})?\b"
                 r"|\b(?:first|second|third|fourth|1st|2nd|3rd|4th|last)\s+(?:quarter|half)\b")),
    ("part", (r"\b(?:early|mid|late|middle\s+of|beginning\s+of|start\s+of)[\s-]*"
              rf"(?:(?:next|this|the)\s+(?:month|week|year)|{_MONTH})")),
    ("period", (r"\b(?:next|this|the\s+following|the\s+coming|coming)\s+(?:week|month|year|weekend)\b"
                r"|\b(?:over\s+)?the\s+weekend\b")),
    ("month", rf"\b(?:in|by|during|for|until|around|before|from)\s+{_MONTH}(?:\s+{_YEAR})?(?![.\s]*\d)"),
    ("month", rf"\b{_MONTH}\s+{_YEAR}"),
    ("rough", (r"\bin\s+(?:a\s+couple\s+of|a\s+few|several|the\s+next\s+few|a\s+day\s+or\s+two)"
               rf"(?:\s+(?:days|weeks|months))?|\bin\s+(?:{_NUM})\s+months?\b|\bin\s+\d{{4}}\b")),
]]
_VAGUE = {
    "quarter": "a quarter or half-year is not a day", "part": "part of a month or week is not a day",
    "period": "a week, month or year is not a day", "month": "a month is not a day",
    "rough": "an approximate span is not a day",
}
_WEEK_OF = re.compile(r"(?:week\s+(?:of|commencing|starting|beginning)|w/c)\s+(?:the\s+)?$", re.IGNORECASE)


_Resolved = tuple[date | None, tuple[str, ...]]  # the day, and notes on how it was read


@dataclass(frozen=True)
class When:
    start: int
    end: int
    text: str
    day: date | None
    notes: tuple[str, ...]
    vague: bool = False


def find_dates(clause: str, today: date, tz: ZoneInfo) -> list[When]:
    low = lower(clause)
    found = sorted(((m.start(), -(m.end() - m.start()), i, name, m) for i, (name, pattern) in enumerate(_DATE_PATTERNS)
                    for m in pattern.finditer(low)), key=lambda t: t[:3])
    whens, end = [], -1
    for start, _, _, name, match in found:
        if start < end:
            continue
        end = match.end()
        day, notes = _RESOLVERS[name](match, today, tz) if name in _RESOLVERS else (None, (_VAGUE[name],))
        text = " ".join(clause[start:end].split()).rstrip(".")
        when = When(start, end, text, day, notes, vague=name in _VAGUE)
        if day is not None and _WEEK_OF.search(clause, 0, start):
            when = When(start, end, text, None, ("the week of a date is not a day",), vague=True)
        whens.append(when)
    return whens


def _recent_or_next(month: int, day: int, today: date) -> date | None:
    for year in range(today.year - 1, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today - GRACE:
            return candidate
    return None


def _month_day(month: int, day: int, year: str | None, wd: str | None, today: date) -> _Resolved:
    if year:
        try:
            result = date(int(year), month, day)
        except ValueError:
            return None, (f"{year}-{month:02}-{day:02} is no such date",)
        notes = ()
    else:
        result = _recent_or_next(month, day, today)
        if result is None:
            return None, (f"month {month} has no day {day}",)
        notes = ("no year given: the next occurrence",)
        if result < today:
            days = (today - result).days
            notes += (f"{result} is {days} days before the message (within 14): kept, not next year's",)
    if wd and result.weekday() != _WEEKDAYS[wd[:3].lower()]:
        notes += (f"'{wd.capitalize()}' does not match {result} ({result:%A}); the date is kept",)
    return result, notes


def _resolve_iso(m, today, tz):
    return _month_day(int(m["m"]), int(m["d"]), m["y"], None, today)


def _resolve_numeric(m, today, tz):
    a, b, year = int(m["a"]), int(m["b"]), m.groupdict().get("y")
    if year and len(year) == 2:
        year = f"20{year}"
    zone = getattr(tz, "key", str(tz))
    if m.groupdict().get("sep") == ".":
        (day, month), why = (a, b), "dots: day.month"
    elif a > 12 >= b:
        (day, month), why = (a, b), f"day/month ({a} > 12)"
    elif b > 12 >= a:
        (month, day), why = (a, b), f"month/day ({b} > 12)"
    elif zone.startswith(("America/", "US/")):
        (month, day), why = (a, b), f"month/day, ambiguous: read US-style as the time zone is {zone}"
    else:
        (day, month), why = (a, b), f"day/month, ambiguous: read day-first as the time zone is {zone}"
    if not 1 <= month <= 12:
        return None, (f"'{m.group()}' is not a date",)
    result, notes = _month_day(month, day, year, None, today)
    return result, (f"numeric date read as {why}",) + notes


def _resolve_named(m, today, tz):
    return _month_day(_MONTHS[m["mon"][:3].lower()], int(m["day"]), m["year"], m["wd"], today)


def _resolve_day(m, today, tz):
    day = int(m["day"] or m["day2"])
    wd = _WEEKDAYS[m["wd"][:3].lower()] if m["wd"] else None
    fallback = None
    year, month = today.year, today.month
    for _ in range(40):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            if wd is None or candidate.weekday() == wd:
                return candidate, ("no month: the next such day on or after the message",)
            fallback = fallback or candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if fallback is None:
        return None, (f"no month has a day {day}",)
    return fallback, ("no month: the next such day; its weekday does not match",)


def _resolve_relative(m, today, tz):
    words = m.group().lower()
    shift = 2 if "after" in words else 1 if "tomorrow" in words else 0
    return today + timedelta(days=shift), ()


def _resolve_in_n(m, today, tz):
    n, unit = (m["n"], m["unit"]) if m["n"] else (m["n2"], m["unit2"])
    count = int(n) if n.isdigit() else 1 if n.lower() in ("a", "an") else _NUMBERS[n.lower()]
    days = count * (7 if unit.lower() == "week" else 1)
    return today + timedelta(days=days), (f"{days} days after the received date",)


_NEXT_WEEKDAY = "'next <weekday>': that weekday of next week (Monday to Sunday)"


def _monday(today: date, weeks: int = 0) -> date:
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


def _resolve_weekday(m, today, tz):
    wd = _WEEKDAYS[m["wd"][:3].lower()]
    mod = " ".join((m.groupdict().get("mod") or "").lower().split())
    if mod == "next" or m.groupdict().get("nw") or m.group().lower().startswith("next"):
        return _monday(today, 1) + timedelta(days=wd), (_NEXT_WEEKDAY,)
    ahead = (wd - today.weekday()) % 7
    if not mod and ahead == 0:
        return today + timedelta(days=7), ("a bare weekday: the next one after the received date",)
    rule = "on or after" if mod else "after"
    return today + timedelta(days=ahead), (f"the next such weekday {rule} the received date",)


def _resolve_week_edge(m, today, tz):
    weeks = 1 if (m["which"] or "").lower() == "next" else 0
    if m["edge"].lower() == "end":
        return max(_monday(today, weeks) + timedelta(days=4), today), ("end of a week: its Friday",)
    return max(_monday(today, weeks), today), ("start of a week: its Monday",)


def _resolve_month_end(m, today, tz):
    if m.groupdict().get("mon"):
        month = _MONTHS[m["mon"][:3].lower()]
        for year in [int(m["year"])] if m["year"] else range(today.year - 1, today.year + 2):
            last = date(year, month, calendar.monthrange(year, month)[1])
            if m["year"] or last >= today - GRACE:
                break
        return last, ("end of a month: its last calendar day",)
    year, month = today.year, today.month
    if (m.groupdict().get("which") or "").lower() == "next":
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, calendar.monthrange(year, month)[1]), ("end of a month: its last calendar day",)


_RESOLVERS = {
    "iso": _resolve_iso, "numeric": _resolve_numeric, "day_month": _resolve_named, "month_day": _resolve_named,
    "day": _resolve_day, "relative": _resolve_relative, "in_n": _resolve_in_n, "weekday": _resolve_weekday,
    "week_edge": _resolve_week_edge, "month_end": _resolve_month_end,
}
