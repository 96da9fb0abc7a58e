"""Messages from files on disk, for backfills: ``.eml`` files, ``.mbox`` files and Maildir folders."""
from __future__ import annotations

import mailbox
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from .errors import MailboxError
from .maildir import MaildirSource
from .source import SourceMessage


def is_maildir(path: Path) -> bool:
    return path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir())


#: Headers of which a mail file has at least one among the first lines (a calendar file's
#: ``BEGIN:VCALENDAR`` or a note's ``Title: x`` reads like a header too, but is none of these).
_MAIL_HEADERS = frozenset({"from", "to", "date", "subject", "received", "message-id", "return-path",
                           "delivered-to", "mime-version", "reply-to", "x-mailer", "sender", "cc"})
_HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def mail_file_problem(path: Path) -> str | None:
    """Why the file at ``path`` is not a mail file, or None when it is one: a ``.eml`` file always
    is (the operator said so); any other must begin with header lines, one of them a mail header."""
    if path.suffix.lower() == ".eml":
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if not head:
        return "empty"
    names = set()
    for line in head.splitlines():
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header's next line
        match = _HEADER_LINE.match(line)
        if match is None:
            if names or not line.startswith(b"From "):  # the envelope line of a single-message mbox
                break
            continue
        names.add(match.group(1).decode("ascii").lower())
    if names & _MAIL_HEADERS:
        return None
    return "not a mail file (no From:, Date:, Subject: or Received: header at its top)"


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
        elif mail_file_problem(path) is None:
            total += 1
    return total


def iter_messages(paths: list[Path], skipped: Callable[[Path, str], None] | None = None) -> Iterator[SourceMessage]:
    """Yield every message in ``paths``; folders that are not Maildirs are walked for files. A file
    that is no mail (a README, an ``.ics``) is passed over, and ``skipped(path, why)`` told.

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
            problem = mail_file_problem(path)
            if problem is not None:
                if skipped is not None:
                    skipped(path, problem)
                continue
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
