"""Mail loops (issue 15): a customer's autoresponder and an engineer's out-of-office reply, neither
with ``Auto-Submitted``, answering each other through whiteglove. What whiteglove sends in answer to
one thread, or to one correspondent, in an hour is limited; a loop is broken, recorded on the
ticket and told to the engineer once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message

from ticketing.core.domain import EventKind, OutboxStatus

BOB, PRIYA, DANA = "bob@globex.example", "priya@northwind.example", "dana@northwind.example"
REPLIES = ("acknowledgement", "notification", "update", "relay", "commands")


def config(**support) -> dict:
    return {**CONFIG, "support": {**CONFIG["support"], **support}}


def mails_to(desk: Desk, address: str, *, sent: bool = True):
    """Outgoing mail to ``address`` that is (or is going) out; ``sent=False``: what was stopped."""
    return [m for m in desk.store.outbox() if address in m.recipients
            and (m.status is not OutboxStatus.SUPPRESSED) == sent]


def latest(desk: Desk, address: str, purposes=REPLIES):
    """The newest mail whiteglove queued to ``address`` of ``purposes``, parsed."""
    return [p for m, p in desk.mail(to=address) if m.purpose in purposes and m.status is not OutboxStatus.SUPPRESSED][-1]


def play(desk: Desk, rounds: int, *, customer_says: str, engineer_says: str, customer_subject=None,
         engineer_subject=None) -> None:
    """Bob's autoresponder answers each new mail Bob gets; Priya's each new mail she gets; up to
    ``rounds`` times, a minute apart, as two autoresponders do (they answer nothing twice)."""
    answered: set[str] = set()
    for n in range(rounds):
        moved = False
        to_bob = latest(desk, BOB)
        if to_bob.message_id not in answered:
            answered.add(to_bob.message_id)
            moved = True
            desk.receive(make_message(
                sender=f"Bob <{BOB}>", subject=customer_subject or f"Re: {to_bob.subject}",
                message_id=f"<bob-auto-{n}@globex.example>", in_reply_to=f"<{to_bob.message_id}>", body=customer_says))
        to_priya = latest(desk, PRIYA)
        if to_priya.message_id not in answered:
            answered.add(to_priya.message_id)
            moved = True
            desk.receive(make_message(
                sender=f"Priya Raman <{PRIYA}>", to=SUPPORT, subject=engineer_subject or f"Re: {to_priya.subject}",
                message_id=f"<priya-auto-{n}@northwind.example>", in_reply_to=f"<{to_priya.message_id}>",
                body=engineer_says))
        if not moved:
            return


def open_ticket(desk: Desk) -> None:
    desk.receive(make_message(sender=f"Bob <{BOB}>", subject="Export fails", body="The CSV export fails."))


# -- out-of-office replies without Auto-Submitted --------------------------------------------------


@pytest.mark.parametrize("customer_says, customer_subject", [
    ("I am out of the office until Monday 23 November with limited access to e-mail.\n", None),
    ("Thank you for your message.\n", "Automatic reply: Export fails"),
    ("Vielen Dank für Ihre Nachricht.\n", "Abwesenheitsnotiz: Export fails"),
])
def test_an_autoresponder_and_an_out_of_office_reply_do_not_keep_answering_each_other(store, customer_says, customer_subject):
    # The loop: 100 mails in 50 rounds. Out-of-office replies without Auto-Submitted are
    # recognised now (their subject, or a body that says so), so nothing answers them at all.
    desk = Desk(store, CONFIG)
    open_ticket(desk)
    before = len(desk.store.outbox())  # the notification to Priya and the acknowledgement to Bob
    play(desk, 50, customer_says=customer_says, customer_subject=customer_subject,
         engineer_says="I'm currently out of the office and will return on 30 November.\n"
                       "For urgent matters please contact Dana Whitfield.\n")
    assert len(desk.store.outbox()) == before == 2


# -- limits on what goes out in answer ---------------------------------------------------------------

# What nothing can recognise: a customer's ticketing system that confirms every mail as if a person
# had written it, and an engineer's mail rule that answers every notification the same way.
CUSTOMER_SYSTEM = "Thanks, we have your message and will look into it.\n"
ENGINEER_RULE = "Thanks! Noted, will come back to you.\n"


def test_a_loop_nothing_recognises_is_broken_at_the_thread_limit_and_the_engineer_is_told_once(store):
    desk = Desk(store, CONFIG)  # the default: 10 answers to a thread in an hour
    open_ticket(desk)
    [ticket] = desk.store.list_tickets()
    play(desk, 50, customer_says=CUSTOMER_SYSTEM, engineer_says=ENGINEER_RULE)

    # Before, 100 mails in 50 rounds: now at most 10 in answer to the thread in the hour.
    answered = [m for m in desk.store.outbox(ticket_id=ticket.id)
                if m.purpose in REPLIES and m.status is not OutboxStatus.SUPPRESSED]
    assert len(answered) == 10
    # What would have been sent is recorded as not sent, and why.
    stopped = [m for m in desk.store.outbox(ticket_id=ticket.id) if m.status is OutboxStatus.SUPPRESSED]
    assert stopped and all("loop" in m.last_error and "10 mails" in m.last_error for m in stopped)
    # The loop starves: once nothing goes out, the two autoresponders have nothing to answer.
    assert len(stopped) == 1
    # Recorded on the ticket, and told to Priya once, whatever else arrives in the hour.
    [event] = [e for e in desk.store.events(ticket.id) if e.kind is EventKind.LOOP_BROKEN]
    assert event.detail["limit"] == "thread"
    desk.receive(make_message(sender=f"Bob <{BOB}>", subject="Re: Export fails [WG-1]", message_id="<bob-again@globex.example>",
                              in_reply_to="<bob-auto-1@globex.example>", body=CUSTOMER_SYSTEM))
    [(alert_row, alert)] = desk.mail("loop_alert")
    assert alert.to[0].email == PRIYA and alert_row.ticket_id == ticket.id
    assert f"[WG-{ticket.id}]" in alert.subject and "not sent" in alert.text
    # What was stopped (the update with Bob's system's words) and what it said, in its own words.
    assert (stopped[0].purpose, stopped[0].recipients) == ("update", (PRIYA,))
    assert f"update to {PRIYA}" in alert.text and "Thanks, we have your message" in alert.text
    assert alert.header("auto-submitted") == "auto-generated"
    assert [e.kind for e in desk.store.events(ticket.id)].count(EventKind.LOOP_BROKEN) == 1


def test_the_same_thread_is_answered_again_an_hour_later(store):
    desk = Desk(store, config(max_replies_per_thread_per_hour=5))
    open_ticket(desk)
    play(desk, 10, customer_says=CUSTOMER_SYSTEM, engineer_says=ENGINEER_RULE)
    assert mails_to(desk, BOB, sent=False) or mails_to(desk, PRIYA, sent=False)
    desk.now += timedelta(hours=1, minutes=5)
    [ticket] = desk.store.list_tickets()
    desk.receive(make_message(sender=f"Bob <{BOB}>", subject=f"Re: Export fails [WG-{ticket.id}]",
                              message_id="<bob-human@globex.example>", in_reply_to="<bob-auto-1@globex.example>",
                              body="Sorry about our auto-replies. The export works now, thanks!\n"))
    assert "The export works now" in latest(desk, PRIYA).text


def test_a_correspondent_gets_at_most_the_limit_in_an_hour_across_threads(store):
    # A customer's system that opens a new thread with every mail: each one is a new ticket, and
    # each new ticket a notification to Priya.
    desk = Desk(store, config(max_mails_per_sender_per_hour=4, acknowledgements_per_hour=100))
    for n in range(12):
        desk.receive(make_message(sender=f"Bob <{BOB}>", subject=f"Ticket {n} received", message_id=f"<new-{n}@globex.example>",
                                  body=CUSTOMER_SYSTEM))
    assert len([m for m in mails_to(desk, BOB) if m.purpose == "acknowledgement"]) == 4
    assert len(mails_to(desk, BOB, sent=False)) == 8
    assert all("to bob@globex.example" in m.last_error for m in mails_to(desk, BOB, sent=False))
    # Priya still hears of every new ticket: the notifications are not mail to Bob.
    assert len([m for m in mails_to(desk, PRIYA) if m.purpose == "notification"]) == 12
    # She is told of the loop once (for the ticket where it tripped first), not once a ticket.
    assert len(desk.mail("loop_alert")) == 1


def test_a_loop_on_a_ticket_without_an_engineer_is_told_to_the_managers(store):
    cfg = config(max_replies_per_thread_per_hour=3)
    cfg.update(accounts=[], engineers=[])  # a desk of managers only: nobody is assigned
    desk = Desk(store, cfg)
    desk.receive(make_message(sender="x@initech.example", message_id="<x1@initech.example>", subject="Question"))
    [ticket] = desk.store.list_tickets()
    assert ticket.assignee is None
    for n in range(6):
        [ack_or_update] = [p for m, p in desk.mail() if m.status is not OutboxStatus.SUPPRESSED][-1:]
        desk.receive(make_message(sender="x@initech.example", message_id=f"<x-auto-{n}@initech.example>",
                                  subject=f"Re: {ack_or_update.subject}", in_reply_to=f"<{ack_or_update.message_id}>",
                                  body=CUSTOMER_SYSTEM))
    [(_, alert)] = desk.mail("loop_alert")
    assert alert.to[0].email == DANA


def test_mail_that_answers_nothing_is_not_limited(store):
    from mailer import Address
    from ticketing.core.mails import Draft

    desk = Desk(store, config(max_replies_per_thread_per_hour=2, max_mails_per_sender_per_hour=1))
    open_ticket(desk)  # the notification and the acknowledgement: the ticket and Bob are at their limits
    [ticket] = desk.store.list_tickets()
    outbox = desk.intake.desk.outbox

    def queue(purpose: str, n: int) -> None:
        outbox.queue(Draft(purpose, f"test.{purpose}.{n}", (Address("", BOB),), purpose, ("x", None), ticket.id), desk.now)

    with store.transaction():
        # Reminders, summaries, SLA notices, invitations and pages, even while inbound mail is handled ...
        with outbox.answering():
            for n, purpose in enumerate(["sla", "invite", "planning", "task_reminder", "checkpoint", "survey", "oncall"]):
                queue(purpose, n)
        # ... and what the operator or a scheduled job sends of any kind, outside it.
        for n in range(3):
            queue("update", n)
    assert not mails_to(desk, BOB, sent=False) and len(mails_to(desk, BOB)) == 1 + 7 + 3
    assert desk.mail("loop_alert") == []


def test_history_held_back_does_not_count_against_the_limit(store):
    # A backfill the same hour: what it would have sent is held, never sent, and not counted.
    desk = Desk(store, config(max_replies_per_thread_per_hour=3))
    open_ticket(desk)
    [ticket] = desk.store.list_tickets()
    outbox = desk.intake.desk.outbox
    [ack] = [p for m, p in desk.mail("acknowledgement")]
    with store.transaction(), outbox.holding(), outbox.answering():
        from mailer import Address
        from ticketing.core.mails import Draft
        for n in range(5):
            outbox.queue(Draft("update", f"old.{n}", (Address("", PRIYA),), "old", ("x", None), ticket.id), desk.now)
    desk.receive(make_message(sender=f"Bob <{BOB}>", subject=f"Re: {ack.subject}", message_id="<bob-2@globex.example>",
                              in_reply_to=f"<{ack.message_id}>", body="Here is the log you asked for.\n"))
    assert "Here is the log" in latest(desk, PRIYA).text
    assert not [m for m in desk.store.outbox() if m.status is OutboxStatus.SUPPRESSED]


def test_an_answer_a_limit_stopped_does_not_count_as_the_first_response(store):
    desk = Desk(store, config(max_mails_per_sender_per_hour=2, acknowledgements_per_hour=100))
    for n in range(3):  # two acknowledgements reach Bob; the third ticket's is stopped
        desk.receive(make_message(sender=f"Bob <{BOB}>", subject=f"Question {n}", message_id=f"<q-{n}@globex.example>",
                                  body="How do I export?\n"))
    third = desk.store.list_tickets()[-1]
    [(_, note)] = [(m, p) for m, p in desk.mail("notification") if m.ticket_id == third.id]
    desk.receive(make_message(sender=f"Priya Raman <{PRIYA}>", to=SUPPORT, subject=f"Re: {note.subject}",
                              message_id="<answer@northwind.example>", in_reply_to=f"<{note.message_id}>",
                              body="Use Settings > Export.\n"))
    [relay] = [m for m in desk.store.outbox(ticket_id=third.id) if m.purpose == "relay"]
    assert relay.status is OutboxStatus.SUPPRESSED
    # Bob never got the answer: the first-response clock keeps running, and Priya is told why.
    assert desk.store.get_ticket(third.id).first_response_at is None
    assert EventKind.ENGINEER_REPLIED not in [e.kind for e in desk.store.events(third.id)]
    assert [p.to[0].email for _, p in desk.mail("loop_alert")] == [PRIYA]
