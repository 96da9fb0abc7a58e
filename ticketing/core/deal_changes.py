"""What a contract-closed notice sent again for the same deal changes in its engagement (pure).

A CRM sends a deal again when someone edits it: a new go-live date, a contact added or taken off,
another engineer, another package. :func:`deal_changes` compares the engagement as it stands
(:class:`DealSoFar`) with the new notice and returns the :class:`DealChanges` the onboarding acts
on. Absence is not removal: a notice that names no go-live, engineer, package or contacts leaves
those as they are; contacts are taken off only by a notice that lists contacts without them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ticketing.core.notices import Notice, NoticeContact
from ticketing.core.playbooks import tier_key


@dataclass(frozen=True)
class DealSoFar:
    """The engagement of a deal as it stands."""

    engineer: str | None
    tier: str | None
    golive_date: date | None
    #: The contacts the earlier notice of the deal listed (lower case).
    listed: frozenset[str]
    #: The account's contacts now (lower case): configured ones, and those of earlier notices.
    contacts: frozenset[str]


@dataclass(frozen=True)
class DealChanges:
    golive_date: date | None = None  # the new go-live date
    added: tuple[NoticeContact, ...] = ()  # to welcome and invite to the meetings ahead
    removed: tuple[str, ...] = ()  # to cancel from the meetings ahead
    engineer: str | None = None  # the engineer the notice names now
    package: str | None = None  # the package the notice names now (the playbook is not switched)

    def __bool__(self) -> bool:
        return bool(self.golive_date or self.added or self.removed or self.engineer or self.package)


def deal_changes(before: DealSoFar, notice: Notice) -> DealChanges:
    """The changes ``notice`` brings to the engagement ``before`` describes (empty when none)."""
    listed_now = {c.email.lower() for c in notice.contacts}
    removed = tuple(sorted((before.listed - listed_now) & before.contacts)) if listed_now else ()
    added = tuple(c for c in notice.contacts if c.email.lower() not in before.contacts)
    engineer = notice.engineer if notice.engineer and notice.engineer.lower() != (before.engineer or "").lower() else None
    package = notice.tier if notice.tier and tier_key(notice.tier) != tier_key(before.tier or "") else None
    golive = notice.golive_date if notice.golive_date and notice.golive_date != before.golive_date else None
    return DealChanges(golive_date=golive, added=added, removed=removed, engineer=engineer, package=package)
