"""Bounces as mail servers write them, returning a message of ours or not."""
from __future__ import annotations

from pathlib import Path

from mailer import DirectorySender
from ticketing.files.templates import Renderer
from ticketing.services.outbox_sender import OutboxSender


def delivery_report(failed: str, returned_id: str | None, *, enclosed: bool = False,
                    sender: str = "MAILER-DAEMON@mx.northwind.example", own_id: str = "b1@mx") -> bytes:
    """An RFC 3464 report that ``failed`` failed for good, returning the headers of ``returned_id``
    (a text/rfc822-headers part, or a whole message/rfc822 when ``enclosed``; nothing when None)."""
    returned = ""
    if returned_id is not None:
        headers = (f"From: Support <support@northwind.example>\r\nTo: {failed}\r\nSubject: Re: SSO login loop\r\n"
                   f"Message-ID: <{returned_id}>\r\n")
        kind = "message/rfc822" if enclosed else "text/rfc822-headers"
        body = "\r\nWe are looking into it.\r\n" if enclosed else ""
        returned = f"--B\r\nContent-Type: {kind}\r\n\r\n{headers}{body}\r\n"
    return (
        f"From: {sender}\r\nTo: support@northwind.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{own_id}>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"{returned}--B--\r\n"
    ).encode("ascii")


def free_text_bounce(failed: str, returned_id: str | None, own_id: str = "b2@mx") -> bytes:
    """An old MTA's bounce in words, quoting the returned message's headers (``> Message-ID: <…>``)."""
    quoted = f"> Message-ID: <{returned_id}>\r\n" if returned_id else ""
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mail.globex.example>\r\nTo: support@northwind.example\r\n"
        f"Subject: Returned mail: User unknown\r\nMessage-ID: <{own_id}>\r\n\r\n"
        "The original message was received at Wed, 18 Nov 2026 08:00:00 -0800\r\n\r\n"
        f"   ----- The following addresses had permanent fatal errors -----\r\n<{failed}>\r\n\r\n"
        "   ----- Transcript of session follows -----\r\n550 5.1.1 User unknown\r\n\r\n"
        "   ----- Original message follows -----\r\n"
        f"> From: Support <support@northwind.example>\r\n> To: {failed}\r\n{quoted}> Subject: Re: SSO\r\n"
    ).encode("ascii")


def send_all(desk, folder: Path) -> None:
    """Send what the desk queued (to ``folder``, as ``.eml`` files)."""
    OutboxSender(desk.store, DirectorySender(folder), Renderer()).send_due(desk.now)
