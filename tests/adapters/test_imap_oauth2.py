"""ImapSource logging in with OAuth2 (SASL XOAUTH2) to a real Dovecot whose oauth2 passdb checks each
token at the loopback identity provider, with tokens from msal as a Microsoft 365 tenant gives them."""
from __future__ import annotations

import secrets

import pytest
from support.oauth import TENANT

from mailer import ImapSource, MailboxAuthError, MicrosoftTokens

pytestmark = pytest.mark.dovecot


def message(number: int) -> bytes:
    return (f"From: Customer <customer@example.com>\r\nTo: support@example.test\r\nSubject: Question {number}\r\n"
            f"Message-ID: <oauth-{number}@example.com>\r\n\r\nBody {number}.\r\n").encode()


@pytest.fixture
def mailbox(dovecot_oauth2, request):
    email = f"support-{secrets.token_hex(4)}@example.test"
    dovecot_oauth2.add_user(email, secrets.token_urlsafe(12))  # the password is never used here
    return email


@pytest.fixture
def app(token_authority, mailbox, tmp_path):
    """An Entra app granted the mailbox, and a way to build its token provider."""
    client_id, secret = "app-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, mailbox, secret=secret)
    ca_file = token_authority.write_ca_file(tmp_path / "ca.pem")

    def tokens(client_secret: str = secret) -> MicrosoftTokens:
        return MicrosoftTokens(tenant_id=TENANT, client_id=client_id, client_secret=client_secret,
                               authority=token_authority.authority, ca_file=ca_file)

    tokens.client_id = client_id
    return tokens


def source(dovecot, mailbox: str, tokens) -> ImapSource:
    return ImapSource(name="support", host=dovecot.host, port=dovecot.imap_port, security="none",
                      username=mailbox, tokens=tokens, use_idle=False, timeout=10.0)


def test_an_app_only_token_reads_the_mailbox(dovecot_oauth2, mailbox, app):
    dovecot_oauth2.deliver(mailbox, message(1))
    with source(dovecot_oauth2, mailbox, app()) as imap:
        [fetched] = imap.fetch(imap.list_new(None))
    assert fetched.raw.endswith(message(1))


def test_a_revoked_token_is_replaced_by_a_fresh_one_and_intake_goes_on(dovecot_oauth2, token_authority, mailbox, app):
    dovecot_oauth2.deliver(mailbox, message(1))
    with source(dovecot_oauth2, mailbox, app()) as imap:
        assert len(imap.list_new(None)) == 1
        token_authority.revoke_all(app.client_id)  # an administrator rotated the app's tokens
        imap.close()  # the next call logs in again, with the cached token first
        dovecot_oauth2.deliver(mailbox, message(2))
        assert len(imap.list_new(None)) == 2
    granted = [r for r in token_authority.requests if r.get("client_id") == app.client_id]
    assert len(granted) == 2  # one token, refused once revoked, then one fresh one


def test_a_wrong_client_secret_is_an_auth_error_naming_the_reason(dovecot_oauth2, mailbox, app):
    with source(dovecot_oauth2, mailbox, app("not-the-secret")) as imap:
        with pytest.raises(MailboxAuthError, match="no OAuth2 token .*AADSTS7000215") as caught:
            imap.list_new(None)
    assert "not-the-secret" not in str(caught.value)


def test_a_token_for_another_mailbox_is_refused_by_the_server(dovecot_oauth2, token_authority, mailbox, app):
    other = f"other-{secrets.token_hex(4)}@example.test"
    dovecot_oauth2.add_user(other, secrets.token_urlsafe(12))
    with source(dovecot_oauth2, other, app()) as imap:  # the app has no permission on this mailbox
        with pytest.raises(MailboxAuthError, match=f"refused the OAuth2 token of {other}"):
            imap.list_new(None)
