"""GraphSource and GraphSender against the fake Microsoft Graph: delta rounds and their links,
filing, throttling, a refused token, a missing permission, and sending MIME exactly once."""
from __future__ import annotations

import secrets

import pytest

from mailer import MailboxAuthError, MicrosoftTokens, SenderAuthError
from mailer.graph import GRAPH_SCOPE, GraphClient, GraphSender, GraphSource


def message(number: int, message_id: str | None = None) -> bytes:
    return (f"From: Customer <customer@example.com>\r\nTo: support@contoso.test\r\nSubject: Question {number}\r\n"
            f"Message-ID: <{message_id or f'graph-{number}@example.com'}>\r\n\r\nBody {number}.\r\n").encode()


@pytest.fixture
def box(fake_graph, token_authority, tmp_path):
    address = f"support-{secrets.token_hex(4)}@contoso.test"
    client_id, secret = "graph-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    token_authority.register(client_id, address, secret=secret)
    tokens = MicrosoftTokens(tenant_id="contoso", client_id=client_id, client_secret=secret,
                             authority=token_authority.authority, scope=GRAPH_SCOPE,
                             ca_file=token_authority.write_ca_file(tmp_path / "ca.pem"))
    waits: list[float] = []
    client = GraphClient(mailbox=address, tokens=tokens, base_url=fake_graph.base_url,
                         ca_file=str(tmp_path / "ca.pem"), sleep=waits.append)
    return address, client, waits, client_id


def source(client, **kw) -> GraphSource:
    return GraphSource(name="graph", client=client, processed_folder="Processed", quarantine_folder="Quarantine",
                       page_size=2, **kw)


def test_a_delta_round_pages_to_its_link_and_the_next_round_lists_only_what_is_new(fake_graph, box):
    address, client, _, _ = box
    for n in range(5):
        fake_graph.deliver(address, message(n))
    graph = source(client)
    keys = graph.list_new(None)
    assert len(keys) == 5 and len(fake_graph.calls) >= 3  # pages of two
    link = graph.cursor_after(keys[-1])
    assert graph.cursor_after(keys[0]) is None  # before the last key the old cursor stands: a crash replays
    assert "$deltatoken=" in link and link.startswith(fake_graph.base_url)
    assert graph.list_new(link) == []
    new = fake_graph.deliver(address, message(9))
    assert graph.list_new(link) == [new]


def test_handled_mail_is_marked_read_tagged_and_moved_and_is_not_listed_again(fake_graph, box):
    address, client, _, _ = box
    first, second = fake_graph.deliver(address, message(1)), fake_graph.deliver(address, message(2))
    graph = source(client)
    keys = graph.list_new(None)
    link = graph.cursor_after(keys[-1])
    graph.acknowledge([first], [second])
    graph.acknowledge([first], [second])  # again after a crash: nothing breaks, nothing doubles
    processed = fake_graph.folder_messages(address, "Processed")
    assert [(m.id, m.is_read, m.categories) for m in processed] == [(first, True, ["whiteglove"])]
    assert [m.id for m in fake_graph.folder_messages(address, "Quarantine")] == [second]
    assert graph.list_new(link) == []  # moves show as removals, which are not new mail


def test_an_expired_delta_link_reads_the_folder_again(fake_graph, box):
    address, client, _, _ = box
    first = fake_graph.deliver(address, message(1))
    graph = source(client)
    link = graph.cursor_after(graph.list_new(None)[-1])
    fake_graph.expire_delta_links()
    assert graph.list_new(link) == [first]  # the caller's records skip what it has handled


def test_throttling_is_waited_out_as_graph_asks(fake_graph, box):
    address, client, waits, _ = box
    fake_graph.deliver(address, message(1))
    fake_graph.throttle_next(2, retry_after=3)
    assert len(source(client).list_new(None)) == 1
    assert waits == [3.0, 3.0]


def test_a_revoked_token_is_replaced_once(fake_graph, token_authority, box):
    address, client, _, client_id = box
    fake_graph.deliver(address, message(1))
    graph = source(client)
    graph.list_new(None)
    token_authority.revoke_all(client_id)
    assert len(graph.list_new(None)) == 1


def test_a_mailbox_outside_the_apps_scope_is_an_auth_error_naming_the_permission(fake_graph, box):
    address, client, _, _ = box
    fake_graph.forbidden.add(address)
    try:
        with pytest.raises(MailboxAuthError, match="Mail.ReadWrite .*RBAC for Applications"):
            source(client).list_new(None)
        with pytest.raises(SenderAuthError, match="Mail.Send"):
            GraphSender(client).send(message(1), address, ["customer@example.com"])
    finally:
        fake_graph.forbidden.discard(address)


def test_sendmail_sends_the_mime_as_composed_and_never_twice(fake_graph, box):
    address, client, _, _ = box
    seen = []
    fake_graph.on_send = lambda mailbox, raw: seen.append(raw)
    try:
        sender = GraphSender(client)
        raw = message(7, "wg.ack.7@contoso.test")
        sender.send(raw, address, ["customer@example.com"])
        sender.send(raw, address, ["customer@example.com"])  # a retry after an ambiguous failure
    finally:
        fake_graph.on_send = None
    assert seen == [raw]
    [copy] = fake_graph.folder_messages(address, "sentitems")
    assert copy.internet_message_id == "<wg.ack.7@contoso.test>"


def test_a_crash_in_the_middle_of_a_round_replays_it_and_doubles_nothing(fake_graph, box, tmp_path):
    """Intake commits batch by batch; the delta link is stored only with the round's last batch."""
    from support.app import plain_intake

    from ticketing.store import SqlStore

    address, client, _, _ = box
    for n in range(5):
        fake_graph.deliver(address, message(n))
    store = SqlStore.open(f"sqlite:///{tmp_path / 'wg.db'}")
    try:
        class Crashing(GraphSource):
            fetched = 0

            def fetch(self, keys):
                Crashing.fetched += 1
                if Crashing.fetched == 2:
                    raise SystemExit("killed")  # the worker dies during the second batch
                return super().fetch(keys)

        from datetime import datetime, timezone

        now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        with pytest.raises(SystemExit):
            plain_intake(store, lambda: now, batch_size=2).poll(Crashing(name="graph", client=client, page_size=2))
        assert store.count_messages() == 2 and store.cursor("graph") is None  # the first batch, no delta link yet
        summary = plain_intake(store, lambda: now, batch_size=2).poll(source(client))
        assert (summary.processed, store.count_messages(), len(store.list_tickets())) == (3, 5, 5)
        assert "$deltatoken=" in store.cursor("graph")
    finally:
        store.close()


def test_a_crash_between_sendmail_and_the_outbox_commit_sends_nothing_twice(fake_graph, box, tmp_path):
    from datetime import datetime, timedelta, timezone

    from mailer import Address
    from ticketing.core.mails import Draft, Support
    from ticketing.files.templates import Renderer
    from ticketing.services.outbox import Outbox
    from ticketing.services.outbox_sender import OutboxSender
    from ticketing.store import SqlStore

    address, client, _, _ = box
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    store = SqlStore.open(f"sqlite:///{tmp_path / 'wg.db'}")
    seen = []
    fake_graph.on_send = lambda mailbox, raw: seen.append(raw)
    try:
        with store.transaction():
            Outbox(store, Support(address, "Support")).queue(Draft(
                "acknowledgement", "ack.1", (Address("Bob", "bob@globex.example"),), "Re: hello",
                ("We have your question.\n", "<p>We have your question.</p>")), now)
        original = store.mark_sent
        store.mark_sent = lambda *a, **kw: (_ for _ in ()).throw(SystemExit("killed after sendMail"))
        with pytest.raises(SystemExit):
            OutboxSender(store, GraphSender(client), Renderer()).send_due(now)
        store.mark_sent = original
        # the restarted worker finds the claim stale and tries again: Sent Items has it already
        summary = OutboxSender(store, GraphSender(client), Renderer()).send_due(now + timedelta(minutes=11))
        assert summary.sent == 1 and len(seen) == 1
        [mail] = store.outbox()
        assert mail.status == "sent"
    finally:
        fake_graph.on_send = None
        store.close()
