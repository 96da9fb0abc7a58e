"""Configuration dictionaries for tests of the configuration's checks."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def minimal(**sections) -> dict:
    """A valid configuration (the example Maildir, the default outbox) with ``sections`` merged in."""
    data = {"mailbox": {"backend": "maildir", "path": str(ROOT / "examples/inbox")},
            "support": {"address": "support@example.com"}}
    for name, values in sections.items():
        if isinstance(values, dict):
            data.setdefault(name, {}).update(values)
        else:
            data[name] = values
    return data
