"""A support mailbox in Microsoft Exchange: ``security.exchange_authentication`` believes Exchange's
own word on who sent a message, since Exchange Online's ``Authentication-Results`` has no
authserv-id to match. An engineer's reply from inside the organization carries
``X-MS-Exchange-Organization-AuthAs: Internal`` (Exchange strips that header from mail arriving
from outside); a CRM's notice from outside carries ``Anonymous`` and Exchange Online's results on
top. Anything else is not acted on, and the engineer (for a notice, the manager) is told once."""
from __future__ import annotations

import pytest
from support.desk import CONFIG, Desk
from support.forged import engineer_replies, notice

from ticketing.config import ConfigError, config_from_dict
from ticketing.core.domain import TicketStatus

AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
AR = "Authentication-Results"
EXCHANGE = {**CONFIG, "security": {"trusted_notice_senders": ["crm@northwind.example"], "exchange_authentication": True}}
EOP_PASS = ("spf=pass (sender IP is 13.110.6.221) smtp.mailfrom=northwind.example; dkim=pass (signature was verified) "
            "header.d=northwind.example;dmarc=pass action=none header.from=northwind.example;compauth=pass reason=100")
EOP_FAIL = ("spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=northwind.example; dkim=none (message not signed) "
            "header.d=none;dmarc=fail action=quarantine header.from=northwind.example;compauth=fail reason=000")

GENUINE = {
    "an engineer inside the organization": [(AUTH_AS, "Internal")],
    "from outside, Exchange Online's pass on top": [(AUTH_AS, "Anonymous"), (AR, EOP_PASS)],
}
FORGED = {
    "no Exchange stamp at all (not delivered by Exchange)": [],
    "Exchange Online's pass without the AuthAs stamp": [(AR, EOP_PASS)],
    "from outside, Exchange Online's fail on top, a forged pass below": [
        (AUTH_AS, "Anonymous"), (AR, EOP_FAIL), (AR, EOP_PASS)],
    "from outside, no Authentication-Results": [(AUTH_AS, "Anonymous")],
    "two AuthAs stamps (a forged Internal among them)": [(AUTH_AS, "Anonymous"), (AUTH_AS, "Internal")],
    "from outside, a pass for another domain": [
        (AUTH_AS, "Anonymous"), (AR, "spf=pass (sender IP is 203.0.113.9) smtp.mailfrom=evil.example; dkim=pass "
                                     "header.d=evil.example;dmarc=pass action=none header.from=evil.example")],
}


@pytest.fixture
def desk(store):
    return Desk(store, EXCHANGE)


@pytest.mark.parametrize("headers", list(GENUINE.values()), ids=list(GENUINE))
def test_an_engineers_command_exchange_vouches_for_is_obeyed(desk, headers):
    ticket_id = engineer_replies(desk, headers)
    assert desk.store.get_ticket(ticket_id).status is TicketStatus.RESOLVED
    assert len(desk.mail("relay")) == 1 and desk.mail("unverified") == []


@pytest.mark.parametrize("headers", list(FORGED.values()), ids=list(FORGED))
def test_an_engineers_command_exchange_does_not_vouch_for_is_not_obeyed_and_the_engineer_is_told(desk, headers):
    ticket_id = engineer_replies(desk, headers)
    assert desk.store.get_ticket(ticket_id).status is TicketStatus.OPEN
    assert desk.mail("relay") == [] and desk.mail("commands") == []
    [(mail, _)] = desk.mail("unverified")
    assert mail.recipients == ("priya@northwind.example",)


def test_a_crm_notice_from_outside_with_exchange_onlines_pass_starts_the_engagement(desk):
    desk.receive(notice([(AUTH_AS, "Anonymous"), (AR, EOP_PASS)], automated=True))
    assert len(desk.store.engagements()) == 1 and desk.mail("unverified") == []


@pytest.mark.parametrize("headers", list(FORGED.values()), ids=list(FORGED))
def test_a_crm_notice_exchange_does_not_vouch_for_starts_nothing(desk, headers):
    desk.receive(notice(headers, automated=True))
    assert desk.store.engagements() == []
    [(mail, _)] = desk.mail("unverified")
    assert mail.recipients == ("dana@northwind.example",)


def test_exchange_authentication_turns_the_check_on_and_cannot_be_combined_with_an_authserv_id():
    config = config_from_dict({**EXCHANGE})
    assert config.security.checks_authentication and config.security.unchecked_warning() is None
    with pytest.raises(ConfigError, match="exchange_authentication"):
        config_from_dict({**CONFIG, "security": {"authserv_id": "mx.northwind.example", "exchange_authentication": True}})
