"""Whether the worker's connections work, and telling the managers when one has failed for long.

A login that starts failing (a revoked token, a removed permission, a changed password) must not go
unnoticed for days. The worker reports after each pass what it saw of the mailbox and the outgoing
server; :class:`Health` keeps, per connection, since when it fails. Past ``alert_after`` the
managers get one mail (through the outgoing server: when that is what fails, the mail waits in the
outbox with the rest, and ``whiteglove status`` shows it); when it works again, that is logged
once, and managers who were told get a second mail.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.mails import WHAT, Mails
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


class Health:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, alert_after: timedelta):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.alert_after = alert_after

    def observe(self, component: str, now: datetime, *, error: str | None = None, worked: bool = False) -> None:
        """What a pass saw of ``component``: an ``error``, or that it ``worked``, or (neither) nothing."""
        if error is None and not worked:
            return
        with self.store.transaction():
            state = self.store.component(component)
            failing_since = state.failing_since if state else None
            alerted_at = state.alerted_at if state else None
            what = WHAT.get(component, component)
            if error is None:
                if state is None:  # the first pass that reached it: ``whiteglove status`` says it works
                    self.store.save_component(component, failing_since=None, last_error="", alerted_at=None, now=now)
                if failing_since is None:
                    return
                log.info("the %s works again, after %s failing", what, _minutes(now - failing_since))
                if alerted_at is not None:
                    self._tell_managers(component, failing_since, now, state.last_error, recovered=True)
                self.store.save_component(component, failing_since=None, last_error="", alerted_at=None, now=now)
                return
            if failing_since is None:
                failing_since = now
                log.warning("the %s fails: %s", what, error)
            if alerted_at is None and now - failing_since >= self.alert_after:
                log.error("the %s has failed for %s: telling the managers", what, _minutes(now - failing_since))
                self._tell_managers(component, failing_since, now, error, recovered=False)
                alerted_at = now
            self.store.save_component(component, failing_since=failing_since, last_error=error,
                                      alerted_at=alerted_at, now=now)

    def _tell_managers(self, component: str, failing_since: datetime, now: datetime, error: str,
                       recovered: bool) -> None:
        for manager in self.config.managers:
            self.outbox.queue(self.mails.connection(Address(manager.name, manager.email), component=component,
                                                    failing_since=failing_since, now=now, error=error,
                                                    recovered=recovered, tz=ZoneInfo(manager.timezone)), now)


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
