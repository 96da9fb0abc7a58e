"""Sending composed messages: the :class:`MailSender` interface and its adapters.

:class:`DirectorySender` writes each message as an ``.eml`` file (an outbox folder for tests,
demos and hand delivery); :class:`SmtpSender` submits it over SMTP (RFC 5321) with smtplib,
with TLS (RFC 8314 implicit TLS or RFC 3207 STARTTLS) and certificate verification by default.
Both take the bytes :func:`mailer.compose.compose` returns and translate every failure into
:mod:`mailer.errors` at their boundary::

    TransientSendError   SMTP 4xx, connection refused or dropped, timeout, a full disk: retry later
    PermanentSendError   SMTP 5xx: retrying the same message will not help
      PartiallySentError     some recipients accepted it: never resend to all of them
    SenderAuthError      the login was refused, or the server wants one: an operator must fix it
    SenderTLSError       no STARTTLS, or a certificate that fails verification: likewise

An envelope that is not usable (no recipients, an address :func:`~mailer.compose.safe_address`
refuses) raises :class:`ValueError` before anything is sent.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Protocol, Sequence

from mailer.compose import safe_address
from mailer.errors import (
    PartiallySentError,
    PermanentSendError,
    SenderAuthError,
    SendError,
    SenderTLSError,
    ServerUnavailableError,
    TokenError,
    TransientSendError,
)
from mailer.hosts import is_loopback
from mailer.oauth2 import TokenProvider, oauthbearer, xoauth2

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9@._+=-]+")


class MailSender(Protocol):
    """Where whiteglove hands outgoing mail. Implementations: ``DirectorySender``, ``SmtpSender``."""

    def send(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Send ``raw`` (a whole RFC 5322 message) from ``envelope_from`` to ``recipients``.

        ``envelope_from`` is the RFC 5321 reverse-path (``""`` for the null sender ``<>``);
        ``recipients`` are the envelope recipients (To, Cc and Bcc alike). Returns once the
        message has been accepted for every recipient. Raises :class:`~mailer.errors.TransientSendError`,
        :class:`~mailer.errors.PermanentSendError` (:class:`~mailer.errors.PartiallySentError`
        when some recipients accepted it), :class:`~mailer.errors.SenderAuthError` or
        :class:`~mailer.errors.SenderTLSError`; :class:`ValueError` for an unusable envelope.
        """

    def close(self) -> None:
        """Release what the sender holds open; it may be used again afterwards."""


def check_envelope(envelope_from: str, recipients: Sequence[str]) -> list[str]:
    """Return ``recipients`` checked with :func:`~mailer.compose.safe_address`, without repeats.

    ``envelope_from`` may be ``""`` (the null reverse-path, RFC 5321 4.5.5). Raises
    :class:`ValueError` for an unusable address or no recipients (a bare string counts as none:
    it would be read as a sequence of one-letter addresses).
    """
    if envelope_from != "":
        safe_address(envelope_from)
    if isinstance(recipients, (str, bytes)) or not recipients:
        raise ValueError("recipients must be a non-empty sequence of addresses")
    return list(dict.fromkeys(safe_address(r) for r in recipients))


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


class SmtpSender:
    """A :class:`MailSender` submitting mail to one SMTP server with smtplib.

    ``security`` is ``"starttls"`` (RFC 3207; refuses to go on when the server does not offer
    it), ``"tls"`` (implicit TLS, RFC 8314, port 465) or ``"none"`` (plain text; with a username
    only to a loopback address, so a password never crosses a network in clear). Certificates are
    verified with ``ssl.create_default_context()`` unless ``ssl_context`` says otherwise.

    Connects on the first send and keeps the connection for the next ones. A kept connection is
    checked with NOOP before it is used and replaced once if the server dropped it; a send that
    fails is never repeated here, since a link lost after the data went out may have delivered
    the message already. Not thread-safe: one worker owns a sender. Passwords never reach a log.
    Raises :class:`ValueError` for an invalid configuration.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        tokens: TokenProvider | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {security!r}")
        if password is not None and tokens is not None:
            raise ValueError("give a password or an OAuth2 token provider, not both")
        if (username is None) != (password is None and tokens is None):
            raise ValueError("a username goes with a password or an OAuth2 token provider")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if security == "none" and not is_loopback(host):
            if username is not None:
                raise ValueError(f"refusing to send the password for {username} to {host} in clear text: "
                                 "use security 'starttls' or 'tls'")
            log.warning("mail to %s:%s will travel in clear text (security 'none')", host, port)
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self._tokens = tokens
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        who = f"{self.username}@" if self.username else ""
        return f"SmtpSender({who}{self.host}:{self.port}, {self.security})"

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Submit ``raw`` to the server (see :class:`MailSender` for the errors).

        Codes map as RFC 5321 4.2.1 defines them: 4xx transient, 5xx permanent, except 530
        (authentication required, RFC 4954): :class:`~mailer.errors.SenderAuthError`. When some
        recipients are refused and others accepted, :class:`~mailer.errors.PartiallySentError`
        says which. Connection trouble of any kind is transient.
        """
        rcpts = check_envelope(envelope_from, recipients)
        smtp = self._session()
        try:
            refused = smtp.sendmail(envelope_from, rcpts, bytes(raw))
        # After a refusal smtplib has reset the session (RSET), or closed it after a 421, which
        # the NOOP before the next send notices: the connection can be kept.
        except smtplib.SMTPRecipientsRefused as exc:
            raise _all_refused(self.address, exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 530:
                # "Authentication required" (RFC 4954 6): the configuration lacks a login.
                raise SenderAuthError(f"{self.address} wants a login before it takes mail: "
                                      f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise _by_code(f"{self.address} refused the message", exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._discard()
            raise TransientSendError(f"lost the connection to {self.address} while sending: {exc!r}") from exc
        if refused:
            accepted = tuple(r for r in rcpts if r not in refused)
            details = {r: (code, _text(reply)) for r, (code, reply) in refused.items()}
            raise PartiallySentError(
                f"{self.address} accepted the message for {len(accepted)} and refused "
                f"{len(details)} recipient(s): {_describe(details)}",
                accepted=accepted, refused=details)
        log.debug("%s accepted a message for %s recipient(s)", self.address, len(rcpts))

    def verify(self) -> None:
        """Connect, say EHLO, set up TLS and log in, as the first send would, sending nothing.
        Raises :class:`~mailer.errors.SendError`."""
        self._session()

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            _shutdown(smtp, polite=True)

    # -- the connection -----------------------------------------------------------------------

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            if _alive(self._smtp):
                return self._smtp
            log.info("the connection to %s was dropped: reconnecting", self.address)
            self._discard()
        self._smtp = self._connect()
        return self._smtp

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            _shutdown(smtp, polite=False)

    def _connect(self) -> smtplib.SMTP:
        context = None if self.security == "none" else self._ssl_context or ssl.create_default_context()
        try:
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, self.local_hostname, timeout=self.timeout,
                                        context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, self.local_hostname, timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise SenderTLSError(f"the certificate of {self.address} failed verification: "
                                 f"{exc.verify_message}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailableError(f"cannot connect to {self.address}: {exc!r}") from exc
        try:
            self._start(smtp, context)
        except BaseException:
            _shutdown(smtp, polite=False)
            raise
        log.info("connected to %s (%s)", self.address, self.security)
        return smtp

    def _start(self, smtp: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        """Say EHLO, upgrade to TLS if asked, and log in if configured."""
        try:
            smtp.ehlo_or_helo_if_needed()
        except smtplib.SMTPResponseException as exc:
            raise ServerUnavailableError(f"{self.address} refused the session: {exc.smtp_code} "
                                     f"{_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailableError(f"cannot set up a session with {self.address}: {exc!r}") from exc
        if self.security == "starttls":
            self._starttls(smtp, context)
        if self._tokens is not None:
            self._oauth2_login(smtp)
        elif self.username is not None:
            self._login(smtp)

    def _starttls(self, smtp: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        if not smtp.has_extn("starttls"):
            raise SenderTLSError(f"{self.address} does not offer STARTTLS: refusing to send without TLS")
        try:
            smtp.starttls(context=context)
            smtp.ehlo()
        except ssl.SSLCertVerificationError as exc:
            raise SenderTLSError(f"the certificate of {self.address} failed verification: "
                                 f"{exc.verify_message}") from exc
        except smtplib.SMTPResponseException as exc:
            # 454 is "TLS not available due to temporary reason" (RFC 3207 4); a 5xx will last.
            error = TransientSendError if 400 <= exc.smtp_code < 500 else SenderTLSError
            raise error(f"{self.address} refused STARTTLS: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailableError(f"cannot set up TLS with {self.address}: {exc!r}") from exc

    def _login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.login(self.username, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SenderAuthError(f"{self.address} refused the login of {self.username}: "
                                  f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise ServerUnavailableError(f"{self.address} failed the login of {self.username}: "
                                     f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ServerUnavailableError(f"lost the connection to {self.address} during login: {exc}") from exc
        except smtplib.SMTPException as exc:
            # SMTPNotSupportedError or "No suitable authentication method found."
            raise SenderAuthError(f"cannot log in to {self.address} as {self.username}: {exc}") from exc
        except OSError as exc:
            raise ServerUnavailableError(f"lost the connection to {self.address} during login: {exc!r}") from exc


    def _oauth2_login(self, smtp: smtplib.SMTP) -> None:
        """AUTH XOAUTH2, or OAUTHBEARER (RFC 7628) where the server offers only that. A refused
        token is dropped and a fresh one tried once; refused again, it is a SenderAuthError."""
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if not offered:
            raise SenderAuthError(f"{self.address} offers no AUTH: it cannot take an OAuth2 login")
        bearer_only = "OAUTHBEARER" in offered and "XOAUTH2" not in offered
        for attempt in (1, 2):
            try:
                token = self._tokens.token()
            except TokenError as exc:
                error = TransientSendError if exc.transient else SenderAuthError
                raise error(f"no OAuth2 token to log in to {self.address} as {self.username}: {exc}") from exc
            if bearer_only:
                mechanism, initial = "OAUTHBEARER", oauthbearer(self.username, token, self.host, self.port)
            else:
                mechanism, initial = "XOAUTH2", xoauth2(self.username, token)
            try:
                # A refused token gets a 334 challenge (JSON, base64) first: an empty answer ends it with 535.
                smtp.auth(mechanism, lambda challenge=None: initial if challenge is None else "")
                return
            except smtplib.SMTPAuthenticationError as exc:
                if attempt == 2:
                    raise SenderAuthError(f"{self.address} refused the OAuth2 token of {self.username}: "
                                          f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
                log.warning("%s refused the OAuth2 token of %s; trying a fresh one", self.address, self.username)
                self._tokens.invalidate()
            except smtplib.SMTPServerDisconnected as exc:
                raise ServerUnavailableError(f"lost the connection to {self.address} during login: {exc}") from exc
            except smtplib.SMTPException as exc:
                raise SenderAuthError(f"cannot log in to {self.address} as {self.username}: {exc}") from exc
            except OSError as exc:
                raise ServerUnavailableError(f"lost the connection to {self.address} during login: {exc!r}") from exc


# -- helpers ------------------------------------------------------------------------------------

def _alive(smtp: smtplib.SMTP) -> bool:
    """Whether a kept connection still answers (servers drop idle clients, RFC 5321 4.5.3.2)."""
    if smtp.sock is None:  # smtplib closed it itself, after a 421 reply
        return False
    try:
        code, _ = smtp.noop()
    except (smtplib.SMTPException, OSError):
        return False
    return code == 250


def _shutdown(smtp: smtplib.SMTP, *, polite: bool) -> None:
    try:
        if polite and smtp.sock is not None:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _by_code(what: str, code: int, reply: bytes | str) -> TransientSendError | PermanentSendError:
    """Return the error for an SMTP reply: 5xx permanent, anything else (4xx, odd codes) transient."""
    text = f"{what}: {code} {_text(reply)}"
    return PermanentSendError(text) if 500 <= code < 600 else TransientSendError(text)


def _all_refused(address: str, refused: dict) -> TransientSendError | PermanentSendError:
    details = {r: (code, _text(reply)) for r, (code, reply) in refused.items()}
    text = f"{address} refused every recipient: {_describe(details)}"
    if all(500 <= code < 600 for code, _ in details.values()):
        error = PermanentSendError(text)
        error.refused = details
        return error
    return TransientSendError(text)


def _describe(details: dict[str, tuple[int, str]]) -> str:
    return "; ".join(f"{r}: {code} {reply}" for r, (code, reply) in details.items())


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]

