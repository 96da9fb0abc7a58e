"""The short reply to a message over ``[mailbox] max_message_bytes`` (pure but for the templates,
as :mod:`ticketing.core.mails`).

Its token is a rate limit, not a cause: ``too-large.{digest of the sender}.{day}``, so a sender
hears it at most once a day (UTC), whatever restarts happen and however many large messages they
send. Only the sender's checked address reaches a header; their subject is quoted in the body only.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from mailer import Address
from ticketing.core.mails import Draft, Mails


def too_large_token(sender: str, now: datetime) -> str:
    digest = hashlib.sha256(sender.strip().lower().encode("utf-8")).hexdigest()[:16]
    return f"too-large.{digest}.{now:%Y-%m-%d}"


def too_large(mails: Mails, sender: Address, *, size: int, limit: int, subject: str, message_id: str | None,
              now: datetime) -> Draft:
    """To the sender: the message of ``size`` bytes was not read, being over ``limit``; an
    automatic reply (``Auto-Submitted: auto-replied``), threaded to their message."""
    body = mails.render("too_large", customer_name=sender.name, subject=subject, size=size, limit=limit)
    return Draft("too_large", too_large_token(sender.email, now), (sender,),
                 f"Your message to {mails.support.name} was too large", body, None,
                 in_reply_to=message_id or None, references=(message_id,) if message_id else (),
                 auto_submitted="auto-replied")
