"""Building small, realistic test messages."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime


def make_message(
    *,
    sender: str = "Bob Martinez <bob@globex.example>",
    to: str = "support@northwind.example",
    subject: str = "SSO login loop",
    body: str = "Users are sent back to the login page.",
    message_id: str | None = "<q1@globex.example>",
    in_reply_to: str | None = None,
    references: str | None = None,
    date: datetime = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc),
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def unsigned(message_id: str) -> str:
    """``message_id`` without the installation's signature: ``wg.ack.1.k2x7q4ab@d`` is ``wg.ack.1@d``."""
    local, _, domain = message_id.partition("@")
    return f"{local.rsplit('.', 1)[0]}@{domain}"
