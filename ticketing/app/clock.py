"""The one place that reads the wall clock. Everything else takes ``now`` as a parameter."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)
