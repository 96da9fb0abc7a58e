"""Several ``whiteglove run`` processes on one PostgreSQL database: throughput with 1, 2 and 4 workers
draining one Maildir end to end (intake, acknowledgements and notifications, sending them to an
outbox folder), and how long after a SIGKILL of the intake holder another worker takes the mailbox
over. Prints its figures; it is not a test.

    python -m bench.workers --db postgresql://postgres@127.0.0.1:5432/test          # 1, 2, 4 workers
    python -m bench.workers --db ... --n 5000 --workers 1 2 --json

The database's ``public`` schema is dropped and made again for every run: point it at a scratch
database. One mailbox is taken by one worker at a time (its intake lease), so more workers add
senders and standby, not intake speed; the figure says what that costs or gains.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from ticketing.store import SqlStore

WORKER = "import sys; from ticketing.app.cli import main; sys.exit(main(sys.argv[1:]))"


def write_mail(maildir: Path, first: int, count: int) -> None:
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    for n in range(first, first + count):
        (maildir / "new" / f"{int(when.timestamp())}.M{n}P1.bench").write_bytes(
            (f"From: Customer {n} <customer{n % 500}@customer{n % 7}.example>\r\nTo: support@northwind.example\r\n"
             f"Subject: Question {n}\r\nMessage-ID: <bench.{n}@customer.example>\r\n"
             f"Date: {format_datetime(when)}\r\n\r\nSince yesterday SSO sends users back to the login page.\r\n").encode())


def fresh(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()


def config_file(folder: Path, url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[database]
url = "{url}"
[mailbox]
backend = "maildir"
path = "{folder / 'inbox'}"
poll_seconds = 1
start_at = "2020-01-01"
[outgoing]
backend = "directory"
path = "{folder / 'outbox'}"
[support]
address = "support@northwind.example"
name = "Northwind Support"
acknowledgements_per_hour = 1000
[[engineers]]
email = "priya@northwind.example"
name = "Priya Raman"
""", encoding="utf-8")
    return path


def wait_until(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def run(url: str, n: int, workers: int) -> dict:
    fresh(url)
    SqlStore.open(url).close()  # the schema, made once before the workers race to make it
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("new", "cur", "tmp"):
            (folder / "inbox" / sub).mkdir(parents=True)
        write_mail(folder / "inbox", 0, n)
        config = config_file(folder, url)
        store = SqlStore.open(url)

        def drained(expected: int) -> bool:
            counts = store.outbox_counts()
            tickets = store.db.execute_sql("SELECT count(*) FROM ticket").fetchone()[0]
            return tickets >= expected and not any(v for k, v in counts.items() if k.value in ("queued", "sending"))

        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, "run", "--config", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        try:
            wait_until(lambda: drained(n), timeout=1800)
            seconds = time.monotonic() - started
            sent = store.db.execute_sql("SELECT count(*) FROM outbound_message WHERE status = 'sent'").fetchone()[0]
            takeover = None
            if workers > 1:
                holder = store.m.Lease.select().where(store.m.Lease.name.startswith("intake:")).get().holder
                pid = int(holder.rsplit(":", 2)[1])
                os.kill(pid, signal.SIGKILL)
                killed = time.monotonic()
                write_mail(folder / "inbox", n, 10)
                wait_until(lambda: drained(n + 10), timeout=120)
                takeover = time.monotonic() - killed
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            store.close()
    return {"workers": workers, "messages": n, "mails_sent": sent, "seconds": round(seconds, 2),
            "emails_per_second": round(n / seconds, 1),
            "takeover_seconds": None if takeover is None else round(takeover, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("WHITEGLOVE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--n", type=int, default=2000, help="messages in the mailbox (default 2000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    results = [run(args.db, args.n, w) for w in args.workers]
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"runs": results, "load_average": round(load, 2), "cpus": os.cpu_count()}))
        return 0
    for r in results:
        takeover = f", intake taken over {r['takeover_seconds']} s after SIGKILL of its holder" \
            if r["takeover_seconds"] is not None else ""
        print(f"{r['workers']} worker(s): {r['messages']} messages in {r['seconds']} s "
              f"({r['emails_per_second']}/s, {r['mails_sent']} mails sent){takeover}")
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
