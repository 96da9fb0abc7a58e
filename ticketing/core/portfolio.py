"""The weekly summary's portfolio (pure): the manager's engagements by health, the go-lives ahead and
the overdue tasks by owner.

The service gives each engagement's facts (:class:`EngagementFacts`: its health as
:mod:`ticketing.core.metrics` judged it, with the reasons, and its overdue tasks with their owners
named); :func:`build_portfolio` sorts them for the week:

- *health*: late, then at risk, then on track; within each, the most reasons first, then by account.
  An engagement closed before the summarised week began is left out (it is shown, marked closed,
  in the summary of the week it closed, and drops out after it).
- *go-lives*: planned dates from today (the manager's) for :data:`GOLIVE_DAYS` days, of engagements
  not live and not closed, soonest first.
- *overdue tasks by owner*: every overdue task of the engagements shown, grouped by who owns it
  (an engineer by name, a customer role as "Acme (IT)"), the owner with the most first, each
  owner's tasks most overdue first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

#: Go-lives from today up to, not including, today + 30 days.
GOLIVE_DAYS = 30
HEALTH_ORDER = ("late", "at_risk", "on_track", "")


@dataclass(frozen=True)
class OverdueTask:
    """A task past its due date; ``owner`` says who in words ("Ana Ruiz", "Globex (IT)")."""

    key: str
    name: str
    owner: str
    due: date
    days_overdue: int


@dataclass(frozen=True)
class EngagementFacts:
    """An onboarding engagement; ``planned_days`` is the playbook's length in business days.

    ``health`` is its verdict ("on_track", "at_risk", "late"; "" when not measured) with its
    ``reasons`` in words; ``closed_on`` the manager's date it closed, None while active.
    """

    id: int
    account: str
    engineer: str | None
    playbook: str | None
    golive: date | None
    business_days_elapsed: int
    planned_days: int | None
    health: str = ""
    reasons: tuple[str, ...] = ()
    overdue_tasks: tuple[OverdueTask, ...] = ()
    live_on: date | None = None
    closed_on: date | None = None

    @property
    def health_label(self) -> str:
        return self.health.replace("_", " ") or "not measured"

    def as_json(self) -> dict:
        return {"engagement": self.id, "account": self.account, "engineer": self.engineer, "playbook": self.playbook,
                "golive": _iso(self.golive), "business_days_elapsed": self.business_days_elapsed,
                "planned_days": self.planned_days, "health": self.health or None, "reasons": list(self.reasons),
                "live_on": _iso(self.live_on), "closed_on": _iso(self.closed_on),
                "overdue_tasks": [{"key": t.key, "name": t.name, "owner": t.owner, "due": t.due.isoformat(),
                                   "days_overdue": t.days_overdue} for t in self.overdue_tasks]}


@dataclass(frozen=True)
class Portfolio:
    engagements: tuple[EngagementFacts, ...] = ()  # late, at risk, on track
    golives: tuple[EngagementFacts, ...] = ()  # in the next 30 days, soonest first
    #: (owner, ((engagement, task), ...)) the owner with the most tasks first
    overdue_by_owner: tuple[tuple[str, tuple[tuple[EngagementFacts, OverdueTask], ...]], ...] = field(default=())

    def count(self, health: str) -> int:
        return sum(1 for e in self.engagements if e.health == health)

    def as_json(self) -> dict:
        return {"engagements": [e.as_json() for e in self.engagements],
                "golives": [{"engagement": e.id, "account": e.account, "golive": _iso(e.golive), "health": e.health or None}
                            for e in self.golives],
                "overdue_by_owner": {owner: [{"engagement": e.id, "account": e.account, "task": t.key,
                                              "due": t.due.isoformat(), "days_overdue": t.days_overdue}
                                             for e, t in items] for owner, items in self.overdue_by_owner}}


def build_portfolio(engagements: tuple[EngagementFacts, ...], week_start: date, today: date) -> Portfolio:
    """The portfolio of ``engagements`` for the summary of the week starting ``week_start``, on the
    manager's date ``today`` (see the module docstring)."""
    shown = [e for e in engagements if e.closed_on is None or e.closed_on >= week_start]
    ordered = sorted(shown, key=lambda e: (_rank(e.health), -len(e.reasons), e.account.casefold(), e.id))
    horizon = today + timedelta(days=GOLIVE_DAYS)
    golives = sorted((e for e in shown if e.golive and e.live_on is None and e.closed_on is None
                      and today <= e.golive < horizon), key=lambda e: (e.golive, e.id))
    owners: dict[str, list[tuple[EngagementFacts, OverdueTask]]] = {}
    for engagement in ordered:
        for task in engagement.overdue_tasks:
            owners.setdefault(task.owner, []).append((engagement, task))
    grouped = sorted(((owner, tuple(sorted(items, key=lambda p: (-p[1].days_overdue, p[0].account, p[1].key))))
                      for owner, items in owners.items()), key=lambda g: (-len(g[1]), g[0].casefold()))
    return Portfolio(tuple(ordered), tuple(golives), tuple(grouped))


def _rank(health: str) -> int:
    return HEALTH_ORDER.index(health) if health in HEALTH_ORDER else len(HEALTH_ORDER)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
