import pytest

from ticketing.errors import SchemaError
from ticketing.store import SqlStore
from ticketing.store.schema import SCHEMA_VERSION


def bare(url: str) -> SqlStore:
    """The store on ``url`` without creating or checking its schema (as ``whiteglove db upgrade`` opens it)."""
    return SqlStore.open(url, create=False)


def test_an_empty_database_is_created_at_the_current_version(db_url):
    store = bare(db_url)
    assert store.schema_version() == 0
    store.close()
    store = SqlStore.open(db_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.upgrade() == (SCHEMA_VERSION, SCHEMA_VERSION)
    store.close()


def test_an_older_schema_is_refused_until_db_upgrade_migrates_it(db_url, monkeypatch):
    from ticketing.store import schema

    SqlStore.open(db_url).close()  # the database is at this version; now pretend the code has a newer one
    ran = []
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION + 1, lambda models: ran.append("next"))
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        SqlStore.open(db_url)
    store = bare(db_url)
    assert store.upgrade() == (SCHEMA_VERSION, SCHEMA_VERSION + 1)
    store.close()
    assert ran == ["next"]
    SqlStore.open(db_url).close()


def test_a_newer_schema_is_refused(db_url):
    store = SqlStore.open(db_url)
    store.db.execute_sql("UPDATE wg_schema SET version = version + 1")
    store.close()
    with pytest.raises(SchemaError, match="newer than this whiteglove"):
        SqlStore.open(db_url)
    with pytest.raises(SchemaError, match="newer than this whiteglove"):
        bare(db_url).upgrade()


def test_processes_opening_an_empty_database_at_once_all_succeed(db_url):
    # The worker and a command started together both find an empty database and create it.
    import subprocess
    import sys

    code = "import sys; from ticketing.store import SqlStore; SqlStore.open(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, errors
    store = bare(db_url)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()


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
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        SqlStore.open(db_url)
    store = bare(db_url)
    assert store.upgrade() == (1, SCHEMA_VERSION)
    migrated = _shape(store.db)
    [ticket] = store.list_tickets()
    assert (ticket.subject, ticket.requester, ticket.message_count) == ("SSO loop", "bob@globex.example", 1)
    store.close()

    if db_url.startswith("sqlite:///"):
        fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
        fresh = SqlStore.open(fresh_url)
        assert _shape(fresh.db) == migrated
        fresh.close()
    else:
        import psycopg2

        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        conn.cursor().execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.close()
        fresh = SqlStore.open(db_url)
        assert _shape(fresh.db) == migrated
        fresh.close()
