"""The store's foundation: the database connection, the unit of work, and fast single-row inserts."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import peewee as pw

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
        self._statements: dict[type, tuple[str, list[pw.Field], bool]] = {}

    def __call__(self, model: type[pw.Model], values: dict) -> int:
        """Insert one row of ``model`` and return its primary key."""
        fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
        unknown = set(values) - {f.name for f in fields}
        if unknown:
            raise TypeError(f"{model.__name__} has no column(s) {sorted(unknown)}")
        row = {f.name: values[f.name] if f.name in values else _default(f) for f in fields}
        params = [f.db_value(row[f.name]) for f in fields]
        statement = self._statements.get(model)
        if statement is None:
            sql, _ = model.insert(**row).sql()
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            if f"({columns})" not in sql:  # pragma: no cover - guards against a peewee change
                raise AssertionError(f"peewee orders the columns of {model.__name__} differently: {sql}")
            statement = (sql, fields, " RETURNING " in sql.upper())
            self._statements[model] = statement
        sql, _fields, returning = statement
        cursor = self.db.execute_sql(sql, params)
        return cursor.fetchone()[0] if returning else cursor.lastrowid


def _default(field: pw.Field):
    default = field.default
    return default() if callable(default) else default


class StoreBase:
    """The connection and the unit of work; the mixins in this package add the queries."""

    def __init__(self, db: pw.Database):
        self.db = db
        self._insert = _PreparedInserts(db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The unit of work: everything inside commits together or not at all."""
        with self.db.atomic():
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only what it did."""
        with self.db.atomic():
            yield
