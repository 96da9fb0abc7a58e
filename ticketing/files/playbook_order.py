"""Checking a playbook's ``after`` constraints: the meetings a meeting must follow besides its anchor.

``after = ["developer-workflow"]`` on the debrief: each name must be another meeting of the same
playbook, listed once; together with the anchors they must not form a cycle (a cycle of anchors
alone is reported by the anchor check); and a meeting rooted at the start cannot follow one rooted
at the go-live, or it would wait for the go-live date too. Every problem is reported with its key
and a fix, as the rest of :mod:`ticketing.files.playbooks`.
"""
from __future__ import annotations

from typing import Callable

from ticketing.core.playbooks import MeetingSpec

Report = Callable[[str, str, str], None]  # (key, message, fix)


def check_after(specs: list[tuple[int, MeetingSpec]], report: Report) -> None:
    """Report unknown, repeated and self references in ``after``, cycles through them, and a meeting
    rooted at the start that follows one rooted at the go-live."""
    by_key = {s.key: (i, s) for i, s in specs if s.key}
    for index, spec in specs:
        seen: set[str] = set()
        for n, key in enumerate(spec.after):
            where = f"meetings[{index}].after[{n}]"
            if key == spec.key:
                report(where, "a meeting cannot follow itself", "remove it from after")
            elif key not in by_key:
                report(where, f"no meeting {key!r} in this playbook", f"use one of: {', '.join(by_key) or '(none)'}")
            elif key in seen:
                report(where, f"{key!r} is listed twice", "list each meeting once")
            seen.add(key)
    _check_cycles(by_key, report)
    for index, spec in specs:
        if _root(spec, by_key) != "start":
            continue
        waiting = [k for k in spec.after if k in by_key and k != spec.key and _root(by_key[k][1], by_key) == "golive"]
        if waiting:
            report(f"meetings[{index}].after", f"it is rooted at the start but follows {', '.join(waiting)}, "
                   "rooted at the go-live: it would wait for the go-live date",
                   'anchor it on "golive" (or on a go-live meeting), or remove those from after')


def _root(spec: MeetingSpec, by_key: dict[str, tuple[int, MeetingSpec]]) -> str | None:
    """"start" or "golive" where the anchors of ``spec`` lead; None for an unknown anchor or a cycle."""
    seen: set[str] = set()
    while spec.anchor_meeting is not None:
        if spec.key in seen or spec.anchor_meeting not in by_key:
            return None
        seen.add(spec.key)
        spec = by_key[spec.anchor_meeting][1]
    return spec.anchor


def _check_cycles(by_key: dict[str, tuple[int, MeetingSpec]], report: Report) -> None:
    """Each cycle of anchors and ``after`` that goes through an ``after`` once, with its path."""
    edges = {key: [(k, "after") for k in spec.after if k in by_key and k != key]
             + ([(spec.anchor_meeting, "anchor")] if spec.anchor_meeting in by_key else [])
             for key, (_, spec) in by_key.items()}
    reported: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(key: str, path: list[tuple[str, str]]) -> None:
        keys = [k for k, _ in path]
        if key in keys:
            cycle = path[keys.index(key):]
            if any(kind == "after" for _, kind in cycle):
                names = [k for k, _ in cycle]
                if frozenset(names) not in reported:
                    reported.add(frozenset(names))
                    first = min(names, key=lambda k: by_key[k][0])
                    names = names[names.index(first):] + names[:names.index(first)]
                    report(f"meetings[{by_key[first][0]}].after", "anchors and after form a cycle: "
                           + " -> ".join(names + names[:1]), "remove one of those meetings from after")
            return
        if key in done:
            return
        for target, kind in edges[key]:
            visit(target, [*path, (key, kind)])
        done.add(key)

    for key in by_key:
        visit(key, [])

