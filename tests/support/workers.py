"""Real ``whiteglove run`` processes for end-to-end and fault tests, and what to look at afterwards.

:class:`WorkerProcess` starts the worker as an operator does (its own process, its own log file),
SIGKILLs it, stops it with SIGTERM and reads what it logged. :func:`wait_until` polls a condition
with a deadline (never a bare sleep as synchronisation). :func:`delivered_ids` counts the mail an
aiosmtpd test server took by Message-ID. :func:`mail_config` writes the configuration file the
fault tests share: an IMAP or Maildir mailbox, an SMTP or directory outbox, one engineer.
"""
from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from mailer import parse_message

__all__ = ["WORKER", "WorkerProcess", "assert_each_question_once", "delivered_ids", "imap_mailbox", "mail_config",
           "question", "smtp_outgoing", "wait_until", "write_maildir_questions"]

#: ``python -c WORKER ARGS`` is ``whiteglove ARGS`` (no console script needed).
#: The environment variable the fault tests' workers read the IMAP password from.
PASSWORD_ENV = "WG_FAULT_IMAP_PASSWORD"

WORKER = "import sys; from ticketing.app.cli import main; sys.exit(main(sys.argv[1:]))"

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, what: str = "the condition",
               interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something true, and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class WorkerProcess:
    """One ``whiteglove run --config FILE`` process, its stderr in ``log`` (appended across restarts).

    ``user``: run it as that system user (the test runs as root; files it needs must be its own).
    ``obey_file_modes``: run it without root's power to ignore file modes (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH, CAP_FOWNER dropped), so that a folder without write permission is one
    for it, as for a service account; it still owns root's files. Linux only; nothing to drop
    when the test does not run as root.
    """

    def __init__(self, config: Path, log: Path, *, env: dict[str, str] | None = None, user: str | None = None,
                 args: Iterable[str] = (), obey_file_modes: bool = False) -> None:
        self.obey_file_modes = obey_file_modes
        self.config = Path(config)
        self.log = Path(log)
        self.env = {**os.environ, **(env or {})}
        self.user = user
        self.args = tuple(args)
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> WorkerProcess:
        assert self.proc is None or self.proc.poll() is not None, "the worker is already running"
        kwargs: dict = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
        if self.obey_file_modes and os.geteuid() == 0:
            kwargs.update(preexec_fn=_drop_file_mode_override)
        with open(self.log, "a") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WORKER, "run", "--config", str(self.config), *self.args],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=self.env, cwd="/", **kwargs)
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, and reap it (as systemd or a container runtime would)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # a stopped (SIGSTOP) process dies of it too
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP: frozen wherever it is (mid-batch, mid-send), until :meth:`resume`."""
        self.assert_alive()
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (finish the batch in hand, then end); returns the exit code. Kills it past ``timeout``."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"the worker did not stop within {timeout:.0f} s of SIGTERM\n{self.tail()}")
        return self.proc.returncode

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def said(self, words: str) -> bool:
        return words in self.text()

    def tail(self, lines: int = 40) -> str:
        return "--- the worker's log ---\n" + "\n".join(self.text().splitlines()[-lines:])

    def assert_alive(self) -> None:
        assert self.running, f"the worker exited with {self.proc.returncode if self.proc else None}\n{self.tail()}"

    def traceback_free(self) -> bool:
        return "Traceback" not in self.text()


def _drop_file_mode_override() -> None:
    """In the child before exec: drop from the bounding set the capabilities that let root write
    where the file modes say no; the worker exec'd next does not have them."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def worker_status(config: Path, health: Path) -> dict:
    """What ``whiteglove status --json`` says of the worker that writes ``health``."""
    done = subprocess.run([sys.executable, "-c", WORKER, "status", "--json", "--config", str(config),
                           "--health-file", str(health)], capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout)


def delivered_ids(received) -> Counter:
    """The Message-IDs of the mail an aiosmtpd test server took, each with how often it came."""
    return Counter(parse_message(r.content).message_id for r in list(received))


def mail_config(path: Path, *, db_url: str, mailbox: str, outgoing: str, extra: str = "") -> Path:
    """Write a worker configuration: ``mailbox`` and ``outgoing`` are the bodies of those sections."""
    path.write_text(f"""\
[database]
url = "{db_url}"

[mailbox]
{mailbox}

[outgoing]
{outgoing}

[support]
address = "support@northwind.example"
name = "Northwind Support"
acknowledgements_per_hour = 10000

[[engineers]]
email = "priya@northwind.example"
name = "Priya Raman"
{extra}
""", encoding="utf-8")
    return path


def imap_mailbox(host: str, port: int, username: str, password_env: str, *, batch_size: int = 25) -> str:
    """The ``[mailbox]`` section for an IMAP account on a test Dovecot (polling every second)."""
    return (f'backend = "imap"\nhost = "{host}"\nport = {port}\nsecurity = "none"\nusername = "{username}"\n'
            f'password_env = "{password_env}"\nidle = false\npoll_seconds = 1\nbatch_size = {batch_size}\n'
            f'start_at = "2000-01-01"')


def smtp_outgoing(host: str, port: int, *, retry_seconds: int = 1, max_attempts: int = 5) -> str:
    """The ``[outgoing]`` section for an aiosmtpd test server."""
    return (f'backend = "smtp"\nhost = "{host}"\nport = {port}\nsecurity = "none"\n'
            f'retry_seconds = {retry_seconds}\nmax_attempts = {max_attempts}')


# -- a stream of customers' questions, and what must come of it ------------------------------------

_WHEN = format_datetime(datetime.now(timezone.utc) - timedelta(minutes=5))


def question(i: int) -> bytes:
    """Customer ``i``'s question (Message-ID ``<q{i}@client.example>``), ending in CRLF."""
    return (f"From: Customer {i} <customer{i}@client{i % 9}.example>\r\nTo: support@northwind.example\r\n"
            f"Subject: Question {i}\r\nMessage-ID: <q{i}@client.example>\r\nDate: {_WHEN}\r\n\r\n"
            f"How do I set up SSO for team {i}?\r\n").encode()


def write_maildir_questions(maildir: Path, first: int, count: int) -> None:
    """Put questions ``first``..``first+count-1`` (``Question N`` from ``customerN@globex.example``,
    Message-ID ``<qN@globex.example>``) in the Maildir's ``new``, creating the Maildir if needed."""
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    for n in range(first, first + count):
        (maildir / "new" / f"{int(when.timestamp()) + n}.M{n}P1.mx").write_bytes(
            (f"From: Customer {n} <customer{n}@globex.example>\r\nTo: support@northwind.example\r\n"
             f"Subject: Question {n}\r\nMessage-ID: <q{n}@globex.example>\r\n"
             f"Date: {format_datetime(when)}\r\n\r\nHow do I set up SSO?\r\n").encode())


def assert_each_question_once(store, received, count: int, *, resends: int = 0, why: str = "") -> Counter:
    """Questions 0..count-1 each made one ticket, were stored once and acknowledged once; the
    outbox is empty; every mail queued arrived at the SMTP server (``received``) once, except at
    most ``resends`` sent twice. Returns the Message-IDs that arrived, counted."""
    from ticketing.core.domain import OutboxStatus

    tickets = Counter(t.subject for t in store.list_tickets() if t.requester.startswith("customer"))
    assert tickets == Counter(f"Question {i}" for i in range(count)), f"a ticket lost or doubled {why}"
    stored = Counter(m.message_id for m in store.messages())
    assert stored == Counter(f"q{i}@client.example" for i in range(count)), f"a message lost or doubled {why}"
    outbox = store.outbox()
    assert {m.status for m in outbox} == {OutboxStatus.SENT}, f"mail left in the outbox {why}"
    acks = Counter(r for m in outbox if m.purpose == "acknowledgement" for r in m.recipients)
    assert len(acks) == count and set(acks.values()) == {1}, f"a customer acknowledged twice or never {why}"
    arrived = delivered_ids(received)
    assert set(arrived) == {m.message_id for m in outbox}, f"mail lost, or sent that was never queued {why}"
    twice = sum(arrived.values()) - len(arrived)
    assert twice <= resends, f"{twice} mail(s) arrived twice (allowed: {resends}) {why}"
    return arrived
