"""Forged engineers' commands and forged Closed Won notices are not acted on (issue 15).

With ``security.authserv_id`` set, whiteglove requires our own server's Authentication-Results
to vouch for an engineer's or the CRM's From domain (the default; before, the example shipped with
the check off, and 9 of these 15 forged commands were obeyed). What fails is kept as a ticket
flagged for review with an ``unverified`` event, and the real engineer (for a notice: the manager)
is told once.
"""
from __future__ import annotations

import pytest
from support.desk import CONFIG, Desk
from support.forged import engineer_replies, notice, with_headers
from support.mail import make_message

from ticketing.core.domain import EventKind, TicketStatus

OURS = "mx.northwind.example"
AR = "Authentication-Results"
SECURED = {**CONFIG, "security": {"trusted_notice_senders": ["crm@northwind.example"], "authserv_id": OURS}}
GENUINE = [(AR, f"{OURS}; dkim=pass header.d=northwind.example header.s=s1; spf=pass smtp.mailfrom=northwind.example")]

FORGED_ENGINEER = {
    "no Authentication-Results": [],
    "a pass from another server": [(AR, "mx.evil.example; dkim=pass header.d=northwind.example; dmarc=pass")],
    "our server: dkim=fail": [(AR, f"{OURS}; dkim=fail header.d=northwind.example")],
    "our server: spf=fail": [(AR, f"{OURS}; spf=fail smtp.mailfrom=northwind.example")],
    "our server: dmarc=fail": [(AR, f"{OURS}; dmarc=fail header.from=northwind.example")],
    "our server: dkim=pass for another domain": [(AR, f"{OURS}; dkim=pass header.d=evil.example")],
    "our server: spf=pass for another domain": [(AR, f"{OURS}; spf=pass smtp.mailfrom=bounce@evil.example")],
    "our server: dkim=pass for a look-alike domain": [(AR, f"{OURS}; dkim=pass header.d=northwind.example.evil.example")],
    "our fail on top, a forged pass of ours below": [
        (AR, f"{OURS}; dkim=fail; spf=fail smtp.mailfrom=evil.example"),
        (AR, f"{OURS}; dkim=pass header.d=northwind.example; dmarc=pass")],
    "our server: no result": [(AR, f"{OURS}; none")],
    "our server: fail, a pass in a comment": [(AR, f"{OURS}; dkim=fail (dkim=pass header.d=northwind.example)")],
    "our server, upper case: dkim=fail": [(AR, "MX.Northwind.Example; dkim=fail header.d=northwind.example")],
    "our server: arc=pass only": [(AR, f"{OURS}; arc=pass; dkim=none")],
    "our server: dmarc=pass for another From": [(AR, f"{OURS}; dmarc=pass header.from=evil.example")],
    "our server: temperror and softfail": [(AR, f"{OURS}; dkim=temperror; spf=softfail smtp.mailfrom=northwind.example")],
}


@pytest.fixture
def desk(store):
    return Desk(store, SECURED)


@pytest.mark.parametrize("headers", list(FORGED_ENGINEER.values()), ids=list(FORGED_ENGINEER))
def test_a_forged_engineers_command_is_not_obeyed_and_the_real_engineer_is_told_once(desk, headers):
    ticket_id = engineer_replies(desk, headers)
    assert desk.store.get_ticket(ticket_id).status is TicketStatus.OPEN
    assert desk.mail("relay") == [] and desk.mail("commands") == []  # nothing reaches Bob, nothing is done
    [event] = [e for e in desk.store.events(ticket_id) if e.kind is EventKind.UNVERIFIED]
    assert event.actor == "priya@northwind.example" and event.detail["commands"] == ["#resolve"]
    [(mail, told)] = desk.mail("unverified")
    assert mail.recipients == ("priya@northwind.example",)
    assert told.subject == "A message from your address was not acted on"
    assert "#resolve" in told.text and "nothing of it was sent to the customer" in told.text
    desk.receive(with_headers(make_message(sender="Priya Raman <priya@northwind.example>", message_id="<r1@northwind.example>",
                                           body="#resolve"), headers))  # the same message again
    assert len(desk.mail("unverified")) == 1


def test_the_engineers_command_with_our_servers_pass_is_obeyed(desk):
    ticket_id = engineer_replies(desk, GENUINE)
    assert desk.store.get_ticket(ticket_id).status is TicketStatus.RESOLVED
    assert len(desk.mail("relay")) == 1 and desk.mail("unverified") == []


FORGED_NOTICE = {
    "no Authentication-Results": [],
    "a pass from another server": [(AR, "mx.evil.example; dkim=pass header.d=northwind.example; dmarc=pass")],
    "our server: dkim=fail, spf=fail": [(AR, f"{OURS}; dkim=fail; spf=fail smtp.mailfrom=evil.example")],
    "our server: dkim=pass for another domain": [(AR, f"{OURS}; dkim=pass header.d=evil.example")],
    "our fail on top, a forged pass of ours below": [
        (AR, f"{OURS}; dkim=fail"), (AR, f"{OURS}; dkim=pass header.d=northwind.example; dmarc=pass")],
}


@pytest.mark.parametrize("automated", [True, False], ids=["CRM alert", "plain"])
@pytest.mark.parametrize("headers", list(FORGED_NOTICE.values()), ids=list(FORGED_NOTICE))
def test_a_forged_closed_won_notice_starts_nothing_and_the_manager_is_told_once(desk, headers, automated):
    desk.receive(notice(headers, automated))
    assert desk.store.engagements() == []
    assert desk.mail("welcome") == [] and desk.mail("invite") == []
    [ticket] = desk.store.list_tickets()
    assert ticket.review
    assert [e.kind for e in desk.store.events(ticket.id)].count(EventKind.UNVERIFIED) == 1
    [(mail, told)] = desk.mail("unverified")
    assert mail.recipients == ("dana@northwind.example",)
    assert told.subject == "A contract-closed notice from crm@northwind.example was not acted on"
    desk.receive(notice(headers, automated))  # delivered again
    assert len(desk.mail("unverified")) == 1


def test_the_notice_with_our_servers_pass_starts_the_engagement(desk):
    desk.receive(notice(GENUINE, automated=True))
    assert len(desk.store.engagements()) == 1 and desk.mail("unverified") == []
