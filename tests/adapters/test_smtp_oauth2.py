"""SmtpSender logging in with AUTH XOAUTH2 to a real aiosmtpd server that checks each token at the
loopback identity provider."""
from __future__ import annotations

import secrets

import pytest
from support.oauth import TENANT

from mailer import MicrosoftTokens, SenderAuthError, SmtpSender

SUPPORT = "support@contoso.test"
MESSAGE = b"From: support@contoso.test\r\nTo: bob@globex.example\r\nSubject: Hello\r\nMessage-ID: <m1@contoso.test>\r\n\r\nHi.\r\n"


@pytest.fixture
def app(token_authority, tmp_path):
    client_id, secret = "app-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, SUPPORT, secret=secret)
    ca_file = token_authority.write_ca_file(tmp_path / "ca.pem")
    tokens = MicrosoftTokens(tenant_id=TENANT, client_id=client_id, client_secret=secret,
                             authority=token_authority.authority, ca_file=ca_file)
    tokens.client_id = client_id
    return tokens


@pytest.fixture
def server(smtp_server_factory, token_authority):
    return smtp_server_factory(tokens=token_authority.active)


def test_an_app_only_token_sends_as_the_support_mailbox(server, app):
    with SmtpSender(server.host, server.port, security="none", username=SUPPORT, tokens=app) as sender:
        sender.send(MESSAGE, SUPPORT, ["bob@globex.example"])
    assert server.logins == [SUPPORT] and server.received[0].content.endswith(b"Hi.\r\n")


def test_a_refused_token_is_replaced_once_by_a_fresh_one(server, app, token_authority):
    app.token()
    token_authority.revoke_all(app.client_id)  # the cached token no longer works
    with SmtpSender(server.host, server.port, security="none", username=SUPPORT, tokens=app) as sender:
        sender.send(MESSAGE, SUPPORT, ["bob@globex.example"])
    assert len(server.received) == 1
    assert len([r for r in token_authority.requests if r.get("client_id") == app.client_id]) == 2


def test_a_token_the_server_never_takes_is_a_sender_auth_error(server, app):
    sender = SmtpSender(server.host, server.port, security="none", username="someone-else@contoso.test", tokens=app)
    with pytest.raises(SenderAuthError, match="refused the OAuth2 token of someone-else@contoso.test: 535"):
        sender.send(MESSAGE, SUPPORT, ["bob@globex.example"])
    assert server.received == []
