"""Engineers steer an onboarding engagement by replying (pure): ``#golive``, ``#playbook``,
``#contact``, ``#accept``, ``#move``, ``#cancel``, ``#location``, and ``#done``, ``#todo`` and
``#blocked`` for its tasks.

:func:`check` tells :func:`ticketing.core.commands.parse_commands` whether an argument has the
command's shape. What needs the day or the engagement's meetings is read when the reply is carried
out: :func:`read_day` and :func:`read_move` resolve dates ("2027-01-14", "14 January", "next
Friday": :mod:`ticketing.core.dates`) against today in the engineer's zone, :func:`find_meeting`
finds the meeting a reference names (its key, its title, or a part of either that only it has,
without regard to case), :func:`find_task` the task one names in the same way,
:func:`latest_proposal` the time an attendee proposed, and
:func:`hours_warnings` says when a time is outside the engineer's or the customer's hours.

A reference that names no meeting or several is a problem, in words that list the meetings (or the tasks); the
problem starts with the command (``#move kick: …``) so the engineer also gets the list of commands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from ticketing.core.calendars import BusinessCalendar
from ticketing.core.dates import find_dates
from ticketing.core.domain import Meeting, MeetingAttendee
from ticketing.core.tasks import Task

#: How the note of a meeting an engineer cancelled begins: re-planning leaves such a meeting cancelled.
CANCELLED_BY = "cancelled by "

#: The commands, with the help line shown to an engineer who typed an unknown one.
HELP = {
    "golive": "#golive DATE         set the engagement's go-live date and re-plan (2027-01-14, 14 January)",
    "playbook": "#playbook NAME       choose or switch the engagement's playbook",
    "contact": '#contact add "Name <email>" ROLE | #contact remove email   a contact joins or leaves',
    "accept": "#accept [MEETING]    move a meeting to the time an attendee proposed (else the latest proposal)",
    "move": "#move MEETING DATE HH:MM   move a meeting (the time in your zone)",
    "cancel": "#cancel MEETING      cancel a meeting",
    "location": "#location MEETING TEXT-OR-URL   where it is held, or its join link",
    "done": "#done TASK           mark a task done (its key, or a part of its name)",
    "todo": "#todo TASK           open a task again",
    "blocked": '#blocked TASK REASON  mark a task blocked, and why (a name with spaces in "quotes")',
    "task": '#task add "NAME" DATE [OWNER]   add a task (owner: engineer, project_manager, customer:ROLE ...)',
    "live": "#live [DATE]         record that the customer went live (today, or the day they said)",
    "signoff": "#signoff NAME        record the customer's sign-off, and who gave it",
    "close": "#close               end the engagement: meetings ahead cancelled, no more reminders",
    "reopen": "#reopen              open a closed engagement again",
}

_ADDRESS = r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+"
_CONTACT_ADD = re.compile(rf"^add\s+(?:\"?(?P<name>[^\"<>]*?)\"?\s*<(?P<email>{_ADDRESS})>\"?|(?P<bare>{_ADDRESS}))"
                          r"(?:\s+(?P<role>.+))?$", re.IGNORECASE)
_CONTACT_REMOVE = re.compile(rf"^remove\s+<?(?P<email>{_ADDRESS})>?$", re.IGNORECASE)
_TIME = re.compile(r"(?:^|\s)(?:at\s+)?(?P<h>[01]?\d|2[0-3])(?::(?P<m>[0-5]\d))?\s*(?P<ampm>am|pm)?$", re.IGNORECASE)
_FIRST = re.compile(r'^\s*(?:"(?P<quoted>[^"]+)"|(?P<word>\S+))\s*(?P<rest>.*)$', re.DOTALL)
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class ContactChange:
    action: str  # "add" or "remove"
    email: str  # lower-case
    name: str = ""
    role: str = ""


@dataclass(frozen=True)
class NewTask:
    name: str
    due: date
    owner: str  # as written: a role (engineer, project_manager, sales_rep, customer:ROLE); "" for the engineer


@dataclass(frozen=True)
class MoveTo:
    meeting: str  # the reference, as written
    day: date
    at: time  # local time in the engineer's zone


def check(name: str, argument: str) -> str | None:
    """Whether ``argument`` has the shape command ``name`` needs: None, or the problem in words."""
    if name in ("golive", "playbook", "cancel", "done", "todo") and not argument:
        what = {"golive": "a date", "playbook": "a playbook's name", "cancel": "a meeting", "done": "a task",
                "todo": "a task"}[name]
        return f"#{name} needs {what}"
    if name == "playbook" and len(argument.split()) > 1:
        return f"#playbook needs one playbook's name, not {argument!r}"
    if name == "contact":
        found = read_contact(argument)
        return found if isinstance(found, str) else None
    if name == "move":
        if not _TIME.search(argument):
            return f"#move needs MEETING DATE HH:MM, not {argument!r}"
    if name == "location":
        reference, text = split_reference(argument)
        if not reference or not text:
            return f"#location needs MEETING and a place or link, not {argument!r}"
    if name == "signoff" and not argument:
        return "#signoff needs the name of who signed off"
    if name in ("close", "reopen") and argument:
        return f"#{name} takes nothing after it, not {argument!r}"
    if name == "task":
        found = read_task_add(argument, date(2000, 1, 1), ZoneInfo("UTC"))
        return found if isinstance(found, str) else None
    if name == "blocked":
        reference, text = split_reference(argument)
        if not reference or not text:
            return f"#blocked needs TASK and a reason, not {argument!r}"
    return None


def read_contact(argument: str) -> ContactChange | str:
    """``add "Name <email>" ROLE``, ``add email ROLE`` or ``remove email``."""
    text = " ".join(argument.split())
    added = _CONTACT_ADD.match(text)
    if added:
        email = (added["email"] or added["bare"]).lower()
        return ContactChange("add", email, (added["name"] or "").strip(), (added["role"] or "").strip().strip('"'))
    removed = _CONTACT_REMOVE.match(text)
    if removed:
        return ContactChange("remove", removed["email"].lower())
    return f'#contact needs add "Name <email>" ROLE or remove email, not {argument!r}'


def read_day(text: str, today: date, tz: ZoneInfo) -> date | str:
    """The one day ``text`` names, read against ``today`` (a local date in ``tz``); "yesterday" too."""
    if text.strip(" ,.;").lower() == "yesterday":
        return today - timedelta(days=1)
    found = [w for w in find_dates(text, today, tz) if w.day is not None and not w.vague]
    rest = text[:found[0].start] + text[found[0].end:] if len(found) == 1 else text
    if len(found) != 1 or rest.strip(" ,.;"):
        return f"not one day: {text!r}"
    return found[0].day


def read_move(argument: str, today: date, tz: ZoneInfo) -> MoveTo | str:
    """``MEETING DATE HH:MM`` (``14:30``, ``2pm``, ``2:30 pm``); the meeting is what comes before the date."""
    clock = _TIME.search(argument)
    if not clock:
        return f"#move needs MEETING DATE HH:MM, not {argument!r}"
    hour, minute = int(clock["h"]), int(clock["m"] or 0)
    if clock["ampm"]:
        if hour > 12 or hour == 0:
            return f"#move: {clock.group().strip()!r} is not a time"
        hour = hour % 12 + (12 if clock["ampm"].lower() == "pm" else 0)
    elif clock["m"] is None:
        return f"#move needs the time as HH:MM, not {clock.group().strip()!r}"
    head = argument[:clock.start()].rstrip(" ,")
    days = [w for w in find_dates(head, today, tz) if w.day is not None and not w.vague]
    if not days or head[days[-1].end:].strip(" ,"):
        return f"#move needs MEETING DATE HH:MM, not {argument!r}"
    reference = head[:days[-1].start].strip().strip('"').strip()
    if not reference:
        return f"#move needs the meeting before the date, not {argument!r}"
    return MoveTo(reference, days[-1].day, time(hour, minute))


_TASK_ADD = re.compile(r'^add\s+(?:"(?P<quoted>[^"]+)"|(?P<bare>.+?))\s+(?:due\s+)?(?P<rest>\S.*)$', re.IGNORECASE)
_OWNER = re.compile(r"(?:\s+(?:owner\s*[:=]?\s*)?(?P<owner>engineer|project_manager|sales_rep|customer:[\w-]+|customer))$",
                    re.IGNORECASE)


def read_task_add(argument: str, today: date, tz: ZoneInfo) -> NewTask | str:
    """``add "NAME" DATE [OWNER]``: a task of the engagement's own, not its playbook's; the date is
    read as :func:`read_day` reads it, the owner is a playbook role (the engineer when left out)."""
    usage = f'#task needs add "NAME" DATE [OWNER], not {argument!r}'
    text = " ".join(argument.split())
    owner_match = _OWNER.search(text)
    owner = owner_match["owner"].lower() if owner_match else ""
    if owner == "customer":
        owner = "customer:all"
    head = text[:owner_match.start()] if owner_match else text
    match = _TASK_ADD.match(head)
    if not match:
        return usage
    name = (match["quoted"] or "").strip()
    rest = match["rest"]
    if not name:  # unquoted: the name is what comes before the date
        found = [w for w in find_dates(head[4:], today, tz) if w.day is not None and not w.vague]
        if not found:
            return usage
        name, rest = head[4:4 + found[-1].start].strip().removesuffix(" due").strip(), head[4 + found[-1].start:]
    day = read_day(rest, today, tz)
    if isinstance(day, str) or not name:
        return usage
    return NewTask(name[:200], day, owner)


def split_reference(argument: str) -> tuple[str, str]:
    """``"Pre-launch review" Room 4`` or ``kickoff https://…``: the meeting (quoted, or one word) and the rest."""
    match = _FIRST.match(argument)
    if not match:
        return "", ""
    return (match["quoted"] or match["word"] or "").strip(), match["rest"].strip()


def is_link(text: str) -> bool:
    """Whether a location is a join link (an http or https URL)."""
    return bool(_URL.match(text.strip()))


def find_meeting(reference: str, meetings: Sequence[Meeting], command: str) -> Meeting | str:
    """The one meeting ``reference`` names: its key or title, else a part of the key or title only
    it has (case-insensitive); else the problem, listing the meetings."""
    wanted = reference.strip().strip('"').casefold()
    exact = [m for m in meetings if wanted in (m.key.casefold(), m.title.casefold())]
    found = exact or [m for m in meetings if wanted and (wanted in m.key.casefold() or wanted in m.title.casefold())]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(f"{m.key} ({m.title})" for m in (found or meetings)) or "none"
    if not found:
        return f"#{command} {reference}: no meeting matches; the meetings: {listed}"
    return f"#{command} {reference}: matches {len(found)} meetings, name one: {listed}"


def find_task(reference: str, tasks: Sequence[Task], command: str) -> Task | str:
    """The one task ``reference`` names: its key or name, else a part of the key or name only it
    has (case-insensitive); else the problem, listing the tasks."""
    wanted = reference.strip().strip('"').casefold()
    exact = [t for t in tasks if wanted in (t.key.casefold(), t.name.casefold())]
    found = exact or [t for t in tasks if wanted and (wanted in t.key.casefold() or wanted in t.name.casefold())]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(f"{t.key} ({t.name}, {t.status.value})" for t in (found or tasks)) or "none"
    if not found:
        return f"#{command} {reference}: no task matches; the tasks: {listed}"
    return f"#{command} {reference}: matches {len(found)} tasks, name one: {listed}"


def latest_proposal(meetings: Sequence[Meeting]) -> tuple[Meeting, MeetingAttendee] | None:
    """The time proposed last (iMIP COUNTER) among ``meetings``, with the attendee who proposed it."""
    proposals = [(a.proposed_at or a.proposed_start, m, a) for m in meetings for a in m.attendees
                 if a.proposed_start is not None]
    if not proposals:
        return None
    _, meeting, attendee = max(proposals, key=lambda p: (p[0], p[1].id))
    return meeting, attendee


def hours_warnings(start: datetime, end: datetime, calendar: BusinessCalendar, customer_tz: ZoneInfo,
                   customer_day: tuple[int, int]) -> list[str]:
    """Why ``start``-``end`` is an awkward time: outside the engineer's business hours
    (``calendar``), or outside the customer's day (``customer_day``: minutes after midnight in
    ``customer_tz``, Monday to Friday). Empty when it is inside both."""
    warnings = []
    last = end - timedelta(minutes=1)
    if not (calendar.is_open(start) and calendar.is_open(last)):
        warnings.append(f"outside the engineer's business hours ({calendar.name}, {calendar.tz.key})")
    low, high = customer_day
    local_start, local_end = start.astimezone(customer_tz), end.astimezone(customer_tz)
    minutes = local_start.hour * 60 + local_start.minute
    end_minutes = minutes + int((end - start).total_seconds() // 60)
    if local_start.weekday() >= 5 or local_end.date() != local_start.date() or minutes < low or end_minutes > high:
        warnings.append(f"outside the customer's day ({low // 60:02d}:{low % 60:02d}-{high // 60:02d}:{high % 60:02d} "
                        f"Monday to Friday, {customer_tz.key})")
    return warnings
