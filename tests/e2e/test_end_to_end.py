"""whiteglove end to end, as its users meet it: mail delivered to a real Dovecot, the worker run as an
operator runs it (``whiteglove run --once --config FILE``), and what people receive at a real SMTP
server (aiosmtpd).

Each test starts from a fresh support mailbox (a Dovecot account), an empty database (SQLite, and
again PostgreSQL: the ``db_url`` fixture) and a configuration file like one an operator writes.
Everything is looked at from the outside: the mail at the SMTP server, ``whiteglove tickets/ticket/outbox --json``, and the IMAP folders. The worker
reads the wall clock, so the tests assert relations between times, never the times themselves.
"""
from __future__ import annotations

import contextlib
import io
import json
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from support.dovecot import DovecotServer
from support.smtp import Received, SmtpTestServer

from mailer.message import ParsedMessage, parse_message
from ticketing.app.cli import main
from ticketing.app.clock import utcnow
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

WHITEGLOVE = Path(sys.executable).parent / "whiteglove"
PASSWORD_ENV = "WG_E2E_IMAP_PASSWORD"
SUPPORT_NAME = "Northwind Onboarding Support"
CRM = "crm@northwind.example"
DANA = "dana@northwind.example"
PRIYA = "priya@northwind.example"
TOM = "tom@northwind.example"
BOB = "bob@globex.example"
MARKER = "Reply above this line"  # the start of the line at the top of mail to engineers

CONFIG = """\
[database]
url = "{db_url}"

[mailbox]
backend = "imap"
start_at = "2000-01-01"  # these tests' clocks are set by hand: every message they deliver is new
host = "{imap_host}"
port = {imap_port}
security = "none"
username = "{address}"
password_env = "{password_env}"
idle = false
{processed}

[outgoing]
backend = "smtp"
host = "{smtp_host}"
port = {smtp_port}
security = "none"
max_attempts = 5
retry_seconds = {retry_seconds}

[support]
address = "{address}"
name = "{support_name}"

[security]
trusted_notice_senders = ["{crm}"]

[[calendars]]
name = "us-pacific"
timezone = "America/Los_Angeles"

[[managers]]
email = "{dana}"
name = "Dana Whitfield"
timezone = "America/Los_Angeles"

[[engineers]]
email = "{priya}"
name = "Priya Raman"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "{dana}"

[[engineers]]
email = "{tom}"
name = "Tom Becker"
timezone = "America/Los_Angeles"
calendar = "us-pacific"
manager = "{dana}"

[[accounts]]
name = "Globex"
domains = ["globex.example"]
engineer = "{priya}"
timezone = "America/Chicago"

[[accounts.contacts]]
name = "Bob Martínez"
email = "{bob}"
role = "IT"
"""


# -- mail as people write it ---------------------------------------------------------------------


def message(*, sender: str, to: str, subject: str, body: str, message_id: str, in_reply_to: str | None = None,
            references: tuple[str, ...] = (), headers: dict[str, str] | None = None) -> bytes:
    """A plain-text message with CRLF line endings, as a mail client sends it."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def quoted(sent: ParsedMessage) -> str:
    """``sent``'s text as a mail client quotes it under a reply, after an attribution line."""
    lines = "\n".join(f"> {line}" if line else ">" for line in sent.text.splitlines())
    return f"On Wed, 25 Nov 2026 at 09:14, {SUPPORT_NAME} wrote:\n{lines}\n"


def delivery_report(support: str, *, failed: str, status: str = "5.1.1", original_id: str = "lost@example.test") -> bytes:
    """A Postfix-style RFC 3464 bounce (multipart/report) of mail ``support`` sent to ``failed``."""
    boundary = "4R0Bq61kT2z6.1795122175/mx1.northwind.example"
    text = f"""\
From: MAILER-DAEMON@mx1.northwind.example (Mail Delivery System)
To: {support}
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(utcnow())}
Message-ID: <20261125.bounce.4R0Bq61kT2z6@mx1.northwind.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.northwind.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{failed}>: host mx.globex.example[198.51.100.99] said:
    550 {status} <{failed}>: Recipient address rejected: User
    unknown in virtual mailbox table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.northwind.example
Arrival-Date: {format_datetime(utcnow())}

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: {status}
Remote-MTA: dns; mx.globex.example
Diagnostic-Code: smtp; 550 {status} <{failed}>: Recipient address rejected

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: {SUPPORT_NAME} <{support}>
To: {failed}
Subject: Re: SSO login loop [WG-7]
Message-ID: <{original_id}>

--{boundary}--
"""
    return text.replace("\n", "\r\n").encode("ascii")


# -- the help desk under test --------------------------------------------------------------------


@dataclass
class Sent:
    """One message the SMTP server accepted: the envelope and the parsed message."""

    envelope: Received
    mail: ParsedMessage

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.envelope.rcpt_tos


class HelpDesk:
    """A whiteglove installation: its config file, its support mailbox and its outgoing server."""

    def __init__(self, dovecot: DovecotServer, address: str, smtp: SmtpTestServer, tmp_path: Path,
                 write_config: Callable[..., Path], db_url: str):
        self.dovecot = dovecot
        self.db_url = db_url  # SQLite in tmp_path or an empty PostgreSQL database: every test runs on both
        self.address = address
        self.smtp = smtp
        self.tmp_path = tmp_path
        self._write_config = write_config
        self.config = write_config()

    def configure(self, **settings) -> None:
        """Rewrite the configuration file with other settings (``processed_folder``, ``retry_seconds``)."""
        self.config = self._write_config(**settings)

    # mail in

    def deliver(self, raw: bytes) -> None:
        """Deliver ``raw`` to the support mailbox over LMTP, as the mail server does."""
        self.dovecot.deliver(self.address, raw)

    def deliver_from_null_sender(self, raw: bytes) -> None:
        """Deliver ``raw`` with the null envelope sender ``<>`` that bounces carry (RFC 5321 4.5.5)."""
        with smtplib.LMTP(self.dovecot.host, self.dovecot.lmtp_port, timeout=30) as lmtp:
            refused = lmtp.sendmail("", [self.address], raw)
        assert not refused, refused

    # the operator's commands

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """Run ``whiteglove ARGV --config FILE`` in this process; return the exit code, stdout and stderr."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--config", str(self.config)])
        return code, out.getvalue(), err.getvalue()

    def run_once(self) -> str:
        """One pass of the worker (``whiteglove run --once``); returns what it printed."""
        code, out, err = self.cli("run", "--once")
        assert code == 0, err
        return out

    def run_once_as_subprocess(self) -> str:
        """``whiteglove run --once`` as an operator types it, in its own process."""
        result = subprocess.run([str(WHITEGLOVE), "run", "--once", "--config", str(self.config)],
                                check=False, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def tickets(self) -> list[dict]:
        code, out, err = self.cli("tickets", "--status", "all", "--json")
        assert code == 0, err
        return json.loads(out)

    def ticket(self, ticket_id: int) -> dict:
        code, out, err = self.cli("ticket", str(ticket_id), "--json")
        assert code == 0, err
        return json.loads(out)

    def outbox(self) -> list[dict]:
        code, out, err = self.cli("outbox", "--json")
        assert code == 0, err
        return json.loads(out)

    @contextlib.contextmanager
    def store(self) -> Iterator[SqlStore]:
        """The database, for what no command shows (accounts and engagements)."""
        store = SqlStore.open(self.db_url, create=False)
        try:
            yield store
        finally:
            store.close()

    # mail out

    def sent(self) -> list[Sent]:
        return [Sent(r, parse_message(r.content)) for r in list(self.smtp.received)]

    def sent_to(self, email: str) -> list[Sent]:
        return [s for s in self.sent() if email in s.recipients]

    def folders(self) -> dict[str, list[tuple[frozenset, bytes]]]:
        """Each IMAP folder's messages as ``(flags, raw)``."""
        with self.dovecot.client(self.address) as client:
            contents = {}
            for _flags, _delimiter, folder in client.list_folders():
                client.select_folder(folder, readonly=True)
                fetched = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
                contents[folder] = [(frozenset(fetched[uid][b"FLAGS"]) - {b"\\Recent"}, fetched[uid][b"BODY[]"])
                                    for uid in sorted(fetched)]
            return contents


@pytest.fixture
def desk(dovecot, imap_account, smtp_server, tmp_path, db_url, monkeypatch) -> HelpDesk:
    address, password = imap_account
    monkeypatch.setenv(PASSWORD_ENV, password)

    def write_config(processed_folder: str | None = None, retry_seconds: int = 60) -> Path:
        path = tmp_path / "whiteglove.toml"
        path.write_text(CONFIG.format(
            db_url=db_url, imap_host=dovecot.host, imap_port=dovecot.imap_port, address=address,
            password_env=PASSWORD_ENV, smtp_host=smtp_server.host, smtp_port=smtp_server.port,
            retry_seconds=retry_seconds, support_name=SUPPORT_NAME, crm=CRM, dana=DANA, priya=PRIYA, tom=TOM, bob=BOB,
            processed=f'processed_folder = "{processed_folder}"' if processed_folder else "",
        ), encoding="utf-8")
        return path

    return HelpDesk(dovecot, address, smtp_server, tmp_path, write_config, db_url)


def question(desk: HelpDesk, message_id: str = "q1@globex.example", subject: str = "SSO login loop",
             body: str = "Users who sign in through Okta are sent back to the login page.\n\nBob") -> bytes:
    return message(sender=f"Bob Martínez <{BOB}>", to=f"Support <{desk.address}>", subject=subject, body=body,
                   message_id=message_id)


def open_ticket(desk: HelpDesk) -> tuple[dict, Sent, Sent]:
    """Bob asks a question and the worker runs: returns the ticket, Priya's notification and Bob's receipt."""
    desk.deliver(question(desk))
    desk.run_once()
    [ticket] = desk.tickets()
    [notification] = desk.sent_to(PRIYA)
    [ack] = desk.sent_to(BOB)
    return ticket, notification, ack


def at(iso: str) -> datetime:
    """A timestamp from the JSON output (compared as times, not as strings)."""
    return datetime.fromisoformat(iso)


def events(desk: HelpDesk, ticket_id: int) -> list[str]:
    return [e["kind"] for e in desk.ticket(ticket_id)["events"]]


def mentions(sent: Sent, text: str) -> bool:
    """Whether ``text`` is in the text or the HTML part of ``sent``."""
    return text in sent.mail.text or text in (sent.mail.html or "")


def eventually(run: Callable[[], object], done: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> None:
    """Call ``run`` until ``done()``: for work the worker does once its time has come."""
    deadline = time.monotonic() + timeout
    while True:
        run()
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)  # a poll interval, not a wait for a known moment


# -- the tests -----------------------------------------------------------------------------------


def test_a_customers_question_notifies_the_accounts_engineer_and_acknowledges_the_customer_once(desk):
    desk.deliver(question(desk))
    out = desk.run_once_as_subprocess()
    assert "1 processed, 0 duplicates, 0 quarantined (1 new tickets)" in out
    assert "outbox: 2 sent, 0 to retry, 0 failed" in out

    [ticket] = desk.tickets()
    assert (ticket["assignee"], ticket["account"], ticket["kind"], ticket["status"]) == (PRIYA, "Globex", "support", "open")
    assert ticket["requester"] == BOB and ticket["requester_name"] == "Bob Martínez"
    tag = f"[WG-{ticket['id']}]"

    sent = desk.sent()
    assert len(sent) == 2
    [notification] = desk.sent_to(PRIYA)
    assert notification.recipients == (PRIYA,)
    assert notification.envelope.mail_from == desk.address
    assert tag in notification.mail.subject and "SSO login loop" in notification.mail.subject
    assert [a.email for a in notification.mail.reply_to] == [desk.address]
    assert notification.mail.from_.email == desk.address
    assert "Users who sign in through Okta are sent back" in notification.mail.text
    assert notification.mail.header("auto-submitted") in (None, "no")  # engineers answer it like any mail

    [ack] = desk.sent_to(BOB)
    assert ack.recipients == (BOB,)
    assert ack.mail.header("auto-submitted") == "auto-replied"
    assert ack.mail.in_reply_to == ("q1@globex.example",)
    assert "q1@globex.example" in ack.mail.references
    assert tag in ack.mail.subject
    assert ack.mail.from_.email == desk.address and ack.mail.from_.name == SUPPORT_NAME
    assert tag in ack.mail.text and "Priya Raman" in ack.mail.text
    assert ack.mail.message_id != notification.mail.message_id

    # Both are in the outbox as sent, tied to the ticket.
    outgoing = desk.ticket(ticket["id"])["outgoing"]
    assert sorted((o["purpose"], o["status"], o["attempts"]) for o in outgoing) == [
        ("acknowledgement", "sent", 1), ("notification", "sent", 1)]

    out = desk.run_once()
    assert "0 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out
    assert "outbox: 0 sent" in out
    assert len(desk.smtp.received) == 2
    assert len(desk.tickets()) == 1
    # Without a processed folder, handled mail stays in the inbox, flagged.
    [(flags, _raw)] = desk.folders()["INBOX"]
    assert {b"\\Seen", b"$Whiteglove"} <= flags


def test_an_engineers_answer_is_relayed_to_the_customer_without_commands_or_quotes_and_the_customers_reply_reopens(desk):
    ticket, notification, ack = open_ticket(desk)
    ticket_id = ticket["id"]
    assert ticket["status"] == "open" and desk.ticket(ticket_id)["first_response_at"] is None

    answer = message(
        sender=f"Priya Raman <{PRIYA}>", to=f"{SUPPORT_NAME} <{desk.address}>", subject=f"Re: {notification.mail.subject}",
        body="#pending\n\nCould you send the SAML trace?\n\n" + quoted(notification.mail),
        message_id="answer1@northwind.example", in_reply_to=notification.mail.message_id,
        references=(notification.mail.message_id,),
    )
    desk.deliver(answer)
    desk.run_once()

    shown = desk.ticket(ticket_id)
    assert shown["status"] == "pending"
    assert shown["first_response_at"] is not None
    assert at(shown["created_at"]) <= at(shown["first_response_at"])
    assert {"pending", "engineer_replied"} <= set(events(desk, ticket_id))

    relays = desk.sent_to(BOB)[1:]
    assert len(relays) == 1, [s.mail.subject for s in relays]
    [relay] = relays
    assert relay.recipients == (BOB,)
    assert relay.mail.from_.email == desk.address
    assert relay.mail.from_.name == f"Priya Raman via {SUPPORT_NAME}"
    customer_thread = {"q1@globex.example", ack.mail.message_id}
    assert relay.mail.in_reply_to and relay.mail.in_reply_to[0] in customer_thread
    assert "q1@globex.example" in relay.mail.references
    assert f"[WG-{ticket_id}]" in relay.mail.subject
    assert relay.mail.header("auto-submitted") in (None, "no")
    assert mentions(relay, "Could you send the SAML trace?")
    for internal in ("#pending", MARKER, "the engineer of the account", "Why:", "wrote:", notification.mail.subject):
        assert not mentions(relay, internal), internal
    # Nothing went back to the engineer: no command failed.
    assert len(desk.sent_to(PRIYA)) == 1

    reply = message(
        sender=f"Bob Martínez <{BOB}>", to=f"Priya Raman via {SUPPORT_NAME} <{desk.address}>",
        subject=f"Re: {relay.mail.subject}", body="Here it is: the trace shows a second AuthnRequest.\n\nBob\n\n"
        + quoted(relay.mail), message_id="q2@globex.example", in_reply_to=relay.mail.message_id,
        references=("q1@globex.example", relay.mail.message_id),
    )
    desk.deliver(reply)
    desk.run_once()

    shown = desk.ticket(ticket_id)
    assert shown["status"] == "open"
    assert shown["message_count"] == 3
    assert [m["kind"] for m in shown["thread"]] == ["new", "engineer_reply", "reply"]
    assert "reopened" in events(desk, ticket_id)
    updates = desk.sent_to(PRIYA)[1:]
    assert len(updates) == 1
    [update] = updates
    assert f"[WG-{ticket_id}]" in update.mail.subject
    assert "the trace shows a second AuthnRequest" in update.mail.text
    assert update.mail.in_reply_to == (notification.mail.message_id,)
    assert [a.email for a in update.mail.reply_to] == [desk.address]
    assert len(desk.sent_to(BOB)) == 2  # the receipt and the answer: the customer is not told of their own reply
    assert len(desk.tickets()) == 1

    # Priya answers the update and resolves: Bob's answer replies to his latest message.
    desk.deliver(message(
        sender=f"Priya Raman <{PRIYA}>", to=desk.address, subject=f"Re: {update.mail.subject}",
        body="#resolve\n\nThanks, the second AuthnRequest came from a stale bookmark; it is fixed now.\n\n"
        + quoted(update.mail), message_id="answer2@northwind.example", in_reply_to=update.mail.message_id,
        references=(notification.mail.message_id, update.mail.message_id),
    ))
    desk.run_once()
    shown = desk.ticket(ticket_id)
    assert shown["status"] == "resolved" and shown["resolved_at"] is not None
    [_ack, _relay, second] = desk.sent_to(BOB)
    assert second.mail.in_reply_to == ("q2@globex.example",)
    assert {"q1@globex.example", "q2@globex.example", relay.mail.message_id} <= set(second.mail.references)
    assert mentions(second, "it is fixed now") and not mentions(second, "#resolve")
    assert not mentions(second, "the trace shows a second AuthnRequest")  # the quoted update stays internal


def test_an_answer_sent_straight_to_the_customer_with_support_in_cc_is_recorded_and_not_sent_again(desk):
    ticket, _notification, ack = open_ticket(desk)
    desk.deliver(message(
        sender=f"Priya Raman <{PRIYA}>", to=f"Bob Martínez <{BOB}>", subject=f"Re: {ack.mail.subject}",
        body="Hi Bob, please clear the Okta session cookie and try again.\n", message_id="direct1@northwind.example",
        in_reply_to="q1@globex.example", references=("q1@globex.example",), headers={"Cc": desk.address},
    ))
    desk.run_once()

    shown = desk.ticket(ticket["id"])
    assert shown["first_response_at"] is not None
    assert [e["detail"] for e in shown["events"] if e["kind"] == "engineer_replied"] == [{"copy": True}]
    assert desk.sent_to(BOB) == [ack]  # Bob has it from Priya already
    assert len(desk.smtp.received) == 2


def outlook_answer(desk: HelpDesk, notification: Sent, text: str) -> EmailMessage:
    """An answer written in Outlook: its plain-text part separates the original with a line of underscores
    and a From/Sent/To/Subject block, without quoting it; its HTML part uses a rule and divRplyFwdMsg."""
    header_block = (f"From: {SUPPORT_NAME} <{desk.address}>\nSent: Wednesday, November 25, 2026 9:14 AM\n"
                    f"To: Priya Raman <{PRIYA}>\nSubject: {notification.mail.subject}\n")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Priya Raman <{PRIYA}>"
    msg["To"] = f"{SUPPORT_NAME} <{desk.address}>"
    msg["Subject"] = f"RE: {notification.mail.subject}"
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = "<DM6PR11MB4500.outlook1@DM6PR11MB4500.namprd11.prod.outlook.example>"
    msg["In-Reply-To"] = f"<{notification.mail.message_id}>"
    msg["References"] = f"<{notification.mail.message_id}>"
    msg.set_content(f"{text}\n\n{'_' * 32}\n{header_block}\n{notification.mail.text}")
    html_text = text.replace("\n", "<br>")
    msg.add_alternative(
        f'<html><body><div style="font-family:Calibri">{html_text}</div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
        f'<font face="Calibri, sans-serif"><b>From:</b> {SUPPORT_NAME} &lt;{desk.address}&gt;<br>'
        f'<b>Sent:</b> Wednesday, November 25, 2026 9:14 AM<br><b>Subject:</b> {notification.mail.subject}</font></div>'
        f'{notification.mail.html}</body></html>', subtype="html")
    return msg


def test_an_answer_written_in_outlook_reaches_the_customer_without_outlooks_separator_line(desk):
    _ticket, notification, _ack = open_ticket(desk)
    answer = outlook_answer(desk, notification, "Hi Bob,\n\nThe fix is deployed; please sign in again.\n\nPriya")
    desk.deliver(answer.as_bytes())
    desk.run_once()

    [relay] = desk.sent_to(BOB)[1:]
    assert mentions(relay, "The fix is deployed; please sign in again.")
    for internal in (MARKER, "Sent: Wednesday", "the engineer of the account"):
        assert not mentions(relay, internal), internal
    assert "____" not in relay.mail.text


def test_a_file_an_engineer_attaches_to_an_answer_reaches_the_customer(desk):
    _ticket, notification, _ack = open_ticket(desk)
    guide = b"%PDF-1.4\n% Okta SAML setup for Globex\n"
    answer = EmailMessage(policy=SMTP)
    answer["From"] = f"Priya Raman <{PRIYA}>"
    answer["To"] = desk.address
    answer["Subject"] = f"Re: {notification.mail.subject}"
    answer["Message-ID"] = "<answer-with-guide@northwind.example>"
    answer["In-Reply-To"] = f"<{notification.mail.message_id}>"
    answer.set_content("Please follow the attached guide to set up the Okta application again.\n\n"
                       + quoted(notification.mail))
    answer.add_attachment(guide, maintype="application", subtype="pdf", filename="okta-saml-setup.pdf")
    desk.deliver(answer.as_bytes())
    desk.run_once()

    [relay] = desk.sent_to(BOB)[1:]
    assert mentions(relay, "Please follow the attached guide")
    assert [(a.filename, a.content_type, a.size) for a in relay.mail.attachments] == [
        ("okta-saml-setup.pdf", "application/pdf", len(guide))]


def test_a_resolve_command_from_the_customers_address_changes_nothing_and_is_not_relayed(desk):
    ticket, _notification, ack = open_ticket(desk)
    spoof = message(
        sender=f"Bob Martínez <{BOB}>", to=desk.address, subject=f"Re: {ack.mail.subject}",
        body="#resolve\n\nNever mind, please close it.\n", message_id="spoof1@globex.example",
        in_reply_to=ack.mail.message_id, references=("q1@globex.example", ack.mail.message_id),
    )
    desk.deliver(spoof)
    desk.run_once()

    shown = desk.ticket(ticket["id"])
    assert shown["status"] == "open"
    assert shown["resolved_at"] is None
    ignored = [e for e in shown["events"] if e["kind"] == "command_ignored"]
    assert len(ignored) == 1
    assert ignored[0]["actor"] == BOB and ignored[0]["detail"]["commands"] == ["#resolve"]
    assert "resolved" not in [e["kind"] for e in shown["events"]]
    assert desk.sent_to(BOB) == [ack]  # nothing relayed to, or sent back to, the customer
    assert len(desk.tickets()) == 1


def test_an_out_of_office_reply_to_the_acknowledgement_sends_nothing_and_opens_no_ticket(desk):
    ticket, _notification, ack = open_ticket(desk)
    before = len(desk.smtp.received)
    out_of_office = message(
        sender=f"Bob Martínez <{BOB}>", to=desk.address, subject=f"Automatic reply: {ack.mail.subject}",
        body="I am out of the office until Monday 30 November with limited access to email.\n",
        message_id="ooo1@globex.example", in_reply_to=ack.mail.message_id, references=(ack.mail.message_id,),
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    desk.deliver(out_of_office)
    out = desk.run_once()
    assert "1 processed" in out

    assert len(desk.smtp.received) == before
    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    shown = desk.ticket(ticket["id"])
    assert shown["status"] == "open"
    assert "customer_replied" not in [e["kind"] for e in shown["events"]]
    desk.run_once()
    assert len(desk.smtp.received) == before


def test_mail_the_smtp_server_refuses_for_now_is_sent_later_exactly_once(desk):
    desk.configure(retry_seconds=1)
    desk.smtp.fail_next(2)
    desk.deliver(question(desk))
    out = desk.run_once()
    assert "outbox: 0 sent, 2 to retry, 0 failed" in out
    assert desk.smtp.received == []
    queued = desk.outbox()
    assert sorted(m["purpose"] for m in queued) == ["acknowledgement", "notification"]
    for mail in queued:
        assert (mail["status"], mail["attempts"], mail["sent_at"]) == ("queued", 1, None)
        assert "451" in mail["last_error"]
        assert at(mail["next_attempt_at"]) > at(mail["created_at"])

    eventually(desk.run_once, lambda: len(desk.smtp.received) >= 2, what="the retry")
    desk.run_once()

    ids = sorted(s.mail.message_id for s in desk.sent())
    assert ids == sorted(m["message_id"] for m in queued)  # each exactly once
    assert len(desk.sent_to(PRIYA)) == 1 and len(desk.sent_to(BOB)) == 1
    due = {m["message_id"]: at(m["next_attempt_at"]) for m in queued}
    for mail in desk.outbox():
        assert (mail["status"], mail["attempts"]) == ("sent", 2)
        assert at(mail["sent_at"]) >= due[mail["message_id"]]  # not before its retry was due
    assert len(desk.tickets()) == 1  # the retries handled the mailbox message only once


NOTICE = """\
An opportunity has been marked Closed Won.

Event: Closed Won
Account: Initech
Domains: initech.example
Opportunity ID: OPP-2026-0777
Contract ID: SOW-9001
Close Date: 2026-11-24
Package: Enterprise
Sales Rep: Dana Whitfield <dana@northwind.example>
Engineer: Tom Becker <tom@northwind.example>
Contact: Peter Gibbons <peter@initech.example>; role=project lead
Contact: Samir Nagheenanajar <samir@initech.example>; role=IT

Notes: Customer wants to be live before the end of January.

--
This message was sent by a workflow rule in Northwind CRM.
"""


def notice(desk: HelpDesk, sender: str, message_id: str) -> bytes:
    return message(sender=sender, to=f"Onboarding Support <{desk.address}>",
                   subject="Closed Won: Initech - Enterprise Onboarding (OPP-2026-0777)", body=NOTICE,
                   message_id=message_id)


def test_a_contract_closed_notice_from_the_crm_starts_an_engagement_for_the_engineer_it_names(desk):
    desk.deliver(notice(desk, f"Northwind CRM <{CRM}>", "opp-0777.closedwon@crm.northwind.example"))
    desk.run_once()

    [ticket] = desk.tickets()
    assert (ticket["kind"], ticket["priority"], ticket["assignee"], ticket["account"]) == (
        "contract_closed", "P2", TOM, "Initech")
    assert ticket["review"] is False
    with desk.store() as store:
        initech = next(a for a in store.accounts() if a.name == "Initech")
        [engagement] = store.engagements()
    assert initech.domains == ("initech.example",) and initech.engineer == TOM
    assert {c.email for c in initech.contacts} == {"peter@initech.example", "samir@initech.example"}
    assert (engagement.account, engagement.engineer, engagement.contract_id, engagement.ticket_id) == (
        "Initech", TOM, "SOW-9001", ticket["id"])

    [notification] = [s for s in desk.sent() if f"[WG-{ticket['id']}]" in s.mail.subject]
    assert notification.recipients == (TOM,)
    assert "Initech" in notification.mail.text and "SOW-9001" in notification.mail.text
    assert desk.sent_to(CRM) == []  # the CRM is never acknowledged
    # The engagement's playbook (Enterprise) sent its welcome and its invitations.
    assert any(s.mail.subject.startswith("Welcome to") for s in desk.sent_to("peter@initech.example"))
    assert any(s.mail.calendars and s.mail.calendars[0].method == "REQUEST" for s in desk.sent_to("peter@initech.example"))
    sent_so_far = len(desk.smtp.received)

    # The CRM sends the same deal again: one engagement, one ticket, no new mail.
    desk.deliver(notice(desk, f"Northwind CRM <{CRM}>", "opp-0777.closedwon.resent@crm.northwind.example"))
    assert "1 processed, 0 duplicates, 0 quarantined (0 new tickets)" in desk.run_once()
    assert len(desk.tickets()) == 1 and len(desk.smtp.received) == sent_so_far
    with desk.store() as store:
        assert len(store.engagements()) == 1

    # Mail from the new account's people now belongs to it, and to its engineer.
    desk.deliver(message(sender="Peter Gibbons <peter@initech.example>", to=desk.address,
                         subject="Kick-off call", body="When can we meet to start?\n", message_id="k1@initech.example"))
    desk.run_once()
    kickoff = next(t for t in desk.tickets() if t["requester"] == "peter@initech.example")
    assert (kickoff["account"], kickoff["assignee"]) == ("Initech", TOM)


def test_the_same_notice_from_an_untrusted_sender_is_a_ticket_for_review_and_starts_no_engagement(desk):
    desk.deliver(notice(desk, "Sales Team <sales@initech-deals.example>", "fake-0777@initech-deals.example"))
    desk.run_once()

    [ticket] = desk.tickets()
    assert (ticket["kind"], ticket["review"], ticket["requester"]) == ("support", True, "sales@initech-deals.example")
    with desk.store() as store:
        assert store.engagements() == []
        assert "Initech" not in [a.name for a in store.accounts()]
    assert desk.sent_to("sales@initech-deals.example") == []  # no receipt for mail held for review
    [notification] = desk.sent()
    assert notification.recipients[0] in (PRIYA, TOM)
    assert "review" in notification.mail.text


def test_a_go_live_date_weeks_ahead_from_an_accounts_contact_becomes_a_go_live_ticket_with_its_golive_date(desk):
    desk.deliver(message(
        sender=f"Bob Martínez <{BOB}>", to=desk.address, subject="Our go-live",
        body="Hi team,\n\nWe plan to go live on 14 January 2027. The cut-over window is 06:00-09:00 Central.\n\nBob\n",
        message_id="golive1@globex.example",
    ))
    desk.run_once()

    [ticket] = desk.tickets()
    # Weeks ahead: a plan, at the default priority (it rises as the day nears).
    assert (ticket["kind"], ticket["priority"], ticket["golive_date"]) == ("golive_intent", "P3", "2027-01-14")
    assert (ticket["assignee"], ticket["account"]) == (PRIYA, "Globex")
    assert desk.ticket(ticket["id"])["golive_text"]
    [notification] = desk.sent_to(PRIYA)
    assert "2027-01-14" in notification.mail.text
    assert " P3 " in notification.mail.subject
    assert len(desk.sent_to(BOB)) == 1


def test_a_bounce_of_mail_to_a_customer_opens_no_ticket_and_alerts_the_accounts_engineer(desk):
    ticket, _notification, ack = open_ticket(desk)
    desk.deliver_from_null_sender(delivery_report(desk.address, failed=BOB, original_id=ack.mail.message_id))
    out = desk.run_once()
    assert "1 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out

    assert [t["id"] for t in desk.tickets()] == [ticket["id"]]
    shown = desk.ticket(ticket["id"])
    assert shown["status"] == "open"
    [bounced] = [e for e in shown["events"] if e["kind"] == "bounced"]
    assert bounced["detail"]["recipients"] == [BOB] and bounced["detail"]["permanent"] is True
    with desk.store() as store:
        assert store.contact(BOB).failing_since is not None

    [alert] = desk.sent()[2:]
    assert alert.recipients == (PRIYA,)
    assert BOB in alert.mail.subject
    assert alert.mail.header("auto-submitted") == "auto-generated"
    assert "permanent" in alert.mail.text
    assert f"[WG-{ticket['id']}]" in alert.mail.text
    assert alert.envelope.mail_from == desk.address
    assert desk.sent_to(BOB) == [ack]  # nothing answers the bounce


def test_a_bounce_of_mail_to_a_contact_whose_ticket_is_resolved_still_alerts_the_accounts_engineer(desk):
    ticket, _notification, ack = open_ticket(desk)
    code, _, err = desk.cli("ticket", str(ticket["id"]), "resolve")
    assert code == 0, err
    desk.deliver_from_null_sender(delivery_report(desk.address, failed=BOB, original_id=ack.mail.message_id))
    desk.run_once()
    [alert] = [s for s in desk.sent() if "bounced" in s.mail.subject]
    assert alert.recipients == (PRIYA,) and BOB in alert.mail.subject


def test_a_bounce_of_mail_we_never_sent_marks_nobody_failing_and_tells_nobody(desk):
    # Anyone can send a delivery report naming a customer: this one returns a Message-ID of no mail of ours.
    _ticket, _notification, ack = open_ticket(desk)
    desk.deliver_from_null_sender(delivery_report(desk.address, failed=BOB, original_id="lost@example.test"))
    out = desk.run_once()
    assert "1 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out
    with desk.store() as store:
        assert store.contact(BOB).failing_since is None
    assert [s for s in desk.sent() if "bounced" in s.mail.subject] == []
    desk.deliver(question(desk, message_id="q2@globex.example", subject="API keys"))
    desk.run_once()
    assert len(desk.sent_to(BOB)) == 2  # Bob is still acknowledged


def test_a_customer_address_our_smtp_server_refuses_is_marked_failing_and_the_engineer_told(desk):
    desk.smtp.refuse_recipient(BOB, "550 5.1.1 <bob@globex.example>: no such mailbox")
    desk.deliver(question(desk))
    desk.run_once()  # the notification goes out; the acknowledgement is refused at RCPT
    [ack] = [m for m in desk.outbox() if m["purpose"] == "acknowledgement"]
    assert ack["status"] == "failed" and "550" in ack["last_error"]
    with desk.store() as store:
        contact = store.contact(BOB)
    assert contact.failing_since is not None
    desk.run_once()  # the alert queued by the refusal goes out
    [alert] = [s for s in desk.sent() if "bounced" in s.mail.subject]
    assert alert.recipients == (PRIYA,) and "no such mailbox" in alert.mail.text


def test_the_bounce_alert_quotes_what_the_receiving_server_said(desk):
    _ticket, _notification, ack = open_ticket(desk)
    desk.deliver_from_null_sender(delivery_report(desk.address, failed=BOB, original_id=ack.mail.message_id))
    desk.run_once()
    [alert] = [s for s in desk.sent() if "bounced" in s.mail.subject]
    said = alert.mail.text.split("The server said:", 1)[1]
    assert "5.1.1" in said and "Recipient address rejected" in said
    assert "multipart/report" not in said


def test_handled_mail_is_moved_from_the_inbox_to_the_processed_folder(desk):
    desk.configure(processed_folder="Processed")
    first, second = question(desk), question(desk, message_id="q2@globex.example", subject="API keys")
    desk.deliver(first)
    desk.deliver(second)
    out = desk.run_once()
    assert "2 processed" in out

    folders = desk.folders()
    assert folders["INBOX"] == []
    assert sorted(raw for _flags, raw in folders["Processed"]) == sorted(
        DovecotServer.stored(raw) for raw in (first, second))
    for flags, _raw in folders["Processed"]:
        assert {b"\\Seen", b"$Whiteglove"} <= flags
    assert len(desk.tickets()) == 2

    desk.run_once()
    assert len(desk.tickets()) == 2 and len(desk.smtp.received) == 4


SLA_SECTION = """
[[priorities.rules]]
priority = "P1"
keywords = ["outage"]

[sla]
default_policy = "enterprise"
escalate_after_minutes = 60
escalation_path = ["product-team@northwind.example"]

[[sla.policies]]
name = "enterprise"
targets = [
    {{ priority = "P1", first_response = "2h", resolution = "8h", clock = "24x7" }},
    {{ priority = "P3", first_response = "2h", resolution = "8h", clock = "24x7" }},
]
"""


def test_an_sla_breach_reaches_the_engineers_manager_and_then_escalates(desk):
    from freezegun import freeze_time

    desk.config.write_text(desk.config.read_text() + SLA_SECTION.format(), encoding="utf-8")
    desk.deliver(question(desk, subject="Outage: nobody can sign in"))  # P1; Dovecot stamps the real arrival time
    with freeze_time(datetime.now(timezone.utc) + timedelta(minutes=1), real_asyncio=True):
        desk.run_once()
    [ticket] = desk.tickets()
    assert ticket["priority"] == "P1"
    asked = at(ticket["created_at"])
    shown = desk.ticket(ticket["id"])
    assert shown["first_response"] == "running" and at(shown["first_response_due"]) == asked + timedelta(hours=2)
    before = len(desk.smtp.received)
    with freeze_time(asked + timedelta(hours=1, minutes=59), real_asyncio=True):
        desk.run_once()
    warnings = desk.sent()[before:]
    assert [s.recipients for s in warnings] == [(PRIYA,), (PRIYA,)]  # at 50 % and 80 %: Priya, the engineer
    with freeze_time(asked + timedelta(hours=2, minutes=1), real_asyncio=True):
        desk.run_once()
    [breach] = desk.sent()[before + 2:]
    assert breach.recipients == (DANA,) and "SLA breached" in breach.mail.subject
    assert breach.mail.header("auto-submitted") == "auto-generated"
    assert f"[WG-{ticket['id']}]" in breach.mail.subject and "first response" in breach.mail.text
    with freeze_time(asked + timedelta(hours=3, minutes=1), real_asyncio=True):
        desk.run_once()
        desk.run_once()  # nothing goes twice
    [escalation] = desk.sent()[before + 3:]
    assert escalation.recipients == ("product-team@northwind.example",) and "Escalation 1" in escalation.mail.subject
    assert desk.ticket(ticket["id"])["first_response"] == "breached"
