"""The OAuth2 token providers against a loopback identity provider: msal's client-credentials grant
(secret and certificate) over HTTPS, google-auth's service-account grant; what they send, what they
cache, and what they say when refused."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta, timezone

import pytest
import trustme
from support.oauth import TENANT

from mailer import GoogleTokens, MicrosoftTokens, TokenError
from mailer.oauth2 import OUTLOOK_SCOPE, oauthbearer, xoauth2

SUPPORT = "support@contoso.test"


@pytest.fixture
def ca_file(token_authority, tmp_path):
    return token_authority.write_ca_file(tmp_path / "ca.pem")


def microsoft(token_authority, ca_file, **credential) -> MicrosoftTokens:
    return MicrosoftTokens(tenant_id=TENANT, client_id=credential.pop("client_id"), authority=token_authority.authority,
                           ca_file=ca_file, **credential)


def requests_of(token_authority, client_id: str) -> list[dict]:
    return [r for r in token_authority.requests if r.get("client_id") == client_id]


def test_a_client_secret_gets_a_token_for_the_outlook_scope_and_it_is_cached(token_authority, ca_file):
    client_id, secret = "app-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, SUPPORT, secret=secret)
    tokens = microsoft(token_authority, ca_file, client_id=client_id, client_secret=secret)
    first = tokens.token()
    assert token_authority.active(first) == SUPPORT
    assert tokens.token() == first  # cached: no second request
    [sent] = requests_of(token_authority, client_id)
    assert (sent["grant_type"], sent["scope"], sent["client_secret"]) == ("client_credentials", OUTLOOK_SCOPE, secret)


def test_an_invalidated_token_is_replaced_by_a_new_request(token_authority, ca_file):
    client_id, secret = "app-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, SUPPORT, secret=secret)
    tokens = microsoft(token_authority, ca_file, client_id=client_id, client_secret=secret)
    first = tokens.token()
    tokens.invalidate()
    second = tokens.token()
    assert second != first and len(requests_of(token_authority, client_id)) == 2


def test_a_token_close_to_expiry_is_replaced(token_authority, ca_file):
    client_id, secret = "app-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, SUPPORT, secret=secret)
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)]
    tokens = MicrosoftTokens(tenant_id=TENANT, client_id=client_id, client_secret=secret,
                             authority=token_authority.authority, ca_file=ca_file, clock=lambda: now[0])
    first = tokens.token()
    now[0] += timedelta(minutes=56)  # an hour's token, five minutes before it ends
    assert tokens.token() != first


def test_a_certificate_signs_the_client_assertion(token_authority, ca_file):
    leaf = token_authority.ca.issue_cert("whiteglove-app.contoso.test", key_type=trustme.KeyType.RSA)  # Entra takes RSA
    certificate_pem = leaf.cert_chain_pems[0].bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(Encoding.DER)
    client_id = "app-" + secrets.token_hex(4)
    token_authority.register(client_id, SUPPORT, certificate_pem=certificate_pem)
    tokens = microsoft(token_authority, ca_file, client_id=client_id,
                       private_key=leaf.private_key_pem.bytes().decode(), thumbprint=hashlib.sha1(der).hexdigest())
    assert token_authority.active(tokens.token()) == SUPPORT
    [sent] = requests_of(token_authority, client_id)
    assert "client_secret" not in sent and sent["client_assertion_type"].endswith("jwt-bearer")


def test_a_wrong_secret_is_a_token_error_that_names_the_reason_and_not_the_secret(token_authority, ca_file):
    client_id = "app-" + secrets.token_hex(4)
    token_authority.register(client_id, SUPPORT, secret="the-right-one")
    tokens = microsoft(token_authority, ca_file, client_id=client_id, client_secret="a-wrong-secret")
    with pytest.raises(TokenError) as caught:
        tokens.token()
    assert "AADSTS7000215" in str(caught.value) and TENANT in str(caught.value)
    assert "a-wrong-secret" not in str(caught.value) and not caught.value.transient


def test_an_unreachable_authority_is_a_transient_token_error(ca_file):
    with pytest.raises(TokenError) as caught:
        MicrosoftTokens(tenant_id=TENANT, client_id="app", client_secret="s", authority="https://127.0.0.1:9",
                        ca_file=ca_file).token()
    assert caught.value.transient


def google_key_file(tmp_path, token_uri: str, client_email: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "whiteglove-test", "private_key_id": "k1", "private_key": pem,
        "client_email": client_email, "client_id": "1234567890", "token_uri": token_uri,
    }))
    return str(path)


def test_a_google_service_account_acts_as_the_support_mailbox(token_authority, ca_file, tmp_path):
    email = f"wg-{secrets.token_hex(3)}@whiteglove-test.iam.gserviceaccount.com"
    token_authority.register(email, SUPPORT)
    tokens = GoogleTokens(service_account_file=google_key_file(tmp_path, token_authority.google_token_uri, email),
                          subject=SUPPORT, ca_file=ca_file)
    token = tokens.token()
    assert token_authority.active(token) == SUPPORT and tokens.token() == token
    [sent] = [r for r in token_authority.requests if r.get("assertion") and email in
              base64.urlsafe_b64decode(r["assertion"].split(".")[1] + "==").decode()]
    claims = json.loads(base64.urlsafe_b64decode(sent["assertion"].split(".")[1] + "=="))
    assert (sent["grant_type"], claims["sub"], claims["scope"]) == (
        "urn:ietf:params:oauth:grant-type:jwt-bearer", SUPPORT, "https://mail.google.com/")


def test_a_google_subject_without_delegation_is_refused_in_one_line(token_authority, ca_file, tmp_path):
    email = f"wg-{secrets.token_hex(3)}@whiteglove-test.iam.gserviceaccount.com"
    token_authority.register(email, SUPPORT)
    tokens = GoogleTokens(service_account_file=google_key_file(tmp_path, token_authority.google_token_uri, email),
                          subject="someone-else@contoso.test", ca_file=ca_file)
    with pytest.raises(TokenError, match="unauthorized_client") as caught:
        tokens.token()
    assert "\n" not in str(caught.value) and "PRIVATE KEY" not in str(caught.value)


def test_the_sasl_strings():
    assert xoauth2("support@contoso.test", "T") == "user=support@contoso.test\x01auth=Bearer T\x01\x01"
    assert oauthbearer("support@contoso.test", "T", "imap.test", 993) == (
        "n,a=support@contoso.test,\x01host=imap.test\x01port=993\x01auth=Bearer T\x01\x01")
