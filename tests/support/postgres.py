"""A PostgreSQL database for tests, on the server at 127.0.0.1:5432 (trust auth).

Each test session creates its own database and drops it at the end; each test gets empty tables.
"""
from __future__ import annotations

import os
import uuid

import pytest

from .servers import server_unavailable

ADMIN_DSN = os.environ.get("WHITEGLOVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

__all__ = ["emptied", "pg_database_url", "pg_url"]


def _admin_connect():
    import psycopg2

    conn = psycopg2.connect(ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_database_url():
    """The URL of a database made for this test session."""
    try:
        admin = _admin_connect()
    except Exception as exc:  # any failure here means: no server for us
        server_unavailable(f"PostgreSQL is not reachable at {ADMIN_DSN}: {exc}")
    name = f"wg_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def emptied(url: str) -> str:
    """``url``'s database with every table dropped; returns ``url``."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()
    return url


@pytest.fixture
def pg_url(pg_database_url):
    """The session database with every table dropped, so the test starts from nothing."""
    return emptied(pg_database_url)
