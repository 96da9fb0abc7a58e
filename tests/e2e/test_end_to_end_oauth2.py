"""The onboarding end to end once more, with a Microsoft 365-style mailbox reached only with OAuth2:
app-only tokens from the loopback identity provider, IMAP through Dovecot's oauth2 passdb, SMTP
through aiosmtpd's XOAUTH2, and ``whiteglove run --once`` as an operator runs it."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from support.oauth import TENANT
from test_end_to_end_calendar import (
    CONFIG,
    CRM,
    DANA,
    PRIYA,
    SUPPORT_NAME,
    TOM,
    CalendarDesk,
    invitations,
    start_onboarding,
)

pytestmark = pytest.mark.dovecot

SECRET_ENV = "WG_TEST_ENTRA_CLIENT_SECRET"


@pytest.fixture
def app(token_authority):
    return "whiteglove-" + secrets.token_hex(4), secrets.token_urlsafe(24)


@pytest.fixture
def desk(dovecot_oauth2, smtp_server_factory, token_authority, app, tmp_path, db_url, monkeypatch) -> CalendarDesk:
    return _desk(dovecot_oauth2, smtp_server_factory, token_authority, app, tmp_path, db_url, monkeypatch)


def _desk(dovecot_oauth2, smtp_server_factory, token_authority, app, tmp_path, db_url, monkeypatch,
          smtp_tokens=None) -> CalendarDesk:
    address = f"support-{secrets.token_hex(4)}@example.test"
    dovecot_oauth2.add_user(address, secrets.token_urlsafe(12))  # a password nobody uses: IMAP is token-only here
    client_id, secret = app
    token_authority.register(client_id, address, secret=secret)
    monkeypatch.setenv(SECRET_ENV, secret)
    smtp = smtp_server_factory(tokens=smtp_tokens or token_authority.active)
    ca_file = token_authority.write_ca_file(tmp_path / "entra-ca.pem")

    def write_config():
        text = CONFIG.format(
            db_url=db_url, imap_host=dovecot_oauth2.host, imap_port=dovecot_oauth2.imap_port,
            address=address, password_env="UNUSED", smtp_host=smtp.host, smtp_port=smtp.port,
            support_name=SUPPORT_NAME, crm=CRM, dana=DANA, priya=PRIYA, tom=TOM,
        )
        text = text.replace('password_env = "UNUSED"\n', 'auth = "oauth2-microsoft"\n')
        text = text.replace('[outgoing]\nbackend = "smtp"\n', f'[outgoing]\nbackend = "smtp"\nusername = "{address}"\n'
                                                          'auth = "oauth2-microsoft"\n')
        text += (f'\n[microsoft]\ntenant_id = "{TENANT}"\nclient_id = "{client_id}"\nclient_secret_env = "{SECRET_ENV}"\n'
                 f'authority = "{token_authority.authority}"\nca_file = "{ca_file}"\n')
        path = tmp_path / "whiteglove.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return CalendarDesk(dovecot_oauth2, address, smtp, tmp_path, write_config, db_url)


def test_an_onboarding_runs_on_a_mailbox_reached_only_with_oauth2(desk, token_authority, app):
    engagement = start_onboarding(desk)
    invites = invitations(desk)
    assert invites and {i.recipient for i in invites} >= {PRIYA}
    assert set(desk.smtp.logins) == {desk.address}  # every SMTP session logged in with the app's token
    assert desk.engagement(engagement)["account"] == "Acme Corporation"
    # One token served the pass: the mailbox and the sender share the provider and its cache.
    assert len([r for r in token_authority.requests if r.get("client_id") == app[0]]) == 1


def test_a_revoked_secret_is_one_line_naming_entra_s_reason(desk, token_authority, app, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "an-expired-secret")
    desk.deliver(b"From: bob@globex.example\r\nTo: support@example.test\r\nSubject: Hi\r\nMessage-ID: <r1@globex.example>"
                 b"\r\n\r\nHello.\r\n")
    code, out, err = desk.cli("run", "--once")
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1].startswith("whiteglove: no OAuth2 token to log in to")
    assert "AADSTS7000215" in err and "an-expired-secret" not in err


def test_config_check_connect_tries_every_connection_and_says_what_to_fix(desk, token_authority, app, monkeypatch):
    code, out, err = desk.cli("config", "check", "--connect")
    assert code == 0, out + err
    checked = [line for line in out.splitlines()[1:] if not line.startswith("warning:")]  # (no authserv_id here)
    assert [line.split()[0] for line in checked] == ["ok", "ok", "ok"]
    assert "token (oauth2-microsoft)" in out and "connected and logged in (folders ready)" in out

    monkeypatch.setenv(SECRET_ENV, "an-expired-secret")
    code, out, err = desk.cli("config", "check", "--connect")
    assert code == 1
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 3 and "AADSTS7000215" in failed[0]
    assert "fix: the client secret is wrong" in out and "an-expired-secret" not in out


def test_config_check_connect_points_at_the_mailbox_permission_when_exchange_refuses_the_token(
        desk, token_authority, app, monkeypatch):
    token_authority.register(app[0], "someone-else@example.test", secret=app[1])  # no permission on the mailbox
    code, out, err = desk.cli("config", "check", "--connect")
    assert code == 1
    assert "ok      token" in out
    assert "FAILED  mailbox" in out and "Add-MailboxPermission" in out
    assert "FAILED  outgoing" in out and "SMTP.SendAsApp" in out


def test_a_mailbox_permission_removed_is_noticed_told_to_the_managers_and_recovered_from(
        dovecot_oauth2, smtp_server_factory, token_authority, app, tmp_path, db_url, monkeypatch):
    # Here the SMTP server takes any live token of the app: only the mailbox loses its permission.
    desk = _desk(dovecot_oauth2, smtp_server_factory, token_authority, app, tmp_path, db_url, monkeypatch,
                 smtp_tokens=lambda token: None)
    desk.smtp.tokens = lambda token: desk.address if token_authority.active(token) else None
    client_id, secret = app
    start = desk.now
    token_authority.register(client_id, "someone-else@example.test", secret=secret)  # Remove-MailboxPermission

    code, _, err = desk.at(start).cli("run", "--once")
    assert code == 1 and "refused the OAuth2 token" in err.strip().splitlines()[-1]
    code, out, _ = desk.cli("status")
    assert code == 1 and "\nmailbox          FAILING since" in out and out.startswith("status           DEGRADED")

    desk.at(start + timedelta(minutes=35)).cli("run", "--once")  # past the alert time: the managers are told
    [alert] = [s for s in desk.sent() if "cannot use the support mailbox" in s.mail.subject]
    assert alert.recipients == (DANA,) and "refused the OAuth2 token" in alert.mail.text

    token_authority.register(client_id, desk.address, secret=secret)  # the permission is back
    assert desk.at(start + timedelta(minutes=40)).run_once().startswith("intake:")
    assert [s.recipients for s in desk.sent() if "reaches the support mailbox again" in s.mail.subject] == [(DANA,)]
    code, out, _ = desk.cli("status")
    assert code == 0 and "\nmailbox          works" in out and out.startswith("status           HEALTHY")
