"""The command line's commands: each reads its arguments, does its job through the application's
parts, and hands what it found to :mod:`ticketing.app.cli.views` to print. Each returns the exit code.
"""
from __future__ import annotations

import itertools
import json
import logging
import sys
from pathlib import Path

from mailer import MailboxAuthError, MailboxConnectError, MailerError
from ticketing.app.bootstrap import (
    build_app,
    build_sender,
    build_source,
    build_store,
    build_tokens,
)
from ticketing.app.cli import views
from ticketing.config import load_config
from ticketing.core.domain import OutboxStatus
from ticketing.errors import NotFound

log = logging.getLogger("whiteglove")

EXIT_USAGE = 2
EXIT_FAILURE = 1


# -- commands -------------------------------------------------------------------------------------


def cmd_run(args) -> int:
    from pathlib import Path

    from ticketing.app.logs import release, start_banner
    from ticketing.app.worker import Worker

    config = load_config(args.config)
    if args.health_file is not None and not args.once and not args.health_file.parent.is_dir():
        print(f"whiteglove: no folder {args.health_file.parent} for the health file "
              "(fix: --health-file in an existing folder the worker may write to)", file=sys.stderr)
        return EXIT_USAGE
    # First: a missing password, database folder or outbox must fail before the database is touched.
    _preflight(args, config, machine_only=True)
    tokens = build_tokens(config)
    source = build_source(config, tokens)
    sender = build_sender(config, tokens)
    new_file = _new_database_file(config)
    app = build_app(config, rehearsal=args.dry_run)
    if args.dry_run:
        try:
            return _rehearse(app, lambda now: _dry_pass(app, source, now))
        finally:
            source.close()
            sender.close()
            app.close()
            _remove(new_file)
    worker = Worker(app.intake, source, poll_seconds=config.mailbox.poll_seconds,
                    outbox=app.outbox_sender(sender), clock=app.clock, jobs=app.jobs(), health=app.health(),
                    health_file=None if args.once else args.health_file, leases=app.leases())
    log.info("%s", start_banner(config, str(Path(args.config).resolve()), release(), source.name, worker.jobs))
    if config.security.unchecked_warning():
        log.warning("%s", config.security.unchecked_warning())
    try:
        if args.once:
            try:
                tick = worker.tick()
            finally:
                worker.leases.release()  # a running worker need not wait for this one's lease to run out
                source.close()
                sender.close()
            if isinstance(tick.error, MailerError):  # the mailbox: the one line says what to fix
                print(f"whiteglove: {tick.error}", file=sys.stderr)
                return EXIT_FAILURE
            print(f"intake: {tick.intake}")
            print(f"outbox: {tick.outbox}")
            if tick.error is not None:
                print(f"whiteglove: intake failed: {type(tick.error).__name__}: {tick.error}", file=sys.stderr)
                return EXIT_FAILURE
            if tick.intake.quarantined and not tick.intake.processed:
                print(f"whiteglove: every new message ({tick.intake.quarantined}) was quarantined: "
                      "see whiteglove quarantine list", file=sys.stderr)
                return EXIT_FAILURE
            return 0
        worker.install_signal_handlers()
        log.info("watching %s (Ctrl-C to stop)", source.name)
        try:
            worker.run_forever()
        except MailboxAuthError as exc:
            print(f"whiteglove: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except MailboxConnectError as exc:  # at start, and for good: a wrong host or certificate
            print(f"whiteglove: the mailbox: {exc} (fix: [mailbox] in {args.config}; "
                  "`whiteglove check` tries each connection)", file=sys.stderr)
            return EXIT_FAILURE
        finally:
            sender.close()
        return 0
    finally:
        app.close()


def _new_database_file(config):
    """The SQLite file ``build_app`` is about to create, or None (it exists, or it is no file)."""
    path = config.database_file()
    return None if path is None or path.exists() else path


def _remove(new_file) -> None:
    """A dry run leaves no database where there was none (nor SQLite's side files)."""
    if new_file is not None:
        for path in (new_file, Path(f"{new_file}-wal"), Path(f"{new_file}-shm"), Path(f"{new_file}-journal")):
            path.unlink(missing_ok=True)


def _dry_pass(app, source, now):
    """What one worker pass does, without acknowledging the mailbox or sending."""
    summary = app.intake.poll(source, now=now, acknowledge=False)
    for job in app.jobs():
        job.action(now)
    return summary


def _rehearse(app, work) -> int:
    """Run ``work(now)`` in a unit of work that is rolled back; print what it created and queued."""
    from ticketing.app.clock import utcnow

    store = app.store
    with store.rehearsal():
        app.prepare()  # an empty database's schema and the accounts: rolled back with the rest
        newest = store.list_tickets(status="all", limit=1)
        last_ticket, last_mail = (newest[0].id if newest else 0), store.last_outgoing_id()
        summary = work(utcnow())
        tickets = store.list_tickets(status="all", after=last_ticket)
        mails = store.outbox(after=last_mail)
    views.dry_run(summary, tickets, mails)
    return 0


def cmd_ingest(args) -> int:
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from mailer import count_messages, iter_messages

    config = load_config(args.config)
    new_file = _new_database_file(config) if args.dry_run else None
    app = build_app(config, rehearsal=args.dry_run)
    try:
        total = count_messages(args.paths)
        passed_over = []

        def skipped(path, why: str) -> None:
            passed_over.append(path)
            tqdm.write(f"whiteglove: skipped {path}: {why}", file=sys.stderr)

        def backfill(now=None):
            # Log lines go above the bar (tqdm.write), not through it.
            with tqdm(total=total, unit="msg", disable=not sys.stderr.isatty(), file=sys.stderr) as bar, \
                    logging_redirect_tqdm():
                return app.intake.ingest(iter_messages(args.paths, skipped), on_progress=bar.update,
                                         notify=args.notify)

        if args.dry_run:
            return _rehearse(app, backfill)
        summary = backfill()
        print(f"ingest: {summary}" + (f"; {len(passed_over)} file(s) skipped as not mail" if passed_over else ""))
        return 0
    finally:
        app.close()
        _remove(new_file)


def cmd_tickets(args) -> int:
    from ticketing.app.clock import utcnow

    config = load_config(args.config)
    now = utcnow()
    store = build_store(config, must_exist=True)
    filters = dict(status=args.status, assignee=args.engineer, kind=args.kind, priority=args.priority,
                   search=args.search, account=args.account, requester=args.requester, since=args.since,
                   overdue_at=now if args.overdue else None)
    try:
        if args.json and not args.limit:  # streamed a page at a time: memory stays flat at any size
            tickets = store.iter_tickets(**filters)
            first = next(tickets, None)
            if first is None and args.engineer and config.engineer(args.engineer) is None:
                return _unknown_engineer(config, args.engineer)
            views.write_json_array((dict(t.as_json(), sla=views.sla_state(t, now)[0])
                                    for t in itertools.chain([first] if first else [], tickets)), sys.stdout)
            return 0
        tickets = store.list_tickets(limit=args.limit, **filters)
    finally:
        store.close()
    if args.engineer and config.engineer(args.engineer) is None and not tickets:
        return _unknown_engineer(config, args.engineer)
    if args.json:
        views.write_json_array((dict(t.as_json(), sla=views.sla_state(t, now)[0]) for t in tickets), sys.stdout)
        return 0
    views.ticket_table(tickets, now, wide=args.wide)
    return 0


def _unknown_engineer(config, email: str) -> int:
    known = ", ".join(e.email for e in config.engineers) or "none configured"
    print(f"whiteglove: {email} is not one of the engineers ({known})", file=sys.stderr)
    return EXIT_USAGE


def cmd_ticket(args) -> int:
    from ticketing.app.bootstrap import build_desk
    from ticketing.app.clock import utcnow

    config = load_config(args.config)
    if args.action:
        return _ticket_action(config, args)
    if args.argument:
        print(f"whiteglove: what should be done with {' '.join(args.argument)!r}? (see: whiteglove ticket --help)",
              file=sys.stderr)
        return EXIT_USAGE
    store = build_store(config, must_exist=True)
    try:
        ticket = store.get_ticket(args.id)
        if ticket is None:
            print(f"whiteglove: no ticket {args.id}", file=sys.stderr)
            return EXIT_FAILURE
        thread = store.thread(args.id)
        events = store.events(args.id)
        outgoing = store.outbox(ticket_id=args.id)
        desk = build_desk(config, store)
        policy, clocks = desk.sla.clocks(ticket, utcnow()) if desk.sla else (None, ())
        policy_name = policy.name if policy else ""
        notices = store.sla_notices(args.id)
    finally:
        store.close()
    if args.json:
        data = ticket.as_json()
        data.update(reasons=list(ticket.reasons), assignment=ticket.assignment, golive_text=ticket.golive_text,
                    first_response_at=views.iso(ticket.first_response_at), resolved_at=views.iso(ticket.resolved_at))
        data["thread"] = [m.as_json() for m in thread]
        data["events"] = [e.as_json() for e in events]
        data["clocks"] = [views.clock_json(c) for c in clocks]
        data["sla_notices"] = notices
        data["outgoing"] = [o.as_json() for o in outgoing]
        print(json.dumps(data, indent=2))
        return 0
    views.ticket_detail(ticket, thread, events, outgoing, policy_name, clocks)
    return 0


def _ticket_action(config, args) -> int:
    """``whiteglove ticket ID ACTION [ARG…]``: the engineers' #command, carried out for the operator."""
    import getpass

    from ticketing.app.clock import utcnow
    from ticketing.core.commands import parse_commands

    argument = " ".join(args.argument)
    wanted = parse_commands(f"#{args.action} {argument}".strip())
    needs = {"priority": "a priority (P0-P3)", "assign": "an engineer's address", "note": "the note's text"}
    if wanted.problems or (args.action in needs and not argument):
        problem = f"{args.action} needs {needs[args.action]}" if args.action in needs and not argument \
            else wanted.problems[0]
        print(f"whiteglove: {problem.lstrip('#')}", file=sys.stderr)
        return EXIT_USAGE
    if args.action in ("resolve", "pending", "open") and argument:
        print(f"whiteglove: {args.action} takes nothing more (to say why, add: whiteglove ticket {args.id} note TEXT)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.action == "assign" and config.engineer(argument) is None:
        known = ", ".join(e.email for e in config.engineers) or "none configured"
        print(f"whiteglove: {argument} is not one of the engineers ({known})", file=sys.stderr)
        return EXIT_USAGE
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's user without a name
        user = "operator"
    store = build_store(config, must_exist=True)
    try:
        from ticketing.app.bootstrap import build_desk

        desk = build_desk(config, store)
        try:
            done = desk.actions.by_operator(args.id, wanted.commands[0], f"{user} (operator)", utcnow())
        except NotFound as exc:
            print(f"whiteglove: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    finally:
        store.close()
    print(f"WG-{args.id}: {done}")
    return 0


def cmd_engagements(args) -> int:
    store = build_store(load_config(args.config), must_exist=True)
    try:
        engagements = store.engagements()
        counts = {e.id: store.meetings(e.id) for e in engagements}
    finally:
        store.close()
    if args.json:
        print(json.dumps([dict(e.as_json(), meetings=len(counts[e.id])) for e in engagements], indent=2))
        return 0
    views.engagement_table(engagements, counts)
    return 0


def cmd_engagement(args) -> int:
    from ticketing.app.bootstrap import build_calendars, build_playbooks
    from ticketing.app.cli import scorecard
    from ticketing.app.clock import utcnow
    from ticketing.services.scorecards import Scorecards

    config = load_config(args.config)
    store = build_store(config, must_exist=True)
    try:
        engagement = store.get_engagement(args.id)
        if engagement is None:
            print(f"whiteglove: no engagement {args.id}", file=sys.stderr)
            return EXIT_FAILURE
        meetings = store.meetings(args.id)
        tasks = store.tasks(args.id)
        metrics = Scorecards(store, config, build_calendars(config), build_playbooks(config)).measure(engagement, utcnow())
    finally:
        store.close()
    if args.json:
        print(json.dumps(dict(engagement.as_json(), meetings=[m.as_json() for m in meetings],
                              tasks=[views.task_json(t) for t in tasks], **metrics.as_json()), indent=2))
        return 0
    views.engagement_detail(engagement, meetings, tasks,
                            scorecard.milestones_lines(engagement) + scorecard.metrics_lines(metrics))
    return 0


def cmd_playbooks_check(args) -> int:
    from ticketing.app.bootstrap import playbooks_dir, unknown_calendars
    from ticketing.files.playbooks import check_playbooks, load_playbooks
    from ticketing.files.templates import default_templates_dir

    config = load_config(args.config)
    folder = playbooks_dir(config)  # the folder the worker reads
    problems = check_playbooks(folder, default_templates_dir())
    if not problems:
        problems = unknown_calendars(load_playbooks(folder), config)
    for problem in problems:
        print(f"whiteglove: playbook error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAILURE
    names = sorted(p.stem for p in folder.glob("*.toml"))
    print(f"{folder}: {len(names)} playbooks OK ({', '.join(names)})")
    return 0


def cmd_playbooks_preview(args) -> int:
    from datetime import datetime, time, timezone

    from ticketing.app.bootstrap import build_calendars, build_playbooks
    from ticketing.core.meeting_calendars import (
        account_country,
        customer_calendar,
        playbook_calendar,
    )
    from ticketing.core.planner import PlanInput, plan
    from ticketing.core.tasks import plan_tasks
    from ticketing.services.customer_week import customer_day
    from ticketing.services.engineers import engineer_calendar

    config = load_config(args.config)
    playbooks = build_playbooks(config)
    playbook = playbooks.get(args.name)
    if playbook is None:
        print(f"whiteglove: no playbook {args.name!r}; there are {', '.join(sorted(playbooks))}", file=sys.stderr)
        return EXIT_USAGE
    engineer = config.engineer(args.engineer) if args.engineer else (config.engineers[0] if config.engineers else None)
    if args.engineer and engineer is None:
        print(f"whiteglove: {args.engineer} is not one of the configured engineers", file=sys.stderr)
        return EXIT_USAGE
    calendars = build_calendars(config)
    calendar = engineer_calendar(config, calendars, engineer.email if engineer else None)
    customer_tz = args.timezone or calendar.tz
    low, high = customer_day(config)
    customer = customer_calendar(customer_tz, account_country(args.country, customer_tz.key), (low, high))
    now = datetime.combine(args.start, time(0), tzinfo=calendar.tz).astimezone(timezone.utc)
    result = plan(PlanInput(playbook=playbook, start=args.start, golive=args.golive, calendar=calendar,
                            customer_tz=customer_tz, now=now, customer=customer, customer_day=(low, high),
                            binding=playbook_calendar(playbook.calendar, calendars),
                            max_customer_meetings_per_day=config.onboarding.max_customer_meetings_per_day,
                            away=frozenset(engineer.out_of_office) if engineer else frozenset()))
    views.plan_table(playbook, result, args.start, args.golive, engineer, calendar, customer_tz)
    counting = playbook_calendar(playbook.calendar, calendars) or calendar
    meetings = {p.spec_key: p.start.astimezone(counting.tz).date() for p in result.placed if p.occurrence == 1}
    views.task_table(playbook, plan_tasks(playbook.tasks, args.start, args.golive, meetings, counting))
    return 0


def cmd_outbox(args) -> int:
    config = load_config(args.config)
    store = build_store(config)
    try:
        if args.retry or args.retry_failed:
            from ticketing.app.clock import utcnow

            ids = args.retry or [m.id for m in store.outbox(status=OutboxStatus.FAILED)]
            with store.transaction():
                refused = [mail_id for mail_id in ids if not store.requeue(mail_id, utcnow())]
            for mail_id in refused:
                mail = store.outgoing(mail_id)
                why = (f"no outgoing message {mail_id} (see: whiteglove outbox)" if mail is None
                       else f"outgoing message {mail_id} is {mail.status.value}, not failed: nothing to retry")
                print(f"whiteglove: {why}", file=sys.stderr)
            done = len(ids) - len(refused)
            print(f"{done} outgoing message(s) queued again" if done or not refused else "nothing queued again")
            return EXIT_FAILURE if refused else 0
        mails = store.outbox(status=OutboxStatus.FAILED if args.failed else None)
    finally:
        store.close()
    if args.json:
        print(json.dumps([m.as_json() for m in mails], indent=2))
        return 0
    views.outbox_table(mails, failed_only=args.failed)
    return 0


def cmd_quarantine_list(args) -> int:
    store = build_store(load_config(args.config), must_exist=True)
    try:
        entries = store.list_quarantine(include_released=args.all)
    finally:
        store.close()
    if args.json:
        print(json.dumps([e.as_json() for e in entries], indent=2))
        return 0
    views.quarantine_table(entries)
    return 0


def cmd_quarantine_retry(args) -> int:
    config = load_config(args.config)
    app = build_app(config)
    try:
        try:
            outcome = app.intake.retry_quarantined(args.id)
        except NotFound as exc:
            print(f"whiteglove: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        entry = app.store.quarantined(args.id)[0]
    finally:
        app.close()
    if outcome.value == "quarantined":
        print(f"quarantine {args.id}: still cannot be handled: {entry.reason}")
        return EXIT_FAILURE
    print(f"quarantine {args.id}: {outcome.value}")
    return 0


def cmd_quarantine_show(args) -> int:
    from mailer import parse_message

    store = build_store(load_config(args.config), must_exist=True)
    try:
        found = store.quarantined(args.id)
    finally:
        store.close()
    if found is None:
        print(f"whiteglove: no quarantined message {args.id} (see: whiteglove quarantine list --all)", file=sys.stderr)
        return EXIT_FAILURE
    entry, raw, received_at = found
    if args.raw:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        return 0
    views.quarantine_detail(entry, received_at, parse_message(raw))  # parsing never raises
    return 0


def cmd_quarantine_discard(args) -> int:
    import getpass

    from ticketing.app.clock import utcnow

    store = build_store(load_config(args.config), must_exist=True)
    try:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "operator"
        with store.transaction():
            done = store.discard_quarantine(args.id, f"{user} (operator)", utcnow())
    finally:
        store.close()
    if not done:
        print(f"whiteglove: no quarantined message {args.id} waiting (see: whiteglove quarantine list)", file=sys.stderr)
        return EXIT_FAILURE
    print(f"quarantine {args.id}: discarded (the message stays stored; quarantine list --all shows it)")
    return 0


def cmd_report_weekly(args) -> int:
    from zoneinfo import ZoneInfo

    from ticketing.app.clock import utcnow
    from ticketing.core.report import last_completed_week, parse_iso_week
    from ticketing.core.report_mail import render_weekly

    config = load_config(args.config)
    if not config.managers:
        print("whiteglove: no [[managers]] in the configuration", file=sys.stderr)
        return EXIT_USAGE
    manager = config.manager(args.manager) if args.manager else config.managers[0]
    if manager is None:
        print(f"whiteglove: {args.manager} is not one of the configured managers", file=sys.stderr)
        return EXIT_USAGE
    try:
        monday = parse_iso_week(args.week) if args.week else None
    except ValueError as exc:
        print(f"whiteglove: {exc}", file=sys.stderr)
        return EXIT_USAGE
    app = build_app(config)
    try:
        now = utcnow()
        monday = monday or last_completed_week(now, ZoneInfo(manager.timezone))
        weekly = app.weekly()
        summary = weekly.summary(manager, monday, now)
        if args.json:
            print(json.dumps(summary.as_json(), indent=2))
        else:
            text, html = render_weekly(summary, app.desk.mails.renderer)
            if args.out:
                try:
                    args.out.write_text(html, encoding="utf-8")
                except OSError as exc:
                    print(f"whiteglove: cannot write {args.out}: {exc.strerror} (fix: an existing folder you may write to)",
                          file=sys.stderr)
                    return EXIT_FAILURE
                print(f"{args.out}: the summary of {summary.label} for {manager.email}")
            elif not args.send:
                print(text, end="")
        if args.send:
            with app.store.transaction():
                queued = weekly.queue(manager, monday, now)
            print(f"weekly summary {summary.label} for {manager.email}: " + ("queued" if queued else "already queued before"))
    finally:
        app.close()
    return 0


def cmd_db_upgrade(args) -> int:
    config = load_config(args.config)
    store = build_store(config, create=False)
    try:
        before, after = store.upgrade()
    finally:
        store.close()
    if before == after:
        print(f"database schema is up to date (version {after})")
    elif before == 0:
        print(f"database created (schema version {after})")
    else:
        print(f"database schema upgraded from version {before} to {after}")
    return 0


def cmd_db_backup(args) -> int:
    from ticketing.app.bootstrap import backup_database

    backup = backup_database(load_config(args.config), args.file)  # StorageError: one line from main
    print(f"{backup.path}: a backup of {backup.source} ({backup.size} bytes)")
    return 0


def cmd_status(args) -> int:
    """Exit 0 healthy, 1 degraded, 2 down: see :mod:`ticketing.app.status`."""
    from ticketing.app.clock import utcnow
    from ticketing.app.heartbeat import read_heartbeat
    from ticketing.app.status import gather_status

    config = load_config(args.config)
    heartbeat = None
    if args.health_file is not None:
        try:
            heartbeat = read_heartbeat(args.health_file)
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"whiteglove: cannot read the health file {args.health_file}: {why} "
                  "(fix: give the path the worker writes, run --health-file)", file=sys.stderr)
            return EXIT_USAGE
    store = build_store(config, must_exist=True)
    try:
        status = gather_status(config, store, heartbeat, args.health_file, utcnow())
    finally:
        store.close()
    if args.json:
        print(json.dumps(status.as_json(), indent=2))
    else:
        views.status_table(status)
    return status.exit_code


def _preflight(args, config, machine_only: bool = False) -> None:
    """Raise ConfigError listing what this machine lacks (and, for config check, SLA coverage)."""
    from pathlib import Path

    from ticketing.app.preflight import machine_problems, preflight
    from ticketing.errors import ConfigError

    problems = machine_problems(config) if machine_only else preflight(config)
    if problems:
        raise ConfigError(problems, Path(args.config))


def cmd_config_check(args) -> int:
    config = load_config(args.config)  # raises ConfigError listing every problem
    _check_template_overrides(config, args.config)
    _preflight(args, config)  # and what run would lack here: secrets, folders, the driver
    print(f"{args.config}: OK (mailbox {config.mailbox.backend}, outgoing {config.outgoing.backend}, database {config.database.url})")
    if config.security.unchecked_warning():
        print(f"warning: {config.security.unchecked_warning()}")
    if not args.connect:
        return 0
    from ticketing.app.connect import check_connections

    steps = check_connections(config)
    for step in steps:
        print(step)
    return 0 if all(step.ok for step in steps) else EXIT_FAILURE


def _check_template_overrides(config, path) -> None:
    """``[templates] path``: every override is named like a shipped template and renders its mail
    with a sample of what the code gives it. Raises ConfigError listing each problem."""
    from pathlib import Path

    from ticketing.app.bootstrap import templates_dir
    from ticketing.errors import ConfigError
    from ticketing.files.templates import check_overrides

    folder = templates_dir(config)
    problems = check_overrides(folder) if folder else []
    if problems:
        raise ConfigError(problems, Path(path))
