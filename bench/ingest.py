"""End-to-end intake speed: generated mail drained by the worker, sending included.

    python -m bench.ingest --n 1000                  # Dovecot over IMAP if installed, else Maildir
    python -m bench.ingest --n 10000 --json          # machine-readable figures
    python -m bench.ingest --n 1000 --maildir        # a Maildir folder even where Dovecot is installed
    python -m bench.ingest --n 1000 --postgres postgresql://postgres@127.0.0.1/bench

What runs is ``whiteglove run``'s worker, built from ``config.example.toml`` (with six more
accounts and two more engineers) by the same bootstrap: intake (classification, routing,
acknowledgements, SLA deadlines), the outbox sending what it queued to a directory outbox (one
``.eml`` per mail, fsynced, as ``[outgoing] backend = "directory"`` does), and the periodic jobs
at their intervals. Passes are repeated until a pass handles and sends nothing.

The mail is a mix: new tickets from contacts of several accounts and from strangers, replies in
their threads, auto-replies, and a few bounces. The fetch+parse floor (reading every message from
the same mailbox and parsing it, no database) is measured in the same run, before the worker.

Figures (``--json`` keys): ``emails_per_second`` (inbound messages per second of the whole drain),
``floor_emails_per_second``, ``peak_rss_mib`` (the process's peak), ``cpu_seconds`` (this
process's user+system time during the drain); also ``mailbox``, ``database``, ``outbox``, ``sent``.
Prints figures; it is not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BODY = (
    "Hello,\n\nSince we enabled SAML single sign-on yesterday, users who sign in through Okta are sent\n"
    "back to the login page again and again. Local accounts still work.\n\n"
    + "Some more detail about what we tried and what we saw in the logs. " * 30
)

#: When the generated mail was written: minutes ago, so that SLA clocks run as in a live mailbox.
SENT_AT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=10)
ACCOUNTS = 6
CONTACTS_PER_ACCOUNT = 40
EXTRA = """
[[engineers]]
email = "li.wei@northwind.example"
name = "Li Wei"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "dana.whitfield@northwind.example"

[[engineers]]
email = "ana.souza@northwind.example"
name = "Ana Souza"
timezone = "Europe/Berlin"
calendar = "eu-berlin"
manager = "dana.whitfield@northwind.example"
"""
ENGINEERS = ["priya.raman", "tom.becker", "li.wei", "ana.souza"]


def _accounts() -> str:
    parts = []
    for a in range(ACCOUNTS):
        parts.append(f'\n[[accounts]]\nname = "Customer {a}"\ndomains = ["customer{a}.example"]\n'
                     f'engineer = "{ENGINEERS[a % len(ENGINEERS)]}@northwind.example"\ntier = "enterprise"\n')
        for c in range(CONTACTS_PER_ACCOUNT):
            parts.append(f'\n[[accounts.contacts]]\nname = "User {c}"\nemail = "user{c}@customer{a}.example"\n')
    return "".join(parts)


def sender(n: int) -> str:
    if n % 10 == 7:  # a stranger: no account, a ticket of its own
        return f"someone{n % 211}@elsewhere{n % 7}.example"
    return f"user{(n // ACCOUNTS) % CONTACTS_PER_ACCOUNT}@customer{n % ACCOUNTS}.example"


def make(n: int) -> bytes:
    """Message ``n`` (~2.5 KB): mostly new tickets; every fourth replies in the thread of the
    message four before it (same sender), every tenth is an auto-reply, one in a hundred a bounce.

    Built by string formatting: composing with EmailMessage would cap the figure measured.
    """
    date = f"Date: {format_datetime(SENT_AT)}\r\n"
    if n % 100 == 99:
        return _bounce(n, date)
    extra = ""
    subject = f"Question number {n}"
    frm = sender(n)
    if n % 4 == 3 and n >= 4:
        frm = sender(n - 4 * ACCOUNTS) if n >= 4 * ACCOUNTS else frm
        subject = f"Re: Question number {n - 4}"
        extra += f"In-Reply-To: <bench.{n - 4}@customer.example>\r\n"
    if n % 10 == 5:
        subject = f"Out of office: Question number {n}"
        extra += "Auto-Submitted: auto-replied\r\n"
    return (
        f"From: User <{frm}>\r\nTo: support@northwind.example\r\nSubject: {subject}\r\n{date}"
        f"Message-ID: <bench.{n}@customer.example>\r\n{extra}MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        + BODY.replace("\n", "\r\n")
    ).encode()


def _bounce(n: int, date: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx1.northwind.example>\r\n"
        f"To: support@northwind.example\r\nSubject: Undelivered Mail Returned to Sender\r\n{date}"
        f"Message-ID: <bounce.{n}@mx1.northwind.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx1.northwind.example\r\n\r\n"
        f"Final-Recipient: rfc822; gone{n}@customer1.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@northwind.example\r\nTo: gone{n}@customer1.example\r\n"
        f"Message-ID: <not-ours.{n}@northwind.example>\r\nSubject: Re: something\r\n--b--\r\n"
    ).encode()


def write_config(tmp: Path, mailbox: str, db_url: str, imap_port: int | None) -> Path:
    text = (ROOT / "config.example.toml").read_text()
    text = text.replace('url = "sqlite:///whiteglove.db"', f'url = "{db_url}"')
    if imap_port is None:
        text = text.replace('path = "examples/inbox"', f'path = "{mailbox}"')
    else:
        text = text.replace('backend = "maildir"\npath = "examples/inbox"',
                            f'backend = "imap"\nhost = "127.0.0.1"\nport = {imap_port}\nsecurity = "none"\n'
                            'username = "support@northwind.example"\npassword_env = "BENCH_IMAP_PASSWORD"\n'
                            'idle = false')
    text = text.replace('path = "outbox"', f'path = "{tmp}/outbox"')
    text += EXTRA + _accounts()
    path = tmp / "bench.toml"
    path.write_text(text)
    (tmp / "outbox").mkdir()
    return path


def fill_maildir(path: Path, n: int) -> None:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    base = int(SENT_AT.timestamp())
    for i in range(n):
        (path / "new" / f"{base + i}.M{i}P1.bench").write_bytes(make(i))


def floor(source, batch_size: int) -> tuple[int, float]:
    """Fetch and parse every message of ``source`` without storing or acknowledging anything."""
    from mailer import parse_message

    start = time.perf_counter()
    keys = source.list_new(None)
    count = 0
    for i in range(0, len(keys), batch_size):
        for msg in source.fetch(keys[i : i + batch_size]):
            parse_message(msg.raw)
            count += 1
    return count, time.perf_counter() - start


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drain(config_path: Path) -> dict:
    from ticketing.app.bootstrap import build_app, build_sender, build_source
    from ticketing.app.worker import Worker
    from ticketing.config import load_config

    config = load_config(config_path)
    source, sender = build_source(config), build_sender(config)
    app = build_app(config)
    jobs = app.jobs()
    worker = Worker(app.intake, source, poll_seconds=60, outbox=app.outbox_sender(sender), clock=app.clock,
                    jobs=jobs)
    floor_count, floor_seconds = floor(build_source(config), config.mailbox.batch_size)
    last_run: dict[str, float] = {}
    handled = sent = 0
    cpu0, start = cpu(), time.perf_counter()
    while True:
        now_wall = time.perf_counter()
        due = [j for j in jobs if j.name not in last_run or now_wall - last_run[j.name] >= j.seconds]
        for job in due:
            last_run[job.name] = now_wall
        tick = worker.tick(jobs=due)
        if tick.error is not None:
            raise SystemExit(f"bench: intake failed: {tick.error!r}")
        done = tick.intake.processed + tick.intake.duplicates + tick.intake.quarantined
        out = tick.outbox.sent if tick.outbox else 0
        handled, sent = handled + done, sent + out
        if not done and not out:
            break
    elapsed, cpu_seconds = time.perf_counter() - start, cpu() - cpu0
    source.close()
    sender.close()
    app.close()
    return {
        "messages": handled, "sent": sent, "seconds": round(elapsed, 2),
        "emails_per_second": round(handled / elapsed, 1),
        "floor_emails_per_second": round(floor_count / floor_seconds, 1),
        "cpu_seconds": round(cpu_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="messages in the mailbox")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database (emptied first) instead of SQLite")
    parser.add_argument("--maildir", action="store_true", help="a Maildir folder even if Dovecot is installed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wg-bench-"))
    tmp.chmod(0o755)  # Dovecot's processes must traverse it to reach the mail
    server = None
    try:
        db_url = args.postgres or f"sqlite:///{tmp}/bench.db"
        if args.postgres:
            _empty_postgres(args.postgres)
        use_dovecot = not args.maildir and shutil.which("dovecot") is not None
        if use_dovecot:
            sys.path.insert(0, str(ROOT / "tests"))
            from support.dovecot import DovecotServer

            server = DovecotServer(tmp / "dovecot")
            server.start()
            server.add_user("support@northwind.example", "secret")
            os.environ["BENCH_IMAP_PASSWORD"] = "secret"
            server.deliver_many("support@northwind.example", (make(i) for i in range(args.n)))
            config_path = write_config(tmp, "", db_url, server.imap_port)
            mailbox = "Dovecot over IMAP"
        else:
            fill_maildir(tmp / "inbox", args.n)
            config_path = write_config(tmp, str(tmp / "inbox"), db_url, None)
            mailbox = "Maildir"
        figures = drain(config_path)
        figures.update(
            n=args.n, mailbox=mailbox, database="postgresql" if args.postgres else "sqlite",
            outbox="directory (.eml files)", peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            load_average=round(os.getloadavg()[0], 2),
        )
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['n']} messages, {mailbox}, {figures['database']}, outbox: {figures['outbox']}")
    for key in ("emails_per_second", "floor_emails_per_second", "peak_rss_mib", "cpu_seconds", "seconds", "sent",
                "load_average"):
        print(f"{key + ':':26}{figures[key]}")


def _empty_postgres(url: str) -> None:
    from ticketing.store import SqlStore

    store = SqlStore.open(url, create=False)  # whatever schema version it is at: it goes
    store.db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    store.close()


if __name__ == "__main__":
    main()
