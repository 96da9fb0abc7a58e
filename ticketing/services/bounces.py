"""Mail that did not arrive: bounces that come back, and recipients our SMTP server refused.

Both mean the same to a help desk: the customer did not get our mail. A bounce counts only when it
returns mail we sent to the recipient it names (:mod:`ticketing.core.bounce_match`): one that
matches nothing is stored as automated mail and tells nobody. A permanent failure marks
the contact failing (no more acknowledgements or invitations to them); either way the engineers of
their open tickets, and their account's engineer, are told once per failure. Mail to our own
people and to the support address is not a customer's failure and is left alone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from ticketing.config import Config
from ticketing.core.bounce_match import match_bounce
from ticketing.core.classify import Classification
from ticketing.core.domain import EventKind, MessageKind, Ticket
from ticketing.core.mails import Mails
from ticketing.services.assignment import Assigner
from ticketing.services.inbound import Handled, Inbound
from ticketing.services.outbox import Outbox
from ticketing.services.sla_watch import SlaWatch
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class Bounces:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, assigner: Assigner,
                 sla: SlaWatch | None = None):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.assigner = assigner
        self.sla = sla
        self.own = {config.support.address.lower()}
        self.internal = {e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}

    def bounced(self, inbound: Inbound, c: Classification, log: TicketLog) -> Handled:
        """A delivery report or a bounce came back (inside the message's unit of work)."""
        verdict, returned = inbound.verdict, inbound.parsed.returned_message_ids
        match = match_bounce(verdict.failed_recipients, returned, self.store.outgoing_with_ids(returned))
        if not match.counts:
            # Anyone can write a delivery report: one about no mail of ours marks nobody failing.
            return Handled(MessageKind.AUTOMATED, c.ticket_id,
                           (f"bounce: {verdict.reason}; {match.reason}, so it counts against nobody",) + c.reasons[1:])
        self._failed(match.recipients, verdict.diagnostic or verdict.reason, verdict.permanent,
                     token=f"bounce.{inbound.row_id}", ticket_id=c.ticket_id or match.ticket_id, now=inbound.now,
                     log=log)
        return Handled(MessageKind.BOUNCE, c.ticket_id, c.reasons + (match.reason,))

    def alert_refusals(self, now: datetime) -> int:
        """Tell the engineers about every refusal the outbox recorded since the last pass, each in
        its own unit of work; return how many were handled."""
        done = 0
        for refusal in self.store.pending_refusals():
            with self.store.transaction():
                log = TicketLog(self.store)
                self._failed(refusal.recipients, refusal.said, True, token=f"refused.{refusal.mail_id}",
                             ticket_id=refusal.ticket_id, now=now, log=log)
                if self.sla is not None and log.touched:
                    self.sla.refresh(log.touched, now)
                self.store.refusal_alerted(refusal.id, now)
            done += 1
        return done

    def _failed(self, recipients: Sequence[str], said: str, permanent: bool, *, token: str, ticket_id: int | None,
                now: datetime, log: TicketLog) -> None:
        """Mail to customers failed: mark them failing (if for good) and tell their engineers."""
        customers = [r for r in recipients if r.lower() not in self.internal and r.lower() not in self.own]
        if not customers:
            return
        if permanent:
            self.store.mark_failing(customers, said, now)
        tickets = {t.id: t for t in self.store.open_tickets_of(customers)}
        if ticket_id and ticket_id not in tickets:
            tickets[ticket_id] = self.store.get_ticket(ticket_id)
        for ticket in tickets.values():
            log.event(ticket.id, EventKind.BOUNCED, now, "", recipients=customers, permanent=permanent)
        by_engineer: dict[str, list[Ticket]] = {}
        for ticket in tickets.values():
            if ticket.assignee:
                by_engineer.setdefault(ticket.assignee, []).append(ticket)
        for account_engineer in self._account_engineers(customers):
            by_engineer.setdefault(account_engineer, [])
        for email, its_tickets in by_engineer.items():
            self.outbox.queue(self.mails.bounce_alert(
                self.assigner.address(email), token=token, recipients=customers, tickets=its_tickets,
                reason=said, permanent=permanent,
            ), now)

    def _account_engineers(self, emails: Sequence[str]) -> set[str]:
        found = set()
        for email in emails:
            account = self.store.account_for_address(email)
            if account and account.engineer:
                found.add(account.engineer)
        return found
