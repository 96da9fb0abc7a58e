"""``whiteglove playbooks check`` and ``whiteglove playbooks preview``: the playbook folder checked, and
the meetings and tasks a playbook would plan for a given start and go-live. Each returns the exit code.
"""
from __future__ import annotations

import sys

from ticketing.app.cli import views
from ticketing.app.cli.commands import EXIT_FAILURE, EXIT_USAGE
from ticketing.config import load_config


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
