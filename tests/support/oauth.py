"""A small OAuth2 identity provider on loopback, for tests: Entra ID's client-credentials endpoints
(for msal), Google's JWT-bearer token endpoint (for google-auth), and a token introspection endpoint
(RFC 7662, for Dovecot's oauth2 passdb and the SMTP test server).

:class:`TokenAuthority` serves the first two over HTTPS with a certificate from a ``trustme`` CA
(``ca_file`` names its bundle), the introspection over plain HTTP on 127.0.0.1 (Dovecot's side).
A client is registered with its secret or its certificate (checked: the assertion's signature and
thumbprint), and granted one mailbox; every token it gets is valid for that mailbox until it
expires or is revoked. ``requests`` records what each client sent.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
import trustme

__all__ = ["TokenAuthority", "token_authority"]

HOST = "127.0.0.1"
TENANT = "contoso-tenant-id"


@dataclass
class Client:
    client_id: str
    mailbox: str
    secret: str | None = None
    certificate_pem: bytes | None = None  # the public certificate the assertion must be signed for


@dataclass
class Issued:
    mailbox: str
    client_id: str
    revoked: bool = False


@dataclass
class TokenAuthority:
    ca: trustme.CA
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, Issued] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)  # each token request's form fields
    lifetime: int = 3600
    introspections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._https = _server(self, tls=True)
        self._http = _server(self, tls=False)

    # -- what a test sets up --------------------------------------------------------------------

    def register(self, client_id: str, mailbox: str, *, secret: str | None = None,
                 certificate_pem: bytes | None = None) -> None:
        self.clients[client_id] = Client(client_id, mailbox.lower(), secret, certificate_pem)

    def issue(self, client_id: str) -> str:
        """A token as the endpoint would hand it out (for tests that need one directly)."""
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = Issued(self.clients[client_id].mailbox, client_id)
        return token

    def revoke_all(self, client_id: str | None = None) -> None:
        with self._lock:
            for issued in self.tokens.values():
                if client_id is None or issued.client_id == client_id:
                    issued.revoked = True

    def active(self, token: str) -> str | None:
        """The mailbox ``token`` is good for, or None."""
        with self._lock:
            self.introspections += 1
            issued = self.tokens.get(token)
            return issued.mailbox if issued and not issued.revoked else None

    # -- where clients find it ------------------------------------------------------------------

    @property
    def authority(self) -> str:
        return f"https://localhost:{self._https.server_address[1]}"

    @property
    def google_token_uri(self) -> str:
        return f"{self.authority}/google/token"

    @property
    def introspection_url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}/introspect"

    def write_ca_file(self, path) -> str:
        self.ca.cert_pem.write_to_path(str(path))
        return str(path)

    def stop(self) -> None:
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    # -- the endpoints ----------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(dict(form))
        grant = form.get("grant_type")
        if grant == "client_credentials":
            client = self.clients.get(form.get("client_id", ""))
            if client is None:
                return 400, {"error": "unauthorized_client",
                             "error_description": "AADSTS700016: Application not found in the directory."}
            if not self._authenticated(client, form):
                return 401, {"error": "invalid_client",
                             "error_description": "AADSTS7000215: Invalid client secret provided."}
            if form.get("scope") not in ("https://outlook.office365.com/.default", "https://graph.microsoft.com/.default"):
                return 400, {"error": "invalid_scope", "error_description": "AADSTS70011: The provided scope is invalid."}
            return 200, self._grant(client.client_id)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = _claims(form.get("assertion", ""))
            client = self.clients.get(claims.get("iss", ""))
            if client is None or claims.get("sub", "").lower() != client.mailbox or \
                    claims.get("scope") != "https://mail.google.com/":
                return 400, {"error": "unauthorized_client",
                             "error_description": "Client is unauthorized to retrieve access tokens using this method."}
            return 200, self._grant(client.client_id)
        return 400, {"error": "unsupported_grant_type"}

    def _grant(self, client_id: str) -> dict:
        return {"token_type": "Bearer", "expires_in": self.lifetime, "access_token": self.issue(client_id)}

    def _authenticated(self, client: Client, form: dict[str, str]) -> bool:
        if client.secret is not None:
            return form.get("client_secret") == client.secret
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or not assertion:
            return False
        return _signed_by(assertion, client.certificate_pem)


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _claims(jwt: str) -> dict:
    try:
        return json.loads(_b64(jwt.split(".")[1]))
    except (IndexError, ValueError):
        return {}


def _signed_by(jwt: str, certificate_pem: bytes | None) -> bool:
    """Whether ``jwt`` is signed (RS256 or PS256) by the key of ``certificate_pem`` and names its thumbprint."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import Encoding

    if certificate_pem is None:
        return False
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    header_b64, payload_b64, signature_b64 = jwt.split(".")
    header = json.loads(_b64(header_b64))
    der = certificate.public_bytes(Encoding.DER)
    thumbprints = {base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode(),
                   base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()}
    named = {str(header.get(k, "")).rstrip("=") for k in ("x5t", "x5t#S256")}  # msal keeps the padding
    if not (named & thumbprints):
        return False
    signed = f"{header_b64}.{payload_b64}".encode()
    pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH) if header.get("alg") == "PS256" \
        else padding.PKCS1v15()
    try:
        certificate.public_key().verify(_b64(signature_b64), signed, pad, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _server(authority: TokenAuthority, *, tls: bool) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            parts = path.strip("/").split("/")
            if len(parts) >= 2 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                base = f"{authority.authority}/{parts[0]}"
                self._reply(200, {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0", "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                })
                return
            self._reply(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlparse(self.path).path
            if path == "/introspect":
                mailbox = authority.active(form.get("token", ""))
                self._reply(200, {"active": "true", "email": mailbox} if mailbox else {"active": "false"})
                return
            if path.endswith("/oauth2/v2.0/token") or path == "/google/token":
                self._reply(*authority._token(form))
                return
            self._reply(404, {"error": "not_found"})

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.ca.issue_cert("localhost", HOST).configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def token_authority() -> Iterator[TokenAuthority]:
    authority = TokenAuthority(trustme.CA())
    yield authority
    authority.stop()
