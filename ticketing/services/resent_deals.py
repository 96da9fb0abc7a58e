"""A deal the CRM sends again: its changes carried into the engagement (see README, "Contract-closed
notices").

:func:`ticketing.core.deal_changes.deal_changes` says what changed; this carries it out in order,
so that nobody receives mail about a meeting that was never theirs: contacts taken off the deal
are cancelled from the meetings ahead first; a new engineer takes the meetings over; a new go-live
re-plans (the contacts who stay get the updates); contacts new to the deal are then welcomed and
invited to the meetings still ahead; a new package is put to the engineer, never switched. The
engineer is told everything in one mail, and the hand-off ticket keeps it as a note.
"""
from __future__ import annotations

from datetime import datetime

from mailer import Address
from ticketing.config import Config
from ticketing.core.deal_changes import DealChanges, DealSoFar, deal_changes
from ticketing.core.domain import Engagement, EventKind
from ticketing.core.mails import Draft, Mails, cause
from ticketing.core.notices import Notice
from ticketing.services.onboarding import Onboarding
from ticketing.services.outbox import Outbox
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class ResentDeals:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, onboarding: Onboarding | None):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.onboarding = onboarding

    def received(self, engagement: Engagement, notice: Notice, actor: str, log: TicketLog, now: datetime) -> tuple[str, ...]:
        """Carry ``notice``'s changes into ``engagement``; return them in words (empty when none)."""
        account = self.store.get_account(engagement.account_id)
        listed = {c["email"].lower() for c in self.store.engagement_details(engagement.id).get("contacts", [])}
        before = DealSoFar(engagement.engineer, engagement.tier, engagement.golive_date, frozenset(listed),
                           frozenset(c.email.lower() for c in account.contacts))
        changes = deal_changes(before, notice)
        self.store.add_domains(engagement.account_id, notice.domains)
        self.store.set_engagement_details(engagement.id, notice.as_json())
        if not changes:
            return ()
        lines = self._apply(engagement, notice, changes, log, now)
        engagement = self.store.get_engagement(engagement.id)
        if engagement.ticket_id:
            log.event(engagement.ticket_id, EventKind.NOTE, now, actor, text="The CRM sent the deal again: " + "; ".join(lines))
        self._tell_engineer(engagement, lines, now)
        return tuple(lines)

    def _apply(self, engagement: Engagement, notice: Notice, changes: DealChanges, log: TicketLog,
               now: datetime) -> list[str]:
        lines: list[str] = []
        onboarding = self.onboarding
        if changes.removed:
            self.store.detach_contacts(engagement.account_id, changes.removed)
            titles = onboarding.uninvite(engagement.id, set(changes.removed), now) if onboarding else []
            lines.append(f"no longer listed: {', '.join(changes.removed)}"
                         + (f"; cancelled from {_count(titles)}" if titles else ""))
        if changes.engineer:
            lines.append(self._hand_over(engagement, changes.engineer, log, now))
        if changes.golive_date:
            self.store.set_golive(engagement.id, changes.golive_date)
            result = onboarding.replan(engagement.id, now) if onboarding else None
            lines.append(f"go-live {changes.golive_date.isoformat()} (was {engagement.golive_date or 'not known'})")
            if result is not None:
                lines += [*result.changes, *result.warnings, *(f"not placed: {u}" for u in result.unplaced)]
        if changes.added:
            for contact in changes.added:
                self.store.save_contact(engagement.account_id, contact.email, contact.name, contact.role)
            emails = {c.email.lower() for c in changes.added}
            titles = onboarding.invite_newcomers(engagement.id, emails, now) if onboarding else []
            names = ", ".join(f"{c.name} <{c.email}>" if c.name else c.email for c in changes.added)
            lines.append(f"new contact{'s' if len(changes.added) > 1 else ''}: {names}; welcomed"
                         + (f" and invited to {_count(titles)}" if titles else ""))
        if changes.package:
            lines.append(self._package(engagement, changes.package))
        return lines

    def _hand_over(self, engagement: Engagement, engineer: str, log: TicketLog, now: datetime) -> str:
        person = self.config.engineer(engineer)
        if person is None:
            return f"the notice names {engineer} as the engineer, who is not a configured engineer: nothing handed over"
        previous = engagement.engineer
        self.store.set_engagement_engineer(engagement.id, person.email)
        if engagement.ticket_id:
            self.store.update_ticket(engagement.ticket_id, now, assignee=person.email, assigned_at=now)
            log.event(engagement.ticket_id, EventKind.ASSIGNED, now, "", engineer=person.email,
                      reason="named by the deal sent again")
        # meetings that would overlap hers move first: the database never books an engineer twice
        moved = self.onboarding.clear_clashes(engagement.id, now).changes if self.onboarding else ()
        titles = self.onboarding.hand_over(engagement.id, previous, now) if self.onboarding else []
        return (f"engineer {person.name} <{person.email}> takes over from {previous or 'nobody'}"
                + (f": {_count(titles)} handed over" if titles else "")
                + (f" ({'; '.join(moved)}, as they overlapped {person.name}'s other meetings)" if moved else ""))

    def _package(self, engagement: Engagement, package: str) -> str:
        current = engagement.playbook or "no playbook"
        matching = self.onboarding.playbook_for(package) if self.onboarding else None
        choices = ", ".join(sorted(self.onboarding.playbooks)) if self.onboarding else ""
        if matching is not None and matching.name != engagement.playbook:
            return (f"package now {package!r}, which playbook {matching.name} serves; the engagement still follows "
                    f"{current}: reply #playbook {matching.name} to switch")
        if matching is None:
            return (f"package now {package!r}, which no playbook matches; the engagement still follows {current} "
                    f"(reply #playbook NAME to switch, one of {choices})")
        return f"package now {package!r}; the playbook {current} still serves it"

    def _tell_engineer(self, engagement: Engagement, lines: list[str], now: datetime) -> None:
        email = engagement.engineer or (self.config.managers[0].email if self.config.managers else None)
        if not email:
            return
        person = self.config.person(email)
        headline = f"The CRM sent the deal of {engagement.account} again: what changed"
        body = self.mails.render(
            "planning", headline=headline, engagement_id=engagement.id, account=engagement.account,
            playbook_title=engagement.playbook or "no playbook", changes=lines, warnings=[], unplaced=[],
            ask_golive=False, ask="",
        )
        draft = Draft("planning", f"deal-update.{engagement.id}.{self.store.count_engagement_mail(engagement.id, 'planning') + 1}.{cause(*lines)}",
                      (Address(person.name if person else "", email),), headline, body, engagement.ticket_id,
                      auto_submitted="auto-generated")
        self.outbox.queue(draft, now, engagement_id=engagement.id)


def _count(titles: list[str]) -> str:
    return f"{len(titles)} meeting{'s' if len(titles) != 1 else ''} ahead ({', '.join(titles)})"
