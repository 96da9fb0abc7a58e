"""Sending by writing files: :class:`DirectorySender` puts each message in a folder as an ``.eml`` file.

An outbox folder serves tests, demos and hand delivery. The file of a message is named after its
Message-ID (:func:`message_file_name`), so a resend after a crash writes nothing twice; each file
appears whole (written beside, flushed, renamed), and the folder is flushed once for many files
(:meth:`DirectorySender.sync`). Failures to write become :mod:`mailer.errors` as for every
:class:`~mailer.sending.MailSender`: a folder that takes no file at all is
:class:`~mailer.errors.ServerUnavailableError` (with the fix), another failure
:class:`~mailer.errors.TransientSendError`.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Sequence

from mailer.errors import SendError, ServerUnavailableError, TransientSendError
from mailer.sending import check_envelope

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9@._+=-]+")


def message_file_name(raw: bytes) -> str:
    """Return the ``.eml`` file name :class:`DirectorySender` gives the message ``raw``.

    It derives from the Message-ID (a readable slug and a SHA-256 prefix of the id, so distinct
    ids never share a name), or from a SHA-256 of the bytes when there is no Message-ID: sending
    the same message again names the same file. The name never holds a path separator.
    """
    value = BytesHeaderParser(policy=compat32).parsebytes(_header_block(raw)).get("message-id")
    found = _MESSAGE_ID.search(str(value)) if value is not None else None
    if found is None:
        return f"sha256-{hashlib.sha256(raw).hexdigest()}.eml"
    ident = found.group(1)
    slug = _UNSAFE_FILE_CHARS.sub("_", ident).lstrip(".")[:80]
    return f"{slug}-{hashlib.sha256(ident.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}.eml"


def _header_block(raw: bytes) -> bytes:
    """``raw`` up to its first empty line (the header parser would read, and drop, the whole body:
    most of a millisecond for a message of a few KB); all of it when no empty line is seen."""
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    return raw[:min(ends) + 1] if ends else raw


class DirectorySender:
    """A :class:`MailSender` that writes each message to ``path`` as one ``.eml`` file.

    The directory is created when missing. Files are named by :func:`message_file_name`, so a
    resend after a crash finds the file there and writes nothing (the first copy wins). Each
    file is written to a hidden temporary file in the same directory, flushed to disk and
    renamed into place: a reader of ``*.eml`` never sees a partial message. The envelope is not
    recorded; the bytes are written unchanged. Files are readable by their owner only.

    The directory itself (the renames) is flushed to disk by :meth:`sync`, once for many files:
    a message counts as sent only after it (the caller calls it before recording anything as
    sent). Without a ``sync`` a rename may be lost in a power cut, and the message is written
    again from the outbox. Because a resend writes nothing, ``resend_is_harmless`` is true: the
    caller may record a batch as sent at once.
    """

    #: Sending the same bytes again after a crash delivers nothing twice (the file is there).
    resend_is_harmless = True

    def __init__(self, path: str | os.PathLike[str], flush_threads: int = 16) -> None:
        self.path = Path(path)
        #: How many files :meth:`send_many` flushes at once.
        self.flush_threads = flush_threads
        self._flushers: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"DirectorySender({str(self.path)!r})"

    def __enter__(self) -> DirectorySender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Write ``raw`` to the directory unless its file is there already (see :class:`MailSender`).

        Raises :class:`~mailer.errors.ServerUnavailableError` when the folder cannot be written
        (missing permissions, a read-only or full file system: no message's fault, and none can
        go until it is fixed; the message says how), :class:`~mailer.errors.TransientSendError`
        for another failure to write this one file.
        """
        check_envelope(envelope_from, recipients)
        target = self.path / message_file_name(raw)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if target.exists():
                log.debug("%s already holds %s: not written again", self.path, target.name)
                return
            _write_atomically(target, bytes(raw))
        except OSError as exc:
            raise self._write_failure(exc, target) from exc
        log.debug("wrote %s", target)

    def _write_failure(self, exc: OSError, target: Path) -> SendError:
        """What a failure to write ``target`` means: the folder takes no file at all (a
        :class:`ServerUnavailableError` saying the fix), or this one file failed."""
        fix = _FOLDER_FIXES.get(exc.errno)
        if fix is not None:
            return ServerUnavailableError(
                f"cannot write in the outbox folder {self.path}: {exc.strerror} (fix: {fix(self.path)})")
        return TransientSendError(f"cannot write {target}: {exc}")

    def send_many(self, messages: Sequence[tuple[bytes, str, Sequence[str]]]) -> list[Exception | None]:
        """Write several messages as :meth:`send` writes each; return, for each, None when it was
        written (or was there already) or the exception :meth:`send` would have raised.

        The files are written first, flushed to disk together (each one fsynced, from several
        threads at once, so that the file system commits them in a few journal transactions rather
        than one after another), and only then renamed into place: a reader still never sees a
        partial file. On this machine's disk that is 0.2-0.4 ms a file instead of about 3.
        """
        results: list[Exception | None] = [None] * len(messages)
        staged: list[tuple[int, int, str, Path]] = []  # index, open file, temporary name, target
        names: set[str] = set()
        try:
            for index, (raw, envelope_from, recipients) in enumerate(messages):
                try:
                    check_envelope(envelope_from, recipients)
                except ValueError as exc:
                    results[index] = exc
                    continue
                target = self.path / message_file_name(raw)
                try:
                    self.path.mkdir(parents=True, exist_ok=True)
                    if target.name in names or target.exists():
                        log.debug("%s already holds %s: not written again", self.path, target.name)
                        continue
                    fd, temp = _write_unflushed(target, bytes(raw))
                except OSError as exc:
                    results[index] = self._write_failure(exc, target)
                    continue
                names.add(target.name)
                staged.append((index, fd, temp, target))
            flushed = list(self._pool().map(_flush, [fd for _, fd, _, _ in staged]))
            for (index, _, temp, target), error in zip(staged, flushed):
                try:
                    if error is not None:
                        raise error
                    os.replace(temp, target)
                except OSError as exc:
                    results[index] = self._write_failure(exc, target)
                    _unlink(temp)
                else:
                    log.debug("wrote %s", target)
        finally:
            for _, fd, _, _ in staged:
                os.close(fd)
        return results

    def _pool(self) -> ThreadPoolExecutor:
        if self._flushers is None:
            self._flushers = ThreadPoolExecutor(max_workers=self.flush_threads, thread_name_prefix="outbox-fsync")
        return self._flushers

    def sync(self) -> None:
        """Make the files written since the last call durable: one fsync of the directory.

        Raises :class:`~mailer.errors.TransientSendError` when it fails.
        """
        try:
            dir_fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise TransientSendError(f"cannot flush {self.path}: {exc}") from exc

    def close(self) -> None:
        """Stop the threads that flush files (started again when needed)."""
        if self._flushers is not None:
            self._flushers.shutdown()
            self._flushers = None


def _write_unflushed(target: Path, data: bytes) -> tuple[int, str]:
    """Write ``data`` to a new hidden file beside ``target``; return its open descriptor and name."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.stem[:40]}.", suffix=".tmp", dir=target.parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        _unlink(temp)
        raise
    return fd, temp


def _flush(fd: int) -> OSError | None:
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _run_as() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # Windows, or a uid without a name (a container)
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "the user whiteglove runs as"


#: Why an outbox folder takes no file at all, by errno, and what an operator does about it.
_FOLDER_FIXES = {
    errno.EACCES: lambda path: f"make it writable by {_run_as()}, the user whiteglove runs as",
    errno.EPERM: lambda path: f"make it writable by {_run_as()}, the user whiteglove runs as",
    errno.EROFS: lambda path: "mount its file system read-write, or set [outgoing] path to a writable folder",
    errno.ENOSPC: lambda path: "free space on its file system",
    errno.EDQUOT: lambda path: f"raise the disk quota of {_run_as()}, or free space",
    errno.ENOTDIR: lambda path: f"{path} or a parent is a file: set [outgoing] path to a folder",
}


def _write_atomically(target: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{target.stem[:40]}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    # The rename is durable once the directory entry is on disk too: DirectorySender.sync.
