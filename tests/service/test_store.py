"""The store's boundary: each store answers from its own database, values are clipped to their
columns by the store (not by its callers), and a failing database is a StorageError, never peewee's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ticketing.core.domain import TicketKind
from ticketing.errors import StorageError
from ticketing.store import SqlStore

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


def open_ticket(store: SqlStore, subject: str, requester: str = "bob@globex.example", name: str = "Bob") -> int:
    with store.transaction():
        return store.create_ticket(kind=TicketKind.SUPPORT, priority="P3", subject=subject, requester=requester,
                                   requester_name=name, now=NOW)


def test_two_stores_in_one_process_each_answer_from_their_own_database(store, tmp_path):
    other = SqlStore.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        mine = open_ticket(store, "SSO loop")
        theirs = open_ticket(other, "Export fails")
        open_ticket(other, "Second question")

        assert [t.subject for t in store.list_tickets()] == ["SSO loop"]
        assert [t.subject for t in other.list_tickets()] == ["Export fails", "Second question"]
        assert store.get_ticket(mine).subject == "SSO loop"
        assert other.get_ticket(theirs).subject == "Export fails"
        assert store.ticket_exists(mine) and not store.ticket_exists(mine + 1)
    finally:
        other.close()
    # the other store closed: this one still works
    assert [t.subject for t in store.list_tickets()] == ["SSO loop"]


def test_the_store_clips_values_to_their_columns_and_keeps_nul_out_of_text(store):
    requester = "a" * 400 + "@globex.example"
    ticket_id = open_ticket(store, "x\x00y" * 300, requester=requester, name="N" * 300)
    ticket = store.get_ticket(ticket_id)
    assert ticket.requester == requester[:320]
    assert ticket.requester_name == "N" * 200
    assert len(ticket.subject) == 500 and "\x00" not in ticket.subject and ticket.subject.startswith("x\ufffdy")
    with store.transaction():
        store.update_ticket(ticket_id, NOW, requester_name="M" * 250, golive_text="c" * 900)
    ticket = store.get_ticket(ticket_id)
    assert (ticket.requester_name, ticket.golive_text) == ("M" * 200, "c" * 500)


def test_a_file_that_is_no_database_is_a_storage_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StorageError, match="cannot open the database .*notes.db: file is not a database"):
        SqlStore.open(f"sqlite:///{path}")


@pytest.mark.postgres
def test_a_database_that_goes_away_mid_command_is_a_storage_error(pg_url):
    import psycopg2

    store = SqlStore.open(pg_url)
    try:
        open_ticket(store, "SSO loop")
        pid = store.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        admin = psycopg2.connect(pg_url)
        admin.autocommit = True
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.close()
        with pytest.raises(StorageError, match="the database failed"):
            store.list_tickets()
    finally:
        store.close()


def test_every_model_is_created_with_the_schema(store):
    """``Models.all`` lists every model: a table left out would be missing from new databases."""
    from dataclasses import fields

    models = [getattr(store.m, f.name) for f in fields(store.m) if f.name != "database"]
    assert set(store.m.all) == set(models) and len(store.m.all) == len(models)
    assert {m._meta.table_name for m in models} <= set(store.db.get_tables())


def test_message_ids_reserved_by_two_stores_never_clash(db_url):
    first, second = SqlStore.open(db_url), SqlStore.open(db_url)
    try:
        with first.transaction():
            mine = first.reserve_message_ids(3)
            for row_id in mine:
                first.add_message(id=row_id, dedupe_key=f"mid:{row_id}", mailbox="m", source_key=str(row_id),
                                  status="processed", received_at=NOW, size=1, raw=b"x", created_at=NOW)
        with second.transaction():
            theirs = second.reserve_message_ids(2)
        assert len(set(mine)) == 3 and mine == sorted(mine) and not set(mine) & set(theirs)
        assert second.count_messages() == 3
    finally:
        first.close()
        second.close()


def test_sqlite_reserves_message_ids_only_inside_a_transaction(tmp_path):
    store = SqlStore.open(f"sqlite:///{tmp_path / 'wg.db'}")
    try:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            store.reserve_message_ids(1)
    finally:
        store.close()


def test_a_mailbox_cursor_of_any_length_is_kept_whole(store):
    link = "https://graph.microsoft.com/v1.0/users/support/mailFolders/inbox/messages/delta?$deltatoken=" + "x" * 3000
    with store.transaction():
        store.set_cursor("graph:support", link, NOW)
    assert store.cursor("graph:support") == link
