"""The content of attachments, from the one parse of a message (pure).

:func:`mailer.message.parse_message` lists attachments and decodes one only when its
:meth:`~mailer.body.Attachment.content` is asked for, so that a message with a large file costs
little memory. The few callers that need the content choose it here: a CRM's CSV or JSON notice
(:func:`text_attachments`), the files of an answer that is passed on (:func:`file_attachments`).
"""
from __future__ import annotations

from typing import Sequence

from mailer.body import Attachment
from mailer.charsets import decode_bytes as _decode_bytes

TEXT_TYPES = frozenset({"text/csv", "application/csv", "application/json", "text/json", "text/plain"})
DATA_SUFFIXES = (".csv", ".json")


def is_data_file(attachment: Attachment) -> bool:
    """Whether ``attachment`` is a named text file a program may have written (CSV, JSON, text)."""
    return attachment.named and (attachment.content_type in TEXT_TYPES
                                 or attachment.filename.lower().endswith(DATA_SUFFIXES))


def text_attachments(attachments: Sequence[Attachment], max_bytes: int = 1_000_000,
                     limit: int = 10) -> list[tuple[str, str, str]]:
    """Return ``(filename, content_type, text)`` of up to ``limit`` named text attachments.

    Files over ``max_bytes`` once decoded are skipped. Never raises.
    """
    found: list[tuple[str, str, str]] = []
    for attachment in attachments:
        if len(found) >= limit:
            break
        if not is_data_file(attachment):
            continue
        data = attachment.content()
        if data is None or len(data) > max_bytes:
            continue
        found.append((attachment.filename, attachment.content_type, _decode_bytes(data, attachment.charset, [])))
    return found


def file_attachments(attachments: Sequence[Attachment], max_total: int = 20_000_000,
                     max_files: int | None = None) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """Return ``(filename, content_type, data)`` of the files attached to a message, and the names left out.

    Inline images that only illustrate an HTML body (a ``Content-ID`` and no attachment
    disposition: signatures, logos) are not files the writer attached, and are skipped quietly, as
    are enclosed messages. Files past ``max_total`` bytes in all, or past the first ``max_files``
    files, are left out and named in the second list.
    """
    kept: list[tuple[str, str, bytes]] = []
    left_out: list[str] = []
    total = 0
    for attachment in attachments:
        if attachment.content_type.startswith("message/"):
            continue
        if attachment.disposition != "attachment" and (not attachment.named or attachment.content_id):
            continue
        if max_files is not None and len(kept) >= max_files:
            left_out.append(attachment.filename)
            continue
        if total + attachment.size > max_total:  # the size is known without decoding
            left_out.append(attachment.filename)
            continue
        data = attachment.content()
        if data is None:
            continue
        if total + len(data) > max_total:
            left_out.append(attachment.filename)
            continue
        total += len(data)
        kept.append((attachment.filename, attachment.content_type, data))
    return kept, left_out
