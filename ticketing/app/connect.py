"""``whiteglove config check --connect``: every connection the worker makes, tried once, each step
one line that says what to fix when it fails.

The steps: the OAuth2 token (where a mailbox logs in with one), the mailbox (connect, log in, open
the folders), the outgoing server (connect, TLS, log in). The advice names the administrator's
setting most likely at fault for what the server or the identity provider said.
"""
from __future__ import annotations

from dataclasses import dataclass

from mailer import MailerError, TokenError, TokenProvider
from ticketing.app.bootstrap import build_sender, build_source, build_tokens
from ticketing.config import Config
from ticketing.errors import ConfigError


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"ok      {self.name}: {self.detail}"
        return f"FAILED  {self.name}: {self.detail}" + (f"\n        fix: {self.fix}" if self.fix else "")


def check_connections(config: Config) -> list[Step]:
    """Try each connection of ``config``; stop at nothing (each step says its own result)."""
    steps: list[Step] = []
    try:
        tokens = build_tokens(config)
    except ConfigError as exc:
        problem = exc.problems[0]
        return [Step("credentials", False, f"{problem.key}: {problem.message}", problem.fix)]
    for key, provider in tokens.items():
        steps.append(_token_step(key, provider))
    steps.append(_try("mailbox", config, lambda: build_source(config, tokens), config.mailbox.auth))
    steps.append(_try("outgoing", config, lambda: build_sender(config, tokens), config.outgoing.auth))
    if config.onboarding.freebusy != "none":
        steps.append(_freebusy_step(config))
    return steps


def _freebusy_step(config: Config) -> Step:
    from datetime import datetime, timedelta, timezone

    from ticketing.app.bootstrap import build_freebusy

    people = [e.email for e in config.engineers]
    if not people:
        return Step("free/busy", True, "no engineers configured: nothing to read")
    now = datetime.now(timezone.utc)
    try:
        build_freebusy(config)(people, now, now + timedelta(days=1))
    except ConfigError as exc:
        problem = exc.problems[0]
        return Step("free/busy", False, f"{problem.key}: {problem.message}", problem.fix)
    except Exception as exc:  # noqa: BLE001 - Graph's answer, in one line
        said = str(exc)
        if config.onboarding.freebusy == "ews":
            fix = "the service account must see the engineers' free/busy (their calendars' default permission)"
        elif "403" in said or "forbids" in said:
            fix = ("grant the app the Calendars.Read application permission with admin consent, and include the "
                   "engineers in its RBAC for Applications scope")
        else:
            fix = _token_fix(said)
        return Step("free/busy", False, said, fix)
    through = "Microsoft Graph" if config.onboarding.freebusy == "graph" else "Exchange Web Services"
    return Step("free/busy", True, f"read the calendars of {len(people)} engineer(s) through {through}")


def _token_step(key: str, provider: TokenProvider) -> Step:
    name = f"token ({key.split(':')[0]})"
    try:
        provider.token()
    except TokenError as exc:
        return Step(name, False, str(exc), _token_fix(str(exc)))
    return Step(name, True, f"{getattr(provider, 'describe', key)} gave an access token")


def _try(name: str, config: Config, build, auth: str) -> Step:
    try:
        endpoint = build()
    except ConfigError as exc:
        problem = exc.problems[0]
        return Step(name, False, f"{problem.key}: {problem.message}", problem.fix)
    verify = getattr(endpoint, "verify", None)
    where = getattr(endpoint, "name", None) or repr(endpoint)
    if verify is None:  # a Maildir folder, an outbox directory: checked with the configuration
        return Step(name, True, f"{where} (nothing to connect to)")
    try:
        verify()
    except MailerError as exc:
        return Step(name, False, str(exc), _login_fix(name, auth, str(exc)))
    finally:
        endpoint.close()
    return Step(name, True, f"{where}: connected and logged in" + (" (folders ready)" if name == "mailbox" else ""))


_ENTRA_FIXES = {
    "AADSTS7000215": "the client secret is wrong: create one under the app's Certificates & secrets and export it "
                     "in the variable [microsoft] client_secret_env names",
    "AADSTS7000222": "the client secret has expired: create a new one (or switch to a certificate) and export it",
    "AADSTS700027": "the certificate is not the app's: upload its public part to the app registration and check "
                    "certificate_thumbprint",
    "AADSTS700016": "no such application in this tenant: check [microsoft] client_id and tenant_id",
    "AADSTS90002": "no such tenant: check [microsoft] tenant_id",
    "AADSTS70011": "the scope is refused: the app needs Office 365 Exchange Online application permissions",
}


def _token_fix(said: str) -> str:
    for code, fix in _ENTRA_FIXES.items():
        if code in said:
            return fix
    if "unauthorized_client" in said:
        return ("in the Google Admin console, Security > API controls > Domain-wide delegation: add the service "
                "account's client ID with the scope https://mail.google.com/")
    if "cannot reach" in said:
        return "check the network path to the identity provider (proxy, firewall) and [microsoft] authority"
    return "check the [microsoft] or [google] section against README's setup for your provider"


def _login_fix(name: str, auth: str, said: str) -> str:
    if "no OAuth2 token" in said:
        return _token_fix(said)
    if "certificate" in said or "STARTTLS" in said:
        return "check security and the server's certificate (a private CA needs ca_file, or the system's trust store)"
    if said.startswith(("cannot connect", "lost the connection", "cannot set up")):
        return "check host, port and security, and that the server can be reached from here (firewall, proxy)"
    refused = "refused the OAuth2 token" in said or "refused the login" in said
    if auth == "oauth2-microsoft" and refused and name == "mailbox":
        return ("Exchange Online refused the app's token for this mailbox: grant IMAP.AccessAsApp with admin consent, "
                "register the app with New-ServicePrincipal, give it Add-MailboxPermission -AccessRights FullAccess "
                "on the mailbox, and make sure IMAP is on for it (Set-CASMailbox -ImapEnabled $true)")
    if auth == "oauth2-microsoft" and refused:
        return ("Exchange Online refused the app's token for sending: grant SMTP.SendAsApp with admin consent, give the "
                "app SendAs on the mailbox (or an SMTP App RBAC role), and turn SMTP AUTH on for the mailbox "
                "(Set-CASMailbox -SmtpClientAuthenticationDisabled $false)")
    if auth == "oauth2-google" and refused:
        return "Gmail refused the token: check that IMAP is on for the user and the delegation's scope is https://mail.google.com/"
    if refused:
        return "check username and the password in the variable password_env names"
    return "check host, port and security, and that the server can be reached from here"
