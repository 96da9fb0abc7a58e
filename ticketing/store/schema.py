"""Opening the database and versioning its schema.

The schema carries a version number from the first release. ``whiteglove db upgrade`` runs the
migrations from the database's version up to :data:`SCHEMA_VERSION`; the worker refuses to run on a
version it does not know and says which command to run. A brand-new, empty database is created on
first use, so the quick start needs no separate step.
"""
from __future__ import annotations

import logging
import secrets
import time
from typing import Callable

import peewee as pw
from playhouse.db_url import connect as connect_url
from playhouse.migrate import SchemaMigrator, migrate

from ticketing.errors import SchemaError, StorageError
from ticketing.store import bookings
from ticketing.store.models import Models
from ticketing.store.settings import LEGACY_MESSAGE_IDS, MESSAGE_ID_KEY

log = logging.getLogger(__name__)

#: The schema version this code reads and writes.
SCHEMA_VERSION = 16

_PG_LOCK_ID = 0x5767
_OPEN_PATIENCE = 30.0  # seconds to keep trying to open a database another process is setting up  # advisory lock taken while migrating, so two workers never migrate at once


def open_database(url: str) -> pw.Database:
    """Connect to ``url`` (``sqlite:///path`` or ``postgresql://…``).

    SQLite runs in WAL mode with a busy timeout and full fsync, so a commit survives a power cut
    before the mailbox is told the message was handled; transactions begin IMMEDIATE, so two
    processes (the worker and a command) queue for the write lock rather than fail.
    """
    if url.startswith("sqlite:///"):
        db = pw.SqliteDatabase(
            url[len("sqlite:///"):],
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": 30_000,
                "foreign_keys": 1,
                "synchronous": "full",
            },
            timeout=30,
            # Take the write lock when a transaction begins: a deferred transaction that reads
            # first and writes later fails at once with "database is locked" when another
            # process wrote meanwhile, instead of waiting out the busy timeout.
            lock_type="IMMEDIATE",
        )
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise StorageError("PostgreSQL needs the psycopg2 driver: pip install 'whiteglove[postgresql]'") from None
        db = connect_url(url.replace("postgres://", "postgresql://", 1))
    else:
        raise StorageError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")
    deadline = time.monotonic() + _OPEN_PATIENCE
    delay = 0.02
    while True:
        try:
            db.connect(reuse_if_open=True)
            return db
        except pw.PeeweeException as exc:
            # Switching a new SQLite file to WAL needs it to itself for a moment, and SQLite answers
            # "locked" at once rather than waiting out the busy timeout: two processes starting on a
            # new database together (the worker and a command) try again for a while.
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise StorageError(f"cannot open the database {_safe_url(url)}: {str(exc).strip()}") from exc
            if not db.is_closed():
                db.close()
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url


def current_version(models: Models) -> int:
    """The database's schema version; 0 for an empty database."""
    db = models.database
    tables = set(db.get_tables())  # one look: another process may be creating the schema right now
    if models.SchemaVersion._meta.table_name not in tables:
        if any(m._meta.table_name in tables for m in models.all):
            raise SchemaError("the database has whiteglove tables but no schema version: it was not made by whiteglove db upgrade")
        return 0
    row = models.SchemaVersion.select().first()
    return row.version if row else 0


# -- migrations -----------------------------------------------------------------------------------
#
# An empty database gets the current models' tables at once and the current version. A database at
# an older version runs each migration after its version, in order. A migration that creates a
# table creates it from the current model, so a later migration that changes that table must look
# before it acts (_add_missing_columns does).


def _migrate_to_2(models: Models) -> None:
    """Accounts, contacts, engagements and their meetings, the ticket event log; routing and
    classification on tickets; outgoing mail kept as drafts until sent."""
    db = models.database
    db.create_tables([models.Account, models.AccountDomain, models.Contact, models.Engagement, models.Meeting,
                      models.MeetingAttendee, models.TicketEvent])
    _add_missing_columns(db, models.Ticket, [
        "account", "assignee", "assigned_at", "review", "reasons", "assignment", "golive_date",
        "golive_text", "refers_to", "first_response_at", "resolved_at", "sla_policy", "first_response_due",
        "resolution_due", "first_response_state", "resolution_state", "next_sla_check",
    ])
    db.create_tables([models.SlaNotice])
    _add_missing_columns(db, models.OutboundMessage, ["envelope_from", "engagement", "draft"])
    db.execute_sql(_create_index_sql("ticket_assignee_assigned_at", "ticket", ["assignee", "assigned_at"]))
    db.execute_sql(_create_index_sql("ticket_assignee_status", "ticket", ["assignee", "status"]))
    db.execute_sql(_create_index_sql("outbound_message_purpose_recipients_created_at", "outbound_message",
                                     ["purpose", "recipients", "created_at"]))


def _migrate_to_3(models: Models) -> None:
    """Recipients our SMTP server refused, kept until their engineers are told; a ticket's
    cut-over date and the event that changes it named after the go-live, as engagements' are."""
    db = models.database
    db.create_tables([models.Refusal])
    present = {column.name for column in db.get_columns("ticket")}
    migrator = SchemaMigrator.from_database(db)
    renames = [migrator.rename_column("ticket", old, new)
               for old, new in (("cutover_date", "golive_date"), ("cutover_text", "golive_text")) if old in present]
    if renames:
        migrate(*renames)
    db.execute_sql("UPDATE ticket_event SET kind = 'golive_changed' WHERE kind = 'cutover_changed'")


def _migrate_to_4(models: Models) -> None:
    """Whether the worker's connections work, and since when they fail."""
    models.database.create_tables([models.ComponentHealth])


def _migrate_to_5(models: Models) -> None:
    """A mailbox's cursor holds a Graph delta link or an EWS sync state: text of any length."""
    db = models.database
    if isinstance(db, pw.PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "mailbox_state" ALTER COLUMN "cursor" TYPE TEXT')
    # SQLite keeps any length in any column: the model no longer clips it, which is all it needs.


def _migrate_to_6(models: Models) -> None:
    """History is never answered: a mailbox's start mark, and when whiteglove first saw a ticket."""
    _add_missing_columns(models.database, models.MailboxState, ["started_at"])
    _add_missing_columns(models.database, models.Ticket, ["seen_at"])


def _migrate_to_7(models: Models) -> None:
    """A quarantined message the operator discarded says who did."""
    _add_missing_columns(models.database, models.Quarantine, ["discarded_by"])


def _migrate_to_8(models: Models) -> None:
    """Engineers steer engagements by replying: a meeting's location, an attendee's proposed time."""
    _add_missing_columns(models.database, models.Meeting, ["location"])
    _add_missing_columns(models.database, models.MeetingAttendee, ["proposed_start", "proposed_end", "proposed_at"])


def _migrate_to_9(models: Models) -> None:
    """Recurring meetings: the occurrences of a repeat sent as one weekly series share its UID and
    each keeps its RECURRENCE-ID."""
    _add_missing_columns(models.database, models.Meeting, ["series_uid", "recurrence_id"])
    models.database.execute_sql(_create_index_sql("meeting_series_uid", "meeting", ["series_uid"]))


def _migrate_to_10(models: Models) -> None:
    """Engagements carry their playbook's tasks: owner, due date, status."""
    models.database.create_tables([models.Task])


def _migrate_to_11(models: Models) -> None:
    """Engagements record their milestones (went live, signed off, closed) and survey answers; a task
    says whether it came from the playbook or an engineer added it."""
    _add_missing_columns(models.database, models.Engagement, ["live_on", "signed_off_on", "signed_off_by", "closed_at"])
    _add_missing_columns(models.database, models.Task, ["origin"])
    models.database.create_tables([models.SurveyAnswer])


def _migrate_to_12(models: Models) -> None:
    """A claimed outgoing message says which worker claimed it, whose lease (30 s, renewed while it
    sends) ends at its next attempt time: a dead worker's claims go back to the queue in seconds."""
    _add_missing_columns(models.database, models.OutboundMessage, ["claimed_by"])


def _migrate_to_13(models: Models) -> None:
    """Several workers on one database: a lease per mailbox's intake, and when each periodic job last
    ran (a table of its own: nothing existing changes)."""
    models.database.create_tables([models.Lease])


def _migrate_to_14(models: Models) -> None:
    """The installation's settings, among them the key that makes Message-IDs unguessable. Mail
    queued before keeps its plain ids, which are still recognised (``legacy-message-ids``), so no
    notice already sent is sent again under its new id."""
    models.database.create_tables([models.Setting])
    if models.OutboundMessage.select().exists():
        models.Setting.insert(name=LEGACY_MESSAGE_IDS, value="yes").on_conflict_ignore().execute()


def _migrate_to_15(models: Models) -> None:
    """The sender claims due mail from an index of (status, next attempt): the oldest due rows of
    a status are the start of an index range, however many were sent before or wait behind them."""
    models.database.execute_sql(_create_index_sql("outbound_message_status_next_attempt_at", "outbound_message",
                                                  ["status", "next_attempt_at"]))


def _migrate_to_16(models: Models) -> None:
    """The planner never double-books an engineer, as a constraint of the database: each meeting
    names the engineer it books, and two planned meetings of one engineer cannot overlap
    (:mod:`ticketing.store.bookings`). Meetings booked twice before it stay, logged, until moved."""
    _add_missing_columns(models.database, models.Meeting, ["engineer"])
    bookings.fill_engineers(models.database)
    bookings.create_guard(models.database)


def _add_missing_columns(db: pw.Database, model: type[pw.Model], names: list[str]) -> None:
    table = model._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    migrator = SchemaMigrator.from_database(db)
    operations = []
    for name in names:
        field = model._meta.fields[name]
        if field.column_name not in present:
            operations.append(migrator.add_column(table, field.column_name, field))
    if operations:
        migrate(*operations)


def _create_index_sql(name: str, table: str, columns: list[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({quoted})'


#: The step that brings a database from the version before to the key's version (1 is the first release).
MIGRATIONS: dict[int, Callable[[Models], None]] = {2: _migrate_to_2, 3: _migrate_to_3, 4: _migrate_to_4, 5: _migrate_to_5, 6: _migrate_to_6,
                                                     7: _migrate_to_7, 8: _migrate_to_8, 9: _migrate_to_9,
                                                     10: _migrate_to_10, 11: _migrate_to_11, 12: _migrate_to_12,
                                                     13: _migrate_to_13, 14: _migrate_to_14, 15: _migrate_to_15,
                                                     16: _migrate_to_16}


def upgrade(models: Models) -> tuple[int, int]:
    """Migrate the schema to :data:`SCHEMA_VERSION`; return (version before, version after).

    An empty database gets the current schema at once. Raises :class:`SchemaError` when the
    database is newer than this code.
    """
    db = models.database
    sqlite = isinstance(db, pw.SqliteDatabase)
    if sqlite:
        # SQLite changes a column by rebuilding its table; with foreign keys on, dropping the old
        # table would "delete" its rows and null every reference to them (ON DELETE SET NULL).
        # The pragma is a no-op inside a transaction, so it is set around it (SQLite's own
        # procedure for table changes), and the references are checked before the commit.
        db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        return _upgrade(models, sqlite)
    finally:
        if sqlite:
            db.execute_sql("PRAGMA foreign_keys = ON")


def _upgrade(models: Models, sqlite: bool) -> tuple[int, int]:
    db = models.database
    with db.atomic():
        if isinstance(db, pw.PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_ID,))
        before = current_version(models)
        if before > SCHEMA_VERSION:
            raise SchemaError(
                f"the database is at schema version {before}, newer than this whiteglove ({SCHEMA_VERSION}): upgrade whiteglove"
            )
        if before == 0:
            log.info("creating the database schema (version %s)", SCHEMA_VERSION)
            db.create_tables(models.all)
            bookings.create_guard(db)
        else:
            for version in range(before + 1, SCHEMA_VERSION + 1):
                log.info("migrating the database schema to version %s", version)
                MIGRATIONS[version](models)
        if before < 14:  # the installation's Message-ID key, made with the schema and never again
            models.Setting.insert(name=MESSAGE_ID_KEY, value=secrets.token_hex(16)).on_conflict_ignore().execute()
        if sqlite and db.execute_sql("PRAGMA foreign_key_check").fetchone() is not None:
            raise SchemaError("the migration left references to missing rows: nothing was changed")
        if before != SCHEMA_VERSION:
            models.SchemaVersion.delete().execute()
            models.SchemaVersion.create(version=SCHEMA_VERSION)
    return before, SCHEMA_VERSION


def ensure_schema(models: Models) -> None:
    """Make sure the schema is the one this code knows, creating it in an empty database.

    Raises :class:`SchemaError` with the command to run when the database is at another version.
    """
    version = current_version(models)
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        upgrade(models)
        return
    if version < SCHEMA_VERSION:
        raise SchemaError(
            f"the database is at schema version {version}, this whiteglove needs {SCHEMA_VERSION}: run 'whiteglove db upgrade'"
        )
    raise SchemaError(f"the database is at schema version {version}, newer than this whiteglove ({SCHEMA_VERSION}): upgrade whiteglove")
