"""What the worker needs from this machine, looked at before it starts and by ``whiteglove config
check``, without connecting anywhere: every secret in use can be read, the SQLite database's folder
and the outbox folder can be written (``run`` creates the database file and the outbox, not the
database's folder), the Maildir can be read, and PostgreSQL's driver is installed.

Each problem is a :class:`~ticketing.errors.Problem` with its key and fix, like the file's own.
The rules on the file alone are in :mod:`ticketing.config`; this module is the shell's, as it
reads the environment and the file system.
"""
from __future__ import annotations

import os

from ticketing.config import Config, secret_path, secret_problems
from ticketing.config.checks import uncovered_priorities
from ticketing.config.secrets import uses_microsoft_app
from ticketing.errors import Problem


def preflight(config: Config) -> list[Problem]:
    """Everything ``config check`` adds to the file's own rules: this machine, and SLA coverage."""
    return machine_problems(config) + uncovered_priorities(config)


def machine_problems(config: Config) -> list[Problem]:
    """What would make ``run`` fail on this machine (an unset password variable, a missing folder)."""
    return (secret_problems(config) + _certificate(config) + _database(config)
            + _maildir(config) + _outbox(config))


def _database(config: Config) -> list[Problem]:
    url = config.database_url()
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            return [Problem("database.url", "PostgreSQL needs the psycopg2 driver, which is not installed",
                            "pip install 'whiteglove[postgresql]' in whiteglove's environment")]
        return []
    path = config.database_file()
    if path is None:
        return []
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return [Problem("database.url", f"the database's folder {folder} {what}",
                        f"create it (mkdir -p {folder}) or correct url: run creates the database file, not its folder")]
    if path.exists() and (not path.is_file() or not os.access(path, os.R_OK | os.W_OK)):
        return [Problem("database.url", f"{path} cannot be written", "make it a file writable by the user whiteglove runs as")]
    if path.is_file() and path.stat().st_size and not _is_sqlite(path):
        return [Problem("database.url", f"{path} is not a SQLite database",
                        "point url at whiteglove's database, or move the file away and let run create a new one")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [Problem("database.url", f"cannot write in the database's folder {folder}",
                        "make it writable by the user whiteglove runs as (SQLite writes its -wal and -shm files beside the database)")]
    return []


def _is_sqlite(path) -> bool:
    """Whether the file begins with SQLite's header (its first 16 bytes, "SQLite format 3" and a NUL)."""
    with open(path, "rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def _maildir(config: Config) -> list[Problem]:
    mb = config.mailbox
    if mb.backend != "maildir" or not mb.path:
        return []
    folder = config.resolve(mb.path)
    unreadable = [f for f in (folder, folder / "new", folder / "cur") if f.is_dir() and not os.access(f, os.R_OK | os.X_OK)]
    if unreadable:
        return [Problem("mailbox.path", f"cannot read the Maildir folder {unreadable[0]}",
                        "make it readable by the user whiteglove runs as")]
    return []


def _outbox(config: Config) -> list[Problem]:
    out = config.outgoing
    if out.backend != "directory" or not out.path:
        return []
    folder = config.resolve(out.path)
    if folder.exists():
        if not folder.is_dir():
            return [Problem("outgoing.path", f"{folder} is not a folder", "name a folder for the outgoing .eml files")]
        if not os.access(folder, os.W_OK | os.X_OK):
            return [Problem("outgoing.path", f"cannot write in the outbox folder {folder}",
                            "make it writable by the user whiteglove runs as")]
        return []
    parent = next(p for p in folder.parents if p.exists())  # the root exists
    if not parent.is_dir():
        return [Problem("outgoing.path", f"cannot create the outbox folder {folder}: {parent} is a file",
                        "correct path: it names the folder for the outgoing .eml files")]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [Problem("outgoing.path", f"cannot create the outbox folder {folder}: {parent} is not writable",
                        f"create {folder} writable by the user whiteglove runs as, or correct path")]
    return []


def _certificate(config: Config) -> list[Problem]:
    ms = config.microsoft
    if not uses_microsoft_app(config) or not ms.certificate_file:
        return []
    path = secret_path(config, ms.certificate_file)
    try:
        path.read_bytes()
    except OSError as exc:
        return [Problem("microsoft.certificate_file", f"cannot read the private key {path}: {exc.strerror}",
                        "a PEM file of the certificate's private key, readable by the user whiteglove runs as")]
    return []
