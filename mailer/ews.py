"""An on-premises Exchange mailbox (Exchange Server 2016, 2019, Subscription Edition) through Exchange
Web Services, with ``exchangelib``: :class:`EwsSource` reads it, :class:`EwsSender` sends as it,
:func:`ews_busy_times` reads people's free/busy.

exchangelib's default retry policy takes a 401 for throttling and retries it for up to an hour;
here it fails fast (``FailFast``) and the worker decides when to try again. Its errors are mapped
to this toolkit's at this module's edge, each as one line: a refused login, a mailbox the account
may not open, a folder that does not exist, an unreachable server, a busy server (with the time it
asks to wait). Exchange Online switches EWS off on 1 April 2027: use Microsoft Graph there.

Intake follows the folder's ``SyncFolderItems`` state: :meth:`EwsSource.cursor_after` hands the new
state out only with a round's last key, so it is stored after everything before it committed, and a
crash replays the round (the caller's dedupe absorbs it); an invalid state starts over. Each item's
MIME content goes to the parser as any message's. Handled items are marked read, given a category
and moved; nothing is deleted. Sending saves the composed MIME and sends it (``send_and_save``), so
the Message-ID, threading headers and iMIP parts go out unchanged; a Message-ID already in Sent Items
is not sent again.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Sequence

from mailer.errors import (
    MailboxAuthError,
    MailboxConnectError,
    MailboxError,
    PermanentSendError,
    SenderAuthError,
    ServerUnavailableError,
    TransientSendError,
)
from mailer.message import find_message_id
from mailer.source import RoundCursor, SourceMessage

log = logging.getLogger(__name__)

CATEGORY = "whiteglove"
_CA_FILES: dict[str, str] = {}  # service endpoint host -> the CA bundle it is verified with


class EwsMailbox:
    """The connection to one mailbox: the account is made at first use and kept."""

    def __init__(self, *, mailbox: str, username: str, password: str, url: str | None = None,
                 autodiscover: bool = False, auth_type: str = "NTLM", version: tuple[int, ...] | None = None,
                 ca_file: str | None = None, timeout: int = 60):
        if not url and not autodiscover:
            raise ValueError("give the EWS url, or turn autodiscover on")
        self.mailbox = mailbox
        self.username = username
        self._password = password
        self.url = url
        self.autodiscover = autodiscover
        self.auth_type = auth_type
        self.version = version
        self.ca_file = ca_file
        self.timeout = timeout
        self._account = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EwsMailbox({self.mailbox} at {self.url or 'autodiscover'})"

    @property
    def account(self):
        with self._lock:
            if self._account is None:
                self._account = self._connect()
            return self._account

    def _connect(self):
        from exchangelib import (
            DELEGATE,
            Account,
            Build,
            Configuration,
            Credentials,
            Version,
        )
        from exchangelib.protocol import BaseProtocol, FailFast

        if self.ca_file and self.url:
            _trust(self.url, self.ca_file)
            if getattr(BaseProtocol.HTTP_ADAPTER_CLS, "pins_ca_files", False) is False:
                BaseProtocol.HTTP_ADAPTER_CLS = _pinned_adapter_class()
        credentials = Credentials(self.username, self._password)
        version = Version(Build(*self.version)) if self.version else None
        try:
            if self.autodiscover:
                return Account(primary_smtp_address=self.mailbox, credentials=credentials, autodiscover=True,
                               access_type=DELEGATE)
            config = Configuration(service_endpoint=self.url, credentials=credentials, auth_type=_auth(self.auth_type),
                                   version=version, retry_policy=FailFast(), max_connections=4)
            return Account(primary_smtp_address=self.mailbox, config=config, autodiscover=False, access_type=DELEGATE)
        except Exception as exc:  # noqa: BLE001 - exchangelib's and requests' errors, mapped below
            raise _mailbox_error(exc, self) from None

    def close(self) -> None:
        with self._lock:
            account, self._account = self._account, None
        if account is not None:
            try:
                account.protocol.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass


def _auth(name: str) -> str:
    from exchangelib import BASIC, NTLM

    return {"ntlm": NTLM, "basic": BASIC}[name.lower()]


def _trust(url: str, ca_file: str) -> None:
    from urllib.parse import urlparse

    _CA_FILES[urlparse(url).netloc] = ca_file


def _pinned_adapter_class():
    import requests

    class Pinned(requests.adapters.HTTPAdapter):
        """Verifies a configured endpoint with its own CA bundle: requests would let the environment's
        REQUESTS_CA_BUNDLE replace it."""

        pins_ca_files = True

        def send(self, request, **kwargs):
            from urllib.parse import urlparse

            ca_file = _CA_FILES.get(urlparse(request.url).netloc)
            if ca_file:
                kwargs["verify"] = ca_file
            return super().send(request, **kwargs)

    return Pinned


def _mailbox_error(exc: Exception, box: EwsMailbox) -> MailboxError:
    from exchangelib.errors import (
        ErrorAccessDenied,
        ErrorFolderNotFound,
        ErrorImpersonateUserDenied,
        ErrorNonExistentMailbox,
        ErrorServerBusy,
        ResponseMessageError,
        TransportError,
        UnauthorizedError,
    )

    where = box.url or "autodiscover"
    if isinstance(exc, UnauthorizedError):
        return MailboxAuthError(f"{where} refused the login of {box.username}")
    if isinstance(exc, (ErrorNonExistentMailbox, ErrorAccessDenied, ErrorImpersonateUserDenied)):
        return MailboxAuthError(f"{box.username} may not open the mailbox {box.mailbox} at {where}: {type(exc).__name__}")
    if isinstance(exc, ErrorFolderNotFound):
        return MailboxError(f"no such folder in {box.mailbox} at {where}")
    if isinstance(exc, ErrorServerBusy):
        wait = f"; it asks to wait {exc.back_off:.0f} s" if getattr(exc, "back_off", None) else ""
        error = MailboxConnectError(f"{where} is busy{wait}")
        error.retry_after = getattr(exc, "back_off", None)
        return error
    if isinstance(exc, ResponseMessageError):  # Exchange answered, with an error of its own
        said = str(exc).splitlines()[0][:300] if str(exc) else ""
        return MailboxError(f"Exchange at {where}: {type(exc).__name__}" + (f": {said}" if said else ""))
    if isinstance(exc, TransportError) or type(exc).__module__.startswith(("requests", "urllib3")):
        return MailboxConnectError(f"cannot reach {where}: {type(exc).__name__}")
    return MailboxError(f"Exchange at {where} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")


class EwsSource:
    """A :class:`~mailer.source.MailboxSource` over one folder of an Exchange mailbox."""

    def __init__(self, *, name: str, connection: EwsMailbox, folder: str = "inbox",
                 processed_folder: str | None = None, quarantine_folder: str | None = None, page_size: int = 200):
        self.name = name
        self.connection = connection
        self.folder = folder
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.page_size = page_size
        self._received: dict[str, datetime | None] = {}
        self._rounds = RoundCursor()
        self._folders: dict[str, object] = {}

    # -- MailboxSource --------------------------------------------------------------------------

    def list_new(self, cursor: str | None) -> list[str]:
        from exchangelib.errors import ErrorInvalidSyncStateData

        try:
            try:
                keys, state = self._sync(cursor)
            except ErrorInvalidSyncStateData:
                log.warning("%s: the sync state is no longer valid; reading the folder again", self.name)
                keys, state = self._sync(None)
        except MailboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to one line
            raise _mailbox_error(exc, self.connection) from None
        self._rounds.begin(cursor, keys, state)
        return keys

    def cursor_after(self, key: str) -> str | None:
        return self._rounds.after(key)

    def fetch(self, keys: Sequence[str]) -> list[SourceMessage]:
        from exchangelib.properties import ItemId

        if not keys:
            return []
        try:
            items = list(self.connection.account.fetch(ids=[ItemId(id=k) for k in keys],
                                                       only_fields=["mime_content", "datetime_received"]))
        except Exception as exc:  # noqa: BLE001
            raise _mailbox_error(exc, self.connection) from None
        found = []
        for key, item in zip(keys, items):
            if isinstance(item, Exception) or getattr(item, "mime_content", None) is None:
                continue  # moved or deleted since it was listed
            received = _aware(getattr(item, "datetime_received", None)) or self._received.get(key)
            found.append(SourceMessage(key=key, raw=bytes(item.mime_content), received_at=received))
        return found

    def acknowledge(self, processed: Sequence[str], quarantined: Sequence[str]) -> None:
        from exchangelib.properties import ItemId

        for keys, folder in ((processed, self.processed_folder), (quarantined, self.quarantine_folder)):
            if not keys:
                continue
            try:
                items = list(self.connection.account.fetch(ids=[ItemId(id=k) for k in keys],
                                                           only_fields=["is_read", "categories"]))
                for item in items:
                    if isinstance(item, Exception):  # filed by an earlier attempt: nothing to do
                        continue
                    item.is_read = True
                    item.categories = sorted(set(item.categories or []) | {CATEGORY})
                    item.save(update_fields=["is_read", "categories"])
                    if folder:
                        item.move(self._folder(folder))
            except MailboxError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise _mailbox_error(exc, self.connection) from None

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        self._folders.clear()
        self.connection.close()

    def verify(self) -> None:
        """Log in, open the folder and find the target folders."""
        try:
            self._watched()
            for folder in (self.processed_folder, self.quarantine_folder):
                if folder:
                    self._folder(folder)
        except MailboxError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _mailbox_error(exc, self.connection) from None

    # -- exchangelib ----------------------------------------------------------------------------

    def _watched(self):
        if self.folder.lower() == "inbox":
            return self.connection.account.inbox
        return self._folder(self.folder)

    def _folder(self, name: str):
        if name not in self._folders:
            account = self.connection.account
            try:
                self._folders[name] = account.msg_folder_root / name
            except Exception as exc:  # noqa: BLE001 - exchangelib raises ErrorFolderNotFound for a missing child
                from exchangelib.errors import ErrorFolderNotFound

                if isinstance(exc, ErrorFolderNotFound):
                    raise MailboxError(f"no folder {name!r} in {self.connection.mailbox}: create it in Outlook or "
                                       "change processed_folder/quarantine_folder") from None
                raise
        return self._folders[name]

    def _sync(self, cursor: str | None) -> tuple[list[str], str | None]:
        folder = self._watched()
        folder.item_sync_state = cursor
        keys: list[str] = []
        for change, item in folder.sync_items(sync_state=cursor, only_fields=["datetime_received"],
                                              max_changes_returned=self.page_size):
            if change == "create" and getattr(item, "id", None):
                self._received[item.id] = _aware(getattr(item, "datetime_received", None))
                keys.append(item.id)
        keys.sort(key=lambda k: (self._received.get(k) or datetime.min.replace(tzinfo=timezone.utc), k))
        return list(dict.fromkeys(keys)), folder.item_sync_state


def _aware(value) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)


class EwsSender:
    """A :class:`~mailer.sending.MailSender` sending as the mailbox: the MIME goes out as composed."""

    def __init__(self, connection: EwsMailbox):
        self.connection = connection

    def __repr__(self) -> str:
        return f"EwsSender({self.connection.mailbox})"

    def send(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        from exchangelib import Message

        message_id = find_message_id(raw)
        try:
            account = self.connection.account
            if message_id and account.sent.filter(message_id=message_id).exists():
                log.info("%s is in Sent Items already: not sending it again", message_id)
                return
            Message(account=account, folder=account.sent, mime_content=bytes(raw)).send_and_save()
        except MailboxError as exc:
            error = SenderAuthError if isinstance(exc, MailboxAuthError) else TransientSendError
            raise error(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001
            mapped = _mailbox_error(exc, self.connection)
            if isinstance(mapped, MailboxAuthError):
                raise SenderAuthError(str(mapped)) from None
            if isinstance(mapped, MailboxConnectError):
                raise ServerUnavailableError(str(mapped)) from None
            raise PermanentSendError(str(mapped)) from None

    def verify(self) -> None:
        try:
            self.connection.account.sent.all().count()
        except MailboxError as exc:
            error = SenderAuthError if isinstance(exc, MailboxAuthError) else TransientSendError
            raise error(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001
            raise TransientSendError(str(_mailbox_error(exc, self.connection))) from None

    def close(self) -> None:
        self.connection.close()


BLOCKING = frozenset({"Busy", "Tentative", "OOF"})


def ews_busy_times(connection: EwsMailbox, emails: Sequence[str], start: datetime,
                   end: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
    """When each of ``emails`` is busy, tentative or out of office (``GetUserAvailability``)."""
    from exchangelib import EWSDateTime, EWSTimeZone

    utc = EWSTimeZone("UTC")
    found: dict[str, list[tuple[datetime, datetime]]] = {e.lower(): [] for e in emails}
    try:
        views = connection.account.protocol.get_free_busy_info(
            accounts=[(email, "Required", False) for email in emails],
            start=EWSDateTime.from_datetime(start.astimezone(timezone.utc)).astimezone(utc),
            end=EWSDateTime.from_datetime(end.astimezone(timezone.utc)).astimezone(utc),
            merged_free_busy_interval=30, requested_view="DetailedMerged")
        for email, view in zip(emails, views):
            if isinstance(view, Exception):
                raise view
            for event in getattr(view, "calendar_events", None) or []:
                if event.busy_type in BLOCKING:
                    found[email.lower()].append((_aware(event.start), _aware(event.end)))
    except MailboxError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _mailbox_error(exc, connection) from None
    return found
