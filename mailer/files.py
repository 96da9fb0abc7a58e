"""Messages from files on disk, for backfills: ``.eml`` files, ``.mbox`` files and Maildir folders."""
from __future__ import annotations

import mailbox
import os
from pathlib import Path
from typing import Iterator

from .errors import MailboxError
from .maildir import MaildirSource
from .source import SourceMessage


def is_maildir(path: Path) -> bool:
    return path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir())


def count_messages(paths: list[Path]) -> int:
    """How many messages :func:`iter_messages` will yield (mbox files are scanned, not parsed)."""
    total = 0
    for path in _expand(paths):
        if is_maildir(path):
            total += len(MaildirSource(path).list_new(None))
        elif _is_mbox(path):
            box = mailbox.mbox(path, create=False)
            try:
                total += len(box)
            finally:
                box.close()
        else:
            total += 1
    return total


def iter_messages(paths: list[Path]) -> Iterator[SourceMessage]:
    """Yield every message in ``paths``; folders that are not Maildirs are walked for files.

    Raises :class:`~mailer.errors.MailboxError` for a path that does not exist.
    """
    for path in _expand(paths):
        if is_maildir(path):
            source = MaildirSource(path)
            keys = source.list_new(None)
            for start in range(0, len(keys), 200):
                yield from source.fetch(keys[start : start + 200])
        elif _is_mbox(path):
            box = mailbox.mbox(path, create=False)
            try:
                for index, key in enumerate(box.iterkeys()):
                    raw = box.get_bytes(key, from_=False)
                    yield SourceMessage(key=f"{path}#{index}", raw=raw, received_at=None)
            finally:
                box.close()
        else:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise MailboxError(f"cannot read {path}: {exc.strerror}") from exc
            yield SourceMessage(key=str(path), raw=raw, received_at=None)


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise MailboxError(f"no such file or folder: {path}")
        if path.is_dir() and not is_maildir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                root_path = Path(root)
                if is_maildir(root_path):
                    dirs[:] = []
                    yield root_path
                    continue
                for name in sorted(files):
                    if not name.startswith("."):
                        yield root_path / name
        else:
            yield path


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() == ".mbox":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(5)
    except OSError:
        return False
    return head == b"From " and path.suffix.lower() != ".eml"
