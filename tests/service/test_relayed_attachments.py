"""A customer's mail with thousands of attachments is relayed to the engineer with the first
``[support] max_relayed_attachments`` files attached and the others named in the text, not as a
notification of thousands of parts; an engineer's answer to the customer likewise."""
from __future__ import annotations

import copy

from support.desk import CONFIG, Desk


def with_files(count: int, *, sender="Bob <bob@globex.example>", subject="Logs from every node",
               message_id="<logs@globex.example>", extra_headers="") -> bytes:
    head = (f"From: {sender}\r\nTo: support@northwind.example\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Wed, 18 Nov 2026 16:00:00 +0000\r\n{extra_headers}MIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
            "--XX\r\nContent-Type: text/plain\r\n\r\nThe SSO loop, logs attached.\r\n")
    parts = "".join(f'--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="node-{n:05}.log"\r\n\r\n'
                    f"log {n}\r\n" for n in range(count))
    return (head + parts + "--XX--\r\n").encode()


def config(limit: int | None = None) -> dict:
    cfg = copy.deepcopy(CONFIG)
    if limit is not None:
        cfg["support"]["max_relayed_attachments"] = limit
    return cfg


def test_twenty_thousand_attachments_reach_the_engineer_as_twenty_files_and_the_rest_by_name(store):
    desk = Desk(store, config())
    assert desk.receive(with_files(20_000)).processed == 1
    [(_, mail)] = desk.mail("notification", to="priya@northwind.example")
    assert [a.filename for a in mail.attachments] == [f"node-{n:05}.log" for n in range(20)]
    assert "node-00019.log" in mail.text and "node-00020.log" in mail.text and "node-01500.log" in mail.text
    assert "Not attached (" in mail.text and "past what is relayed" in mail.text


def test_the_limit_is_the_operators_and_a_reply_on_the_ticket_keeps_it_too(store):
    desk = Desk(store, config(limit=3))
    desk.receive(with_files(2, message_id="<first@globex.example>", subject="SSO loop"))
    [(_, first)] = desk.mail("notification")
    assert len(first.attachments) == 2 and "Not attached" not in first.text
    desk.receive(with_files(10, message_id="<more@globex.example>", subject="Re: SSO loop [WG-1]",
                            extra_headers="In-Reply-To: <first@globex.example>\r\n"))
    [(_, update)] = desk.mail("update")
    assert [a.filename for a in update.attachments] == ["node-00000.log", "node-00001.log", "node-00002.log"]
    assert "Not attached (7, past what is relayed): node-00003.log, node-00004.log" in update.text


def test_an_engineers_answer_reaches_the_customer_with_the_first_files_and_the_engineer_hears_which_were_not_sent(store):
    desk = Desk(store, config(limit=2))
    desk.receive(with_files(0, message_id="<question@globex.example>", subject="SSO loop"))
    [(_, note)] = desk.mail("notification")
    desk.receive(with_files(5, sender="Priya Raman <priya@northwind.example>", subject=f"Re: {note.subject}",
                            message_id="<answer@northwind.example>",
                            extra_headers=f"In-Reply-To: <{note.message_id}>\r\n"))
    [(_, relay)] = desk.mail("relay")
    assert relay.to[0].email == "bob@globex.example"
    assert [a.filename for a in relay.attachments] == ["node-00000.log", "node-00001.log"]
    [(_, results)] = desk.mail("commands")
    assert "not sent, past the size or the 2 files relayed: node-00002.log, node-00003.log, node-00004.log" in results.text
