"""Keeping SLA clocks up to date, warning before a breach and escalating after one.

:class:`SlaWatch` computes a ticket's clocks (:mod:`ticketing.core.sla`, pure) from its event log and
stores what queries need: the policy, each clock's due time and state, and ``next_sla_check``,
the next moment a warning, breach or escalation can fall due. :meth:`SlaWatch.refresh` runs after
every event, inside the same unit of work; :meth:`SlaWatch.sweep` runs every minute and reads
only the tickets whose ``next_sla_check`` has come (an indexed query), so a missed minute loses
nothing: the work is derived from stored times, not from the moment the sweep runs.

Notices, each sent once (``sla_notice`` is unique per ticket, clock and kind):

- at each ``warn_at`` percentage of a target, the assigned engineer is warned with the time left;
  on a business clock, a warning that falls outside the engineer's working hours waits for the
  start of their next working period, unless the ticket is P0;
- at the breach, the engineer's manager (else the first manager) is told;
- a P0/P1 answer (first or next response) still missing ``escalate_after_minutes`` after its
  breach escalates to the first address of ``escalation_path``, and one step further each
  further period;
- a warning whose breach has already come (a backlog, a worker that was stopped) is not sent:
  the breach notice says it all. An internal hand-off ticket has no SLA.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config, parse_duration
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Ticket, TicketKind
from ticketing.core.mails import Draft, Mails
from ticketing.core.routing import URGENT
from ticketing.core.sla import (
    ALWAYS,
    Clock,
    ClockStatus,
    Policy,
    Target,
    clocks,
    humanize,
    moment_at,
)
from ticketing.core.words import moment_label
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

_LABELS = {"first_response": "first response", "resolution": "resolution", "next_response": "next response"}


def build_policies(config: Config) -> dict[str, Policy]:
    """The configuration's SLA policies as :class:`~ticketing.core.sla.Policy` values."""
    policies = {}
    for policy in config.sla.policies:
        tables: dict[str, dict[str, Target]] = {"first_response": {}, "resolution": {}, "next_response": {}}
        for target in policy.targets:
            for name, table in tables.items():
                minutes = parse_duration(getattr(target, name) or "")
                if minutes:
                    table[target.priority] = Target(timedelta(minutes=minutes), target.clock)
        policies[policy.name] = Policy(policy.name, tables["first_response"], tables["resolution"], tables["next_response"])
    if config.sla.golive_policy is None and GOLIVE_POLICY not in policies:
        business = config.calendar(None).name
        policies[GOLIVE_POLICY] = Policy(GOLIVE_POLICY, {
            priority: Target(timedelta(hours=hours), business)
            for priority, hours in (("P0", 2), ("P1", 4), ("P2", 8), ("P3", 16))}, {}, {})
    return policies


#: The built-in policy of go-live intents (``[sla] golive_policy`` names another): an answer
#: within business hours, no resolution target. A go-live is a plan the engineer acts on before the
#: cut-over, not an incident that pages the executives on a Saturday.
GOLIVE_POLICY = "go-live"


@dataclass(frozen=True)
class SlaNotice:
    """A warning, breach notice or escalation due about one of a ticket's clocks."""

    clock: str
    kind: str  # warning-50, breach, escalation-1 ...
    at: datetime  # when it falls due
    recipient: str


class SlaWatch:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 calendars: dict[str, BusinessCalendar], policies: dict[str, Policy], playbook_policies: dict[str, str]):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.calendars = calendars
        self.policies = policies
        self.playbook_policies = playbook_policies  # playbook name -> its sla_policy

    # -- which policy -----------------------------------------------------------------------------

    def policy_for(self, ticket: Ticket) -> Policy | None:
        """The engagement's playbook's policy, else the account tier's, else the default; for a
        go-live intent, the go-live policy.

        An internal hand-off (a contract-closed notice's ticket) has none: nobody awaits an answer.
        """
        if ticket.kind is TicketKind.CONTRACT_CLOSED:
            return None
        if ticket.kind is TicketKind.GOLIVE_INTENT:
            return self.policies.get(self.config.sla.golive_policy or GOLIVE_POLICY)
        name = None
        account_id = self.store.ticket_account_id(ticket.id)
        if account_id:
            engagement = self.store.active_engagement(account_id)
            if engagement and engagement.playbook:
                name = self.playbook_policies.get(engagement.playbook)
            if name is None:
                account = self.store.get_account(account_id)
                if account and account.tier:
                    name = self.config.sla.tier_policy.get(account.tier.lower())
        name = name or self.config.sla.default_policy
        return self.policies.get(name) if name else None

    # -- clocks -----------------------------------------------------------------------------------

    def clocks(self, ticket: Ticket, now: datetime, explain: bool = True) -> tuple[Policy | None, tuple[Clock, ...]]:
        policy = self.policy_for(ticket)
        if policy is None:
            return None, ()
        return policy, clocks(self.store.events(ticket.id), ticket.priority, policy, self.calendars, now, explain)

    def refresh(self, ticket_ids, now: datetime) -> None:
        """Recompute and store the clocks of ``ticket_ids`` (after their events changed)."""
        for ticket_id in sorted(set(ticket_ids)):
            ticket = self.store.get_ticket(ticket_id)
            if ticket is not None:
                policy, found = self.clocks(ticket, now, explain=False)
                notices = self._notices(ticket, found) if policy else []
                self._store(ticket, policy, found, notices, self.store.sla_notices_sent(ticket.id))

    def _store(self, ticket: Ticket, policy: Policy | None, found: tuple[Clock, ...], notices: list[SlaNotice],
               sent: set[tuple[str, str]]) -> None:
        """Store the clocks' due times and states, and when the next notice not yet sent falls due."""
        by_name = {c.name: c for c in found}
        upcoming = [n.at for n in notices if (n.clock, n.kind) not in sent]
        first, resolution = by_name.get("first_response"), by_name.get("resolution")
        self.store.set_sla(
            ticket.id, policy=policy.name if policy else None,
            first_response_due=first.due if first else None, resolution_due=resolution.due if resolution else None,
            first_response_state=_state(first), resolution_state=_state(resolution),
            next_check=min(upcoming) if upcoming else None,
        )

    # -- the sweep --------------------------------------------------------------------------------

    def sweep(self, now: datetime) -> int:
        """Send the warnings, breach notices and escalations that have fallen due; return how many."""
        count = 0
        for ticket_id in self.store.tickets_to_check(now):
            with self.store.transaction():
                ticket = self.store.get_ticket(ticket_id)
                if ticket is None:
                    continue
                policy, found = self.clocks(ticket, now)  # with the explanations the notices quote
                notices = self._notices(ticket, found) if policy else []
                sent = self.store.sla_notices_sent(ticket.id)
                by_name = {c.name: c for c in found}
                due = [n for n in notices if n.at <= now and (n.clock, n.kind) not in sent]
                breached = {n.clock for n in due if n.kind == "breach"} | {c for c, kind in sent if kind == "breach"}
                breached |= {c.name for c in found if c.breached_at is not None and c.breached_at <= now}
                for notice in due:
                    if ticket.seen_at is not None and notice.at < ticket.seen_at:
                        # History: due before whiteglove first saw the ticket. Kept in the clocks and the
                        # reports, never warned or escalated about.
                        self.store.record_sla_notice(ticket.id, notice.clock, notice.kind, "", notice.at, now)
                    elif notice.kind.startswith("warning") and notice.clock in breached:
                        # Already late (a backlog, a stopped worker): the breach notice says it all.
                        self.store.record_sla_notice(ticket.id, notice.clock, notice.kind, "", notice.at, now)
                    else:
                        self._send(ticket, by_name[notice.clock], notice, now)
                        count += 1
                    sent.add((notice.clock, notice.kind))
                self._store(ticket, policy, found, notices, sent)  # the next check, now that these are done
        if count:
            log.info("SLA sweep: %d notice(s) sent", count)
        return count

    def _notices(self, ticket: Ticket, found: tuple[Clock, ...]) -> list[SlaNotice]:
        """Every notice a ticket's clocks call for, with the moment each falls due."""
        notices: list[SlaNotice] = []
        engineer = ticket.assignee
        manager = self._manager_of(engineer)
        for clock in found:
            if clock.target is None or clock.status in (ClockStatus.MET, ClockStatus.STOPPED):
                continue
            open_ = clock.stopped_at is None
            if engineer and open_:
                for percent in sorted(set(self.config.sla.warn_at)):
                    at = moment_at(clock, percent / 100, self.calendars)
                    if at is not None:
                        notices.append(SlaNotice(clock.name, f"warning-{percent}", self._for_engineer(at, engineer, clock, ticket),
                                              engineer))
            breached_at = clock.breached_at or moment_at(clock, 1.0, self.calendars)
            if breached_at is None:
                continue
            if manager:
                notices.append(SlaNotice(clock.name, "breach", breached_at, manager))
            if ticket.priority in URGENT and open_ and clock.name != "resolution":  # a breach left unanswered
                step = timedelta(minutes=self.config.sla.escalate_after_minutes)
                for level, address in enumerate(self.config.sla.escalation_path, start=1):
                    notices.append(SlaNotice(clock.name, f"escalation-{level}", breached_at + step * level, address))
        return notices

    def _for_engineer(self, at: datetime, engineer: str, clock: Clock, ticket: Ticket) -> datetime:
        """A warning on a business clock waits for the engineer's working hours, unless P0."""
        if ticket.priority == "P0" or clock.target.clock == ALWAYS:
            return at
        person = self.config.engineer(engineer)
        calendar = self.calendars.get((person.calendar if person else None) or self.config.calendar(None).name)
        return calendar.next_open(at) if calendar else at

    def _manager_of(self, engineer: str | None) -> str | None:
        person = self.config.engineer(engineer) if engineer else None
        if person and person.manager:
            return person.manager
        return self.config.managers[0].email if self.config.managers else None

    def _send(self, ticket: Ticket, clock: Clock, notice: SlaNotice, now: datetime) -> None:
        label = _LABELS[clock.name]
        if notice.kind.startswith("warning"):
            headline = f"{humanize(clock.remaining)} left for the {label} of [WG-{ticket.id}]"
        elif notice.kind == "breach":
            headline = f"SLA breached: {label} of [WG-{ticket.id}] ({ticket.priority}, {ticket.assignee or 'unassigned'})"
        else:
            level = notice.kind.partition("-")[2]
            headline = f"Escalation {level}: {ticket.priority} [WG-{ticket.id}] still without {label}"
        body = self.mails.render(
            "sla", headline=headline, ticket=_view(ticket), clock=label, kind=notice.kind,
            target=humanize(clock.target.duration), target_clock=clock.target.clock,
            used=humanize(clock.used), remaining=humanize(clock.remaining) if clock.remaining else None,
            overrun=humanize(clock.overrun) if clock.overrun else None,
            due=moment_label(clock.due, ZoneInfo(self.config.timezone_of(notice.recipient) or "UTC")) if clock.due else None,
            explanation=list(clock.explanation),
        )
        person = self.config.person(notice.recipient)
        draft = Draft("sla", f"sla.{ticket.id}.{clock.name}.{notice.kind}", (Address(person.name if person else "", notice.recipient),),
                      headline, body, ticket.id, auto_submitted="auto-generated")
        self.outbox.queue(draft, now)
        self.store.record_sla_notice(ticket.id, clock.name, notice.kind, notice.recipient, clock.due or notice.at, now)


def _state(clock: Clock | None) -> str:
    if clock is None or clock.target is None:
        return ""
    return clock.status.value if hasattr(clock.status, "value") else str(clock.status)


def _view(ticket: Ticket) -> dict:
    return {"id": ticket.id, "tag": f"[WG-{ticket.id}]", "subject": ticket.subject, "priority": ticket.priority,
            "status": ticket.status.value, "assignee": ticket.assignee or "nobody", "requester": ticket.requester}

