"""A stateful fake of Exchange Web Services (Exchange 2016/2019 SOAP) on loopback HTTPS, for tests.

The real ``exchangelib`` client is driven against it. It keeps mailboxes (by primary SMTP address)
with folders of MIME items and answers, shaped as Exchange 2019 answers them (``m:``/``t:``
namespaces, an ``s:Header`` with ``ServerVersionInfo`` 15.1.2507.6): GetFolder (distinguished ids
and FolderIds), FindFolder (Shallow/Deep, ``DisplayName`` restrictions), SyncFolderItems (Create,
Update, ReadFlagChange, Delete; ``MaxChangesReturned`` pages; the SyncState is a position in the
mailbox's change log, and ``invalidate_sync_states()`` makes every earlier one answer
``ErrorInvalidSyncStateData``), GetItem (``MimeContent`` base64 when asked), UpdateItem (``IsRead``,
``Categories``), MoveItem (the item gets a NEW id, as on Exchange), CreateItem with ``MimeContent``
(SendAndSaveCopy, SendOnly, SaveOnly), ConvertId (only as exchangelib's version probe: every id is
malformed), FindItem (restrictions on e.g.
``message:InternetMessageId``; newest first; SortOrder is ignored), GetServerTimeZones (UTC only) and
GetUserAvailability (``CalendarEvent`` entries from ``busy``). Anything else is answered with a SOAP
fault (``ErrorSchemaValidation``, which exchangelib raises as such) and recorded in ``unknown``, so
it is visible what exchangelib asked. Authentication is HTTP Basic against ``add_user``; a wrong
password answers 401 (exchangelib with FailFast raises ``UnauthorizedError``). Any authenticated
user may open any mailbox (delegate access is not checked).

Test side: ``add_user(username, password)`` (an address also gets its mailbox), ``add_mailbox``,
``add_folder(mailbox, name)``, ``deliver(mailbox, raw, item_class="IPM.Note") -> item id``,
``items(mailbox, folder)`` (``EwsItem``: ``id``, ``mime``, ``is_read``, ``categories``,
``item_class``, ``received``), ``sent(mailbox)`` (MIME bytes as sent), ``requests`` (operation
names), ``unknown``, ``busy``, ``invalidate_sync_states()``, ``server_busy_next(back_off_ms)`` (the
next request answers an HTTP 500 SOAP fault ErrorServerBusy with BackOffMilliseconds, which
exchangelib raises as ``ErrorServerBusy`` with ``back_off`` in seconds), ``url``, ``ca_file``,
``stop()``. In ``sync_items`` a change of the read flag alone comes as
``("read_flag_change", (ItemId, is_read))``, any other change as ``("update", item)``.

Configure exchangelib like this (and call ``exchangelib.close_connections()`` after each test:
exchangelib caches one protocol per endpoint and credentials; the ``fake_ews`` fixture does it)::

    from exchangelib import Account, Configuration, Credentials, DELEGATE, Version, Build
    from exchangelib.protocol import FailFast
    config = Configuration(service_endpoint=fake.url, credentials=Credentials(user, password),
                           auth_type="basic", version=Version(Build(15, 1, 2507, 6)),
                           retry_policy=FailFast())
    account = Account(primary_smtp_address=mailbox, config=config, autodiscover=False,
                      access_type=DELEGATE)

Folders: ``account.inbox`` / ``account.sent`` / ``account.msg_folder_root`` / ``account.root`` are
GetFolder calls on distinguished ids. A folder made by ``fake.add_folder(mailbox, "Tickets")`` (under
"Top of Information Store") is found with ``account.msg_folder_root // "Tickets"`` (one shallow
FindFolder restricted on the display name, then a GetFolder). ``account.root / "Top of Information
Store" / "Tickets"`` works too but costs more: exchangelib then maps the whole hierarchy (one GetFolder
naming every well-known folder it knows, most answered ErrorFolderNotFound, a deep FindFolder from
root and a GetFolder of what it found).

"Was this Message-ID sent already": ``account.sent.filter(message_id="<id@host>")`` is a FindItem
restricted on ``message:InternetMessageId`` (the comparison is case-insensitive, as on Exchange).

TLS trust: the certificate comes from a ``trustme.CA()``; ``ca_file`` is its PEM. This machine
exports ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, which ``requests`` prefers over any CA a client
configures, so either

* ``monkeypatch.setattr(exchangelib.protocol.BaseProtocol, "HTTP_ADAPTER_CLS", fake.http_adapter_cls)``:
  an ``HTTPAdapter`` that verifies against ``ca_file`` whatever the environment says. It touches
  only exchangelib's sessions, so other HTTPS fakes in the same test keep their own trust. The
  ``fake_ews`` fixture does this (exchangelib reads the class when it opens a session, so set it
  before the first request or call ``exchangelib.close_connections()``). Or
* ``monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)`` and the same for ``CURL_CA_BUNDLE``
  (process-wide: every ``requests`` call in the test then trusts only this CA).

Free/busy: ``fake.busy["ann@contoso.com"] = [(start_utc, end_utc, "Busy")]`` and
``account.protocol.get_free_busy_info(accounts=[("ann@contoso.com", "Required", False)], start=...,
end=..., merged_free_busy_interval=30, requested_view="DetailedMerged")`` with ``start``/``end`` as
``EWSDateTime`` in ``EWSTimeZone("UTC")`` (GetServerTimeZones knows UTC only; event times come back
in the request's zone). An address that is neither a mailbox nor in ``busy`` answers
``ErrorMailRecipientNotFound``.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import os
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import pytest
import requests.adapters
import trustme

__all__ = ["EwsItem", "FakeEws", "fake_ews"]

HOST = "127.0.0.1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
ERRORS = "http://schemas.microsoft.com/exchange/services/2006/errors"

# Every mailbox has these distinguished folders: id -> (display name, parent id, FolderClass).
# root and msgfolderroot carry no FolderClass on Exchange (and exchangelib matches them by that).
DISTINGUISHED = {
    "root": ("Root", None, None),
    "msgfolderroot": ("Top of Information Store", "root", None),
    "inbox": ("Inbox", "msgfolderroot", "IPF.Note"),
    "sentitems": ("Sent Items", "msgfolderroot", "IPF.Note"),
    "drafts": ("Drafts", "msgfolderroot", "IPF.Note"),
    "deleteditems": ("Deleted Items", "msgfolderroot", "IPF.Note"),
    "junkemail": ("Junk Email", "msgfolderroot", "IPF.Note"),
}
# Item properties the fake can answer (others asked for are left out, as Exchange does with unset
# ones). ItemId is always sent, right after MimeContent.
ITEM_FIELDS = ("item:MimeContent", "item:ParentFolderId", "item:ItemClass", "item:Subject",
               "item:DateTimeReceived", "item:Size", "item:Categories", "message:InternetMessageId",
               "message:IsRead")
DEFAULT_SHAPE = set(ITEM_FIELDS) - {"item:MimeContent"}
BUSY_CODES = {"Free": "0", "Tentative": "1", "Busy": "2", "OOF": "3", "NoData": "4"}
_ids = itertools.count(1)


def _new_id(kind: str) -> str:
    # Opaque, base64 like the real ones ("AAMkA..." items, "AQMkA..." folders); globally unique.
    prefix = "AAMkA" if kind == "item" else "AQMkA"
    return prefix + base64.b64encode(f"fake-{kind}-{next(_ids):06d}".encode()).decode()


@dataclass
class EwsItem:
    id: str
    mailbox: str
    folder_id: str
    mime: bytes
    received: datetime
    item_class: str = "IPM.Note"
    is_read: bool = False
    categories: list[str] = field(default_factory=list)
    version: int = 1
    gone: bool = False  # moved away (it lives on under a new id) or deleted: this id no longer resolves

    @property
    def changekey(self) -> str:
        return base64.b64encode(f"CQAAABYAAA-{self.id[-8:]}-{self.version}".encode()).decode()

    @property
    def headers(self):
        return BytesHeaderParser(policy=policy.default).parsebytes(self.mime)

    @property
    def message_id(self) -> str | None:
        value = self.headers.get("Message-ID")
        return str(value).strip() if value else None

    @property
    def subject(self) -> str | None:
        value = self.headers.get("Subject")
        return str(value) if value is not None else None


@dataclass
class EwsFolder:
    id: str
    mailbox: str
    name: str
    parent_id: str | None
    folder_class: str | None = "IPF.Note"
    distinguished: str | None = None
    version: int = 1

    @property
    def changekey(self) -> str:
        return base64.b64encode(f"AQAAABYAAA-{self.id[-8:]}-{self.version}".encode()).decode()


@dataclass
class Mailbox:
    address: str
    distinguished: dict[str, EwsFolder] = field(default_factory=dict)
    # The change log that SyncStates point into: (seq, folder id, create|update|read|delete, item id).
    log: list[tuple[int, str, str, str]] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)


class EwsError(Exception):
    """An error answered in the operation's response message (ResponseClass="Error")."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text


class FakeEws:
    def __init__(self, ca: trustme.CA | None = None) -> None:
        self.ca = ca or trustme.CA()
        self.users: dict[str, str] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.folders: dict[str, EwsFolder] = {}
        self.all_items: dict[str, EwsItem] = {}  # by id, including gone ones (a Create may still show them)
        self.requests: list[str] = []  # SOAP operation names, in order (authenticated requests only)
        self.unknown: list[str] = []  # operations the fake does not implement
        #: GetUserAvailability's table: address -> [(start, end, "Busy"|"Tentative"|"OOF"|"Free")], UTC.
        self.busy: dict[str, list[tuple[datetime, datetime, str]]] = {}
        self._seq = itertools.count(1)
        self._generation = 1  # part of every SyncState; invalidate_sync_states() bumps it
        self._busy_next: list[int] = []  # BackOffMilliseconds of the next ErrorServerBusy answers
        self._lock = threading.RLock()
        fd, self.ca_file = tempfile.mkstemp(prefix="fake-ews-ca-", suffix=".pem")
        os.close(fd)
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._server = _serve(self)

    # -- what a test does ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self._server.server_address[1]}/EWS/Exchange.asmx"

    @property
    def http_adapter_cls(self) -> type[requests.adapters.HTTPAdapter]:
        """For ``exchangelib.protocol.BaseProtocol.HTTP_ADAPTER_CLS``: verifies against ``ca_file``."""
        ca_file = self.ca_file

        class TrustFakeEws(requests.adapters.HTTPAdapter):
            def send(self, request, **kwargs):
                # requests resolves verify=True to $REQUESTS_CA_BUNDLE before it gets here.
                if kwargs.get("verify") is not False:
                    kwargs["verify"] = ca_file
                return super().send(request, **kwargs)

        return TrustFakeEws

    def add_user(self, username: str, password: str) -> None:
        """Basic-auth credentials; a username that is an address also gets that mailbox."""
        with self._lock:
            self.users[username] = password
            if "@" in username:
                self.add_mailbox(username)

    def add_mailbox(self, address: str) -> Mailbox:
        with self._lock:
            box = self.mailboxes.get(address.lower())
            if box is None:
                box = self.mailboxes[address.lower()] = Mailbox(address)
                for dist_id, (name, parent, folder_class) in DISTINGUISHED.items():
                    parent_id = box.distinguished[parent].id if parent else None
                    folder = EwsFolder(_new_id("folder"), address.lower(), name, parent_id, folder_class, dist_id)
                    box.distinguished[dist_id] = self.folders[folder.id] = folder
            return box

    def add_folder(self, mailbox: str, display_name: str, parent: str = "msgfolderroot") -> str:
        """A mail folder under ``parent`` (a distinguished id or a display name); returns its FolderId."""
        with self._lock:
            box = self.add_mailbox(mailbox)
            folder = EwsFolder(_new_id("folder"), box.address.lower(), display_name, self._folder_named(box, parent).id)
            self.folders[folder.id] = folder
            return folder.id

    def deliver(self, mailbox: str, raw: bytes, item_class: str = "IPM.Note", *, folder: str = "inbox",
                received: datetime | None = None) -> str:
        """Puts ``raw`` into ``folder`` (default: inbox) as a new unread item; returns its ItemId."""
        with self._lock:
            box = self.add_mailbox(mailbox)
            return self._store(box, self._folder_named(box, folder), raw, item_class=item_class,
                               received=received or datetime.now(timezone.utc)).id

    def items(self, mailbox: str, folder_name: str) -> list[EwsItem]:
        """The items now in a folder (display name or distinguished id), in the order they arrived there."""
        with self._lock:
            folder = self._folder_named(self.add_mailbox(mailbox), folder_name)
            return [i for i in self.all_items.values() if i.folder_id == folder.id and not i.gone]

    def sent(self, mailbox: str) -> list[bytes]:
        """The MIME of every message sent from ``mailbox`` (SendOnly or SendAndSaveCopy), as received."""
        with self._lock:
            return list(self.add_mailbox(mailbox).sent)

    def invalidate_sync_states(self) -> None:
        """Every SyncState handed out so far answers ErrorInvalidSyncStateData from now on."""
        with self._lock:
            self._generation += 1

    def server_busy_next(self, back_off_ms: int, count: int = 1) -> None:
        """The next ``count`` requests answer ErrorServerBusy with BackOffMilliseconds, as Exchange throttles."""
        with self._lock:
            self._busy_next.extend([back_off_ms] * count)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(OSError):
            os.unlink(self.ca_file)

    # -- the protocol ----------------------------------------------------------------------------

    def handle(self, headers, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        user = self._authenticated(headers.get("Authorization", ""))
        if user is None:
            # Exchange offers its schemes in WWW-Authenticate; exchangelib (FailFast) raises UnauthorizedError.
            return 401, b"", {"WWW-Authenticate": f'Basic realm="{HOST}"'}
        try:
            request = ET.fromstring(body)[-1][0]  # s:Envelope / s:Body / the operation
            operation = _local(request.tag).removesuffix("Request")  # GetUserAvailabilityRequest
        except (ET.ParseError, IndexError):
            return 500, _fault("ErrorSchemaValidation", "The request failed schema validation."), {}
        with self._lock:
            self.requests.append(operation)
            if self._busy_next:
                return 500, _fault("ErrorServerBusy", "The server cannot service this request right now. "
                                   "Try again later.", back_off_ms=self._busy_next.pop(0)), {}
            answer = getattr(self, f"_op_{operation}", None)
            if answer is None:
                self.unknown.append(operation)
                return 500, _fault("ErrorSchemaValidation", f"The request failed schema validation: the fake "
                                   f"EWS does not implement {operation}."), {}
            anchor = headers.get("X-AnchorMailbox") or user
            try:
                return 200, _envelope(answer(request, anchor)), {}
            except Exception as e:  # a request shape the fake did not expect: say so instead of hanging up
                return 500, _fault("ErrorInternalServerError", f"The fake EWS failed on {operation}: {e!r}"), {}

    def _authenticated(self, authorization: str) -> str | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return username if self.users.get(username) == password else None

    # -- operations: each takes the request element and the anchor mailbox, returns the response XML

    def _op_GetFolder(self, request, anchor):
        messages = []
        for ref in request.find(f"{{{M}}}FolderIds"):
            try:
                folder = self._folder_ref(ref, anchor)
                messages.append(_message("GetFolder", f"<m:Folders>{self._folder_xml(folder)}</m:Folders>"))
            except EwsError as e:
                messages.append(_error("GetFolder", e))
        return _response("GetFolder", messages)

    def _op_FindFolder(self, request, anchor):
        deep = request.get("Traversal") == "Deep"
        offset, page_size = _view(request, "IndexedPageFolderView")
        restriction = request.find(f"{{{M}}}Restriction")
        messages = []
        for ref in request.find(f"{{{M}}}ParentFolderIds"):
            try:
                parent = self._folder_ref(ref, anchor)
                found = [f for f in self._children(parent, deep) if restriction is None or _matches(
                    restriction[0], {"folder:DisplayName": f.name, "folder:FolderClass": f.folder_class})]
                page = found[offset:offset + page_size]
                messages.append(_message("FindFolder", _root_folder(
                    offset + len(page), len(found), "t:Folders", "".join(self._folder_xml(f) for f in page))))
            except EwsError as e:
                messages.append(_error("FindFolder", e))
        return _response("FindFolder", messages)

    def _op_SyncFolderItems(self, request, anchor):
        def error(e: EwsError) -> str:  # even errors carry SyncState and IncludesLastItemInRange
            return _response("SyncFolderItems", [_error("SyncFolderItems", e, "<m:SyncState/>"
                                                        "<m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>")])
        fields = _shape(request)
        try:
            folder = self._folder_ref(request.find(f"{{{M}}}SyncFolderId")[0], anchor)
            since = self._parse_sync_state(request.findtext(f"{{{M}}}SyncState"), folder)
        except EwsError as e:
            return error(e)
        limit = int(request.findtext(f"{{{M}}}MaxChangesReturned") or 512)
        ignore = {ref.get("Id") for ref in request.iterfind(f"{{{M}}}Ignore/{{{T}}}ItemId")}
        # Walk the log from the state's position, folding several events of one item into one change,
        # and stop before a change that would not fit: the new state is the last event consumed.
        changes: dict[str, str] = {}
        position, complete = since, True
        for seq, folder_id, kind, item_id in self.mailboxes[folder.mailbox].log:
            if seq <= since or folder_id != folder.id:
                continue
            if item_id not in changes and len(changes) >= limit:
                complete = False
                break
            folded = _fold(changes.get(item_id), kind)
            if folded is None:
                changes.pop(item_id, None)  # created and gone again within the window: nothing to tell
            else:
                changes[item_id] = folded
            position = seq
        out = []
        for item_id, kind in changes.items():
            if item_id in ignore:
                continue
            item = self.all_items[item_id]
            if kind == "delete":
                out.append(f"<t:Delete>{_item_id(item)}</t:Delete>")
            elif kind == "read":
                out.append(f"<t:ReadFlagChange>{_item_id(item)}<t:IsRead>{_bool(item.is_read)}</t:IsRead>"
                           "</t:ReadFlagChange>")
            else:
                tag = "t:Create" if kind == "create" else "t:Update"
                out.append(f"<{tag}>{self._item_xml(item, fields)}</{tag}>")
        state = base64.b64encode(f"fake-sync:{folder.id}:{self._generation}:{position}".encode()).decode()
        return _response("SyncFolderItems", [_message("SyncFolderItems", (
            f"<m:SyncState>{state}</m:SyncState><m:IncludesLastItemInRange>{_bool(complete)}"
            f"</m:IncludesLastItemInRange><m:Changes>{''.join(out)}</m:Changes>"))])

    def _op_GetItem(self, request, anchor):
        fields = _shape(request)
        messages = []
        for ref in request.find(f"{{{M}}}ItemIds"):
            try:
                messages.append(_message("GetItem", f"<m:Items>{self._item_xml(self._item(ref), fields)}</m:Items>"))
            except EwsError as e:
                messages.append(_error("GetItem", e))
        return _response("GetItem", messages)

    def _op_UpdateItem(self, request, anchor):
        messages = []
        for change in request.iter(f"{{{T}}}ItemChange"):
            try:
                item = self._item(change.find(f"{{{T}}}ItemId"))
                touched = set()
                for update in change.find(f"{{{T}}}Updates"):
                    uri = update.find(f"{{{T}}}FieldURI").get("FieldURI")
                    value = update[-1] if _local(update.tag) == "SetItemField" else None
                    if uri == "message:IsRead":
                        item.is_read = value is not None and _xs_bool(value.findtext(f"{{{T}}}IsRead"))
                    elif uri == "item:Categories":
                        item.categories = [] if value is None else [s.text or "" for s in value.iter(f"{{{T}}}String")]
                    else:
                        raise EwsError("ErrorInvalidPropertySet", f"The fake EWS cannot update {uri}.")
                    touched.add(uri)
                item.version += 1
                # Exchange reports a change of the read flag alone as a ReadFlagChange in SyncFolderItems.
                self._log(item, "read" if touched == {"message:IsRead"} else "update")
                messages.append(_message("UpdateItem", f"<m:Items>{self._item_xml(item, set())}</m:Items>"
                                         "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>"))
            except EwsError as e:
                messages.append(_error("UpdateItem", e))
        return _response("UpdateItem", messages)

    def _op_MoveItem(self, request, anchor):
        messages = []
        try:
            target = self._folder_ref(request.find(f"{{{M}}}ToFolderId")[0], anchor)
        except EwsError as e:
            return _response("MoveItem", [_error("MoveItem", e) for _ in request.find(f"{{{M}}}ItemIds")])
        for ref in request.find(f"{{{M}}}ItemIds"):
            try:
                item = self._item(ref)
                # A move is a copy under a new id and a delete of the old one, on Exchange as here.
                item.gone = True
                self._log(item, "delete")
                moved = self._store(self.mailboxes[target.mailbox], target, item.mime, item_class=item.item_class,
                                    received=item.received, is_read=item.is_read, categories=list(item.categories))
                messages.append(_message("MoveItem", f"<m:Items>{self._item_xml(moved, set())}</m:Items>"))
            except EwsError as e:
                messages.append(_error("MoveItem", e))
        return _response("MoveItem", messages)

    def _op_CreateItem(self, request, anchor):
        disposition = request.get("MessageDisposition", "SaveOnly")
        saved_ref = request.find(f"{{{M}}}SavedItemFolderId")
        messages = []
        for element in request.find(f"{{{M}}}Items"):
            try:
                folder = self._folder_ref(saved_ref[0], anchor) if saved_ref is not None else \
                    self._folder_ref(None, anchor, "sentitems" if disposition != "SaveOnly" else "drafts")
                mime = element.findtext(f"{{{T}}}MimeContent")
                if not mime:
                    raise EwsError("ErrorMimeContentInvalid", "The fake EWS creates items from MimeContent only.")
                try:
                    raw = base64.b64decode(mime, validate=True)
                except binascii.Error:
                    raise EwsError("ErrorMimeContentInvalidBase64String", "MimeContent is not valid base64.") from None
                box = self.mailboxes[folder.mailbox]
                if disposition in ("SendOnly", "SendAndSaveCopy"):
                    box.sent.append(raw)
                if disposition == "SendAndSaveCopy":  # the copy is read; the send answers no ItemId
                    self._store(box, folder, raw, item_class="IPM.Note", received=datetime.now(timezone.utc),
                                is_read=True)
                    messages.append(_message("CreateItem", "<m:Items/>"))
                elif disposition == "SaveOnly":
                    item = self._store(box, folder, raw, item_class=element.findtext(f"{{{T}}}ItemClass") or "IPM.Note",
                                       received=datetime.now(timezone.utc),
                                       is_read=_xs_bool(element.findtext(f"{{{T}}}IsRead")))
                    messages.append(_message("CreateItem", f"<m:Items>{self._item_xml(item, set())}</m:Items>"))
                else:
                    messages.append(_message("CreateItem", "<m:Items/>"))
            except EwsError as e:
                messages.append(_error("CreateItem", e))
        return _response("CreateItem", messages)

    def _op_FindItem(self, request, anchor):
        fields = _shape(request)
        offset, page_size = _view(request, "IndexedPageItemView")
        restriction = request.find(f"{{{M}}}Restriction")
        messages = []
        for ref in request.find(f"{{{M}}}ParentFolderIds"):
            try:
                folder = self._folder_ref(ref, anchor)
                found = [i for i in self.all_items.values() if i.folder_id == folder.id and not i.gone and (
                    restriction is None or _matches(restriction[0], {
                        "message:InternetMessageId": i.message_id, "item:ItemClass": i.item_class,
                        "item:Subject": i.subject, "message:IsRead": _bool(i.is_read)}))]
                found.sort(key=lambda i: i.received, reverse=True)  # Exchange's default: newest first
                page = found[offset:offset + page_size]
                messages.append(_message("FindItem", _root_folder(
                    offset + len(page), len(found), "t:Items", "".join(self._item_xml(i, fields) for i in page))))
            except EwsError as e:
                messages.append(_error("FindItem", e))
        return _response("FindItem", messages)

    def _op_ConvertId(self, request, anchor):
        # exchangelib's version guess (a Configuration without ``version``) sends ConvertId of a dummy id
        # and reads only the ServerVersionInfo header; Exchange answers such ids ErrorInvalidIdMalformed.
        return _response("ConvertId", [_error("ConvertId", EwsError("ErrorInvalidIdMalformed", "Id is malformed."))
                                       for _ in request.find(f"{{{M}}}SourceIds")])

    def _op_GetServerTimeZones(self, request, anchor):
        wanted = [e.text for e in request.iter(f"{{{T}}}Id")] or ["UTC"]
        if wanted != ["UTC"]:
            return _response("GetServerTimeZones", [_error("GetServerTimeZones", EwsError(
                "ErrorTimeZone", f"The fake EWS only knows the UTC time zone, not {wanted}."))])
        return _response("GetServerTimeZones", [_message("GetServerTimeZones", (
            '<m:TimeZoneDefinitions><t:TimeZoneDefinition Name="(UTC) Coordinated Universal Time" Id="UTC">'
            '<t:Periods><t:Period Bias="PT0H" Name="Standard" Id="trule:Microsoft/Registry/UTC/1-Standard"/>'
            '</t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:Transition>'
            '<t:To Kind="Period">trule:Microsoft/Registry/UTC/1-Standard</t:To></t:Transition>'
            '</t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition>'
            '<t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:TimeZoneDefinition>'
            '</m:TimeZoneDefinitions>'))])

    def _op_GetUserAvailability(self, request, anchor):
        # Times in the request and the answer are local to the request's t:TimeZone (UTC = local + Bias);
        # only its fixed Bias is honoured, which is exact for UTC.
        bias = timedelta(minutes=int(request.findtext(f"{{{T}}}TimeZone/{{{T}}}Bias") or 0))
        options = request.find(f"{{{T}}}FreeBusyViewOptions")
        start = _parse_time(options.findtext(f"{{{T}}}TimeWindow/{{{T}}}StartTime"), bias)
        end = _parse_time(options.findtext(f"{{{T}}}TimeWindow/{{{T}}}EndTime"), bias)
        interval = timedelta(minutes=int(options.findtext(f"{{{T}}}MergedFreeBusyIntervalInMinutes") or 30))
        view = options.findtext(f"{{{T}}}RequestedView") or "DetailedMerged"
        responses = []
        for data in request.find(f"{{{M}}}MailboxDataArray"):
            address = (data.findtext(f"{{{T}}}Email/{{{T}}}Address") or "").lower()
            table = {k.lower(): v for k, v in self.busy.items()}
            if address not in table and address not in self.mailboxes:
                responses.append(
                    '<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Error"><m:MessageText>No mailbox with '
                    f'such guid or address {escape(address)}.</m:MessageText><m:ResponseCode>ErrorMailRecipientNotFound'
                    '</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResponseMessage>'
                    '<m:FreeBusyView><t:FreeBusyViewType>None</t:FreeBusyViewType></m:FreeBusyView>'
                    '</m:FreeBusyResponse>')
                continue
            events = sorted((_utc(s), _utc(e), kind) for s, e, kind in table.get(address, [])
                            if _utc(s) < end and _utc(e) > start)
            merged = ""
            slot = start
            while slot < end:
                codes = [BUSY_CODES[k] for s, e, k in events if s < slot + interval and e > slot]
                merged += max(codes, default="0")
                slot += interval
            body = f"<t:FreeBusyViewType>{view}</t:FreeBusyViewType>"
            if "Merged" in view:
                body += f"<t:MergedFreeBusy>{merged}</t:MergedFreeBusy>"
            if view != "MergedOnly":
                body += "<t:CalendarEventArray>" + "".join(
                    f"<t:CalendarEvent><t:StartTime>{_local_text(s, bias)}</t:StartTime><t:EndTime>"
                    f"{_local_text(e, bias)}</t:EndTime><t:BusyType>{kind}</t:BusyType></t:CalendarEvent>"
                    for s, e, kind in events) + "</t:CalendarEventArray>"
            responses.append('<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Success"><m:ResponseCode>'
                             'NoError</m:ResponseCode></m:ResponseMessage>'
                             f'<m:FreeBusyView>{body}</m:FreeBusyView></m:FreeBusyResponse>')
        return (f'<m:GetUserAvailabilityResponse xmlns:m="{M}" xmlns:t="{T}"><m:FreeBusyResponseArray>'
                f'{"".join(responses)}</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>')

    # -- state -----------------------------------------------------------------------------------

    def _store(self, box: Mailbox, folder: EwsFolder, raw: bytes, *, item_class: str, received: datetime,
               is_read: bool = False, categories: list[str] | None = None) -> EwsItem:
        item = EwsItem(_new_id("item"), box.address.lower(), folder.id, raw, received, item_class, is_read,
                       categories or [])
        self.all_items[item.id] = item
        self._log(item, "create")
        return item

    def _log(self, item: EwsItem, kind: str) -> None:
        self.mailboxes[item.mailbox].log.append((next(self._seq), item.folder_id, kind, item.id))

    def _parse_sync_state(self, text: str | None, folder: EwsFolder) -> int:
        if not text:
            return 0
        try:
            tag, folder_id, generation, position = base64.b64decode(text).decode().split(":")
            if tag == "fake-sync" and folder_id == folder.id and int(generation) == self._generation:
                return int(position)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        raise EwsError("ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.")

    def _folder_named(self, box: Mailbox, name: str) -> EwsFolder:
        if name in box.distinguished:
            return box.distinguished[name]
        for folder in self.folders.values():
            if folder.mailbox == box.address.lower() and folder.name.lower() == name.lower():
                return folder
        raise KeyError(f"no folder {name!r} in {box.address}")

    def _folder_ref(self, ref, anchor: str, distinguished: str | None = None) -> EwsFolder:
        """The folder a t:FolderId or t:DistinguishedFolderId (with an optional t:Mailbox) names."""
        if ref is not None and _local(ref.tag) == "FolderId":
            folder = self.folders.get(ref.get("Id"))
            if folder is None:
                raise EwsError("ErrorFolderNotFound", "The specified folder could not be found in the store.")
            return folder
        if ref is not None:
            distinguished = ref.get("Id")
            anchor = ref.findtext(f"{{{T}}}Mailbox/{{{T}}}EmailAddress") or anchor
        box = self.mailboxes.get(anchor.lower())
        if box is None:
            raise EwsError("ErrorNonExistentMailbox", f"No mailbox with such guid or address {anchor}.")
        if distinguished not in box.distinguished:
            raise EwsError("ErrorFolderNotFound", "The specified folder could not be found in the store.")
        return box.distinguished[distinguished]

    def _item(self, ref) -> EwsItem:
        item = self.all_items.get(ref.get("Id")) if ref is not None else None
        if item is None or item.gone:
            raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
        return item

    def _children(self, parent: EwsFolder, deep: bool) -> list[EwsFolder]:
        found = []
        for folder in self.folders.values():
            if folder.parent_id == parent.id:
                found.append(folder)
                if deep:
                    found.extend(self._children(folder, deep))
        return found

    def _folder_xml(self, folder: EwsFolder) -> str:
        items = [i for i in self.all_items.values() if i.folder_id == folder.id and not i.gone]
        parts = [f"<t:FolderId Id={quoteattr(folder.id)} ChangeKey={quoteattr(folder.changekey)}/>"]
        if folder.parent_id:
            parent = self.folders[folder.parent_id]
            parts.append(f"<t:ParentFolderId Id={quoteattr(parent.id)} ChangeKey={quoteattr(parent.changekey)}/>")
        if folder.folder_class:
            parts.append(f"<t:FolderClass>{folder.folder_class}</t:FolderClass>")
        parts.append(f"<t:DisplayName>{escape(folder.name)}</t:DisplayName>"
                     f"<t:TotalCount>{len(items)}</t:TotalCount>"
                     f"<t:ChildFolderCount>{len(self._children(folder, False))}</t:ChildFolderCount>"
                     f"<t:UnreadCount>{sum(not i.is_read for i in items)}</t:UnreadCount>")
        return f"<t:Folder>{''.join(parts)}</t:Folder>"

    def _item_xml(self, item: EwsItem, fields: set[str]) -> str:
        # Meeting messages come as their own element types, as Exchange sends them.
        tag = "t:Message"
        for prefix, name in (("IPM.Schedule.Meeting.Request", "t:MeetingRequest"),
                             ("IPM.Schedule.Meeting.Resp", "t:MeetingResponse"),
                             ("IPM.Schedule.Meeting.Canceled", "t:MeetingCancellation")):
            if item.item_class.startswith(prefix):
                tag = name
        parts = []
        if "item:MimeContent" in fields:
            parts.append(f'<t:MimeContent CharacterSet="UTF-8">{base64.b64encode(item.mime).decode()}</t:MimeContent>')
        parts.append(_item_id(item))
        folder, subject, message_id = self.folders[item.folder_id], item.subject, item.message_id
        categories = "".join(f"<t:String>{escape(c)}</t:String>" for c in item.categories)
        optional = {  # in schema order; empty where Exchange leaves the element out
            "item:ParentFolderId": f"<t:ParentFolderId Id={quoteattr(folder.id)} "
                                   f"ChangeKey={quoteattr(folder.changekey)}/>",
            "item:ItemClass": f"<t:ItemClass>{escape(item.item_class)}</t:ItemClass>",
            "item:Subject": f"<t:Subject>{escape(subject)}</t:Subject>" if subject is not None else "",
            "item:DateTimeReceived": f"<t:DateTimeReceived>{_utc_text(item.received)}</t:DateTimeReceived>",
            "item:Size": f"<t:Size>{len(item.mime)}</t:Size>",
            "item:Categories": f"<t:Categories>{categories}</t:Categories>" if categories else "",
            "message:InternetMessageId": f"<t:InternetMessageId>{escape(message_id)}</t:InternetMessageId>"
                                         if message_id else "",
            "message:IsRead": f"<t:IsRead>{_bool(item.is_read)}</t:IsRead>",
        }
        parts.extend(xml for uri, xml in optional.items() if uri in fields)
        return f"<{tag}>{''.join(parts)}</{tag}>"


# -- XML helpers ---------------------------------------------------------------------------------


def _item_id(item: EwsItem) -> str:
    return f"<t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _xs_bool(text: str | None) -> bool:
    return (text or "").strip() in ("true", "1")  # xs:boolean; exchangelib sends "1"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _utc_text(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_text(moment: datetime, bias: timedelta) -> str:
    return (moment - bias).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: local to the request's zone


def _parse_time(text: str, bias: timedelta) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return _utc(moment) if moment.tzinfo else (moment + bias).replace(tzinfo=timezone.utc)


def _fold(previous: str | None, kind: str) -> str | None:
    """One change for several events of an item since the SyncState: None when there is nothing to tell."""
    if kind == "create" or previous is None:
        return kind
    if kind == "delete":
        return None if previous == "create" else "delete"
    if previous in ("create", "update"):
        return previous  # a Create or Update shows the item as it is now
    return kind  # read then read, read then update


def _shape(request) -> set[str]:
    """The item FieldURIs an ItemShape asks for (IdOnly + AdditionalProperties is what exchangelib sends)."""
    shape = request.find(f"{{{M}}}ItemShape")
    if shape is None:
        return set()
    fields = {e.get("FieldURI") for e in shape.iter(f"{{{T}}}FieldURI")}
    if shape.findtext(f"{{{T}}}BaseShape") in ("Default", "AllProperties"):
        fields |= DEFAULT_SHAPE
    if _xs_bool(shape.findtext(f"{{{T}}}IncludeMimeContent")):
        fields.add("item:MimeContent")
    return fields


def _view(request, name: str) -> tuple[int, int]:
    view = request.find(f"{{{M}}}{name}")
    if view is None:
        return 0, 1000
    return int(view.get("Offset", "0")), int(view.get("MaxEntriesReturned", "1000"))


def _matches(condition, values: dict[str, str | None]) -> bool:
    """Evaluates a t: restriction (And/Or/Not/IsEqualTo/IsNotEqualTo/Exists) case-insensitively."""
    kind = _local(condition.tag)
    if kind in ("And", "Or"):
        results = (_matches(c, values) for c in condition)
        return all(results) if kind == "And" else any(results)
    if kind == "Not":
        return not _matches(condition[0], values)
    uri = condition.find(f"{{{T}}}FieldURI").get("FieldURI")
    if uri not in values:
        raise EwsError("ErrorUnsupportedQueryFilter", f"The fake EWS cannot restrict on {uri}.")
    if kind == "Exists":
        return values[uri] is not None
    if kind in ("IsEqualTo", "IsNotEqualTo"):
        constant = condition.find(f"{{{T}}}FieldURIOrConstant/{{{T}}}Constant").get("Value")
        equal = (values[uri] or "").lower() == (constant or "").lower()
        return equal if kind == "IsEqualTo" else not equal
    raise EwsError("ErrorUnsupportedQueryFilter", f"The fake EWS cannot evaluate {kind}.")


def _root_folder(next_offset: int, total: int, container: str, content: str) -> str:
    last = _bool(next_offset >= total)
    return (f'<m:RootFolder IndexedPagingOffset="{next_offset}" TotalItemsInView="{total}" '
            f'IncludesLastItemInRange="{last}"><{container}>{content}</{container}></m:RootFolder>')


def _message(operation: str, content: str) -> str:
    return (f'<m:{operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f'{content}</m:{operation}ResponseMessage>')


def _error(operation: str, error: EwsError, content: str = "") -> str:
    return (f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(error.text)}</m:MessageText>'
            f'<m:ResponseCode>{error.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>'
            f'{content}</m:{operation}ResponseMessage>')


def _response(operation: str, messages: list[str]) -> str:
    return (f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>{"".join(messages)}'
            f'</m:ResponseMessages></m:{operation}Response>')


def _envelope(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" '
            f'MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="{T}" xmlns="{T}" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
            f'</s:Header><s:Body>{body}</s:Body></s:Envelope>').encode()


def _fault(code: str, text: str, back_off_ms: int | None = None) -> bytes:
    # Exchange sends these as HTTP 500 with a SOAP fault; the detail carries the EWS code (and, for
    # ErrorServerBusy, BackOffMilliseconds in t:MessageXml, which exchangelib turns into .back_off).
    detail = (f'<e:ResponseCode xmlns:e="{ERRORS}">{code}</e:ResponseCode>'
              f'<e:Message xmlns:e="{ERRORS}">{escape(text)}</e:Message>')
    if back_off_ms is not None:
        detail += (f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value>'
                   '</t:MessageXml>')
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault>'
            f'<faultcode xmlns:a="{T}">a:{code}</faultcode><faultstring xml:lang="en-US">{escape(text)}</faultstring>'
            f'<detail>{detail}</detail></s:Fault></s:Body></s:Envelope>').encode()


def _serve(fake: FakeEws) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keep-alive, as exchangelib expects: a "Connection: close" on a 401 would make it
        # raise ErrorServerBusy instead of UnauthorizedError.
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, data, extra = fake.handle(self.headers, body)
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "text/xml; charset=utf-8")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    fake.ca.issue_cert(HOST, "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def fake_ews(monkeypatch) -> Iterator[FakeEws]:
    """A fresh fake; exchangelib's sessions trust its CA (only exchangelib's) and are closed afterwards."""
    import exchangelib
    from exchangelib.protocol import BaseProtocol

    fake = FakeEws()
    monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", fake.http_adapter_cls)
    yield fake
    exchangelib.close_connections()
    fake.stop()
