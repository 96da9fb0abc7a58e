"""The database's own guarantee that an engineer is never booked twice (schema 16).

Two planned meetings of one engineer (``meeting.engineer``, copied from the engagement when a
meeting is placed) never overlap: the half-open ranges ``[start, end)`` of her meetings whose
status is ``planned`` are disjoint, so back-to-back meetings are allowed. Unplaced and cancelled
meetings do not count.

PostgreSQL
    An exclusion constraint, ``meeting_no_overlap``: ``EXCLUDE USING gist (engineer WITH =,
    tsrange(start, end) WITH &&)``, which needs the ``btree_gist`` extension for the equality on
    text (a trusted extension since PostgreSQL 13: the database's owner may create it). A second
    transaction inserting an overlapping meeting waits for the first one's commit, then fails.
SQLite
    Triggers before an insert or an update of a meeting's times, status or engineer raise
    ``meeting_no_overlap`` (SQLite has one writer at a time, so a check before the write is exact).

Both are checked at each statement, not at commit: a planner moving several meetings of one
engagement takes them out of the check first (:meth:`BookingsMixin.unbook`). The store turns the
violation into :class:`~ticketing.errors.DoubleBooked` (:func:`is_double_booking`).
"""
from __future__ import annotations

import logging
from datetime import datetime

import peewee as pw

from ticketing.core.domain import MeetingStatus
from ticketing.errors import SchemaError

log = logging.getLogger(__name__)

CONSTRAINT = "meeting_no_overlap"

_PLANNED = MeetingStatus.PLANNED.value
_PG = f"""ALTER TABLE meeting ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (engineer WITH =, tsrange(start, greatest(start, "end")) WITH &&)
WHERE (status = '{_PLANNED}' AND engineer IS NOT NULL AND start IS NOT NULL AND "end" IS NOT NULL)"""
_SQLITE_CLASH = f"""SELECT RAISE(ABORT, '{CONSTRAINT}: the engineer has another planned meeting at that time')
    WHERE EXISTS (SELECT 1 FROM meeting AS other WHERE other.engineer = NEW.engineer
                  AND other.status = '{_PLANNED}' AND other.start IS NOT NULL AND other."end" IS NOT NULL
                  AND other.start < NEW."end" AND other."end" > NEW.start AND other.id IS NOT NEW.id)"""
_SQLITE_WHEN = (f"""NEW.status = '{_PLANNED}' AND NEW.engineer IS NOT NULL AND NEW.start IS NOT NULL"""
                """ AND NEW."end" IS NOT NULL""")
_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS {CONSTRAINT}_insert BEFORE INSERT ON meeting
WHEN {_SQLITE_WHEN} BEGIN {_SQLITE_CLASH}; END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CONSTRAINT}_update BEFORE UPDATE OF start, "end", status, engineer ON meeting
WHEN {_SQLITE_WHEN} BEGIN {_SQLITE_CLASH}; END""",
]


def is_double_booking(exc: BaseException) -> bool:
    """Whether a database error is this constraint refusing a write."""
    return CONSTRAINT in str(exc)


def create_guard(db: pw.Database) -> None:
    """Create the constraint (PostgreSQL) or the triggers (SQLite) on the ``meeting`` table.

    Raises :class:`SchemaError` when PostgreSQL's ``btree_gist`` cannot be created by this user.
    """
    if isinstance(db, pw.SqliteDatabase):
        for statement in _SQLITE:
            db.execute_sql(statement)
        return
    _btree_gist(db)
    present = db.execute_sql("SELECT 1 FROM pg_constraint WHERE conname = %s", (CONSTRAINT,)).fetchone()
    if not present:
        db.execute_sql(_PG)


def _btree_gist(db: pw.Database) -> None:
    if db.execute_sql("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'").fetchone():
        return
    try:
        with db.atomic():  # a savepoint: a refusal must not abort the migration's transaction
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except pw.DatabaseError as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise SchemaError(
            f"PostgreSQL's btree_gist extension could not be created ({first}): have the database's owner or a "
            "superuser run 'CREATE EXTENSION btree_gist' in this database, then 'whiteglove db upgrade'") from exc


def fill_engineers(db: pw.Database) -> list[int]:
    """Schema 16 on a database with meetings: copy each meeting's engineer from its engagement,
    except a planned meeting that overlaps an earlier-made one of the same engineer (booked twice
    before the constraint existed), which is left without one until it is next placed, and logged.
    Returns the ids of those left."""
    db.execute_sql('UPDATE meeting SET engineer = (SELECT lower(engagement.engineer) FROM engagement '
                   'WHERE engagement.id = meeting.engagement_id)')
    rows = db.execute_sql(
        'SELECT id, engineer, start, "end" FROM meeting WHERE status = %s AND engineer IS NOT NULL '
        'AND start IS NOT NULL AND "end" IS NOT NULL ORDER BY engineer, id'.replace("%s", db.param),
        (_PLANNED,)).fetchall()
    kept: dict[str, list[tuple[datetime, datetime]]] = {}
    left = []
    for meeting_id, engineer, start, end in rows:
        mine = kept.setdefault(engineer, [])
        if any(start < other_end and end > other_start for other_start, other_end in mine):
            left.append(meeting_id)
        else:
            mine.append((start, end))
    for meeting_id in left:
        db.execute_sql(f"UPDATE meeting SET engineer = NULL WHERE id = {db.param}", (meeting_id,))
    if left:
        log.warning("schema 16: %s planned meeting(s) overlapped another meeting of the same engineer already "
                    "(ids %s); the database checks them again when they are next moved", len(left),
                    ", ".join(map(str, left)))
    return left


class BookingsMixin:
    db: pw.Database

    def unbook(self, engagement_id: int, keys: list[str]) -> None:
        """Take the meetings ``keys`` of an engagement out of the overlap check until they are next
        saved with their new times: a planner moving several of them inside one transaction never
        trips over their old times (SQLite's triggers, like PostgreSQL's constraint here, check
        every statement, not the commit)."""
        if not keys:
            return
        m = self.m
        m.Meeting.update(engineer=None).where((m.Meeting.engagement == engagement_id) & m.Meeting.key.in_(keys)).execute()

    def rebook(self, engagement_id: int, engineer: str | None, now: datetime) -> None:
        """The engagement's meetings not yet begun now book ``engineer`` (a hand-over); those held
        stay with the engineer who held them. Raises DoubleBooked when one overlaps her meetings."""
        m = self.m
        m.Meeting.update(engineer=engineer.lower() if engineer else None).where(
            (m.Meeting.engagement == engagement_id) & (m.Meeting.start.is_null() | (m.Meeting.start > now))).execute()
