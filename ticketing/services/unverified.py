"""Mail in an engineer's or the CRM's name that our receiving server did not vouch for.

With ``security.authserv_id`` set, an engineer's commands and a contract-closed notice count only
with an aligned pass in our own server's ``Authentication-Results`` (:func:`mailer.sender_verified`).
One that fails is not acted on: the pure core makes it a ticket flagged for review. Here it is
also recorded (an ``unverified`` event on that ticket and on the ticket it answered) and the
person it concerns is told once, by one mail named after the message: the real engineer for a
command (they learn that their mail fails the check, or that someone writes in their name), the
managers for a notice.
"""
from __future__ import annotations

from ticketing.config import Config
from ticketing.core.classify import Sender
from ticketing.core.commands import parse_commands
from ticketing.core.domain import EventKind
from ticketing.core.mails import Mails
from ticketing.services.assignment import Assigner
from ticketing.services.inbound import Inbound
from ticketing.services.outbox import Outbox
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class UnverifiedMail:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, assigner: Assigner):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.assigner = assigner

    def not_acted_on(self, inbound: Inbound, sender: Sender, *, notice: bool, text: str, review_id: int | None,
                     refers_to: int | None, log: TicketLog) -> None:
        """Record that ``inbound`` was not acted on and tell whom it concerns (in its unit of work)."""
        now, parsed = inbound.now, inbound.parsed
        parsed_commands = parse_commands(text)
        commands = [f"#{c.name} {c.argument}".strip() for c in parsed_commands.commands] if not notice else []
        for ticket_id in dict.fromkeys(t for t in (refers_to, review_id) if t is not None):
            log.event(ticket_id, EventKind.UNVERIFIED, now, sender.email or "", why=sender.verification,
                      message=inbound.row_id, notice=notice, commands=commands)
        readers = ([m.email for m in self.config.managers] or [e.email for e in self.config.engineers]) if notice \
            else [sender.email]
        review = self.store.get_ticket(review_id) if review_id else None
        answered = self.store.get_ticket(refers_to) if refers_to else None
        for email in readers:
            self.outbox.queue(self.mails.unverified(
                self.assigner.address(email), token=f"unverified.{inbound.row_id}", sender=sender.email or "",
                subject=parsed.subject or "(no subject)", why=sender.verification, notice=notice, commands=commands,
                review=review, refers_to=answered), now)
