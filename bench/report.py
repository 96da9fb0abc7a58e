"""The weekly SLA summary and ``whiteglove tickets --json`` over 100,000 tickets: seconds and peak memory.

Target: the weekly summary in under 3 s; ``tickets --json`` streams (its memory does not grow with
the number of tickets). Prints its figures; it is not a test.

    python -m bench.report                 # 100,000 tickets, figures in words
    python -m bench.report --json          # {"weekly": {"seconds", "cpu_seconds", "peak_rss_mib"}, "tickets_json": {...}}
    python -m bench.report --n 20000

The tickets go into a temporary SQLite database with bulk inserts through the store's models: the
configuration example's engineers and accounts, twelve weeks of tickets (created, answered,
resolved; one in eight still open, some pending), each with its event log and its stored SLA state.
Each measurement runs the command (``main([...])``, output to /dev/null) in a fresh process, so its
peak RSS is its own (imports included); ``seconds`` leave out importing the modules. ``cpu_seconds``
(the process's user and system time over the same span) moves less than ``seconds`` when other
work shares the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 2000  # rows per INSERT (SQLite allows 32,766 variables)


def write_config(folder: Path) -> Path:
    """The example configuration with the database in ``folder``."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///whiteglove.db"', f'url = "sqlite:///{folder / "bench.db"}"')
    text = text.replace('path = "examples/inbox"', f'path = "{ROOT / "examples" / "inbox"}"')
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def generate(config_path: Path, n: int, now: datetime, seed: int = 15) -> None:
    """``n`` tickets of the configured engineers over the twelve weeks before ``now``, with events."""
    from ticketing.app.bootstrap import build_store
    from ticketing.config import load_config

    config = load_config(config_path)
    store = build_store(config)
    rng = random.Random(seed)
    m = store.m
    with store.transaction():
        store.sync_accounts(config.accounts, now)
    accounts = [a.id for a in m.Account.select(m.Account.id)]
    engineers = [e.email for e in config.engineers]
    span = timedelta(weeks=12).total_seconds()
    tickets, events = [], []
    for number in range(1, n + 1):
        created = now - timedelta(seconds=rng.uniform(0, span))
        answered = created + timedelta(minutes=rng.randint(5, 600))
        resolved = answered + timedelta(hours=rng.randint(1, 120))
        roll = rng.random()
        status = "open" if roll < 0.08 else "pending" if roll < 0.12 else "resolved"
        if resolved > now:
            status = "open"
        tickets.append({
            "id": number, "kind": "support", "status": status, "priority": rng.choice(("P0", "P1", "P2", "P2", "P3")),
            "subject": f"Question {number} about single sign-on", "requester": f"user{number % 500}@globex.example",
            "requester_name": f"User {number % 500}", "created_at": created, "updated_at": created,
            "account": rng.choice(accounts), "assignee": engineers[number % len(engineers)], "assigned_at": created,
            "first_response_at": answered if answered <= now else None,
            "resolved_at": resolved if status == "resolved" else None, "seen_at": created,
            "first_response_state": "met" if answered <= now else "running",
            "first_response_due": created + timedelta(hours=4),
            "resolution_state": "met" if status == "resolved" else "paused" if status == "pending" else "running",
            "resolution_due": created + timedelta(hours=24),
        })
        events.append({"ticket": number, "at": created, "kind": "created", "actor": "", "detail": "{}"})
        if answered <= now:
            events.append({"ticket": number, "at": answered, "kind": "engineer_replied", "actor": "", "detail": "{}"})
        if status in ("resolved", "pending") and resolved <= now:
            events.append({"ticket": number, "at": resolved, "kind": status, "actor": "", "detail": "{}"})
    with store.transaction():
        for rows, model in ((tickets, m.Ticket), (events, m.TicketEvent)):
            for start in range(0, len(rows), CHUNK):
                model.insert_many(rows[start:start + CHUNK]).execute()
    store.close()


def measure(what: str, config_path: Path) -> dict:
    """Run ``what`` ("weekly" or "tickets_json") in this process; its seconds and peak RSS."""
    import ticketing.app.cli.commands  # noqa: F401 - imports are not what is measured
    from ticketing.app.cli import main

    started, cpu_started = time.perf_counter(), time.process_time()
    if what == "weekly":
        with open(os.devnull, "w") as sink:
            real, sys.stdout = sys.stdout, sink
            try:
                code = main(["report", "weekly", "--json", "--config", str(config_path)])
            finally:
                sys.stdout = real
    else:
        with open(os.devnull, "w") as sink:
            real, sys.stdout = sys.stdout, sink
            try:
                code = main(["tickets", "--json", "--status", "all", "--config", str(config_path)])
            finally:
                sys.stdout = real
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if code:
        raise SystemExit(f"{what} exited {code}")
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "peak_rss_mib": peak_rss_mib()}


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM, which exec resets (ru_maxrss keeps the forking parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(what: str, config_path: Path) -> dict:
    found = subprocess.run([sys.executable, "-m", "bench.report", "--child", what, str(config_path)], cwd=ROOT,
                           check=True, capture_output=True, text=True)
    return json.loads(found.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="tickets (default 100,000)")
    parser.add_argument("--repeat", type=int, default=1, help="measure each this many times, keep the best")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return 0
    with tempfile.TemporaryDirectory(prefix="whiteglove-bench-") as folder:
        config_path = write_config(Path(folder))
        started = time.perf_counter()
        generate(config_path, args.n, datetime.now(timezone.utc))
        generated = time.perf_counter() - started
        figures = {"tickets": args.n, "generate_seconds": round(generated, 1), "load_average": os.getloadavg()[0]}
        for what in ("weekly", "tickets_json"):
            runs = [child(what, config_path) for _ in range(args.repeat)]
            figures[what] = min(runs, key=lambda r: r["seconds"])
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['tickets']:,} tickets generated in {figures['generate_seconds']} s "
              f"(load average {figures['load_average']:.2f})")
        for what, label in (("weekly", "report weekly --json:"), ("tickets_json", "tickets --json:")):
            found = figures[what]
            print(f"{label:22}{found['seconds']} s ({found['cpu_seconds']} s of CPU), peak RSS {found['peak_rss_mib']} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
