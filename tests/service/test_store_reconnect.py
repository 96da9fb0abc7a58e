"""A PostgreSQL server that restarts under an open store: the call that meets the dead connection
fails with one StorageError, and the next one connects again (it failed for ever before: peewee
kept the closed connection)."""
from datetime import datetime, timezone

import pytest

from ticketing.errors import StorageError
from ticketing.store import SqlStore

pytestmark = pytest.mark.postgres


def test_after_the_server_restarts_the_store_connects_again(private_pg):
    store = SqlStore.open(private_pg.url)
    try:
        assert store.count_messages() == 0
        private_pg.stop()
        private_pg.start()
        with pytest.raises(StorageError):
            store.count_messages()  # this one met the connection the server closed
        assert store.count_messages() == 0
        with store.transaction():
            store.set_cursor("support", "1:1", datetime(2026, 1, 1, tzinfo=timezone.utc))
        private_pg.stop()
        private_pg.start()
        with pytest.raises(StorageError):
            with store.transaction():
                store.cursor("support")
        assert store.cursor("support") == "1:1"
    finally:
        store.close()
