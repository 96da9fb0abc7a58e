"""The sections of the configuration file, as frozen dataclasses (one per TOML table).

The loader builds these from the annotations: ``str``, ``int``, ``bool``, ``datetime.date``,
``tuple[str, ...]``, ``tuple[date, ...]``, ``dict[str, str]`` and ``tuple[Section, ...]`` (an
array of tables) are understood. Defaults here are the documented defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

PRIORITIES = ("P0", "P1", "P2", "P3")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    #: Or a file holding the password (relative: $CREDENTIALS_DIRECTORY first, then the config's folder).
    password_file: str | None = None
    #: "password", "oauth2-microsoft" or "oauth2-google" (app-only tokens; username is the mailbox).
    auth: str = "password"
    folder: str = "INBOX"
    processed_folder: str | None = None
    quarantine_folder: str | None = None
    idle: bool = True
    poll_seconds: int = 60
    batch_size: int = 200
    #: A batch is also bounded by bytes (where the mailbox tells sizes before a fetch: Maildir, IMAP).
    batch_bytes: int = 50 * 2**20
    #: A larger message is stored unread and quarantined with the reason; its sender is told once a day.
    max_message_bytes: int = 25 * 2**20
    #: Several workers on one database: one holds this mailbox's intake, renewing a lease of this
    #: many seconds; another takes it over when the holder has not renewed it for that long.
    lease_seconds: int = 20
    #: Mail that arrived before this ("2026-11-01" or "2026-11-01T09:00:00+00:00") is history: stored
    #: and classified, never answered. Default: the moment whiteglove first reads the mailbox.
    start_at: str | None = None


@dataclass(frozen=True)
class OutgoingConfig:
    backend: str = "directory"
    path: str | None = "outbox"
    host: str | None = None
    port: int | None = None
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    #: Or a file holding the password (relative: $CREDENTIALS_DIRECTORY first, then the config's folder).
    password_file: str | None = None
    #: "password", "oauth2-microsoft" or "oauth2-google" (app-only tokens; username is the mailbox).
    auth: str = "password"
    #: Attempts before a message is marked failed, and the first retry delay (doubling, jittered).
    max_attempts: int = 8
    retry_seconds: int = 60


@dataclass(frozen=True)
class MicrosoftConfig:
    """An Entra ID app registration with application permissions (IMAP.AccessAsApp, SMTP.SendAsApp)."""

    tenant_id: str | None = None
    client_id: str | None = None
    #: The client secret's environment variable or file; or, preferred, a certificate (private key file + thumbprint).
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    certificate_file: str | None = None
    certificate_thumbprint: str | None = None
    #: Another cloud's (or a test's) login endpoint, used as given; then also the CA bundle to trust.
    authority: str = "https://login.microsoftonline.com"
    ca_file: str | None = None
    #: Microsoft Graph's endpoint (another cloud's, or a test's).
    graph_url: str = "https://graph.microsoft.com/v1.0"


@dataclass(frozen=True)
class EwsConfig:
    """An on-premises Exchange Server reached through Exchange Web Services."""

    #: The EWS endpoint, e.g. "https://mail.contoso.com/EWS/Exchange.asmx"; or autodiscover = true.
    url: str | None = None
    autodiscover: bool = False
    #: "ntlm" (Exchange's default) or "basic".
    auth: str = "ntlm"
    #: The service account ("CONTOSO\\svc-whiteglove" or its UPN) and the variable (or file) holding its password.
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    #: The support mailbox (default: [support] address); the account needs full access to it.
    mailbox: str | None = None
    #: A CA bundle for a server whose certificate a private CA signed.
    ca_file: str | None = None


@dataclass(frozen=True)
class GoogleConfig:
    """A Google Cloud service account with domain-wide delegation for https://mail.google.com/."""

    #: The service account's JSON key file: its path, or the environment variable holding its path.
    service_account_file: str | None = None
    service_account_file_env: str | None = None
    #: A test's CA bundle for a token_uri on loopback; Google's own needs none.
    ca_file: str | None = None


@dataclass(frozen=True)
class SupportConfig:
    address: str = ""
    name: str = "Support"
    #: Acknowledge a new ticket to the customer (never to automated mail).
    acknowledge: bool = True
    #: At most this many acknowledgements to one sender in an hour.
    acknowledgements_per_hour: int = 3
    #: At most this many mails in answer to one thread (ticket) in an hour: acknowledgements,
    #: relays, updates and notifications caused by inbound mail; past it a loop is broken. 0: no limit.
    max_replies_per_thread_per_hour: int = 10
    #: At most this many such mails to one outside correspondent (not an engineer or manager) in an hour. 0: no limit.
    max_mails_per_sender_per_hour: int = 20
    #: When the mailbox or the outgoing server has failed this long, the managers get a mail.
    connection_alert_minutes: int = 30
    #: Who is paged (besides the engineer) about a customer's P0/P1 arriving outside working hours.
    oncall: str | None = None
    #: Files passed on with a relayed message (to the engineer, or the engineer's answer to the
    #: customer); the rest are named in the text, not attached.
    max_relayed_attachments: int = 20


@dataclass(frozen=True)
class SecurityConfig:
    #: Senders whose contract-closed notices are believed (the CRM's notification address, sales ops).
    trusted_notice_senders: tuple[str, ...] = ()
    #: The ``authserv-id`` of our own receiving server, whose Authentication-Results header is believed.
    authserv_id: str | None = None
    #: The mailbox is in Microsoft Exchange (Online, or a server whose transport stamps it): believe
    #: Exchange's own ``X-MS-Exchange-Organization-AuthAs`` and, for mail from outside, Exchange
    #: Online's ``Authentication-Results`` (which carries no authserv-id). See README.
    exchange_authentication: bool = False
    #: When true, notices and engineers' commands count only with dkim, spf or dmarc ``pass`` from it.
    #: Unset (the default): true when ``authserv_id`` or ``exchange_authentication`` is set. False only
    #: by the operator's choice.
    require_authentication: bool | None = None

    @property
    def checks_authentication(self) -> bool:
        """Whether notices and engineers' commands need our server's pass (see README)."""
        if self.require_authentication is None:
            return self.authserv_id is not None or self.exchange_authentication
        return self.require_authentication

    def unchecked_warning(self) -> str | None:
        """One line for the operator when engineers' commands and notices are believed on their
        From address alone (anyone can write one); None when our server's word is required."""
        if self.checks_authentication:
            return None
        if self.authserv_id is None and not self.exchange_authentication:
            why = "security.authserv_id is not set"
            fix = ('set authserv_id = "mx.example.com" (the first word of your receiving server\'s Authentication-Results), '
                   "or exchange_authentication = true for a mailbox in Microsoft Exchange")
        else:
            why = "security.require_authentication = false"
            fix = "remove require_authentication (it follows authserv_id and exchange_authentication)"
        return (f"{why}: engineers' commands and contract-closed notices are believed on their From address alone, "
                f"which anyone can forge (fix: {fix})")


@dataclass(frozen=True)
class PriorityRule:
    priority: str = "P1"
    #: Words or phrases (case-insensitive, whole words) in the subject or the new text of a message.
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrioritiesConfig:
    default: str = "P3"
    #: A go-live intent's priority when the go-live is at most ``golive_near_days`` away (or past);
    #: one step lower up to ``golive_soon_days``; later, or with no single day, ``default``. The
    #: SLA sweep raises it as the day nears: urgency follows the cut-over, not the mail's tone.
    golive_intent: str = "P1"
    golive_near_days: int = 5
    golive_soon_days: int = 15
    contract_closed: str = "P2"
    #: An account's tier sets its default, e.g. ``{ enterprise = "P2" }``.
    tier_default: dict[str, str] = field(default_factory=dict)
    #: Checked in order; a message gets the highest priority of the rules it matches.
    rules: tuple[PriorityRule, ...] = ()


@dataclass(frozen=True)
class SlaTargetConfig:
    priority: str = ""
    #: Durations such as "2h", "30min", "1h30min"; unset: no target for that clock.
    first_response: str | None = None
    resolution: str | None = None
    next_response: str | None = None
    #: "24x7", or the name of a [[calendars]] entry whose business time counts.
    clock: str = "24x7"


@dataclass(frozen=True)
class SlaPolicyConfig:
    name: str = ""
    targets: tuple[SlaTargetConfig, ...] = ()


@dataclass(frozen=True)
class SlaConfig:
    #: The policy of a ticket whose engagement's playbook and account tier name none.
    default_policy: str | None = None
    #: A policy per account tier, e.g. { enterprise = "enterprise" } (a playbook's sla_policy wins).
    tier_policy: dict[str, str] = field(default_factory=dict)
    #: The policy of go-live intents (they are plans, not incidents). Unset: the built-in
    #: ``go-live`` policy, a first response within 4/8/16 business hours for P1/P2/P3 on the
    #: default calendar, and no resolution target.
    golive_policy: str | None = None
    #: Percentages of a target at which the assigned engineer is warned.
    warn_at: tuple[int, ...] = (50, 80)
    #: A P0/P1 breach still open this long after the breach escalates along escalation_path, one step each time.
    escalate_after_minutes: int = 60
    escalation_path: tuple[str, ...] = ()
    #: When managers get the weekly summary, in each manager's time zone.
    summary_weekday: str = "mon"
    summary_time: str = "08:00"
    policies: tuple[SlaPolicyConfig, ...] = ()


@dataclass(frozen=True)
class ManagerConfig:
    email: str = ""
    name: str = ""
    timezone: str = "UTC"


@dataclass(frozen=True)
class CalendarConfig:
    """A named business calendar: when a team works, in its own time zone."""

    name: str = ""
    timezone: str = "UTC"
    #: Working hours per weekday: ``{ mon = "08:00-17:00", fri = "08:00-12:00,13:00-16:00" }``;
    #: a day left out is closed. Default: 08:00-17:00 Monday to Friday.
    hours: dict[str, str] = field(default_factory=lambda: dict.fromkeys(WEEKDAYS[:5], "08:00-17:00"))
    #: Public holidays from the ``holidays`` package: an ISO country code and optional subdivision.
    holidays: str | None = None
    subdivision: str | None = None
    #: Extra local dates closed (company days off) and open (a holiday worked).
    closed: tuple[date, ...] = ()
    open: tuple[date, ...] = ()


@dataclass(frozen=True)
class EngineerConfig:
    email: str = ""
    name: str = ""
    timezone: str = "UTC"
    #: The business calendar the engineer works on (a ``[[calendars]]`` name); default: the first one.
    calendar: str | None = None
    manager: str | None = None
    #: The project manager who joins the engineer's onboarding meetings (playbook role project_manager).
    project_manager: str | None = None
    #: Local dates the engineer is away: never assigned new tickets on them.
    out_of_office: tuple[date, ...] = ()
    skills: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OnboardingConfig:
    #: The folder of playbook files; default: the playbooks shipped with whiteglove.
    playbooks: str | None = None
    #: Who organises the meetings: "support" (the support address, which whiteglove reads, so every
    #: answer comes back) or "engineer" (answers go to the engineer, who should copy support).
    organizer: str = "support"
    #: Free time kept between an engineer's meetings.
    buffer_minutes: int = 15
    #: The part of the customer's day (their local time) a meeting may take.
    customer_hours: str = "08:00-18:00"
    #: The least notice a new meeting is planned with.
    notice_hours: int = 24
    #: Where engineers' busy times come from besides whiteglove's own meetings: "none" or "graph"
    #: (their Microsoft 365 calendars, read through the [microsoft] app, which needs Calendars.Read).
    freebusy: str = "none"
    #: The playbook (by name) of an engagement whose package no playbook's tiers match; default:
    #: none, and the engineer is asked to choose one.
    default_playbook: str | None = None
    #: At most this many meetings with the customer on one of their days, per engagement (a
    #: playbook's own ``max_customer_meetings_per_day`` wins).
    max_customer_meetings_per_day: int = 2
    #: Owners of a task not done are reminded this many business days (on the engagement's calendar)
    #: before it is due; 0: no reminders.
    task_reminder_days: int = 2


@dataclass(frozen=True)
class TemplatesConfig:
    #: A folder of template overrides, named like the shipped templates (``acknowledgement.txt``,
    #: ``_layout.html``, …) and looked in first; default: none, the shipped templates only.
    path: str | None = None


@dataclass(frozen=True)
class ContactConfig:
    email: str = ""
    name: str = ""
    #: e.g. "exec", "it", "finance", "project manager": playbooks invite contacts by role.
    role: str = ""


@dataclass(frozen=True)
class AccountConfig:
    name: str = ""
    domains: tuple[str, ...] = ()
    engineer: str | None = None
    tier: str | None = None
    timezone: str = "UTC"
    #: Whose public holidays the customer keeps (ISO 3166 code, "GB"); default: the time zone's country.
    country: str | None = None
    contacts: tuple[ContactConfig, ...] = ()


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    outgoing: OutgoingConfig = field(default_factory=OutgoingConfig)
    microsoft: MicrosoftConfig = field(default_factory=MicrosoftConfig)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    ews: EwsConfig = field(default_factory=EwsConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    priorities: PrioritiesConfig = field(default_factory=PrioritiesConfig)
    onboarding: OnboardingConfig = field(default_factory=OnboardingConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    calendars: tuple[CalendarConfig, ...] = ()
    managers: tuple[ManagerConfig, ...] = ()
    engineers: tuple[EngineerConfig, ...] = ()
    accounts: tuple[AccountConfig, ...] = ()
    #: The directory relative paths in the file are resolved against (the file's own).
    base_dir: Path = Path(".")

    def resolve(self, path: str) -> Path:
        """Return ``path`` resolved against the configuration file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def start_mark(self) -> datetime | None:
        """``[mailbox] start_at`` as an aware moment (a date means its midnight, UTC), or None."""
        if not self.mailbox.start_at:
            return None
        moment = datetime.fromisoformat(self.mailbox.start_at)
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment

    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config's directory."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
            return prefix + str(self.resolve(url[len(prefix):]))
        return url

    def database_file(self) -> Path | None:
        """The SQLite database's file (resolved as :meth:`database_url`), or None for PostgreSQL or ``:memory:``."""
        url = self.database_url()
        if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
            return None
        return Path(url[len("sqlite:///"):])

    def engineer(self, email: str) -> EngineerConfig | None:
        """The engineer with address ``email`` (case-insensitive), or None."""
        email = email.lower()
        return next((e for e in self.engineers if e.email.lower() == email), None)

    def calendar(self, name: str | None) -> CalendarConfig:
        """The calendar called ``name``; the first declared for None; the built-in 8-5 weekdays in UTC if none."""
        if name is None:
            return self.calendars[0] if self.calendars else CalendarConfig(name="default")
        return next(c for c in self.calendars if c.name == name)

    def manager(self, email: str) -> ManagerConfig | None:
        """The manager with address ``email`` (case-insensitive), or None."""
        email = email.lower()
        return next((m for m in self.managers if m.email.lower() == email), None)

    def person(self, email: str) -> EngineerConfig | ManagerConfig | None:
        """The engineer or else the manager with address ``email`` (case-insensitive), or None."""
        return self.engineer(email) or self.manager(email)

    def timezone_of(self, email: str) -> str | None:
        """The zone a configured person reads times in: their ``timezone``; for an engineer who
        left it at UTC, their calendar's. None for anyone not configured."""
        person = self.person(email)
        if person is None:
            return None
        if person.timezone == "UTC" and isinstance(person, EngineerConfig) and self.calendars:
            return self.calendar(person.calendar).timezone
        return person.timezone
