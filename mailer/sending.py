"""Sending composed messages: the :class:`MailSender` interface, and :class:`SmtpSender`.

:class:`SmtpSender` submits a message over SMTP (RFC 5321) with smtplib, with TLS (RFC 8314
implicit TLS or RFC 3207 STARTTLS) and certificate verification by default. The other adapters
live in their own modules: :class:`~mailer.directory_sender.DirectorySender` writes each message
as an ``.eml`` file (an outbox folder for tests, demos and hand delivery), and Microsoft Graph
and EWS send as a mailbox (:mod:`mailer.graph`, :mod:`mailer.ews`). Every adapter takes the
bytes :func:`mailer.compose.compose` returns and translates every failure into
:mod:`mailer.errors` at its boundary::

    TransientSendError   SMTP 4xx, connection refused or dropped, timeout, a full disk: retry later
    PermanentSendError   SMTP 5xx: retrying the same message will not help
      PartiallySentError     some recipients accepted it: never resend to all of them
    SenderAuthError      the login was refused, or the server wants one: an operator must fix it
    SenderTLSError       no STARTTLS, or a certificate that fails verification: likewise

An envelope that is not usable (no recipients, an address :func:`~mailer.compose.safe_address`
refuses) raises :class:`ValueError` before anything is sent.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from typing import Protocol, Sequence

from mailer.compose import safe_address
from mailer.errors import (
    PartiallySentError,
    PermanentSendError,
    SenderAuthError,
    SenderTLSError,
    ServerUnavailableError,
    TokenError,
    TransientSendError,
)
from mailer.hosts import is_loopback
from mailer.oauth2 import TokenProvider, oauthbearer, xoauth2

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")


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

