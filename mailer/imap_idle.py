"""Waiting for new mail with IMAP IDLE (RFC 2177), and the untagged responses that announce it.

:func:`idle_until` keeps a connection in IDLE until the server announces mail (``EXISTS`` or
``RECENT``), a time passes or a stop is asked for, looking at the stop every
:data:`IDLE_SLICE_SECONDS`. It works around two blind spots of imaplib under imapclient: lines read
ahead into a buffer, invisible to ``select()`` (:func:`read_ahead`), and a hang-up that looks like
a quiet server (:func:`idle_responses`). :func:`pop_untagged` drops what the server said unasked.
:class:`mailer.imap.ImapSource` enters IDLE and handles the errors.
"""
from __future__ import annotations

import logging
import selectors
import ssl
import threading
import time
from typing import Iterable

from imapclient import IMAPClient

log = logging.getLogger(__name__)

#: How often an IDLE wait looks at ``stop``; short so a shutdown is seen at once.
IDLE_SLICE_SECONDS = 0.5

_NEW_MAIL = (b"EXISTS", b"RECENT")


def announces_new_mail(responses: Iterable[tuple]) -> bool:
    """Whether untagged responses from IDLE include ``n EXISTS`` or ``n RECENT``."""
    return any(len(response) > 1 and response[1] in _NEW_MAIL for response in responses)


def is_bye(responses: Iterable[tuple]) -> bool:
    """Whether the server said ``* BYE``: it is about to close the connection."""
    return any(response and response[0] == b"BYE" for response in responses)


def idle_until(client: IMAPClient, seconds: float, stop: threading.Event, name: str) -> None:
    """Stay in IDLE until new mail is announced, ``seconds`` pass or ``stop`` is set; then send DONE.

    Returns early too when the server spoke as IDLE began (the caller lists, which sees it).
    ``name`` labels the log lines. A dropped link raises imaplib's abort or an :class:`OSError`,
    a refused IDLE imaplib's error: the caller translates them.
    """
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if read_ahead(client):
            # Lines already in a buffer (Dovecot sends "+ idling" and the EXISTS of mail
            # that came since the last command in one packet) are invisible to select()
            # and idle_check(): leave IDLE, which reads them, so that the caller lists.
            log.debug("%s: the server spoke as IDLE began", name)
            break
        responses = idle_responses(client, min(remaining, IDLE_SLICE_SECONDS))
        if announces_new_mail(responses):
            log.debug("%s: new mail announced: %s", name, responses)
            break
    client.idle_done()


def pop_untagged(client: IMAPClient, *names: str) -> bool:
    """Drop untagged responses imaplib collected; return whether there were any.

    imaplib keeps every unsolicited response (EXISTS, EXPUNGE, ...) until asked, which in a
    long-lived connection is both a leak and our only record of announcements made outside IDLE.
    """
    found = False
    for name in names:
        found = client._imap.untagged_responses.pop(name, None) is not None or found
    return found


def read_ahead(client: IMAPClient) -> bool:
    """Whether bytes from the server wait in a buffer (imaplib's, or TLS's), where select() cannot see them.

    imaplib reads the socket through a buffered file, so lines that arrive together with the line
    it was waiting for are read ahead. Peeks without blocking.
    """
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending() > 0:
        return True
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        return bool(client._imap.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


def idle_responses(client: IMAPClient, seconds: float) -> list[tuple]:
    """Wait up to ``seconds`` for IDLE responses. Raises :class:`ConnectionError` if the link closed.

    ``idle_check`` returns nothing both on a timeout and on EOF; polling the socket first tells
    the two apart: readable but nothing to read means the server hung up. Call it only when
    nothing is read ahead (:func:`read_ahead`): ``idle_check`` waits for the socket too.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(client.socket(), selectors.EVENT_READ)
        if not selector.select(seconds):
            return []
    responses = client.idle_check(timeout=0)
    if not responses:
        raise ConnectionResetError("the server closed the connection")
    if is_bye(responses):
        raise ConnectionResetError(f"the server said {responses}")
    return responses
