"""Recurring invitations by mail (pure): a weekly series, its exceptions, one moved instance.

Standards: RFC 5545 3.8.5 (RRULE, EXDATE, RECURRENCE-ID) and 3.6.5 (VTIMEZONE), RFC 5546 3.2.2
(a REQUEST for a recurring event, or for one instance of it) and RFC 6047 (iMIP).

Unlike the single meetings of :mod:`mailer.imip`, whose times are in UTC, a series is written in
the organizer's zone (``DTSTART;TZID=America/Los_Angeles:20270301T093000``) with its VTIMEZONE:
a weekly rule in UTC would move by an hour in every reader's calendar when daylight saving time
starts or ends. The VTIMEZONE covers only the years the series spans, one onset per observance
(no long RDATE lists, which Outlook mishandles).

:func:`request_series` sends the whole series: the master VEVENT (``RRULE:FREQ=WEEKLY;COUNT=n``,
an EXDATE per week without an occurrence) and, in the same VCALENDAR and with the same UID, one
VEVENT per occurrence at another time, named by its RECURRENCE-ID (the time the rule gives it).
:func:`request_instance` sends one moved occurrence alone (its own, raised SEQUENCE). A whole
series is cancelled with :func:`mailer.imip.cancel` (the UID, no RECURRENCE-ID: every instance).
Bad arguments raise :class:`ValueError`, as in :mod:`mailer.imip`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Timezone

from mailer.imip import DEFAULT_PRODID, Invitation, _calendar, _event

_MAX_COUNT = 520  # ten years of weeks: more is no onboarding


@dataclass(frozen=True)
class Weekly:
    """Every week at DTSTART's weekday and wall time in ``tzid`` (an IANA zone), ``count`` times,
    but not at the ``exdates`` (aware; the rule's times of the weeks skipped)."""

    tzid: str
    count: int
    exdates: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Override:
    """One occurrence at another time than the rule's: ``recurrence_id`` is the rule's time of it."""

    recurrence_id: datetime
    start: datetime
    end: datetime


def request_series(invitation: Invitation, weekly: Weekly, dtstamp: datetime, overrides: tuple[Override, ...] = (),
                   prodid: str = DEFAULT_PRODID) -> str:
    """Return a ``METHOD:REQUEST`` VCALENDAR of a weekly series (RFC 5546 3.2.2).

    ``invitation.start``/``end`` are the first week's rule time (DTSTART, DTEND). Each override
    is a VEVENT with the same UID, SEQUENCE and attendees, at its own time. Raises
    :class:`ValueError` as :func:`mailer.imip.request` does, and on an unknown zone, a COUNT
    out of 1..520, a naive time, or an override or EXDATE that is no time of the rule.
    """
    tz = _zone(weekly.tzid)
    if not isinstance(weekly.count, int) or isinstance(weekly.count, bool) or not 1 <= weekly.count <= _MAX_COUNT:
        raise ValueError(f"not a COUNT: {weekly.count!r:.40}")
    rule_times = _rule_times(invitation.start, weekly.count, tz)
    for moment in (*weekly.exdates, *(o.recurrence_id for o in overrides)):
        if _aware(moment, "an EXDATE or RECURRENCE-ID").astimezone(tz) not in rule_times:
            raise ValueError(f"{moment} is no time of the series")
    cal = _calendar("REQUEST", prodid)
    master = _event("REQUEST", invitation, invitation.status, dtstamp, tz)
    master.add("rrule", {"FREQ": "WEEKLY", "COUNT": weekly.count})
    if weekly.exdates:
        master.add("exdate", sorted(e.astimezone(tz) for e in weekly.exdates))
    cal.add_component(master)
    for override in sorted(overrides, key=lambda o: o.recurrence_id):
        cal.add_component(_instance(invitation, override, dtstamp, tz))
    cal.add_component(_vtimezone(tz, invitation.start, rule_times[-1]))
    return cal.to_ical().decode("utf-8")


def request_instance(invitation: Invitation, override: Override, tzid: str, dtstamp: datetime,
                     prodid: str = DEFAULT_PRODID) -> str:
    """Return a ``METHOD:REQUEST`` VCALENDAR moving one occurrence of a series (RFC 5546 3.2.2):
    the series' UID, the occurrence's RECURRENCE-ID and new time, ``invitation.sequence`` raised
    for it. The other occurrences are left as the attendees have them."""
    tz = _zone(tzid)
    cal = _calendar("REQUEST", prodid)
    cal.add_component(_instance(invitation, override, dtstamp, tz))
    cal.add_component(_vtimezone(tz, min(override.recurrence_id, override.start), max(override.recurrence_id, override.end)))
    return cal.to_ical().decode("utf-8")


def _instance(invitation: Invitation, override: Override, dtstamp: datetime, tz: ZoneInfo):
    moved = replace(invitation, start=_aware(override.start, "start"), end=_aware(override.end, "end"))
    event = _event("REQUEST", moved, invitation.status, dtstamp, tz)
    event.add("recurrence-id", _aware(override.recurrence_id, "RECURRENCE-ID").astimezone(tz))
    return event


def _rule_times(start: datetime, count: int, tz: ZoneInfo) -> list[datetime]:
    """The rule's times: the same wall time on the same weekday, week after week, in ``tz``."""
    first = _aware(start, "start").astimezone(tz)
    wall = first.replace(tzinfo=None)
    return [(wall + timedelta(weeks=week)).replace(tzinfo=tz) for week in range(count)]


def _vtimezone(tz: ZoneInfo, first: datetime, last: datetime) -> Timezone:
    """The VTIMEZONE of ``tz`` over the years from ``first`` to ``last``."""
    return Timezone.from_tzinfo(tz, tzid=tz.key, first_date=date(first.year - 1, 12, 1), last_date=date(last.year + 1, 1, 31))


def _zone(tzid: str) -> ZoneInfo:
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"not a time zone: {tzid!r:.80}") from exc


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not {value!r:.80}")
    return value.replace(microsecond=0)
