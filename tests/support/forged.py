"""Mail from an engineer and a CRM notice, with the receiving servers' headers a test puts on top
(for the checks of who really sent them: tests/service/test_forged_senders.py, test_exchange_senders.py)."""
from __future__ import annotations

from .desk import Desk
from .mail import make_message


def with_headers(raw: bytes, headers: list[tuple[str, str]]) -> bytes:
    """``raw`` with ``headers`` on top, as receiving servers add theirs."""
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in headers) + raw


def engineer_replies(desk: Desk, headers: list[tuple[str, str]], mid: str = "<r1@northwind.example>") -> int:
    """Bob asks; a reply in Priya's name says ``#resolve`` and an answer. Return the ticket's id."""
    desk.receive(make_message(sender="Bob <bob@globex.example>"))
    [ticket] = desk.store.list_tickets()
    [(note, _)] = desk.mail("notification")
    desk.receive(with_headers(make_message(
        sender="Priya Raman <priya@northwind.example>", subject=f"Re: [WG-{ticket.id}] SSO login loop",
        in_reply_to=f"<{note.message_id}>", message_id=mid, body="#resolve\nClear your cookies and sign in again.",
    ), headers))
    return ticket.id


CRM = "CRM <crm@northwind.example>"
CRM_NOTICE = """Opportunity Closed Won

Account Name: Acme Corporation
Customer Domain: acme.example
Opportunity ID: 0068d00000AcMe1
Product: Enterprise
Primary Contact: Jane Doe <jane@acme.example>
Solutions Engineer: Priya Raman <priya@northwind.example>
"""


def notice(headers: list[tuple[str, str]], automated: bool, mid: str = "<n1@crm>") -> bytes:
    extra = {"Auto-Submitted": "auto-generated"} if automated else None
    return with_headers(make_message(sender=CRM, subject="Opportunity Closed Won: Acme Corporation", message_id=mid,
                                     body=CRM_NOTICE, headers=extra), headers)
