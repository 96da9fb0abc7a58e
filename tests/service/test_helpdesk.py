"""The help desk end to end without servers: mail in (an in-memory mailbox), tickets, events and outbox out."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from support.bounces import delivery_report, send_all
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message

from ticketing.core.domain import EventKind, TicketKind, TicketStatus
from ticketing.files.templates import Renderer
from ticketing.services.outbox import message_bytes

ROOT = Path(__file__).resolve().parents[2]

NOTICE = """An opportunity has been marked Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-16
Package: Enterprise
Engineer: Tom Becker <tom@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
"""


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def test_a_customer_question_goes_to_the_account_engineer_with_a_notification_and_an_acknowledgement(desk):
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="Export fails", body="The CSV export fails."))
    [ticket] = desk.store.list_tickets()
    assert (ticket.kind, ticket.priority, ticket.assignee, ticket.account) == (
        TicketKind.SUPPORT, "P3", "priya@northwind.example", "Globex")
    assert ticket.assignment["reason"] == "the engineer of the account"
    [(_, note)] = desk.mail("notification")
    assert note.to[0].email == "priya@northwind.example" and note.subject.startswith(f"[WG-{ticket.id}] P3")
    assert note.reply_to[0].email == SUPPORT and "The CSV export fails." in note.text
    [(_, ack)] = desk.mail("acknowledgement")
    assert ack.to[0].email == "bob@globex.example" and ack.header("auto-submitted") == "auto-replied"
    assert ack.in_reply_to == ("q1@globex.example",) and f"[WG-{ticket.id}]" in ack.subject
    assert [e.kind for e in desk.store.events(ticket.id)] == [EventKind.CREATED, EventKind.ASSIGNED]


def test_an_unknown_sender_is_routed_by_load_and_an_outage_raises_the_priority(desk):
    desk.receive(make_message(sender="x@initech.example", message_id="<a@i>", subject="Outage of the API"))
    desk.receive(make_message(sender="y@initech.example", message_id="<b@i>", subject="A question"))
    first, second = desk.store.list_tickets()
    assert (first.priority, first.assignee) == ("P0", "priya@northwind.example")  # P0: the one inside working hours
    assert "working hours" in first.assignment["reason"]
    assert second.assignee == "tom@northwind.example"  # P3: the least loaded
    assert first.account is None and not first.review


def test_an_engineers_reply_is_relayed_threaded_and_its_commands_run(desk):
    desk.receive(make_message(sender="Bob <bob@globex.example>", subject="SSO loop"))
    [ticket] = desk.store.list_tickets()
    [(_, note)] = desk.mail("notification")
    answer = make_message(
        sender="Priya Raman <priya@northwind.example>", to=SUPPORT, subject=f"Re: {note.subject}",
        message_id="<answer1@northwind.example>", in_reply_to=f"<{note.message_id}>",
        body="#pending\n#priority P2\n\nCould you send the SAML trace?\n\nOn Wed, Support wrote:\n> -- Reply above this line\n> Why: internal notes",
    )
    desk.receive(answer)
    ticket = desk.store.get_ticket(ticket.id)
    assert (ticket.status, ticket.priority, ticket.first_response_at) == (TicketStatus.PENDING, "P2", desk.now)
    [(_, relay)] = desk.mail("relay")
    assert relay.from_.name == "Priya Raman via Northwind Support" and relay.from_.email == SUPPORT
    assert relay.to[0].email == "bob@globex.example" and relay.in_reply_to == ("q1@globex.example",)
    assert "Could you send the SAML trace?" in relay.text
    assert "#pending" not in relay.text and "internal notes" not in relay.text
    kinds = [e.kind for e in desk.store.events(ticket.id)]
    assert EventKind.PENDING in kinds and EventKind.PRIORITY_CHANGED in kinds and EventKind.ENGINEER_REPLIED in kinds

    # The customer answers the relay: the ticket is open again and Priya hears of it.
    desk.receive(make_message(sender="bob@globex.example", subject=f"Re: {relay.subject}", message_id="<q2@globex.example>",
                              in_reply_to=f"<{relay.message_id}>", body="Trace attached."))
    assert desk.store.get_ticket(ticket.id).status is TicketStatus.OPEN
    [(_, update)] = desk.mail("update")
    assert update.to[0].email == "priya@northwind.example" and "Trace attached." in update.text
    assert update.in_reply_to == (note.message_id,)


def test_a_note_is_never_relayed_and_unknown_commands_are_answered_with_the_list(desk):
    desk.receive(make_message(sender="bob@globex.example"))
    [(_, note)] = desk.mail("notification")
    desk.receive(make_message(sender="priya@northwind.example", to=SUPPORT, message_id="<n1@northwind.example>",
                              in_reply_to=f"<{note.message_id}>", body="#note\nCustomer is on the legacy plan."))
    desk.receive(make_message(sender="priya@northwind.example", to=SUPPORT, message_id="<n2@northwind.example>",
                              in_reply_to=f"<{note.message_id}>", body="#reslove\nDone."))
    assert desk.mail("relay") == []  # neither the note nor the reply with a mistyped command
    [(_, help_mail)] = desk.mail("commands")
    assert "unknown command #reslove" in help_mail.text and "#resolve" in help_mail.text
    assert "Nothing was sent to the customer." in help_mail.text
    [ticket] = desk.store.list_tickets()
    assert ticket.status is TicketStatus.OPEN
    [note_event] = [e for e in desk.store.events(ticket.id) if e.kind is EventKind.NOTE]
    assert note_event.detail["text"] == "Customer is on the legacy plan."


def test_a_spoofed_command_from_a_customer_changes_nothing_and_is_recorded(desk):
    desk.receive(make_message(sender="bob@globex.example"))
    [(_, ack)] = desk.mail("acknowledgement")
    desk.receive(make_message(sender="bob@globex.example", message_id="<q2@globex.example>",
                              in_reply_to=f"<{ack.message_id}>", body="#resolve\n#assign bob@globex.example"))
    [ticket] = desk.store.list_tickets()
    assert ticket.status is TicketStatus.OPEN and ticket.assignee == "priya@northwind.example"
    ignored = [e for e in desk.store.events(ticket.id) if e.kind is EventKind.COMMAND_IGNORED]
    assert ignored and ignored[0].detail["commands"] == ["#resolve", "#assign bob@globex.example"]
    assert desk.mail("relay") == []


def test_an_engineer_answering_the_customer_directly_is_recorded_not_relayed(desk):
    desk.receive(make_message(sender="bob@globex.example"))
    desk.receive(make_message(sender="priya@northwind.example", to="bob@globex.example", message_id="<d1@northwind.example>",
                              in_reply_to="<q1@globex.example>", headers={"Cc": SUPPORT}, body="Try clearing cookies."))
    [ticket] = desk.store.list_tickets()
    assert ticket.first_response_at == desk.now and desk.mail("relay") == []
    [replied] = [e for e in desk.store.events(ticket.id) if e.kind is EventKind.ENGINEER_REPLIED]
    assert replied.detail == {"copy": True}


def test_a_reply_from_a_stranger_opens_a_new_ticket_that_refers_to_the_first(desk):
    desk.receive(make_message(sender="bob@globex.example"))
    [(_, ack)] = desk.mail("acknowledgement")
    desk.receive(make_message(sender="mallory@evil.example", message_id="<m1@evil.example>", in_reply_to=f"<{ack.message_id}>",
                              subject=f"Re: {ack.subject}"))
    first, second = desk.store.list_tickets()
    assert second.refers_to == first.id and second.requester == "mallory@evil.example"
    assert [e.kind for e in desk.store.events(first.id)][-1] is EventKind.REFERRED
    # a colleague from the customer's domain is on the ticket
    desk.receive(make_message(sender="carol@globex.example", message_id="<c1@globex.example>", in_reply_to=f"<{ack.message_id}>"))
    assert len(desk.store.list_tickets()) == 2 and desk.store.get_ticket(first.id).message_count == 2


def test_a_trusted_notice_starts_an_engagement_and_an_untrusted_one_is_only_flagged(desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<crm1@x>", body=NOTICE))
    [ticket] = desk.store.list_tickets()
    assert (ticket.kind, ticket.priority, ticket.assignee, ticket.account) == (
        TicketKind.CONTRACT_CLOSED, "P2", "tom@northwind.example", "Acme Corporation")
    [engagement] = desk.store.engagements()
    assert (engagement.contract_id, engagement.close_date, engagement.engineer) == ("SOW-7781", date(2026, 11, 16), "tom@northwind.example")
    account = desk.store.account_for_address("someone@acme.example")
    assert account.engineer == "tom@northwind.example" and account.contacts[0].role == "project lead"
    assert desk.mail("acknowledgement") == []  # never to the CRM
    [(_, note)] = desk.mail("notification")
    assert note.to[0].email == "tom@northwind.example" and "SOW-7781" in note.text

    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<crm2@x>", body=NOTICE))
    assert len(desk.store.engagements()) == 1 and len(desk.store.list_tickets()) == 1  # the same deal again

    desk.receive(make_message(sender="sales@evil.example", subject="Closed Won: Evil", message_id="<e1@x>",
                              body=NOTICE.replace("Acme Corporation", "Evil Corp")))
    flagged = desk.store.list_tickets()[-1]
    assert flagged.kind is TicketKind.SUPPORT and flagged.review and "not a trusted sender" in flagged.reasons[0]
    assert len(desk.store.engagements()) == 1 and desk.store.account_for_address("x@evil.example") is None


def test_a_golive_intent_weeks_ahead_is_a_planned_ticket_with_its_golive_date_and_a_later_change_moves_it(desk):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<crm1@x>", body=NOTICE))
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 14 January 2027."))
    ticket = desk.store.list_tickets(kind="golive_intent")[0]
    # Weeks ahead: a plan to act on, not an incident (the priority rises as the day nears).
    assert (ticket.priority, ticket.golive_date, ticket.assignee) == ("P3", date(2027, 1, 14), "tom@northwind.example")
    assert any("planned ahead" in reason for reason in ticket.reasons)
    assert desk.store.engagements()[0].golive_date == date(2027, 1, 14)
    desk.receive(make_message(sender="jane@acme.example", subject="Re: Go-live", message_id="<g2@acme.example>",
                              in_reply_to="<g1@acme.example>", body="We're moving the go-live to February 2, 2027."))
    assert desk.store.get_ticket(ticket.id).golive_date == date(2027, 2, 2)
    assert desk.store.engagements()[0].golive_date == date(2027, 2, 2)
    assert EventKind.GOLIVE_CHANGED in [e.kind for e in desk.store.events(ticket.id)]


def test_acknowledgements_skip_automated_mail_and_stop_at_the_hourly_limit(desk):
    desk.receive(make_message(sender="ooo@globex.example", message_id="<o1@x>", headers={"Auto-Submitted": "auto-replied"}))
    for n in range(3):
        desk.receive(make_message(sender="bob@globex.example", message_id=f"<q{n}@x>", subject=f"Question {n}"))
    assert len(desk.store.list_tickets()) == 3
    assert len(desk.mail("acknowledgement")) == 2  # acknowledgements_per_hour = 2
    desk.receive(make_message(sender="bob@globex.example", message_id="<q9@x>", subject="Later"), after=timedelta(hours=2))
    assert len(desk.mail("acknowledgement")) == 3


def test_a_bounce_of_our_mail_marks_the_contact_failing_and_tells_the_engineer(desk, tmp_path):
    desk.receive(make_message(sender="bob@globex.example"))
    send_all(desk, tmp_path)
    [(ack, _)] = desk.mail("acknowledgement")
    bounce = delivery_report("bob@globex.example", ack.message_id)
    desk.receive(bounce)
    assert desk.store.contact("bob@globex.example").failing_since == desk.now
    [(_, alert)] = desk.mail("bounce_alert")
    assert alert.to[0].email == "priya@northwind.example" and "bob@globex.example" in alert.subject
    [ticket] = desk.store.list_tickets()
    assert EventKind.BOUNCED in [e.kind for e in desk.store.events(ticket.id)]
    # and no acknowledgement goes to a failing address any more
    desk.receive(make_message(sender="bob@globex.example", message_id="<q7@x>", subject="Another"))
    assert len(desk.mail("acknowledgement")) == 1


def test_the_files_a_customer_attaches_reach_the_engineer(desk):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "bob@globex.example", SUPPORT, "Trace", "<t1@globex.example>"
    msg.set_content("Trace attached.")
    msg.add_attachment(b"<samlp:Response/>", maintype="application", subtype="xml", filename="saml.xml")
    desk.receive(msg.as_bytes())
    [(mail, note)] = desk.mail("notification")
    assert [(a.filename, a.content_type) for a in note.attachments] == [("saml.xml", "application/xml")]
    raw = message_bytes(desk.store, mail.id, Renderer())
    assert b"<samlp:Response/>" in raw.replace(b"=\r\n", b"") or b"PHNhbWxwOlJlc3BvbnNlLz4=" in raw


def test_a_message_is_parsed_once_from_the_mailbox_to_the_engineers_notification(desk, monkeypatch):
    """Intake parses; the help desk reads the attachments it passes on from that parse, not the bytes again."""
    import email.parser

    from mailer import message as parser_module

    parses = []
    real = parser_module._PARSER.parsebytes
    monkeypatch.setattr(parser_module._PARSER, "parsebytes", lambda raw, *a: parses.append(1) or real(raw, *a))
    monkeypatch.setattr(email.parser.BytesParser, "parsebytes",
                        lambda self, raw, headersonly=False: pytest.fail("the raw bytes were parsed again"))
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "bob@globex.example", SUPPORT, "Logs", "<t2@globex.example>"
    msg.set_content("Logs attached.")
    msg.add_attachment(b"2026-11-18 ERROR saml", maintype="text", subtype="plain", filename="app.log")
    desk.receive(msg.as_bytes())
    assert parses == [1]
    monkeypatch.undo()
    [(_, note)] = desk.mail("notification")
    assert [a.filename for a in note.attachments] == ["app.log"]


def test_recipients_our_server_refused_are_recorded_and_the_next_pass_tells_the_engineer(desk):
    from mailer import PermanentSendError
    from ticketing.services.outbox_sender import OutboxSender

    class RefusingSender:
        def send(self, raw, envelope_from, recipients):
            if "bob@globex.example" in recipients:
                error = PermanentSendError("bob refused")
                error.refused = {"bob@globex.example": (550, "5.1.1 no such mailbox")}
                raise error

        def close(self):
            pass

    desk.receive(make_message(sender="bob@globex.example"))
    OutboxSender(desk.store, RefusingSender(), Renderer()).send_due(desk.now)
    assert desk.mail("bounce_alert") == []  # the outbox only records it
    assert desk.store.contact("bob@globex.example").failing_since is None
    bounces = desk.intake.desk.bounces
    assert bounces.alert_refusals(desk.now) == 1
    assert bounces.alert_refusals(desk.now) == 0  # told once
    assert desk.store.contact("bob@globex.example").failing_since == desk.now
    [(_, alert)] = desk.mail("bounce_alert")
    assert alert.to[0].email == "priya@northwind.example" and "no such mailbox" in alert.text
