"""The operator's configuration: a TOML file read into one frozen :class:`Config`.

Validation collects every problem before failing, so ``whiteglove config check`` can list them all,
each with its key and a fix. Passwords never sit in the file: a ``password_env`` key names the
environment variable that holds them, read only when a connection is built.
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SECURITY_MODES = ("tls", "starttls", "none")
DEFAULT_PORTS = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, what, and how to fix it."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} (fix: {self.fix})"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem], path: Path | None = None):
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///whiteglove.db"


@dataclass(frozen=True)
class MailboxConfig:
    backend: str = "maildir"
    path: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = "tls"
    username: str | None = None
    password_env: str | None = None
    folder: str = "INBOX"
    processed_folder: str | None = None
    quarantine_folder: str | None = None
    idle: bool = True
    poll_seconds: int = 60
    batch_size: int = 200


@dataclass(frozen=True)
class OutgoingConfig:
    backend: str = "directory"
    path: str | None = "outbox"
    host: str | None = None
    port: int | None = None
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class SupportConfig:
    address: str = ""
    name: str = "Support"


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    outgoing: OutgoingConfig = field(default_factory=OutgoingConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    #: The directory relative paths in the file are resolved against (the file's own).
    base_dir: Path = Path(".")

    def resolve(self, path: str) -> Path:
        """Return ``path`` resolved against the configuration file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config's directory."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
            return prefix + str(self.resolve(url[len(prefix):]))
        return url


SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "mailbox": MailboxConfig,
    "outgoing": OutgoingConfig,
    "support": SupportConfig,
}


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file at ``path``. Raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem("(file)", f"no configuration file at {path}", "pass --config PATH, or copy config.example.toml")]
        ) from None
    except OSError as exc:
        raise ConfigError([Problem("(file)", f"cannot read {path}: {exc.strerror}", "check the path and its permissions")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem("(syntax)", f"not valid TOML: {exc}", "correct the TOML syntax at that line")], path) from None
    return config_from_dict(data, base_dir=path.resolve().parent, path=path)


def config_from_dict(data: dict[str, Any], base_dir: Path = Path("."), path: Path | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML. Raises :class:`ConfigError` listing every problem."""
    problems: list[Problem] = []
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SECTIONS:
            problems.append(Problem(name, "unknown section", f"remove it; known sections: {', '.join(SECTIONS)}"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(name, "must be a table", f"write it as [{name}]"))
            continue
        sections[name] = _build_section(name, SECTIONS[name], value, problems)
    config = Config(**{k: v for k, v in sections.items() if v is not None}, base_dir=base_dir)
    problems.extend(validate(config))
    if problems:
        raise ConfigError(problems, path)
    return config


def _build_section(name: str, cls: type, values: dict[str, Any], problems: list[Problem]):
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            problems.append(Problem(f"{name}.{key}", "unknown key", f"remove it; known keys: {', '.join(known)}"))
            continue
        expected = _expected_type(cls, key)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(
                Problem(f"{name}.{key}", f"must be {_type_word(expected)}, not {type(value).__name__}", f"write e.g. {key} = {_example(expected)}")
            )
            continue
        kwargs[key] = value
    return cls(**kwargs)


def _expected_type(cls: type, key: str) -> type:
    annotation = str(cls.__dataclass_fields__[key].type)
    for word, kind in (("bool", bool), ("int", int), ("str", str)):
        if annotation.startswith(word):
            return kind
    raise AssertionError(f"unsupported annotation {annotation}")  # pragma: no cover


def _type_word(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string"}[kind]


def _example(kind: type) -> str:
    return {bool: "true", int: "60", str: '"…"'}[kind]


def validate(config: Config) -> list[Problem]:
    """Return the problems of an assembled configuration (empty when it is usable)."""
    problems: list[Problem] = []
    db = config.database
    if not db.url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        problems.append(Problem("database.url", f"unsupported URL {db.url!r}", 'use "sqlite:///whiteglove.db" or "postgresql://user@host/db"'))

    mb = config.mailbox
    if mb.backend == "ews":
        problems.append(Problem("mailbox.backend", "the ews backend is not available yet", 'use "imap" for Exchange with IMAP enabled, or "maildir"'))
    elif mb.backend == "maildir":
        if not mb.path:
            problems.append(Problem("mailbox.path", "required for the maildir backend", 'set path = "examples/inbox" (a folder with new/ and cur/)'))
        elif not config.resolve(mb.path).is_dir():
            problems.append(Problem("mailbox.path", f"no Maildir folder at {config.resolve(mb.path)}", "create it or correct the path (relative paths start at the config file's folder)"))
    elif mb.backend == "imap":
        problems.extend(_server_problems("mailbox", mb.host, mb.security, mb.username, mb.password_env))
    else:
        problems.append(Problem("mailbox.backend", f"unknown backend {mb.backend!r}", 'use "maildir" or "imap"'))
    if mb.poll_seconds < 1:
        problems.append(Problem("mailbox.poll_seconds", "must be at least 1", "set poll_seconds = 60"))
    if not 1 <= mb.batch_size <= 5000:
        problems.append(Problem("mailbox.batch_size", "must be between 1 and 5000", "set batch_size = 200"))

    out = config.outgoing
    if out.backend == "ews":
        problems.append(Problem("outgoing.backend", "the ews backend is not available yet", 'use "smtp" or "directory"'))
    elif out.backend == "directory":
        if not out.path:
            problems.append(Problem("outgoing.path", "required for the directory backend", 'set path = "outbox"'))
    elif out.backend == "smtp":
        problems.extend(_server_problems("outgoing", out.host, out.security, out.username, out.password_env))
    else:
        problems.append(Problem("outgoing.backend", f"unknown backend {out.backend!r}", 'use "directory" or "smtp"'))

    if "@" not in config.support.address or any(c in config.support.address for c in " \r\n<>"):
        problems.append(Problem("support.address", f"not an email address: {config.support.address!r}", 'set address = "support@example.com"'))
    return problems


def _server_problems(section: str, host, security, username, password_env) -> list[Problem]:
    problems = []
    if not host:
        problems.append(Problem(f"{section}.host", "required for this backend", 'set host = "mail.example.com"'))
    if security not in SECURITY_MODES:
        problems.append(Problem(f"{section}.security", f"unknown mode {security!r}", 'use "tls", "starttls" or "none"'))
    elif security == "none" and username and host and not _is_loopback(host):
        problems.append(Problem(f"{section}.security", f"a password sent in plain text to {host} can be read on the way", 'use "tls" or "starttls"; "none" with a login is for loopback only'))
    if password_env is not None and not password_env.replace("_", "").isalnum():
        problems.append(Problem(f"{section}.password_env", f"not an environment variable name: {password_env!r}", 'set password_env = "WHITEGLOVE_IMAP_PASSWORD"'))
    if username and not password_env:
        problems.append(Problem(f"{section}.password_env", "a username needs a password", 'set password_env = "NAME_OF_ENV_VAR" and export the password in that variable'))
    return problems


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
