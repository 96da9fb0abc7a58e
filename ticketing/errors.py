"""The exceptions of the application, one tree (the mail toolkit has its own, :mod:`mailer.errors`)::

    WhitegloveError
    ├── ConfigError          the configuration cannot be used; ``problems`` says every reason and its fix
    ├── PlaybookError        the playbooks cannot be used; ``problems`` likewise
    ├── StorageError         the database cannot be used (unreachable, locked, gone mid-command)
    │   ├── SchemaError          its schema is missing, older or newer than this code
    │   └── DoubleBooked         a write would overlap two active meetings of one engineer (schema 16's constraint)
    └── NotFound             no ticket, engagement, quarantine entry or outbox row with that id

The shell turns each into one line and a non-zero exit; everything else is a bug.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration or a playbook: where, what, and how to fix it."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} (fix: {self.fix})"


class WhitegloveError(Exception):
    """The root of the application's exceptions."""


class ConfigError(WhitegloveError):
    """The configuration cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem], path: Path | None = None):
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(str(p) for p in problems))


class PlaybookError(WhitegloveError):
    """The playbooks cannot be used; ``problems`` lists every reason in every file."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class StorageError(WhitegloveError):
    """The database cannot be used."""


class SchemaError(StorageError):
    """The database's schema is not the one this code knows."""


class DoubleBooked(StorageError):
    """The database refused a meeting that overlaps another active meeting of the same engineer
    (another worker booked her at that time first): plan again, or pick another time."""


class NotFound(WhitegloveError, KeyError):
    """No such record. A ``KeyError`` too, so that a caller may treat it as a missing key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"
