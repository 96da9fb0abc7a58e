"""``whiteglove db backup FILE``: a consistent copy of the SQLite database while the worker writes,
never over an existing file; for PostgreSQL, the pg_dump command to run instead."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.desk import CONFIG, Desk
from support.mail import make_message

from ticketing.app.cli import main
from ticketing.store import SqlStore

ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, url: str) -> Path:
    config = folder / "whiteglove.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[mailbox]\nbackend = "maildir"\n'
                      f'path = "{ROOT / "examples" / "inbox"}"\n[support]\naddress = "support@example.com"\n')
    return config


@pytest.fixture
def live(tmp_path):
    """The worker's database with two tickets committed, its connection still open (so the last
    commits sit in the -wal file, where a copy of the main file would miss them)."""
    store = SqlStore.open(f"sqlite:///{tmp_path / 'whiteglove.db'}")
    desk = Desk(store, CONFIG)
    desk.receive(make_message(sender="Bob <bob@globex.example>", message_id="<a@globex>", subject="Export fails"))
    desk.receive(make_message(sender="Jane <jane@initech.example>", message_id="<b@initech>", subject="SSO loop"))
    yield store
    store.close()


def tickets(store: SqlStore) -> list[tuple[int, str, str]]:
    return [(t.id, t.subject, t.requester) for t in store.list_tickets(status="all")]


def test_a_backup_taken_while_another_connection_writes_holds_every_committed_ticket(live, tmp_path, capsys):
    db = tmp_path / "whiteglove.db"
    assert (tmp_path / "whiteglove.db-wal").stat().st_size > 0
    committed = tickets(live)
    assert len(committed) == 2
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the worker in the middle of a unit of work
    writer.execute("UPDATE ticket SET subject = 'not committed'")
    try:
        code = main(["db", "backup", str(tmp_path / "copy.db"), "--config", str(write_config(tmp_path, f"sqlite:///{db}"))])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and "copy.db" in out
    copy = SqlStore.open(f"sqlite:///{tmp_path / 'copy.db'}", create=False)  # checks the schema version too
    try:
        assert tickets(copy) == committed
    finally:
        copy.close()
    assert (tmp_path / "copy.db").stat().st_mode & 0o077 == 0  # customers' mail: the owner's only
    assert sorted(p.name for p in tmp_path.glob("*copy.db*")) == ["copy.db"]  # no partial file left behind


def test_a_backup_never_overwrites_a_file(live, tmp_path, capsys):
    target = tmp_path / "copy.db"
    target.write_bytes(b"yesterday's backup")
    code = main(["db", "backup", str(target), "--config", str(write_config(tmp_path, "sqlite:///whiteglove.db"))])
    _, err = capsys.readouterr()
    assert code == 1 and target.read_bytes() == b"yesterday's backup"
    assert err.count("\n") == 1 and f"{target} exists" in err and "Traceback" not in err


def test_a_backup_of_a_missing_database_says_so_and_creates_nothing(tmp_path, capsys):
    code = main(["db", "backup", str(tmp_path / "copy.db"), "--config", str(write_config(tmp_path, "sqlite:///gone.db"))])
    _, err = capsys.readouterr()
    assert code == 1 and f"no database at {tmp_path / 'gone.db'}" in err and err.count("\n") == 1
    assert not (tmp_path / "gone.db").exists() and not (tmp_path / "copy.db").exists()


def test_postgresql_gets_the_pg_dump_command_without_the_password(tmp_path, capsys):
    config = write_config(tmp_path, "postgresql://wg:s3cret@db.example:5433/helpdesk")
    code = main(["db", "backup", "/backups/wg.dump", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "pg_dump -h db.example -p 5433 -U wg --format=custom --file=/backups/wg.dump helpdesk" in err
    assert "s3cret" not in err
