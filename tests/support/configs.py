"""Configuration dictionaries for tests of the configuration's checks, and copies of the shipped
example configuration for tests of the command line."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def minimal(**sections) -> dict:
    """A valid configuration (the example Maildir, the default outbox) with ``sections`` merged in."""
    data = {"mailbox": {"backend": "maildir", "path": str(ROOT / "examples/inbox")},
            "support": {"address": "support@example.com"}}
    for name, values in sections.items():
        if isinstance(values, dict):
            data.setdefault(name, {}).update(values)
        else:
            data[name] = values
    return data


EXAMPLE_DATABASE = 'url = "sqlite:///whiteglove.db"'


def example_copy(folder: Path, db_url: str | None = None) -> Path:
    """``config.example.toml`` and the example mailbox copied into ``folder``; with ``db_url`` (the
    ``db_url`` fixture: SQLite, and again PostgreSQL) the database it names instead of the example's
    ``whiteglove.db`` beside the file. Returns the configuration file's path."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    if db_url is not None:
        if EXAMPLE_DATABASE not in text:  # pragma: no cover - the example changed: change this too
            raise AssertionError(f"config.example.toml no longer says {EXAMPLE_DATABASE}")
        text = text.replace(EXAMPLE_DATABASE, f'url = "{db_url}"')
    (folder / "config.toml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "examples", folder / "examples")
    return folder / "config.toml"
