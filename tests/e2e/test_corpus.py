"""The real-world corpus (``../shared/corpus/mail``) through the real intake pipeline.

Every message (``.eml`` and ``.mbox``, every folder) is ingested once, in the order
``whiteglove ingest`` reads them, by one :class:`Intake` over a store (SQLite, then PostgreSQL);
the tests then check what each category folder produced. The figures asserted were recorded from a run and are exact on
purpose: a change in parsing, recognition or threading shows up here as a changed figure, to be
looked at and, if it is right, recorded anew. ``corpus/ics`` is for the calendar work and not read.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support.app import plain_intake
from support.postgres import emptied

from mailer.automated import Origin, Verdict, recognise
from mailer.files import iter_messages
from mailer.message import ParsedMessage, parse_message
from ticketing.services.intake import IntakeSummary, dedupe_key
from ticketing.store import SqlStore

pytestmark = pytest.mark.corpus

NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Outcome:
    """What intake made of one corpus message, and what the parser and recogniser say of it."""

    name: str  # "bounce/x.eml", or "malformed/y.mbox#3" for the fourth message of an mbox
    status: str  # "processed", "quarantined", or "duplicate" (nothing stored: seen before)
    kind: str | None  # MessageKind value of a processed message
    ticket: int | None
    refers_to: int | None  # a reply from someone not on its parent's ticket opens one referring to it
    reason: str  # why automated, or why quarantined
    failed: tuple[str, ...]  # failed recipients recorded for a bounce
    attachments: tuple[str, ...]  # file names recorded
    parsed: ParsedMessage
    verdict: Verdict
    dedupe_key: str

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True)
class Corpus:
    summary: IntakeSummary
    outcomes: dict[str, Outcome]

    def of(self, category: str) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.category == category]

    def __getitem__(self, name: str) -> Outcome:
        return self.outcomes[name]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus_db(request, tmp_path_factory) -> str:
    """An empty database for the module's one run: SQLite, then PostgreSQL (the same figures on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'wg.db'}"
    return emptied(request.getfixturevalue("pg_database_url"))


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path, corpus_db: str) -> Corpus:
    root = corpus_dir / "mail"
    messages = list(iter_messages([root]))
    store = SqlStore.open(corpus_db)
    try:
        summary = plain_intake(store, lambda: NOW).ingest(messages)
        # The store's domain objects do not carry the source key, origin or failed recipients
        # yet: read the columns intake wrote.
        rows = {
            row[0]: row[1:]
            for row in store.db.execute_sql(
                "SELECT m.source_key, m.status, m.kind, m.ticket_id, t.refers_to, m.origin_reason,"
                " m.failed_recipients, m.attachments FROM inbound_message m LEFT JOIN ticket t ON t.id = m.ticket_id"
            ).fetchall()
        }
        quarantined = {q.source_key: q.reason for q in store.list_quarantine()}
    finally:
        store.close()
    outcomes = {}
    for msg in messages:
        name = msg.key[len(str(root)) + 1 :]
        parsed = parse_message(msg.raw)
        status, kind, ticket, refers_to, reason, failed, files = rows.get(
            msg.key, ("duplicate", None, None, None, "", "", "[]"))
        outcomes[name] = Outcome(
            name=name,
            status=status,
            kind=kind,
            ticket=ticket,
            refers_to=refers_to,
            reason=quarantined.get(msg.key, reason),
            failed=tuple(failed.split()),
            attachments=tuple(a["filename"] for a in json.loads(files)),
            parsed=parsed,
            verdict=recognise(parsed),
            dedupe_key=dedupe_key(parsed, msg.raw),
        )
    return Corpus(summary, outcomes)


def names(outcomes) -> set[str]:
    return {o.name.split("/", 1)[1] for o in outcomes}


def judged(outcome: Outcome) -> Origin:
    """Where the message was judged to come from: by intake, or by the recogniser for a duplicate."""
    if outcome.status == "duplicate":
        return outcome.verdict.origin
    if outcome.kind == "bounce":
        return Origin.BOUNCE
    if outcome.kind == "automated":
        return Origin(outcome.reason.split(":", 1)[0])
    return Origin.HUMAN


# -- the whole corpus ------------------------------------------------------------------------------


def test_every_message_goes_through_intake_without_an_unhandled_error(corpus):
    # 333 .eml files, an mbox of one DSN and one of 29 messages framed by Content-Length.
    assert Counter(o.category for o in corpus.outcomes.values()) == {
        "plain": 58, "threaded": 48, "autoreply": 21, "bounce": 71, "malformed": 100, "attachments": 42,
        "calendar": 23,
    }
    summary = corpus.summary
    assert (summary.processed, summary.duplicates, summary.quarantined, summary.tickets_created) == (321, 26, 16, 199)
    statuses = Counter(o.status for o in corpus.outcomes.values())
    assert statuses == {"processed": 321, "duplicate": 26, "quarantined": 16}
    for outcome in corpus.outcomes.values():
        assert not any(d.startswith("parse failed") for d in outcome.parsed.defects), outcome.name
        if outcome.status == "processed":
            assert outcome.kind in ("new", "reply", "automated", "bounce", "calendar"), outcome.name
            if outcome.kind in ("new", "reply"):
                assert outcome.ticket is not None, outcome.name
        elif outcome.status == "quarantined":
            assert outcome.reason and not outcome.reason.startswith("internal error"), (outcome.name, outcome.reason)


def test_quarantined_messages_are_the_ones_with_nobody_to_answer(corpus):
    quarantined = {o.name: o.reason for o in corpus.outcomes.values() if o.status == "quarantined"}
    no_sender = "no sender address: nobody to open a ticket for"
    assert quarantined == {
        "malformed/sisimai__mailbox-size-0.eml": "empty message",
        # No From header at all, or none with an address in it.
        **dict.fromkeys(
            [
                "plain/rt__lorem-ipsum.eml",  # a bare body, no header block
                "plain/tine20__Android.eml",
                "threaded/php-imap__references.eml",  # "From: no_host"
                "attachments/flanker__attached-pdf.eml",
                "attachments/mimekit__startrek.eml",  # "From: nsb (Nathaniel Borenstein)", 1991: no domain
                "attachments/php-imap__attachment_long_filename.eml",
                "malformed/enmime__erroneous.eml",
                "malformed/mikel-mail__bad_encoded_subject.eml",
                "malformed/php-imap__missing_from.eml",
                "malformed/php-mime-mail-parser__m0027.eml",
                "malformed/redmine__ticket_without_from_header.eml",
                "malformed/sisimai__mailbox-size-2.eml",
                "malformed/stalwart-mail-parser__malformed-016.eml",
                "malformed/stalwart-mail-parser__thirdparty-010.eml",
                "malformed/tine20__withoutfrom.eml",
            ],
            no_sender,
        ),
    }
    for name in quarantined:
        assert corpus[name].parsed.from_ is None, name


def test_each_duplicate_repeats_a_message_id_stored_before_it(corpus):
    # Upstream projects reuse fixtures: the same message with other line endings (dos-, mac-),
    # or edited copies keeping the Message-ID. Intake stores the first and counts the others.
    seen: dict[str, str] = {}
    for outcome in corpus.outcomes.values():
        if outcome.status == "duplicate":
            assert outcome.dedupe_key in seen, outcome.name
            assert outcome.dedupe_key.startswith("mid:"), outcome.name
        else:
            seen.setdefault(outcome.dedupe_key, outcome.name)
    assert corpus["plain/mikel-mail__basic_email_lf.eml"].status == "duplicate"
    assert seen[corpus["plain/mikel-mail__basic_email_lf.eml"].dedupe_key] == "plain/mikel-mail__basic_email.eml"


def test_recorded_failed_recipients_are_what_the_recogniser_found(corpus):
    for outcome in corpus.outcomes.values():
        if outcome.status == "processed":
            assert outcome.failed == outcome.verdict.failed_recipients, outcome.name


def test_no_stored_file_name_holds_a_path(corpus):
    stored = [f for o in corpus.outcomes.values() for f in o.attachments]
    assert len(stored) > 400
    assert not [f for f in stored if "/" in f or "\\" in f or ".." in f or f.startswith(".") or not f]


# -- bounce/ ---------------------------------------------------------------------------------------

# Abuse complaints (ARF, RFC 5965, and Hotmail's JMRP) sit with the bounces upstream; they report
# a complaint about a delivered message, not a failed delivery, so they are reports.
COMPLAINTS = {
    "flanker__aol.eml",
    "flanker__yahoo.eml",
    "php-bounce-handler__fbl-hotmail.eml",
    "sisimai__arf-01.eml",
}


def test_every_bounce_is_recognised_as_a_bounce_and_complaints_as_reports(corpus):
    bounces = corpus.of("bounce")
    assert names(o for o in bounces if judged(o) is Origin.REPORT) == COMPLAINTS
    assert [o.name for o in bounces if judged(o) not in (Origin.BOUNCE, Origin.REPORT)] == []
    assert Counter(judged(o) for o in bounces) == {Origin.BOUNCE: 67, Origin.REPORT: 4}
    # None of them opens a ticket.
    assert [o.name for o in bounces if o.ticket is not None] == []


def test_every_bounce_names_a_failed_recipient(corpus):
    bounces = [o for o in corpus.of("bounce") if judged(o) is Origin.BOUNCE]
    assert [o.name for o in bounces if not o.verdict.failed_recipients] == []
    # Of the 67, 64 were stored (3 repeat a Message-ID) and recorded their recipients.
    assert sum(1 for o in bounces if o.failed) == 64


@pytest.mark.parametrize(
    "name, recipients, permanent",
    [
        ("bounceparser__iis-multiple-bounce.eml",
         ("bounced1@example.net", "bounced2@example.net", "bounced3@example.net", "bounced4@example.net"), True),
        ("flufl-bounce__netscape_01.eml", ("aaaaa@corel.com", "bbbbb@corel.com"), True),
        ("flufl-bounce__sina_01.eml", ("boboman76@sina.com", "alan_t18@sina.com"), True),  # Chinese free text
        ("sisimai__lhost-exim-01.eml", ("kijitora@example.ed.jp",), True),  # X-Failed-Recipients
        ("sisimai__lhost-qmail-01.eml", ("kijitora@example.ne.jp",), True),  # free text
        ("sisimai__lhost-exchange2003-01.eml", ("kijitora@example.jp",), True),  # free text
        ("sisimai__lhost-office365-01.eml", ("kijitora@example.com",), True),
        ("sisimai__lhost-domino-01.eml", ("kijitora@example.jp",), True),
        ("sisimai__mailbox-mbox-1.mbox#0", ("kijitora@libsisimai.org",), True),
        # The DSN lists the bounce's own To (shironeko@me.example.com) too: never a failed recipient.
        ("sisimai__lhost-messagingserver-01.eml", ("kijitora@example.jp",), True),
        ("ccs-calendarserver__dsn_failure_with_ics.eml", ("nonexistant@example.com",), True),
        # Delays: the message is still being retried.
        ("flanker__no-mx.eml", ("user@example.com",), False),
        ("mikel-mail__raw_email_with_mimepart_without_content_type.eml", ("larose.julie@courrier.uqam.ca",), False),
        # "Action: failed" with a 4.x.x status: given up after retrying, so permanent.
        ("sisimai__lhost-exchange2007-05.eml", ("gwang1@student.mlcsyd.nsw.edu.au",), True),
    ],
)
def test_bounces_name_their_failed_recipients(corpus, name, recipients, permanent):
    outcome = corpus[f"bounce/{name}"]
    assert judged(outcome) is Origin.BOUNCE
    assert outcome.failed == recipients
    assert outcome.verdict.permanent is permanent


def test_bounces_of_mail_we_never_sent_count_against_nobody_and_most_name_what_they_return(corpus):
    bounces = [o for o in corpus.of("bounce") if judged(o) is Origin.BOUNCE]
    # Nothing of ours went out in this run: every bounce is stored as automated mail, matching nothing.
    stored = [o for o in bounces if o.status == "processed"]
    assert stored and all(o.kind == "automated" and "matches nothing we sent" in o.reason for o in stored)
    # 52 of the 67 name the returned message's Message-ID in a form the parser reads (a
    # message/rfc822 or text/rfc822-headers part, or the headers a free-text bounce quotes); the
    # other 15 carry no returned headers (anonymised upstream, or cut short), one has them in a
    # named text attachment and one in broken MIME.
    assert sum(1 for o in bounces if o.parsed.returned_message_ids) == 52


def test_failed_recipients_are_never_the_bounces_own_addressees(corpus):
    for outcome in corpus.of("bounce"):
        ours = {a.email.lower() for a in (*outcome.parsed.to, *outcome.parsed.cc)}
        assert not ours & {r.lower() for r in outcome.verdict.failed_recipients}, outcome.name


# -- autoreply/ ------------------------------------------------------------------------------------

# An HTML apology a company's new system mailed to its customers ("we are sorry if you receive
# this e-mail"): sent by a program, but nothing says so a machine can read (no Auto-Submitted,
# list or precedence header, a real sender, a VERP Return-Path many people's mail also has, a
# subject in free Latvian). Taken for a person's message, it opens a ticket.
HUMAN_LOOKING_AUTOREPLIES = {"bounce_email__tt_1234241664.eml"}


def test_autoreplies_are_recognised_as_automated(corpus):
    autoreplies = corpus.of("autoreply")
    assert names(o for o in autoreplies if judged(o) is Origin.HUMAN) == HUMAN_LOOKING_AUTOREPLIES
    assert Counter(judged(o) for o in autoreplies) == {
        Origin.AUTO_REPLY: 16,  # vacation replies, and a status page's "confirm" mail from noreply@
        Origin.REPORT: 3,  # two read receipts (RFC 8098) and a DMARC aggregate report
        Origin.BULK: 1,  # a groupware alarm with Precedence: bulk
        Origin.HUMAN: 1,
    }
    assert names(o for o in autoreplies if o.ticket is not None) == HUMAN_LOOKING_AUTOREPLIES


@pytest.mark.parametrize(
    "name, reason",
    [
        ("bounceparser__autoreply.eml", "auto_reply: null sender <>"),
        ("bounceparser__aol-vacation.eml", "auto_reply: Auto-Submitted: auto-replied"),
        ("bounceparser__warning-6.eml", "auto_reply: auto-reply subject"),  # Lotus Notes "AUTO: ..."
        ("bounce_email__tt_1234211024.eml", "auto_reply: x-autoreply header"),  # Gmail, ISO-8859-13
        ("sisimai__rfc3834-03.eml", "auto_reply: x-apple-action header"),  # iCloud
        ("php-mime-mail-parser__issue212.eml", "auto_reply: auto-reply subject"),  # Polish, no From
        ("flanker__disposition-notification.eml", "report: multipart/report; report-type=disposition-notification"),
        ("php-imap__mail_that_is_attachment.eml", "report: report subject"),
    ],
)
def test_autoreplies_are_recognised_for_the_right_reason(corpus, name, reason):
    outcome = corpus[f"autoreply/{name}"]
    assert (outcome.status, outcome.kind, outcome.reason) == ("processed", "automated", reason)


# -- plain/ ----------------------------------------------------------------------------------------

# Machine mail among the plain messages, each recognised by a header a person's client never sets.
AUTOMATED_PLAIN = {
    "flanker__from-encoding.eml": Origin.BULK,  # a post to the Apache new-httpd list: Precedence: bulk
    "mikel-mail__raw_email_trailing_dot.eml": Origin.AUTO_REPLY,  # RubyForge tracker, noreply@ sender
    "php-mime-mail-parser__m0009.eml": Origin.AUTO_REPLY,  # Ogone payment notification, no-reply@ sender
}


def test_plain_messages_open_tickets(corpus):
    plain = corpus.of("plain")
    automated = {o.name.split("/")[1]: judged(o) for o in plain if judged(o) is not Origin.HUMAN}
    assert automated == AUTOMATED_PLAIN
    opened = [o for o in plain if o.kind == "new"]
    assert len(opened) == 48
    assert Counter(o.status for o in plain) == {"processed": 51, "duplicate": 5, "quarantined": 2}
    # Every person's message that was stored and has a sender opened its own ticket.
    for outcome in plain:
        if outcome.status == "processed" and judged(outcome) is Origin.HUMAN:
            assert outcome.kind == "new" and outcome.ticket is not None, outcome.name
    assert len({o.ticket for o in opened}) == len(opened)


# -- threaded/ -------------------------------------------------------------------------------------


def test_replies_join_the_ticket_of_a_parent_stored_before_them(corpus):
    def ticket(name: str) -> int | None:
        return corpus[f"threaded/{name}"].ticket

    # notmuch's "Mac OS X/Darwin compatibility issues" thread on a mailing list: a root by one
    # person, a reply by another, who is not on the root's ticket and so opens a ticket that
    # refers to it; the two then answer each other on that second ticket.
    root = ticket("notmuch__default-cur-31_2.eml")
    assert root is not None and corpus["threaded/notmuch__default-cur-31_2.eml"].kind == "new"
    stranger = corpus["threaded/notmuch__default-cur-34_2.eml"]
    assert (stranger.kind, stranger.refers_to) == ("new", root) and "who is not part of it" in stranger.reason
    for reply in ("notmuch__default-cur-35_2.eml", "notmuch__default-cur-36_2.eml"):
        assert (corpus[f"threaded/{reply}"].kind, ticket(reply)) == ("reply", stranger.ticket)
    # Two messages each naming the other as its parent: the first read opens the ticket.
    assert corpus["threaded/notmuch__broken-loop-loop-12.eml"].kind == "new"
    assert corpus["threaded/notmuch__broken-loop-loop-21.eml"].kind == "reply"
    assert ticket("notmuch__broken-loop-loop-21.eml") == ticket("notmuch__broken-loop-loop-12.eml")
    # A ghost root: the child is read before the real root (file order), opens the ticket, and
    # its own reply joins it by In-Reply-To; a sibling by mallory refers to it by References but
    # is not on it, so it opens its own ticket referring to the child's; the real root, which
    # refers to nothing, opens its own.
    child = ticket("notmuch__threading-ghost-root-child.eml")
    assert corpus["threaded/notmuch__threading-ghost-root-grand-child.eml"].reason.endswith("by in-reply-to")
    assert ticket("notmuch__threading-ghost-root-grand-child.eml") == child
    fake = corpus["threaded/notmuch__threading-ghost-root-fake-root.eml"]
    assert (fake.kind, fake.refers_to) == ("new", child)
    assert ticket("notmuch__threading-ghost-root-real-root.eml") not in (None, child, fake.ticket)


def test_every_reply_to_a_message_stored_before_it_joins_that_messages_ticket_or_refers_to_it(corpus):
    # Over the whole corpus, in the order intake read it: In-Reply-To first, then References
    # newest first, as intake trusts them. A reply from someone on the parent's ticket joins it;
    # from anyone else it opens a ticket that refers to it.
    tickets_by_id: dict[str, int] = {}
    joined = referred = 0
    for outcome in corpus.outcomes.values():
        if outcome.status != "processed":
            continue
        parsed = outcome.parsed
        parents = [i for i in (*parsed.in_reply_to, *reversed(parsed.references)) if i in tickets_by_id]
        if parents and outcome.kind == "reply":
            assert outcome.ticket == tickets_by_id[parents[0]], outcome.name
            joined += 1
        elif parents:
            assert (outcome.kind, outcome.refers_to) == ("new", tickets_by_id[parents[0]]), outcome.name
            referred += 1
        elif outcome.kind in ("new", "reply"):
            assert outcome.kind == "new", outcome.name
        if outcome.ticket is not None and parsed.message_id:
            tickets_by_id.setdefault(parsed.message_id, outcome.ticket)
    assert (joined, referred) == (4, 2)


def test_threaded_figures(corpus):
    threaded = corpus.of("threaded")
    assert Counter(o.kind or o.status for o in threaded) == {
        "new": 33,  # mostly replies and forwards whose parents are not in the corpus, and two strangers' replies
        "reply": 4,  # the four above
        "automated": 6,  # mailing-list mail (List-Id, Mailing-List, Precedence: list or bulk)
        "duplicate": 4,
        "quarantined": 1,
    }
    assert Counter(judged(o) for o in threaded) == {Origin.HUMAN: 41, Origin.BULK: 7}
    # Replies to list mail do not join it: list mail opens no ticket. These two answer posts of
    # notmuch's "Working with Maildir storage?" thread that carry Precedence: list.
    for name in ("notmuch__default-cur-41_2.eml", "notmuch__default-foo-baz-12_2.eml"):
        assert corpus[f"threaded/{name}"].kind == "new"


# -- malformed/ ------------------------------------------------------------------------------------


def test_malformed_messages_are_processed_or_quarantined_with_a_reason(corpus):
    malformed = corpus.of("malformed")
    assert Counter(o.kind or o.status for o in malformed) == {
        "new": 69, "automated": 16, "quarantined": 10, "duplicate": 5,  # 4 bounces of mail not ours among them
    }
    # Broken does not mean automated: most are people's messages with a damaged structure. The
    # automated ones say so in a header (Precedence, List-Id, X-Autogenerated, a no-reply or null
    # sender); the bounces are a DSN without a boundary, a headerless status fragment, a
    # truncated DSN and a synthetic "Undeliverable:" from a "postmaster@" display name.
    assert Counter(judged(o) for o in malformed) == {
        Origin.HUMAN: 83, Origin.BULK: 9, Origin.AUTO_REPLY: 3, Origin.BOUNCE: 5,
    }
    for outcome in malformed:
        assert outcome.status in ("processed", "quarantined", "duplicate"), outcome.name
        if outcome.status == "quarantined":
            assert outcome.reason, outcome.name


# -- attachments/ ----------------------------------------------------------------------------------


def test_messages_with_attachments_keep_them(corpus):
    attachments = corpus.of("attachments")
    assert [o.name for o in attachments if not o.parsed.attachments] == []
    stored = [o for o in attachments if o.status == "processed"]
    assert [o.name for o in stored if not o.attachments] == []
    assert len(corpus["attachments/php-mime-mail-parser__issue408.eml"].attachments) == 328
    assert corpus["attachments/rt__notes-uuencoded.eml"].attachments == ("Naz_Head.jpg",)  # uuencoded in the text
    assert corpus["attachments/tine20__winmail_dat_attachment.eml"].attachments == ("winmail.dat",)


# -- calendar/ -------------------------------------------------------------------------------------


def test_calendar_messages_keep_their_calendar_part(corpus):
    calendar = corpus.of("calendar")
    # The one without: an "Event accepted" mail whose .ics part its upstream authors removed.
    assert [o.name for o in calendar if not o.parsed.calendars] == [
        "calendar/ccs-calendarserver__reply_missing_attachment.eml"
    ]
    # The method of each message's first calendar part (the rest repeat it: an inline part and the
    # same invitation attached as a file). One Zoom invitation names no method at all.
    methods = Counter(o.parsed.calendars[0].method for o in calendar if o.parsed.calendars)
    assert methods == {"REQUEST": 12, "REPLY": 7, "CANCEL": 2, None: 1}
    assert all(c.method == o.parsed.calendars[0].method for o in calendar for c in o.parsed.calendars)
    # Answers to invitations (iMIP REPLY) are kept for the calendar code, not made tickets;
    # invitations and cancellations are people's mail (tickets), except two groupware
    # notifications sent with Precedence: bulk; six repeat another file's Message-ID.
    assert Counter(o.kind or o.status for o in calendar) == {"new": 10, "calendar": 5, "automated": 2, "duplicate": 6}
    assert all(o.parsed.calendars[0].method == "REPLY" for o in calendar if o.kind == "calendar")
