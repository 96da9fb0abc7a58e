"""The command line's arguments: one sub-command per job, each naming the function that does it."""
from __future__ import annotations

import argparse
import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ticketing.app.cli import commands
from ticketing.app.cli.playbooks import cmd_playbooks_check, cmd_playbooks_preview
from ticketing.app.cli.quarantine import (
    cmd_quarantine_discard,
    cmd_quarantine_list,
    cmd_quarantine_retry,
    cmd_quarantine_show,
)
from ticketing.app.cli.tickets import cmd_ticket, cmd_tickets
from ticketing.app.logs import LEVELS

#: What ``whiteglove ticket ID ACTION`` may do: the engineers' #commands.
ACTIONS = ("resolve", "pending", "open", "priority", "assign", "note")


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (argparse's own also prints the whole usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def _options(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Only the top level has defaults:
    a sub-command's would overwrite what was given before the command's name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=os.environ.get("WHITEGLOVE_CONFIG", "whiteglove.toml") if defaults else argparse.SUPPRESS,
        help="the configuration file (default: $WHITEGLOVE_CONFIG or ./whiteglove.toml)",
    )
    common.add_argument("-v", "--verbose", action="count", default=0 if defaults else argparse.SUPPRESS,
                        help="log debugging detail (-vv: the IMAP, SQL and HTTP libraries' too)")
    common.add_argument("--log-level", type=str.upper, choices=LEVELS, metavar="LEVEL",
                        default=None if defaults else argparse.SUPPRESS,
                        help="DEBUG, INFO (default), WARNING or ERROR")
    common.add_argument("--log-format", choices=["text", "json"], default="text" if defaults else argparse.SUPPRESS,
                        help="text lines (default) or one JSON object per line")
    return common


def _health_file(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--health-file", type=Path, metavar="PATH", default=os.environ.get("WHITEGLOVE_HEALTH_FILE"),
                        help=help + " (default: $WHITEGLOVE_HEALTH_FILE, else none)")


def time_zone(text: str):
    """An IANA time zone such as America/New_York."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        from ticketing.config.suggest import did_you_mean, nearest_timezones

        close = nearest_timezones(text)
        hint = did_you_mean(close) if close else "write e.g. America/New_York or Europe/Berlin"
        raise argparse.ArgumentTypeError(f"no time zone {text!r} ({hint})") from None


def ticket_id(text: str) -> int:
    """A ticket's number, as written or as every subject shows it: ``2``, ``WG-2``, ``[WG-2]``."""
    cleaned = text.strip().strip("[]").upper().removeprefix("WG-")
    if not cleaned.isdigit():
        raise argparse.ArgumentTypeError(f"not a ticket: {text!r} (write 2 or WG-2)")
    return int(cleaned)


def priority(text: str) -> str:
    """A priority, in any case: p1 is P1."""
    if text.upper() not in ("P0", "P1", "P2", "P3"):
        raise argparse.ArgumentTypeError(f"no priority {text!r} (write P0, P1, P2 or P3)")
    return text.upper()


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)


def since(text: str) -> datetime:
    """A moment in UTC: a day (YYYY-MM-DD, from its midnight UTC) or an age before now (7d, 12h, 30m)."""
    from ticketing.app.clock import utcnow

    match = re.fullmatch(r"(\d+)\s*([dhm])", text.strip().lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        unit_name = {"d": "days", "h": "hours", "m": "minutes"}[unit]
        return utcnow() - timedelta(**{unit_name: amount})
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day or an age: {text!r} (write 2026-11-30, 7d or 12h)") from None


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("whiteglove")
    except PackageNotFoundError:  # a checkout that is not installed
        release = "unknown"
    common = _options(defaults=False)
    parser = Parser(prog="whiteglove", description="An email-and-calendar driven help desk.",
                    parents=[_options(defaults=True)])
    parser.add_argument("--version", action="version", version=f"whiteglove {release}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run the worker")
    run.add_argument("--once", action="store_true", help="one pass of intake, then exit")
    run.add_argument("--dry-run", action="store_true",
                     help="one pass that is rolled back: print the tickets it would create and the mail it would "
                          "send, leave the mailbox, the database and the outbox as they were")
    _health_file(run, "write the worker's heartbeat to this file after every pass")
    run.set_defaults(func=commands.cmd_run)

    ingest = sub.add_parser("ingest", parents=[common], help="run .eml, .mbox files or Maildir folders through intake")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help=".eml or .mbox files, Maildir folders, or folders holding them")
    ingest.add_argument("--notify", action="store_true",
                        help="answer and notify as for new mail (default: a backfill is history, nothing is sent)")
    ingest.add_argument("--dry-run", action="store_true",
                        help="rolled back at the end: print what it would create and send, store nothing")
    ingest.set_defaults(func=commands.cmd_ingest)

    tickets = sub.add_parser("tickets", parents=[common], help="list tickets")
    tickets.add_argument("--status", default="open", choices=["open", "pending", "resolved", "all"],
                         help="open (default: open and pending), pending, resolved or all")
    tickets.add_argument("--engineer", metavar="EMAIL", help="only tickets assigned to this engineer")
    tickets.add_argument("--kind", choices=["support", "golive_intent", "contract_closed"], help="only this kind")
    tickets.add_argument("--priority", type=priority, metavar="P0-P3", help="only this priority (any case)")
    tickets.add_argument("--search", metavar="TEXT", help="TEXT in the subject, the requester or any message (any case)")
    tickets.add_argument("--account", metavar="NAME", help="only this account's tickets")
    tickets.add_argument("--requester", metavar="ADDRESS", help="requesters whose address holds this (e.g. @acme.com)")
    tickets.add_argument("--since", type=since, metavar="DATE|AGE",
                         help="created on or after this day (YYYY-MM-DD) or within this age (7d, 12h)")
    tickets.add_argument("--overdue", action="store_true", help="only tickets with an SLA clock breached or past due")
    tickets.add_argument("--limit", type=positive, metavar="N", help="only the newest N")
    tickets.add_argument("--wide", action="store_true", help="every column, wider than 80 characters")
    tickets.add_argument("--json", action="store_true", help="print JSON")
    tickets.set_defaults(func=cmd_tickets)

    ticket = sub.add_parser("ticket", parents=[common], help="show one ticket with its thread, or change it",
                            description="Show a ticket, or change it as an engineer's #command would (recorded "
                                        "as an event by the operator): resolve, pending, open, priority P0-P3, "
                                        "assign EMAIL, note TEXT.")
    ticket.add_argument("id", type=ticket_id, metavar="ID", help="the ticket: 2 or WG-2")
    ticket.add_argument("action", nargs="?", choices=ACTIONS, metavar="ACTION",
                        help=f"one of {', '.join(ACTIONS)} (default: show the ticket)")
    ticket.add_argument("argument", nargs="*", metavar="ARG", help="the priority, the engineer's address or the note's text")
    ticket.add_argument("--json", action="store_true", help="print JSON")
    ticket.set_defaults(func=cmd_ticket)

    quarantine = sub.add_parser("quarantine", parents=[common], help="messages that could not be handled")
    qsub = quarantine.add_subparsers(dest="action", required=True, metavar="ACTION")
    qlist = qsub.add_parser("list", parents=[common], help="list quarantined messages")
    qlist.add_argument("--all", action="store_true", help="include those released by a retry")
    qlist.add_argument("--json", action="store_true", help="print JSON")
    qlist.set_defaults(func=cmd_quarantine_list)
    qretry = qsub.add_parser("retry", parents=[common], help="run a quarantined message through intake again")
    qretry.add_argument("id", type=int, help="the number quarantine list shows")
    qretry.set_defaults(func=cmd_quarantine_retry)
    qshow = qsub.add_parser("show", parents=[common], help="one quarantined message: why, and what it holds")
    qshow.add_argument("id", type=int, help="the number quarantine list shows")
    qshow.add_argument("--raw", action="store_true", help="write the message's bytes as received (to save as .eml)")
    qshow.set_defaults(func=cmd_quarantine_show)
    qdiscard = qsub.add_parser("discard", parents=[common],
                               help="give up on a quarantined message (it stays stored, but is no longer listed)")
    qdiscard.add_argument("id", type=int, help="the number quarantine list shows")
    qdiscard.set_defaults(func=cmd_quarantine_discard)

    outbox = sub.add_parser("outbox", parents=[common], help="outgoing mail")
    outbox.add_argument("--failed", action="store_true", help="only mail that could not be sent")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument("--retry", type=int, metavar="ID", nargs="+", help="queue these failed messages again")
    outbox.add_argument("--retry-failed", action="store_true",
                        help="queue every failed message again (after an outage of the outgoing server)")
    outbox.set_defaults(func=commands.cmd_outbox)

    engagements = sub.add_parser("engagements", parents=[common], help="list onboarding engagements")
    engagements.add_argument("--json", action="store_true", help="print JSON")
    engagements.set_defaults(func=commands.cmd_engagements)
    engagement = sub.add_parser("engagement", parents=[common], help="one engagement with its meetings and answers")
    engagement.add_argument("id", type=int, help="the number engagements shows")
    engagement.add_argument("--json", action="store_true", help="print JSON")
    engagement.set_defaults(func=commands.cmd_engagement)

    playbooks = sub.add_parser("playbooks", parents=[common], help="the onboarding playbooks")
    psub = playbooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    pcheck = psub.add_parser("check", parents=[common], help="validate every playbook")
    pcheck.set_defaults(func=cmd_playbooks_check)
    preview = psub.add_parser("preview", parents=[common], help="print the schedule a playbook would produce")
    preview.add_argument("name", help="the playbook's name (its file name without .toml)")
    preview.add_argument("--start", required=True, type=_date, metavar="DATE", help="the contract's close date")
    preview.add_argument("--engineer", metavar="EMAIL", help="plan on this engineer's calendar (default: the first)")
    preview.add_argument("--golive", type=_date, metavar="DATE", help="the go-live date, to plan the go-live meetings")
    preview.add_argument("--timezone", metavar="ZONE", type=time_zone,
                         help="the customer's time zone (default: the engineer's)")
    preview.add_argument("--country", metavar="CODE",
                         help="the customer's country, for their public holidays (default: the time zone's)")
    preview.set_defaults(func=cmd_playbooks_preview)

    report = sub.add_parser("report", parents=[common], help="reports")
    rsub = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    weekly = rsub.add_parser("weekly", parents=[common], help="the weekly SLA summary of a manager")
    weekly.add_argument("--week", metavar="YYYY-Www", help="the week (default: the last completed one)")
    weekly.add_argument("--manager", metavar="EMAIL", help="the manager (default: the first configured)")
    weekly.add_argument("--out", type=Path, metavar="FILE.html", help="write the HTML to this file")
    weekly.add_argument("--send", action="store_true", help="queue it in the outbox (once per manager and week)")
    weekly.add_argument("--json", action="store_true", help="print the figures as JSON")
    weekly.set_defaults(func=commands.cmd_report_weekly)

    status = sub.add_parser("status", parents=[common],
                            help="whether the worker runs and its connections work (exit 0 healthy, 1 degraded, 2 down)")
    status.add_argument("--json", action="store_true", help="print JSON")
    _health_file(status, "the heartbeat file the worker writes (run --health-file)")
    status.set_defaults(func=commands.cmd_status)

    db = sub.add_parser("db", parents=[common], help="the database")
    dsub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    dup = dsub.add_parser("upgrade", parents=[common], help="create or migrate the schema")
    dup.set_defaults(func=commands.cmd_db_upgrade)
    dbackup = dsub.add_parser("backup", parents=[common],
                              help="copy the SQLite database to a new FILE, safely while the worker runs")
    dbackup.add_argument("file", type=Path, metavar="FILE", help="the new backup file (never overwritten)")
    dbackup.set_defaults(func=commands.cmd_db_backup)

    config = sub.add_parser("config", parents=[common], help="the configuration")
    csub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    ccheck = csub.add_parser("check", parents=[common], help="validate a configuration file")
    ccheck.add_argument("--connect", action="store_true",
                        help="also get the OAuth2 token and log in to the mailbox and the outgoing server")
    ccheck.set_defaults(func=commands.cmd_config_check)
    return parser



def _date(text: str):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
