import sqlite3
from datetime import date

import pytest

from ticketing.core.domain import EventKind
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


def _run_sql(db_url, *statements: str) -> None:
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url[len("sqlite:///"):])
        for statement in statements:
            conn.executescript(statement)
        conn.commit()
    else:
        import psycopg2

        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
    conn.close()


def _ddl(db_url, version: int) -> str:
    dialect = "sqlite" if db_url.startswith("sqlite:///") else "postgresql"
    return (DATA / f"schema_v{version}.{dialect}.sql").read_text()


MESSAGE = ("INSERT INTO inbound_message (dedupe_key, message_id, mailbox, source_key, status, kind, ticket_id, received_at,"
           " from_addr, from_name, to_addrs, cc_addrs, subject, in_reply_to, \"references\", body_text, attachments,"
           " origin_reason, failed_recipients, size, raw, created_at) VALUES ('mid:q1@globex.example', 'q1@globex.example',"
           " 'fake', '1', 'processed', 'new', 1, '2026-11-18 16:00:00', 'bob@globex.example', 'Bob', '', '', 'SSO loop',"
           " '', '', 'body', '[]', '', '', 4, 'body', '2026-11-18 16:00:00')")


def _load_v1(db_url):
    """A database exactly as the first release (schema 1) made it, holding one ticket and its message."""
    _run_sql(db_url, _ddl(db_url, 1),
             "INSERT INTO ticket (kind, status, priority, subject, requester, requester_name, created_at, updated_at)"
             " VALUES ('support', 'open', 'P3', 'SSO loop', 'bob@globex.example', 'Bob', '2026-11-18 16:00:00',"
             " '2026-11-18 16:00:00')", MESSAGE)


def _load_v2(db_url):
    """A database as schema 2 made it: a go-live intent with its cut-over date, changed once."""
    _run_sql(db_url, _ddl(db_url, 2),
             "INSERT INTO ticket (kind, status, priority, subject, requester, requester_name, created_at, updated_at,"
             " review, reasons, assignment, cutover_date, cutover_text, first_response_state, resolution_state)"
             " VALUES ('golive_intent', 'open', 'P1', 'Go-live', 'bob@globex.example', 'Bob', '2026-11-18 16:00:00',"
             " '2026-11-18 16:00:00', false, '[]', '{}', '2027-01-14', '14 January', '', '')", MESSAGE,
             "INSERT INTO ticket_event (ticket_id, at, kind, actor, detail) VALUES (1, '2026-11-19 10:00:00',"
             " 'cutover_changed', 'bob@globex.example', '{\"cutover_date\": \"2027-01-14\"}')")


def _fresh_shape(db_url, tmp_path):
    """The shape of a database this code creates from nothing (in place of ``db_url``'s on PostgreSQL)."""
    if db_url.startswith("sqlite:///"):
        db_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        _run_sql(db_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    fresh = SqlStore.open(db_url)
    try:
        return _shape(fresh.db)
    finally:
        fresh.close()


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

    assert _fresh_shape(db_url, tmp_path) == migrated


def test_a_version_2_database_upgrades_to_the_same_shape_as_a_new_one_and_keeps_its_go_live_dates(db_url, tmp_path):
    _load_v2(db_url)
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        SqlStore.open(db_url)
    store = bare(db_url)
    assert store.upgrade() == (2, SCHEMA_VERSION)
    migrated = _shape(store.db)
    [ticket] = store.list_tickets()
    assert (ticket.golive_date, ticket.golive_text) == (date(2027, 1, 14), "14 January")
    assert [e.kind for e in store.events(ticket.id)] == [EventKind.GOLIVE_CHANGED]
    assert store.pending_refusals() == []  # the new table is there
    store.close()
    assert _fresh_shape(db_url, tmp_path) == migrated


def test_a_version_7_database_gets_meeting_locations_and_proposed_times_and_keeps_its_meetings(db_url, tmp_path):
    # A database as schema 7 made it: today's tables without the columns version 8 adds.
    from datetime import datetime, timezone

    from ticketing.core.domain import MeetingAttendee, MeetingStatus

    store = SqlStore.open(db_url)
    with store.transaction():
        account = store.save_account(name="Acme", tier=None, engineer=None, timezone=None, origin="notice",
                                     now=datetime(2026, 11, 18, tzinfo=timezone.utc))
        engagement = store.create_engagement(account_id=account, engineer=None, tier=None, contract_id="SOW-1",
                                             close_date=None, sales_rep="", golive_date=None, ticket_id=None, details={},
                                             now=datetime(2026, 11, 18, tzinfo=timezone.utc))
        start = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)
        store.save_meeting(engagement_id=engagement, key="kickoff", title="Kick-off", description="", uid="u1@x",
                           start=start, end=start.replace(hour=16), status=MeetingStatus.PLANNED, note="",
                           attendees=[MeetingAttendee("jane@acme.example")], now=start)
    store.close()
    _run_sql(db_url, *(f'ALTER TABLE "{table}" DROP COLUMN "{column}"' for table, column in (
        ("meeting", "location"), ("meeting_attendee", "proposed_start"), ("meeting_attendee", "proposed_end"),
        ("meeting_attendee", "proposed_at"))), "UPDATE wg_schema SET version = 7")
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        SqlStore.open(db_url)
    store = bare(db_url)
    assert store.upgrade() == (7, SCHEMA_VERSION)
    migrated = _shape(store.db)
    [meeting] = store.meetings(engagement)
    assert (meeting.title, meeting.location, meeting.attendees[0].proposed_start) == ("Kick-off", "", None)
    store.close()
    assert _fresh_shape(db_url, tmp_path) == migrated


def test_a_version_9_database_gets_the_task_table_and_keeps_its_engagements(db_url, tmp_path):
    # A database as schema 9 made it: today's tables without the task table version 10 adds.
    from datetime import datetime, timezone

    from ticketing.core.tasks import TaskStatus

    now = datetime(2026, 11, 18, tzinfo=timezone.utc)
    store = SqlStore.open(db_url)
    with store.transaction():
        account = store.save_account(name="Acme", tier=None, engineer=None, timezone=None, origin="notice", now=now)
        engagement = store.create_engagement(account_id=account, engineer=None, tier=None, contract_id="SOW-1",
                                             close_date=None, sales_rep="", golive_date=None, ticket_id=None, details={},
                                             now=now)
    store.close()
    _run_sql(db_url, 'DROP TABLE "task"', "UPDATE wg_schema SET version = 9")
    with pytest.raises(SchemaError, match="run 'whiteglove db upgrade'"):
        SqlStore.open(db_url)
    store = bare(db_url)
    assert store.upgrade() == (9, SCHEMA_VERSION)
    migrated = _shape(store.db)
    assert store.get_engagement(engagement).contract_id == "SOW-1"
    with store.transaction():
        store.save_tasks(engagement, [("tools", "Tools access", "customer:it", date(2026, 12, 1), True, "")], now)
    [task] = store.tasks(engagement)
    assert (task.key, task.owner, task.due, task.status) == ("tools", "customer:it", date(2026, 12, 1), TaskStatus.OPEN)
    store.close()
    assert _fresh_shape(db_url, tmp_path) == migrated


def test_a_version_13_database_keeps_its_plain_message_ids_so_nothing_sent_goes_again(db_url, tmp_path):
    # A database as schema 13 made it: outgoing mail with plain ids (wg.CAUSE), no settings table.
    from datetime import datetime, timezone

    from ticketing.core.mails import Draft, Support
    from ticketing.services.outbox import Outbox

    now = datetime(2026, 11, 23, 16, tzinfo=timezone.utc)
    store = SqlStore.open(db_url)
    with store.transaction():
        store.queue_mail(message_id="wg.weekly.2026-W47.dana-northwind-example@northwind.example", purpose="weekly",
                         ticket_id=None, recipients=["dana@northwind.example"], envelope_from="support@northwind.example",
                         subject="Weekly", draft="{}", now=now)
    store.close()
    _run_sql(db_url, 'DROP TABLE "setting"', "UPDATE wg_schema SET version = 13")
    store = bare(db_url)
    assert store.upgrade() == (13, SCHEMA_VERSION)
    migrated = _shape(store.db)
    outbox = Outbox(store, Support("support@northwind.example", "Northwind Support"))
    assert outbox.queued_before("weekly.2026-W47.dana-northwind-example")  # the summary sent before the upgrade
    assert not outbox.queued_before("weekly.2026-W48.dana-northwind-example")
    with store.transaction():
        again = outbox.queue(Draft(purpose="weekly", token="weekly.2026-W47.dana-northwind-example", to=(),
                                   subject="Weekly", body=("text", None)), now)
    assert again is None and len(store.outbox()) == 1
    store.close()
    assert _fresh_shape(db_url, tmp_path) == migrated
