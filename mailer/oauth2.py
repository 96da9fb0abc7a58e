"""OAuth2 for mailboxes: app-only access tokens, and the SASL strings that carry them.

A :class:`TokenProvider` hands out a current access token and drops one a server refused.
:class:`MicrosoftTokens` gets them with the client-credentials grant (``msal``; a client secret or,
better, a certificate), :class:`GoogleTokens` for a service account with domain-wide delegation
(``google-auth``). Both cache a token until shortly before it expires. Tokens, secrets and keys never
reach a log line or an exception's text.

:func:`xoauth2` and :func:`oauthbearer` build the initial client responses of SASL XOAUTH2
(Google's and Microsoft's) and OAUTHBEARER (RFC 7628), which IMAP and SMTP send base64-encoded.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from mailer.errors import TokenError

log = logging.getLogger(__name__)

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
#: The scope of IMAP, SMTP (and EWS) tokens for Exchange Online; Graph has its own.
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
_MARGIN = timedelta(minutes=5)  # a token this close to expiry is replaced, not used


class TokenProvider(Protocol):
    """Where a mailbox connection gets its OAuth2 access token."""

    def token(self) -> str:
        """A current access token. Raises :class:`~mailer.errors.TokenError`."""

    def invalidate(self) -> None:
        """Forget the current token (the server refused it): the next :meth:`token` gets a new one."""


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response for ``user`` (the mailbox, a shared one included)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user: str, token: str, host: str, port: int) -> str:
    """The SASL OAUTHBEARER initial response (RFC 7628 3.1)."""
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


class _Cached:
    """A token and when it expires, behind a lock (a worker's IMAP and SMTP share a provider)."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self.lock = threading.Lock()
        self.value: str | None = None
        self.expires = datetime.min.replace(tzinfo=timezone.utc)

    def fresh(self) -> str | None:
        if self.value is not None and self.clock() < self.expires - _MARGIN:
            return self.value
        return None

    def keep(self, value: str, lifetime: timedelta) -> str:
        self.value, self.expires = value, self.clock() + lifetime
        return value


def pinned_session(ca_file: str | None):
    """A ``requests`` session; with ``ca_file``, one that trusts exactly that CA bundle.

    ``requests`` lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` from the environment replace the CA
    a session was given (these machines export them); a configured ``ca_file`` must win.
    """
    import requests

    if ca_file is None:
        return requests.Session()

    class Pinned(requests.Session):
        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = ca_file
            return settings

    session = Pinned()
    session.verify = ca_file
    return session


class MicrosoftTokens:
    """App-only tokens from Microsoft Entra ID (the OAuth2 client-credentials grant, with ``msal``).

    Give ``client_secret``, or (preferred) ``private_key`` (PEM) with the certificate's
    ``thumbprint``. A custom ``authority`` (a national cloud, a test server) is used as given:
    msal's instance discovery and authority validation would call login.microsoftonline.com.
    """

    def __init__(self, *, tenant_id: str, client_id: str, client_secret: str | None = None,
                 private_key: str | None = None, thumbprint: str | None = None,
                 authority: str = MICROSOFT_AUTHORITY, scope: str = OUTLOOK_SCOPE, ca_file: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        if (client_secret is None) == (private_key is None):
            raise ValueError("give a client secret or a certificate's private key, not both or neither")
        if private_key is not None and not thumbprint:
            raise ValueError("a certificate's private key needs its thumbprint")
        self._credential = client_secret if client_secret is not None else {"private_key": private_key,
                                                                            "thumbprint": thumbprint}
        self._client_id = client_id
        self._authority = authority.rstrip("/")
        self._tenant_url = f"{self._authority}/{tenant_id}"
        self._ca_file = ca_file
        self.scope = scope
        self.describe = f"Microsoft Entra ID tenant {tenant_id}, client {client_id}"
        self._app_instance = None  # built on first use: msal asks the authority for its endpoints then
        self._cache = _Cached(clock)

    @property
    def _app(self):
        if self._app_instance is None:
            import msal

            custom = self._authority != MICROSOFT_AUTHORITY
            try:
                self._app_instance = msal.ConfidentialClientApplication(
                    self._client_id, client_credential=self._credential, authority=self._tenant_url,
                    validate_authority=not custom, instance_discovery=False if custom else None,
                    http_client=pinned_session(self._ca_file), timeout=30,
                )
            except ValueError as exc:  # msal checks the authority's answer and the key when it is built
                raise TokenError(f"{self.describe}: {_first_line(exc)}") from None
            except Exception as exc:  # noqa: BLE001 - the discovery request: unreachable, refused, bad TLS
                raise TokenError(f"{self.describe}: cannot reach {self._authority}: {type(exc).__name__}",
                                 transient=True) from None
        return self._app_instance

    def token(self) -> str:
        with self._cache.lock:
            cached = self._cache.fresh()
            if cached is not None:
                return cached
            self._app.remove_tokens_for_client()  # this cache decides when a token is too old, not msal's
            try:
                result = self._app.acquire_token_for_client(scopes=[self.scope])
            except Exception as exc:  # noqa: BLE001 - the network, or a key msal cannot sign with
                import requests

                if isinstance(exc, requests.RequestException):
                    raise TokenError(f"{self.describe}: cannot reach the token endpoint: {type(exc).__name__}",
                                     transient=True) from None
                raise TokenError(f"{self.describe}: cannot sign the client assertion with the certificate's key: "
                                 f"{type(exc).__name__}") from None
            if "access_token" not in result:
                raise TokenError(f"{self.describe} refused a token for {self.scope}: {_entra_error(result)}",
                                 transient=result.get("error") in ("temporarily_unavailable", "server_error"))
            log.info("got an access token for %s (%s)", self.scope,
                     "cached by msal" if result.get("token_source") == "cache" else "new")
            return self._cache.keep(result["access_token"], timedelta(seconds=int(result.get("expires_in", 3599))))

    def invalidate(self) -> None:
        with self._cache.lock:
            self._cache.value = None
            if self._app_instance is not None:  # or msal hands the refused token back from its cache
                self._app_instance.remove_tokens_for_client()


class GoogleTokens:
    """Tokens for a Google Workspace mailbox: a service account with domain-wide delegation acting
    as ``subject`` (the support address), with ``google-auth``."""

    def __init__(self, *, service_account_file: str, subject: str, scope: str = GOOGLE_MAIL_SCOPE,
                 ca_file: str | None = None, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        from google.oauth2 import service_account

        try:
            self._credentials = service_account.Credentials.from_service_account_file(
                service_account_file, scopes=[scope], subject=subject)
        except FileNotFoundError:
            raise TokenError(f"no service account key file at {service_account_file}") from None
        except (ValueError, KeyError) as exc:  # not a service account key: say which field, not its content
            raise TokenError(f"{service_account_file} is not a service account key: {type(exc).__name__}") from None
        self.describe = f"Google service account {self._credentials.service_account_email} for {subject}"
        self._session = pinned_session(ca_file)
        self._cache = _Cached(clock)

    def token(self) -> str:
        from google.auth import exceptions
        from google.auth.transport.requests import Request

        with self._cache.lock:
            cached = self._cache.fresh()
            if cached is not None:
                return cached
            try:
                self._credentials.refresh(Request(self._session))
            except exceptions.RefreshError as exc:
                reason = exc.args[0] if exc.args else "refused"
                raise TokenError(f"{self.describe}: the token endpoint refused: {_first_line(reason)}",
                                 transient=getattr(exc, "retryable", False)) from None
            except exceptions.TransportError as exc:
                raise TokenError(f"{self.describe}: cannot reach the token endpoint: {type(exc).__name__}",
                                 transient=True) from None
            expiry = self._credentials.expiry  # naive UTC
            lifetime = (expiry.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)) if expiry else timedelta(hours=1)
            log.info("got an access token for %s", self.describe)
            return self._cache.keep(self._credentials.token, lifetime)

    def invalidate(self) -> None:
        with self._cache.lock:
            self._cache.value = None
            self._credentials.token = None


def _entra_error(result: dict) -> str:
    """What Entra ID said, in one line: the error code and the first line of its description
    (``AADSTS7000215: Invalid client secret provided...``), never the request."""
    code = result.get("error", "error")
    description = _first_line(result.get("error_description", ""))
    return f"{code}: {description}" if description else code


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:300] if text else ""
