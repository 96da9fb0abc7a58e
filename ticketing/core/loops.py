"""Mail loops: how much whiteglove may send in answer to inbound mail, and the note that a loop was
broken (pure but for the templates, as :mod:`ticketing.core.mails`).

Two autoresponders that do not say what they are (no ``Auto-Submitted``) answer each other through
whiteglove for ever: a customer's "we have your message" to every relay, an engineer's
out-of-office to every update. What whiteglove sends *in answer* to inbound mail (:data:`REPLIES`)
is therefore limited per thread (ticket) and per outside correspondent in a sliding hour; mail the
operator or the scheduled jobs send (reminders, summaries, SLA notices, invitations, pages) answers
nothing and is never limited. Past a limit the mail is recorded as not sent, with the reason, and
the engineer is told once per thread (or correspondent) and clock hour: the token names the cause
and the hour's window, never the clock's second, so a restart does not tell them again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from mailer import Address
from ticketing.core.domain import Ticket
from ticketing.core.mails import MARKER, UTC, Draft, Mails, Rendering, slug, ticket_view
from ticketing.core.words import moment_label

#: Purposes of the mail inbound mail causes, and that a loop can therefore feed.
REPLIES = frozenset({
    "acknowledgement", "notification", "update", "relay", "commands", "task_done", "survey_answer",
    "calendar_answer",
})
#: The window the limits count in.
WINDOW = timedelta(hours=1)
ALERT = "loop_alert"


@dataclass(frozen=True)
class Limits:
    """At most ``per_thread`` answers on one ticket, and ``per_correspondent`` to one outside address,
    in :data:`WINDOW`; 0 turns a limit off."""

    per_thread: int = 10
    per_correspondent: int = 20


@dataclass(frozen=True)
class Trip:
    """A limit reached: which, how many mails had gone, and to whom (for the correspondent limit)."""

    limit: str  # "thread" or "correspondent"
    count: int
    correspondent: str | None = None

    @property
    def reason(self) -> str:
        if self.limit == "thread":
            return f"mail loop: {self.count} mails in answer to this ticket within an hour; not sent"
        return f"mail loop: {self.count} mails to {self.correspondent} within an hour; not sent"


def tripped(limits: Limits, thread_count: int | None, correspondent_counts: Mapping[str, int]) -> Trip | None:
    """The limit a further answer would pass, given what went in the window (``thread_count`` None:
    the mail is of no ticket); None when it may go."""
    if thread_count is not None and limits.per_thread and thread_count >= limits.per_thread:
        return Trip("thread", thread_count)
    if limits.per_correspondent:
        for address, count in sorted(correspondent_counts.items()):
            if count >= limits.per_correspondent:
                return Trip("correspondent", count, address)
    return None


def window_start(now: datetime) -> datetime:
    """The clock hour ``now`` is in: what makes a loop's note go once an hour, not once a second."""
    return now.replace(minute=0, second=0, microsecond=0)


def alert_token(trip: Trip, ticket_id: int | None, reader: str, now: datetime) -> str:
    """``loop.ticket.{id}.{hour}.{reader}`` or ``loop.to.{address}.{hour}.{reader}``."""
    cause = f"ticket.{ticket_id}" if trip.limit == "thread" else f"to.{slug(trip.correspondent or '')}"
    return f"loop.{cause}.{window_start(now):%Y%m%dT%H}.{slug(reader)}"


def excerpt(draft: Draft, limit: int = 400) -> str:
    """The text the stopped mail carried (an update's customer text, a relay's answer), shortened."""
    text = draft.body.context.get("text", "") if isinstance(draft.body, Rendering) else draft.body[0]
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def loop_alert(mails: Mails, reader: Address, *, trip: Trip, stopped: Draft, ticket: Ticket | None,
               now: datetime) -> Draft:
    """Tell ``reader`` (the engineer, else a manager) that answers stopped going out: which limit,
    what was not sent, and what it said."""
    view = ticket_view(ticket) if ticket is not None else None
    where = view["tag"] if view else (trip.correspondent or "")
    headline = f"Mail loop on {where}: answers stopped for the hour"
    body = mails.render(
        ALERT, marker=MARKER, headline=headline, ticket=view, limit=trip.limit, count=trip.count,
        correspondent=trip.correspondent, purpose=stopped.purpose, recipients=[a.email for a in (*stopped.to, *stopped.cc)],
        subject=stopped.subject, excerpt=excerpt(stopped), until=moment_label(now + WINDOW, UTC),
    )
    subject = f"{view['tag']} {headline}" if view else headline
    return Draft(ALERT, alert_token(trip, ticket.id if ticket else None, reader.email, now), (reader,), subject, body,
                 ticket.id if ticket else None, reply_to=mails.support.mailbox, auto_submitted="auto-generated")

