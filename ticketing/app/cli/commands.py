"""The command line's commands: each reads its arguments, does its job through the application's
parts, and hands what it found to :mod:`ticketing.app.cli.views` to print. Each returns the exit code.

Here: the worker (``run``, ``ingest``), engagements, the outbox, the weekly report, the database,
``status`` and ``config check``, and the exit codes. Tickets (:mod:`.tickets`), the quarantine
(:mod:`.quarantine`) and playbooks (:mod:`.playbooks`) have their own modules.
"""
from __future__ import annotations

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


def cmd_report_weekly(args) -> int:
    from zoneinfo import ZoneInfo

    from ticketing.app.clock import utcnow
    from ticketing.core.report_mail import render_weekly
    from ticketing.core.weeks import last_completed_week, parse_iso_week

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
