"""``whiteglove tickets`` and ``whiteglove ticket ID [ACTION]``: the ticket list, one ticket's detail,
and the engineers' #commands carried out for the operator. Each returns the exit code.
"""
from __future__ import annotations

import itertools
import json
import sys

from ticketing.app.bootstrap import build_store
from ticketing.app.cli import views
from ticketing.app.cli.commands import EXIT_FAILURE, EXIT_USAGE
from ticketing.config import load_config
from ticketing.errors import NotFound


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
