"""The mail of an engagement's end: the 0-10 survey, the engineer's note of an answer, and the two
summaries (pure but for the templates, as :mod:`ticketing.core.mails`).

Tokens name their cause, so each goes once whatever restarts happen: ``survey.{engagement}.{contact}``
(one mail per contact, so that nobody's answer goes to their colleagues by "reply all"),
``survey-answer.{message}``, ``engagement-summary.{engagement}``, ``customer-summary.{engagement}``.
The survey's Message-ID is how an answer is recognised (:func:`survey_token`).
"""
from __future__ import annotations

from typing import Sequence

from mailer import Address
from ticketing.core.domain import Engagement, Ticket
from ticketing.core.mails import INTERNAL_MARKER, Draft, Mails, slug, ticket_view
from ticketing.core.words import names_in_words


def survey_token(engagement_id: int, email: str) -> str:
    """The token of the survey to one contact: an answer to it is recognised by its Message-ID."""
    return f"survey.{engagement_id}.{slug(email)}"


def survey(mails: Mails, engagement: Engagement, contact: Address, *, question: str, engineer_name: str,
           cc: Sequence[Address] = ()) -> Draft:
    """The one-question survey to one of the customer's contacts (each answers for themself), threaded
    to the engagement's hand-off ticket so that an answer comes back to it."""
    body = mails.render("survey", account=engagement.account, question=question, engineer_name=engineer_name,
                        greeting=names_in_words([contact.name or contact.email]))
    return Draft("survey", survey_token(engagement.id, contact.email), (contact,),
                 f"One question about your onboarding with {mails.support.name}", body, engagement.ticket_id,
                 cc=tuple(cc), reply_to=mails.support.mailbox)


def survey_answer(mails: Mails, ticket: Ticket, engineer: Address, *, inbound_pk: int, engagement: Engagement,
                  customer: str, score: int, comment: str, thread: Sequence[str]) -> Draft:
    """A customer answered the survey: one short note to the engineer (commands and notes only in reply)."""
    view = ticket_view(ticket)
    headline = f"{customer} answered the survey: {score}/10"
    body = mails.render("survey_answer", marker=INTERNAL_MARKER, headline=headline, ticket=view,
                        account=engagement.account, customer=customer, score=score, comment=comment)
    ids = list(dict.fromkeys(i for i in thread if i))[-20:]
    return Draft("survey_answer", f"survey-answer.{inbound_pk}", (engineer,), f"{view['tag']} {headline}", body,
                 ticket.id, reply_to=mails.support.mailbox, in_reply_to=ids[-1] if ids else None,
                 references=tuple(ids), auto_submitted="auto-generated")


def engagement_summary(mails: Mails, engagement: Engagement, to: Sequence[Address], context: dict,
                       cc: Sequence[Address] = ()) -> Draft:
    """The internal end-of-engagement summary, to the engineer and the managers."""
    body = mails.render("engagement_summary", **context)
    return Draft("engagement_summary", f"engagement-summary.{engagement.id}", tuple(to),
                 f"Engagement summary: {engagement.account} ({context['verdict']})", body, None, cc=tuple(cc),
                 auto_submitted="auto-generated")


def customer_summary(mails: Mails, engagement: Engagement, contacts: Sequence[Address], context: dict,
                     cc: Sequence[Address] = ()) -> Draft:
    """The customer's summary of their onboarding, threaded to the hand-off ticket (an answer reaches the engineer)."""
    body = mails.render("customer_summary", **context)
    return Draft("customer_summary", f"customer-summary.{engagement.id}", tuple(contacts),
                 f"Your onboarding with {mails.support.name}: summary", body, engagement.ticket_id, cc=tuple(cc),
                 reply_to=mails.support.mailbox)
