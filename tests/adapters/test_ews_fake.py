"""The EWS fake (``support.ews``) driven by the real exchangelib client: what it answers is what
exchangelib understands."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import exchangelib
import pytest
import requests.adapters
from exchangelib import (
    DELEGATE,
    Account,
    Build,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    Message,
    Version,
)
from exchangelib.errors import (
    ErrorInvalidSyncStateData,
    ErrorItemNotFound,
    ErrorMailRecipientNotFound,
    ErrorSchemaValidation,
    ErrorServerBusy,
    TransportError,
    UnauthorizedError,
)
from exchangelib.items import MeetingResponse
from exchangelib.protocol import BaseProtocol, FailFast
from support.ews import FakeEws

DESK = "desk@contoso.com"
PASSWORD = "s3cret-Passw0rd"


def _mime(number: int, *, message_id: str | None = None) -> bytes:
    # 8-bit UTF-8 in a header and the body, CRLF line ends: the bytes must come back unchanged.
    message_id = message_id or f"<ticket-{number}@customer.example>"
    return (f"From: Ann <ann@customer.example>\r\nTo: {DESK}\r\nSubject: Printer {number} broken – café\r\n"
            f"Message-ID: {message_id}\r\nDate: Wed, 18 Nov 2026 16:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Hello, printer {number} is broken. Grüße\r\n").encode()


def _account(fake: FakeEws, *, user: str = DESK, password: str = PASSWORD, mailbox: str = DESK) -> Account:
    config = Configuration(service_endpoint=fake.url, credentials=Credentials(user, password), auth_type="basic",
                           version=Version(Build(15, 1, 2507, 6)), retry_policy=FailFast())
    return Account(primary_smtp_address=mailbox, config=config, autodiscover=False, access_type=DELEGATE)


@pytest.fixture
def ews(fake_ews: FakeEws) -> FakeEws:
    fake_ews.add_user(DESK, PASSWORD)
    fake_ews.add_folder(DESK, "Tickets")
    return fake_ews


@pytest.fixture
def account(ews: FakeEws) -> Account:
    return _account(ews)


def test_sync_items_pages_resumes_from_its_state_and_rejects_an_invalidated_one(ews, account):
    delivered = [ews.deliver(DESK, _mime(n)) for n in range(5)]

    changes = list(account.inbox.sync_items(sync_state=None, only_fields=["datetime_received"], max_changes_returned=2))

    assert [kind for kind, _ in changes] == ["create"] * 5
    assert [item.id for _, item in changes] == delivered
    assert all(item.datetime_received is not None for _, item in changes)
    assert ews.requests.count("SyncFolderItems") == 3  # 2 + 2 + 1: MaxChangesReturned pages
    state = account.inbox.item_sync_state
    assert state

    newer = ews.deliver(DESK, _mime(5))
    again = list(account.inbox.sync_items(only_fields=["datetime_received"]))  # from item_sync_state
    assert [(kind, item.id) for kind, item in again] == [("create", newer)]
    assert account.inbox.item_sync_state != state
    assert list(account.inbox.sync_items(only_fields=["datetime_received"])) == []  # nothing new

    ews.invalidate_sync_states()
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.inbox.sync_items(only_fields=["datetime_received"]))
    # The client starts over with a full sync (sync_state=None falls back to the folder's stale state,
    # so a fresh folder instance it is); it lists everything again.
    fresh = _account(ews).inbox
    assert len(list(fresh.sync_items(only_fields=["datetime_received"]))) == 6


def test_fetch_mime_content_returns_the_delivered_bytes(ews, account):
    raw = _mime(1)
    item_id = ews.deliver(DESK, raw)
    [(_, synced)] = list(account.inbox.sync_items(only_fields=["datetime_received"]))

    [fetched] = list(account.fetch(ids=[synced], only_fields=["mime_content"]))

    assert fetched.id == item_id
    assert fetched.mime_content == raw
    assert "GetItem" in ews.requests
    [missing] = list(account.fetch(ids=[("AAMkAnot-there", None)], only_fields=["mime_content"]))
    assert isinstance(missing, ErrorItemNotFound)


def test_meeting_responses_come_as_their_item_class(ews, account):
    ews.deliver(DESK, _mime(1), item_class="IPM.Schedule.Meeting.Resp.Pos")
    [(_, item)] = list(account.inbox.sync_items(only_fields=["datetime_received", "item_class"]))
    assert isinstance(item, MeetingResponse)
    assert item.item_class == "IPM.Schedule.Meeting.Resp.Pos"


def test_save_updates_flags_and_move_gives_a_new_id_in_a_folder_found_by_name(ews, account):
    ews.deliver(DESK, _mime(1))
    [(_, item)] = list(account.inbox.sync_items(only_fields=["datetime_received"]))

    item.is_read = True
    item.categories = ["whiteglove"]
    item.save(update_fields=["is_read", "categories"])

    [stored] = ews.items(DESK, "inbox")
    assert (stored.is_read, stored.categories) == (True, ["whiteglove"])
    assert item.changekey == stored.changekey
    [(kind, updated)] = list(account.inbox.sync_items(only_fields=["datetime_received"]))
    assert (kind, updated.id) == ("update", item.id)

    tickets = account.msg_folder_root // "Tickets"
    old_id = item.id
    item.move(tickets)

    assert item.id != old_id
    assert ews.items(DESK, "inbox") == []
    [moved] = ews.items(DESK, "Tickets")
    assert (moved.id, moved.is_read, moved.categories, moved.mime) == (item.id, True, ["whiteglove"], _mime(1))
    [(kind, gone)] = list(account.inbox.sync_items(only_fields=["datetime_received"]))
    assert (kind, gone.id) == ("delete", old_id)
    assert [(k, i.id) for k, i in tickets.sync_items(only_fields=["datetime_received"])] == [("create", item.id)]
    [missing] = list(account.fetch(ids=[(old_id, None)], only_fields=["mime_content"]))
    assert isinstance(missing, ErrorItemNotFound)


def test_read_flag_alone_syncs_as_a_read_flag_change(ews, account):
    ews.deliver(DESK, _mime(1))
    [(_, item)] = list(account.inbox.sync_items(only_fields=["datetime_received"]))
    item.is_read = True
    item.save(update_fields=["is_read"])
    [(kind, (item_id, is_read))] = list(account.inbox.sync_items(only_fields=["datetime_received"]))
    assert (kind, item_id.id, is_read) == ("read_flag_change", item.id, True)


def test_folder_found_through_the_root_hierarchy(ews, account):
    tickets = account.root / "Top of Information Store" / "Tickets"
    assert tickets.id == (account.msg_folder_root // "Tickets").id
    assert "FindFolder" in ews.requests


def test_send_and_save_records_the_mime_and_finds_it_by_message_id(ews, account):
    raw = _mime(7, message_id="<reply-7@desk.contoso.com>")

    Message(account=account, folder=account.sent, mime_content=raw).send_and_save()

    assert ews.sent(DESK) == [raw]
    [copy] = ews.items(DESK, "sentitems")
    assert (copy.mime, copy.is_read) == (raw, True)
    assert account.sent.filter(message_id="<reply-7@desk.contoso.com>").exists()
    assert [m.id for m in account.sent.filter(message_id="<reply-7@desk.contoso.com>")] == [copy.id]
    assert not account.sent.filter(message_id="<never-sent@desk.contoso.com>").exists()
    assert {"CreateItem", "FindItem"} <= set(ews.requests)


def test_a_wrong_password_raises_unauthorized_quickly(ews):
    account = _account(ews, password="wrong")
    started = time.monotonic()
    with pytest.raises(UnauthorizedError):
        _ = account.inbox
    assert time.monotonic() - started < 5
    assert ews.requests == []  # nothing got past authentication


def test_free_busy_returns_the_busy_entries(ews, account):
    day = datetime(2026, 11, 18, tzinfo=timezone.utc)
    ews.busy["ann@contoso.com"] = [(day + timedelta(hours=9), day + timedelta(hours=10), "Busy"),
                                   (day + timedelta(hours=13), day + timedelta(hours=14, minutes=30), "Tentative"),
                                   (day + timedelta(days=3), day + timedelta(days=3, hours=1), "OOF")]  # outside
    utc = EWSTimeZone("UTC")
    start = EWSDateTime(2026, 11, 18, 8, 0, tzinfo=utc)

    views = list(account.protocol.get_free_busy_info(
        accounts=[("ann@contoso.com", "Required", False), ("nobody@contoso.com", "Required", False)],
        start=start, end=start + timedelta(hours=8), merged_free_busy_interval=30, requested_view="DetailedMerged"))

    ann, nobody = views
    assert [(e.start, e.end, e.busy_type) for e in ann.calendar_events] == [
        (EWSDateTime(2026, 11, 18, 9, 0, tzinfo=utc), EWSDateTime(2026, 11, 18, 10, 0, tzinfo=utc), "Busy"),
        (EWSDateTime(2026, 11, 18, 13, 0, tzinfo=utc), EWSDateTime(2026, 11, 18, 14, 30, tzinfo=utc), "Tentative"),
    ]
    assert ann.merged == "0022000000111000"
    assert isinstance(nobody, ErrorMailRecipientNotFound)
    assert ews.requests[-2:] == ["GetServerTimeZones", "GetUserAvailability"]


def test_server_busy_raises_with_the_back_off(ews, account):
    inbox = account.inbox
    ews.server_busy_next(3000)
    with pytest.raises(ErrorServerBusy) as raised:
        list(inbox.sync_items(only_fields=["datetime_received"]))
    assert raised.value.back_off == 3.0
    assert list(inbox.sync_items(only_fields=["datetime_received"])) == []  # the next request is served


def test_unknown_operations_fault_and_are_recorded(ews, account):
    inbox = account.inbox
    with pytest.raises(ErrorSchemaValidation, match="EmptyFolder"):
        inbox.empty()
    assert ews.unknown == ["EmptyFolder"]


def test_trust_through_the_environment_instead_of_the_adapter(ews, monkeypatch):
    monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", requests.adapters.HTTPAdapter)
    with pytest.raises(TransportError):  # the machine's bundle does not know the fake's CA
        _ = _account(ews).inbox
    exchangelib.close_connections()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ews.ca_file)
    monkeypatch.setenv("CURL_CA_BUNDLE", ews.ca_file)
    assert _account(ews).inbox.name == "Inbox"


def test_without_a_configured_version_exchangelib_guesses_it_from_the_headers(ews):
    config = Configuration(service_endpoint=ews.url, credentials=Credentials(DESK, PASSWORD), auth_type="basic",
                           retry_policy=FailFast())
    account = Account(primary_smtp_address=DESK, config=config, autodiscover=False, access_type=DELEGATE)
    assert account.inbox.name == "Inbox"
    assert ews.requests[0] == "ConvertId"  # the probe: its ids are "malformed", its header tells the build
    assert account.version.build == Build(15, 1, 2507, 6)
