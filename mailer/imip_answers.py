"""Answers to calendar invitations, read from the iCalendar text of a mail (pure: no I/O).

:func:`read_answers` (or :func:`parse_answers`, which also says what it had to skip) reads what
attendees send back: REPLY, COUNTER, REFRESH and DECLINECOUNTER objects (RFC 5546 1.4), one
:class:`CalendarAnswer` per VEVENT and ATTENDEE. Parsing never raises. The text usually comes
from :attr:`mailer.message.ParsedMessage.calendars`; an iMIP message often holds the same object
twice (inline and as ``invite.ics``), and answers are hashable, so ``dict.fromkeys`` removes the
repeats. Anyone can send an answer naming any attendee: trust one only when its ``attendee`` is
the (authenticated) sender of the mail (RFC 6047 3). The invitations these answer are written by
:mod:`mailer.imip`.

Standards: RFC 5545 (iCalendar), RFC 5546 (iTIP), RFC 6047 (iMIP). The `icalendar` library reads
the text; no type of it leaves this module.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote

from icalendar import Calendar

logger = logging.getLogger(__name__)

#: The methods by which an attendee answers the organizer (RFC 5546 1.4), and DECLINECOUNTER,
#: the organizer's answer to a COUNTER.
ANSWER_METHODS = frozenset({"REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"})
#: PARTSTAT values of an attendee of an event (RFC 5545 3.2.12).
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
#: Longer calendar texts are not read (the largest real one seen is under 100 KB).
MAX_CALENDAR_CHARS = 1_000_000

_EMAIL = re.compile(r"[^\s@<>()\[\]\\,;:\"]{1,64}@[^\s@<>()\[\]\\,;:\"]{1,253}")


@dataclass(frozen=True)
class CalendarAnswer:
    """One attendee's answer about one event (or one occurrence of it).

    ``method`` is one of :data:`ANSWER_METHODS`; ``attendee`` the lower-cased address, ``""``
    when the object names none that can be read; ``partstat`` one of :data:`PARTSTATS`, or None
    when the attendee gave none. ``proposed_start``/``proposed_end`` are the new time of a
    COUNTER, None otherwise. ``comment`` is the COMMENT text (several joined by lines).

    Every datetime is aware and in UTC: a floating time (no zone) is read as UTC and a DATE as
    midnight UTC; a time whose TZID is neither a known zone nor defined in the object is None.
    """

    method: str
    uid: str
    recurrence_id: datetime | None
    sequence: int
    dtstamp: datetime | None
    attendee: str
    partstat: str | None
    proposed_start: datetime | None = None
    proposed_end: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class ParsedAnswers:
    """The answers read from a calendar text and, in ``defects``, what was skipped or repaired."""

    answers: tuple[CalendarAnswer, ...]
    defects: tuple[str, ...] = ()


def read_answers(calendar_text: str, method: str | None = None) -> list[CalendarAnswer]:
    """Return the answers in ``calendar_text`` (see :func:`parse_answers`); never raises."""
    return list(parse_answers(calendar_text, method).answers)


def parse_answers(calendar_text: str, method: str | None = None) -> ParsedAnswers:
    """Read the answers (REPLY, COUNTER, REFRESH, DECLINECOUNTER) in an iCalendar text.

    The text may hold several VCALENDARs; one that cannot be read is skipped, the others are
    still read. Objects of other methods (REQUEST, CANCEL, PUBLISH...) give no answers, nor do
    components other than VEVENT (a VFREEBUSY reply). ``method`` is the MIME ``method=``
    parameter, used for an object without a METHOD property; where both are present the
    object's own wins. A VEVENT without UID is skipped; one without a readable ATTENDEE gives an
    answer with ``attendee=""``. PARTSTAT values that are not in :data:`PARTSTATS` are read as
    NEEDS-ACTION, as RFC 5545 3.2.12 asks. Never raises: each thing skipped or repaired is a
    short note in ``defects``.
    """
    defects: list[str] = []
    try:
        answers = _read(calendar_text, method, defects)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises", whatever the input
        # The library is lenient and the known failures are caught below; an unknown corner
        # case still must not stop the intake loop.
        logger.warning("could not read a calendar of %s characters: %r", len(calendar_text), exc)
        return ParsedAnswers((), (*defects, f"calendar unreadable: {type(exc).__name__}"))
    return ParsedAnswers(tuple(answers), tuple(dict.fromkeys(defects)))


def _read(text: str, hint: str | None, defects: list[str]) -> list[CalendarAnswer]:
    if not isinstance(text, str):
        defects.append(f"not a calendar text: {type(text).__name__}")
        return []
    if len(text) > MAX_CALENDAR_CHARS:
        defects.append(f"calendar longer than {MAX_CALENDAR_CHARS} characters: not read")
        return []
    # Real objects end lines in CR LF, LF or a bare CR; the library reads LF.
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = _vcalendars(text, defects)
    answers = []
    for block in blocks:
        try:
            calendars = Calendar.from_ical(block, multiple=True)
        except ValueError as exc:  # the library's parse errors are ValueErrors
            defects.append(f"VCALENDAR not readable: {str(exc)[:150]}")
            continue
        for calendar in calendars:
            answers.extend(_answers(calendar, hint, defects))
    return answers


def _vcalendars(text: str, defects: list[str]) -> list[str]:
    """Cut the text into its VCALENDARs, so that a broken one does not hide the others.

    One pass over the lines: a lazy regular expression would rescan the rest of the text from
    every unclosed BEGIN, quadratic time on hostile input.
    """
    blocks, current = [], None
    for line in text.split("\n"):
        key = line.strip().upper()
        if key == "BEGIN:VCALENDAR":
            if current is not None:
                defects.append("VCALENDAR without END skipped")
            current = [line]
        elif current is not None:
            current.append(line)
            if key == "END:VCALENDAR":
                blocks.append("\n".join(current) + "\n")
                current = None
    if current is not None:
        defects.append("VCALENDAR without END skipped")
    elif not blocks and text.strip():
        defects.append("no VCALENDAR")
    return blocks


def _answers(calendar: Calendar, hint: str | None, defects: list[str]) -> list[CalendarAnswer]:
    method = _method(calendar, hint, defects)
    if method not in ANSWER_METHODS:
        return []
    defects.extend(f"{name or 'line'}: {str(error)[:150]}" for name, error in calendar.errors)
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    others = sorted({c.name for c in calendar.subcomponents} - {"VEVENT", "VTIMEZONE"})
    if others:
        defects.append(f"{method} of {', '.join(others)} not read")
    answers = []
    for event in events:
        defects.extend(f"{name or 'line'}: {str(error)[:150]}" for name, error in event.errors)
        uid = str(_first(event, "UID", defects) or "").strip()
        if not uid:
            defects.append(f"{method} VEVENT without UID skipped")
            continue
        start = end = None
        if method == "COUNTER":
            start, end = _proposed(event, defects)
        common = dict(
            method=method,
            uid=uid,
            recurrence_id=_when(event, "RECURRENCE-ID", defects),
            sequence=_sequence(event, defects),
            dtstamp=_when(event, "DTSTAMP", defects),
            proposed_start=start,
            proposed_end=end,
            comment=_comment(event),
        )
        attendees = _all(event, "ATTENDEE")
        if not attendees:
            defects.append(f"{method} without ATTENDEE")
            answers.append(CalendarAnswer(attendee="", partstat=None, **common))
        for prop in attendees:
            answers.append(CalendarAnswer(attendee=_email(prop, defects), partstat=_partstat(prop, defects), **common))
    return answers


def _method(calendar: Calendar, hint: str | None, defects: list[str]) -> str | None:
    found = _first(calendar, "METHOD", defects)
    method = str(found).strip().upper() if found is not None else None
    hint = hint.strip().upper() if isinstance(hint, str) and hint.strip() else None
    if method and hint and method != hint:
        defects.append(f"METHOD {method} read, not the MIME method {hint}")  # RFC 6047 2.4
    return method or hint


def _all(component, name: str) -> list:
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _first(component, name: str, defects: list[str]):
    values = _all(component, name)
    if len(values) > 1:
        defects.append(f"{len(values)} {name} properties: the first read")
    return values[0] if values else None


def _when(event, name: str, defects: list[str]) -> datetime | None:
    prop = _first(event, name, defects)
    return None if prop is None else _as_utc(prop, name, defects)


def _as_utc(prop, name: str, defects: list[str]) -> datetime | None:
    value = getattr(prop, "dt", None)
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                tzid = getattr(prop, "params", {}).get("TZID")
                if tzid:
                    defects.append(f"{name}: unknown TZID {str(tzid)[:80]!r}")
                    return None
                return value.replace(tzinfo=timezone.utc)  # floating time: read as UTC
            return value.astimezone(timezone.utc)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    except (ValueError, OverflowError) as exc:
        defects.append(f"{name}: {str(exc)[:100]}")
        return None
    defects.append(f"{name} is no date or time")
    return None


def _proposed(event, defects: list[str]) -> tuple[datetime | None, datetime | None]:
    """The new time of a COUNTER: DTSTART, and DTEND or DTSTART + DURATION (RFC 5545 3.6.1)."""
    start_prop = _first(event, "DTSTART", defects)
    start = None if start_prop is None else _as_utc(start_prop, "DTSTART", defects)
    if start is None:
        return None, None
    if event.get("DTEND") is not None:
        return start, _when(event, "DTEND", defects)
    duration = getattr(_first(event, "DURATION", defects), "dt", None)
    if isinstance(duration, timedelta):
        return start, start + duration
    # Without either, an all-day event lasts the day and a timed one no time at all.
    all_day = not isinstance(start_prop.dt, datetime)
    return start, start + timedelta(days=1) if all_day else start


def _sequence(event, defects: list[str]) -> int:
    value = _first(event, "SEQUENCE", defects)
    if value is None:
        return 0
    if isinstance(value, int):
        return int(value)
    defects.append(f"SEQUENCE {str(value)[:40]!r} is no number: read as 0")
    return 0


def _comment(event) -> str:
    return "\n".join(str(c).strip() for c in _all(event, "COMMENT") if str(c).strip())


def _email(prop, defects: list[str]) -> str:
    """The address of a cal-address: ``mailto:`` (any case) or bare, else its EMAIL parameter."""
    for candidate in (str(prop), getattr(prop, "params", {}).get("EMAIL")):
        if not candidate:
            continue
        value = str(candidate).strip()
        if value[:7].lower() == "mailto:":
            value = value[7:]
        value = unquote(value).strip()  # a mailto URI may escape characters (RFC 6068)
        if _EMAIL.fullmatch(value):
            return value.lower()
    defects.append(f"ATTENDEE {str(prop)[:80]!r} has no readable address")
    return ""


def _partstat(prop, defects: list[str]) -> str | None:
    value = getattr(prop, "params", {}).get("PARTSTAT")
    if value is None:
        return None
    value = str(value).strip().upper()
    if value not in PARTSTATS:
        defects.append(f"PARTSTAT {value[:40]!r} read as NEEDS-ACTION")
        return "NEEDS-ACTION"
    return value
