"""The one log line intake writes per message it handled: what it was and what came of it.

A new ticket says its number, kind, priority, engineer and why that engineer (the routing reason
kept on the ticket); a reply or an engineer's answer names its ticket; an answer to an invitation,
a bounce, automated mail and a contract-closed notice say what they did. The same facts go in the
record's extra fields (``ticket``, ``kind``, ``priority``, ``engineer``, ``reason``, ``sender``), for
``--log-format json``. Quarantined messages are intake's warning, not this line.
"""
from __future__ import annotations

from ticketing.core.domain import MessageKind, Ticket
from ticketing.services.inbound import Handled

__all__ = ["describe"]


def describe(handled: Handled, ticket: Ticket | None, sender: str) -> tuple[str, dict]:
    """The line (without the message's number) and its extra fields."""
    kind = handled.kind
    ref = f"WG-{ticket.id}" if ticket else (f"WG-{handled.ticket_id}" if handled.ticket_id else None)
    extra = {"kind": kind.value, "ticket": ref, "sender": sender}
    why = "; ".join(handled.reasons)
    if ticket is not None:
        reason = (ticket.assignment or {}).get("reason", "")
        extra.update(ticket_kind=ticket.kind.value, priority=ticket.priority, engineer=ticket.assignee,
                     reason=reason)
        who = f"assigned to {ticket.assignee}" if ticket.assignee else "not assigned"
        facts = f"{ref} ({ticket.kind.value}, {ticket.priority}"
        if kind is MessageKind.NEW or (kind is MessageKind.NOTICE and handled.tickets_created):
            review = ", flagged for review" if ticket.review else ""
            return f"new ticket {facts}) from {sender}, {who}: {reason or 'no routing reason'}{review}", extra
        if kind is MessageKind.REPLY:
            return f"reply from {sender} on {facts}, {ticket.assignee or 'unassigned'})", extra
        if kind is MessageKind.ENGINEER_REPLY:
            outcome = handled.reasons[-1] if handled.reasons else "handled"
            return f"answer from {sender} on {facts}), {outcome}", extra
    extra["reason"] = why
    what = {
        MessageKind.BOUNCE: "bounce",
        MessageKind.AUTOMATED: "automated mail (no ticket, never answered)",
        MessageKind.CALENDAR: "answer to an invitation",
        MessageKind.NOTICE: "contract-closed notice",
        MessageKind.REPLY: "reply",
        MessageKind.ENGINEER_REPLY: "engineer's answer",
        MessageKind.NEW: "new message",
    }[kind]
    on = f" on {ref}" if ref else ""
    return f"{what} from {sender}{on}: {why or 'nothing to do'}", extra
