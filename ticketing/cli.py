"""The ``whiteglove`` command line.

Errors a user can cause (a missing config, a bad key, an unreachable server, a wrong password, an
old schema) print one line naming the problem and exit non-zero; they never show a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from mailer.errors import MailerError, MailboxAuthError

from . import __doc__ as _package_doc  # noqa: F401
from .bootstrap import build_app, build_sender, build_source, build_store
from .config import ConfigError, load_config
from .playbooks import PlaybookError
from .schema import SchemaError, StorageError, upgrade

log = logging.getLogger("whiteglove")

EXIT_USAGE = 2
EXIT_FAILURE = 1


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("imapclient").setLevel(logging.WARNING)
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        where = f"{exc.path}: " if exc.path else ""
        for problem in exc.problems:
            print(f"whiteglove: config error: {where}{problem}", file=sys.stderr)
        return EXIT_USAGE
    except PlaybookError as exc:
        for problem in exc.problems:
            print(f"whiteglove: playbook error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (SchemaError, StorageError, MailerError) as exc:
        print(f"whiteglove: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (| head): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=os.environ.get("WHITEGLOVE_CONFIG", "whiteglove.toml"),
        help="the configuration file (default: $WHITEGLOVE_CONFIG or ./whiteglove.toml)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    parser = argparse.ArgumentParser(prog="whiteglove", description="An email-and-calendar driven help desk.", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run the worker")
    run.add_argument("--once", action="store_true", help="one pass of intake, then exit")
    run.set_defaults(func=cmd_run)

    ingest = sub.add_parser("ingest", parents=[common], help="run .eml, .mbox files or Maildir folders through intake")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.set_defaults(func=cmd_ingest)

    tickets = sub.add_parser("tickets", parents=[common], help="list tickets")
    tickets.add_argument("--status", default="open", choices=["open", "pending", "resolved", "all"])
    tickets.add_argument("--engineer", metavar="EMAIL", help="only tickets assigned to this engineer")
    tickets.add_argument("--kind", choices=["support", "golive_intent", "contract_closed"])
    tickets.add_argument("--priority", choices=["P0", "P1", "P2", "P3"])
    tickets.add_argument("--json", action="store_true", help="print JSON")
    tickets.set_defaults(func=cmd_tickets)

    ticket = sub.add_parser("ticket", parents=[common], help="show one ticket with its thread")
    ticket.add_argument("id", type=int)
    ticket.add_argument("--json", action="store_true", help="print JSON")
    ticket.set_defaults(func=cmd_ticket)

    quarantine = sub.add_parser("quarantine", parents=[common], help="messages that could not be handled")
    qsub = quarantine.add_subparsers(dest="action", required=True, metavar="ACTION")
    qlist = qsub.add_parser("list", parents=[common], help="list quarantined messages")
    qlist.add_argument("--all", action="store_true", help="include those released by a retry")
    qlist.add_argument("--json", action="store_true", help="print JSON")
    qlist.set_defaults(func=cmd_quarantine_list)
    qretry = qsub.add_parser("retry", parents=[common], help="run a quarantined message through intake again")
    qretry.add_argument("id", type=int)
    qretry.set_defaults(func=cmd_quarantine_retry)

    outbox = sub.add_parser("outbox", parents=[common], help="outgoing mail")
    outbox.add_argument("--failed", action="store_true", help="only mail that could not be sent")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument("--retry", type=int, metavar="ID", help="queue a failed message again")
    outbox.set_defaults(func=cmd_outbox)

    engagements = sub.add_parser("engagements", parents=[common], help="list onboarding engagements")
    engagements.add_argument("--json", action="store_true", help="print JSON")
    engagements.set_defaults(func=cmd_engagements)
    engagement = sub.add_parser("engagement", parents=[common], help="one engagement with its meetings and answers")
    engagement.add_argument("id", type=int)
    engagement.add_argument("--json", action="store_true", help="print JSON")
    engagement.set_defaults(func=cmd_engagement)

    playbooks = sub.add_parser("playbooks", parents=[common], help="the onboarding playbooks")
    psub = playbooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    pcheck = psub.add_parser("check", parents=[common], help="validate every playbook")
    pcheck.set_defaults(func=cmd_playbooks_check)
    preview = psub.add_parser("preview", parents=[common], help="print the schedule a playbook would produce")
    preview.add_argument("name")
    preview.add_argument("--start", required=True, type=_date, metavar="DATE", help="the contract's close date")
    preview.add_argument("--engineer", metavar="EMAIL", help="plan on this engineer's calendar (default: the first)")
    preview.add_argument("--golive", type=_date, metavar="DATE", help="the cut-over date, to plan the go-live meetings")
    preview.add_argument("--timezone", metavar="ZONE", help="the customer's time zone (default: the engineer's)")
    preview.set_defaults(func=cmd_playbooks_preview)

    report = sub.add_parser("report", parents=[common], help="reports")
    rsub = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    weekly = rsub.add_parser("weekly", parents=[common], help="the weekly SLA summary of a manager")
    weekly.add_argument("--week", metavar="YYYY-Www", help="the week (default: the last completed one)")
    weekly.add_argument("--manager", metavar="EMAIL", help="the manager (default: the first configured)")
    weekly.add_argument("--out", type=Path, metavar="FILE.html", help="write the HTML to this file")
    weekly.add_argument("--send", action="store_true", help="queue it in the outbox (once per manager and week)")
    weekly.add_argument("--json", action="store_true", help="print the figures as JSON")
    weekly.set_defaults(func=cmd_report_weekly)

    db = sub.add_parser("db", parents=[common], help="the database")
    dsub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    dup = dsub.add_parser("upgrade", parents=[common], help="create or migrate the schema")
    dup.set_defaults(func=cmd_db_upgrade)

    config = sub.add_parser("config", parents=[common], help="the configuration")
    csub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    ccheck = csub.add_parser("check", parents=[common], help="validate a configuration file")
    ccheck.set_defaults(func=cmd_config_check)
    return parser


# -- commands -------------------------------------------------------------------------------------


def cmd_run(args) -> int:
    from .worker import Worker

    config = load_config(args.config)
    # First: a missing password must fail before the database is touched.
    source = build_source(config)
    sender = build_sender(config)
    app = build_app(config)
    worker = Worker(app.intake, source, poll_seconds=config.mailbox.poll_seconds,
                    outbox=app.outbox_sender(sender), clock=app.clock, jobs=app.jobs())
    try:
        if args.once:
            try:
                summary, sent = worker.tick()
            finally:
                source.close()
                sender.close()
            print(f"intake: {summary}")
            print(f"outbox: {sent}")
            return 0
        worker.install_signal_handlers()
        log.info("watching %s (Ctrl-C to stop)", source.name)
        try:
            worker.run_forever()
        except MailboxAuthError as exc:
            print(f"whiteglove: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        finally:
            sender.close()
        return 0
    finally:
        app.close()


def cmd_ingest(args) -> int:
    from mailer.files import count_messages, iter_messages
    from tqdm import tqdm

    config = load_config(args.config)
    app = build_app(config)
    try:
        total = count_messages(args.paths)
        with tqdm(total=total, unit="msg", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            summary = app.intake.ingest(iter_messages(args.paths), on_progress=bar.update)
        print(f"ingest: {summary}")
        return 0
    finally:
        app.close()


def cmd_tickets(args) -> int:
    store = build_store(load_config(args.config))
    try:
        tickets = store.list_tickets(status=args.status, assignee=args.engineer, kind=args.kind, priority=args.priority)
    finally:
        store.close()
    if args.json:
        print(json.dumps([t.as_json() for t in tickets], indent=2))
        return 0
    if not tickets:
        print("no tickets")
        return 0
    print(f"{'ID':>5}  {'KIND':<15} {'STATUS':<9} {'PRI':<3} {'MSGS':>4}  {'ASSIGNEE':<30} {'REQUESTER':<30} SUBJECT")
    for t in tickets:
        subject = t.subject[:60] + (f" (cut-over {t.cutover_date})" if t.cutover_date else "") + (" [review]" if t.review else "")
        print(f"{t.id:>5}  {t.kind.value:<15} {t.status.value:<9} {t.priority:<3} {t.message_count:>4}  "
              f"{(t.assignee or '-')[:30]:<30} {t.requester[:30]:<30} {subject}")
    return 0


def cmd_ticket(args) -> int:
    from .bootstrap import build_desk
    from .clock import utcnow
    from .sla import humanize

    config = load_config(args.config)
    store = build_store(config)
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
        data.update(reasons=list(ticket.reasons), assignment=ticket.assignment, cutover_text=ticket.cutover_text,
                    first_response_at=_iso(ticket.first_response_at), resolved_at=_iso(ticket.resolved_at))
        data["thread"] = [m.as_json() for m in thread]
        data["events"] = [e.as_json() for e in events]
        data["clocks"] = [_clock_json(c) for c in clocks]
        data["sla_notices"] = notices
        data["outgoing"] = [o.as_json() for o in outgoing]
        print(json.dumps(data, indent=2))
        return 0
    print(f"Ticket {ticket.id}: {ticket.subject}")
    print(f"  kind {ticket.kind.value}, status {ticket.status.value}, priority {ticket.priority}"
          + (", FLAGGED FOR REVIEW" if ticket.review else ""))
    print(f"  requester {ticket.requester_name} <{ticket.requester}>" if ticket.requester_name else f"  requester {ticket.requester}")
    if ticket.account:
        print(f"  account {ticket.account}")
    if ticket.cutover_date:
        print(f"  cut-over {ticket.cutover_date} (from \"{ticket.cutover_text}\")")
    if ticket.refers_to:
        print(f"  refers to ticket {ticket.refers_to}")
    print(f"  created {ticket.created_at:%Y-%m-%d %H:%M} UTC, updated {ticket.updated_at:%Y-%m-%d %H:%M} UTC")
    if clocks:
        print()
        print(f"SLA ({policy_name}):")
        for clock in clocks:
            target = f"target {humanize(clock.target.duration)} on {clock.target.clock}" if clock.target else "no target"
            due = f", due {clock.due:%Y-%m-%d %H:%M} UTC" if clock.due and clock.status.value in ("running", "breached") else ""
            print(f"  {clock.name.replace('_', ' ')}: {clock.status.value}, {humanize(clock.used)} used, {target}{due}")
            for line in clock.explanation:
                print(f"    - {line}")
    print()
    print("Why this kind and priority:")
    for reason in ticket.reasons:
        print(f"  - {reason}")
    print()
    assignment = ticket.assignment or {}
    print(f"Assigned to {ticket.assignee or 'nobody'}: {assignment.get('reason', '')}")
    for c in assignment.get("candidates", []):
        state = "out of office" if c["out_of_office"] else ("working" if c["working_now"] else "off hours")
        last = c["last_assigned_at"][:16].replace("T", " ") + " UTC" if c["last_assigned_at"] else "never"
        print(f"  {c['email']:<36} {c['open_load']:>3} open  {state:<13} last assigned {last}")
    for msg in thread:
        print()
        print(f"--- {msg.received_at:%Y-%m-%d %H:%M} UTC  {msg.kind.value if msg.kind else msg.status.value}  from {msg.from_name} <{msg.from_addr}>")
        print(f"    Subject: {msg.subject}")
        for att in msg.attachments:
            print(f"    Attachment: {att['filename']} ({att['content_type']}, {att['size']} bytes)")
        body = msg.body_text.strip()
        print()
        print("\n".join("    " + line for line in body.splitlines()[:200]))
    print()
    print("Events:")
    for event in events:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
        print(f"  {event.at:%Y-%m-%d %H:%M} UTC  {event.kind.value:<17} {event.actor}  {detail}".rstrip())
    if outgoing:
        print()
        print("Mail sent about it:")
        for o in outgoing:
            print(f"  {o.created_at:%Y-%m-%d %H:%M} UTC  {o.purpose:<15} {o.status:<7} to {', '.join(o.recipients)}")
    return 0


def _iso(value):
    return value.isoformat() if value else None


def _clock_json(clock) -> dict:
    minutes = lambda d: int(d.total_seconds() // 60) if d is not None else None  # noqa: E731
    return {
        "name": clock.name, "priority": clock.priority, "status": clock.status.value,
        "target_minutes": minutes(clock.target.duration) if clock.target else None,
        "clock": clock.target.clock if clock.target else None, "used_minutes": minutes(clock.used),
        "started_at": _iso(clock.started_at), "stopped_at": _iso(clock.stopped_at), "due": _iso(clock.due),
        "breached_at": _iso(clock.breached_at), "explanation": list(clock.explanation),
    }


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_engagements(args) -> int:
    store = build_store(load_config(args.config))
    try:
        engagements = store.engagements()
        counts = {e.id: store.meetings(e.id) for e in engagements}
    finally:
        store.close()
    if args.json:
        print(json.dumps([dict(e.as_json(), meetings=len(counts[e.id])) for e in engagements], indent=2))
        return 0
    if not engagements:
        print("no engagements")
        return 0
    print(f"{'ID':>4}  {'ACCOUNT':<28} {'PLAYBOOK':<22} {'ENGINEER':<32} {'GO-LIVE':<10}  MEETINGS")
    for e in engagements:
        planned = sum(1 for m in counts[e.id] if m.status == "planned")
        print(f"{e.id:>4}  {e.account[:28]:<28} {(e.playbook or '-')[:22]:<22} {(e.engineer or '-')[:32]:<32} "
              f"{str(e.golive_date or '-'):<10}  {planned} planned, {len(counts[e.id]) - planned} other")
    return 0


def cmd_engagement(args) -> int:
    store = build_store(load_config(args.config))
    try:
        engagement = store.get_engagement(args.id)
        if engagement is None:
            print(f"whiteglove: no engagement {args.id}", file=sys.stderr)
            return EXIT_FAILURE
        meetings = store.meetings(args.id)
    finally:
        store.close()
    if args.json:
        print(json.dumps(dict(engagement.as_json(), meetings=[m.as_json() for m in meetings]), indent=2))
        return 0
    print(f"Engagement {engagement.id}: {engagement.account}")
    print(f"  playbook {engagement.playbook or '(none)'}, tier {engagement.tier or '-'}, engineer {engagement.engineer or '-'}")
    print(f"  contract {engagement.contract_id or '-'}, closed {engagement.close_date or '-'}, "
          f"go-live {engagement.golive_date or 'not known'}, hand-off ticket {engagement.ticket_id or '-'}")
    for m in meetings:
        print()
        when = f"{m.start:%a %Y-%m-%d %H:%M}-{m.end:%H:%M} UTC" if m.start else "not planned"
        print(f"  {m.title}  [{m.status}]  {when}")
        if m.note:
            print(f"    note: {m.note}")
        for a in m.attendees:
            remark = f"  {a.comment}" if a.comment else ""
            print(f"    {a.partstat:<12} {a.name + ' ' if a.name else ''}<{a.email}> ({a.role}{'' if a.required else ', optional'}){remark}")
    return 0


def cmd_playbooks_check(args) -> int:
    from .bootstrap import playbooks_dir
    from .playbooks import check_playbooks
    from .templates import default_templates_dir

    folder = playbooks_dir(load_config(args.config))  # the folder the worker reads
    problems = check_playbooks(folder, default_templates_dir())
    for problem in problems:
        print(f"whiteglove: playbook error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAILURE
    names = sorted(p.stem for p in folder.glob("*.toml"))
    print(f"{folder}: {len(names)} playbooks OK ({', '.join(names)})")
    return 0


def cmd_playbooks_preview(args) -> int:
    from datetime import datetime, time, timezone
    from zoneinfo import ZoneInfo

    from .bootstrap import build_calendars, build_playbooks
    from .planner import PlanInput, local_label, plan

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
    calendar = calendars[(engineer.calendar if engineer else None) or config.calendar(None).name]
    customer_tz = ZoneInfo(args.timezone) if args.timezone else calendar.tz
    now = datetime.combine(args.start, time(0), tzinfo=calendar.tz).astimezone(timezone.utc)
    result = plan(PlanInput(playbook=playbook, start=args.start, golive=args.golive, calendar=calendar,
                            customer_tz=customer_tz, now=now,
                            away=frozenset(engineer.out_of_office) if engineer else frozenset()))
    print(f"{playbook.title} ({playbook.name}), starting {args.start}"
          + (f", go-live {args.golive}" if args.golive else "")
          + f"; engineer {engineer.email if engineer else '(none)'} on calendar {calendar.name}")
    for placement in result.placed:
        spec = playbook.meeting(placement.spec_key)
        print(f"  {local_label(placement.start, placement.end, customer_tz):<40} {placement.key:<24} "
              f"{int(spec.duration.total_seconds() // 60)} min" + (f"  ! {placement.warning}" if placement.warning else ""))
    for missing in result.unplaced:
        print(f"  {'not placed':<40} {missing.key:<24} {missing.reason}")
    return 0


def cmd_outbox(args) -> int:
    config = load_config(args.config)
    store = build_store(config)
    try:
        if args.retry is not None:
            from .clock import utcnow

            with store.transaction():
                done = store.requeue(args.retry, utcnow())
            if not done:
                print(f"whiteglove: outgoing message {args.retry} is not a failed one", file=sys.stderr)
                return EXIT_FAILURE
            print(f"outgoing message {args.retry} queued again")
            return 0
        mails = store.outbox(status="failed" if args.failed else None)
    finally:
        store.close()
    if args.json:
        print(json.dumps([m.as_json() for m in mails], indent=2))
        return 0
    if not mails:
        print("no failed mail" if args.failed else "no outgoing mail")
        return 0
    for mail in mails:
        print(f"{mail.id:>5}  {mail.created_at:%Y-%m-%d %H:%M}  {mail.status:<7} {mail.purpose:<15} "
              f"to {', '.join(mail.recipients)[:50]:<50} {mail.subject[:60]}")
        if mail.status != "sent" and mail.last_error:
            print(f"       {mail.attempts} attempt(s); last error: {mail.last_error[:200]}")
    return 0


def cmd_quarantine_list(args) -> int:
    store = build_store(load_config(args.config))
    try:
        entries = store.list_quarantine(include_released=args.all)
    finally:
        store.close()
    if args.json:
        print(json.dumps([e.as_json() for e in entries], indent=2))
        return 0
    if not entries:
        print("no quarantined messages")
        return 0
    for e in entries:
        state = f" (released {e.released_at:%Y-%m-%d %H:%M})" if e.released_at else ""
        print(f"{e.id:>5}  {e.created_at:%Y-%m-%d %H:%M}  {e.mailbox} {e.source_key}  {e.size} bytes{state}")
        print(f"       from {e.from_addr or '?'}: {e.subject[:70]}")
        print(f"       reason: {e.reason}")
    return 0


def cmd_quarantine_retry(args) -> int:
    config = load_config(args.config)
    app = build_app(config)
    try:
        try:
            outcome = app.intake.retry_quarantined(args.id)
        except KeyError:
            print(f"whiteglove: no quarantined message {args.id}", file=sys.stderr)
            return EXIT_FAILURE
        entry = app.store.quarantined(args.id)[0]
    finally:
        app.close()
    if outcome.value == "quarantined":
        print(f"quarantine {args.id}: still cannot be handled: {entry.reason}")
        return EXIT_FAILURE
    print(f"quarantine {args.id}: {outcome.value}")
    return 0


def cmd_report_weekly(args) -> int:
    from .clock import utcnow
    from .report import last_completed_week, parse_iso_week
    from .report_mail import render_weekly
    from zoneinfo import ZoneInfo

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
                args.out.write_text(html, encoding="utf-8")
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
        before, after = upgrade(store.db)
    finally:
        store.close()
    if before == after:
        print(f"database schema is up to date (version {after})")
    elif before == 0:
        print(f"database created (schema version {after})")
    else:
        print(f"database schema upgraded from version {before} to {after}")
    return 0


def cmd_config_check(args) -> int:
    config = load_config(args.config)  # raises ConfigError listing every problem
    print(f"{args.config}: OK (mailbox {config.mailbox.backend}, outgoing {config.outgoing.backend}, database {config.database.url})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
