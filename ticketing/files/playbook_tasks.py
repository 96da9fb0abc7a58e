"""Reading and checking a playbook's ``[[tasks]]`` into :class:`~ticketing.core.tasks.TaskSpec` values.

::

    [[tasks]]
    key = "tools-access"             # unique among the tasks ([a-z0-9_-])
    name = "Access to your Jira and Confluence"
    phase = "pre-engagement"         # optional, one of phases
    owner = "customer:it"            # engineer, project_manager, sales_rep, customer:all or customer:<role>
    anchor = "meeting:kick-off"      # "start", "golive", "meeting:<key>" or "task:<key>"
    offset_days = -1                 # business days after (negative: before) the anchor's day
    depends_on = ["governance"]      # optional: tasks to be done first
    customer_visible = true          # optional (false): listed in the customer's mail

Every problem is reported as the rest of :mod:`ticketing.files.playbooks` reports them, keyed
``tasks[INDEX].FIELD`` and naming the task: unknown keys, a bad owner, an unknown phase, anchor or
dependency, a task anchored on or depending on itself, anchors and dependencies in a cycle, and a
task anchored on the start due outside the engagement.
"""
from __future__ import annotations

import re

from ticketing.core.playbooks import canonical_role
from ticketing.core.tasks import OWNER_ROLES, TASK_ANCHORS, TaskSpec
from ticketing.files.playbook_fields import Key, Report, read_fields

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TASK = {
    "key": Key("str", True, '"tools-access"'), "name": Key("str", True, '"Access to your Jira and Confluence"'),
    "phase": Key("str", False, '"setup"'), "owner": Key("str", True, '"engineer" or "customer:it"'),
    "anchor": Key("str", True, '"start"'), "offset_days": Key("int", True, "5"),
    "depends_on": Key("strs", False, '["governance"]'), "customer_visible": Key("bool", False, "true"),
}


def read_tasks(entries: tuple[dict, ...], phases: tuple[str, ...], meetings: set[str], length: int | None,
               report: Report) -> list[tuple[int, TaskSpec]]:
    """(index, spec) of each task of ``entries``; every problem is reported, a task with one is still returned."""
    specs: list[tuple[int, TaskSpec]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"tasks[{index}]"
        f = read_fields(entry, _TASK, f"{where}.", report)
        key = f.get("key", "")
        said = f"task {key!r}: " if key else ""

        def problem(field: str, message: str, fix: str) -> None:
            report(f"{where}.{field}", said + message, fix)

        if key and not _KEY.match(key):
            problem("key", "not a plain name", "use lower-case letters, digits, - and _")
        elif key in seen:
            problem("key", "the key is used twice", "give each task its own key")
        seen.add(key)
        owner = canonical_role(f["owner"]) if "owner" in f else None
        if "owner" in f and (owner is None or owner == "manager"):
            problem("owner", f"unknown owner {f['owner']!r}",
                    f"use {', '.join(OWNER_ROLES)}, customer:all or customer:<contact role> (e.g. customer:it)")
        phase = f.get("phase")
        if phase is not None and phase not in phases:
            problem("phase", f"phase {phase!r} is not declared",
                    f"add it to phases = [...] or use one of: {', '.join(phases) or '(none declared)'}")
        anchor, offset = f.get("anchor", ""), f.get("offset_days", 0)
        _check_anchor(anchor, offset, meetings, length, problem)
        specs.append((index, TaskSpec(key=key, name=f.get("name", ""), owner=owner or "", anchor=anchor,
                                      offset_days=offset, phase=phase, depends_on=f.get("depends_on", ()),
                                      customer_visible=f.get("customer_visible", False))))
    _check_references(specs, report)
    return specs


def _check_anchor(anchor: str, offset: int, meetings: set[str], length: int | None, problem) -> None:
    if not anchor or anchor in TASK_ANCHORS or anchor.startswith("task:"):
        if anchor == "start" and (offset < 0 or length is not None and offset > length):
            problem("offset_days", f"business day {offset} after the start is outside the engagement",
                    "use an offset from 0 to length_days, or anchor it on a meeting or the go-live")
    elif anchor.startswith("meeting:"):
        if anchor.removeprefix("meeting:") not in meetings:
            problem("anchor", f"no meeting {anchor.removeprefix('meeting:')!r} in this playbook",
                    f"use one of: {', '.join(sorted(meetings)) or '(none)'}")
    else:
        problem("anchor", f"unknown anchor {anchor!r}",
                'use "start", "golive", "meeting:<key of a meeting>" or "task:<key of another task>"')


def _check_references(specs: list[tuple[int, TaskSpec]], report: Report) -> None:
    """Anchor tasks and dependencies that are unknown, the task itself or repeated; then cycles."""
    by_key = {s.key: (i, s) for i, s in specs if s.key}
    known = ", ".join(by_key) or "(none)"
    for index, spec in specs:
        if spec.anchor_task is not None and (spec.anchor_task not in by_key or spec.anchor_task == spec.key):
            what = "itself" if spec.anchor_task == spec.key else f"no task {spec.anchor_task!r} in this playbook"
            report(f"tasks[{index}].anchor", f"task {spec.key!r}: anchored on {what}", f"anchor it on another task: {known}")
        seen: set[str] = set()
        for n, other in enumerate(spec.depends_on):
            where = f"tasks[{index}].depends_on[{n}]"
            if other == spec.key:
                report(where, f"task {spec.key!r}: depends on itself", "remove it from depends_on")
            elif other not in by_key:
                report(where, f"task {spec.key!r}: no task {other!r} in this playbook", f"use one of: {known}")
            elif other in seen:
                report(where, f"task {spec.key!r}: {other!r} is listed twice", "list it once")
            seen.add(other)
    _check_cycles(by_key, report)


def _check_cycles(by_key: dict[str, tuple[int, TaskSpec]], report: Report) -> None:
    """One problem per cycle of anchors and dependencies, on its task listed first, with its path."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    cycles: set[frozenset[str]] = set()

    def visit(key: str, path: list[str]) -> None:
        state[key] = "open"
        path.append(key)
        for other in by_key[key][1].follows:
            if other == key or other not in by_key:
                continue  # reported as unknown or as itself
            if state.get(other) == "open":
                cycle = path[path.index(other):]
                if frozenset(cycle) not in cycles:
                    cycles.add(frozenset(cycle))
                    first = min(cycle, key=lambda k: by_key[k][0])
                    cycle = cycle[cycle.index(first):] + cycle[:cycle.index(first)]
                    report(f"tasks[{by_key[first][0]}].depends_on",
                           f"task {first!r}: anchors and dependencies form a cycle: {' -> '.join(cycle + cycle[:1])}",
                           "anchor one of them elsewhere or drop a dependency")
            elif other not in state:
                visit(other, path)
        path.pop()
        state[key] = "done"

    for key in by_key:
        if key not in state:
            visit(key, [])
