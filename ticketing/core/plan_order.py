"""Meetings that must follow others, and go-live dates that contradict the plan (pure).

A meeting follows, besides its anchor, the meetings of its ``after`` (the debrief after the developer
consultation) and, when it is rooted at the go-live, every meeting rooted at the start of an earlier
phase of the playbook (the pre-launch review after the development phase's consultation, the soft
launch after the trainings). The planner keeps to ``after`` when the window allows, else places the
meeting as well as it can; either way a meeting that ends up before one it follows, or outside its
window because of one, gets a warning that says what, when and why, for the engineer's planning mail:

    the go-live 2027-01-05 is before "Developer consultation" (planned 2027-01-12): "Pre-launch
    review" is on 2027-01-04, before it; consider moving the go-live date (reply #golive YYYY-MM-DD)
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Mapping, Protocol
from zoneinfo import ZoneInfo

from ticketing.core.playbooks import MeetingSpec, Playbook


class Placed(Protocol):
    """A placed occurrence: :class:`ticketing.core.planner.Placement` (not imported: the planner imports this)."""

    spec_key: str
    start: datetime
    end: datetime


def predecessors(playbook: Playbook, spec: MeetingSpec) -> tuple[str, ...]:
    """The keys of the meetings ``spec`` must follow, besides its anchor: its ``after``, then, for a
    meeting rooted at the go-live, those rooted at the start in an earlier phase."""
    implicit: list[str] = []
    if spec.phase in playbook.phases and playbook.root_anchor(spec.key) == "golive":
        rank = playbook.phases.index(spec.phase)
        implicit = [s.key for s in playbook.meetings
                    if s.phase in playbook.phases and playbook.phases.index(s.phase) < rank
                    and playbook.root_anchor(s.key) == "start"]
    return tuple(dict.fromkeys((*spec.after, *implicit)))


def last_of(key: str, placed: Mapping[str, Placed]) -> Placed | None:
    """The occurrence of meeting ``key`` that ends last, or None when none is placed."""
    return max((p for p in placed.values() if p.spec_key == key), key=lambda p: p.end, default=None)


def before_predecessors(playbook: Playbook, placed: Mapping[str, Placed], golive: date | None, tz: ZoneInfo,
                        names: Mapping[str, str]) -> dict[str, str]:
    """A warning per meeting key whose first occurrence starts before a meeting it follows ends."""
    warnings = {}
    for spec in playbook.meetings:
        first = placed.get(spec.key)
        if first is None:
            continue
        blocking = [p for k in predecessors(playbook, spec) if (p := last_of(k, placed)) and first.start < p.end]
        if blocking:
            other = max(blocking, key=lambda p: p.end)
            warnings[spec.key] = before_it(spec, first, other, playbook.root_anchor(spec.key), golive, tz, names)
    return warnings


def before_it(spec: MeetingSpec, placement: Placed, other: Placed, root: str, golive: date | None, tz: ZoneInfo,
              names: Mapping[str, str]) -> str:
    day, other_day = _day(placement.start, tz), _day(other.start, tz)
    if root == "golive" and golive is not None:
        clash = "is before" if golive <= other.start.astimezone(tz).date() else "leaves no time for it after"
        return (f"the go-live {golive.isoformat()} {clash} {_name(other.spec_key, names)} (planned {other_day}): "
                f"{_name(spec.key, names)} is on {day}, before it; consider moving the go-live date (reply #golive YYYY-MM-DD)")
    return (f"{_name(spec.key, names)} is on {day}, before {_name(other.spec_key, names)} (planned {other_day}), "
            "which it must follow: its window leaves no time after it")


def after_it(spec: MeetingSpec, placement: Placed, other: Placed, root: str, golive: date | None, tz: ZoneInfo,
             names: Mapping[str, str]) -> str:
    """Why ``placement`` is later than its window: it follows ``other``."""
    day, other_day = _day(placement.start, tz), _day(other.start, tz)
    window = f"{spec.window.earliest} to {spec.window.latest} business days after"
    if root == "golive" and golive is not None and spec.anchor == "golive":
        return (f"the go-live {golive.isoformat()} is before {_name(other.spec_key, names)} (planned {other_day}), "
                f"which {_name(spec.key, names)} must follow: it is on {day}, after it, not {window} the go-live; "
                "consider moving the go-live date (reply #golive YYYY-MM-DD)")
    return (f"{_name(spec.key, names)} must follow {_name(other.spec_key, names)} (planned {other_day}): it is on "
            f"{day}, after it, not {window} its anchor")


def _day(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).date().isoformat()


def _name(key: str, names: Mapping[str, str]) -> str:
    return f'"{names.get(key, key)}"'
