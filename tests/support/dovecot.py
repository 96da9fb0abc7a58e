"""A real Dovecot IMAP and LMTP server for tests, running unprivileged from a temp dir.

:class:`DovecotServer` writes its own ``dovecot.conf`` (loopback only, plain-text login, Maildir,
passwd-file users), starts it with ``dovecot -c FILE`` and stops it with ``doveadm -c FILE stop``.
Mail is delivered over LMTP, exactly as a mail server would, or appended over IMAP when a test
needs to choose the INTERNALDATE.

Fixtures: ``dovecot`` (one server per session), ``private_dovecot`` (one for a test that restarts
it) and ``imap_account`` (a fresh ``(email, password)``
per test). Dovecot refuses to access mail as root, so the mail belongs to the system user
``wgvmail``, created on first use; that needs root. Facts behind the configuration:
``/work/shared/notes/dovecot.md``.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pytest
from imapclient import IMAPClient

from support.servers import server_unavailable

__all__ = ["DovecotServer", "DovecotError", "dovecot", "dovecot_oauth2", "imap_account", "private_dovecot"]

MAIL_USER = "wgvmail"
HOST = "127.0.0.1"
SENDER = "sender@example.test"

_CONFIG = """\
# Written by tests/support/dovecot.py for one test session.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap lmtp
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
# Dovecot delays every failed login by 2 s against guessing; tests fail logins on purpose.
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
# Tests open several connections per user (the source, a helper, an IDLE watcher).
mail_max_userip_connections = 100
# Keep LMTP deliveries byte-identical to what the test sent: no trace headers.
lmtp_add_received_header = no
lmtp_hdr_delivery_address = none
{oauth2_passdb}passdb {{
  driver = passwd-file
  # One file per user: Dovecot stats a passwd-file at most once a second, so a user appended to
  # a shared file right after a login would not exist yet; a new file is read when first used.
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {host}
    port = {lmtp_port}
  }}
}}
service anvil {{
  chroot =
  # No listener, no auth penalty: otherwise after a test's failed login every login from
  # 127.0.0.1 is delayed by up to 15 s.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


# SASL XOAUTH2 and OAUTHBEARER, with each token checked by RFC 7662 introspection at a URL the test
# runs (/work/shared/notes/oauth2-and-exchange.md): the token names the mailbox it is good for.
_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
"""
_OAUTH2_ARGS = """\
introspection_mode = post
introspection_url = {url}
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
"""


class DovecotError(RuntimeError):
    """The test server could not be set up, started, stopped or used; the message quotes its log."""


def find_binary(name: str) -> str | None:
    """Return the path of a Dovecot binary; ``/usr/sbin`` is often not on a user's PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def ensure_mail_user(name: str = MAIL_USER) -> pwd.struct_passwd:
    """Return the unprivileged system user that owns the mail, creating it (needs root) if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise DovecotError(f"the system user {name!r} is missing and only root can create it")
    subprocess.run(
        ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name],
        check=True, capture_output=True, timeout=30,
    )
    return pwd.getpwnam(name)


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free a moment ago (the server binds it shortly after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class DovecotServer:
    """A private Dovecot instance whose config, state, log and mail all live under ``root``.

    ``root`` must be reachable by the mail user (every parent traversable); it is made mode 755.
    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, root: Path, users: dict[str, str] | None = None, host: str = HOST,
                 introspection_url: str | None = None) -> None:
        self.root = Path(root)
        #: With a URL, logins may also be OAuth2 tokens, checked there (an RFC 7662 endpoint).
        self.introspection_url = introspection_url
        self.host = host
        self.imap_port = 0
        self.lmtp_port = 0
        self.config_path = self.root / "dovecot.conf"
        self._users_dir = self.root / "users"
        self._users: dict[str, str] = {}
        self._lmtp: smtplib.LMTP | None = None
        self._lmtp_lock = threading.Lock()
        self._pid: int | None = None
        for email, password in (users or {}).items():
            self.add_user(email, password)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 20.0, *, same_ports: bool = False) -> None:
        """Write the config, start Dovecot and return once IMAP and LMTP both greet.

        ``same_ports``: listen where the last start did (a restart its clients reconnect to).
        Raises :class:`DovecotError` (with the log) if it does not come up before ``timeout``.
        """
        binary = find_binary("dovecot")
        if binary is None:
            raise DovecotError("the dovecot binary is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
        mail_user = ensure_mail_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
        self._users_dir.mkdir(exist_ok=True)
        if not (same_ports and self.imap_port and self.lmtp_port):
            self.imap_port, self.lmtp_port = free_port(self.host), free_port(self.host)
        oauth2 = self.introspection_url is not None
        if oauth2:
            (self.root / "oauth2.conf.ext").write_text(_OAUTH2_ARGS.format(url=self.introspection_url))
        self.config_path.write_text(_CONFIG.format(
            root=self.root, host=self.host, uid=mail_user.pw_uid, gid=mail_user.pw_gid,
            imap_port=self.imap_port, lmtp_port=self.lmtp_port,
            oauth2_mechanisms=" xoauth2 oauthbearer" if oauth2 else "",
            oauth2_passdb=_OAUTH2_PASSDB.format(root=self.root) if oauth2 else "",
        ))
        # The daemon inherits our file descriptors: a pipe would never reach EOF, so use a file.
        startup_errors = self.root / "startup.err"
        with startup_errors.open("w") as stderr:
            returncode = subprocess.run(
                [binary, "-c", str(self.config_path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr, timeout=timeout,
            ).returncode
        if returncode != 0:
            raise DovecotError(f"dovecot exited with {returncode}: {startup_errors.read_text().strip()}\n{self.log()}")
        deadline = time.monotonic() + timeout
        self._pid = self._read_pid(deadline)
        self._await_greeting(self.imap_port, b"* OK", deadline)
        self._await_greeting(self.lmtp_port, b"220", deadline)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop Dovecot with ``doveadm stop`` and wait until its master process has exited."""
        with self._lmtp_lock:
            if self._lmtp is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._lmtp.quit()
                self._lmtp = None
        if self._pid is None:
            return
        self.doveadm("stop")
        deadline = time.monotonic() + timeout
        while _alive(self._pid):
            if time.monotonic() > deadline:
                raise DovecotError(f"dovecot (pid {self._pid}) still runs {timeout}s after doveadm stop\n{self.log()}")
            time.sleep(0.05)
        # Dovecot 2.3 leaves its IMAP sessions running after the master exits (their clients would
        # go on talking to a stopped server): end them, as a real stop or crash of the host does.
        _kill_session(self._pid)
        self._pid = None

    def restart(self, down_for: Callable[[], object] | None = None) -> None:
        """Stop the server (every session dropped), call ``down_for`` while it is down, and start it
        again on the same ports, with the same users and mail."""
        self.stop()
        if down_for is not None:
            down_for()
        self.start(same_ports=True)

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- users and mail --------------------------------------------------------------------------

    def add_user(self, email: str, password: str) -> None:
        """Add a user (or change its password); works while the server runs."""
        if any(c in email for c in ":/\n") or email.startswith(".") or any(c in password for c in ":\n"):
            raise ValueError(f"unusable user name or password for a passwd-file: {email!r}")
        self._users[email] = password
        self._users_dir.mkdir(parents=True, exist_ok=True)
        (self._users_dir / email).write_text(f"{email}:{{PLAIN}}{password}\n")

    @staticmethod
    def stored(raw: bytes) -> bytes:
        """Return what IMAP serves for ``raw`` delivered by :meth:`deliver`.

        Dovecot's LMTP always prepends a ``Return-Path`` header (Dovecot 2.3 has no setting to turn
        it off); the ``Received`` and ``Delivered-To`` headers are turned off in the config.
        """
        return b"Return-Path: <" + SENDER.encode() + b">\r\n" + raw

    def deliver(self, recipient: str, raw: bytes) -> None:
        """Deliver one message to ``recipient``'s INBOX over LMTP, as a mail server would."""
        self.deliver_many(recipient, [raw])

    def deliver_many(self, recipient: str, messages: Iterable[bytes]) -> None:
        """Deliver messages in order over one LMTP connection (one recipient per transaction).

        Messages should end with CRLF: SMTP appends one otherwise, and then IMAP returns it.
        """
        with self._lmtp_lock:
            for raw in messages:
                self._deliver_one(recipient, raw)

    def _deliver_one(self, recipient: str, raw: bytes) -> None:
        for attempt in (1, 2):
            try:
                if self._lmtp is None:
                    self._lmtp = smtplib.LMTP(self.host, self.lmtp_port, timeout=30)
                refused = self._lmtp.sendmail(SENDER, [recipient], raw)
            except smtplib.SMTPServerDisconnected:
                # Dovecot drops an idle LMTP connection after a while: reconnect once.
                self._lmtp = None
                if attempt == 2:
                    raise
                continue
            except (smtplib.SMTPException, OSError) as exc:
                self._lmtp = None
                raise DovecotError(f"LMTP delivery to {recipient} failed: {exc}\n{self.log()}") from exc
            if refused:
                raise DovecotError(f"LMTP refused {recipient}: {refused}\n{self.log()}")
            return

    def append(
        self, email: str, folder: str, raw: bytes, flags: Iterable[str] = (), msg_time: datetime | None = None
    ) -> None:
        """Append a message over IMAP, creating ``folder`` if needed; ``msg_time`` sets INTERNALDATE."""
        with self.client(email) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags=tuple(flags), msg_time=msg_time)

    @contextlib.contextmanager
    def client(self, email: str) -> Iterator[IMAPClient]:
        """Yield an IMAP connection logged in as ``email``, for a test to look at or change the mailbox."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
        try:
            client.login(email, self._users[email])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def kick(self, email: str, timeout: float = 10.0) -> None:
        """Disconnect every IMAP session of ``email`` (``doveadm kick``), as a server restart would.

        Returns once Dovecot no longer lists the kicked sessions: their sockets are closed. A client
        that reconnects at once (a worker) gets a new session, which is not waited for.
        """
        kicked = self.session_pids(email)
        self.doveadm("kick", email)
        deadline = time.monotonic() + timeout
        while remaining := kicked & self.session_pids(email):
            if time.monotonic() > deadline:
                raise DovecotError(f"{email} still has session(s) {sorted(remaining)} after kick\n{self.log()}")
            time.sleep(0.02)

    def sessions(self, email: str) -> int:
        """Return how many IMAP connections ``email`` has (``doveadm who``)."""
        return len(self.session_pids(email))

    def session_pids(self, email: str) -> set[int]:
        """Return the process ids of ``email``'s IMAP connections (one process per connection)."""
        lines = self.doveadm("who", "-1", email).splitlines()[1:]  # the first line is a header
        return {int(fields[2]) for fields in map(str.split, lines) if fields[:2] == [email, "imap"]}

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c FILE ARGS`` against this instance and return its output."""
        binary = find_binary("doveadm") or "doveadm"
        result = subprocess.run(
            [binary, "-c", str(self.config_path), *args], capture_output=True, text=True, timeout=30,
        )
        if result.returncode != 0:
            raise DovecotError(f"doveadm {' '.join(args)} exited with {result.returncode}: "
                               f"{result.stderr.strip()}\n{self.log()}")
        return result.stdout

    def log(self) -> str:
        """Return Dovecot's log: it writes its errors there, not to stderr."""
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(dovecot.log does not exist)"

    # -- helpers ---------------------------------------------------------------------------------

    def _read_pid(self, deadline: float) -> int:
        pid_file = self.root / "run" / "master.pid"
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(pid_file.read_text().strip())
            time.sleep(0.02)
        raise DovecotError(f"{pid_file} did not appear\n{self.log()}")

    def _await_greeting(self, port: int, greeting: bytes, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, port), timeout=1) as sock:
                    line = sock.makefile("rb").readline()
                if line.startswith(greeting):
                    return
                last_error = ValueError(f"unexpected greeting {line!r}")
            except OSError as exc:
                last_error = exc
            if self._pid is not None and not _alive(self._pid):
                break
            time.sleep(0.05)
        raise DovecotError(f"no {greeting.decode()} greeting on {self.host}:{port}: {last_error}\n{self.log()}")


def _kill_session(leader: int) -> None:
    """SIGKILL every process left in the session of ``leader`` (the daemonised master's children)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != leader:
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == leader:
                    os.kill(int(entry.name), signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (nobody reaped the daemonised master) counts as exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return not re.search(r"^State:\s+Z", status, re.MULTILINE)


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One running :class:`DovecotServer` for the session (skips, or fails under CI, if unavailable)."""
    yield from _running()


@pytest.fixture(scope="session")
def dovecot_oauth2(token_authority) -> Iterator[DovecotServer]:
    """A second server whose logins may also be OAuth2 tokens from the session's ``token_authority``."""
    yield from _running(token_authority.introspection_url)


@pytest.fixture
def private_dovecot() -> Iterator[DovecotServer]:
    """A server of the test's own, which it may stop and restart without disturbing other tests."""
    yield from _running()


def _running(introspection_url: str | None = None) -> Iterator[DovecotServer]:
    if find_binary("dovecot") is None:
        server_unavailable("Dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    # Not pytest's tmp_path: it lives under a mode-700 directory the mail user cannot traverse.
    root = Path(tempfile.mkdtemp(prefix="whiteglove-dovecot-"))
    server = DovecotServer(root, introspection_url=introspection_url)
    try:
        server.start()
    except (DovecotError, OSError, subprocess.SubprocessError) as exc:
        with contextlib.suppress(DovecotError, OSError, subprocess.SubprocessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
        server_unavailable(f"Dovecot did not start: {exc}")
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


_account_numbers = itertools.count(1)


@pytest.fixture
def imap_account(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A fresh ``(email, password)`` on the ``dovecot`` server, with an empty mailbox.

    If the test fails, the tail of Dovecot's log is shown with the test's captured output.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    email = f"{slug}-{next(_account_numbers)}@example.test"
    password = secrets.token_urlsafe(12)
    dovecot.add_user(email, password)
    failed_before = request.session.testsfailed
    yield email, password
    if request.session.testsfailed > failed_before:
        tail = "\n".join(dovecot.log().splitlines()[-60:])
        sys.stdout.write(f"--- last lines of {dovecot.root}/dovecot.log ---\n{tail}\n")
