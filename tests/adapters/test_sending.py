"""Sending: one contract for every MailSender, then each adapter against real storage and a real server.

The SMTP tests run against aiosmtpd on 127.0.0.1 (tests/support/smtp.py), with TLS certificates
from a test CA made by trustme.
"""
from __future__ import annotations

import logging
import os
import pickle
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
from support.smtp import SmtpTestServer

from mailer.compose import compose
from mailer.directory_sender import DirectorySender, message_file_name
from mailer.errors import (
    PartiallySentError,
    PermanentSendError,
    SenderAuthError,
    SenderTLSError,
    ServerUnavailableError,
    TransientSendError,
)
from mailer.message import Address
from mailer.sending import MailSender, SmtpSender

SUPPORT = "support@northwind.example"
BOB = "bob@globex.example"
CAROL = "carol@globex.example"
CLIENT_NAME = "client.test"  # spares smtplib a look-up of this machine's FQDN
# aiosmtpd warns when a server takes AUTH without TLS: these test servers do, on loopback.
CLEAR_TEXT_AUTH = "ignore:Requiring AUTH while not requiring TLS:UserWarning"


def message(token: str = "wg.ack.42", text: str = "Hello Bob,\n.a line starting with a dot\n.\nBye\n") -> bytes:
    return compose(sender=Address("Northwind Support", SUPPORT), to=[Address("Bob Martinez", BOB)],
                   subject="Your request", text=text, message_id=f"{token}@northwind.example",
                   date=datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc))


def smtp_sender(server: SmtpTestServer, **options) -> SmtpSender:
    options.setdefault("security", "none")
    return SmtpSender(server.host, server.port, local_hostname=CLIENT_NAME, timeout=10, **options)


def eml_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.eml"))


# -- the contract every MailSender keeps ---------------------------------------------------------

@dataclass
class Outbox:
    sender: MailSender
    delivered: Callable[[], list[bytes]]


@pytest.fixture(params=["directory", "smtp"])
def outbox(request, tmp_path):
    if request.param == "directory":
        folder = tmp_path / "outbox"
        box = Outbox(DirectorySender(folder), lambda: [p.read_bytes() for p in eml_files(folder)])
    else:
        server = request.getfixturevalue("smtp_server")
        box = Outbox(smtp_sender(server), lambda: [r.content for r in server.received])
    yield box
    box.sender.close()


def test_a_sent_message_arrives_byte_for_byte(outbox):
    raw = message()
    outbox.sender.send(raw, SUPPORT, [BOB])
    assert outbox.delivered() == [raw]


def test_two_messages_arrive_as_two(outbox):
    outbox.sender.send(message("wg.ack.1"), SUPPORT, [BOB])
    outbox.sender.send(message("wg.ack.2"), SUPPORT, [BOB, CAROL])
    assert sorted(outbox.delivered()) == sorted([message("wg.ack.1"), message("wg.ack.2")])


def test_the_null_sender_is_accepted_for_automatic_mail(outbox):
    outbox.sender.send(message(), "", [BOB])
    assert outbox.delivered() == [message()]


@pytest.mark.parametrize("envelope_from, recipients", [
    (SUPPORT, []), (SUPPORT, BOB), (SUPPORT, ["bob@globex.example>\r\nRCPT TO:<evil@attacker.example"]),
    ("support@northwind.example\r\nRSET", [BOB]), (SUPPORT, ["not an address"]), ("<>", [BOB]),
])
def test_an_unusable_envelope_is_refused_before_anything_is_sent(outbox, envelope_from, recipients):
    with pytest.raises(ValueError):
        outbox.sender.send(message(), envelope_from, recipients)
    assert outbox.delivered() == []


def test_a_sender_can_be_closed_twice_and_used_again(outbox):
    outbox.sender.close()
    outbox.sender.close()
    outbox.sender.send(message(), SUPPORT, [BOB])
    assert outbox.delivered() == [message()]


# -- DirectorySender -------------------------------------------------------------------------------

def test_the_outbox_directory_is_created_when_missing(tmp_path):
    folder = tmp_path / "a" / "b" / "outbox"
    DirectorySender(folder).send(message(), SUPPORT, [BOB])
    assert [p.read_bytes() for p in eml_files(folder)] == [message()]


def test_sending_the_same_message_twice_writes_one_file(tmp_path):
    sender = DirectorySender(tmp_path)
    sender.send(message(), SUPPORT, [BOB])
    first = eml_files(tmp_path)
    sender.send(message(), SUPPORT, [BOB])
    assert eml_files(tmp_path) == first and len(first) == 1
    assert first[0].name == message_file_name(message())
    assert "wg.ack.42@northwind.example" in first[0].name


def test_a_resend_with_the_same_message_id_keeps_the_first_copy(tmp_path):
    sender = DirectorySender(tmp_path)
    sender.send(message(text="first"), SUPPORT, [BOB])
    sender.send(message(text="second"), SUPPORT, [BOB])
    assert [p.read_bytes() for p in eml_files(tmp_path)] == [message(text="first")]


def test_a_message_without_message_id_is_named_after_its_bytes(tmp_path):
    sender = DirectorySender(tmp_path)
    raw = b"Subject: no id\r\n\r\nbody\r\n"
    sender.send(raw, SUPPORT, [BOB])
    sender.send(raw, SUPPORT, [BOB])
    sender.send(b"Subject: no id\r\n\r\nanother body\r\n", SUPPORT, [BOB])
    names = [p.name for p in eml_files(tmp_path)]
    assert len(names) == 2 and all(n.startswith("sha256-") for n in names)


def test_a_hostile_message_id_cannot_leave_the_outbox(tmp_path):
    folder = tmp_path / "outbox"
    sender = DirectorySender(folder)
    for ident in ["../../escape@x", "/etc/passwd@x", ".hidden@x", "a\\b@x", "x" * 500 + "@x"]:
        sender.send(f"Message-ID: <{ident}>\r\n\r\nbody\r\n".encode(), SUPPORT, [BOB])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox"]
    names = [p.name for p in folder.iterdir()]
    assert len(names) == 5 and all(n.endswith(".eml") and not n.startswith(".") and len(n) < 120 for n in names)


@pytest.mark.parametrize("raw, named_after", [
    (b"Subject: x\r\nMessage-ID:\r\n <folded@x>\r\n\r\nMessage-ID: <in-body@x>\r\n", "folded@x"),
    (b"Subject: x\n\nMessage-ID: <in-body@x>\n", None),
    (b"Subject: x\r\nnot a header\r\nMessage-ID: <after-a-broken-line@x>\r\n\r\n", None),
])
def test_the_file_name_comes_from_the_header_block_only(raw, named_after):
    name = message_file_name(raw)
    assert name.startswith(named_after) if named_after else name.startswith("sha256-")


def test_ids_that_differ_only_in_unsafe_characters_get_different_files(tmp_path):
    sender = DirectorySender(tmp_path)
    sender.send(b"Message-ID: <a/b@x>\r\n\r\none\r\n", SUPPORT, [BOB])
    sender.send(b"Message-ID: <a:b@x>\r\n\r\ntwo\r\n", SUPPORT, [BOB])
    sender.send(b"Message-ID: <A/b@x>\r\n\r\nthree\r\n", SUPPORT, [BOB])
    assert len(eml_files(tmp_path)) == 3


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_that_fails_halfway_leaves_no_file_at_all(tmp_path, monkeypatch, failing):
    sender = DirectorySender(tmp_path)
    sender.send(message("wg.ack.1"), SUPPORT, [BOB])

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(TransientSendError, match="No space left"):
        sender.send(message("wg.ack.2"), SUPPORT, [BOB])
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [message_file_name(message("wg.ack.1"))]
    sender.send(message("wg.ack.2"), SUPPORT, [BOB])  # the retry writes it
    assert len(eml_files(tmp_path)) == 2


def test_a_complete_file_is_all_a_reader_ever_sees(tmp_path, monkeypatch):
    seen_during_write: list[list[str]] = []
    real_fsync = os.fsync

    def watching_fsync(fd):
        seen_during_write.append(sorted(p.name for p in tmp_path.glob("*.eml")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watching_fsync)
    DirectorySender(tmp_path).send(message(), SUPPORT, [BOB])
    assert seen_during_write[0] == []  # the bytes are flushed before the name appears
    assert [p.read_bytes() for p in eml_files(tmp_path)] == [message()]
    assert [p.name for p in tmp_path.iterdir()] == [message_file_name(message())]


def test_a_batch_is_written_whole_each_file_flushed_before_its_name_appears(tmp_path, monkeypatch):
    sender = DirectorySender(tmp_path)
    sender.send(message("wg.ack.1"), SUPPORT, [BOB])
    first = eml_files(tmp_path)[0].stat().st_mtime_ns
    names_when_flushed: list[list[str]] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (names_when_flushed.append(sorted(p.name for p in eml_files(tmp_path))),
                                                 real_fsync(fd)))
    batch = [(message(f"wg.ack.{n}"), SUPPORT, [BOB]) for n in (1, 2, 3, 3)] + [(message("wg.ack.4"), SUPPORT, "x")]
    results = sender.send_many(batch)
    assert [type(r).__name__ for r in results] == ["NoneType"] * 4 + ["ValueError"]
    assert len(names_when_flushed) == 2 and all(names == [p.name for p in eml_files(tmp_path)][:1]
                                                for names in names_when_flushed)  # the new names come after
    assert sorted(p.read_bytes() for p in eml_files(tmp_path)) == sorted(message(f"wg.ack.{n}") for n in (1, 2, 3))
    assert eml_files(tmp_path)[0].stat().st_mtime_ns == first  # the one there already was left alone
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_file_of_a_batch_that_cannot_be_flushed_is_a_transient_error_and_leaves_nothing(tmp_path, monkeypatch):
    sender = DirectorySender(tmp_path, flush_threads=1)  # one at a time: "the second" is well defined
    real_fsync, calls = os.fsync, []

    def failing_second(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_second)
    results = sender.send_many([(message(f"wg.ack.{n}"), SUPPORT, [BOB]) for n in (1, 2, 3)])
    assert [type(r).__name__ for r in results] == ["NoneType", "TransientSendError", "NoneType"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(message_file_name(message(f"wg.ack.{n}")) for n in (1, 3))
    sender.close()


def test_an_unwritable_outbox_is_a_transient_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(TransientSendError):
        DirectorySender(blocker / "outbox").send(message(), SUPPORT, [BOB])


@pytest.mark.parametrize("code, fix", [(13, "make it writable by"), (30, "mount its file system read-write"),
                                       (28, "free space")])
def test_a_folder_that_takes_no_file_is_no_messages_fault_and_says_the_fix(tmp_path, monkeypatch, code, fix):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ServerUnavailableError) as caught:
        DirectorySender(tmp_path).send(message(), SUPPORT, [BOB])
    assert str(caught.value).startswith(f"cannot write in the outbox folder {tmp_path}: {os.strerror(code)} (fix: {fix}")
    # the same when the batch is written together (the worker's way with a directory outbox)
    results = DirectorySender(tmp_path).send_many([(message(f"wg.ack.{n}"), SUPPORT, [BOB]) for n in (1, 2)])
    assert [type(r) for r in results] == [ServerUnavailableError, ServerUnavailableError]
    assert str(results[0]).startswith(f"cannot write in the outbox folder {tmp_path}: {os.strerror(code)} (fix: {fix}")


# -- SmtpSender: delivery and connections ---------------------------------------------------------

def test_smtp_delivers_with_the_right_envelope_and_exact_bytes(smtp_server):
    raw = message()
    with smtp_sender(smtp_server) as sender:
        sender.send(raw, SUPPORT, [BOB, CAROL, BOB])
    (received,) = smtp_server.received
    assert received.mail_from == SUPPORT
    assert received.rcpt_tos == (BOB, CAROL)
    assert received.content == raw


def test_one_connection_carries_several_messages(smtp_server):
    with smtp_sender(smtp_server) as sender:
        for n in range(3):
            sender.send(message(f"wg.ack.{n}"), SUPPORT, [BOB])
    assert len(smtp_server.received) == 3
    assert smtp_server.connections == 1


def test_a_connection_dropped_between_two_sends_is_opened_again(smtp_server):
    with smtp_sender(smtp_server) as sender:
        sender.send(message("wg.ack.1"), SUPPORT, [BOB])
        assert smtp_server.drop_connections() == 1
        sender.send(message("wg.ack.2"), SUPPORT, [BOB])
    assert [r.content for r in smtp_server.received] == [message("wg.ack.1"), message("wg.ack.2")]
    assert smtp_server.connections == 2


def test_a_server_that_refuses_connections_is_a_transient_error():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        sender = SmtpSender("127.0.0.1", unused.getsockname()[1], security="none", local_hostname=CLIENT_NAME)
        with pytest.raises(TransientSendError, match="cannot connect"):
            sender.send(message(), SUPPORT, [BOB])


def test_a_server_that_never_answers_is_a_transient_error_after_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection in the kernel, never says hello
        sender = SmtpSender("127.0.0.1", silent.getsockname()[1], security="none", timeout=0.3,
                            local_hostname=CLIENT_NAME)
        with pytest.raises(TransientSendError):
            sender.send(message(), SUPPORT, [BOB])


# -- SmtpSender: replies --------------------------------------------------------------------------

def test_a_4xx_reply_is_transient_and_a_later_send_succeeds(smtp_server):
    smtp_server.fail_next(1, "451 4.3.0 Try again later")
    with smtp_sender(smtp_server) as sender:
        with pytest.raises(TransientSendError, match="451"):
            sender.send(message(), SUPPORT, [BOB])
        sender.send(message(), SUPPORT, [BOB])
    assert [r.content for r in smtp_server.received] == [message()]


def test_a_5xx_reply_to_the_message_is_permanent(smtp_server):
    smtp_server.fail_next(1, "554 5.6.0 Message rejected")
    with smtp_sender(smtp_server) as sender:
        with pytest.raises(PermanentSendError, match="554 5.6.0 Message rejected") as caught:
            sender.send(message(), SUPPORT, [BOB])
        assert not isinstance(caught.value, PartiallySentError)
        sender.send(message(), SUPPORT, [BOB])  # the connection is still good
    assert smtp_server.connections == 1


def test_every_recipient_refused_with_5xx_is_permanent(smtp_server):
    smtp_server.refuse_recipient(BOB)
    smtp_server.refuse_recipient(CAROL, "553 5.1.3 Bad address")
    with smtp_sender(smtp_server) as sender, pytest.raises(PermanentSendError) as caught:
        sender.send(message(), SUPPORT, [BOB, CAROL])
    assert not isinstance(caught.value, PartiallySentError)
    assert BOB in str(caught.value) and "553" in str(caught.value)
    assert smtp_server.received == []


def test_recipients_refused_with_any_4xx_are_transient(smtp_server):
    smtp_server.refuse_recipient(BOB, "450 4.2.1 Mailbox busy")
    smtp_server.refuse_recipient(CAROL)
    with smtp_sender(smtp_server) as sender, pytest.raises(TransientSendError, match="450"):
        sender.send(message(), SUPPORT, [BOB, CAROL])


def test_a_partial_refusal_says_who_got_the_message_and_who_did_not(smtp_server):
    smtp_server.refuse_recipient(CAROL, "550 5.1.1 No such user")
    with smtp_sender(smtp_server) as sender, pytest.raises(PartiallySentError) as caught:
        sender.send(message(), SUPPORT, [BOB, CAROL])
    error = caught.value
    assert isinstance(error, PermanentSendError)
    assert error.accepted == (BOB,)
    assert error.refused == {CAROL: (550, "5.1.1 No such user")}
    assert [(r.rcpt_tos, r.content) for r in smtp_server.received] == [((BOB,), message())]
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.accepted, copy.refused, str(copy)) == (error.accepted, error.refused, str(error))


# -- SmtpSender: TLS -------------------------------------------------------------------------------

def test_starttls_with_a_verified_certificate_delivers(smtp_server_factory):
    server = smtp_server_factory(tls="starttls")
    with smtp_sender(server, security="starttls", ssl_context=server.client_context()) as sender:
        sender.send(message(), SUPPORT, [BOB])
    assert [r.content for r in server.received] == [message()]


def test_starttls_refuses_a_certificate_from_an_unknown_authority(smtp_server_factory):
    server = smtp_server_factory(tls="starttls")
    with smtp_sender(server, security="starttls") as sender:  # the system's trust store
        with pytest.raises(SenderTLSError, match="certificate .* failed verification"):
            sender.send(message(), SUPPORT, [BOB])
    assert server.received == []


def test_starttls_refuses_to_send_to_a_server_that_does_not_offer_it(smtp_server):
    with smtp_sender(smtp_server, security="starttls", ssl_context=None) as sender:
        with pytest.raises(SenderTLSError, match="does not offer STARTTLS"):
            sender.send(message(), SUPPORT, [BOB])
    assert smtp_server.received == []


def test_implicit_tls_delivers(smtp_server_factory):
    server = smtp_server_factory(tls="implicit")
    with smtp_sender(server, security="tls", ssl_context=server.client_context()) as sender:
        sender.send(message(), SUPPORT, [BOB])
    assert [r.content for r in server.received] == [message()]


def test_implicit_tls_refuses_a_certificate_from_an_unknown_authority(smtp_server_factory):
    server = smtp_server_factory(tls="implicit")
    with smtp_sender(server, security="tls") as sender, pytest.raises(SenderTLSError):
        sender.send(message(), SUPPORT, [BOB])
    assert server.received == []


# -- SmtpSender: logging in ------------------------------------------------------------------------

def test_a_login_after_starttls_delivers(smtp_server_factory):
    server = smtp_server_factory(tls="starttls", users={"helpdesk": "s3cret-pw"})
    with smtp_sender(server, security="starttls", ssl_context=server.client_context(),
                     username="helpdesk", password="s3cret-pw") as sender:
        sender.send(message(), SUPPORT, [BOB])
    assert server.logins == ["helpdesk"]
    assert [r.content for r in server.received] == [message()]


@pytest.mark.filterwarnings(CLEAR_TEXT_AUTH)
def test_a_wrong_password_is_an_auth_error_and_never_logged(smtp_server_factory, caplog):
    server = smtp_server_factory(users={"helpdesk": "s3cret-pw"})
    caplog.set_level(logging.DEBUG)
    sender = smtp_sender(server, username="helpdesk", password="wrong-pw-123")
    with pytest.raises(SenderAuthError, match="refused the login of helpdesk") as caught:
        sender.send(message(), SUPPORT, [BOB])
    assert not isinstance(caught.value, (TransientSendError, PermanentSendError))
    assert server.received == []
    for text in (caplog.text, str(caught.value), repr(sender)):
        assert "wrong-pw-123" not in text


@pytest.mark.filterwarnings(CLEAR_TEXT_AUTH)
def test_a_server_that_wants_a_login_is_an_auth_error_when_none_is_configured(smtp_server_factory):
    server = smtp_server_factory(users={"helpdesk": "s3cret-pw"})
    with smtp_sender(server) as sender, pytest.raises(SenderAuthError, match="530"):
        sender.send(message(), SUPPORT, [BOB])
    assert server.received == []


def test_credentials_are_never_sent_in_clear_text_to_a_remote_host():
    with pytest.raises(ValueError, match="clear text"):
        SmtpSender("smtp.example.com", 25, security="none", username="helpdesk", password="pw")
    SmtpSender("127.0.0.1", 25, security="none", username="helpdesk", password="pw")  # loopback is fine
    SmtpSender("localhost", 25, security="none", username="helpdesk", password="pw")


def test_clear_text_to_a_remote_host_without_a_login_is_allowed_with_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="mailer.sending")
    SmtpSender("smtp.example.com", 25, security="none")
    assert "clear text" in caplog.text


@pytest.mark.parametrize("options", [
    {"security": "ssl"}, {"username": "helpdesk"}, {"password": "pw"}, {"timeout": 0},
])
def test_an_invalid_smtp_configuration_is_refused(options):
    with pytest.raises(ValueError):
        SmtpSender("smtp.example.com", 587, **options)
