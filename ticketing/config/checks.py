"""The rules an assembled configuration must satisfy, each broken rule a :class:`Problem`."""
from __future__ import annotations

import re
import zoneinfo

from ticketing.config.connections import (
    ews_problems,
    freebusy_problems,
    oauth2_problems,
    server_problems,
)
from ticketing.config.durations import DURATION_FORMS, has_days, parse_duration
from ticketing.config.secrets import both_forms_given
from ticketing.config.sections import PRIORITIES, WEEKDAYS, Config
from ticketing.config.suggest import did_you_mean, nearest_timezones
from ticketing.config.values import is_email
from ticketing.errors import Problem

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")


def validate(config: Config) -> list[Problem]:
    """Return the problems of an assembled configuration (empty when it is usable)."""
    problems: list[Problem] = []
    problems += _database(config)
    problems += freebusy_problems(config)
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
    problems += both_forms_given(config)
    return problems


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
                    problems.append(Problem(f"{at}.{key}", f"not a duration: {value!r}", f"write {DURATION_FORMS}"))
                elif value is not None and has_days(value) and target.clock != "24x7":
                    problems.append(_business_days(f"{at}.{key}", value, config, target.clock))
            if target.clock != "24x7" and target.clock not in calendars:
                problems.append(Problem(f"{at}.clock", f"no calendar named {target.clock!r}", 'use "24x7" or a [[calendars]] name'))
    named = [("default_policy", sla.default_policy), ("golive_policy", sla.golive_policy)]
    for key, name in named + [(f"tier_policy.{t}", n) for t, n in sla.tier_policy.items()]:
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


def uncovered_priorities(config: Config) -> list[Problem]:
    """A policy without a target for a priority leaves that priority's tickets with no SLA clock at all.

    Not part of :func:`validate`, as the worker runs without them: ``config check`` reports it."""
    problems = []
    for index, policy in enumerate(config.sla.policies):
        covered = {t.priority for t in policy.targets if t.first_response or t.resolution or t.next_response}
        missing = [p for p in PRIORITIES if p not in covered]
        if missing:
            problems.append(Problem(f"sla.policies[{index}].targets", f"policy {policy.name!r} has no target for {', '.join(missing)}",
                                    f'add e.g. {{ priority = "{missing[0]}", first_response = "8h", resolution = "3d", clock = "24x7" }}'))
    return problems


def _business_days(where: str, value: str, config: Config, clock: str) -> Problem:
    """Days on a business calendar: 24 working hours each would be nearly three working days."""
    fix = 'write the working hours it means, or use clock = "24x7"'
    calendar = next((c for c in config.calendars if c.name == clock), None)
    day_lengths = {sum(end - start for start, end in parse_spans(spans) or ()) for spans in calendar.hours.values()} \
        if calendar else set()
    days, rest = divmod(parse_duration(value), 24 * 60)
    if not rest and len(day_lengths) == 1 and next(iter(day_lengths)) % 60 == 0:
        hours = next(iter(day_lengths)) // 60
        fix = f'write "{days * hours}h" for {days} working day(s) of {hours} h on {clock}, or use clock = "24x7"'
    return Problem(where, f"{value!r} counts days of 24 hours, but clock {clock!r} counts only working hours", fix)


def _onboarding(config: Config) -> list[Problem]:
    ob = config.onboarding
    problems: list[Problem] = []
    if ob.organizer not in ("support", "engineer"):
        problems.append(Problem("onboarding.organizer", f"unknown organizer {ob.organizer!r}", 'use "support" or "engineer"'))
    if not 0 <= ob.buffer_minutes <= 240:
        problems.append(Problem("onboarding.buffer_minutes", "must be between 0 and 240", "set buffer_minutes = 15"))
    if not 0 <= ob.notice_hours <= 24 * 14:
        problems.append(Problem("onboarding.notice_hours", "must be between 0 and 336", "set notice_hours = 24"))
    if ob.max_customer_meetings_per_day < 1:
        problems.append(Problem("onboarding.max_customer_meetings_per_day", "must be at least 1",
                                "set max_customer_meetings_per_day = 2"))
    if not 0 <= ob.task_reminder_days <= 20:
        problems.append(Problem("onboarding.task_reminder_days", "must be between 0 and 20 business days",
                                "set task_reminder_days = 2, or 0 for no reminders"))
    spans = parse_spans(ob.customer_hours)
    if spans is None or len(spans) != 1:
        problems.append(Problem("onboarding.customer_hours", f"not one range of local times: {ob.customer_hours!r}",
                                'write e.g. customer_hours = "08:00-18:00"'))
    if ob.playbooks is not None and not config.resolve(ob.playbooks).is_dir():
        problems.append(Problem("onboarding.playbooks", f"no folder at {config.resolve(ob.playbooks)}",
                                "create it or remove the key to use the shipped playbooks"))
    return problems


def _database(config: Config) -> list[Problem]:
    if config.database.url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return []
    return [Problem("database.url", f"unsupported URL {config.database.url!r}", 'use "sqlite:///whiteglove.db" or "postgresql://user@host/db"')]


def _mailbox(config: Config) -> list[Problem]:
    mb = config.mailbox
    problems: list[Problem] = []
    if mb.backend == "ews":
        problems += ews_problems(config)
    elif mb.backend == "maildir":
        if not mb.path:
            problems.append(Problem("mailbox.path", "required for the maildir backend", 'set path = "examples/inbox" (a folder with new/ and cur/)'))
        elif not config.resolve(mb.path).is_dir():
            problems.append(Problem("mailbox.path", f"no Maildir folder at {config.resolve(mb.path)}", "create it or correct the path (relative paths start at the config file's folder)"))
    elif mb.backend == "graph":
        problems += oauth2_problems(config, "mailbox", "oauth2-microsoft", mb.username)
    elif mb.backend == "imap":
        problems += server_problems("mailbox", mb.host, mb.security, mb.username, mb.password_env, mb.auth,
                                    mb.password_file)
        problems += oauth2_problems(config, "mailbox", mb.auth, mb.username)
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
    if not 5 <= mb.lease_seconds <= 3600:
        problems.append(Problem("mailbox.lease_seconds", "must be between 5 and 3600", "set lease_seconds = 20"))
    if mb.batch_bytes < 2**20:
        problems.append(Problem("mailbox.batch_bytes", "must be at least 1 MiB (1048576)", "set batch_bytes = 52428800"))
    if mb.max_message_bytes < 2**20:
        problems.append(Problem("mailbox.max_message_bytes", "must be at least 1 MiB (1048576)",
                                "set max_message_bytes = 26214400"))
    return problems


def _outgoing(config: Config) -> list[Problem]:
    out = config.outgoing
    problems: list[Problem] = []
    if out.backend == "ews":
        problems += [p for p in ews_problems(config) if config.mailbox.backend != "ews"]  # said once
    elif out.backend == "directory":
        if not out.path:
            problems.append(Problem("outgoing.path", "required for the directory backend", 'set path = "outbox"'))
    elif out.backend == "graph":
        problems += oauth2_problems(config, "outgoing", "oauth2-microsoft", out.username)
    elif out.backend == "smtp":
        problems += server_problems("outgoing", out.host, out.security, out.username, out.password_env, out.auth,
                                    out.password_file)
        problems += oauth2_problems(config, "outgoing", out.auth, out.username)
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
    if config.support.max_relayed_attachments < 0:
        problems.append(Problem("support.max_relayed_attachments", "must not be negative", "set max_relayed_attachments = 20"))
    if config.support.acknowledgements_per_hour < 0:
        problems.append(Problem("support.acknowledgements_per_hour", "must not be negative", "set acknowledgements_per_hour = 3"))
    for key, default in (("max_replies_per_thread_per_hour", 10), ("max_mails_per_sender_per_hour", 20)):
        if getattr(config.support, key) < 0:
            problems.append(Problem(f"support.{key}", "must not be negative (0: no limit)", f"set {key} = {default}"))
    if config.support.connection_alert_minutes < 1:
        problems.append(Problem("support.connection_alert_minutes", "must be at least 1", "set connection_alert_minutes = 30"))
    if config.support.oncall is not None and not is_email(config.support.oncall):
        problems.append(Problem("support.oncall", f"not an email address: {config.support.oncall!r}", 'set oncall = "noc@example.com" or leave it out'))
    for index, sender in enumerate(config.security.trusted_notice_senders):
        if not is_email(sender):
            problems.append(Problem(f"security.trusted_notice_senders[{index}]", f"not an email address: {sender!r}", 'write e.g. "crm-notifications@example.com"'))
    if config.security.require_authentication and not (config.security.authserv_id or config.security.exchange_authentication):
        problems.append(Problem("security.authserv_id", "require_authentication needs the authserv-id of your receiving server", 'set authserv_id = "mx.example.com" (the first word of its Authentication-Results headers), or exchange_authentication = true for a mailbox in Microsoft Exchange'))
    if config.security.authserv_id and config.security.exchange_authentication:
        problems.append(Problem("security.exchange_authentication", "set together with authserv_id: whiteglove believes one receiving server", "keep authserv_id where a border server of yours stamps the mail, else exchange_authentication = true"))
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
        close = nearest_timezones(name)
        fix = did_you_mean(close) if close else 'use an IANA name such as "America/Los_Angeles" or "Europe/Berlin"'
        return [Problem(where, f"unknown time zone {name!r}", fix)]
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
        if account.country is not None:
            problems += [Problem(f"{where}.country", p.message, p.fix) for p in _holidays(where, account.country, None)]
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
    if not 0 <= pr.golive_near_days <= pr.golive_soon_days:
        problems.append(Problem("priorities.golive_near_days", f"{pr.golive_near_days} days, with golive_soon_days "
                                f"{pr.golive_soon_days}: near must be 0 or more and at most soon",
                                "write e.g. golive_near_days = 5 and golive_soon_days = 15"))
    for tier, priority in pr.tier_default.items():
        if priority not in PRIORITIES:
            problems.append(Problem(f"priorities.tier_default.{tier}", f"unknown priority {priority!r}", fix))
    for index, rule in enumerate(pr.rules):
        if rule.priority not in PRIORITIES:
            problems.append(Problem(f"priorities.rules[{index}].priority", f"unknown priority {rule.priority!r}", fix))
        if not rule.keywords or any(not k.strip() for k in rule.keywords):
            problems.append(Problem(f"priorities.rules[{index}].keywords", "a rule needs at least one non-empty keyword", 'write e.g. keywords = ["outage", "down"]'))
    return problems
