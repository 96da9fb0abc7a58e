"""Secrets: never written in the configuration, each read from an environment variable the file
names (``password_env``) or from a file (``password_file``).

A relative ``_file`` name is looked up first in ``$CREDENTIALS_DIRECTORY`` (where systemd's
``LoadCredential=`` puts a service's credentials), then against the configuration file's folder. A
file holds the secret alone; one trailing newline is dropped. Nothing here logs a secret or puts it
in a message: a problem names the key and the variable or file, never what it holds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ticketing.config.sections import Config
from ticketing.errors import ConfigError, Problem


@dataclass(frozen=True)
class SecretKey:
    """A secret of the configuration: its section and the names of its two forms."""

    section: str
    env: str
    file: str
    #: The secret is a file handed to a library by its path (Google's key file), not a value.
    path_only: bool = False

    def env_name(self, config: Config) -> str | None:
        return getattr(getattr(config, self.section), self.env)

    def file_name(self, config: Config) -> str | None:
        return getattr(getattr(config, self.section), self.file)

    def given(self, config: Config) -> bool:
        return bool(self.env_name(config) or self.file_name(config))


MAILBOX_PASSWORD = SecretKey("mailbox", "password_env", "password_file")
OUTGOING_PASSWORD = SecretKey("outgoing", "password_env", "password_file")
CLIENT_SECRET = SecretKey("microsoft", "client_secret_env", "client_secret_file")
EWS_PASSWORD = SecretKey("ews", "password_env", "password_file")
GOOGLE_KEY = SecretKey("google", "service_account_file_env", "service_account_file", path_only=True)
SECRET_KEYS = (MAILBOX_PASSWORD, OUTGOING_PASSWORD, CLIENT_SECRET, EWS_PASSWORD, GOOGLE_KEY)


def both_forms_given(config: Config) -> list[Problem]:
    """A secret given both ways: which one is meant cannot be guessed."""
    return [
        Problem(f"{key.section}.{key.file}", f"{key.env} and {key.file} are both given",
                f"keep one: {key.file} (a file holding the secret) or {key.env} (an environment variable)")
        for key in SECRET_KEYS if key.env_name(config) and key.file_name(config)
    ]


def secrets_in_use(config: Config) -> list[SecretKey]:
    """The secrets the worker reads with this configuration (bootstrap's choices, in its order)."""
    used = []
    logins = [(config.mailbox, "imap", MAILBOX_PASSWORD), (config.outgoing, "smtp", OUTGOING_PASSWORD)]
    for section, backend, key in logins:
        if section.backend == backend and section.auth == "password" and key.given(config):
            used.append(key)
    if uses_microsoft_app(config) and CLIENT_SECRET.given(config):
        used.append(CLIENT_SECRET)
    if "ews" in (config.mailbox.backend, config.outgoing.backend, config.onboarding.freebusy):
        used.append(EWS_PASSWORD)
    if "oauth2-google" in _token_logins(config):
        used.append(GOOGLE_KEY)
    return used


def uses_microsoft_app(config: Config) -> bool:
    """Whether the worker gets tokens from the [microsoft] app (IMAP/SMTP OAuth2, Graph, free/busy)."""
    return "oauth2-microsoft" in _token_logins(config) or config.onboarding.freebusy == "graph" \
        or "graph" in (config.mailbox.backend, config.outgoing.backend)


def _token_logins(config: Config) -> set[str]:
    return {s.auth for s, backend in ((config.mailbox, "imap"), (config.outgoing, "smtp")) if s.backend == backend}


def secret_path(config: Config, name: str) -> Path:
    """Where the file ``name`` is: as given when absolute, else in ``$CREDENTIALS_DIRECTORY`` when it
    is there, else relative to the configuration file's folder."""
    path = Path(name).expanduser()
    if path.is_absolute():
        return path
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / path).exists():
        return Path(credentials) / path
    return config.resolve(name)


def read_secret(config: Config, key: SecretKey) -> str | None:
    """The secret of ``key``: the variable's value, or the file's text less one trailing newline (for
    Google's key file, its path once it is known to be readable). None when neither form is given.

    Raises :class:`ConfigError` with one problem naming the key and the variable or the file.
    """
    env_name, file_name = key.env_name(config), key.file_name(config)
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise _error(key.env, key, f"the environment variable {env_name} is not set",
                         f"export {env_name}=… before running, or put it in a file named by {key.file}")
        if key.path_only:
            _read(Path(value), key.env, key, f"the file {env_name} names")
        return value
    if not file_name:
        return None
    path = secret_path(config, file_name)
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    note = f" (nor is it in $CREDENTIALS_DIRECTORY, {credentials})" \
        if credentials and not Path(file_name).expanduser().is_absolute() else ""
    data = _read(path, key.file, key, "the file", note)
    if key.path_only:
        return str(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(key.file, key, f"{path} is not UTF-8 text", "write the secret alone into the file, as UTF-8") from None
    text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if not text:
        raise _error(key.file, key, f"{path} is empty", "write the secret into it (a trailing newline is dropped)")
    return text


def secret_problems(config: Config) -> list[Problem]:
    """A problem for each secret in use that cannot be read now (an unset variable, a missing file)."""
    problems = []
    for key in secrets_in_use(config):
        try:
            read_secret(config, key)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


def _read(path: Path, name: str, key: SecretKey, what: str, note: str = "") -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _error(name, key, f"{what} {path} does not exist{note}",
                     "create it, readable by the user whiteglove runs as, or correct the path") from None
    except IsADirectoryError:
        raise _error(name, key, f"{what} {path} is a folder", "name the file that holds the secret") from None
    except PermissionError:
        raise _error(name, key, f"{what} {path} cannot be read: permission denied",
                     "make it readable by the user whiteglove runs as (e.g. chown it to that user, chmod 0400)") from None
    except OSError as exc:
        raise _error(name, key, f"{what} {path} cannot be read: {exc.strerror}", "check the file and its folder") from None


def _error(name: str, key: SecretKey, message: str, fix: str) -> ConfigError:
    return ConfigError([Problem(f"{key.section}.{name}", message, fix)])
