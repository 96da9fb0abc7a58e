"""A Microsoft 365 mailbox through Microsoft Graph (v1.0): :class:`GraphSource` reads it,
:class:`GraphSender` sends as it. App-only tokens come from a :class:`~mailer.oauth2.TokenProvider`
with the scope ``https://graph.microsoft.com/.default``.

The client is ``requests`` and a few documented calls (Microsoft's SDK is async-only and cannot send
MIME). Every request sends ``Prefer: IdType="ImmutableId"``, so a message keeps its id when it is
moved. Throttling (429, 503) is honoured with ``Retry-After`` (a few times, a minute at most each);
a 401 drops the token and tries once more with a fresh one, then is a login refused; a 403 names the
application permission that is missing. Nothing here logs a token.

Intake follows the folder's delta query (``messages/delta``) page by page to its ``@odata.deltaLink``,
which is the cursor: :meth:`GraphSource.cursor_after` hands it out only with the last key of a round,
so it is stored after everything before it is committed, and a crash replays the round (the caller's
dedupe absorbs it). A dead delta link (410, ``syncStateNotFound``) starts over. Each message's MIME
comes from ``/messages/{id}/$value``. Handled mail is marked read, given a category and moved;
nothing is deleted.

Sending posts the whole MIME message to ``sendMail``, so the Message-ID, the threading headers and
the iMIP parts go out as composed, and a copy lands in Sent Items. Before each send the Sent Items are
asked for the Message-ID: a message an earlier, ambiguous attempt did send is not sent twice.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Sequence
from urllib.parse import quote

from mailer.errors import (
    MailboxAuthError,
    MailboxConnectError,
    MailboxError,
    PermanentSendError,
    SenderAuthError,
    ServerUnavailableError,
    TokenError,
    TransientSendError,
)
from mailer.message import find_message_id
from mailer.oauth2 import TokenProvider, pinned_session
from mailer.source import RoundCursor, SourceMessage

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CATEGORY = "whiteglove"
_MAX_THROTTLE_WAIT = 60.0
_THROTTLE_TRIES = 4
_PERMISSIONS = {"read": "Mail.ReadWrite", "send": "Mail.Send", "calendar": "Calendars.Read"}


class GraphError(Exception):
    """A Graph call failed; ``status`` is the HTTP status (0: no answer), ``code`` Graph's error code."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GraphClient:
    """The few Graph calls whiteglove makes, for one mailbox, with the error handling above."""

    def __init__(self, *, mailbox: str, tokens: TokenProvider, base_url: str = GRAPH_URL, ca_file: str | None = None,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.mailbox = mailbox
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._session = pinned_session(ca_file)
        self._timeout = timeout
        self._sleep = sleep
        self._lock = threading.Semaphore(4)  # Graph allows four requests at once per mailbox

    def user_url(self, path: str) -> str:
        return f"{self.base_url}/users/{quote(self.mailbox)}/{path.lstrip('/')}"

    def request(self, method: str, url: str, *, purpose: str, json: Any = None, data: bytes | None = None,
                headers: dict | None = None, params: dict | None = None) -> Any:
        """Make one call; return the decoded JSON (None for an empty answer, bytes for ``$value``).

        Raises :class:`GraphError` (``status`` 401: the login refused after a fresh token too).
        """
        refreshed = False
        throttled = 0
        while True:
            try:
                token = self._tokens.token()
            except TokenError as exc:
                raise GraphError(f"no token for Microsoft Graph: {exc}", 401 if not exc.transient else 0) from exc
            sent_headers = {"Authorization": f"Bearer {token}", "Prefer": 'IdType="ImmutableId"', **(headers or {})}
            try:
                with self._lock:
                    response = self._session.request(method, url, json=json, data=data, headers=sent_headers,
                                                     params=params, timeout=self._timeout)
            except Exception as exc:  # noqa: BLE001 - requests' connection, TLS and timeout errors
                raise GraphError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
            status = response.status_code
            if status in (429, 503) and throttled < _THROTTLE_TRIES:
                throttled += 1
                wait = _retry_after(response.headers.get("Retry-After"))
                log.warning("Microsoft Graph asks to wait %.0f s (%s, %s)", wait, status, purpose)
                self._sleep(wait)
                continue
            if status == 401 and not refreshed:
                refreshed = True
                self._tokens.invalidate()
                continue
            if status >= 400:
                code, message = _graph_error(response)
                raise GraphError(_explain(status, code, message, purpose, self.mailbox), status, code)
            if not response.content:
                return None
            if response.headers.get("Content-Type", "").startswith("application/json"):
                return response.json()
            return response.content


BLOCKING = frozenset({"busy", "tentative", "oof"})  # free and workingElsewhere leave a slot open


def busy_times(client: GraphClient, emails: Sequence[str], start: datetime, end: datetime,
               interval_minutes: int = 30) -> dict[str, list[tuple[datetime, datetime]]]:
    """When each of ``emails`` is busy, tentative or out of office between ``start`` and ``end``
    (``calendar/getSchedule``, in UTC). Raises :class:`GraphError`."""
    body = {
        "schedules": list(emails),
        "startTime": {"dateTime": _graph_time(start), "timeZone": "UTC"},
        "endTime": {"dateTime": _graph_time(end), "timeZone": "UTC"},
        "availabilityViewInterval": interval_minutes,
    }
    answer = client.request("POST", client.user_url("calendar/getSchedule"), purpose="calendar", json=body,
                            headers={"Prefer": 'IdType="ImmutableId", outlook.timezone="UTC"'})
    found: dict[str, list[tuple[datetime, datetime]]] = {e.lower(): [] for e in emails}
    for schedule in (answer or {}).get("value", []):
        if "error" in schedule:
            raise GraphError(f"no free/busy for {schedule.get('scheduleId')}: "
                             f"{schedule['error'].get('message', schedule['error'])}", 200, "scheduleError")
        blocks = found.setdefault(str(schedule.get("scheduleId", "")).lower(), [])
        for item in schedule.get("scheduleItems", []):
            if item.get("status") in BLOCKING:
                blocks.append((_utc(item["start"]["dateTime"]), _utc(item["end"]["dateTime"])))
    return found


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value[:19]).replace(tzinfo=timezone.utc)


def _retry_after(value: str | None) -> float:
    try:
        return min(_MAX_THROTTLE_WAIT, max(0.0, float(value)))
    except (TypeError, ValueError):
        return 5.0


def _graph_error(response) -> tuple[str, str]:
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "")), str(error.get("message", "")).splitlines()[0][:300] if error.get("message") else ""
    except ValueError:
        return "", response.reason or ""


def _explain(status: int, code: str, message: str, purpose: str, mailbox: str) -> str:
    said = f"{status} {code}: {message}".strip().rstrip(":")
    if status == 401:
        return f"Microsoft Graph refused the app's token for {mailbox}: {said}"
    if status == 403:
        permission = _PERMISSIONS.get(purpose, "Mail.ReadWrite")
        return (f"Microsoft Graph forbids {purpose} on {mailbox}: {said} (the app needs the {permission} application "
                f"permission with admin consent, and RBAC for Applications must include {mailbox})")
    return f"Microsoft Graph: {purpose} on {mailbox} failed: {said}"


class GraphSource:
    """A :class:`~mailer.source.MailboxSource` over one folder of a Microsoft 365 mailbox."""

    def __init__(self, *, name: str, client: GraphClient, folder: str = "inbox",
                 processed_folder: str | None = None, quarantine_folder: str | None = None, page_size: int = 100):
        self.name = name
        self.client = client
        self.folder = folder
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.page_size = page_size
        self._received: dict[str, datetime | None] = {}
        self._rounds = RoundCursor()
        self._folder_ids: dict[str, str] = {}

    # -- MailboxSource --------------------------------------------------------------------------

    def list_new(self, cursor: str | None) -> list[str]:
        """The ids of the messages added to the folder since ``cursor`` (a delta link), oldest first."""
        try:
            keys, link = self._delta(cursor)
        except GraphError as exc:
            if cursor is not None and (exc.status == 410 or exc.code in ("syncStateNotFound", "SyncStateNotFound")):
                log.warning("%s: the delta link expired; reading the folder again", self.name)
                keys, link = self._delta(None)
            else:
                raise _mailbox_error(exc) from exc
        self._rounds.begin(cursor, keys, link)
        return keys

    def cursor_after(self, key: str) -> str | None:
        return self._rounds.after(key)

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        found = []
        for key in keys:
            try:
                raw = self.client.request("GET", self.client.user_url(f"messages/{quote(key)}/$value"), purpose="read")
            except GraphError as exc:
                if exc.status == 404:  # moved or deleted since it was listed
                    continue
                raise _mailbox_error(exc) from exc
            found.append(SourceMessage(key=key, raw=raw if isinstance(raw, bytes) else bytes(raw or b""),
                                       received_at=self._received.get(key)))
        return found

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        for keys, folder in ((processed, self.processed_folder), (quarantined, self.quarantine_folder)):
            for key in keys:
                self._file(key, folder)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)  # no push without a public endpoint: poll

    def close(self) -> None:
        pass

    def verify(self) -> None:
        """Read the folder's first page and find the target folders (creating them if missing)."""
        try:
            self.client.request("GET", self.client.user_url(f"mailFolders/{quote(self.folder)}"), purpose="read")
            for folder in (self.processed_folder, self.quarantine_folder):
                if folder:
                    self._folder_id(folder)
        except GraphError as exc:
            raise _mailbox_error(exc) from exc

    # -- the calls ------------------------------------------------------------------------------

    def _delta(self, cursor: str | None) -> tuple[list[str], str]:
        url = cursor or self.client.user_url(f"mailFolders/{quote(self.folder)}/messages/delta")
        params = None if cursor else {"$select": "receivedDateTime,isRead"}
        headers = {"Prefer": f'IdType="ImmutableId", odata.maxpagesize={self.page_size}'}
        keys: list[str] = []
        while True:
            page = self.client.request("GET", url, purpose="read", params=params, headers=headers)
            for item in page.get("value", []):
                if "@removed" in item:
                    continue
                self._received[item["id"]] = _instant(item.get("receivedDateTime"))
                keys.append(item["id"])
            if "@odata.nextLink" in page:
                url, params = page["@odata.nextLink"], None
                continue
            keys.sort(key=lambda k: (self._received.get(k) or datetime.min.replace(tzinfo=timezone.utc), k))
            return list(dict.fromkeys(keys)), page["@odata.deltaLink"]

    def _file(self, key: str, folder: str | None) -> None:
        try:
            self.client.request("PATCH", self.client.user_url(f"messages/{quote(key)}"), purpose="read",
                                json={"isRead": True, "categories": [CATEGORY]})
            if folder:
                self.client.request("POST", self.client.user_url(f"messages/{quote(key)}/move"), purpose="read",
                                    json={"destinationId": self._folder_id(folder)})
        except GraphError as exc:
            if exc.status == 404:  # filed already (moved by an earlier attempt): nothing to do
                return
            raise _mailbox_error(exc) from exc

    def _folder_id(self, name: str) -> str:
        if name in self._folder_ids:
            return self._folder_ids[name]
        found = self.client.request("GET", self.client.user_url("mailFolders"), purpose="read",
                                    params={"$filter": f"displayName eq '{name.replace(chr(39), chr(39) * 2)}'"})
        values = found.get("value", [])
        if values:
            folder_id = values[0]["id"]
        else:
            folder_id = self.client.request("POST", self.client.user_url("mailFolders"), purpose="read",
                                            json={"displayName": name})["id"]
        self._folder_ids[name] = folder_id
        return folder_id


def _mailbox_error(exc: GraphError) -> MailboxError:
    if exc.status in (401, 403):
        return MailboxAuthError(str(exc))
    if exc.status == 0 or exc.status >= 500 or exc.status == 429:
        return MailboxConnectError(str(exc))
    return MailboxError(str(exc))


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


class GraphSender:
    """A :class:`~mailer.sending.MailSender` sending as the mailbox through ``sendMail``."""

    def __init__(self, client: GraphClient):
        self.client = client

    def __repr__(self) -> str:
        return f"GraphSender({self.client.mailbox})"

    def send(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Send ``raw`` as it is; Graph takes the recipients from its To, Cc and Bcc headers.

        Raises :class:`~mailer.errors.TransientSendError` for throttling and outages,
        :class:`~mailer.errors.SenderAuthError` for a refused token or a missing permission,
        :class:`~mailer.errors.PermanentSendError` for a message Graph will never take.
        """
        message_id = find_message_id(raw)
        try:
            if message_id and self._already_sent(message_id):
                log.info("%s is in Sent Items already: not sending it again", message_id)
                return
            self.client.request("POST", self.client.user_url("sendMail"), purpose="send",
                                data=base64.b64encode(bytes(raw)), headers={"Content-Type": "text/plain"})
        except GraphError as exc:
            if exc.status in (401, 403):
                raise SenderAuthError(str(exc)) from exc
            if exc.status in (400, 413, 415, 422):
                raise PermanentSendError(str(exc)) from exc
            if exc.status in (0, 429, 503):  # unreachable or throttling: not this message's fault
                raise ServerUnavailableError(str(exc)) from exc
            raise TransientSendError(str(exc)) from exc

    def _already_sent(self, message_id: str) -> bool:
        found = self.client.request(
            "GET", self.client.user_url("mailFolders/sentitems/messages"), purpose="send",
            params={"$filter": f"internetMessageId eq '{message_id.replace(chr(39), chr(39) * 2)}'", "$select": "id"})
        return bool(found and found.get("value"))

    def verify(self) -> None:
        try:
            self.client.request("GET", self.client.user_url("mailFolders/sentitems"), purpose="send")
        except GraphError as exc:
            error = SenderAuthError if exc.status in (401, 403) else TransientSendError
            raise error(str(exc)) from exc

    def close(self) -> None:
        pass
