"""Contract-closed notices from the CRM: the account, its contacts, the hand-off ticket and the
onboarding engagement (see README, "Contract-closed notices").

A trusted notice (checked by the classifier: the sender is a configured CRM address and, where
required, authenticated) creates or updates the account with its domains and contacts, opens a
hand-off ticket for the engineer the notice names (else the account's, else the routing rule's,
preferring engineers whose hours cover the playbook's own calendar when it has one),
and starts the engagement, which plans the playbook's meetings. A package no playbook matches, or a
notice without contacts, starts no plan: the engineer's hand-off notification asks them to choose.
The same deal sent again updates its engagement (:mod:`ticketing.services.resent_deals`).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from ticketing.config import Config
from ticketing.core.calendars import zone
from ticketing.core.classify import Classification
from ticketing.core.domain import EventKind, MessageKind, TicketKind
from ticketing.core.meeting_calendars import playbook_calendar
from ticketing.core.notices import Notice
from ticketing.core.routing import Assignment
from ticketing.core.words import plan_in_words, zone_label
from ticketing.services.assignment import Assigner
from ticketing.services.inbound import Handled, Inbound
from ticketing.services.onboarding import Onboarding
from ticketing.services.resent_deals import ResentDeals
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class ContractNotices:
    def __init__(self, store: SqlStore, config: Config, assigner: Assigner, onboarding: Onboarding | None = None):
        self.store = store
        self.config = config
        self.assigner = assigner
        #: Plans the engagement's meetings; None for a desk without playbooks.
        self.onboarding = onboarding
        self.resent = ResentDeals(store, config, assigner.mails, assigner.outbox, onboarding)
        self.internal = {e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}

    def received(self, inbound: Inbound, c: Classification, log: TicketLog) -> Handled:
        parsed, now, received_at = inbound.parsed, inbound.now, inbound.received_at
        notice = c.notice
        configured = notice.engineer if notice.engineer and self.config.engineer(notice.engineer) else None
        account_id = self._save_account(notice, now)
        # A notice naming no contract or opportunity is the account's deal without one (an engagement's
        # reference is unique per account, "" included): sent again, it changes that engagement.
        existing = self.store.find_engagement(account_id, notice.reference)
        if existing is not None:  # the CRM sent the same deal again: what changed, changes
            changed = self.resent.received(existing, notice, parsed.from_.email if parsed.from_ else "", log, now)
            what = "; ".join(changed) if changed else "nothing changed"
            return Handled(MessageKind.NOTICE, existing.ticket_id,
                           c.reasons + (f"engagement {existing.id} exists already: {what}",))
        self._save_contacts(account_id, notice)
        account = self.store.get_account(account_id)
        playbook = self.onboarding.playbook_for(notice.tier) if self.onboarding is not None else None
        binding = playbook_calendar(playbook.calendar, self.assigner.calendars) if playbook is not None else None
        assignment = self.assigner.choose(c.priority, configured or account.engineer, now, binding=binding)
        if notice.engineer and not configured:
            assignment = Assignment(assignment.engineer, f"the notice names {notice.engineer}, who is not a configured "
                                    f"engineer; {assignment.reason}", assignment.candidates)
        elif configured:
            assignment = Assignment(configured, "named by the notice", assignment.candidates)
        if assignment.engineer and not account.engineer:
            self.store.save_account(name=account.name, tier=None, engineer=assignment.engineer, timezone=None,
                                    origin="notice", now=now)
        subject = f"Onboarding {notice.account}" + (f" ({notice.tier})" if notice.tier else "")
        ticket_id = self.store.create_ticket(
            kind=TicketKind.CONTRACT_CLOSED, priority=c.priority, subject=subject, requester=parsed.from_.email,
            requester_name=parsed.from_.name, now=received_at, account=account_id, assignee=assignment.engineer,
            assigned_at=now if assignment.engineer else None, reasons=list(c.reasons), assignment=assignment.as_json(),
            seen_at=now,
        )
        log.event(ticket_id, EventKind.CREATED, received_at, parsed.from_.email, message="notice")
        if assignment.engineer:
            log.event(ticket_id, EventKind.ASSIGNED, now, "", engineer=assignment.engineer, reason=assignment.reason)
        engagement_id = self.store.create_engagement(
            account_id=account_id, engineer=assignment.engineer, tier=notice.tier, contract_id=notice.reference,
            close_date=notice.close_date, sales_rep=notice.sales_rep.email if notice.sales_rep else "",
            golive_date=notice.golive_date, ticket_id=ticket_id, details=notice.as_json(), now=now,
        )
        if notice.other:
            log.event(ticket_id, EventKind.NOTE, now, parsed.from_.email,
                      text="From the notice: " + "; ".join(f"{k}: {v}" for k, v in notice.other))
        ask = self._ask(notice, self.store.get_account(account_id))
        warnings: tuple[str, ...] = ()
        if self.onboarding is not None and not ask:
            warnings = self.onboarding.start(engagement_id, now, tell=False).warnings  # the hand-off lists the plan
        self.assigner.notify(self.store.get_ticket(ticket_id), parsed.from_,
                             "\n\n".join([*(ask or self._golive_note(engagement_id, notice)), notice_text(notice)]),
                             assignment, now, headline=f"New onboarding engagement {engagement_id}: {notice.account}",
                             attachments=parsed.attachments, plan=self._plan(engagement_id, assignment.engineer, warnings))
        return Handled(MessageKind.NOTICE, ticket_id, c.reasons, tickets_created=1)

    def _plan(self, engagement_id: int, engineer: str | None, warnings: tuple[str, ...]) -> dict | None:
        """What was planned, for the hand-off: each meeting in the engineer's zone (and the
        customer's), what could not be placed and why, and the planner's ``warnings``; None when
        nothing was planned."""
        meetings = self.store.meetings(engagement_id)
        if not meetings:
            return None
        engagement = self.store.get_engagement(engagement_id)
        account = self.store.get_account(engagement.account_id)
        theirs = zone(account.timezone if account else None) or ZoneInfo("UTC")
        ours = ZoneInfo(self.config.timezone_of(engineer or "") or theirs.key)
        planned, unplaced = plan_in_words(meetings, ours, theirs)
        return {"planned": planned, "unplaced": unplaced, "warnings": list(warnings),
                "zone": zone_label(ours, meetings[0].start or engagement.created_at)}

    def _save_account(self, notice: Notice, now) -> int:
        account_id = self.store.save_account(name=notice.account, tier=notice.tier, engineer=None,
                                             timezone=notice.timezone if zone(notice.timezone) else None,
                                             origin="notice", now=now)
        self.store.add_domains(account_id, notice.domains)
        if notice.sales_rep and notice.sales_rep.name and notice.sales_rep.email.lower() not in self.internal:
            self.store.save_contact(None, notice.sales_rep.email, notice.sales_rep.name, "sales rep")
        return account_id

    def _save_contacts(self, account_id: int, notice: Notice) -> None:
        for contact in notice.contacts:
            self.store.save_contact(account_id, contact.email, contact.name, contact.role)

    def _ask(self, notice: Notice, account) -> list[str]:
        """What the engineer must decide before the playbook starts: which playbook, when none
        matches the package; and who, when the account has no contacts to welcome and invite."""
        if self.onboarding is None:
            return []
        choices = ", ".join(sorted(self.onboarding.playbooks))
        playbook = self.onboarding.playbook_for(notice.tier)
        if playbook is None:
            return [f"No playbook matches package {notice.tier or '(none given)'}: reply #playbook NAME (one of "
                    f"{choices}) to choose one. Nothing was planned or sent to the customer yet."]
        if not any(c.failing_since is None for c in account.contacts):
            return [f"The notice names no customer contacts: nobody was welcomed or invited. Add the contacts, then "
                    f"reply #playbook {playbook.name} (one of {choices}) to start; {playbook.name} matches the package."]
        return []


    def _golive_note(self, engagement_id: int, notice: Notice) -> list[str]:
        """Which meetings wait for the go-live date, when the notice gives none."""
        waiting = self.onboarding.golive_meetings(engagement_id) if self.onboarding and not notice.golive_date else []
        if not waiting:
            return []
        return [f"The go-live date is not known yet: {', '.join(waiting)} will be planned when it is (a customer's "
                "go-live message on a ticket, or the CRM sending the date), and their invitations sent then."]


def notice_text(notice: Notice) -> str:
    """What the engineer's notification says of a notice, one field a line."""
    lines = [f"Account:     {notice.account}"]
    if notice.tier:
        lines.append(f"Package:     {notice.tier}")
    if notice.reference:
        lines.append(f"Contract:    {notice.reference}" + (f" (opportunity {notice.opportunity_id})" if notice.contract_id and notice.opportunity_id else ""))
    if notice.close_date:
        lines.append(f"Closed:      {notice.close_date.isoformat()}")
    if notice.sales_rep:
        lines.append(f"Sales rep:   {notice.sales_rep.name} <{notice.sales_rep.email}>".replace("  <", " <"))
    if notice.domains:
        lines.append(f"Domains:     {', '.join(notice.domains)}")
    if notice.golive_date:
        lines.append(f"Go-live:     {notice.golive_date.isoformat()}")
    if notice.country:  # a field now: it used to be listed among the other values
        lines.append(f"Country:     {notice.country}")
    for contact in notice.contacts:
        role = f" ({contact.role})" if contact.role else ""
        lines.append(f"Contact:     {contact.name} <{contact.email}>{role}")
    if notice.deal_name:
        lines.append(f"Deal:        {notice.deal_name}")
    if notice.amount:
        lines.append(f"Amount:      {notice.amount}")
    if notice.other:
        lines.append("")
        lines.append("Also in the notice:")
        lines += [f"  {key}: {value}" for key, value in notice.other]
    if notice.notes:
        lines.append("")
        lines.append(f"Notes: {notice.notes}")
    if notice.problems:
        lines.append("")
        lines.append("Could not read: " + "; ".join(notice.problems))
    return "\n".join(lines)
