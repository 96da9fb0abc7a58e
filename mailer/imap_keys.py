"""Naming IMAP messages (pure): keys, cursors and UID sets.

A key is ``"<UIDVALIDITY>:<UID>"``: a UID names a message only as long as the folder keeps its
UIDVALIDITY, so a key or cursor from another UIDVALIDITY is treated as unknown (RFC 3501 2.3.1.1).
A key is also the cursor that resumes after it. :func:`uid_sets` writes the UIDs of many keys as
the short sequence sets (RFC 3501 9, ``sequence-set``) that :class:`mailer.imap.ImapSource` sends.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence, TypeVar

log = logging.getLogger(__name__)

#: The longest UID set one command names: RFC 7162 section 4 asks clients to keep command lines
#: under about 8192 octets.
MAX_UID_SET_CHARS = 8000

T = TypeVar("T")


def format_key(uidvalidity: int, uid: int) -> str:
    """Return the key of message ``uid`` in a folder with ``uidvalidity``."""
    return f"{uidvalidity}:{uid}"


def parse_key(key: str) -> tuple[int, int]:
    """Return ``(uidvalidity, uid)`` from a key or cursor. Raises :class:`ValueError` if malformed."""
    uidvalidity, sep, uid = key.partition(":")
    if not (sep and key.isascii() and uidvalidity.isdigit() and uid.isdigit()) or int(uid) == 0:
        raise ValueError(f"not an IMAP key (UIDVALIDITY:UID): {key!r}")
    return int(uidvalidity), int(uid)


def uids_for(keys: Iterable[str], uidvalidity: int) -> list[int]:
    """Return the sorted, distinct UIDs of the well-formed ``keys`` that belong to ``uidvalidity``."""
    uids = set()
    for key in keys:
        try:
            key_validity, uid = parse_key(key)
        except ValueError:
            log.warning("ignoring malformed IMAP key %r", key)
            continue
        if key_validity == uidvalidity:
            uids.add(uid)
    return sorted(uids)


def uid_sets(uids: Iterable[int], max_chars: int = MAX_UID_SET_CHARS) -> list[str]:
    """Compress UIDs into IMAP sequence sets (``"1:4,7,9:12"``), each at most ``max_chars`` long.

    Only consecutive UIDs are joined into a range, so a set never names a UID that was not given.
    """
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    sets: list[str] = []
    current = ""
    for first, last in ranges:
        part = str(first) if first == last else f"{first}:{last}"
        if current and len(current) + 1 + len(part) > max_chars:
            sets.append(current)
            current = ""
        current = f"{current},{part}" if current else part
    if current:
        sets.append(current)
    return sets


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of ``items`` holding at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_utc(moment: datetime) -> datetime:
    """Return an INTERNALDATE as an aware UTC datetime (a zone-less one is taken to be UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
