"""Choosing the engineer for a ticket (pure).

A ticket goes to the engineer of its account. Otherwise (a new account, an unknown sender, or
the account's engineer away) it goes to the pool: the engineer with the fewest open tickets,
ties to whoever was assigned least recently, skipping those out of office and, for urgent
priorities, those outside working hours when a colleague is inside theirs. When the engagement's
playbook has its own calendar (QuickStart: 8-5 Pacific), the pool is first narrowed to the engineers
whose hours cover it (``serves``), when some do and some do not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

URGENT = ("P0", "P1")
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Candidate:
    email: str
    open_load: int
    last_assigned_at: datetime | None
    out_of_office: bool
    working_now: bool
    #: Whether the engineer's hours cover the playbook's calendar (True when it has none).
    serves: bool = True


@dataclass(frozen=True)
class Assignment:
    engineer: str | None
    reason: str
    candidates: tuple[Candidate, ...] = ()

    def as_json(self) -> dict:
        return {
            "engineer": self.engineer,
            "reason": self.reason,
            "candidates": [
                {
                    "email": c.email, "open_load": c.open_load, "out_of_office": c.out_of_office,
                    "working_now": c.working_now, "serves": c.serves,
                    "last_assigned_at": c.last_assigned_at.isoformat() if c.last_assigned_at else None,
                }
                for c in self.candidates
            ],
        }


def oncall_reason(priority: str, assignment: Assignment) -> str | None:
    """Why a new ticket of ``priority`` should also page on-call, or None.

    Only urgent priorities (P0, P1), and only outside working hours: when the engineer it went to is
    not inside theirs now (routing prefers one who is, so nobody is) or nobody could take it.
    """
    if priority not in URGENT:
        return None
    if assignment.engineer is None:
        return f"a {priority} that no engineer could take"
    chosen = next((c for c in assignment.candidates if c.email.lower() == assignment.engineer.lower()), None)
    if chosen is None or chosen.working_now:
        return None
    return f"a {priority} outside the working hours of {chosen.email}"


def choose_engineer(priority: str, account_engineer: str | None, candidates: tuple[Candidate, ...]) -> Assignment:
    """Return who gets the ticket and why; ``engineer`` is None when nobody can take it."""
    by_email = {c.email.lower(): c for c in candidates}
    fallback = ""
    if account_engineer:
        owner = by_email.get(account_engineer.lower())
        if owner is None:
            fallback = f"the account's engineer {account_engineer} is not a configured engineer; "
        elif owner.out_of_office:
            fallback = f"the account's engineer {owner.email} is out of office; "
        else:
            return Assignment(owner.email, "the engineer of the account", candidates)
    eligible = [c for c in candidates if not c.out_of_office]
    if not eligible:
        return Assignment(None, fallback + "every engineer is out of office: left unassigned", candidates)
    pool = "the pool"
    serving = [c for c in eligible if c.serves]
    if serving and len(serving) < len(eligible):
        pool = "the engineers whose hours cover the playbook's calendar"
        eligible = serving
    if priority in URGENT:
        working = [c for c in eligible if c.working_now]
        if working and len(working) < len(eligible):
            pool = f"the engineers inside working hours ({priority})"
            eligible = working
    chosen = min(eligible, key=lambda c: (c.open_load, c.last_assigned_at or _NEVER, c.email))
    ties = [c for c in eligible if c.open_load == chosen.open_load]
    why = f"least open load ({chosen.open_load}) in {pool}"
    if len(ties) > 1:
        why += ", assigned least recently among equals"
    return Assignment(chosen.email, fallback + why, candidates)
