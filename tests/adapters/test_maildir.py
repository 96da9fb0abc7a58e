"""The read-only Maildir source."""
import os
import threading
import time
from datetime import datetime, timezone

import pytest
from support.mail import make_message

from mailer.errors import MailboxError
from mailer.maildir import MaildirSource, maildir_key


@pytest.fixture
def maildir(tmp_path):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "box" / sub).mkdir(parents=True)
    return tmp_path / "box"


def test_keys_drop_the_flags_suffix():
    assert maildir_key("1795018203.M1P2.host:2,S") == "1795018203.M1P2.host"
    assert maildir_key("1795018203.M1P2.host!2,RS") == "1795018203.M1P2.host"
    assert maildir_key("1795018203.M1P2.host") == "1795018203.M1P2.host"


def test_messages_in_new_and_cur_are_listed_in_delivery_order_with_their_delivery_time(maildir):
    (maildir / "new" / "1795031131.M4.host").write_bytes(make_message(message_id="<b@x>"))
    (maildir / "cur" / "1795018203.M3.host:2,S").write_bytes(make_message(message_id="<a@x>"))
    (maildir / "tmp" / "1795000000.M0.host").write_bytes(b"half-delivered")
    source = MaildirSource(maildir)
    keys = source.list_new(None)
    assert keys == ["1795018203.M3.host", "1795031131.M4.host"]
    first, second = source.fetch(keys)
    assert b"<a@x>" in first.raw and b"<b@x>" in second.raw
    assert first.received_at == datetime(2026, 11, 18, 16, 10, 3, tzinfo=timezone.utc)


def test_a_message_moved_from_new_to_cur_after_listing_is_still_fetched(maildir):
    (maildir / "new" / "1795031131.M4.host").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    source = MaildirSource(maildir)
    keys = source.list_new(None)
    os.rename(maildir / "new" / "1795031131.M4.host", maildir / "cur" / "1795031131.M4.host:2,S")
    [msg] = source.fetch(keys)
    assert msg.raw == b"Subject: x\r\n\r\nbody\r\n"


def test_the_folder_is_never_changed(maildir):
    (maildir / "new" / "1795031131.M4.host").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    before = sorted((p.relative_to(maildir), p.stat().st_mtime_ns) for p in maildir.rglob("*"))
    source = MaildirSource(maildir)
    keys = source.list_new(None)
    source.fetch(keys)
    source.acknowledge(keys, [])
    after = sorted((p.relative_to(maildir), p.stat().st_mtime_ns) for p in maildir.rglob("*"))
    assert before == after


def test_a_missing_folder_is_a_mailbox_error(tmp_path):
    with pytest.raises(MailboxError, match="no Maildir folder"):
        MaildirSource(tmp_path / "nope").list_new(None)


def test_wait_returns_at_once_when_stopped(maildir):
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    MaildirSource(maildir).wait(3600, stop)  # would hang for an hour if it ignored stop
    assert time.monotonic() - started < 5
