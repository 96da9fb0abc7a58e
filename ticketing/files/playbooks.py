"""Reading and checking onboarding playbooks: ``playbooks/*.toml`` into :class:`~ticketing.core.playbooks.Playbook`
values, every problem reported with its file, its key and a fix. It reads those files and the
templates, and nothing else: no clock, no database, no network.

:func:`load_playbooks` and :func:`check_playbooks` are the way in; :mod:`ticketing.core.playbooks`
documents the schema checked here. Errors: :class:`~ticketing.errors.PlaybookError`.
"""
from __future__ import annotations

import importlib.resources
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path

import jinja2
import jinja2.meta

from ticketing.core.playbooks import (
    ANCHORS,
    INTERNAL_ROLES,
    MAX_DURATION_MINUTES,
    TEXT_CONTEXT,
    EmailSpec,
    MeetingSpec,
    Playbook,
    Window,
    canonical_role,
    tier_key,
)
from ticketing.core.steering import is_link
from ticketing.errors import PlaybookError, Problem
from ticketing.files.playbook_calendar import EXAMPLE as EXAMPLE_CALENDAR
from ticketing.files.playbook_calendar import read_calendar
from ticketing.files.playbook_checkpoint import KEY as CHECKPOINT_KEY
from ticketing.files.playbook_checkpoint import read_checkpoint
from ticketing.files.playbook_fields import Key, Report, read_fields
from ticketing.files.playbook_order import check_after
from ticketing.files.playbook_success import EXAMPLE as EXAMPLE_SUCCESS
from ticketing.files.playbook_success import read_success
from ticketing.files.playbook_survey import TOP_KEYS as SURVEY_KEYS
from ticketing.files.playbook_survey import read_summary, read_survey
from ticketing.files.playbook_tasks import read_tasks
from ticketing.files.templates import Renderer

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_JINJA = jinja2.Environment()  # only parses titles and descriptions; building it reads nothing


_TOP = {
    "name": Key("str", True, '"enterprise-onboarding"'), "title": Key("str", True, '"Three-phase onboarding"'),
    "source": Key("str", True, '"000_edea7403beb02fbf.txt"'), "tiers": Key("strs", True, '["Enterprise"]'),
    "sla_policy": Key("str", False, '"enterprise"'), "length_days": Key("int", True, "60"),
    "phases": Key("strs", False, '["setup", "go-live"]'), "emails": Key("tables", False, "[[emails]]"),
    "meetings": Key("tables", False, "[[meetings]]"), "calendar": Key("any", False, EXAMPLE_CALENDAR),
    "max_customer_meetings_per_day": Key("int", False, "2"), "tasks": Key("tables", False, "[[tasks]]"),
    "checkpoint_mail": CHECKPOINT_KEY,
    "success": Key("table", False, EXAMPLE_SUCCESS),
    **SURVEY_KEYS,
}
_EMAIL = {
    "key": Key("str", True, '"welcome"'), "template": Key("str", True, '"welcome"'),
    "to": Key("strs", True, '["customer:all"]'), "cc": Key("strs", False, '["engineer"]'),
    "anchor": Key("str", True, '"start"'), "offset_days": Key("int", True, "0"),
}
_MEETING = {
    "key": Key("str", True, '"kickoff"'), "title": Key("str", True, '"Kick-off: {{ account }}"'),
    "phase": Key("str", False, '"setup"'), "duration_minutes": Key("int", True, "30"),
    "attendees": Key("strs", True, '["engineer", "customer:all"]'), "optional": Key("strs", False, '["manager"]'),
    "anchor": Key("str", True, '"start"'), "window": Key("window", True, "[1, 5]"),
    "preferred_time": Key("str", False, '"10:00"'), "description": Key("text", False, '"Agenda: …"'),
    "repeat": Key("table", False, "{ every_days = 5, count = 4 }"), "internal": Key("bool", False, "true"),
    "closes": Key("bool", False, "true"), "after": Key("strs", False, '["developer-workflow"]'),
    "location": Key("str", False, '"https://meet.example/j/123" or "Room 4B"'),
}
_REPEAT = {"every_days": Key("int", True, "5"), "count": Key("int", True, "4")}
CHECKOUT_PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def default_playbooks_dir() -> Path:
    """``playbooks/`` of a checkout (or an editable install), else the copy installed with the package."""
    if CHECKOUT_PLAYBOOKS.is_dir():
        return CHECKOUT_PLAYBOOKS
    return Path(str(importlib.resources.files("ticketing") / "_data" / "playbooks"))


def load_playbooks(folder: Path) -> dict[str, Playbook]:
    """Read every ``*.toml`` of ``folder`` into playbooks by name, in file-name order.

    Raises :class:`PlaybookError` listing every problem of every file (templates are not checked:
    see :func:`check_playbooks`).
    """
    playbooks, _, problems = scan(Path(folder))
    if problems:
        raise PlaybookError(problems)
    return playbooks


def check_playbooks(folder: Path, templates_dir: Path) -> list[Problem]:
    """Every problem of the playbooks in ``folder``, including their emails' templates missing from
    ``templates_dir`` or not parsing. Empty when all is well."""
    _, emails, problems = scan(Path(folder))
    return problems + check_templates(emails, Path(templates_dir))


def scan(folder: Path) -> tuple[dict[str, Playbook], list[tuple[str, str]], list[Problem]]:
    """Playbooks read without problems, every (where, template) of an email, and every problem."""
    problems: list[Problem] = []
    if not folder.is_dir():
        return {}, [], [Problem(f"{folder.name}/", f"no playbooks folder at {folder}", "create it, one TOML file per playbook")]
    playbooks: dict[str, Playbook] = {}
    emails: list[tuple[str, str]] = []
    paths = sorted(folder.glob("*.toml"))
    names = {path.stem: f"{folder.name}/{path.name}" for path in paths}  # names differing from their file's join
    tiers: dict[str, str] = {}
    for path in paths:
        label = f"{folder.name}/{path.name}"

        def report(key: str, message: str, fix: str, label: str = label) -> None:
            problems.append(Problem(f"{label}: {key}", message, fix))

        before = len(problems)
        playbook, top = _read_file(path, report, emails, label)
        name = top.get("name")
        if name is not None and name != path.stem and names.setdefault(name, label) != label:
            report("name", f"{name!r} is also the name of {names[name]}", "give each playbook its own name")
        for tier in top.get("tiers", ()):
            owner = tiers.setdefault(tier_key(tier), label)
            if owner != label:
                report("tiers", f"tier {tier!r} is already served by {owner}", "a tier belongs to one playbook: remove it from one of them")
        if playbook is not None and len(problems) == before:
            playbooks[playbook.name] = playbook
    return playbooks, emails, problems


def _read_file(path: Path, report: Report, emails: list[tuple[str, str]], label: str) -> tuple[Playbook | None, dict]:
    """The playbook in ``path`` (None, its problems reported, when it is not usable) and its
    well-typed top-level values."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        report("(syntax)", f"not valid TOML: {exc}", "correct the TOML syntax at that line")
        return None, {}
    except (OSError, UnicodeDecodeError) as exc:
        report("(file)", f"cannot be read: {exc}", "save it as UTF-8 text readable by the worker")
        return None, {}
    counter = _Counter(report)
    report = counter.report
    top = read_fields(data, _TOP, "", report)
    name, length = top.get("name"), top.get("length_days")
    if name is not None and not _KEY.match(name):
        report("name", f"{name!r} is not a plain name", "use lower-case letters, digits, - and _")
    elif name is not None and name != path.stem:
        report("name", f"{name!r} differs from the file name {path.name}", f'set name = "{path.stem}" or rename the file to {name}.toml')
    if length is not None and length < 1:
        report("length_days", "must be at least 1", "set length_days = 60")
    if "tiers" in top and not top["tiers"]:
        report("tiers", "a playbook needs at least one tier", 'write e.g. tiers = ["Enterprise"], or ["*"] for the fallback')
    _no_repeats(top.get("tiers", ()), "tiers", tier_key, report)
    phases = top.get("phases", ())
    _no_repeats(phases, "phases", str.lower, report)
    email_specs = _emails(top.get("emails", ()), length, report)
    emails += [(f"{label}: emails[{i}].template", e.template) for i, e in email_specs if _KEY.match(e.template)]
    meeting_specs = _meetings(top.get("meetings", ()), phases, report)
    _check_anchors(meeting_specs, length, report)
    check_after(meeting_specs, report)
    _check_internal_and_closing(meeting_specs, report)
    task_specs = read_tasks(top.get("tasks", ()), phases, {m.key for _, m in meeting_specs if m.key}, length, report)
    calendar = read_calendar(top["calendar"], report) if "calendar" in top else None
    success = read_success(top.get("success", {}), {m.key for _, m in meeting_specs if m.key}, report)
    survey = read_survey(top.get("survey"), {m.key for _, m in meeting_specs if m.key}, report)
    customer_summary = read_summary(top.get("summary"), report)
    per_day = top.get("max_customer_meetings_per_day")
    if per_day is not None and per_day < 1:
        report("max_customer_meetings_per_day", "must be at least 1", "set max_customer_meetings_per_day = 2")
    checkpoint = read_checkpoint(top.get("checkpoint_mail"), report)
    if counter.count:
        return None, top
    return Playbook(
        name=name, title=top["title"], source=top["source"], tiers=top["tiers"], sla_policy=top.get("sla_policy"),
        length_days=length, phases=phases, emails=tuple(e for _, e in email_specs),
        meetings=tuple(m for _, m in meeting_specs), path=path, calendar=calendar,
        max_customer_meetings_per_day=per_day, tasks=tuple(t for _, t in task_specs), success=success,
        survey=survey, customer_summary=customer_summary, checkpoint_mail=checkpoint,
    ), top


class _Counter:
    def __init__(self, report: Report):
        self._report, self.count = report, 0

    def report(self, key: str, message: str, fix: str) -> None:
        self.count += 1
        self._report(key, message, fix)


def _no_repeats(items, where: str, key, report: Report) -> None:
    seen: set[str] = set()
    for item in items:
        if key(item) in seen:
            report(where, f"{item!r} is listed twice", "list it once")
        seen.add(key(item))


def _roles(items: tuple[str, ...], where: str, report: Report) -> tuple[str, ...]:
    roles = []
    for index, item in enumerate(items):
        role = canonical_role(item)
        if role is None:
            report(f"{where}[{index}]", f"unknown role {item!r}",
                   f"use {', '.join(INTERNAL_ROLES)}, customer:all or customer:<contact role> (e.g. customer:it)")
        elif role in roles:
            report(f"{where}[{index}]", f"{item!r} is listed twice", "list each role once")
        else:
            roles.append(role)
    return tuple(roles)


def _keys(entries: tuple[dict, ...], kind: str, report: Report):
    """(index, where, well-typed fields) of each entry; unknown, bad and repeated keys are reported."""
    seen: set[str] = set()
    schema = _EMAIL if kind == "emails" else _MEETING
    for index, entry in enumerate(entries):
        where = f"{kind}[{index}]"
        fields = read_fields(entry, schema, f"{where}.", report)
        key = fields.get("key")
        if key is not None and not _KEY.match(key):
            report(f"{where}.key", f"{key!r} is not a plain name", "use lower-case letters, digits, - and _")
        elif key is not None and key in seen:
            report(f"{where}.key", f"{key!r} is used twice", f"give each of the {kind} its own key")
        if key is not None:
            seen.add(key)
        yield index, where, fields


def _emails(entries: tuple[dict, ...], length: int | None, report: Report) -> list[tuple[int, EmailSpec]]:
    specs = []
    for index, where, f in _keys(entries, "emails", report):
        to, cc = _roles(f.get("to", ()), f"{where}.to", report), _roles(f.get("cc", ()), f"{where}.cc", report)
        if "to" in f and not f["to"]:
            report(f"{where}.to", "an email needs at least one recipient", 'write e.g. to = ["customer:all"]')
        template, anchor, offset = f.get("template"), f.get("anchor"), f.get("offset_days")
        if template is not None and not _KEY.match(template):
            report(f"{where}.template", f"{template!r} is not a template name", 'name the pair without folder or extension, e.g. "welcome"')
        if anchor is not None and anchor not in ANCHORS:
            report(f"{where}.anchor", f"unknown anchor {anchor!r}", 'use "start" or "golive" (emails are not anchored on meetings)')
        elif anchor == "start" and offset is not None and (offset < 0 or length is not None and offset > length):
            report(f"{where}.offset_days", f"business day {offset} after the start is outside the engagement",
                   "use an offset from 0 to length_days")
        specs.append((index, EmailSpec(f.get("key", ""), template or "", to, cc, anchor or "", offset or 0)))
    return specs


def _meetings(entries: tuple[dict, ...], phases: tuple[str, ...], report: Report) -> list[tuple[int, MeetingSpec]]:
    specs = []
    for index, where, f in _keys(entries, "meetings", report):
        attendees = _roles(f.get("attendees", ()), f"{where}.attendees", report)
        optional = _roles(f.get("optional", ()), f"{where}.optional", report)
        if "attendees" in f and "engineer" not in attendees:
            report(f"{where}.attendees", "the engineer organises every meeting and must attend", 'add "engineer" to attendees')
        for role in sorted(set(attendees) & set(optional)):
            report(f"{where}.optional", f"{role} is also a required attendee", "list it in attendees or optional, not both")
        for key in ("title", "description"):
            if key in f:
                _check_text(f[key], f"{where}.{key}", report, one_line=key == "title")
        minutes = f.get("duration_minutes")
        if minutes is not None and not 0 < minutes <= MAX_DURATION_MINUTES:
            report(f"{where}.duration_minutes", f"{minutes} minutes is not between 1 and {MAX_DURATION_MINUTES} (8 hours)",
                   "split a longer session into several meetings")
        window = Window(*f["window"]) if "window" in f else None
        if window and window.earliest > window.latest:
            report(f"{where}.window", f"earliest {window.earliest} is after latest {window.latest}", f"write window = [{window.latest}, {window.earliest}]")
        anchor = f.get("anchor")
        if anchor is not None and anchor not in ANCHORS and not anchor.startswith("meeting:"):
            report(f"{where}.anchor", f"unknown anchor {anchor!r}", 'use "start", "golive" or "meeting:<key of another meeting>"')
        preferred = _preferred_time(f.get("preferred_time"), minutes, where, report)
        phase = f.get("phase")
        if phase is not None and phase not in phases:
            report(f"{where}.phase", f"phase {phase!r} is not declared", f"add it to phases = [...] or use one of: {', '.join(phases) or '(none declared)'}")
        every, count = _repeat(f.get("repeat"), where, report)
        location = f.get("location", "").strip()
        if "\n" in location or "\r" in location or len(location) > 255:
            report(f"{where}.location", "must be one line of at most 255 characters", 'write e.g. location = "Room 4B"')
        elif location.lower().startswith(("http:", "https:")) and not is_link(location):
            report(f"{where}.location", f"{location!r} is not a link a calendar can open", "write the whole https:// URL, without spaces")
        specs.append((index, MeetingSpec(
            key=f.get("key", ""), title=f.get("title", ""), duration=timedelta(minutes=minutes or 0), attendees=attendees,
            optional=optional, anchor=anchor or "", window=window or Window(0, 0), preferred_time=preferred,
            description=f.get("description", ""), phase=phase, repeat_every=every, repeat_count=count, location=location,
            internal=f.get("internal", False), closes=f.get("closes", False), after=f.get("after", ()),
        )))
    return specs


def _check_text(text: str, where: str, report: Report, one_line: bool) -> None:
    if one_line and ("\n" in text or "\r" in text):
        report(where, "must be one line", "remove the line breaks")
    try:
        tree = _JINJA.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        report(where, f"Jinja2 syntax error on line {exc.lineno}: {exc.message}", "correct the template, e.g. {{ account }}")
        return
    unknown = sorted(jinja2.meta.find_undeclared_variables(tree) - set(TEXT_CONTEXT))
    if unknown:
        report(where, f"unknown variable{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}", f"use only {', '.join(TEXT_CONTEXT)}")


def _preferred_time(text: str | None, minutes: int | None, where: str, report: Report) -> time | None:
    if text is None:
        return None
    match = _TIME.match(text)
    if not match:
        report(f"{where}.preferred_time", f"not a local time HH:MM: {text!r}", 'write e.g. preferred_time = "10:00"')
        return None
    at = time(int(match[1]), int(match[2]))
    if minutes and at.hour * 60 + at.minute + minutes > 24 * 60:
        report(f"{where}.preferred_time", f"a {minutes}-minute meeting at {text} ends after midnight", "choose an earlier time")
    return at


def _repeat(table: dict | None, where: str, report: Report) -> tuple[int | None, int]:
    if table is None:
        return None, 1
    f = read_fields(table, _REPEAT, f"{where}.repeat.", report)
    for key in ("every_days", "count"):
        if key in f and f[key] < 1:
            report(f"{where}.repeat.{key}", "must be at least 1", f"set {key} = {_REPEAT[key].example}")
    return f.get("every_days"), f.get("count", 1)


def _check_internal_and_closing(specs: list[tuple[int, MeetingSpec]], report: Report) -> None:
    """An internal meeting invites no customer role; one closing meeting at most, with the customer."""
    for index, spec in specs:
        customers = [r for r in (*spec.attendees, *spec.optional) if r.startswith("customer:")]
        if spec.internal and customers:
            report(f"meetings[{index}].internal", f"an internal meeting invites {', '.join(customers)}",
                   "remove the customer roles from attendees and optional, or set internal = false")
        if spec.closes and spec.internal:
            report(f"meetings[{index}].closes", "the closing meeting is the customer's: it cannot be internal",
                   "close on a meeting with the customer")
    closing = [index for index, spec in specs if spec.closes]
    for index in closing[1:]:
        report(f"meetings[{index}].closes", f"meetings[{closing[0]}] closes the engagement already", "mark one meeting closes = true")


def _check_anchors(specs: list[tuple[int, MeetingSpec]], length: int | None, report: Report) -> None:
    """Anchors on unknown meetings, cycles (with their path), and windows of meetings rooted at the
    start that reach before it or, with their repeats, past ``length_days``."""
    by_key = {s.key: (i, s) for i, s in specs if s.key}
    for index, spec in specs:
        if spec.anchor_meeting is not None and spec.anchor_meeting not in by_key:
            report(f"meetings[{index}].anchor", f"no meeting {spec.anchor_meeting!r} in this playbook",
                   f"use one of: {', '.join(by_key) or '(none)'}")
    unresolved: set[str] = set()  # in a cycle, or anchored (perhaps through others) on an unknown meeting or a cycle
    cycles: set[frozenset[str]] = set()
    for index, spec in specs:
        path, key = [], spec.key
        while key in by_key and key not in path and key not in unresolved:
            path.append(key)
            key = by_key[key][1].anchor_meeting
        if key is None:
            continue
        unresolved.update(path)
        if key in path and frozenset(path[path.index(key):]) not in cycles:
            cycle = path[path.index(key):]
            cycles.add(frozenset(cycle))
            first = min(cycle, key=lambda k: by_key[k][0])
            cycle = cycle[cycle.index(first):] + cycle[:cycle.index(first)]
            report(f"meetings[{by_key[first][0]}].anchor", "anchors form a cycle: " + " -> ".join(cycle + cycle[:1]),
                   'anchor one of them on "start" or "golive"')
    ranges: dict[str, tuple[str, int, int]] = {}

    def resolve(key: str) -> tuple[str, int, int]:
        """(root anchor, earliest, latest business day from it) of meeting ``key``."""
        if key not in ranges:
            spec = by_key[key][1]
            root, low, high = resolve(spec.anchor_meeting) if spec.anchor_meeting else (spec.anchor, 0, 0)
            ranges[key] = (root, low + spec.window.earliest, high + spec.window.latest)
        return ranges[key]

    reported: set[str] = set()  # a meeting anchored on one already reported is not reported again
    for index, spec in specs:
        if not spec.key or spec.key in unresolved or by_key[spec.key][1] is not spec or resolve(spec.key)[0] != "start":
            continue
        if spec.anchor_meeting in reported:
            reported.add(spec.key)
            continue
        _, low, high = resolve(spec.key)
        last = high + (spec.repeat_every or 0) * (spec.repeat_count - 1)
        via = f"anchored on {spec.anchor_meeting}, " if spec.anchor_meeting else ""
        if low < 0 or length is not None and last > length:
            reported.add(spec.key)
        if low < 0:
            report(f"meetings[{index}].window", f"{via}it can fall {-low} business day(s) before the engagement starts",
                   f"raise earliest to {spec.window.earliest - low} or more")
        elif length is not None and last > length:
            report(f"meetings[{index}].window", f"{via}it can fall on business day {last} after the start"
                   f"{' (its last occurrence)' if spec.repeat_count > 1 else ''}, past length_days = {length}",
                   "narrow the window, repeat it fewer times, or raise length_days")


# --- templates ----------------------------------------------------------------------------------

def check_templates(emails: list[tuple[str, str]], templates_dir: Path) -> list[Problem]:
    """A problem for each (where, template) of ``emails`` whose template pair is missing from
    ``templates_dir`` or does not compile; each file is compiled once."""
    problems: list[Problem] = []
    renderer = Renderer(templates_dir)
    compiled: set[str] = set()
    for where, name in emails:
        for missing in renderer.missing([name]):
            problems.append(Problem(where, f"no template {templates_dir.name}/{missing}",
                                    f"create {templates_dir / missing} or name an existing template"))
        for file in sorted({f"{name}.txt", f"{name}.html"} - compiled - set(renderer.missing([name]))):
            compiled.add(file)
            try:
                renderer.env.get_template(file)
            except jinja2.TemplateError as exc:
                problems.append(Problem(f"{templates_dir.name}/{file}: line {getattr(exc, 'lineno', None) or '?'}",
                                        f"the template does not compile: {exc}", "correct its Jinja2 syntax"))
    return problems
