"""``whiteglove quarantine list|show|retry|discard``: the messages intake could not handle, listed,
shown, handled again or set aside. Each returns the exit code.
"""
from __future__ import annotations

import json
import sys

from ticketing.app.bootstrap import build_app, build_store
from ticketing.app.cli import views
from ticketing.app.cli.commands import EXIT_FAILURE
from ticketing.config import load_config
from ticketing.errors import NotFound


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
