"""What an inbound message is, decided from the parsed message alone (pure).

Automated mail and delivery reports never open a ticket and are never answered; a message that
matches a thread joins its ticket; anything else opens a new ticket.
"""
from __future__ import annotations

from dataclasses import dataclass

from mailer.automated import Origin, Verdict

from .domain import MessageKind
from .threads import ThreadMatch


@dataclass(frozen=True)
class Decision:
    kind: MessageKind
    ticket_id: int | None
    reasons: tuple[str, ...]


def decide(verdict: Verdict, thread: ThreadMatch | None) -> Decision:
    """Decide what to do with a message given what :func:`mailer.automated.recognise` said of it
    and the thread it matched, if any."""
    ticket_id = thread.ticket_id if thread else None
    threaded = (f"belongs to ticket {thread.ticket_id} by {thread.via}",) if thread else ()
    if verdict.origin is Origin.BOUNCE:
        return Decision(MessageKind.BOUNCE, ticket_id, (f"delivery report: {verdict.reason}",) + threaded)
    if verdict.origin is not Origin.HUMAN:
        return Decision(MessageKind.AUTOMATED, ticket_id, (f"{verdict.origin.value}: {verdict.reason}",) + threaded)
    if thread:
        return Decision(MessageKind.REPLY, ticket_id, threaded)
    return Decision(MessageKind.NEW, None, ("written by a person and matches no ticket",))
