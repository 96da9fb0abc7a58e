"""Engineers work by replying: their answers are relayed to the customer and their ``#commands``
carried out (see README, "Engineers work by replying").

An answer written above the marker goes to the customer from the support address, threaded with
the customer's mail; ``#resolve``, ``#pending``, ``#open``, ``#priority``, ``#assign`` and ``#note``
change the ticket, each an event in its log; ``#golive``, ``#playbook``, ``#contact``, ``#accept``,
``#move``, ``#cancel`` and ``#location`` steer the ticket's onboarding engagement
(:mod:`ticketing.services.engagement_commands`), and are always answered with what they did. A reply that also went to the customer straight (To or
Cc) counts as the answer and is not relayed again. Whatever could not be done is reported back to
the engineer in one mail.
"""
from __future__ import annotations

from datetime import datetime

from mailer import Address, ParsedMessage, file_attachments
from ticketing.config import Config
from ticketing.core.classify import Classification
from ticketing.core.commands import Command, parse_commands
from ticketing.core.domain import (
    EventKind,
    MessageKind,
    Ticket,
    TicketKind,
)
from ticketing.core.mails import Mails
from ticketing.services.assignment import Assigner
from ticketing.services.engagement_commands import NAMES as STEERING
from ticketing.services.engagement_commands import EngagementCommands, Steered
from ticketing.services.inbound import Handled, Inbound
from ticketing.services.outbox import Outbox, deliverable
from ticketing.services.ticket_actions import TicketActions
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class EngineerReplies:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, assigner: Assigner,
                 actions: TicketActions, steering: EngagementCommands | None = None):
        self.store = store
        self.actions = actions
        #: Carries out the commands that steer an onboarding engagement (#golive, #move …).
        self.steering = steering
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.assigner = assigner
        self.own = {config.support.address.lower()}
        self.internal = {e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}

    def replied(self, inbound: Inbound, c: Classification, text: str, log: TicketLog) -> Handled:
        """An engineer answered a ticket (``text``: what they wrote above the marker)."""
        parsed, now = inbound.parsed, inbound.now
        ticket = self.store.get_ticket(c.ticket_id)
        engineer = parsed.from_.email
        commands = parse_commands(text)
        results, steered = self._carry_out(ticket, commands.commands, engineer, now, log)
        problems = (*commands.problems, *steered.problems)
        relayed = False
        customer_facing = ticket.kind is not TicketKind.CONTRACT_CLOSED
        if self._is_copy_to_customer(parsed):
            self._answered(ticket, engineer, now, log, copy=True)
        elif commands.relay and customer_facing and not deliverable(ticket.requester):
            log.event(ticket.id, EventKind.COMMAND_REJECTED, now, engineer,
                      reason=f"the answer was not sent: {ticket.requester!r} is not an address we can send to")
        elif commands.relay and customer_facing:
            customers = [Address(ticket.requester_name, ticket.requester)]
            files, left_out = file_attachments(parsed.attachments, max_files=self.config.support.max_relayed_attachments)
            draft = self.mails.relay(ticket, self.assigner.address(engineer), customers, inbound_pk=inbound.row_id,
                                     text=commands.body, thread=self.store.customer_thread(ticket.id),
                                     answers=self.store.last_customer_message(ticket.id), attachments=files)
            relayed = self.outbox.queue(draft, now) is not None
            if relayed or not self.outbox.stopped(draft):  # stopped by a loop limit: the customer has nothing
                self._answered(ticket, engineer, now, log, copy=False)
            if left_out:
                problems = (*problems, f"not sent, past the size or the {self.config.support.max_relayed_attachments}"
                                       f" files relayed: {', '.join(left_out)}")
        if problems or any(cmd.name in STEERING for cmd in commands.commands):  # an engagement's changes are reported
            self.outbox.queue(self.mails.command_results(
                ticket, self.assigner.address(engineer), inbound_pk=inbound.row_id, results=[r for r in results if r],
                problems=problems, relayed=relayed, thread=self.store.engineer_thread(ticket.id),
            ), now)
        self.store.touch_ticket(ticket.id, now)
        if self._is_copy_to_customer(parsed):
            outcome = "the customer had it straight (a copy to support)"
        else:
            outcome = "relayed to the customer" if relayed else "nothing sent to the customer"
        return Handled(MessageKind.ENGINEER_REPLY, ticket.id, (*c.reasons, outcome))

    def _carry_out(self, ticket: Ticket, commands: tuple[Command, ...], engineer: str, now: datetime,
                   log: TicketLog) -> tuple[list[str], Steered]:
        """Run the commands in order; return what they did and the engagement's refusals."""
        results: list[str] = []
        steered = Steered()
        for cmd in commands:
            if cmd.name not in STEERING:
                results.append(self.actions.carry_out(ticket, cmd, engineer, now, log))
            elif self.steering is None:
                steered.problems.append(f"not done, #{cmd.name}: this desk has no onboarding engagements")
            else:
                before = len(steered.done)
                self.steering.carry_out(ticket, cmd, engineer, now, log, steered)
                results += steered.done[before:]
        return results, steered

    def _is_copy_to_customer(self, parsed: ParsedMessage) -> bool:
        """The customer got this straight from the engineer (To or Cc), support only a copy: do not relay it."""
        recipients = {a.email.lower() for a in (*parsed.to, *parsed.cc)}
        return any(a not in self.internal and a not in self.own for a in recipients)

    def _answered(self, ticket: Ticket, engineer: str, now: datetime, log: TicketLog, copy: bool) -> None:
        log.event(ticket.id, EventKind.ENGINEER_REPLIED, now, engineer, copy=copy)
        if ticket.first_response_at is None:
            self.store.update_ticket(ticket.id, now, first_response_at=now)
