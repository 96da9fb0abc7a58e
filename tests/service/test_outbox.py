"""The outbox: queued with its cause, sent once, retried with backoff, failures kept for the operator."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

from support.mail import unsigned

from mailer.directory_sender import DirectorySender
from mailer.message import Address, parse_message
from mailer.sending import SmtpSender
from ticketing.core.mails import Draft, Support
from ticketing.files.templates import Renderer
from ticketing.services.outbox import Outbox
from ticketing.services.outbox_sender import OutboxSender, RetryPolicy

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
SUPPORT = Support("support@northwind.example", "Northwind Support")
BOB = Address("Bob Martínez", "bob@globex.example")
RENDERER = Renderer()


def draft(token="ack.1", to=(BOB,), **kw) -> Draft:
    fields = dict(purpose="acknowledgement", token=token, to=to, subject="Re: SSO loop [WG-1]",
                  body=("We have opened ticket [WG-1].\n", "<p>We have opened ticket [WG-1].</p>"),
                  in_reply_to="q1@globex.example", references=("q1@globex.example",), auto_submitted="auto-replied")
    fields.update(kw)
    return Draft(**fields)


def policy(**kw):
    return RetryPolicy(rng=random.Random(7), **kw)


def test_a_queued_message_is_written_once_with_stable_headers(store, tmp_path):
    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        message_id = outbox.queue(draft(), NOW)
        assert outbox.queue(draft(), NOW) is None  # the same cause cannot queue it twice
    assert re.fullmatch(r"wg\.ack\.1\.[a-z2-7]{8}@northwind\.example", message_id)  # the cause, signed
    assert Outbox(store, SUPPORT).message_id("ack.1") == message_id  # the same in every worker, after restarts
    sender = OutboxSender(store, DirectorySender(tmp_path / "out"), RENDERER, policy())
    assert sender.send_due(NOW).sent == 1
    assert sender.send_due(NOW + timedelta(hours=1)).sent == 0
    [path] = list((tmp_path / "out").glob("*.eml"))
    sent = parse_message(path.read_bytes())
    assert sent.message_id == message_id
    assert sent.in_reply_to == ("q1@globex.example",) and sent.references == ("q1@globex.example",)
    assert sent.header("auto-submitted") == "auto-replied"
    assert sent.to == (BOB,) and sent.from_ == Address("Northwind Support", "support@northwind.example")
    [mail] = store.outbox()
    assert (mail.status, mail.attempts, mail.sent_at) == ("sent", 1, NOW)


def test_a_refusing_server_gets_the_message_later_exactly_once(store, smtp_server):
    smtp_server.fail_next(2)
    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        outbox.queue(draft(), NOW)
    sender = OutboxSender(store, SmtpSender(smtp_server.host, smtp_server.port, security="none", local_hostname="wg.test"), RENDERER,
                          policy(first=timedelta(minutes=1)))
    assert sender.send_due(NOW).retrying == 1
    [mail] = store.outbox()
    assert mail.status == "queued" and "451" in mail.last_error
    assert timedelta(seconds=45) <= mail.next_attempt_at - NOW <= timedelta(seconds=75)  # first delay, jittered
    assert sender.send_due(NOW + timedelta(seconds=30)).sent == 0  # not due yet
    second = mail.next_attempt_at
    assert sender.send_due(second).retrying == 1
    [mail] = store.outbox()
    assert timedelta(seconds=90) <= mail.next_attempt_at - second <= timedelta(seconds=150)  # doubled
    assert sender.send_due(mail.next_attempt_at).sent == 1
    assert sender.send_due(mail.next_attempt_at + timedelta(days=1)).sent == 0
    assert len(smtp_server.received) == 1
    assert unsigned(parse_message(smtp_server.received[0].content).message_id) == "wg.ack.1@northwind.example"
    sender.sender.close()


def test_a_permanent_refusal_or_the_last_attempt_marks_the_message_failed(store, smtp_server):
    smtp_server.refuse_recipient("bob@globex.example")
    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        outbox.queue(draft(), NOW)
        outbox.queue(draft(token="ack.2", to=(Address("", "carol@globex.example"),)), NOW)
    smtp_server.fail_next(2)
    sender = OutboxSender(store, SmtpSender(smtp_server.host, smtp_server.port, security="none", local_hostname="wg.test"), RENDERER,
                          policy(max_attempts=2, first=timedelta(seconds=1)))
    sender.send_due(NOW)
    sender.send_due(NOW + timedelta(minutes=5))
    failed = {m.recipients[0]: m for m in store.outbox(status="failed")}
    assert set(failed) == {"bob@globex.example", "carol@globex.example"}
    assert "550" in failed["bob@globex.example"].last_error
    assert "gave up after 2 attempts" in failed["carol@globex.example"].last_error
    assert smtp_server.received == []
    assert store.requeue(failed["carol@globex.example"].id, NOW + timedelta(minutes=6))
    assert sender.send_due(NOW + timedelta(minutes=6)).sent == 1  # the operator's retry goes through
    sender.sender.close()


def test_a_claim_left_by_a_crashed_worker_is_retried_after_the_lease(store, tmp_path):
    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        outbox.queue(draft(), NOW)
    claimed = store.claim_due_mail(NOW, 10, timedelta(minutes=10))  # then the worker dies
    assert len(claimed) == 1 and store.claim_due_mail(NOW, 10, timedelta(minutes=10)) == []
    sender = OutboxSender(store, DirectorySender(tmp_path), RENDERER, policy(), lease=timedelta(minutes=10))
    assert sender.send_due(NOW + timedelta(minutes=5)).sent == 0
    assert sender.send_due(NOW + timedelta(minutes=11)).sent == 1


def test_a_server_refusing_our_login_ends_the_pass_and_the_rest_wait_without_losing_attempts(store):
    from mailer import SenderAuthError

    class RefusingLogin:
        tries = 0

        def send(self, raw, envelope_from, recipients):
            RefusingLogin.tries += 1
            raise SenderAuthError("smtp.example.com refused the OAuth2 token of support@northwind.example: 535")

        def close(self):
            pass

    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        for n in range(5):
            outbox.queue(draft(token=f"ack.{n}"), NOW)
    summary = OutboxSender(store, RefusingLogin(), RENDERER, policy()).send_due(NOW)
    assert RefusingLogin.tries == 1  # the server was asked once, not five times
    assert (summary.retrying, summary.error) == (5, "smtp.example.com refused the OAuth2 token of support@northwind.example: 535")
    mails = store.outbox()
    assert {m.status for m in mails} == {"queued"} and sorted(m.attempts for m in mails) == [0, 0, 0, 0, 1]
    assert len({m.next_attempt_at for m in mails}) == 1 and mails[0].next_attempt_at > NOW


def test_an_outage_of_hours_fails_no_message_and_everything_goes_when_the_server_is_back(store):
    from mailer import ServerUnavailableError

    class Outage:
        down = True
        sent: list = []
        tries = 0

        def send(self, raw, envelope_from, recipients):
            Outage.tries += 1
            if Outage.down:
                raise ServerUnavailableError("cannot connect to smtp.example.com:587: ConnectionRefusedError")
            Outage.sent.append(raw)

        def close(self):
            pass

    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        for n in range(3):
            outbox.queue(draft(token=f"ack.{n}"), NOW)
    sender = OutboxSender(store, Outage(), RENDERER, policy(max_attempts=3))
    now = NOW
    for _ in range(12):  # three hours of a pass every quarter of an hour
        summary = sender.send_due(now)
        assert summary.failed == 0 and summary.error.startswith("cannot connect")
        now += timedelta(minutes=15)
    assert Outage.tries == 12  # one try per pass, not one per message
    assert {(m.status, m.attempts) for m in store.outbox()} == {("queued", 0)}
    Outage.down = False
    assert sender.send_due(now).sent == 3 and len(Outage.sent) == 3
