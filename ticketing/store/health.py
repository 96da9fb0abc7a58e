"""Whether the worker's connections work: one row per connection."""
from __future__ import annotations

from datetime import datetime

import peewee as pw

from ticketing.core.domain import ComponentState


class HealthMixin:
    db: pw.Database

    def component(self, name: str) -> ComponentState | None:
        m = self.m
        row = m.ComponentHealth.get_or_none(m.ComponentHealth.name == name)
        return _state(row) if row else None

    def components(self) -> list[ComponentState]:
        m = self.m
        return [_state(row) for row in m.ComponentHealth.select().order_by(m.ComponentHealth.name)]

    def save_component(self, name: str, *, failing_since: datetime | None, last_error: str,
                       alerted_at: datetime | None, now: datetime) -> None:
        m = self.m
        values = dict(failing_since=failing_since, last_error=last_error, alerted_at=alerted_at, updated_at=now)
        (m.ComponentHealth.insert(name=name, **values)
         .on_conflict(conflict_target=[m.ComponentHealth.name],
                      update={getattr(m.ComponentHealth, k): v for k, v in values.items()})
         .execute())


def _state(row) -> ComponentState:
    return ComponentState(row.name, row.failing_since, row.last_error, row.alerted_at, row.updated_at)
