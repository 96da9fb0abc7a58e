"""Bounces count only when they return mail we sent to the address they name (issue 15).

Anyone can mail the support address a delivery report naming a customer. Before, any such report
marked the contact failing (no more acknowledgements or invitations) and alerted the engineers;
now it must return the Message-ID of mail of ours that went out to that very address.
"""
from __future__ import annotations

import pytest
from support.bounces import delivery_report, free_text_bounce, send_all
from support.desk import CONFIG, Desk
from support.mail import make_message

from ticketing.core.domain import EventKind, MessageKind

BOB = "bob@globex.example"
ANN = "ann@globex.example"


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def asked(desk: Desk, tmp_path, who: str = BOB, mid: str = "<q1@globex.example>", send: bool = True) -> str:
    """``who`` asks a question; our acknowledgement goes out (when ``send``): return its Message-ID."""
    desk.receive(make_message(sender=who, message_id=mid))
    if send:
        send_all(desk, tmp_path / "sent")
    [(ack, _)] = desk.mail("acknowledgement", to=who)
    return ack.message_id


def stored_as(desk: Desk) -> tuple[MessageKind, str]:
    """The kind and reason the last stored message got."""
    [last] = desk.store.messages()[-1:]
    [(reason,)] = desk.store.db.execute_sql("SELECT origin_reason FROM inbound_message WHERE id = %s"
                                            .replace("%s", str(last.id))).fetchall()
    return last.kind, reason


FORGED = {
    "a report returning nothing": lambda ours, other: delivery_report(BOB, None),
    "a report returning a Message-ID we never sent": lambda ours, other: delivery_report(BOB, "made-up@northwind.example"),
    "a report returning our mail to someone else": lambda ours, other: delivery_report(BOB, other),
    "a report from a customer's own address": lambda ours, other: delivery_report(
        BOB, "wg.ack.999@northwind.example", sender="postmaster@globex.example"),
    "a report guessing a signature for our acknowledgement": lambda ours, other: delivery_report(
        BOB, ours.rsplit(".", 1)[0] + ".aaaaaaaa@northwind.example"),
    "a free-text bounce quoting nothing": lambda ours, other: free_text_bounce(BOB, None),
    "a free-text bounce quoting someone else's mail": lambda ours, other: free_text_bounce(BOB, other),
}


@pytest.mark.parametrize("forged", list(FORGED.values()), ids=list(FORGED))
def test_a_bounce_that_returns_no_mail_of_ours_to_the_contact_marks_nobody_and_tells_nobody(desk, tmp_path, forged):
    ours = asked(desk, tmp_path)
    other = asked(desk, tmp_path, who=ANN, mid="<q2@globex.example>")
    sent_before = len(desk.store.outbox())
    desk.receive(forged(ours, other))

    assert desk.store.contact(BOB).failing_since is None
    assert desk.mail("bounce_alert") == [] and len(desk.store.outbox()) == sent_before
    for ticket in desk.store.list_tickets():
        assert EventKind.BOUNCED not in [e.kind for e in desk.store.events(ticket.id)]
    kind, reason = stored_as(desk)
    assert kind is MessageKind.AUTOMATED and "matches nothing we sent" in reason
    # Bob is still acknowledged: his next question gets its answer.
    desk.receive(make_message(sender=BOB, message_id="<q3@globex.example>", subject="Another question"))
    assert len(desk.mail("acknowledgement", to=BOB)) == 2


def test_a_bounce_of_mail_we_queued_but_never_sent_counts_against_nobody(desk, tmp_path):
    ours = asked(desk, tmp_path, send=False)  # still waiting for its first attempt
    desk.receive(delivery_report(BOB, ours))
    assert desk.store.contact(BOB).failing_since is None and desk.mail("bounce_alert") == []


GENUINE = {
    "RFC 3464 with the returned headers": lambda ours: delivery_report(BOB, ours),
    "RFC 3464 with the whole returned message": lambda ours: delivery_report(BOB, ours, enclosed=True),
    "a free-text bounce quoting the returned headers": lambda ours: free_text_bounce(BOB, ours),
}


@pytest.mark.parametrize("bounce", list(GENUINE.values()), ids=list(GENUINE))
def test_a_bounce_of_our_mail_to_the_contact_marks_them_failing_and_tells_the_engineer_once(desk, tmp_path, bounce):
    ours = asked(desk, tmp_path)
    desk.receive(bounce(ours))
    assert desk.store.contact(BOB).failing_since == desk.now
    [(_, alert)] = desk.mail("bounce_alert")
    assert alert.to[0].email == "priya@northwind.example" and BOB in alert.subject
    kind, reason = stored_as(desk)
    assert kind is MessageKind.BOUNCE and f"returns our <{ours}> to {BOB}" in reason
    desk.receive(bounce(ours))  # the same report delivered again
    assert len(desk.mail("bounce_alert")) == 1


def test_a_report_naming_two_addresses_counts_only_against_the_one_our_mail_went_to(desk, tmp_path):
    ours = asked(desk, tmp_path)
    asked(desk, tmp_path, who=ANN, mid="<q2@globex.example>")
    both = delivery_report(BOB, ours).replace(
        b"Final-Recipient: rfc822; bob@globex.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        b"Final-Recipient: rfc822; bob@globex.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; ann@globex.example\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    desk.receive(both)
    assert desk.store.contact(BOB).failing_since is not None
    ann = desk.store.contact(ANN)
    assert ann is None or ann.failing_since is None
    [(_, alert)] = desk.mail("bounce_alert")
    assert BOB in alert.subject and ANN not in alert.subject


def test_a_bounce_naming_the_id_anyone_could_derive_from_the_ticket_number_marks_nobody(desk, tmp_path):
    ours = asked(desk, tmp_path)
    [ticket] = desk.store.list_tickets()
    guessed = f"wg.ack.{ticket.id}@northwind.example"  # the acknowledgement's cause, in whiteglove's public scheme
    assert ours != guessed  # our ids carry the installation's signature: nobody outside can write one
    desk.receive(delivery_report(BOB, guessed))
    assert desk.store.contact(BOB).failing_since is None
