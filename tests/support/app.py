"""Building the application's parts for tests, as ``ticketing.app.bootstrap`` does for the worker."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from ticketing.app.bootstrap import build_minimal_desk
from ticketing.services.intake import Intake
from ticketing.store import SqlStore


def plain_intake(store: SqlStore, clock: Callable[[], datetime], batch_size: int = 200) -> Intake:
    """Intake with a help desk that has no engineers, playbooks or SLA policies."""
    return Intake(store, clock, build_minimal_desk(store), batch_size=batch_size)
