"""The worker's heartbeat file (``run --health-file PATH``): what ``whiteglove status`` reads to tell
whether the worker runs.

After every pass the worker replaces the file (written to a temporary file in the same folder, then
renamed over it with :func:`os.replace`, so a reader never sees half a file) with one JSON object::

    {"pid": 4242, "time": "2026-11-20T17:00:00+00:00", "state": "running", "mailbox": "imap:...",
     "poll_seconds": 60, "next_pass_by": "...", "last_poll_ok": "...", "last_message": "...",
     "last_send": "...", "jobs": {"SLA sweep": {"every": 60, "last_run": "..."}}}

``state`` is ``running`` (the last pass worked), ``retrying`` (the mailbox or intake failed; the
worker waits before the next try until ``next_pass_by``) or ``stopped`` (written as it exits).
"""
from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["ago", "parse_time", "read_heartbeat", "write_heartbeat"]


def write_heartbeat(path: Path, data: dict) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically. Raises OSError."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, default=_iso)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_heartbeat(path: Path) -> dict | None:
    """The heartbeat in ``path``; None when there is no such file. Raises OSError when it cannot be
    read and ValueError when it is not a heartbeat."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or "time" not in data:
        raise ValueError("not a whiteglove heartbeat file")
    return data


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def ago(span: timedelta) -> str:
    """A span as an operator reads it: ``45 s``, ``12 min``, ``3 h 5 min``."""
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
