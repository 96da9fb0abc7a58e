"""A Maildir folder as a read-only :class:`~mailer.source.MailboxSource`.

whiteglove never changes the folder: the caller records which messages it has handled. Messages
are read from ``new/`` and ``cur/``; the key is the Maildir unique name (the file name without its
``:2,`` info suffix), and the arrival time comes from the delivery timestamp the name starts with.
"""
from __future__ import annotations

import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from .errors import MailboxError
from .source import SourceMessage

_STAMP = re.compile(r"^(\d{9,11})(?:\.|_)")


def maildir_key(filename: str) -> str:
    """The unique name of a Maildir file: its name without the ``:2,FLAGS`` (or ``!2,``) suffix."""
    for sep in (":", "!"):
        if sep in filename:
            return filename.split(sep, 1)[0]
    return filename


def delivery_time(filename: str, fallback_mtime: float) -> datetime:
    """When a message was delivered: the Unix time that starts a Maildir name, else the file's mtime."""
    match = _STAMP.match(filename)
    seconds = int(match.group(1)) if match else fallback_mtime
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class MaildirSource:
    """Reads a Maildir without changing it."""

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        self.path = Path(path)
        self.name = name or f"maildir:{self.path}"
        #: The listing: each key's file as ``new/NAME`` or ``cur/NAME`` (a short string, not a Path:
        #: a folder of 50,000 messages is held as names, some 30 MB less than as Path objects).
        self._files: dict[str, str] = {}

    def _scan(self) -> dict[str, str]:
        if not self.path.is_dir():
            raise MailboxError(f"no Maildir folder at {self.path}")
        files: dict[str, str] = {}
        for sub in ("new", "cur"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file() and not entry.name.startswith("."):
                        files.setdefault(maildir_key(entry.name), f"{sub}/{entry.name}")
        return files

    def _path(self, key: str, files: dict[str, str] | None = None) -> Path | None:
        name = (self._files if files is None else files).get(key)
        return self.path / name if name is not None else None

    def list_new(self, cursor: str | None) -> list[str]:
        self._files = self._scan()
        return sorted(self._files, key=_sort_key)

    def cursor_after(self, key: str) -> str | None:
        return None  # a Maildir has no order to resume from; the caller's records say what is done

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        found = []
        for key in keys:
            path = self._path(key)
            if path is None:
                continue
            try:
                raw = path.read_bytes()
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                # moved from new/ to cur/ by a mail client since the listing: look again
                path = self._path(key, self._scan())
                if path is None:
                    continue
                raw, mtime = path.read_bytes(), path.stat().st_mtime
            except OSError as exc:
                raise MailboxError(f"cannot read {path}: {exc.strerror}") from exc
            found.append(SourceMessage(key=key, raw=raw, received_at=delivery_time(path.name, mtime)))
        return found

    def sizes(self, keys: Sequence[str]) -> dict[str, int]:
        """The size in bytes of each of ``keys`` still in the folder (without reading them)."""
        found = {}
        for key in keys:
            path = self._path(key)
            try:
                if path is not None:
                    found[key] = path.stat().st_size
            except FileNotFoundError:
                continue  # moved to cur/ since the listing: fetch finds it, by count
            except OSError as exc:
                raise MailboxError(f"cannot read {path}: {exc.strerror}") from exc
        return found

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        """Nothing to do: the folder is read-only and the caller keeps the state."""

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        self._files = {}


def _sort_key(key: str):
    match = _STAMP.match(key)
    return (int(match.group(1)) if match else 0, key)
