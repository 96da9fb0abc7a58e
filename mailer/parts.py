"""The content of attachments, read from the raw message on demand (pure).

:func:`mailer.message.parse_message` lists attachments without keeping their bytes, so that a
message with a large file costs little memory. The few callers that need the content read it
here: a CRM's CSV or JSON notice (:func:`text_attachments`), the files of an answer that is
passed on (:func:`file_attachments`).
"""
from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from .charsets import decode_bytes as _decode_bytes
from .message import sanitise_filename

TEXT_TYPES = frozenset({"text/csv", "application/csv", "application/json", "text/json", "text/plain"})


def text_attachments(raw: bytes, max_bytes: int = 1_000_000, limit: int = 10) -> list[tuple[str, str, str]]:
    """Return ``(filename, content_type, text)`` of up to ``limit`` named text attachments.

    Parts over ``max_bytes`` once decoded are skipped. Never raises.
    """
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except Exception:  # noqa: BLE001 - the stdlib parser is lenient; this is only belt and braces
        return []
    found: list[tuple[str, str, str]] = []
    for part in msg.walk():
        if len(found) >= limit:
            break
        if part.is_multipart():
            continue
        filename = part.get_filename()
        content_type = part.get_content_type()
        if not filename or not (content_type in TEXT_TYPES or filename.lower().endswith((".csv", ".json"))):
            continue
        data = _payload(part)
        if data is None or len(data) > max_bytes:
            continue
        text = _decode_bytes(data, part.get_content_charset(), [])
        found.append((sanitise_filename(str(filename)), content_type, text))
    return found


def _payload(part: Message) -> bytes | None:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: skip the part
        return None
    return data if isinstance(data, bytes) else None


def file_attachments(raw: bytes, max_total: int = 20_000_000) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """Return ``(filename, content_type, data)`` of the files attached to a message, and the names left out.

    Inline images that only illustrate an HTML body (a ``Content-ID`` and no attachment
    disposition: signatures, logos) are not files the writer attached, and are skipped quietly.
    Files past ``max_total`` bytes in all are left out and named in the second list.
    """
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except Exception:  # noqa: BLE001 - see text_attachments
        return [], []
    kept: list[tuple[str, str, bytes]] = []
    left_out: list[str] = []
    total = 0
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition != "attachment" and (not filename or part.get("content-id")):
            continue
        data = _payload(part)
        if data is None:
            continue
        name = sanitise_filename(str(filename or "attachment"))
        if total + len(data) > max_total:
            left_out.append(name)
            continue
        total += len(data)
        kept.append((name, part.get_content_type(), data))
    return kept, left_out
