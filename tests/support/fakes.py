"""An in-memory mailbox, for tests of the layers above the real sources."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Sequence

from mailer.source import SourceMessage


class FakeSource:
    """Holds messages in memory; keys are zero-padded numbers so that they sort in arrival order."""

    def __init__(self, name: str = "fake"):
        self.name = name
        self.messages: dict[str, SourceMessage] = {}
        self.processed: list[str] = []
        self.quarantined: list[str] = []
        self.fail_acknowledge: Exception | None = None
        self.fetches = 0

    def add(self, raw: bytes, received_at: datetime | None = None) -> str:
        key = f"{len(self.messages) + 1:08d}"
        when = received_at or datetime(2026, 11, 18, 16, 0, len(self.messages) % 60, tzinfo=timezone.utc)
        self.messages[key] = SourceMessage(key=key, raw=raw, received_at=when)
        return key

    def list_new(self, cursor: str | None) -> list[str]:
        return sorted(k for k in self.messages if cursor is None or k > cursor)

    def cursor_after(self, key: str) -> str | None:
        return key

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        self.fetches += 1
        return [self.messages[k] for k in keys if k in self.messages]

    def sizes(self, keys: Sequence[str]) -> dict[str, int]:
        return {k: len(self.messages[k].raw) for k in keys if k in self.messages}

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        if self.fail_acknowledge is not None:
            raise self.fail_acknowledge
        self.processed.extend(processed)
        self.quarantined.extend(quarantined)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass
