"""The operator's configuration: a TOML file read into one frozen :class:`Config`.

Validation collects every problem before failing, so ``whiteglove config check`` can list them all,
each with its key and a fix. Passwords never sit in the file: a ``password_env`` key names the
environment variable that holds them, a ``password_file`` key a file (:mod:`.secrets`), read only
when a connection is built (:func:`read_secret`).
"""
from __future__ import annotations

import os

from mailer import is_loopback
from ticketing.config.checks import parse_spans, validate
from ticketing.config.connections import SECURITY_MODES
from ticketing.config.durations import DURATION_FORMS, parse_duration
from ticketing.config.loader import config_from_dict, load_config
from ticketing.config.secrets import (
    CLIENT_SECRET,
    EWS_PASSWORD,
    GOOGLE_KEY,
    MAILBOX_PASSWORD,
    OUTGOING_PASSWORD,
    SECRET_KEYS,
    SecretKey,
    read_secret,
    secret_path,
    secret_problems,
    secrets_in_use,
)
from ticketing.config.sections import (
    PRIORITIES,
    AccountConfig,
    CalendarConfig,
    Config,
    ContactConfig,
    DatabaseConfig,
    EngineerConfig,
    MailboxConfig,
    ManagerConfig,
    OnboardingConfig,
    OutgoingConfig,
    PrioritiesConfig,
    PriorityRule,
    SecurityConfig,
    SupportConfig,
)
from ticketing.config.values import is_email
from ticketing.errors import ConfigError, Problem

__all__ = [
    "DURATION_FORMS", "PRIORITIES", "SECURITY_MODES", "AccountConfig", "CalendarConfig", "Config", "ConfigError", "ContactConfig",
    "DatabaseConfig", "EngineerConfig", "MailboxConfig", "ManagerConfig", "OnboardingConfig", "OutgoingConfig",
    "PrioritiesConfig", "PriorityRule", "Problem", "SecurityConfig", "SupportConfig",
    "config_from_dict", "default_port", "is_email", "is_loopback", "load_config", "parse_duration", "parse_spans", "secret",
    "validate", "CLIENT_SECRET", "EWS_PASSWORD", "GOOGLE_KEY", "MAILBOX_PASSWORD", "OUTGOING_PASSWORD", "SECRET_KEYS",
    "SecretKey", "read_secret", "secret_path", "secret_problems", "secrets_in_use",
]

DEFAULT_PORTS = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}


def secret(env_name: str | None, key: str) -> str | None:
    """Read the secret named by a ``password_env`` key from the environment.

    Raises :class:`ConfigError` naming the variable when it is unset.
    """
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise ConfigError([Problem(key, f"the environment variable {env_name} is not set", f"export {env_name}=… before running")])
    return value


def default_port(protocol: str, security: str) -> int:
    return DEFAULT_PORTS[(protocol, security)]
