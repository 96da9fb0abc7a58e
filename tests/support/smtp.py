"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in a thread, recording what it receives.

:class:`SmtpTestServer` accepts mail and keeps each envelope (:class:`Received`: the reverse-path,
the recipients and the exact bytes of the DATA) in ``received``. It can answer the next messages
with a 4xx, refuse chosen recipients, require AUTH, offer STARTTLS or speak implicit TLS with a
certificate from a test CA made by ``trustme`` (trust it with :meth:`SmtpTestServer.client_context`),
and drop every open connection on demand.

Fixtures: ``smtp_ca`` (one CA per session), ``smtp_server_factory`` (starts servers with options,
stops them after the test) and ``smtp_server`` (a plain server). They are plain pytest fixtures:
import them into a test module (or re-export them from ``conftest.py``).
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

__all__ = ["Received", "SmtpTestServer", "smtp_ca", "smtp_server", "smtp_server_factory"]

HOST = "127.0.0.1"
SERVER_NAME = "smtp.test"  # the banner name; aiosmtpd would otherwise look up the FQDN
TLS_MODES = (None, "starttls", "implicit")


@dataclass(frozen=True)
class Received:
    """One message as the server took it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # the DATA, dot-unstuffed, up to and including the last CR LF


class _Session(SMTP):
    """aiosmtpd's protocol for one connection, which says when the connection is gone."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.closed = threading.Event()

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self.closed.set()


class _Controller(Controller):
    """A Controller that listens on a port the system picks (aiosmtpd 1.4 wants a fixed one)."""

    def __init__(self, *args, sessions: list[_Session], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = sessions

    def factory(self) -> _Session:
        session = _Session(self.handler, **self.SMTP_kwargs)
        self._sessions.append(session)
        return session

    def _trigger_server(self) -> None:
        # Runs once the socket is bound: learn its port before the first connection to it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1 (see the module docstring). Use as a context manager."""

    def __init__(self, *, tls: str | None = None, users: dict[str, str] | None = None,
                 ca: trustme.CA | None = None, tokens: Callable[[str], str | None] | None = None) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {TLS_MODES}")
        if tls and ca is None:
            raise ValueError("a TLS server needs a CA")
        self.tls = tls
        self.users = dict(users or {})
        #: With ``tokens`` (a token -> the mailbox it is good for, or None), AUTH XOAUTH2 is offered.
        self.tokens = tokens
        self.ca = ca
        self.received: list[Received] = []
        self.logins: list[str] = []
        self._sessions: list[_Session] = []
        self._baseline = 0
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self._refused: dict[str, str] = {}
        self._controller: _Controller | None = None
        self._port = 0  # after the first start, a start again listens where it did (a restart)
        #: Seconds the server takes over each message's DATA (a slow server; a kill lands mid-send).
        self.data_delay = 0.0

    # -- what a test changes ----------------------------------------------------------------------

    def fail_next(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the DATA of the next ``count`` messages with ``reply`` (not recording them)."""
        with self._lock:
            self._failures.extend([reply] * count)

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Answer RCPT TO for ``address`` with ``reply`` from now on."""
        with self._lock:
            self._refused[address.lower()] = reply

    def drop_connections(self, timeout: float = 5.0) -> int:
        """Close every open connection from the server's side; return how many were closed.

        Returns once each is closed on the server, so a client's next command finds it gone.
        """
        assert self._controller is not None
        open_sessions = [s for s in self._sessions if not s.closed.is_set()]
        for session in open_sessions:
            self._controller.loop.call_soon_threadsafe(_close_transport, session)
        for session in open_sessions:
            if not session.closed.wait(timeout):
                raise TimeoutError(f"the server did not close a connection within {timeout} s")
        return len(open_sessions)

    @property
    def connections(self) -> int:
        """How many connections clients have opened (not counting aiosmtpd's start-up probe)."""
        return len(self._sessions) - self._baseline

    def client_context(self) -> ssl.SSLContext:
        """Return a client SSL context that trusts the test CA (and verifies as usual)."""
        assert self.ca is not None
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        assert self._controller is not None, "the server is not running"
        return self._controller.port

    def start(self) -> SmtpTestServer:
        kwargs: dict = {"hostname": HOST, "port": self._port, "server_hostname": SERVER_NAME}
        if self.tls:
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert(HOST, "localhost").configure_cert(server_context)
            kwargs["tls_context" if self.tls == "starttls" else "ssl_context"] = server_context
        if self.users or self.tokens:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls == "starttls")
        handler = _OAuth2Handler(self) if self.tokens else _Handler(self)
        self._controller = _Controller(handler, sessions=self._sessions, **kwargs)
        self._controller.start()
        self._port = self._controller.port
        self._baseline = len(self._sessions)
        return self

    def stop(self) -> None:
        """Stop listening and drop every connection (:meth:`start` again: the same port, the mail kept)."""
        if self._controller is not None:
            # A connection whose TLS handshake failed never reports itself closed: do not wait long.
            with contextlib.suppress(TimeoutError):
                self.drop_connections(timeout=0.5)
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- called from the server's thread ------------------------------------------------------

    def _authenticate(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = self.users.get(login) == auth_data.password.decode("utf-8", "replace")
        if ok:
            self.logins.append(login)
        return AuthResult(success=ok, handled=False)

    def _rcpt_reply(self, address: str) -> str | None:
        with self._lock:
            return self._refused.get(address.lower())

    def _data_reply(self, envelope) -> str:
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 OK: queued"


def _close_transport(session: _Session) -> None:
    # After STARTTLS, closing the TLS transport would wait for the client's close_notify;
    # closing the TCP transport under it drops the connection at once, as a crash would.
    transport = session._original_transport or session.transport
    if transport is not None:
        transport.close()


class _Handler:
    """aiosmtpd's handler hooks, delegating to the server object."""

    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.server._rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.server.data_delay:
            await asyncio.sleep(self.server.data_delay)
        return self.server._data_reply(envelope)


class _OAuth2Handler(_Handler):
    """Also takes AUTH XOAUTH2 (a bad token: the 334 JSON challenge, then 535, as Microsoft and Google do)."""

    async def auth_XOAUTH2(self, server, args) -> AuthResult:
        import base64
        import json

        try:
            fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        if self.server.tokens(token) == user.lower():
            self.server.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}))
        return AuthResult(success=False, handled=False)


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    """A certificate authority for the test servers' certificates, unknown to the system."""
    return trustme.CA()


@pytest.fixture
def smtp_server_factory(smtp_ca) -> Iterator[Callable[..., SmtpTestServer]]:
    """Start servers with ``factory(tls=None|"starttls"|"implicit", users={login: password})``."""
    servers: list[SmtpTestServer] = []

    def start(*, tls: str | None = None, users: dict[str, str] | None = None,
              tokens: Callable[[str], str | None] | None = None) -> SmtpTestServer:
        server = SmtpTestServer(tls=tls, users=users, ca=smtp_ca, tokens=tokens)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory) -> SmtpTestServer:
    """A running plain-text server without AUTH."""
    return smtp_server_factory()
