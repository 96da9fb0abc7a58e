import pytest

from ticketing import models
from ticketing.schema import SCHEMA_VERSION, SchemaError, current_version, ensure_schema, open_database, upgrade
from ticketing.store import SqlStore


def test_an_empty_database_is_created_at_the_current_version(db_url):
    db = open_database(db_url)
    assert current_version(db) == 0
    ensure_schema(db)
    assert current_version(db) == SCHEMA_VERSION
    assert upgrade(db) == (SCHEMA_VERSION, SCHEMA_VERSION)
    db.close()


def test_an_older_schema_is_refused_until_db_upgrade_migrates_it(db_url, monkeypatch):
    from ticketing import schema

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
