"""Intake throughput and memory: messages per second from mailbox to committed tickets.

Intake only: nothing is sent. The whole pipeline, sending included, is ``python -m bench.ingest``.

Target: 600 messages per second or more on a 2-core machine, with memory that stays flat as the
mailbox grows. Prints its figures; it is not a test.

    python bench/intake_throughput.py                      # in-memory mailbox, SQLite
    python bench/intake_throughput.py --count 20000        # a bigger mailbox: memory should not grow
    python bench/intake_throughput.py --imap               # a real Dovecot (needs dovecot-imapd)
    python bench/intake_throughput.py --imap --config config.example.toml   # both
    python bench/intake_throughput.py --config config.example.toml   # with engineers, SLA policies
    python bench/intake_throughput.py --db postgresql://postgres@127.0.0.1/test
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from mailer.source import SourceMessage  # noqa: E402
from ticketing.app.clock import utcnow  # noqa: E402
from ticketing.services.intake import Intake  # noqa: E402
from ticketing.store import SqlStore  # noqa: E402

BODY = (
    "Hello,\n\nSince we enabled SAML single sign-on yesterday, users who sign in through Okta are sent\n"
    "back to the login page again and again. Local accounts still work.\n\n" + "Some more detail. " * 100
)


def make(n: int) -> bytes:
    """A ~3 KB message; every fifth replies to the one before it, every tenth is an auto-reply.

    Built by string formatting: composing with EmailMessage costs ~4 ms a message, which would
    cap the figure this bench measures.
    """
    subject = f"Question number {n}" if n % 5 else f"Re: Question number {n - 1}"
    extra = ""
    if n % 5 == 0 and n:
        extra += f"In-Reply-To: <bench.{n - 1}@customer.example>\r\n"
    if n % 10 == 3:
        extra += "Auto-Submitted: auto-replied\r\n"
    return (
        f"From: User {n % 97} <user{n % 97}@customer{n % 13}.example>\r\n"
        "To: support@northwind.example\r\n"
        f"Subject: {subject}\r\n"
        "Date: Wed, 18 Nov 2026 16:00:00 +0000\r\n"
        f"Message-ID: <bench.{n}@customer.example>\r\n{extra}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n\r\n" + BODY.replace("\n", "\r\n")
    ).encode()


class GeneratedSource:
    """An in-memory mailbox that makes its messages on demand, so the bench itself holds none."""

    def __init__(self, count: int):
        self.name = "bench"
        self.count = count
        self.acked = 0

    def list_new(self, cursor):
        start = int(cursor) + 1 if cursor else 0
        return [f"{n:09d}" for n in range(start, self.count)]

    def cursor_after(self, key):
        return key

    def fetch(self, keys):
        return [SourceMessage(key=k, raw=make(int(k)), received_at=utcnow()) for k in keys]

    def acknowledge(self, processed, quarantined):
        self.acked += len(processed) + len(quarantined)

    def wait(self, timeout, stop):
        stop.wait(timeout)

    def close(self):
        pass


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(source, db_url: str, batch_size: int, config_path: str | None = None) -> None:
    store = SqlStore.open(db_url)
    if config_path:
        # The whole help desk of a configuration: its engineers, accounts, SLA policies, playbooks.
        from ticketing.app.bootstrap import build_desk
        from ticketing.config import load_config

        config = load_config(config_path)
        with store.transaction():
            store.sync_accounts(config.accounts, utcnow())
        desk = build_desk(config, store)
    else:
        from ticketing.app.bootstrap import build_minimal_desk

        desk = build_minimal_desk(store)
    intake = Intake(store, utcnow, desk, batch_size=batch_size)
    before = rss_mb()
    start = time.perf_counter()
    summary = intake.poll(source, stop=threading.Event())
    elapsed = time.perf_counter() - start
    total = summary.processed + summary.duplicates + summary.quarantined
    print(f"messages:        {total} ({summary})")
    print(f"elapsed:         {elapsed:.2f} s")
    print(f"throughput:      {total / elapsed:.0f} messages/s (target: 600)")
    print(f"peak RSS:        {rss_mb():.0f} MB (before intake: {before:.0f} MB)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--imap", action="store_true", help="deliver to a private Dovecot and read it over IMAP")
    parser.add_argument("--config", help="use the full help desk of this configuration (e.g. config.example.toml)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{tmp}/bench.db"
        if not args.imap:
            print(f"in-memory mailbox, {db_url.split(':')[0]}")
            run(GeneratedSource(args.count), db_url, args.batch_size, args.config)
            return
        from support.dovecot import DovecotServer

        from mailer.imap import ImapSource

        Path(tmp).chmod(0o755)  # Dovecot's processes must traverse it to reach the mail
        server = DovecotServer(Path(tmp) / "dovecot")
        server.start()
        try:
            server.add_user("bench@example.com", "secret")
            t0 = time.perf_counter()
            server.deliver_many("bench@example.com", (make(n) for n in range(args.count)))
            print(f"delivered {args.count} messages over LMTP in {time.perf_counter() - t0:.1f} s")
            source = ImapSource(
                name="bench-imap", host=server.host, port=server.imap_port, security="none",
                username="bench@example.com", password="secret", processed_folder="Processed",
                batch_size=args.batch_size,
            )
            print(f"Dovecot over IMAP, {db_url.split(':')[0]}")
            run(source, db_url, args.batch_size, args.config)
            source.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
