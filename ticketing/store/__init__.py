"""The ticket store: every database read and write of the application, behind plain methods.

Peewee stays inside this package (and ``models``/``schema``); callers get domain objects. Writes
run inside :meth:`SqlStore.transaction` (the unit of work); :meth:`SqlStore.savepoint` nests one so
that a failing message rolls back alone. The queries are grouped by subject in the mixins.
"""
from __future__ import annotations

from ticketing.store.accounts import AccountsMixin
from ticketing.store.base import StoreBase
from ticketing.store.meetings import MeetingsMixin
from ticketing.store.messages import MessagesMixin
from ticketing.store.outbox import OutboxMixin
from ticketing.store.schema import ensure_schema, open_database, upgrade
from ticketing.store.tickets import TicketsMixin

__all__ = ["SqlStore"]


class SqlStore(MessagesMixin, TicketsMixin, AccountsMixin, MeetingsMixin, OutboxMixin, StoreBase):
    """The store on SQLite or PostgreSQL."""

    @classmethod
    def open(cls, url: str, create: bool = True) -> "SqlStore":
        """Open the database at ``url``; check its schema (creating it when empty and ``create``)."""
        db = open_database(url)
        if create:
            ensure_schema(db)
        return cls(db)

    def upgrade(self) -> tuple[int, int]:
        """Create or migrate the schema to the version this code knows; return (version before, after).

        Raises :class:`~ticketing.errors.SchemaError` when the database is newer than this code.
        """
        return upgrade(self.db)
