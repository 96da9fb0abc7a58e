"""The interface of a mailbox that whiteglove reads, and the message it hands out.

A source lists the keys of messages it holds, fetches their raw bytes in batches, and is told
afterwards which ones were processed and which were quarantined. It never deletes anything.

Keys are strings that stay stable for a message as long as it stays in the mailbox: the Maildir
unique name, or ``"<UIDVALIDITY>:<UID>"`` on IMAP. The caller keeps its own record of which keys it
has handled; a *cursor* is an optional hint that lets a source skip what is certainly old.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Sequence


@dataclass(frozen=True)
class SourceMessage:
    """One message as the mailbox holds it."""

    key: str
    raw: bytes
    #: When the message reached the mailbox (IMAP INTERNALDATE, Maildir delivery time): aware, UTC;
    #: None when the source cannot tell (a loose ``.eml`` file).
    received_at: datetime | None


class MailboxSource(Protocol):
    """A mailbox whiteglove reads. Implementations: ``MaildirSource``, ``ImapSource``."""

    #: A short name for logs and for the intake state kept by the caller.
    name: str

    def list_new(self, cursor: str | None) -> list[str]:
        """Return the keys of the messages after ``cursor``, oldest first.

        ``cursor`` is what :meth:`cursor_after` returned for the last handled key, or ``None``.
        A source that cannot resume from a cursor (or finds it stale) lists every message.
        Raises :class:`~mailer.errors.MailboxError`.
        """

    def cursor_after(self, key: str) -> str | None:
        """Return the cursor that resumes listing after ``key`` (``None`` if the source has none)."""

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        """Return the messages for ``keys`` in one round trip where the protocol allows.

        Keys that no longer exist are left out. Raises :class:`~mailer.errors.MailboxError`.
        """

    # Optional: ``sizes(keys) -> dict[str, int]``, the size in bytes of each key that exists, without
    # fetching the messages (IMAP RFC822.SIZE, a file's size), so that a caller can bound a batch by
    # bytes and leave an over-large message alone in its batch. ``MaildirSource`` and ``ImapSource``
    # have it; a source without it is fetched by count only.

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        """Mark messages as handled: flag them and move them to the processed or quarantine folder.

        Idempotent: keys already moved or unknown are ignored. Raises :class:`~mailer.errors.MailboxError`.
        """

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may have arrived, ``timeout`` seconds pass, or ``stop`` is set."""

    def close(self) -> None:
        """Release the connection, if any. The source may be used again afterwards (it reconnects)."""


class RoundCursor:
    """The cursor of a source read in rounds (a Graph delta link, an EWS sync state).

    A round lists every new key and ends with a new cursor; the caller stores ``cursor_after`` with
    each committed batch. Only the round's last key hands out the new cursor, so it is stored once
    everything before it is committed: a crash replays the round, which the caller's dedupe absorbs.
    """

    def __init__(self) -> None:
        self._round: tuple[str | None, str | None, str | None] = (None, None, None)

    def begin(self, old: str | None, keys: Sequence[str], new: str | None) -> None:
        self._round = (old, keys[-1] if keys else None, new)

    def after(self, key: str) -> str | None:
        old, last, new = self._round
        return new if key == last or last is None else old
