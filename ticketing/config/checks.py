"""The rules an assembled configuration must satisfy, each broken rule a :class:`Problem`."""
from __future__ import annotations

import re
import zoneinfo

from mailer import is_loopback
from ticketing.config.sections import PRIORITIES, WEEKDAYS, Config
from ticketing.errors import Problem

SECURITY_MODES = ("tls", "starttls", "none")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\\]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z0-9-]{2,63}$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")


def validate(config: Config) -> list[Problem]:
    """Return the problems of an assembled configuration (empty when it is usable)."""
    problems: list[Problem] = []
    problems += _database(config)
    problems += _freebusy(config)
    problems += _mailbox(config)
    problems += _outgoing(config)
    problems += _support(config)
    problems += _calendars(config)
    problems += _people(config)
    problems += _accounts(config)
    problems += _priorities(config)
    problems += _onboarding(config)
    problems += _sla(config)
    if config.templates.path is not None and not config.resolve(config.templates.path).is_dir():
        problems.append(Problem("templates.path", f"no folder at {config.resolve(config.templates.path)}",
                                "create it or remove the key to use the shipped templates"))
    return problems


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*$")


def parse_duration(text: str) -> int | None:
    """Minutes in "2h", "30min", "1h30min"; None when malformed or zero."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()):
        return None
    minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    return minutes or None


def _sla(config: Config) -> list[Problem]:
    sla = config.sla
    problems: list[Problem] = []
    calendars = {c.name for c in config.calendars}
    names: set[str] = set()
    for index, policy in enumerate(sla.policies):
        where = f"sla.policies[{index}]"
        problems += _unique_name(where, policy.name, names, "a policy", "enterprise")
        seen: set[str] = set()
        for number, target in enumerate(policy.targets):
            at = f"{where}.targets[{number}]"
            if target.priority not in PRIORITIES:
                problems.append(Problem(f"{at}.priority", f"unknown priority {target.priority!r}", f"use one of {', '.join(PRIORITIES)}"))
            elif target.priority in seen:
                problems.append(Problem(f"{at}.priority", f"{target.priority} has two targets", "keep one per priority"))
            seen.add(target.priority)
            for key in ("first_response", "resolution", "next_response"):
                value = getattr(target, key)
                if value is not None and parse_duration(value) is None:
                    problems.append(Problem(f"{at}.{key}", f"not a duration: {value!r}", 'write e.g. "2h", "30min" or "1h30min"'))
            if target.clock != "24x7" and target.clock not in calendars:
                problems.append(Problem(f"{at}.clock", f"no calendar named {target.clock!r}", 'use "24x7" or a [[calendars]] name'))
    for key, name in [("default_policy", sla.default_policy)] + [(f"tier_policy.{t}", n) for t, n in sla.tier_policy.items()]:
        if name is not None and name not in names:
            problems.append(Problem(f"sla.{key}", f"no policy named {name!r}", "declare it under [[sla.policies]]"))
    for value in sla.warn_at:
        if not 1 <= value <= 99:
            problems.append(Problem("sla.warn_at", f"{value} is not a percentage between 1 and 99", "write e.g. warn_at = [50, 80]"))
    if sla.escalate_after_minutes < 1:
        problems.append(Problem("sla.escalate_after_minutes", "must be at least 1", "set escalate_after_minutes = 60"))
    for index, address in enumerate(sla.escalation_path):
        if not is_email(address):
            problems.append(Problem(f"sla.escalation_path[{index}]", f"not an email address: {address!r}", 'write e.g. "cto@example.com"'))
    if sla.summary_weekday not in WEEKDAYS:
        problems.append(Problem("sla.summary_weekday", f"unknown day {sla.summary_weekday!r}", f"use {', '.join(WEEKDAYS)}"))
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", sla.summary_time):
        problems.append(Problem("sla.summary_time", f"not a time: {sla.summary_time!r}", 'write e.g. summary_time = "08:00"'))
    return problems


def _onboarding(config: Config) -> list[Problem]:
    ob = config.onboarding
    problems: list[Problem] = []
    if ob.organizer not in ("support", "engineer"):
        problems.append(Problem("onboarding.organizer", f"unknown organizer {ob.organizer!r}", 'use "support" or "engineer"'))
    if not 0 <= ob.buffer_minutes <= 240:
        problems.append(Problem("onboarding.buffer_minutes", "must be between 0 and 240", "set buffer_minutes = 15"))
    if not 0 <= ob.notice_hours <= 24 * 14:
        problems.append(Problem("onboarding.notice_hours", "must be between 0 and 336", "set notice_hours = 24"))
    spans = parse_spans(ob.customer_hours)
    if spans is None or len(spans) != 1:
        problems.append(Problem("onboarding.customer_hours", f"not one range of local times: {ob.customer_hours!r}",
                                'write e.g. customer_hours = "08:00-18:00"'))
    if ob.playbooks is not None and not config.resolve(ob.playbooks).is_dir():
        problems.append(Problem("onboarding.playbooks", f"no folder at {config.resolve(ob.playbooks)}",
                                "create it or remove the key to use the shipped playbooks"))
    return problems


def is_email(value: str | None) -> bool:
    return bool(value) and _EMAIL.match(value) is not None


def _database(config: Config) -> list[Problem]:
    if config.database.url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return []
    return [Problem("database.url", f"unsupported URL {config.database.url!r}", 'use "sqlite:///whiteglove.db" or "postgresql://user@host/db"')]


def _mailbox(config: Config) -> list[Problem]:
    mb = config.mailbox
    problems: list[Problem] = []
    if mb.backend == "ews":
        problems += _ews(config)
    elif mb.backend == "maildir":
        if not mb.path:
            problems.append(Problem("mailbox.path", "required for the maildir backend", 'set path = "examples/inbox" (a folder with new/ and cur/)'))
        elif not config.resolve(mb.path).is_dir():
            problems.append(Problem("mailbox.path", f"no Maildir folder at {config.resolve(mb.path)}", "create it or correct the path (relative paths start at the config file's folder)"))
    elif mb.backend == "graph":
        problems += _oauth2(config, "mailbox", "oauth2-microsoft", mb.username)
    elif mb.backend == "imap":
        problems += _server("mailbox", mb.host, mb.security, mb.username, mb.password_env, mb.auth)
        problems += _oauth2(config, "mailbox", mb.auth, mb.username)
    else:
        problems.append(Problem("mailbox.backend", f"unknown backend {mb.backend!r}", 'use "maildir", "imap", "graph" or "ews"'))
    if mb.start_at:
        try:
            config.start_mark()
        except ValueError:
            problems.append(Problem("mailbox.start_at", f"not a date or a moment: {mb.start_at!r}",
                                    'write start_at = "2026-11-01" or "2026-11-01T09:00:00+00:00"'))
    if mb.poll_seconds < 1:
        problems.append(Problem("mailbox.poll_seconds", "must be at least 1", "set poll_seconds = 60"))
    if not 1 <= mb.batch_size <= 5000:
        problems.append(Problem("mailbox.batch_size", "must be between 1 and 5000", "set batch_size = 200"))
    return problems


def _outgoing(config: Config) -> list[Problem]:
    out = config.outgoing
    problems: list[Problem] = []
    if out.backend == "ews":
        problems += [p for p in _ews(config) if config.mailbox.backend != "ews"]  # said once
    elif out.backend == "directory":
        if not out.path:
            problems.append(Problem("outgoing.path", "required for the directory backend", 'set path = "outbox"'))
    elif out.backend == "graph":
        problems += _oauth2(config, "outgoing", "oauth2-microsoft", out.username)
    elif out.backend == "smtp":
        problems += _server("outgoing", out.host, out.security, out.username, out.password_env, out.auth)
        problems += _oauth2(config, "outgoing", out.auth, out.username)
    else:
        problems.append(Problem("outgoing.backend", f"unknown backend {out.backend!r}", 'use "directory", "smtp", "graph" or "ews"'))
    if not 1 <= out.max_attempts <= 100:
        problems.append(Problem("outgoing.max_attempts", "must be between 1 and 100", "set max_attempts = 8"))
    if out.retry_seconds < 1:
        problems.append(Problem("outgoing.retry_seconds", "must be at least 1", "set retry_seconds = 60"))
    return problems


def _support(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    if not is_email(config.support.address):
        problems.append(Problem("support.address", f"not an email address: {config.support.address!r}", 'set address = "support@example.com"'))
    if any(c in config.support.name for c in "\r\n\"<>"):
        problems.append(Problem("support.name", "must not hold line breaks, quotes or angle brackets", 'set name = "Onboarding Support"'))
    if config.support.acknowledgements_per_hour < 0:
        problems.append(Problem("support.acknowledgements_per_hour", "must not be negative", "set acknowledgements_per_hour = 3"))
    if config.support.connection_alert_minutes < 1:
        problems.append(Problem("support.connection_alert_minutes", "must be at least 1", "set connection_alert_minutes = 30"))
    if config.support.oncall is not None and not is_email(config.support.oncall):
        problems.append(Problem("support.oncall", f"not an email address: {config.support.oncall!r}", 'set oncall = "noc@example.com" or leave it out'))
    for index, sender in enumerate(config.security.trusted_notice_senders):
        if not is_email(sender):
            problems.append(Problem(f"security.trusted_notice_senders[{index}]", f"not an email address: {sender!r}", 'write e.g. "crm-notifications@example.com"'))
    if config.security.require_authentication and not config.security.authserv_id:
        problems.append(Problem("security.authserv_id", "require_authentication needs the authserv-id of your receiving server", 'set authserv_id = "mx.example.com" (the first word of its Authentication-Results headers)'))
    return problems


def _people(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    managers = {m.email.lower() for m in config.managers}
    calendars = {c.name for c in config.calendars}
    seen: set[str] = set()
    for index, manager in enumerate(config.managers):
        where = f"managers[{index}]"
        problems += _person(where, manager.email, manager.name, manager.timezone, seen)
    for index, engineer in enumerate(config.engineers):
        where = f"engineers[{index}]"
        problems += _person(where, engineer.email, engineer.name, engineer.timezone, seen)
        if engineer.manager is not None and engineer.manager.lower() not in managers:
            problems.append(Problem(f"{where}.manager", f"{engineer.manager} is not one of [[managers]]", "add that manager under [[managers]] or correct the address"))
        if engineer.project_manager is not None and not is_email(engineer.project_manager):
            problems.append(Problem(f"{where}.project_manager", f"not an email address: {engineer.project_manager!r}",
                                    'write e.g. project_manager = "pm@example.com"'))
        if engineer.calendar is not None and engineer.calendar not in calendars:
            problems.append(Problem(f"{where}.calendar", f"no calendar named {engineer.calendar!r}", "declare it under [[calendars]] or correct the name"))
    return problems


def _calendars(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    names: set[str] = set()
    for index, calendar in enumerate(config.calendars):
        where = f"calendars[{index}]"
        problems += _unique_name(where, calendar.name, names, "a calendar", "us-pacific")
        problems += _timezone(f"{where}.timezone", calendar.timezone)
        for day, spans in calendar.hours.items():
            if day not in WEEKDAYS:
                problems.append(Problem(f"{where}.hours.{day}", f"unknown day {day!r}", f"use {', '.join(WEEKDAYS)}"))
            elif parse_spans(spans) is None:
                problems.append(Problem(f"{where}.hours.{day}", f"not ordered ranges of local times: {spans!r}", 'write e.g. mon = "08:00-12:00,13:00-17:00"'))
        if calendar.subdivision and not calendar.holidays:
            problems.append(Problem(f"{where}.subdivision", "a subdivision needs a country", 'set holidays = "US"'))
        if calendar.holidays:
            problems += _holidays(where, calendar.holidays, calendar.subdivision)
    return problems


def _holidays(where: str, country: str, subdivision: str | None) -> list[Problem]:
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        return [Problem(f"{where}.holidays", f"the holidays package knows no country {country!r}", 'use an ISO 3166 code such as "US" or "DE"')]
    if subdivision and subdivision not in supported[country]:
        return [Problem(f"{where}.subdivision", f"{country} has no subdivision {subdivision!r}", f"use one of {', '.join(supported[country][:12])}…")]
    return []


def parse_spans(text: str) -> list[tuple[int, int]] | None:
    """Return ``"08:00-12:00,13:00-17:00"`` as minute ranges ``[(480, 720), (780, 1020)]``.

    None when malformed, empty, or the ranges are not increasing and disjoint.
    """
    spans: list[tuple[int, int]] = []
    for part in text.split(","):
        match = _HOURS.match(part.strip())
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end > 24 * 60 or start >= end or (spans and start < spans[-1][1]):
            return None
        spans.append((start, end))
    return spans or None


def _person(where: str, email: str, name: str, timezone: str, seen: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not is_email(email):
        problems.append(Problem(f"{where}.email", f"not an email address: {email!r}", 'write e.g. email = "ana@example.com"'))
    elif email.lower() in seen:
        problems.append(Problem(f"{where}.email", f"{email} is declared twice", "keep one entry per person"))
    seen.add(email.lower())
    if not name.strip() or any(c in name for c in "\r\n\"<>"):
        problems.append(Problem(f"{where}.name", f"a display name is required (no quotes or angle brackets): {name!r}", 'write e.g. name = "Ana Silva"'))
    problems += _timezone(f"{where}.timezone", timezone)
    return problems


def _unique_name(where: str, name: str, seen: set[str], noun: str, example: str, fold: bool = False) -> list[Problem]:
    """``name`` of ``noun`` (e.g. "a calendar") must be given and not repeat one in ``seen`` (which it joins)."""
    key = name.lower() if fold else name
    if not name.strip():
        return [Problem(f"{where}.name", f"{noun} needs a name", f'write e.g. name = "{example}"')]
    if key in seen:
        return [Problem(f"{where}.name", f"{name!r} is declared twice", f"keep one entry per {noun.split()[-1]}")]
    seen.add(key)
    return []


def _timezone(where: str, name: str) -> list[Problem]:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [Problem(where, f"unknown time zone {name!r}", 'use an IANA name such as "America/Los_Angeles" or "Europe/Berlin"')]
    return []


def _accounts(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    engineers = {e.email.lower() for e in config.engineers}
    names: set[str] = set()
    domains: dict[str, str] = {}
    for index, account in enumerate(config.accounts):
        where = f"accounts[{index}]"
        problems += _unique_name(where, account.name, names, "an account", "Globex Corporation", fold=True)
        for domain in account.domains:
            if not _DOMAIN.match(domain.lower()):
                problems.append(Problem(f"{where}.domains", f"not a domain name: {domain!r}", 'write e.g. domains = ["globex.example"]'))
            elif domains.setdefault(domain.lower(), account.name) != account.name:
                problems.append(Problem(f"{where}.domains", f"{domain} already belongs to {domains[domain.lower()]}", "a domain can belong to one account only"))
        if account.engineer is not None and account.engineer.lower() not in engineers:
            problems.append(Problem(f"{where}.engineer", f"{account.engineer} is not one of [[engineers]]", "add the engineer under [[engineers]] or correct the address"))
        problems += _timezone(f"{where}.timezone", account.timezone)
        for number, contact in enumerate(account.contacts):
            if not is_email(contact.email):
                problems.append(Problem(f"{where}.contacts[{number}].email", f"not an email address: {contact.email!r}", 'write e.g. email = "bob@globex.example"'))
    return problems


def _priorities(config: Config) -> list[Problem]:
    pr = config.priorities
    problems: list[Problem] = []
    fix = f"use one of {', '.join(PRIORITIES)}"
    for key in ("default", "golive_intent", "contract_closed"):
        if getattr(pr, key) not in PRIORITIES:
            problems.append(Problem(f"priorities.{key}", f"unknown priority {getattr(pr, key)!r}", fix))
    for tier, priority in pr.tier_default.items():
        if priority not in PRIORITIES:
            problems.append(Problem(f"priorities.tier_default.{tier}", f"unknown priority {priority!r}", fix))
    for index, rule in enumerate(pr.rules):
        if rule.priority not in PRIORITIES:
            problems.append(Problem(f"priorities.rules[{index}].priority", f"unknown priority {rule.priority!r}", fix))
        if not rule.keywords or any(not k.strip() for k in rule.keywords):
            problems.append(Problem(f"priorities.rules[{index}].keywords", "a rule needs at least one non-empty keyword", 'write e.g. keywords = ["outage", "down"]'))
    return problems


AUTH_MODES = ("password", "oauth2-microsoft", "oauth2-google")


def _ews(config: Config) -> list[Problem]:
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
    if not ews.password_env or not _is_env_name(ews.password_env):
        problems.append(Problem("ews.password_env", "required for the ews backend",
                                'set password_env = "WHITEGLOVE_EWS_PASSWORD" and export the password in it'))
    if ews.mailbox and not is_email(ews.mailbox):
        problems.append(Problem("ews.mailbox", f"not an address: {ews.mailbox!r}", 'set mailbox = "support@contoso.com"'))
    if ews.ca_file and not config.resolve(ews.ca_file).is_file():
        problems.append(Problem("ews.ca_file", f"no file at {config.resolve(ews.ca_file)}", "a PEM bundle of the CAs to trust"))
    return problems


def _freebusy(config: Config) -> list[Problem]:
    source = config.onboarding.freebusy
    if source == "none":
        return []
    if source == "ews":
        return [] if "ews" in (config.mailbox.backend, config.outgoing.backend) else _ews(config)
    if source != "graph":
        return [Problem("onboarding.freebusy", f"unknown source {source!r}", 'use "none", "graph" or "ews"')]
    mailbox = config.mailbox.username if config.mailbox.backend in ("graph", "imap") else config.outgoing.username
    problems = _oauth2(config, "onboarding", "oauth2-microsoft", mailbox or config.support.address)
    return [p for p in problems if not p.key.startswith("onboarding.")]


def _oauth2(config: Config, section: str, auth: str, username: str | None) -> list[Problem]:
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
        if bool(ms.client_secret_env) == bool(ms.certificate_file):
            problems.append(Problem("microsoft", "give the app's client secret or its certificate, not both or neither",
                                    'set certificate_file = "app-key.pem" and certificate_thumbprint = "…" (preferred), '
                                    'or client_secret_env = "WHITEGLOVE_CLIENT_SECRET"'))
        if ms.certificate_file and not ms.certificate_thumbprint:
            problems.append(Problem("microsoft.certificate_thumbprint", "a certificate needs its thumbprint",
                                    "copy the thumbprint Entra ID shows under Certificates & secrets"))
        elif ms.certificate_file and not config.resolve(ms.certificate_file).is_file():
            problems.append(Problem("microsoft.certificate_file", f"no file at {config.resolve(ms.certificate_file)}",
                                    "the PEM file holding the certificate's private key"))
        if ms.client_secret_env and not _is_env_name(ms.client_secret_env):
            problems.append(Problem("microsoft.client_secret_env", f"not an environment variable name: {ms.client_secret_env!r}",
                                    'set client_secret_env = "WHITEGLOVE_CLIENT_SECRET"'))
        if not ms.authority.startswith("https://"):
            problems.append(Problem("microsoft.authority", "must be an https:// URL", 'leave it out for "https://login.microsoftonline.com"'))
        if ms.ca_file and not config.resolve(ms.ca_file).is_file():
            problems.append(Problem("microsoft.ca_file", f"no file at {config.resolve(ms.ca_file)}", "a PEM bundle of the CAs to trust"))
    else:
        env = config.google.service_account_file_env
        if not env or not _is_env_name(env):
            problems.append(Problem("google.service_account_file_env", f"required for auth = {auth!r}",
                                    'set service_account_file_env = "WHITEGLOVE_GOOGLE_KEY_FILE" and export the key file\'s path in it'))
    return problems


def _is_env_name(name: str) -> bool:
    return name.replace("_", "").isalnum()


def _server(section: str, host, security, username, password_env, auth: str = "password") -> list[Problem]:
    problems = []
    if not host:
        problems.append(Problem(f"{section}.host", "required for this backend", 'set host = "mail.example.com"'))
    if security not in SECURITY_MODES:
        problems.append(Problem(f"{section}.security", f"unknown mode {security!r}", 'use "tls", "starttls" or "none"'))
    elif security == "none" and username and host and not is_loopback(host):
        problems.append(Problem(f"{section}.security", f"a password sent in plain text to {host} can be read on the way", 'use "tls" or "starttls"; "none" with a login is for loopback only'))
    if password_env is not None and not password_env.replace("_", "").isalnum():
        problems.append(Problem(f"{section}.password_env", f"not an environment variable name: {password_env!r}", 'set password_env = "WHITEGLOVE_IMAP_PASSWORD"'))
    if auth == "password" and username and not password_env:
        problems.append(Problem(f"{section}.password_env", "a username needs a password", 'set password_env = "NAME_OF_ENV_VAR" and export the password in that variable'))
    if auth != "password" and password_env:
        problems.append(Problem(f"{section}.password_env", f"auth = {auth!r} logs in with tokens, not a password", "remove password_env"))
    return problems

