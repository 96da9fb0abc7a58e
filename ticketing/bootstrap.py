"""Building the application's parts from a configuration: the only place that wires them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from datetime import datetime

from mailer.maildir import MaildirSource
from mailer.source import MailboxSource

from .clock import utcnow
from .config import Config, default_port, secret
from .intake import Intake
from .store import SqlStore


@dataclass
class App:
    config: Config
    store: SqlStore
    intake: Intake

    def close(self) -> None:
        self.store.close()


def build_store(config: Config, create: bool = True) -> SqlStore:
    return SqlStore.open(config.database_url(), create=create)


def build_app(config: Config, clock: Callable[[], datetime] = utcnow) -> App:
    """Open the store (creating an empty database's schema) and build the services."""
    store = build_store(config)
    return App(config=config, store=store, intake=Intake(store, clock, batch_size=config.mailbox.batch_size))


def build_source(config: Config) -> MailboxSource:
    """The mailbox named by ``[mailbox]``. Reads the password from its environment variable."""
    mb = config.mailbox
    if mb.backend == "maildir":
        return MaildirSource(config.resolve(mb.path), name=f"maildir:{mb.path}")
    if mb.backend == "imap":
        from mailer.imap import ImapSource

        return ImapSource(
            name=f"imap:{mb.username}@{mb.host}/{mb.folder}",
            host=mb.host,
            port=mb.port or default_port("imap", mb.security),
            security=mb.security,
            username=mb.username,
            password=secret(mb.password_env, "mailbox.password_env"),
            folder=mb.folder,
            processed_folder=mb.processed_folder,
            quarantine_folder=mb.quarantine_folder,
            use_idle=mb.idle,
            batch_size=mb.batch_size,
        )
    raise ValueError(f"no mailbox backend {mb.backend!r}")  # config validation prevents this
