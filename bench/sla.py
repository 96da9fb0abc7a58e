"""SLA deadlines per second: due times over business calendars with holidays, as the SLA code computes them.

Target: 200,000 deadlines a second or more on a 2-core machine. Prints its figures; it is not a test.

    python -m bench.sla             # figures in words
    python -m bench.sla --json      # {"deadlines_per_second", "clocks_per_second", ...}

*deadlines*: ``BusinessCalendar.add(moment, target)`` (what a clock's due time is) for random
moments over two years and the example configuration's targets, spread over its calendars: the
24x7 clock, us-pacific (weekdays 08:00-17:00) and eu-berlin (German public holidays), fresh
calendars each round so that no day is cached before it is asked. *clocks*: every clock of a
ticket (:func:`ticketing.core.sla.clocks` without the explanation, as the SLA watch stores them)
for ticket logs of created, answered, pending and resolved events.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
TARGETS = [timedelta(hours=h) for h in (2, 4, 8, 16, 24, 45, 90)]


def calendars():
    from ticketing.app.bootstrap import build_calendars
    from ticketing.config import load_config

    return build_calendars(load_config(ROOT / "config.example.toml"))


def deadlines(n: int, seed: int) -> float:
    """Seconds to compute ``n`` due times (fresh calendars: their caches start empty)."""
    from ticketing.core.sla import ALWAYS, Target, _calendar

    found = calendars()
    names = [ALWAYS, *found]
    rng = random.Random(seed)
    asks = [(_calendar(Target(rng.choice(TARGETS), rng.choice(names)), found),
             START + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)), rng.choice(TARGETS)) for _ in range(n)]
    started = time.perf_counter()
    for calendar, moment, target in asks:
        calendar.add(moment, target)
    return time.perf_counter() - started


def ticket_clocks(n: int, seed: int) -> float:
    """Seconds to compute every clock of ``n`` tickets under the example's enterprise policy."""
    from ticketing.config import load_config
    from ticketing.core.sla import clocks
    from ticketing.services.sla_watch import build_policies

    found = calendars()
    policy = build_policies(load_config(ROOT / "config.example.toml"))["enterprise"]
    rng = random.Random(seed)
    logs = []
    for _ in range(n):
        created = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        answered = created + timedelta(minutes=rng.randint(5, 900))
        events = [SimpleNamespace(at=created, kind="created", detail={}),
                  SimpleNamespace(at=answered, kind="engineer_replied", detail={})]
        if rng.random() < 0.3:
            events.append(SimpleNamespace(at=answered + timedelta(hours=1), kind="pending", detail={}))
            events.append(SimpleNamespace(at=answered + timedelta(hours=30), kind="customer_replied", detail={}))
        if rng.random() < 0.8:
            events.append(SimpleNamespace(at=answered + timedelta(hours=rng.randint(2, 200)), kind="resolved", detail={}))
        logs.append((events, rng.choice(("P0", "P1", "P2", "P3"))))
    now = START + timedelta(days=400)
    started = time.perf_counter()
    for events, priority in logs:
        clocks(events, priority, policy, found, now, explain=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="deadlines per round (default 200,000)")
    parser.add_argument("--tickets", type=int, default=20_000, help="tickets per round for the clocks (default 20,000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    best = min(deadlines(args.n, seed) for seed in range(args.repeat))
    best_clocks = min(ticket_clocks(args.tickets, seed) for seed in range(args.repeat))
    figures = {"deadlines": args.n, "deadlines_per_second": round(args.n / best),
               "tickets": args.tickets, "clocks_per_second": round(args.tickets / best_clocks),
               "load_average": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['deadlines_per_second']:,} deadlines/s ({args.n:,} due times, best of {args.repeat})")
        print(f"{figures['clocks_per_second']:,} tickets' clocks/s ({args.tickets:,} event logs, best of {args.repeat})")
        print(f"load average {figures['load_average']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
