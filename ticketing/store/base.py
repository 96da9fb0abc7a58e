"""The store's foundation: the database connection, the unit of work, and statements built once.

Peewee's query compiler costs a few tenths of a millisecond per query, more than SQLite takes to
run a lookup by key. The queries intake runs for every message are therefore built once per
store (:meth:`StoreBase.rows`, :class:`_PreparedInserts`) and reused with new parameters.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import peewee as pw

from ticketing.errors import DoubleBooked, StorageError
from ticketing.store.bookings import is_double_booking
from ticketing.store.models import Models

CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


class _PreparedInserts:
    """Single-row INSERTs whose SQL peewee builds once per model and the store then reuses.

    Building an INSERT of a 25-column row through peewee's query compiler costs about 0.6 ms,
    running it about 0.05 ms: at hundreds of messages a second the compiler would be the
    bottleneck. Every column is always given (defaults filled in here), so one statement per
    model serves every row; the first row is checked against peewee's own parameters.
    """

    def __init__(self, db: pw.Database):
        self.db = db
        self._statements: dict[tuple, tuple] = {}

    def __call__(self, model: type[pw.Model], values: dict) -> int:
        """Insert one row of ``model`` and return its primary key (``values`` may give it)."""
        key = (model, "id" in values)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = self._prepare(model, with_id="id" in values)
        sql, columns, names, returning = statement
        if not names.issuperset(values):
            raise TypeError(f"{model.__name__} has no column(s) {sorted(set(values) - names)}")
        params = [convert(values[name]) if name in values else convert(default() if callable(default) else default)
                  for name, convert, default in columns]
        cursor = self.db.execute_sql(sql, params)
        return cursor.fetchone()[0] if returning else cursor.lastrowid

    def unless_present(self, model: type[pw.Model], values: dict, key: pw.Field) -> bool:
        """Insert one row of ``model`` unless a row with its ``key`` (a unique column) is there; return
        whether it was inserted: one statement, ``ON CONFLICT (key) DO NOTHING`` (only a clash on
        that column is passed over; any other constraint still fails). On a server a twin inserted
        by another connection at the same moment is "present" too (the insert waits for it)."""
        cache = (model, "unless", key.name)
        statement = self._statements.get(cache)
        if statement is None:
            fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
            if isinstance(self.db, pw.SqliteDatabase):  # peewee would write INSERT OR IGNORE: every constraint
                sql, _ = model.insert(**{f.name: _default(f) for f in fields}).sql()
                sql += f' ON CONFLICT ("{key.column_name}") DO NOTHING'
            else:
                sql, _ = model.insert(**{f.name: _default(f) for f in fields}).on_conflict(
                    conflict_target=[key], action="IGNORE").sql()
            statement = self._statements[cache] = (sql, [(f.name, f.db_value, f.default) for f in fields])
        sql, columns = statement
        params = [convert(values[name]) if name in values else convert(default() if callable(default) else default)
                  for name, convert, default in columns]
        return self.db.execute_sql(sql, params).rowcount > 0

    def many_ignoring_conflicts(self, model: type[pw.Model], rows: list[dict]) -> None:
        """Insert ``rows`` of ``model`` (each with every column but the id), skipping those that
        clash with a unique index: on SQLite with one prepared statement, on a server with one
        multi-row statement per hundred (psycopg2's executemany is a round trip per row)."""
        if not rows:
            return
        key = (model, "ignore")
        statement = self._statements.get(key)
        if statement is None:
            fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
            sql, _ = model.insert(**{f.name: _default(f) for f in fields}).on_conflict_ignore().sql()
            statement = self._statements[key] = (sql, [(f.name, f.db_value) for f in fields])
        sql, columns = statement
        if isinstance(self.db, pw.SqliteDatabase):  # in-process: one prepared statement, run per row
            self.db.cursor().executemany(sql, [[convert(row[name]) for name, convert in columns] for row in rows])
            return
        for chunk in pw.chunked(rows, 100):  # over the network: one round trip per hundred rows
            model.insert_many(chunk).on_conflict_ignore().execute()

    @staticmethod
    def _prepare(model: type[pw.Model], with_id: bool = False) -> tuple[str, list[tuple[str, Callable, Any]], frozenset[str], bool]:
        fields = [f for f in model._meta.sorted_fields if with_id or not isinstance(f, pw.AutoField)]
        sql, _ = model.insert(**{f.name: _default(f) for f in fields}).sql()
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        if f"({columns})" not in sql:  # pragma: no cover - guards against a peewee change
            raise AssertionError(f"peewee orders the columns of {model.__name__} differently: {sql}")
        converters = [(f.name, f.db_value, f.default) for f in fields]
        return sql, converters, frozenset(f.name for f in fields), " RETURNING " in sql.upper()


def _default(field: pw.Field):
    default = field.default
    return default() if callable(default) else default


class StoreBase:
    """The connection and the unit of work; the mixins in this package add the queries."""

    def __init__(self, models: Models):
        self.m = models
        self.db = models.database
        self._insert = _PreparedInserts(self.db)
        self._statements: dict[str, Any] = {}  # SQL and column converters, built once per store
        #: Figures kept for the length of one unit of work (see :meth:`kept`): nothing else writes
        #: what they count meanwhile (SQLite: the write lock; see TicketsMixin.open_loads).
        self._kept: dict[str, dict] = {}
        self._unit_depth = 0

    def kept(self, name: str) -> dict | None:
        """The figures kept under ``name`` for the current :meth:`transaction` (created empty on
        first use), or None outside one: they are then read afresh each time."""
        if not self._unit_depth:
            return None
        return self._kept.setdefault(name, {})

    def forget_kept(self, *names: str) -> None:
        """Drop the figures kept under ``names`` (a change they cannot follow), or every one (a
        savepoint rolled back)."""
        if not names:
            self._kept.clear()
        for name in names:
            self._kept.pop(name, None)

    def rows(self, name: str, build: Callable[[], pw.Query], *params: Any) -> list[tuple]:
        """Run the query ``build`` makes, built once under ``name``, with ``params``; return its rows.

        ``build`` must make the query with placeholder values in the order of ``params`` (plain
        strings and numbers: nothing a field converts).
        """
        sql = self._statements.get(name)
        if sql is None:
            sql, placeholders = build().sql()
            if len(placeholders) != len(params):  # pragma: no cover - a mistake in the caller
                raise AssertionError(f"{name}: {len(placeholders)} placeholders, {len(params)} values")
            self._statements[name] = sql
        cursor = self.db.execute_sql(sql, params)
        return cursor.fetchall() if cursor.description is not None else []  # an UPDATE has no rows

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The unit of work: everything inside commits together or not at all.

        Raises :class:`StorageError` when the database fails, the commit included.
        """
        self._unit_depth += 1
        try:
            with self.db.atomic():
                yield
        except pw.PeeweeException as exc:
            self.forget_kept()
            forget_lost_connection(self.db)
            raise storage_error(exc) from exc
        except BaseException:
            self.forget_kept()  # rolled back: what it counted is undone
            raise
        finally:
            self._unit_depth -= 1
            if not self._unit_depth:
                self.forget_kept()  # the unit is over: the next one counts afresh

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """A unit of work that is always rolled back, whatever happens inside (a dry run): what
        the block reads, it reads as if done; when it ends, nothing was."""

        class _Undo(Exception):
            pass

        try:
            with self.db.atomic():
                yield
                raise _Undo
        except _Undo:
            pass
        except pw.PeeweeException as exc:
            forget_lost_connection(self.db)
            raise storage_error(exc) from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only what it did."""
        try:
            with self.db.atomic():
                yield
        except pw.PeeweeException as exc:
            self.forget_kept()
            raise storage_error(exc) from exc
        except BaseException:
            self.forget_kept()  # what it counted is undone
            raise


def forget_lost_connection(db: pw.Database) -> None:
    """After a database error between units of work, drop the connection if the server closed it
    (a restart, a failover), so that the next call connects again instead of failing on the dead
    connection for as long as the process runs. A usable connection (SQLite's, or one whose
    statement was merely refused) is kept."""
    if db.is_closed() or db.in_transaction():
        return
    try:
        usable = db.is_connection_usable()
    except Exception:  # noqa: BLE001 - a connection that cannot even say is not usable
        usable = False
    if not usable:
        try:
            db.close()
        except pw.PeeweeException:
            pass  # peewee forgets the connection whatever closing it said


def storage_error(exc: Exception) -> StorageError:
    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, pw.IntegrityError) and is_double_booking(exc):
        return DoubleBooked(f"the engineer has another planned meeting at that time: {first}")
    return StorageError(f"the database failed: {first or type(exc).__name__}")


Store = TypeVar("Store", bound=type)


def translating_errors(cls: Store) -> Store:
    """Make every public method of ``cls`` raise :class:`StorageError` instead of peewee's errors,
    so that no database library's exception crosses the store's boundary (a database that goes away
    mid-command is one line from the command line, not a traceback)."""
    for name in dir(cls):
        method = getattr(cls, name)
        if name.startswith("_") or name in ("transaction", "savepoint") or not callable(method) \
                or isinstance(cls.__dict__.get(name), (classmethod, staticmethod)):
            continue
        setattr(cls, name, _translate(method))
    return cls


def _translate(method: Callable) -> Callable:
    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except pw.PeeweeException as exc:
            forget_lost_connection(args[0].db)
            raise storage_error(exc) from exc

    return call
