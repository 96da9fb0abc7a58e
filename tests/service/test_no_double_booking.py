"""The database itself never books an engineer twice (schema 16): two planned meetings of one
engineer cannot overlap, on SQLite (triggers) and PostgreSQL (an exclusion constraint)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ticketing.core.domain import MeetingStatus
from ticketing.errors import DoubleBooked, StorageError
from ticketing.store import SqlStore
from ticketing.store.schema import SCHEMA_VERSION

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
TEN = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
PRIYA, TOM = "priya@northwind.example", "tom@northwind.example"


@pytest.fixture
def store(db_url):
    store = SqlStore.open(db_url)
    yield store
    store.close()


def engagement(store: SqlStore, name: str, engineer: str | None = PRIYA) -> int:
    with store.transaction():
        account = store.save_account(name=name, tier="Enterprise", engineer=engineer, timezone="UTC", origin="crm",
                                     now=NOW)
        return store.create_engagement(account_id=account, engineer=engineer, tier="Enterprise", contract_id=name,
                                       close_date=date(2026, 11, 17), sales_rep="", golive_date=None, ticket_id=None,
                                       details={}, now=NOW)


def book(store: SqlStore, engagement_id: int, key: str, start: datetime, end: datetime | None = None,
         status: MeetingStatus = MeetingStatus.PLANNED) -> int:
    with store.transaction():
        return store.save_meeting(engagement_id=engagement_id, key=key, title=key, description="",
                                  uid=f"{key}.{engagement_id}@test", start=start, end=end or start + HOUR,
                                  status=status, note="", attendees=[], now=NOW)


def test_a_meeting_overlapping_another_planned_meeting_of_the_same_engineer_is_refused(store):
    acme, initech = engagement(store, "Acme"), engagement(store, "Initech")
    book(store, acme, "kickoff", TEN)
    with pytest.raises(DoubleBooked):
        book(store, initech, "kickoff", TEN + timedelta(minutes=30))
    with pytest.raises(DoubleBooked):  # inside one engagement too
        book(store, acme, "design", TEN - timedelta(minutes=30))
    assert [m.key for m in store.meetings(initech)] == []  # nothing of it was stored


def test_back_to_back_cancelled_unplaced_and_other_engineers_meetings_are_allowed(store):
    acme, initech, globex = engagement(store, "Acme"), engagement(store, "Initech"), engagement(store, "Globex", TOM)
    book(store, acme, "kickoff", TEN)
    book(store, initech, "kickoff", TEN + HOUR)  # starts when the other ends
    book(store, initech, "design", TEN, status=MeetingStatus.CANCELLED)
    with store.transaction():
        store.save_meeting(engagement_id=initech, key="review", title="review", description="", uid="review@test",
                           start=None, end=None, status=MeetingStatus.UNPLACED, note="", attendees=[], now=NOW)
    book(store, globex, "kickoff", TEN)  # Tom's time, not Priya's
    assert {m.key for m in store.meetings(initech)} == {"kickoff", "design", "review"}


def test_a_meeting_moved_onto_another_is_refused_and_moving_it_elsewhere_is_not(store):
    acme, initech = engagement(store, "Acme"), engagement(store, "Initech")
    book(store, acme, "kickoff", TEN)
    book(store, initech, "kickoff", TEN + 2 * HOUR)
    with pytest.raises(DoubleBooked):
        book(store, initech, "kickoff", TEN)
    book(store, initech, "kickoff", TEN + 3 * HOUR)
    [meeting] = store.meetings(initech)
    assert meeting.start == TEN + 3 * HOUR


def test_a_direct_insert_of_an_overlapping_meeting_fails_in_the_database(store):
    """Not only the store's methods: SQL written by hand (a script, another tool) is refused too."""
    acme, initech = engagement(store, "Acme"), engagement(store, "Initech")
    book(store, acme, "kickoff", TEN)
    p = store.db.param
    insert = (f'INSERT INTO meeting (engagement_id, key, title, description, uid, sequence, start, "end", status, note, '
              f'location, created_at, updated_at, engineer) VALUES ({", ".join([p] * 14)})')
    values = [initech, "kickoff", "", "", "raw@test", 0, (TEN + timedelta(minutes=59)).replace(tzinfo=None),
              (TEN + 2 * HOUR).replace(tzinfo=None), "planned", "", "", NOW.replace(tzinfo=None),
              NOW.replace(tzinfo=None), PRIYA]
    with pytest.raises(StorageError, match="meeting_no_overlap"):
        with store.transaction():
            store.db.execute_sql(insert, values)
    values[6] = (TEN + HOUR).replace(tzinfo=None)  # back to back: fine
    with store.transaction():
        store.db.execute_sql(insert, values)


def test_a_hand_over_moves_the_engineers_time_with_the_meetings_not_yet_held(store):
    acme, initech = engagement(store, "Acme"), engagement(store, "Initech", TOM)
    book(store, acme, "kickoff", TEN)
    book(store, initech, "kickoff", TEN + 2 * HOUR)
    with store.transaction():
        store.set_engagement_engineer(initech, PRIYA)
        store.rebook(initech, PRIYA, NOW)
    with pytest.raises(DoubleBooked):  # Initech's kickoff is Priya's time now
        book(store, acme, "kickoff", TEN + 2 * HOUR)


def test_schema_16_keeps_meetings_booked_twice_before_it_and_checks_them_when_they_move(db_url):
    store = SqlStore.open(db_url)
    acme, initech = engagement(store, "Acme"), engagement(store, "Initech")
    # the database as schema 15 and before left it: no column, no check, and Priya booked twice
    sqlite = store.db.__class__.__name__.startswith("Sqlite")
    with store.transaction():
        if sqlite:
            store.db.execute_sql("DROP TRIGGER meeting_no_overlap_insert")
            store.db.execute_sql("DROP TRIGGER meeting_no_overlap_update")
        else:
            store.db.execute_sql("ALTER TABLE meeting DROP CONSTRAINT meeting_no_overlap")
    book(store, acme, "kickoff", TEN)
    book(store, initech, "kickoff", TEN + timedelta(minutes=30))
    with store.transaction():
        store.db.execute_sql("ALTER TABLE meeting DROP COLUMN engineer")
        store.db.execute_sql("UPDATE wg_schema SET version = 15")
    store.close()
    store = SqlStore.open(db_url, create=False)
    assert store.upgrade() == (15, SCHEMA_VERSION)
    store.close()
    store = SqlStore.open(db_url)
    assert [m.start for m in store.meetings(initech)] == [TEN + timedelta(minutes=30)]  # kept, as sent
    with pytest.raises(DoubleBooked):  # moved, it is checked: still overlapping Acme's
        book(store, initech, "kickoff", TEN + timedelta(minutes=15))
    book(store, initech, "kickoff", TEN + HOUR)
    with pytest.raises(DoubleBooked):
        book(store, acme, "kickoff", TEN + timedelta(minutes=30))
    store.close()


@pytest.fixture
def pg_url_of_a_user_who_may_not_create_extensions(pg_database_url):
    """The session's database, emptied, as a new role that may create tables in it but, without the
    CREATE privilege on the database, not the btree_gist extension (a shared server's app user)."""
    import uuid

    import psycopg2
    from support.postgres import emptied

    url = emptied(pg_database_url)
    role = f"wg_user_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN; GRANT ALL ON SCHEMA public TO "{role}"')
    base, name = url.rsplit("/", 1)
    scheme, _, host = base.partition("://")
    yield f"{scheme}://{role}@{host.rpartition('@')[2]}/{name}"
    with admin.cursor() as cur:
        cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        cur.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
    admin.close()


@pytest.mark.postgres
def test_a_database_user_who_may_not_create_btree_gist_is_told_what_to_run_and_nothing_is_half_made(
        pg_url_of_a_user_who_may_not_create_extensions):
    url = pg_url_of_a_user_who_may_not_create_extensions
    with pytest.raises(StorageError, match="btree_gist extension could not be created.*CREATE EXTENSION btree_gist"):
        SqlStore.open(url)
    store = SqlStore.open(url, create=False)
    try:
        assert store.schema_version() == 0  # the tables made before it were rolled back with it
    finally:
        store.close()
