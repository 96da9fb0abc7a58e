"""Logging, set up once by the command line: the level, the text or JSON format, and the start banner.

The level (``--log-level``, default INFO; ``-v`` is DEBUG) is the root logger's, so whiteglove's
own loggers (``ticketing.*``, ``mailer.*``, ``whiteglove``) follow it. The libraries that log every wire line or SQL statement
(:data:`CHATTY`) stay at WARNING unless ``-vv`` asks for them too, so that ``-v`` shows what
whiteglove decided without an IMAP transcript. Records go to standard error, one line each:
``2026-11-20 17:00:00,000 INFO ticketing.services.intake: ...`` or, with ``--log-format json``,
one JSON object per line with ``time``, ``level``, ``logger``, ``message`` and the record's extra
fields. No credential reaches a log line: the banner shows a database URL with ``***`` for its
password, and the names of environment variables, never their values.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Sequence
from urllib.parse import urlsplit, urlunsplit

from ticketing.app.worker import Job
from ticketing.config import Config

__all__ = ["CHATTY", "LEVELS", "configure_logging", "redact_url", "release", "start_banner"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Libraries that log at DEBUG/INFO what only a protocol trace needs: IMAP lines, SQL, HTTP.
CHATTY = ("imapclient", "peewee", "exchangelib", "urllib3", "msal", "requests_ntlm", "spnego",
          "requests_oauthlib", "httpx", "httpcore", "google.auth")

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    then the record's extra fields, and ``exception`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (tests and tqdm replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; the property always wins
        pass


def configure_logging(level: str | None = None, verbose: int = 0, fmt: str = "text") -> None:
    """Send log records to standard error in ``fmt`` (``text`` or ``json``).

    ``level`` is the root logger's level (any case; default INFO, or DEBUG with ``verbose``); the
    :data:`CHATTY` libraries stay at WARNING (or the level, if higher) unless ``verbose >= 2``.
    Calling it again replaces what an earlier call installed.
    """
    own = logging.getLevelName((level or ("DEBUG" if verbose else "INFO")).upper())
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(own)
    wire = verbose >= 2
    for name in CHATTY:
        # NOTSET lets -vv's DEBUG through; otherwise WARNING, or the chosen level if higher (a
        # record passing its own logger's level reaches the handler whatever the root's level is).
        logging.getLogger(name).setLevel(logging.NOTSET if wire else max(own, logging.WARNING))


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (``postgresql://user:***@host/db``), in the
    authority or as a ``password=`` query parameter."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing to hide (and sqlite:////abs/path must stay as written)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def start_banner(config: Config, config_path: str, release: str, source: str, jobs: Sequence[Job]) -> str:
    """The line ``run`` logs when it starts: what it runs with, and no secret.

    ``source`` is the mailbox's name as built (its user, host and folder; never a password);
    ``jobs`` are the worker's periodic jobs.
    """
    mb, out, sla = config.mailbox, config.outgoing, config.sla
    mailbox = f"{source} ({'IDLE, else ' if mb.backend == 'imap' and mb.idle else ''}polled every {mb.poll_seconds} s)"
    if out.backend == "smtp":
        outgoing = f"smtp {out.username + '@' if out.username else ''}{out.host}:{out.port or 'default'} ({out.security})"
    elif out.backend == "directory":
        outgoing = f"directory {config.resolve(out.path or 'outbox')}"
    else:
        outgoing = f"{out.backend} {out.username or config.ews.mailbox or config.support.address}"
    timetable = []
    for job in jobs:
        if job.name == "weekly summaries":
            timetable.append(f"weekly summaries {sla.summary_weekday} {sla.summary_time} in each manager's time zone"
                             f" (checked every {job.seconds:g} s)")
        elif job.seconds > 0:
            timetable.append(f"{job.name} every {job.seconds:g} s")
    return (f"whiteglove {release} starting: config {config_path}; database {redact_url(config.database_url())}; "
            f"mailbox {mailbox}; outgoing {outgoing}; " + ", ".join(timetable or ["no periodic jobs"]))


def release() -> str:
    """whiteglove's version as installed (``unknown`` in a checkout that is not)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("whiteglove")
    except PackageNotFoundError:
        return "unknown"
