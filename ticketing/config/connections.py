"""The keys of the connections whiteglove makes: an IMAP or SMTP server, the OAuth2 app behind a
token login, the Exchange (EWS) account, and where free/busy times come from."""
from __future__ import annotations

from mailer import is_loopback
from ticketing.config.secrets import secret_path
from ticketing.config.sections import Config
from ticketing.config.values import is_email
from ticketing.errors import Problem

SECURITY_MODES = ("tls", "starttls", "none")
AUTH_MODES = ("password", "oauth2-microsoft", "oauth2-google")


def ews_problems(config: Config) -> list[Problem]:
    ews, problems = config.ews, []
    if not ews.url and not ews.autodiscover:
        problems.append(Problem("ews.url", "required unless autodiscover = true",
                                'set url = "https://mail.contoso.com/EWS/Exchange.asmx"'))
    elif ews.url and not ews.url.startswith("https://") and not is_loopback(ews.url.split("/")[2].split(":")[0]):
        problems.append(Problem("ews.url", "the password would cross the network in clear", "use an https:// URL"))
    if ews.auth not in ("ntlm", "basic"):
        problems.append(Problem("ews.auth", f"unknown auth {ews.auth!r}", 'use "ntlm" or "basic"'))
    if not ews.username:
        problems.append(Problem("ews.username", "required for the ews backend", 'set username = "CONTOSO\\svc-whiteglove"'))
    if ews.password_env and not is_env_name(ews.password_env):
        problems.append(Problem("ews.password_env", f"not an environment variable name: {ews.password_env!r}",
                                'set password_env = "WHITEGLOVE_EWS_PASSWORD"'))
    elif not ews.password_env and not ews.password_file:
        problems.append(Problem("ews.password_env", "required for the ews backend",
                                'set password_env = "WHITEGLOVE_EWS_PASSWORD" and export the password in it, '
                                'or password_file = "/path/to/file" holding it'))
    if ews.mailbox and not is_email(ews.mailbox):
        problems.append(Problem("ews.mailbox", f"not an address: {ews.mailbox!r}", 'set mailbox = "support@contoso.com"'))
    if ews.ca_file and not config.resolve(ews.ca_file).is_file():
        problems.append(Problem("ews.ca_file", f"no file at {config.resolve(ews.ca_file)}", "a PEM bundle of the CAs to trust"))
    return problems


def freebusy_problems(config: Config) -> list[Problem]:
    source = config.onboarding.freebusy
    if source == "none":
        return []
    if source == "ews":
        return [] if "ews" in (config.mailbox.backend, config.outgoing.backend) else ews_problems(config)
    if source != "graph":
        return [Problem("onboarding.freebusy", f"unknown source {source!r}", 'use "none", "graph" or "ews"')]
    mailbox = config.mailbox.username if config.mailbox.backend in ("graph", "imap") else config.outgoing.username
    problems = oauth2_problems(config, "onboarding", "oauth2-microsoft", mailbox or config.support.address)
    return [p for p in problems if not p.key.startswith("onboarding.")]


def oauth2_problems(config: Config, section: str, auth: str, username: str | None) -> list[Problem]:
    """The keys an OAuth2 login needs: the mailbox, and the provider's section."""
    if auth not in AUTH_MODES:
        return [Problem(f"{section}.auth", f"unknown auth {auth!r}", 'use "password", "oauth2-microsoft" or "oauth2-google"')]
    if auth == "password":
        return []
    problems = []
    if not is_email(username):
        problems.append(Problem(f"{section}.username", "an OAuth2 login names the mailbox it reads or sends as",
                                'set username = "support@example.com" (a shared mailbox works)'))
    if auth == "oauth2-microsoft":
        ms = config.microsoft
        for key in ("tenant_id", "client_id"):
            if not getattr(ms, key):
                problems.append(Problem(f"microsoft.{key}", f"required for auth = {auth!r}",
                                        f"set {key} to the app registration's Directory (tenant) / Application (client) ID"))
        if bool(ms.client_secret_env or ms.client_secret_file) == bool(ms.certificate_file):
            problems.append(Problem("microsoft", "give the app's client secret or its certificate, not both or neither",
                                    'set certificate_file = "app-key.pem" and certificate_thumbprint = "…" (preferred), '
                                    'or client_secret_env = "WHITEGLOVE_CLIENT_SECRET" (or client_secret_file)'))
        if ms.certificate_file and not ms.certificate_thumbprint:
            problems.append(Problem("microsoft.certificate_thumbprint", "a certificate needs its thumbprint",
                                    "copy the thumbprint Entra ID shows under Certificates & secrets"))
        elif ms.certificate_file and not secret_path(config, ms.certificate_file).is_file():
            problems.append(Problem("microsoft.certificate_file", f"no file at {secret_path(config, ms.certificate_file)}",
                                    "the PEM file holding the certificate's private key"))
        if ms.client_secret_env and not is_env_name(ms.client_secret_env):
            problems.append(Problem("microsoft.client_secret_env", f"not an environment variable name: {ms.client_secret_env!r}",
                                    'set client_secret_env = "WHITEGLOVE_CLIENT_SECRET"'))
        if not ms.authority.startswith("https://"):
            problems.append(Problem("microsoft.authority", "must be an https:// URL", 'leave it out for "https://login.microsoftonline.com"'))
        if ms.ca_file and not config.resolve(ms.ca_file).is_file():
            problems.append(Problem("microsoft.ca_file", f"no file at {config.resolve(ms.ca_file)}", "a PEM bundle of the CAs to trust"))
    else:
        env = config.google.service_account_file_env
        if env and not is_env_name(env):
            problems.append(Problem("google.service_account_file_env", f"not an environment variable name: {env!r}",
                                    'set service_account_file_env = "WHITEGLOVE_GOOGLE_KEY_FILE"'))
        elif not env and not config.google.service_account_file:
            problems.append(Problem("google.service_account_file_env", f"required for auth = {auth!r}",
                                    'set service_account_file_env = "WHITEGLOVE_GOOGLE_KEY_FILE" and export the key file\'s path '
                                    'in it, or service_account_file = "/path/to/key.json"'))
    return problems


def is_env_name(name: str) -> bool:
    return name.replace("_", "").isalnum()


def server_problems(section: str, host, security, username, password_env, auth: str = "password",
                    password_file: str | None = None) -> list[Problem]:
    problems = []
    if not host:
        problems.append(Problem(f"{section}.host", "required for this backend", 'set host = "mail.example.com"'))
    if security not in SECURITY_MODES:
        problems.append(Problem(f"{section}.security", f"unknown mode {security!r}", 'use "tls", "starttls" or "none"'))
    elif security == "none" and username and host and not is_loopback(host):
        problems.append(Problem(f"{section}.security", f"a password sent in plain text to {host} can be read on the way", 'use "tls" or "starttls"; "none" with a login is for loopback only'))
    if password_env is not None and not password_env.replace("_", "").isalnum():
        problems.append(Problem(f"{section}.password_env", f"not an environment variable name: {password_env!r}", 'set password_env = "WHITEGLOVE_IMAP_PASSWORD"'))
    if auth == "password" and username and not password_env and not password_file:
        problems.append(Problem(f"{section}.password_env", "a username needs a password",
                                'set password_env = "NAME_OF_ENV_VAR" and export the password in that variable, '
                                'or password_file = "/path/to/file" holding it'))
    for key, given in (("password_env", password_env), ("password_file", password_file)):
        if auth != "password" and given:
            problems.append(Problem(f"{section}.{key}", f"auth = {auth!r} logs in with tokens, not a password", f"remove {key}"))
    return problems

