"""What config check (and run, before it starts) finds wrong on this machine without connecting:
secrets, the database's folder, the outbox, the Maildir, PostgreSQL's driver; and SLA coverage."""
import os
import sys

import pytest
from support.configs import minimal

from ticketing.app.preflight import machine_problems, preflight
from ticketing.config import config_from_dict


@pytest.fixture(autouse=True)
def no_credentials_directory(monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def problems(tmp_path, check=machine_problems, **sections):
    return [(p.key, p.message) for p in check(config_from_dict(minimal(**sections), base_dir=tmp_path))]


def test_the_default_maildir_and_outbox_setup_needs_nothing_more(tmp_path):
    assert problems(tmp_path, check=preflight) == []


def test_a_missing_database_folder_fails_as_run_would(tmp_path):
    """run creates the SQLite file but not its folder."""
    assert problems(tmp_path, database={"url": "sqlite:///data/wg.db"}) == [
        ("database.url", f"the database's folder {tmp_path / 'data'} does not exist")]


def test_a_database_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "data").write_text("")
    assert problems(tmp_path, database={"url": "sqlite:///data/wg.db"}) == [
        ("database.url", f"the database's folder {tmp_path / 'data'} is not a folder")]


def test_a_file_that_is_no_sqlite_database_is_named_before_run_meets_it(tmp_path):
    (tmp_path / "wg.db").write_text("my notes, not a database")
    assert problems(tmp_path, database={"url": "sqlite:///wg.db"}) == [
        ("database.url", f"{tmp_path / 'wg.db'} is not a SQLite database")]
    (tmp_path / "empty.db").write_bytes(b"")  # an empty file is what SQLite makes a database of
    assert problems(tmp_path, database={"url": "sqlite:///empty.db"}) == []


def test_an_outbox_folder_that_can_be_created_is_fine(tmp_path):
    assert problems(tmp_path, outgoing={"path": "mail/out/box"}) == []


def test_an_outbox_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    assert problems(tmp_path, outgoing={"path": "notes.txt/outbox"}) == [
        ("outgoing.path", f"cannot create the outbox folder {tmp_path / 'notes.txt/outbox'}: {tmp_path / 'notes.txt'} is a file")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_outbox_folder_nobody_may_write_in_is_named(tmp_path):
    (tmp_path / "outbox").mkdir(mode=0o500)
    assert problems(tmp_path) == [("outgoing.path", f"cannot write in the outbox folder {tmp_path / 'outbox'}")]


def test_an_unset_password_variable_fails_before_any_connection(tmp_path, monkeypatch):
    monkeypatch.delenv("WG_TEST_UNSET", raising=False)
    imap = {"backend": "imap", "host": "imap.example.com", "username": "u", "password_env": "WG_TEST_UNSET"}
    assert problems(tmp_path, mailbox=imap) == [("mailbox.password_env", "the environment variable WG_TEST_UNSET is not set")]


def test_postgresql_needs_its_driver(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # as if not installed: importing it raises ImportError
    assert problems(tmp_path, database={"url": "postgresql://wg@db.example.com/wg"}) == [
        ("database.url", "PostgreSQL needs the psycopg2 driver, which is not installed")]


def test_postgresql_with_its_driver_is_not_looked_at_further(tmp_path):
    pytest.importorskip("psycopg2")
    assert problems(tmp_path, database={"url": "postgresql://wg@db.example.com/wg"}) == []


def test_a_policy_without_a_target_for_every_priority_says_which_are_missing(tmp_path):
    sla = {"default_policy": "p", "policies": [{"name": "p", "targets": [
        {"priority": "P0", "first_response": "1h"}, {"priority": "P1", "resolution": "1d"}, {"priority": "P2"}]}]}
    assert problems(tmp_path, check=preflight, sla=sla) == [("sla.policies[0].targets", "policy 'p' has no target for P2, P3")]
    assert problems(tmp_path, sla=sla) == []  # the worker runs without it: only config check says so
