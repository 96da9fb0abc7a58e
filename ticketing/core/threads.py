"""Which ticket a message belongs to (pure).

A reply joins its ticket through In-Reply-To, then References (newest first), then the ticket tag in
the subject. The tag looks like ``[WG-123]``; it survives any ``Re:``/``AW:``/``Fwd:`` prefixes
because it is searched for anywhere in the subject.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailer import ParsedMessage

_TAG = re.compile(r"\[WG-(\d{1,12})\]", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|wg|fw|fwd|tr|rif|r)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class ThreadMatch:
    ticket_id: int
    via: str  # "in-reply-to", "references" or "subject tag"


def ticket_tag(ticket_id: int) -> str:
    """The tag put in the subject of mail about a ticket."""
    return f"[WG-{ticket_id}]"


def tagged_ticket(subject: str) -> int | None:
    """The ticket number tagged in ``subject``, or None."""
    match = _TAG.search(subject or "")
    return int(match.group(1)) if match else None


def clean_subject(subject: str) -> str:
    """``subject`` without reply/forward prefixes and our tag, for a ticket's title."""
    subject = _TAG.sub("", subject or "")
    return " ".join(_PREFIX.sub("", subject).split())


def thread_ids(msg: ParsedMessage) -> list[str]:
    """The message ids that may name the parent, in the order they are trusted."""
    ids = list(msg.in_reply_to) + list(reversed(msg.references))
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


def match_thread(msg: ParsedMessage, known: dict[str, int], tag_ticket_exists: bool) -> ThreadMatch | None:
    """Find the ticket ``msg`` replies to.

    ``known`` maps the ids from :func:`thread_ids` that whiteglove has seen or sent to their ticket;
    ``tag_ticket_exists`` says whether the ticket tagged in the subject exists.
    """
    for mid in msg.in_reply_to:
        if mid in known:
            return ThreadMatch(known[mid], "in-reply-to")
    for mid in reversed(msg.references):
        if mid in known:
            return ThreadMatch(known[mid], "references")
    tagged = tagged_ticket(msg.subject)
    if tagged is not None and tag_ticket_exists:
        return ThreadMatch(tagged, "subject tag")
    return None
