"""Messages over ``[mailbox] max_message_bytes``: intake stores and quarantines them unread (their
headers only are parsed: parsing a body costs about ten times its size), and this tells the sender
once a day, never an automated sender, our own address or one we cannot send to."""
from __future__ import annotations

import logging
from datetime import datetime

from mailer import Origin, ParsedMessage, Verdict
from ticketing.core.mails import Mails
from ticketing.core.too_large import too_large
from ticketing.services.outbox import Outbox, deliverable

log = logging.getLogger(__name__)


def too_large_reason(size: int, limit: int) -> str:
    """What the quarantine says of a message of ``size`` bytes over ``limit``."""
    return f"too large: {size} bytes, over [mailbox] max_message_bytes ({limit})"


class TooLarge:
    def __init__(self, mails: Mails, outbox: Outbox, own: tuple[str, ...], limit: int):
        self.mails = mails
        self.outbox = outbox
        self.own = own
        self.limit = limit

    def tell_sender(self, parsed: ParsedMessage, verdict: Verdict, size: int, now: datetime) -> bool:
        """Queue the short reply to the sender of a message too large to read; True when queued
        (False: automated, ours, not an address to send to, or told already today)."""
        sender = parsed.from_
        if sender is None or verdict.origin is not Origin.HUMAN:
            return False
        if sender.email.lower() in self.own or not deliverable(sender.email):
            return False
        draft = too_large(self.mails, sender, size=size, limit=self.limit, subject=parsed.subject,
                          message_id=parsed.message_id, now=now)
        queued = self.outbox.queue(draft, now) is not None
        if queued:
            log.info("told %s their message of %d bytes is over the limit", sender.email, size)
        return queued
