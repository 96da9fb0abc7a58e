"""An online backup of a SQLite database: a consistent copy taken while the worker runs.

A file copy of a database in WAL mode can miss the commits still in ``-wal``, or catch a page half
written; SQLite's backup API (``sqlite3.Connection.backup``, the stdlib's) copies the pages of one
read transaction instead, so the copy is the database as it was at one commit. The worker keeps
writing meanwhile: in WAL mode a reader does not block it. Peewee's ``backup_to_file`` would do the
same but lives in its C extension (``playhouse._sqlite_ext``), which is not always built.
PostgreSQL has ``pg_dump`` for this; :func:`pg_dump_advice` says how to call it.
"""
from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ticketing.errors import StorageError

SQLITE = "sqlite:///"


@dataclass(frozen=True)
class Backup:
    source: Path
    path: Path
    size: int


def is_sqlite(url: str) -> bool:
    return url.startswith(SQLITE)


def backup_sqlite(url: str, target: Path) -> Backup:
    """Copy the SQLite database at ``url`` to the new file ``target`` (owner-only permissions).

    Raises :class:`StorageError` when ``target`` exists (it is never overwritten), when there is
    no database at ``url``, or when the copy fails (nothing is left at ``target`` then).
    """
    source_path = Path(url[len(SQLITE):])
    if str(source_path) == ":memory:" or not source_path.is_file():
        raise StorageError(f"no database at {source_path}: check --config and [database] url")
    try:  # claim the name first, so that two backups to one file cannot both win
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise StorageError(f"{target} exists; a backup never overwrites a file: name a new one") from None
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror} (fix: a folder you may write to)") from None
    partial = target.with_name(f".{target.name}.partial")
    try:
        _copy(source_path, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise
    return Backup(source_path, target, target.stat().st_size)


def _copy(source_path: Path, partial: Path) -> None:
    partial.unlink(missing_ok=True)  # a leftover of an interrupted backup
    # Read-only: a backup must never create, migrate or write the live database.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # every page in one step: one snapshot, however busy the writer
            if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StorageError(f"the copy of {source_path} fails SQLite's quick_check; try again")
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StorageError(f"the backup of {source_path} failed: {exc}") from exc
    finally:
        source.close()


def pg_dump_advice(url: str, target: Path) -> str:
    """The ``pg_dump`` command that backs up the PostgreSQL database of ``url`` to ``target``
    (no password: pg_dump reads it from ``PGPASSWORD`` or ``~/.pgpass``)."""
    parts = urlsplit(url)
    options = [f"-h {shlex.quote(parts.hostname)}" if parts.hostname else "", f"-p {parts.port}" if parts.port else "",
               f"-U {shlex.quote(unquote(parts.username))}" if parts.username else ""]
    name = unquote(parts.path.lstrip("/")) or "DBNAME"
    return " ".join(["pg_dump", *(o for o in options if o), "--format=custom",
                     f"--file={shlex.quote(str(target))}", shlex.quote(name)])
