"""Building the application's parts from a configuration: the only place that wires them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from mailer import (
    GRAPH_SCOPE,
    OUTLOOK_SCOPE,
    DirectorySender,
    EwsMailbox,
    EwsSender,
    EwsSource,
    GoogleTokens,
    GraphClient,
    GraphSender,
    GraphSource,
    MailboxSource,
    MaildirSource,
    MailSender,
    MicrosoftTokens,
    SmtpSender,
    TokenProvider,
    busy_times,
    ews_busy_times,
)
from ticketing.app.claims import claim_is_dead, worker_name
from ticketing.app.clock import utcnow
from ticketing.app.leases import Leases
from ticketing.app.worker import Job
from ticketing.config import (
    CLIENT_SECRET,
    EWS_PASSWORD,
    GOOGLE_KEY,
    MAILBOX_PASSWORD,
    OUTGOING_PASSWORD,
    Config,
    SupportConfig,
    default_port,
    read_secret,
    secret_path,
)
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.mails import Mails, Support
from ticketing.core.playbooks import Playbook
from ticketing.errors import ConfigError, PlaybookError, Problem, StorageError
from ticketing.files.playbooks import default_playbooks_dir, load_playbooks
from ticketing.files.templates import Renderer
from ticketing.services.assignment import Assigner
from ticketing.services.bounces import Bounces
from ticketing.services.checkpoints import Checkpoints
from ticketing.services.contract_notices import ContractNotices
from ticketing.services.engagement_commands import EngagementCommands
from ticketing.services.engagement_setting import Settings
from ticketing.services.engagement_summaries import EngagementSummaries
from ticketing.services.engineer_replies import EngineerReplies
from ticketing.services.health import Health
from ticketing.services.helpdesk import HelpDesk
from ticketing.services.intake import Intake
from ticketing.services.loop_guard import LoopGuard
from ticketing.services.onboarding import Onboarding
from ticketing.services.outbox import Outbox
from ticketing.services.outbox_sender import OutboxSender, RetryPolicy
from ticketing.services.sla_watch import SlaWatch, build_policies
from ticketing.services.surveys import Surveys
from ticketing.services.task_reminders import TaskReminders
from ticketing.services.task_replies import TaskReplies
from ticketing.services.ticket_actions import TicketActions
from ticketing.services.weekly import WeeklySummaries
from ticketing.store import SqlStore
from ticketing.store.backup import Backup, backup_sqlite, is_sqlite, pg_dump_advice


@dataclass
class App:
    config: Config
    store: SqlStore
    intake: Intake
    desk: HelpDesk
    clock: Callable[[], datetime]

    def prepare(self) -> None:
        """What :func:`build_app` leaves to a rehearsal: an empty database's schema (SchemaError for
        a database at another version) and the declared accounts. Call it inside the rehearsal."""
        self.store.ensure_schema()
        self.store.sync_accounts(self.config.accounts, self.clock())

    def outbox_sender(self, sender: MailSender) -> OutboxSender:
        out = self.config.outgoing
        policy = RetryPolicy(max_attempts=out.max_attempts, first=timedelta(seconds=out.retry_seconds))
        return OutboxSender(self.store, sender, self.desk.mails.renderer, policy, owner=worker_name(), clock=self.clock,
                            is_dead=claim_is_dead, heartbeat=10.0)

    def leases(self) -> Leases:
        """Who of several workers on this database does intake and runs each job when."""
        return Leases(self.store, worker_name(), self.config.mailbox.lease_seconds, is_dead=claim_is_dead,
                      shared=not is_sqlite(self.config.database_url()))

    def weekly(self) -> WeeklySummaries:
        desk = self.desk
        return WeeklySummaries(self.store, self.config, desk.sla, desk.outbox, desk.mails.renderer, desk.calendars,
                               desk.onboarding.playbooks if desk.onboarding else {})

    def summaries(self) -> EngagementSummaries:
        desk = self.desk
        return EngagementSummaries(self.store, self.config, desk.mails, desk.outbox, desk.calendars,
                                   desk.onboarding.playbooks if desk.onboarding else {})

    def task_reminders(self) -> TaskReminders:
        desk = self.desk
        return TaskReminders(self.store, self.config, desk.mails, desk.outbox,
                             Settings(self.store, self.config, desk.calendars, desk.onboarding))

    def checkpoints(self) -> Checkpoints:
        desk = self.desk
        return Checkpoints(self.store, self.config, desk.mails, desk.outbox,
                           Settings(self.store, self.config, desk.calendars, desk.onboarding))

    def jobs(self) -> list[Job]:
        """The worker's periodic jobs: alerts about recipients our SMTP server refused (every pass),
        the SLA sweep every minute, the weekly summaries' check every five minutes, and with
        playbooks the task reminders, weekly check-points, surveys and end-of-engagement summaries
        every fifteen."""
        jobs = [Job("refused recipients", 0, self.desk.bounces.alert_refusals)]
        if self.desk.onboarding is not None:
            jobs.append(Job("task reminders", 900, self.task_reminders().sweep))
            jobs.append(Job("check-points", 900, self.checkpoints().sweep))
        if self.desk.sla is not None:
            jobs.append(Job("go-live urgency", 3600, self.desk.urgency.sweep))
            jobs.append(Job("SLA sweep", 60, self.desk.sla.sweep))
            if self.config.managers:
                jobs.append(Job("weekly summaries", 300, self.weekly().run))
        if self.desk.surveys is not None:
            jobs.append(Job("surveys", 900, self.desk.surveys.sweep))
            jobs.append(Job("engagement summaries", 900, self.summaries().sweep))
        return jobs

    def health(self) -> Health:
        desk = self.desk
        return Health(self.store, self.config, desk.mails, desk.outbox,
                      timedelta(minutes=self.config.support.connection_alert_minutes))

    def close(self) -> None:
        self.store.close()


def build_store(config: Config, create: bool = True, must_exist: bool = False) -> SqlStore:
    """The store of ``[database] url``. ``must_exist``: a command that only reads refuses to create
    an empty SQLite database where there was none (a wrong --config or url, not an empty help desk)."""
    url = config.database_url()
    path = config.database_file()
    if must_exist and path is not None:
        if not path.exists():
            raise StorageError(f"no database at {path}: check --config and [database] url, "
                               "or start with 'whiteglove run'")
    return SqlStore.open(url, create=create)


def backup_database(config: Config, target: Path) -> Backup:
    """An online backup of the SQLite database of ``[database] url`` to the new file ``target``.
    Raises StorageError: the file exists, there is no database, or it is PostgreSQL (the message
    then names the pg_dump command to run)."""
    url = config.database_url()
    if not is_sqlite(url):
        raise StorageError(f"db backup copies SQLite databases; for PostgreSQL run: {pg_dump_advice(url, target)}")
    return backup_sqlite(url, target)


def build_calendars(config: Config) -> dict[str, BusinessCalendar]:
    """Every calendar of the configuration by name, and the default one."""
    calendars = {c.name: BusinessCalendar.from_config(c) for c in config.calendars}
    default = config.calendar(None)
    calendars.setdefault(default.name, BusinessCalendar.from_config(default))
    return calendars


def playbooks_dir(config: Config) -> Path:
    """The folder of ``[onboarding] playbooks``, else the shipped playbooks' folder."""
    return config.resolve(config.onboarding.playbooks) if config.onboarding.playbooks else default_playbooks_dir()


def build_playbooks(config: Config) -> dict[str, Playbook]:
    """The playbooks the worker plans with. Raises PlaybookError, and ConfigError for a default
    playbook that is not one of them."""
    playbooks = load_playbooks(playbooks_dir(config))
    default = config.onboarding.default_playbook
    if default and default not in playbooks:
        raise ConfigError([Problem("onboarding.default_playbook", f"no playbook {default!r}",
                                   f"use one of: {', '.join(sorted(playbooks))}, or remove the key")])
    problems = unknown_calendars(playbooks, config)
    if problems:
        raise PlaybookError(problems)
    return playbooks


def unknown_calendars(playbooks: dict[str, Playbook], config: Config) -> list[Problem]:
    """A problem for each playbook whose ``calendar`` names no ``[[calendars]]`` entry."""
    names = {c.name for c in config.calendars}
    return [Problem(f"{p.path.parent.name}/{p.path.name}: calendar", f"no calendar named {p.calendar!r} under [[calendars]]",
                    "declare it in the configuration, correct the name, or write the calendar as a table")
            for p in playbooks.values() if isinstance(p.calendar, str) and p.calendar not in names]


def templates_dir(config: Config) -> Path | None:
    """The folder of ``[templates] path`` (overrides looked in before the shipped templates), or None."""
    return config.resolve(config.templates.path) if config.templates.path else None


def build_desk(config: Config, store: SqlStore, renderer: Renderer | None = None) -> HelpDesk:
    """The help desk of ``config``: its engineers, playbooks, SLA policies and templates."""
    playbooks = build_playbooks(config)
    return _desk(config, store, renderer or Renderer(overrides=templates_dir(config)), playbooks,
                 build_policies(config))


def build_minimal_desk(store: SqlStore, address: str = "support@whiteglove.invalid") -> HelpDesk:
    """A desk with no engineers, playbooks or SLA policies and the shipped templates (tests, benchmarks)."""
    return _desk(Config(support=SupportConfig(address=address)), store, Renderer(), None, None)


def _desk(config: Config, store: SqlStore, renderer: Renderer, playbooks: dict[str, Playbook] | None,
          policies) -> HelpDesk:
    support = Support(config.support.address, config.support.name)
    mails = Mails(renderer, support)
    outbox = Outbox(store, support)
    outbox.guard = LoopGuard(store, config, mails)  # answers to inbound mail are limited: loops break
    calendars = build_calendars(config)
    onboarding = Onboarding(store, config, mails, outbox, calendars, playbooks, build_freebusy(config)) \
        if playbooks is not None else None
    sla = None
    if policies is not None:
        sla = SlaWatch(store, config, mails, outbox, calendars, policies,
                       {name: p.sla_policy for name, p in (playbooks or {}).items() if p.sla_policy})
    assigner = Assigner(store, config, calendars, mails, outbox)
    actions = TicketActions(store, config, mails, outbox, assigner, sla)
    return HelpDesk(
        store, config, mails, outbox, assigner,
        engineers=EngineerReplies(store, config, mails, outbox, assigner, actions,
                                  EngagementCommands(store, config, onboarding, calendars)),
        bounces=Bounces(store, config, mails, outbox, assigner, sla),
        notices=ContractNotices(store, config, assigner, onboarding),
        onboarding=onboarding, sla=sla, task_replies=TaskReplies(store, config, mails, outbox),
        surveys=Surveys(store, config, mails, outbox, playbooks) if playbooks is not None else None,
    )


def build_app(config: Config, clock: Callable[[], datetime] = utcnow, rehearsal: bool = False) -> App:
    """Open the store (creating an empty database's schema), sync declared accounts, build the services.

    ``rehearsal`` (a dry run): neither, so that the caller does both inside the unit of work it rolls
    back (:meth:`App.prepare`): an empty PostgreSQL database stays empty."""
    store = build_store(config, create=not rehearsal)
    if not rehearsal:
        with store.transaction():
            store.sync_accounts(config.accounts, clock())
    desk = build_desk(config, store)
    intake = Intake(store, clock, desk, batch_size=config.mailbox.batch_size, start_at=config.start_mark(),
                    max_message_bytes=config.mailbox.max_message_bytes, batch_bytes=config.mailbox.batch_bytes)
    return App(config=config, store=store, intake=intake, desk=desk, clock=clock)


def build_tokens(config: Config) -> dict[str, TokenProvider]:
    """The OAuth2 token providers the mailbox and the sender need, one per provider and scope (the
    mailbox and the sender share it, and its cached token): ``oauth2-microsoft`` and ``graph`` for
    Microsoft's IMAP/SMTP and Graph scopes, ``oauth2-google:ADDRESS``. Reads the secret, the key file
    or the service account key's path now (from the environment or a file); the first token is asked for at the first login."""
    wanted = set()
    for section, server in ((config.mailbox, "imap"), (config.outgoing, "smtp")):
        if section.backend == "graph":
            wanted.add(("graph", section.username))
        elif section.backend == server:
            wanted.add((section.auth, section.username))
    providers: dict[str, TokenProvider] = {}
    for auth, username in sorted(wanted, key=str):
        if auth in ("oauth2-microsoft", "graph") and auth not in providers:
            providers[auth] = _microsoft_tokens(config, GRAPH_SCOPE if auth == "graph" else OUTLOOK_SCOPE)
        elif auth == "oauth2-google":
            # Domain-wide delegation acts as one user: a provider per mailbox.
            key_file = read_secret(config, GOOGLE_KEY)
            providers[f"{auth}:{username.lower()}"] = GoogleTokens(
                service_account_file=key_file, subject=username,
                ca_file=str(config.resolve(config.google.ca_file)) if config.google.ca_file else None)
    return providers


def _microsoft_tokens(config: Config, scope: str) -> MicrosoftTokens:
    ms = config.microsoft
    key = None
    if ms.certificate_file:
        try:
            key = secret_path(config, ms.certificate_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([Problem("microsoft.certificate_file", f"cannot read the private key: {type(exc).__name__}",
                                       "a PEM file of the certificate's private key, readable by whiteglove")]) from None
    return MicrosoftTokens(
        tenant_id=ms.tenant_id, client_id=ms.client_id,
        client_secret=read_secret(config, CLIENT_SECRET),
        private_key=key, thumbprint=ms.certificate_thumbprint, authority=ms.authority, scope=scope,
        ca_file=str(config.resolve(ms.ca_file)) if ms.ca_file else None,
    )


def _ews_connection(config: Config) -> EwsMailbox:
    ews = config.ews
    return EwsMailbox(mailbox=ews.mailbox or config.support.address, username=ews.username,
                      password=read_secret(config, EWS_PASSWORD), url=ews.url,
                      autodiscover=ews.autodiscover, auth_type=ews.auth,
                      ca_file=str(config.resolve(ews.ca_file)) if ews.ca_file else None)


def build_freebusy(config: Config):
    """``[onboarding] freebusy = "graph"``: people's busy times from their Microsoft 365 calendars,
    asked through the support mailbox's Graph app (built at the first question, so that commands
    which never plan need no secret)."""
    if config.onboarding.freebusy == "ews":
        connections: list[EwsMailbox] = []

        def ews_freebusy(emails, start, end):
            if not connections:
                connections.append(_ews_connection(config))
            return ews_busy_times(connections[0], emails, start, end)

        return ews_freebusy
    if config.onboarding.freebusy != "graph":
        return None
    mailbox = next((s.username for s in (config.mailbox, config.outgoing) if s.username), config.support.address)
    clients: list[GraphClient] = []

    def freebusy(emails, start, end):
        if not clients:
            clients.append(_graph_client(config, mailbox, {"graph": _microsoft_tokens(config, GRAPH_SCOPE)}))
        return busy_times(clients[0], emails, start, end)

    return freebusy


def _graph_client(config: Config, username: str, tokens: dict[str, TokenProvider]) -> GraphClient:
    ms = config.microsoft
    return GraphClient(mailbox=username, tokens=tokens["graph"], base_url=ms.graph_url,
                       ca_file=str(config.resolve(ms.ca_file)) if ms.ca_file else None)


def _tokens_for(tokens: dict[str, TokenProvider], auth: str, username: str | None) -> TokenProvider | None:
    if auth == "password":
        return None
    return tokens.get(auth) or tokens[f"{auth}:{(username or '').lower()}"]


def build_source(config: Config, tokens: dict[str, TokenProvider] | None = None) -> MailboxSource:
    """The mailbox named by ``[mailbox]``. Reads the password from its environment variable or file, or
    logs in with a token from ``tokens`` (default: :func:`build_tokens`)."""
    mb = config.mailbox
    if mb.backend == "maildir":
        return MaildirSource(config.resolve(mb.path), name=f"maildir:{mb.path}")
    if mb.backend == "ews":
        return EwsSource(name=f"ews:{config.ews.mailbox or config.support.address}/{mb.folder}",
                         connection=_ews_connection(config), folder="inbox" if mb.folder == "INBOX" else mb.folder,
                         processed_folder=mb.processed_folder, quarantine_folder=mb.quarantine_folder,
                         page_size=min(mb.batch_size, 512))
    if mb.backend == "graph":
        return GraphSource(
            name=f"graph:{mb.username}/{mb.folder}",
            client=_graph_client(config, mb.username, tokens if tokens is not None else build_tokens(config)),
            folder="inbox" if mb.folder == "INBOX" else mb.folder,
            processed_folder=mb.processed_folder, quarantine_folder=mb.quarantine_folder,
            page_size=min(mb.batch_size, 1000),
        )
    if mb.backend == "imap":
        from mailer import ImapSource

        oauth = mb.auth != "password"
        return ImapSource(
            name=f"imap:{mb.username}@{mb.host}/{mb.folder}",
            host=mb.host,
            port=mb.port or default_port("imap", mb.security),
            security=mb.security,
            username=mb.username,
            password=None if oauth else read_secret(config, MAILBOX_PASSWORD),
            tokens=_tokens_for(tokens if tokens is not None else build_tokens(config), mb.auth, mb.username),
            folder=mb.folder,
            processed_folder=mb.processed_folder,
            quarantine_folder=mb.quarantine_folder,
            use_idle=mb.idle,
            batch_size=mb.batch_size,
        )
    raise ValueError(f"no mailbox backend {mb.backend!r}")  # config validation prevents this


def build_sender(config: Config, tokens: dict[str, TokenProvider] | None = None) -> MailSender:
    """The outgoing backend named by ``[outgoing]``. Reads the password from its environment
    variable or file, or logs in with a token from ``tokens`` (default: :func:`build_tokens`)."""
    out = config.outgoing
    if out.backend == "directory":
        return DirectorySender(config.resolve(out.path))
    if out.backend == "ews":
        return EwsSender(_ews_connection(config))
    if out.backend == "graph":
        return GraphSender(_graph_client(config, out.username, tokens if tokens is not None else build_tokens(config)))
    if out.backend == "smtp":
        oauth = out.auth != "password"
        return SmtpSender(
            out.host, out.port or default_port("smtp", out.security), security=out.security,
            username=out.username, password=None if oauth else read_secret(config, OUTGOING_PASSWORD),
            tokens=_tokens_for(tokens if tokens is not None else build_tokens(config), out.auth, out.username),
        )
    raise ValueError(f"no outgoing backend {out.backend!r}")  # config validation prevents this
