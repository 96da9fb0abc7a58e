"""Reading a mailbox over IMAP (RFC 3501) with imapclient: :class:`ImapSource`.

Keys are ``"<UIDVALIDITY>:<UID>"``, and a key or cursor from another UIDVALIDITY is treated as
unknown (RFC 3501 2.3.1.1). Handled messages are flagged with keywords (``$Whiteglove``, ``$WhitegloveQuarantine``) and moved
(RFC 6851 MOVE) or, without MOVE, copied; nothing is ever expunged or deleted. New mail is awaited
with IDLE (RFC 2177) when the server offers it.

Keys, cursors and UID sets are made by :mod:`mailer.imap_keys` (pure), the IDLE wait by
:mod:`mailer.imap_idle`; the connection, its commands and its errors are here, in
:class:`ImapSource`, which translates imapclient, imaplib, socket and ssl errors into
:mod:`mailer.errors` at its boundary.
"""
from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from typing import Callable, Sequence, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from mailer.errors import (
    MailboxAuthError,
    MailboxConnectError,
    MailboxError,
    TokenError,
)
from mailer.hosts import connect_failure, is_loopback
from mailer.imap_idle import idle_until, pop_untagged
from mailer.imap_keys import batches, format_key, parse_key, to_utc, uid_sets, uids_for
from mailer.oauth2 import TokenProvider
from mailer.source import SourceMessage

log = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$Whiteglove"
QUARANTINE_KEYWORD = "$WhitegloveQuarantine"
SEEN = "\\Seen"
SECURITY_MODES = ("tls", "starttls", "none")

#: A FETCH names its UIDs one by one on one command line, and RFC 7162 section 4 asks clients
#: to keep lines under about 8192 octets: 500 ten-digit UIDs take 5.5 kB.
MAX_BATCH_SIZE = 500

# A dropped link surfaces as imaplib's abort (EOF, BYE) or as an OSError (reset, broken pipe,
# timeout, TLS); abort subclasses imaplib's error, so it must be caught first.
_DROPPED = (imaplib.IMAP4.abort, OSError)

T = TypeVar("T")


# -- the adapter ---------------------------------------------------------------------------------

class ImapSource:
    """A :class:`~mailer.source.MailboxSource` reading one IMAP folder.

    Connects lazily, then keeps one connection and one SELECT for every call; a connection found
    dropped is replaced once per call. Not thread-safe: one worker thread owns a source.
    ``security`` is ``"tls"`` (implicit TLS, port 993), ``"starttls"`` or ``"none"`` (plain text,
    for loopback tests). Certificates are verified unless ``ssl_context`` says otherwise.
    """

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        security: str = "tls",
        username: str,
        password: str | None = None,
        tokens: TokenProvider | None = None,
        folder: str = "INBOX",
        processed_folder: str | None = None,
        quarantine_folder: str | None = None,
        use_idle: bool = True,
        idle_renew_seconds: float = 25 * 60,
        batch_size: int = 200,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {security!r}")
        if (password is None) == (tokens is None):
            raise ValueError("give a password or an OAuth2 token provider, not both or neither")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if idle_renew_seconds <= 0 or timeout <= 0:
            raise ValueError("idle_renew_seconds and timeout must be positive")
        self.name = name
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self._tokens = tokens
        self.folder = folder
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.use_idle = use_idle
        self.idle_renew_seconds = idle_renew_seconds
        # Intake batches may hold up to 5000 messages (mailbox.batch_size): a batch larger than
        # one FETCH may name is fetched with several commands rather than refused.
        self.batch_size = min(batch_size, MAX_BATCH_SIZE)
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._keywords: frozenset[str] = frozenset()
        self._must_relist = True

    def __repr__(self) -> str:
        return f"ImapSource({self.name!r}, {self.username}@{self.host}:{self.port}/{self.folder})"

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def verify(self) -> None:
        """Connect, log in and open the folder (creating the processed and quarantine folders if
        missing), as the first call would. Raises :class:`~mailer.errors.MailboxError`."""
        self._connected()

    # -- MailboxSource --------------------------------------------------------------------------

    def list_new(self, cursor: str | None) -> list[str]:
        """Return the keys after ``cursor``, oldest first, leaving out messages we already flagged.

        A cursor from another UIDVALIDITY (or none) lists the whole folder.
        Raises :class:`~mailer.errors.MailboxError`.
        """
        return self._run("list", lambda client: self._list_new(client, cursor))

    def cursor_after(self, key: str) -> str | None:
        """Return ``key``: a key is also the cursor that resumes after it."""
        return key

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        """Return the messages for ``keys`` in UID order, one ``UID FETCH`` per ``batch_size`` (at most 500).

        Reads with ``BODY.PEEK[]``, so nothing is marked ``\\Seen`` before it is acknowledged. Keys
        of another UIDVALIDITY or of expunged messages are left out.
        Raises :class:`~mailer.errors.MailboxError`.
        """
        return self._run("fetch", lambda client: self._fetch(client, keys))

    def sizes(self, keys: Sequence[str]) -> dict[str, int]:
        """The size of each of ``keys`` that still exists (``RFC822.SIZE``), without fetching the
        messages. Raises :class:`~mailer.errors.MailboxError`."""
        return self._run("size", lambda client: self._sizes(client, keys))

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        """Flag handled messages and move them to their folder, with one STORE and one MOVE per group.

        Processed messages get ``\\Seen`` and ``$Whiteglove``, quarantined ones
        ``$WhitegloveQuarantine`` (keywords only where PERMANENTFLAGS allows them). Without MOVE
        they are copied and the flagged original stays. Idempotent; deletes nothing.
        Raises :class:`~mailer.errors.MailboxError`.
        """
        if processed or quarantined:
            self._run("acknowledge", lambda client: self._acknowledge(client, processed, quarantined))

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may have arrived, ``timeout`` seconds pass, or ``stop`` is set.

        With IDLE, returns on an EXISTS/RECENT announcement, and at the latest after
        ``idle_renew_seconds`` so the caller re-lists and IDLE is re-issued well before the
        29-minute limit of RFC 2177; DONE is always sent first. Returns at once after a reconnect
        (announcements may have been missed): call :meth:`list_new` first. Without IDLE it just
        sleeps on ``stop``. Raises :class:`~mailer.errors.MailboxError` if it cannot connect.
        """
        if stop.is_set() or timeout <= 0:
            return
        if not self.use_idle:
            stop.wait(timeout)
            return
        idling = self._run("wait", self._start_idle)
        if idling is None:
            stop.wait(timeout)
        elif idling:
            self._idle(min(timeout, self.idle_renew_seconds), stop)

    def close(self) -> None:
        """Log out quietly; the source reconnects if it is used again."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError) as exc:
            log.debug("logout from %s failed (%s): closing the socket", self.address, exc)
            _shutdown(client)

    # -- operations (run by _run with a live client) -------------------------------------------

    def _list_new(self, client: IMAPClient, cursor: str | None) -> list[str]:
        # A server may search the folder as it stood at the end of the previous command: Dovecot
        # syncs a session's view of the folder after each command, so mail delivered since then
        # would be missed until the pass after next. NOOP makes it sync (RFC 3501 6.1.2).
        client.noop()
        # The search below sees everything announced so far; later announcements make wait() return.
        # Expunges by other sessions (another worker filing mail) are of no use: drop them too.
        pop_untagged(client, "EXISTS", "RECENT", "EXPUNGE", "VANISHED")
        self._must_relist = False
        last_uid = 0
        if cursor is not None:
            try:
                cursor_validity, cursor_uid = parse_key(cursor)
            except ValueError:
                log.warning("%s: ignoring malformed cursor %r, listing everything", self.name, cursor)
            else:
                if cursor_validity == self._uidvalidity:
                    last_uid = cursor_uid
                else:
                    log.info("%s: UIDVALIDITY of %s changed from %s to %s, listing everything",
                             self.name, self.folder, cursor_validity, self._uidvalidity)
        criteria: list[str] = ["UID", f"{last_uid + 1}:*"] if last_uid else []
        for keyword in (PROCESSED_KEYWORD, QUARANTINE_KEYWORD):
            if keyword in self._keywords:
                criteria += ["NOT", "KEYWORD", keyword]
        # "n:*" also matches the highest UID when that is below n (RFC 3501 6.4.8): filter.
        uids = sorted(uid for uid in client.search(criteria or ["ALL"]) if uid > last_uid)
        log.debug("%s: %d new message(s) after %s", self.name, len(uids), cursor)
        return [format_key(self._uidvalidity, uid) for uid in uids]

    def _sizes(self, client: IMAPClient, keys: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for batch in batches(uids_for(keys, self._uidvalidity), 1000):
            for uid, data in client.fetch(list(batch), [b"RFC822.SIZE"]).items():
                if b"RFC822.SIZE" in data:
                    found[format_key(self._uidvalidity, uid)] = int(data[b"RFC822.SIZE"])
        return found

    def _fetch(self, client: IMAPClient, keys: Sequence[str]) -> list[SourceMessage]:
        messages: list[SourceMessage] = []
        for batch in batches(uids_for(keys, self._uidvalidity), self.batch_size):
            response = client.fetch(list(batch), [b"BODY.PEEK[]", b"INTERNALDATE"])
            for uid in batch:
                data = response.get(uid, {})
                if b"BODY[]" in data and b"INTERNALDATE" in data:
                    messages.append(SourceMessage(
                        format_key(self._uidvalidity, uid), data[b"BODY[]"], to_utc(data[b"INTERNALDATE"]),
                    ))
        log.debug("%s: fetched %d of %d message(s)", self.name, len(messages), len(keys))
        return messages

    def _acknowledge(self, client: IMAPClient, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        groups = (
            (processed, [SEEN], PROCESSED_KEYWORD, self.processed_folder),
            (quarantined, [], QUARANTINE_KEYWORD, self.quarantine_folder),
        )
        for keys, flags, keyword, folder in groups:
            if keyword in self._keywords:
                flags = [*flags, keyword]
            for uid_set in uid_sets(uids_for(keys, self._uidvalidity)):
                try:
                    self._file(client, uid_set, flags, keyword, folder)
                except imaplib.IMAP4.error as exc:
                    if "EXPUNGEISSUED" not in str(exc):
                        raise
                    # Another session (a person's mail client, a server-side rule) moved some of
                    # these messages while we worked, and Dovecot then refuses the whole MOVE
                    # (RFC 5530). NOOP brings our view up to date, and the same command files the rest.
                    log.info("%s: some of %s were filed meanwhile by another session", self.name, uid_set)
                    client.noop()
                    self._file(client, uid_set, flags, keyword, folder)
        pop_untagged(client, "EXPUNGE", "VANISHED")  # imaplib would keep them for ever

    def _file(self, client: IMAPClient, uid_set: str, flags: list[str], keyword: str, folder: str | None) -> None:
        if folder is None or client.has_capability("MOVE"):
            if flags:
                client.add_flags(uid_set, flags, silent=True)
            if folder is not None:
                client.move(uid_set, folder)
            return
        # Without MOVE: COPY, and keep the original. Our keyword on the original says "filed", so it
        # is set last and a repeated call copies only what is not filed yet; \Seen goes first, so
        # that the copy carries it.
        if keyword not in flags:
            pending = [uid_set]
        else:
            pending = uid_sets(client.search(["UID", uid_set, "NOT", "KEYWORD", keyword]))
        plain = [flag for flag in flags if flag != keyword]
        for unfiled in pending:
            if plain:
                client.add_flags(unfiled, plain, silent=True)
            client.copy(unfiled, folder)
            if keyword in flags:
                client.add_flags(unfiled, [keyword], silent=True)

    def _start_idle(self, client: IMAPClient) -> bool | None:
        """Enter IDLE; ``None`` if the server has no IDLE, ``False`` if the caller must list first."""
        if not client.has_capability("IDLE"):
            return None
        if self._must_relist or pop_untagged(client, "EXISTS", "RECENT"):
            return False
        client.idle()
        return True

    def _idle(self, seconds: float, stop: threading.Event) -> None:
        client = self._client
        assert client is not None
        try:
            idle_until(client, seconds, stop, self.name)
        except _DROPPED as exc:
            # Whatever happened meanwhile, the next list_new reconnects and sees it.
            log.warning("%s: lost the connection to %s while idling: %s", self.name, self.address, exc)
            self._discard()
        except imaplib.IMAP4.error as exc:
            self._discard()
            raise MailboxError(f"IDLE on {self.address} failed: {exc}") from exc

    # -- connection ----------------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[IMAPClient], T]) -> T:
        """Run ``operation`` on the connection, replacing a dropped connection once."""
        for attempt in (1, 2):
            client = self._connected()
            try:
                return operation(client)
            except _DROPPED as exc:
                self._discard()
                if attempt == 2:
                    raise MailboxConnectError(
                        f"lost the connection to {self.address} again during {what}: {exc!r}"
                    ) from exc
                log.warning("%s: connection to %s dropped during %s (%r), reconnecting",
                            self.name, self.address, what, exc)
            except imaplib.IMAP4.error as exc:
                raise MailboxError(f"{what} in {self.folder} on {self.address} failed: {exc}") from exc
        raise AssertionError("unreachable")

    def _connected(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        client = self._login()
        try:
            self._prepare(client)
        except _DROPPED as exc:
            _shutdown(client)
            raise MailboxConnectError(f"lost the connection to {self.address} while opening "
                                      f"{self.folder}: {exc!r}") from exc
        except imaplib.IMAP4.error as exc:
            _shutdown(client)
            raise MailboxError(f"cannot open {self.folder} on {self.address}: {exc}") from exc
        self._client = client
        self._must_relist = True
        return client

    def _login(self) -> IMAPClient:
        context = None
        if self.security != "none":
            context = self._ssl_context or ssl.create_default_context()
        elif not is_loopback(self.host):
            log.warning("%s: sending the credentials of %s to %s in clear text", self.name, self.username, self.host)
        try:
            client = IMAPClient(self.host, port=self.port, ssl=self.security == "tls", ssl_context=context,
                                timeout=self.timeout)
        except OSError as exc:
            why, permanent = connect_failure(exc, self.host, self.port)
            raise MailboxConnectError(why, permanent=permanent) from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxConnectError(f"cannot connect to {self.address}: {exc!r}") from exc
        try:
            if self.security == "starttls":
                client.starttls(context)
            if self._tokens is None:
                client.login(self.username, self._password)
            else:
                self._oauth2_login(client)
        except TokenError as exc:
            _shutdown(client)
            raise MailboxAuthError(f"no OAuth2 token to log in to {self.host} as {self.username}: {exc}") from exc
        except CapabilityError as exc:
            _shutdown(client)
            raise MailboxConnectError(
                f"{self.address} does not offer STARTTLS: refusing to log in without TLS") from exc
        except LoginError as exc:
            _shutdown(client)
            if isinstance(exc.__context__, _DROPPED):
                raise MailboxConnectError(f"lost the connection to {self.address} during login: {exc}") from exc
            how = "the OAuth2 token" if self._tokens is not None else "the login"
            raise MailboxAuthError(f"{self.host} refused {how} of {self.username}: {exc}") from exc
        except ssl.SSLError as exc:  # STARTTLS: the certificate, or TLS itself
            _shutdown(client)
            why, permanent = connect_failure(exc, self.host, self.port)
            raise MailboxConnectError(why, permanent=permanent) from exc
        except (imaplib.IMAP4.error, OSError) as exc:
            _shutdown(client)
            raise MailboxConnectError(f"cannot set up a session with {self.address}: {exc!r}") from exc
        return client

    def _oauth2_login(self, client: IMAPClient) -> None:
        """SASL XOAUTH2, or OAUTHBEARER (RFC 7628) where the server offers only that; a refused token
        is dropped and a fresh one tried once (it may have been revoked or have expired early)."""
        offered = {c.decode().upper() for c in client.capabilities() if isinstance(c, bytes)}
        bearer_only = "AUTH=OAUTHBEARER" in offered and "AUTH=XOAUTH2" not in offered
        for attempt in (1, 2):
            token = self._tokens.token()
            try:
                if bearer_only:
                    client.oauthbearer_login(self.username, token)
                else:
                    client.oauth2_login(self.username, token, mech="XOAUTH2")
                return
            except LoginError:
                if attempt == 2:
                    raise
                log.warning("%s: %s refused the OAuth2 token of %s; trying a fresh one", self.name, self.host,
                            self.username)
                self._tokens.invalidate()

    def _prepare(self, client: IMAPClient) -> None:
        """Create the target folders if missing and SELECT the folder, once per connection."""
        client.normalise_times = False  # aware INTERNALDATEs, not naive local time
        for folder in (self.processed_folder, self.quarantine_folder):
            if folder is not None and not client.folder_exists(folder):
                try:
                    client.create_folder(folder)
                    log.info("%s: created folder %s", self.name, folder)
                except imaplib.IMAP4.error:
                    if not client.folder_exists(folder):  # else another worker created it first
                        raise
        selected = client.select_folder(self.folder)
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        permanent = selected.get(b"PERMANENTFLAGS", ())
        self._keywords = frozenset(
            keyword for keyword in (PROCESSED_KEYWORD, QUARANTINE_KEYWORD)
            if b"\\*" in permanent or keyword.encode() in permanent
        )
        if not self._keywords:
            log.warning("%s: %s does not allow our keywords: handled mail is marked \\Seen only",
                        self.name, self.folder)
        log.info("%s: connected to %s as %s, %s has UIDVALIDITY %s", self.name, self.address,
                 self.username, self.folder, self._uidvalidity)

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _shutdown(client)


def _shutdown(client: IMAPClient) -> None:
    """Close the socket without a word to the server (it may be gone)."""
    try:
        client.shutdown()
    except (imaplib.IMAP4.error, OSError) as exc:
        log.debug("closing the socket failed: %s", exc)
