"""What a customer or manager is told in plain words (pure): names, support hours, SLA targets, zones.

The welcome says who is greeted, when support works (in our zone and the reader's), and what the
SLA promises per priority; the other mails say times in the reader's own zone with the zone named.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar, Span
from ticketing.core.domain import Meeting, MeetingStatus
from ticketing.core.playbooks import role_key
from ticketing.core.sla import ALWAYS, Policy, Target

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: How a customer calls each priority.
PRIORITY_WORDS = {"P0": "critical", "P1": "urgent", "P2": "high", "P3": "normal"}
#: Contact roles that lead the project on the customer's side ("project lead", "Project Manager", "PM").
PROJECT_ROLES = frozenset({"project-manager", "project-lead", "pm", "project-owner", "program-manager"})


def names_in_words(names: Sequence[str]) -> str:
    """ "Jane", "Jane and Marcus", "Jane, Marcus and Helen" (empty names left out)."""
    names = [n for n in names if n]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def is_project_lead(role: str | None) -> bool:
    """Whether a contact's role makes them the customer's project manager."""
    return role_key(role or "") in PROJECT_ROLES


def zone_label(tz: ZoneInfo, at: datetime) -> str:
    """e.g. "New York time (EST)": the zone's city and its abbreviation at ``at``."""
    city = str(tz.key).rsplit("/", 1)[-1].replace("_", " ") if getattr(tz, "key", None) else "UTC"
    abbreviation = at.astimezone(tz).tzname() or ""
    return "UTC" if city == "UTC" else f"{city} time ({abbreviation})"


def moment_label(moment: datetime, tz: ZoneInfo) -> str:
    """e.g. "Wed 18 Nov 2026, 13:00 CET": ``moment`` in ``tz``, with the zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local:%Z}"


def span_label(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """e.g. "Thu 19 Nov 2026, 19:00-19:30 CET": a meeting's time in ``tz``, with the zone."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    return f"{a:%a} {a.day} {a:%b %Y}, {a:%H:%M}-{b:%H:%M} {b:%Z}"


def both_zones(start: datetime, end: datetime, ours: ZoneInfo, theirs: ZoneInfo) -> str:
    """A meeting's time for an engineer: in their zone, and the customer's when that reads otherwise,
    e.g. "Thu 19 Nov 2026, 19:00-19:30 CET (13:00-13:30 EST for the customer)"."""
    label = span_label(start, end, ours)
    other = span_label(start, end, theirs)
    if other == label:
        return label
    same_day = start.astimezone(ours).date() == start.astimezone(theirs).date()
    return f"{label} ({other.partition(', ')[2] if same_day else other} for the customer)"


def plan_in_words(meetings: Sequence[Meeting], ours: ZoneInfo, theirs: ZoneInfo) -> tuple[list[str], list[str]]:
    """An engagement's meetings for its engineer: ``(planned, not placed)``, e.g.
    "Introduction: Acme: Thu 19 Nov 2026, 19:00-19:30 CET (13:00-13:30 EST for the customer)" and
    "Pre-launch review: Acme: waiting for the go-live date"."""
    planned = [f"{m.title}: {both_zones(m.start, m.end, ours, theirs)}" for m in sorted(
        (m for m in meetings if m.status is MeetingStatus.PLANNED and m.start), key=lambda m: m.start)]
    unplaced = [f"{m.title}: {m.note or 'not planned'}" for m in meetings if m.status is MeetingStatus.UNPLACED]
    return planned, unplaced


def hours_in_words(calendar: BusinessCalendar, reader: ZoneInfo, on: date) -> list[str]:
    """The calendar's weekly hours, one line per run of weekdays with the same hours, in its zone
    and, when the reader's differs, in theirs as well (as on the week of ``on``):
    "Monday to Friday, 08:00-17:00 Los Angeles time (PST); 11:00-20:00 New York time (EST) for you"."""
    monday = on - timedelta(days=on.weekday())
    lines = []
    for first, last in _runs(calendar.hours):
        spans = calendar.hours[first]
        day = monday + timedelta(days=first)
        noon = calendar.local_moment(day, 12 * 60)
        days = DAYS[first] if first == last else f"{DAYS[first]} to {DAYS[last]}"
        line = f"{days}, {_spans(spans)} {zone_label(calendar.tz, noon)}"
        if noon.astimezone(reader).utcoffset() != noon.astimezone(calendar.tz).utcoffset():
            line += "; " + _theirs(calendar, day, first, last, spans, reader) + f" {zone_label(reader, noon)} for you"
        lines.append(line)
    if calendar.country:
        lines.append(f"closed on public holidays ({calendar.country})")
    return lines


def sla_in_words(policy: Policy, calendars: Mapping[str, BusinessCalendar], support: str | None = None) -> list[str]:
    """One line per priority: "urgent (P1): an answer within 2 hours and a resolution within 8
    hours, round the clock". ``support`` is the calendar whose hours the welcome calls "support hours"."""
    priorities = sorted(set(policy.first_response) | set(policy.resolution))
    lines = []
    for priority in priorities:
        parts = []
        clocks = set()
        for what, table in (("an answer", policy.first_response), ("a resolution", policy.resolution)):
            target = table.get(priority)
            if target is not None:
                parts.append(f"{what} within {_target(target)}")
                clocks.add(target.clock)
        if not parts:
            continue
        if clocks == {ALWAYS}:
            how = "round the clock"
        elif clocks & {ALWAYS}:
            how = ""  # each target says whether it counts business time
        else:
            names = sorted(clocks)
            how = "counted in our support hours" if names == [support] else \
                f"counted in the business hours of {names_in_words(names)}"
        word = PRIORITY_WORDS.get(priority)
        lines.append(f"{word} ({priority})" if word else priority)
        lines[-1] += f": {' and '.join(parts)}" + (f", {how}" if how else "")
    return lines


def duration_in_words(duration: timedelta) -> str:
    """ "2 hours", "30 minutes", "1 hour 30 minutes", "2 days" (whole days only past 48 hours)."""
    minutes = int(duration.total_seconds() // 60)
    if minutes >= 48 * 60 and minutes % (24 * 60) == 0:
        return _plural(minutes // (24 * 60), "day")
    hours, minutes = divmod(minutes, 60)
    parts = ([_plural(hours, "hour")] if hours else []) + ([_plural(minutes, "minute")] if minutes else [])
    return " ".join(parts) or "under a minute"


def _target(target: Target) -> str:
    words = duration_in_words(target.duration)
    if target.clock == ALWAYS:
        return words
    number, _, unit = words.partition(" ")
    return f"{number} business {unit}" if unit.startswith(("hour", "minute", "day")) and " " not in unit else \
        f"{words} of business time"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def _runs(hours: tuple[tuple[Span, ...], ...]) -> list[tuple[int, int]]:
    """Runs of consecutive open weekdays with the same spans: [(first, last), ...]."""
    runs: list[tuple[int, int]] = []
    for day, spans in enumerate(hours):
        if not spans:
            continue
        if runs and runs[-1][1] == day - 1 and hours[runs[-1][0]] == spans:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _spans(spans: tuple[Span, ...]) -> str:
    return " and ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans)


def _theirs(calendar: BusinessCalendar, day: date, first: int, last: int, spans: tuple[Span, ...],
            reader: ZoneInfo) -> str:
    """The spans in the reader's zone: "11:00-20:00"; "Sunday to Monday, 13:00-22:00" when the whole
    run falls on other days there; "17:00-02:00 the next day" when a span crosses their midnight."""
    times = [(calendar.local_moment(day, a).astimezone(reader), calendar.local_moment(day, b).astimezone(reader))
             for a, b in spans]
    shifts = {(m.date() - day).days for pair in times for m in pair}
    if len(shifts) == 1 and shifts != {0}:
        shift = shifts.pop()
        a, b = DAYS[(first + shift) % 7], DAYS[(last + shift) % 7]
        return f"{a if first == last else f'{a} to {b}'}, " + " and ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in times)
    return " and ".join(f"{_clock(s, day)}-{_clock(e, day)}" for s, e in times)


def _clock(moment: datetime, day: date) -> str:
    shift = (moment.date() - day).days
    return f"{moment:%H:%M}" + {0: "", 1: " the next day", -1: " the day before"}.get(shift, "")
