"""The service tests run on SQLite and on PostgreSQL: ``store`` is a fresh database of each."""
from __future__ import annotations

import pytest

from ticketing.store import SqlStore


@pytest.fixture
def store(db_url):
    store = SqlStore.open(db_url)
    yield store
    store.close()
