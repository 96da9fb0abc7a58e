import pytest

from ticketing.errors import SchemaError
from ticketing.store import SqlStore, models
from ticketing.store.schema import (
    SCHEMA_VERSION,
    current_version,
    ensure_schema,
    open_database,
    upgrade,
)


def test_an_empty_database_is_created_at_the_current_version(db_url):
    db = open_database(db_url)
    assert current_version(db) == 0
    ensure_schema(db)
    assert current_version(db) == SCHEMA_VERSION
    assert upgrade(db) == (SCHEMA_VERSION, SCHEMA_VERSION)
    db.close()


def test_an_older_schema_is_refused_until_db_upgrade_migrates_it(db_url, monkeypatch):
    from ticketing.store import schema

    db = open_database(db_url)
    upgrade(db)  # the database is at version 1; now pretend the code has a version 2
    ran = []
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION + 1, lambda db: ran.append("v2"))
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        schema.ensure_schema(db)
    assert schema.upgrade(db) == (SCHEMA_VERSION, SCHEMA_VERSION + 1)
    assert ran == ["v2"]
    schema.ensure_schema(db)
    db.close()


def test_a_newer_schema_is_refused(db_url):
    db = open_database(db_url)
    upgrade(db)
    models.SchemaVersion.update(version=SCHEMA_VERSION + 1).execute()
    with pytest.raises(SchemaError, match="newer than this whiteglove"):
        ensure_schema(db)
    with pytest.raises(SchemaError):
        SqlStore.open(db_url)
    db.close()


def test_processes_opening_an_empty_database_at_once_all_succeed(db_url):
    # The worker and a command started together both find an empty database and create it.
    import subprocess
    import sys

    code = "import sys; from ticketing.store import SqlStore; SqlStore.open(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, errors
    db = open_database(db_url)
    assert current_version(db) == SCHEMA_VERSION
    db.close()


DATA = __import__("pathlib").Path(__file__).parent / "data"


def _load_v1(db_url):
    """A database exactly as the first release (schema 1) made it, holding one ticket and its message."""
    import sqlite3

    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url[len("sqlite:///"):])
        conn.executescript((DATA / "schema_v1.sqlite.sql").read_text())
        run = conn.execute
    else:
        import psycopg2

        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        cursor = conn.cursor()
        cursor.execute((DATA / "schema_v1.postgresql.sql").read_text())
        run = cursor.execute
    run("INSERT INTO ticket (kind, status, priority, subject, requester, requester_name, created_at, updated_at)"
        " VALUES ('support', 'open', 'P3', 'SSO loop', 'bob@globex.example', 'Bob', '2026-11-18 16:00:00', '2026-11-18 16:00:00')")
    run("INSERT INTO inbound_message (dedupe_key, message_id, mailbox, source_key, status, kind, ticket_id, received_at,"
        " from_addr, from_name, to_addrs, cc_addrs, subject, in_reply_to, \"references\", body_text, attachments,"
        " origin_reason, failed_recipients, size, raw, created_at) VALUES ('mid:q1@globex.example', 'q1@globex.example',"
        " 'fake', '1', 'processed', 'new', 1, '2026-11-18 16:00:00', 'bob@globex.example', 'Bob', '', '', 'SSO loop',"
        " '', '', 'body', '[]', '', '', 4, 'body', '2026-11-18 16:00:00')")
    if db_url.startswith("sqlite:///"):
        conn.commit()
    conn.close()


def _shape(db):
    """Every table's columns (name, nullability) and indexes (columns, uniqueness)."""
    shape = {}
    for table in sorted(db.get_tables()):
        columns = sorted((c.name, c.null) for c in db.get_columns(table))
        indexes = sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table))
        shape[table] = (columns, indexes)
    return shape


def test_a_version_1_database_upgrades_to_the_same_shape_as_a_new_one_and_keeps_its_data(db_url, tmp_path):
    _load_v1(db_url)
    db = open_database(db_url)
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        ensure_schema(db)
    assert upgrade(db) == (1, SCHEMA_VERSION)
    migrated = _shape(db)
    store = SqlStore(db)
    [ticket] = store.list_tickets()
    assert (ticket.subject, ticket.requester, ticket.message_count) == ("SSO loop", "bob@globex.example", 1)
    db.close()

    if db_url.startswith("sqlite:///"):
        fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
        fresh = open_database(fresh_url)
        upgrade(fresh)
        assert _shape(fresh) == migrated
        fresh.close()
    else:
        import psycopg2

        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        conn.cursor().execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.close()
        fresh = open_database(db_url)
        upgrade(fresh)
        assert _shape(fresh) == migrated
        fresh.close()
