"""Latency: from a customer's mail reaching the mailbox to the engineer's notification reaching SMTP.

    python -m bench.latency                  # 50 mails, one a second
    python -m bench.latency --json --n 200   # machine-readable figures
    python -m bench.latency --interval 0.5

Everything is real and runs as in production: a private Dovecot (IMAP and LMTP, from
``tests/support/dovecot.py``), an aiosmtpd server (``tests/support/smtp.py``) as the outgoing
server, and ``whiteglove run`` as its own process with the example configuration, changed only
to read that Dovecot over IMAP with IDLE and to send through that aiosmtpd (SQLite database).

Each mail is a new question from a contact of the example's account (a new sender each time, so
no per-sender limit applies), delivered over LMTP as a mail server delivers it. The latency of
one mail runs from the start of its LMTP transaction to the moment aiosmtpd has taken the whole
DATA of the notification to the account's engineer. Mails go one at a time at a steady pace
(``--interval`` seconds apart, start to start): the next is delivered only once the notification of
the last has arrived and its slot has come, so each measures an idle worker woken by IDLE.
Two mails before the measured ones warm the worker up (its IMAP login, the first IDLE) and are
not counted.

Figures (``--json`` keys): ``p50_ms``, ``p95_ms``, ``max_ms`` (nearest rank), ``n``; also
``min_ms``, ``interval_seconds``, ``mailbox``, ``outbox``, ``database``, ``load_average``.
Prints figures; it is not a test (``tests/e2e/test_bench_latency.py`` runs it with a small n).
Needs Dovecot installed and root (Dovecot's mail belongs to an unprivileged user it creates).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = "support@northwind.example"
ENGINEER = "tom.becker@northwind.example"  # the engineer of the example's account, Globex
DOMAIN = "globex.example"
WARM_UP = 2
#: How long one notification may take before the run is called failed.
TIMEOUT = 30.0


def write_config(folder: Path, imap_port: int, smtp_port: int) -> Path:
    """The example configuration, reading Dovecot over IMAP with IDLE and sending to aiosmtpd."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    replacements = {
        'url = "sqlite:///whiteglove.db"': f'url = "sqlite:///{folder / "latency.db"}"',
        'backend = "maildir"\npath = "examples/inbox"':
            f'backend = "imap"\nhost = "127.0.0.1"\nport = {imap_port}\nsecurity = "none"\n'
            f'username = "{SUPPORT}"\npassword_env = "BENCH_IMAP_PASSWORD"\nidle = true',
        'backend = "directory"\npath = "outbox"':
            f'backend = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"',
    }
    for old, new in replacements.items():
        if old not in text:
            raise SystemExit(f"bench: config.example.toml has changed: {old.splitlines()[0]!r} not found")
        text = text.replace(old, new)
    path = folder / "latency.toml"
    path.write_text(text, encoding="utf-8")
    return path


def question(number: int, token: str) -> bytes:
    """A new customer's question; ``token`` in its subject finds the notification it causes."""
    sender = f"user{number}.{token}@{DOMAIN}"
    return (
        f"From: User {number} <{sender}>\r\nTo: {SUPPORT}\r\nSubject: SSO question {token}-{number}\r\n"
        f"Date: {format_datetime(datetime.now(timezone.utc))}\r\nMessage-ID: {make_msgid('latency', DOMAIN)}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
        "Hello,\r\n\r\nSince we enabled SAML single sign-on, users who sign in through Okta are sent back\r\n"
        "to the login page again and again. Local accounts still work.\r\n"
    ).encode()


def nearest_rank(values: list[float], percentile: int) -> float:
    """The smallest value that at least ``percentile`` % of ``values`` do not exceed."""
    ordered = sorted(values)
    return ordered[max(-(-percentile * len(ordered) // 100), 1) - 1]


class Arrivals:
    """Notifications to the engineer as aiosmtpd takes them: the moment each subject token arrived."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.changed = threading.Condition()

    def record(self, rcpt_tos, content: bytes) -> None:
        at = time.perf_counter()
        if ENGINEER not in {r.lower() for r in rcpt_tos}:
            return
        head = content.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        subject = next((line for line in head.split("\r\n") if line.lower().startswith("subject:")), "")
        with self.changed:
            for word in subject.split():
                self.times.setdefault(word, at)
            self.changed.notify_all()

    def wait(self, key: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while key not in self.times:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.times[key]


def start_smtp(arrivals: Arrivals):
    from support.smtp import SmtpTestServer

    class TimedServer(SmtpTestServer):
        def _data_reply(self, envelope) -> str:
            reply = super()._data_reply(envelope)
            if reply.startswith("250"):
                arrivals.record(envelope.rcpt_tos, bytes(envelope.content))
            return reply

    return TimedServer().start()


def measure(n: int, interval: float, folder: Path) -> dict:
    from support.dovecot import DovecotServer

    arrivals = Arrivals()
    dovecot = DovecotServer(folder / "dovecot")
    dovecot.start()
    smtp = start_smtp(arrivals)
    worker = None
    log_path = folder / "worker.log"
    try:
        password = secrets.token_urlsafe(12)
        dovecot.add_user(SUPPORT, password)
        config = write_config(folder, dovecot.imap_port, smtp.port)
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "whiteglove", "run", "--config", str(config)], cwd=folder,
                env={**os.environ, "BENCH_IMAP_PASSWORD": password}, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        token = secrets.token_hex(4)
        latencies: list[float] = []
        next_at = time.perf_counter()
        for number in range(WARM_UP + n):
            raw = question(number, token)
            time.sleep(max(0.0, next_at - time.perf_counter()))  # the pace: a slot every ``interval`` s
            sent_at = time.perf_counter()
            next_at = sent_at + interval
            dovecot.deliver(SUPPORT, raw)
            arrived = arrivals.wait(f"{token}-{number}", TIMEOUT)
            if arrived is None:
                code = worker.poll()
                raise SystemExit(f"bench: no notification to {ENGINEER} for mail {number} within {TIMEOUT:.0f} s"
                                 + (f" (the worker exited {code})" if code is not None else "")
                                 + f"; the worker's log:\n{_tail(log_path)}")
            if number >= WARM_UP:
                latencies.append((arrived - sent_at) * 1000)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        smtp.stop()
        dovecot.stop()
    return {
        "n": len(latencies), "p50_ms": round(nearest_rank(latencies, 50), 1),
        "p95_ms": round(nearest_rank(latencies, 95), 1), "max_ms": round(max(latencies), 1),
        "min_ms": round(min(latencies), 1), "interval_seconds": interval,
        "mailbox": "Dovecot over IMAP with IDLE, delivered over LMTP", "outbox": "SMTP (aiosmtpd)",
        "database": "sqlite", "load_average": round(os.getloadavg()[0], 2),
    }


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="mails measured (default 50)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds from one delivery to the next (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()
    if args.n < 1 or args.interval < 0:
        parser.error("--n must be at least 1 and --interval not negative")
    if shutil.which("dovecot") is None and shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
        print("bench: Dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="wg-latency-"))
    folder.chmod(0o755)  # Dovecot's processes must traverse it to reach the mail
    sys.path.insert(0, str(ROOT / "tests"))
    from support.dovecot import DovecotError

    try:
        figures = measure(args.n, args.interval, folder)
    except DovecotError as exc:
        print(f"bench: Dovecot could not be used: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['n']} mails, one every {args.interval:g} s: {figures['mailbox']}; {figures['outbox']}")
    for key in ("p50_ms", "p95_ms", "max_ms", "min_ms", "load_average"):
        print(f"{key + ':':16}{figures[key]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
