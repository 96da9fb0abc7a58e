"""The ticket store: every database read and write of the application, behind plain methods.

Peewee stays inside this package (and ``models``/``schema``); callers get domain objects. Writes
run inside :meth:`SqlStore.transaction` (the unit of work); :meth:`SqlStore.savepoint` nests one so
that a failing message rolls back alone. The queries are grouped by subject in the mixins.
"""
from __future__ import annotations

import peewee as pw

from ticketing.store.accounts import AccountsMixin
from ticketing.store.base import StoreBase, storage_error, translating_errors
from ticketing.store.bookings import BookingsMixin
from ticketing.store.health import HealthMixin
from ticketing.store.leases import LeasesMixin
from ticketing.store.meetings import MeetingsMixin
from ticketing.store.messages import MessagesMixin
from ticketing.store.milestones import MilestonesMixin
from ticketing.store.models import create_models
from ticketing.store.outbox import OutboxMixin
from ticketing.store.schema import (
    current_version,
    ensure_schema,
    open_database,
    upgrade,
)
from ticketing.store.settings import SettingsMixin
from ticketing.store.status import StatusMixin
from ticketing.store.tasks import TasksMixin
from ticketing.store.ticket_reads import TicketReadsMixin
from ticketing.store.tickets import TicketsMixin

__all__ = ["SqlStore"]


@translating_errors
class SqlStore(MessagesMixin, TicketsMixin, TicketReadsMixin, AccountsMixin, MeetingsMixin, TasksMixin,
               MilestonesMixin, OutboxMixin, HealthMixin, StatusMixin, LeasesMixin, SettingsMixin, BookingsMixin,
               StoreBase):
    """The store on SQLite or PostgreSQL."""

    @classmethod
    def open(cls, url: str, create: bool = True) -> "SqlStore":
        """Open the database at ``url``; check its schema (creating it when empty and ``create``).

        Raises :class:`~ticketing.errors.StorageError` (:class:`~ticketing.errors.SchemaError` for a
        schema of another version) when it cannot be used.
        """
        models = create_models(open_database(url))
        try:
            if create:
                ensure_schema(models)
            return cls(models)
        except pw.PeeweeException as exc:
            models.database.close()
            raise storage_error(exc) from exc
        except BaseException:
            models.database.close()
            raise

    def upgrade(self) -> tuple[int, int]:
        """Create or migrate the schema to the version this code knows; return (version before, after).

        Raises :class:`~ticketing.errors.SchemaError` when the database is newer than this code.
        """
        return upgrade(self.m)

    def ensure_schema(self) -> None:
        """Create an empty database's schema (inside a unit of work, which may roll it back: both
        databases' DDL is transactional); raises SchemaError for a database at another version."""
        ensure_schema(self.m)

    def schema_version(self) -> int:
        """The schema version the database is at; 0 for an empty database."""
        return current_version(self.m)
