"""A ticket's event log as the SLA clocks read it (pure): its order, its states, and where each clock runs.

:func:`read_log` sorts and de-duplicates the events into a :class:`Log`; :func:`first_response_run`,
:func:`resolution_run` and :func:`next_response_run` say where each clock of :mod:`ticketing.core.sla`
runs (a :class:`Run`: start, stop, pauses); :func:`priority_at` says which priority was in force at a
moment. The rules of each clock are drawn in :mod:`ticketing.core.sla`.

The event log
    Events may come in any order: they are sorted by time (stably, so the order of events at one
    instant is kept) and exact duplicates (time, kind, detail) are dropped. Every clock starts at the
    first ``created`` event, the moment the customer's first message reached our server; without one,
    at the first event. Events before that start (in the sorted order) are ignored. Any object with
    ``at``, ``kind`` and ``detail`` will do, so :class:`~ticketing.core.domain.TicketEvent` passes as is.
    All events count whatever ``now`` is; to see a clock as it stood at some past moment, pass only
    the events up to it.

The ticket's state
    The log is read as a state machine that starts *open*: ``pending`` makes it *pending*,
    ``resolved`` makes it *resolved*, ``reopened`` makes it *open*, and so does a ``customer_replied``
    on a pending or resolved ticket (the help desk reopens it then, and logs ``reopened`` as well).

Errors: ``ValueError`` for a naive datetime.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

_OPEN, PENDING, _RESOLVED = "open", "pending", "resolved"


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # an EventKind value
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Pause:
    """Time not counted: ``reason`` is ``"pending"`` or ``"resolved"``; ``end`` None while it lasts."""

    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class Run:
    """Where a clock runs: from ``start`` to ``stop`` (None: not stopped), less ``pauses``."""

    start: datetime
    stop: datetime | None
    stopped_by: str | None
    pauses: tuple[Pause, ...]
    origin: str  # why it started, in words


@dataclass(frozen=True)
class Log:
    """The events from the clocks' start, sorted, with the states they went through and the priority changes."""

    start: datetime
    created: bool
    events: tuple[Entry, ...]  # sorted, from the start on
    periods: tuple[tuple[str, datetime, datetime | None], ...]  # (state, since, until)
    changes: tuple[tuple[datetime, str, str], ...]  # (at, previous, priority)


class Entry(NamedTuple):
    """An event as the log reads it: ``kind`` a plain string (an EventKind's value)."""

    at: datetime
    kind: str
    detail: dict


def read_log(events: Iterable[Any]) -> Log | None:
    seen, unique = set(), []
    for event in sorted(events, key=lambda e: aware(e.at)):
        at, kind, detail = event.at, event.kind, event.detail
        kind = getattr(kind, "value", kind)
        key = (at, kind, json.dumps(detail, sort_keys=True, default=str) if detail else "{}")
        if key not in seen:
            seen.add(key)
            unique.append(Entry(at, kind, detail))
    if not unique:
        return None
    first = next((i for i, e in enumerate(unique) if e.kind == "created"), None)
    kept = tuple(unique[first or 0:])
    changes = tuple((e.at, (e.detail or {}).get("previous"), (e.detail or {}).get("priority"))
                    for e in unique if e.kind == "priority_changed")
    return Log(kept[0].at, first is not None, kept, _periods(kept), changes)


def _periods(events: tuple[Any, ...]) -> tuple[tuple[str, datetime, datetime | None], ...]:
    """The ticket's states from the start, as (state, since, until) with until None for the last."""
    state, since, periods = _OPEN, events[0].at, []
    for event in events:
        kind = event.kind
        new = {"pending": PENDING, "resolved": _RESOLVED, "reopened": _OPEN}.get(kind)
        if kind == "customer_replied":
            new = _OPEN
        if new is None or new == state:
            continue
        periods.append((state, since, event.at))
        state, since = new, event.at
    periods.append((state, since, None))
    return tuple(periods)


def _pauses(log: Log, reasons: set[str], start: datetime, stop: datetime | None) -> tuple[Pause, ...]:
    """The periods in one of the states ``reasons``, cut to [start, stop)."""
    pauses = []
    for state, since, until in log.periods:
        if state not in reasons or (stop is not None and since >= stop) or (until is not None and until <= start):
            continue
        end = until if stop is None else min(until or stop, stop)
        if end is None or end > max(since, start):
            pauses.append(Pause(max(since, start), end, state))
    return tuple(pauses)


def _final_resolution(log: Log) -> datetime | None:
    state, since, _ = log.periods[-1]
    return since if state == _RESOLVED else None


def first_response_run(log: Log) -> Run:
    reply = next((e.at for e in log.events if e.kind == "engineer_replied"), None)
    stop, by = (reply, "engineer_replied") if reply is not None else (_final_resolution(log), "resolved")
    by = by if stop is not None else None
    return Run(log.start, stop, by, _pauses(log, {_RESOLVED}, log.start, stop), _origin(log))


def resolution_run(log: Log) -> Run:
    stop = _final_resolution(log)
    return Run(log.start, stop, "resolved" if stop else None, _pauses(log, {PENDING, _RESOLVED}, log.start, stop),
                _origin(log))


def _origin(log: Log) -> str:
    return ("when the customer's first message reached our server" if log.created
            else "at the ticket's first recorded event (there is no 'created' event)")


def next_response_run(log: Log) -> Run | None:
    answered, start, stop = False, None, None
    for event in log.events:
        kind = event.kind
        if kind == "engineer_replied":
            if start is not None and stop is None:
                stop = event.at
            answered = True
        elif kind == "customer_replied" and answered and (start is None or stop is not None):
            start, stop = event.at, None
    if start is None:
        return None
    by = "engineer_replied" if stop is not None else None
    if stop is None:
        resolved = _final_resolution(log)
        stop, by = (resolved, "resolved") if resolved is not None and resolved >= start else (None, None)
    return Run(start, stop, by, _pauses(log, {PENDING, _RESOLVED}, start, stop),
                "by the customer's reply, the oldest one not yet answered")


def priority_at(moment: datetime, log: Log, current: str) -> str:
    before = [priority for at, _, priority in log.changes if at < moment and priority]
    if before:
        return before[-1]
    return next((previous for at, previous, _ in log.changes if at >= moment and previous), current)



def aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"SLA clocks need aware datetimes, not {moment!r}")
    return moment
