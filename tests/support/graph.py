"""A stateful fake of Microsoft Graph (v1.0) for tests, over HTTPS on loopback.

It keeps mailboxes with folders of MIME messages and answers the calls whiteglove makes, as Graph
does: the folder's delta query (pages through ``@odata.nextLink``, a ``@odata.deltaLink`` that lists
only what changed since, moves seen as ``@removed``, links that expire with 410
``syncStateNotFound``), ``$value``, PATCH and ``move`` (ids are immutable), mail folders found by
display name and created, ``sendMail`` with base64 MIME into Sent Items (found again by
``internetMessageId``; ``on_send`` sees each one), and injected 429s with ``Retry-After``. Bearer
tokens are checked at the session's :class:`~support.oauth.TokenAuthority`. Links are absolute and
point back at the fake.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import parse_qs, quote, unquote, urlparse

import pytest

__all__ = ["FakeGraph", "fake_graph"]

HOST = "127.0.0.1"
_ids = itertools.count(1)
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass
class Message:
    id: str
    raw: bytes
    received: datetime
    folder: str
    is_read: bool = False
    categories: list[str] = field(default_factory=list)

    @property
    def internet_message_id(self) -> str | None:
        match = _MESSAGE_ID.search(self.raw.split(b"\r\n\r\n", 1)[0])
        return match.group(1).decode() if match else None


@dataclass
class Mailbox:
    folders: dict[str, str] = field(default_factory=lambda: {"inbox": "Inbox", "sentitems": "Sent Items"})
    messages: dict[str, Message] = field(default_factory=dict)
    changes: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, folder id, message id)


class FakeGraph:
    def __init__(self, authority, ca) -> None:
        self.authority = authority
        self.ca = ca
        self.mailboxes: dict[str, Mailbox] = {}
        self.calls: list[tuple[str, str]] = []  # (method, path)
        self.on_send: Callable[[str, bytes], None] | None = None
        self._seq = itertools.count(1)
        self._expired_before = 0
        self._throttle: list[int] = []  # Retry-After seconds of the next answers
        self.forbidden: set[str] = set()  # mailboxes the app's RBAC scope leaves out
        #: getSchedule's table: address -> [(start, end, status)] (UTC); unknown people are free.
        self.schedules: dict[str, list[tuple[datetime, datetime, str]]] = {}
        self.schedule_fails = False
        self._lock = threading.RLock()
        self._server = _serve(self)

    # -- what a test does ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self._server.server_address[1]}/v1.0"

    def mailbox(self, address: str) -> Mailbox:
        with self._lock:
            return self.mailboxes.setdefault(address.lower(), Mailbox())

    def deliver(self, address: str, raw: bytes, received: datetime | None = None) -> str:
        with self._lock:
            box = self.mailbox(address)
            message = Message(f"AAMk-{next(_ids):06d}", raw, received or datetime.now(timezone.utc), "inbox")
            box.messages[message.id] = message
            box.changes.append((next(self._seq), "inbox", message.id))
            return message.id

    def folder_messages(self, address: str, name: str) -> list[Message]:
        box = self.mailbox(address)
        ids = {fid for fid, fname in box.folders.items() if fname.lower() == name.lower() or fid == name}
        return [m for m in box.messages.values() if m.folder in ids]

    def expire_delta_links(self) -> None:
        with self._lock:
            self._expired_before = next(self._seq)

    def throttle_next(self, count: int = 1, retry_after: int = 1) -> None:
        with self._lock:
            self._throttle.extend([retry_after] * count)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers, body: bytes) -> tuple[int, dict | bytes, dict]:
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        path = unquote(parsed.path)
        with self._lock:
            self.calls.append((method, path))
            if self._throttle:
                return 429, {"error": {"code": "TooManyRequests", "message": "Please retry later."}}, \
                    {"Retry-After": str(self._throttle.pop(0))}
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if not self.authority.active(token):
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty or invalid."}}, {}
        match = re.match(r"^/v1\.0/users/([^/]+)/(.*)$", path)
        if not match:
            return 404, {"error": {"code": "ResourceNotFound"}}, {}
        address, rest = match.group(1).lower(), match.group(2)
        if address in self.forbidden:
            return 403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}, {}
        with self._lock:
            box = self.mailbox(address)
            return self._route(box, address, method, rest, query, headers, body)

    def _route(self, box: Mailbox, address: str, method: str, rest: str, query: dict, headers, body: bytes):
        base = f"{self.base_url}/users/{quote(address)}"
        m = re.match(r"^mailFolders/([^/]+)/messages/delta$", rest)
        if m and method == "GET":
            return self._delta(box, base, self._folder_id(box, m.group(1)), query, headers)
        m = re.match(r"^messages/([^/]+)/\$value$", rest)
        if m and method == "GET":
            message = box.messages.get(m.group(1))
            return (200, message.raw, {"Content-Type": "text/plain"}) if message else _not_found()
        m = re.match(r"^messages/([^/]+)$", rest)
        if m and method == "PATCH":
            message = box.messages.get(m.group(1))
            if message is None:
                return _not_found()
            changes = json.loads(body or b"{}")
            message.is_read = changes.get("isRead", message.is_read)
            message.categories = changes.get("categories", message.categories)
            box.changes.append((next(self._seq), message.folder, message.id))
            return 200, {"id": message.id}, {}
        m = re.match(r"^messages/([^/]+)/move$", rest)
        if m and method == "POST":
            message = box.messages.get(m.group(1))
            destination = json.loads(body or b"{}").get("destinationId", "")
            if message is None or destination not in box.folders:
                return _not_found()
            old, message.folder = message.folder, destination
            box.changes.append((next(self._seq), old, "removed:" + message.id))
            box.changes.append((next(self._seq), destination, message.id))
            return 201, {"id": message.id}, {}
        if rest == "mailFolders" and method == "GET":
            wanted = re.match(r"^displayName eq '(.*)'$", query.get("$filter", ""))
            name = wanted.group(1).replace("''", "'") if wanted else None
            return 200, {"value": [{"id": fid, "displayName": fname} for fid, fname in box.folders.items()
                                   if name is None or fname == name]}, {}
        if rest == "mailFolders" and method == "POST":
            folder_id = f"AAMkFolder-{next(_ids):04d}"
            box.folders[folder_id] = json.loads(body)["displayName"]
            return 201, {"id": folder_id, "displayName": box.folders[folder_id]}, {}
        m = re.match(r"^mailFolders/([^/]+)$", rest)
        if m and method == "GET":
            folder_id = self._folder_id(box, m.group(1))
            return (200, {"id": folder_id, "displayName": box.folders[folder_id]}, {}) if folder_id else _not_found()
        if rest == "mailFolders/sentitems/messages" and method == "GET":
            wanted = re.match(r"^internetMessageId eq '(.*)'$", query.get("$filter", ""))
            found = [m for m in box.messages.values() if m.folder == "sentitems"
                     and (wanted is None or m.internet_message_id == wanted.group(1).replace("''", "'"))]
            return 200, {"value": [{"id": m.id} for m in found]}, {}
        if rest == "calendar/getSchedule" and method == "POST":
            if self.schedule_fails:
                return 503, {"error": {"code": "ServiceUnavailable", "message": "The service is unavailable."}}, \
                    {"Retry-After": "0"}
            asked = json.loads(body)
            start = datetime.fromisoformat(asked["startTime"]["dateTime"]).replace(tzinfo=timezone.utc)
            end = datetime.fromisoformat(asked["endTime"]["dateTime"]).replace(tzinfo=timezone.utc)
            value = []
            for who in asked["schedules"]:
                items = [{"status": status, "start": {"dateTime": _utc_text(s), "timeZone": "UTC"},
                          "end": {"dateTime": _utc_text(e), "timeZone": "UTC"}}
                         for s, e, status in self.schedules.get(who.lower(), []) if s < end and e > start]
                value.append({"scheduleId": who, "availabilityView": "", "scheduleItems": items})
            return 200, {"value": value}, {}
        if rest == "sendMail" and method == "POST":
            if not headers.get("Content-Type", "").startswith("text/plain"):
                return 400, {"error": {"code": "ErrorMimeContentInvalid", "message": "MIME content must be base64."}}, {}
            raw = base64.b64decode(body)
            message = Message(f"AAMk-{next(_ids):06d}", raw, datetime.now(timezone.utc), "sentitems", is_read=True)
            box.messages[message.id] = message
            if self.on_send is not None:
                self.on_send(address, raw)
            return 202, b"", {}
        return 404, {"error": {"code": "ResourceNotFound", "message": f"{method} {rest}"}}, {}

    def _folder_id(self, box: Mailbox, name: str) -> str | None:
        if name in box.folders:
            return name
        return next((fid for fid, fname in box.folders.items() if fname.lower() == name.lower()), None)

    def _delta(self, box: Mailbox, base: str, folder_id: str | None, query: dict, headers):
        if folder_id is None:
            return _not_found()
        since = 0
        if "$deltatoken" in query:
            since = int(query["$deltatoken"])
            if since < self._expired_before:
                return 410, {"error": {"code": "syncStateNotFound", "message": "The sync state is not found."}}, {}
        offset = int(query.get("$skiptoken", "0").split(":")[-1]) if "$skiptoken" in query else 0
        if "$skiptoken" in query:
            since = int(query["$skiptoken"].split(":")[0])
        page_size = int(re.search(r"odata\.maxpagesize=(\d+)", headers.get("Prefer", "")).group(1)) \
            if "maxpagesize" in headers.get("Prefer", "") else 10
        items: dict[str, dict] = {}
        for seq, folder, ref in box.changes:
            if seq <= since or folder != folder_id:
                continue
            if ref.startswith("removed:"):
                items[ref[8:]] = {"id": ref[8:], "@removed": {"reason": "deleted"}}
            else:
                message = box.messages[ref]
                if message.folder == folder_id:
                    items[ref] = {"id": ref, "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  "isRead": message.is_read}
        listed = list(items.values())
        page = listed[offset:offset + page_size]
        url = f"{base}/mailFolders/{folder_id}/messages/delta"
        if offset + page_size < len(listed):
            return 200, {"value": page, "@odata.nextLink": f"{url}?$skiptoken={since}:{offset + page_size}"}, {}
        latest = box.changes[-1][0] if box.changes else 0
        return 200, {"value": page, "@odata.deltaLink": f"{url}?$deltatoken={max(latest, since)}"}, {}


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def _not_found():
    return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}


def _serve(graph: FakeGraph) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            status, payload, extra = graph.handle(self.command, self.path, self.headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", extra.pop("Content-Type", "application/json") if data else "text/plain")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _any

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    graph.ca.issue_cert("localhost", HOST).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def fake_graph(token_authority) -> Iterator[FakeGraph]:
    graph = FakeGraph(token_authority, token_authority.ca)
    yield graph
    graph.stop()
