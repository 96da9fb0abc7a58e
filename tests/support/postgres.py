"""A PostgreSQL database for tests, on the server at 127.0.0.1:5432 (trust auth).

Each test session creates its own database and drops it at the end; each test gets empty tables.
``private_pg`` is a server of one test's own (initdb + pg_ctl), for tests that restart it.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from .servers import server_unavailable

ADMIN_DSN = os.environ.get("WHITEGLOVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

__all__ = ["PrivatePostgres", "emptied", "pg_database_url", "pg_url", "private_pg"]


def _admin_connect():
    import psycopg2

    conn = psycopg2.connect(ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_database_url():
    """The URL of a database made for this test session."""
    try:
        admin = _admin_connect()
    except Exception as exc:  # any failure here means: no server for us
        server_unavailable(f"PostgreSQL is not reachable at {ADMIN_DSN}: {exc}")
    name = f"wg_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def emptied(url: str) -> str:
    """``url``'s database with every table dropped; returns ``url``."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()
    return url


@pytest.fixture
def pg_url(pg_database_url):
    """The session database with every table dropped, so the test starts from nothing."""
    return emptied(pg_database_url)


# -- a private server, for a test that stops and starts it -----------------------------------------

PG_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/14/bin")


def pg_binary(name: str) -> str | None:
    """The path of a PostgreSQL server program (``initdb``, ``pg_ctl``), or None."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(PG_BIN_DIRS))


class PrivatePostgres:
    """A PostgreSQL server of a test's own: a temp data directory, a free port on 127.0.0.1, trust
    auth, made with ``initdb`` and run with ``pg_ctl``. PostgreSQL refuses to run as root, so under
    root it runs as the ``postgres`` system user (or ``nobody``), owning its directory.

    Never the shared server on 5432: :meth:`stop` and :meth:`start` may be called at will.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = None if os.geteuid() != 0 else next(
            (u for u in ("postgres", "nobody") if _user_exists(u)), None)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        kwargs: dict = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, cwd=self.root, **kwargs)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} exited with {done.returncode}: {done.stderr.strip()}\n{self.log()}")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    def start(self) -> None:
        """Start it (on the same port every time) and return once it takes connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop it: ``fast`` ends every session at once (a restart), ``immediate`` is a crash."""
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")[-3000:]
        except FileNotFoundError:
            return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def private_pg(tmp_path_factory) -> Iterator[PrivatePostgres]:
    """A running :class:`PrivatePostgres` (skips without ``initdb``; fails instead under CI)."""
    if pg_binary("initdb") is None or pg_binary("pg_ctl") is None:
        server_unavailable("initdb/pg_ctl are not installed: no private PostgreSQL server")
    # Not under pytest's tmp_path: it lives in a mode-700 directory the server's user cannot enter.
    server = PrivatePostgres(Path(tempfile.mkdtemp(prefix="whiteglove-pg-")))
    try:
        server.init()
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(server.root, ignore_errors=True)
        server_unavailable(f"a private PostgreSQL server did not start: {exc}")
    yield server
    with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
        server.stop("immediate")
    shutil.rmtree(server.root, ignore_errors=True)
