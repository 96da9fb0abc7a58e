"""Composing outgoing mail: every message is read back with the project's own parser."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from mailer.compose import (
    MAX_REFERENCES_CHARS,
    compose,
    make_message_id,
    safe_address,
    safe_header,
    trim_references,
)
from mailer.message import Address, parse_message

SUPPORT = Address("Northwind Support", "support@northwind.example")
CUSTOMER = Address("Bob Martinez", "bob@globex.example")
DATE = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
INVITE = "BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:kickoff-7@northwind.example\nEND:VEVENT\nEND:VCALENDAR\n"


def build(**overrides) -> bytes:
    args = dict(sender=SUPPORT, to=[CUSTOMER], subject="Your request", text="Hello Bob,\nthanks.\n",
                message_id="wg.ack.42@northwind.example", date=DATE)
    args.update(overrides)
    return compose(**args)


def header_names(raw: bytes) -> list[str]:
    block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0].lower() for line in block.split("\r\n") if line[:1] not in (" ", "\t")]


# -- safe_header, safe_address, make_message_id ------------------------------------------------

def test_safe_header_turns_line_breaks_and_controls_into_single_spaces():
    assert safe_header("  Hello\r\n\tBcc:\x00 evil@x\u2028again\x85 ") == "Hello Bcc: evil@x again"


def test_safe_header_removes_bidi_overrides():
    assert safe_header("invoice\u202efdp.exe") == "invoicefdp.exe"


def test_safe_header_cuts_long_values_with_an_ellipsis():
    cut = safe_header("word " * 100, limit=20)
    assert len(cut) <= 20 and cut.endswith("…") and cut.startswith("word word")
    assert safe_header("short", limit=20) == "short"


def test_safe_header_never_separates_a_letter_from_its_accent():
    cut = safe_header("e\u0301" * 10, limit=4)  # "é" as a letter and a combining accent
    assert cut == "e\u0301…"


def test_safe_header_keeps_encoded_word_syntax_from_being_decoded_again():
    value = safe_header("=?utf-8?q?Hello=0D=0ABcc:_evil@x?=")
    assert "=?" not in value and value.replace("\u200b", "") == "=?utf-8?q?Hello=0D=0ABcc:_evil@x?="


@pytest.mark.parametrize("email", ["bob@globex.example", "o'brien+tag@sub.globex.example", "a_b@mail_1.local"])
def test_safe_address_accepts_ordinary_addresses(email):
    assert safe_address(email) == email


def test_safe_address_lower_cases_the_domain_only():
    assert safe_address("Bob.Martinez@Globex.EXAMPLE") == "Bob.Martinez@globex.example"


@pytest.mark.parametrize("email", [
    "", "bob", "bob@", "@globex.example", "bob@@globex.example", "bob@x@globex.example",
    "bob martinez@globex.example", "bob@globex.example\r\nRCPT TO:<evil@x>", "bob@globex.example\n",
    "<bob@globex.example>", "bob@globex.example>", "bob(x)@globex.example", "b,ob@globex.example",
    "bob;@globex.example", "bo:b@globex.example", '"bob"@globex.example', "bo\\b@globex.example",
    ".bob@globex.example", "bob.@globex.example", "bo..b@globex.example", "bob@globex..example",
    "bob@-globex.example", "bob@[192.0.2.1]", "jörg@globex.example", "bob@glöbex.example",
    "b" * 65 + "@globex.example", "bob@" + "g" * 250 + ".example", "bob\x00@globex.example",
])
def test_safe_address_refuses_anything_that_could_break_a_header_or_the_envelope(email):
    with pytest.raises(ValueError):
        safe_address(email)


def test_make_message_id_is_stable_and_has_no_angle_brackets():
    assert make_message_id("wg.ack.42", "Northwind.example") == "wg.ack.42@northwind.example"
    assert make_message_id("wg.ack.42", "northwind.example") == make_message_id("wg.ack.42", "northwind.example")


@pytest.mark.parametrize("token", ["", ".wg", "wg.", "wg..ack", "wg ack", "wg<42>", "wg@42", "wg\r\n42", "wg/42",
                                   "wg\"42", "wgé", "x" * 129])
def test_make_message_id_refuses_unsafe_tokens(token):
    with pytest.raises(ValueError):
        make_message_id(token, "northwind.example")


@pytest.mark.parametrize("domain", ["", "north wind.example", "northwind.example>", "[192.0.2.1]", "a@b"])
def test_make_message_id_refuses_a_domain_that_is_no_host_name(domain):
    with pytest.raises(ValueError):
        make_message_id("wg.ack.42", domain)


# -- the message ---------------------------------------------------------------------------------

def test_a_plain_message_reads_back_with_every_field():
    raw = build(cc=[Address("", "carol@globex.example")], reply_to=Address("Replies", "replies@northwind.example"))
    parsed = parse_message(raw)
    assert parsed.message_id == "wg.ack.42@northwind.example"
    assert parsed.from_ == SUPPORT and parsed.to == (CUSTOMER,)
    assert parsed.cc == (Address("", "carol@globex.example"),)
    assert parsed.reply_to == (Address("Replies", "replies@northwind.example"),)
    assert parsed.subject == "Your request"
    assert parsed.date == DATE
    assert parsed.text == "Hello Bob,\nthanks.\n"
    assert parsed.content_type == "text/plain" and parsed.defects == ()
    assert b"\r\nMessage-ID: <wg.ack.42@northwind.example>\r\n" in raw
    assert raw.startswith(b"Date: Wed, 18 Nov 2026 16:00:00 +0000\r\n")


def test_the_message_has_crlf_line_endings_and_seven_bit_content():
    raw = build(subject="Grüße", text="Grüße aus Köln\n" + "x" * 300 + "\n", html="<p>Grüße</p>",
                attachments=[("a.bin", "application/octet-stream", bytes(range(256)))])
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_the_same_arguments_give_the_same_bytes():
    args = dict(html="<p>Hi</p>", attachments=[("a.txt", "text/plain", b"a")], calendar=("REQUEST", INVITE))
    assert build(**args) == build(**args)
    assert build(**args) != build(**{**args, "html": "<p>Hello</p>"})


def test_non_ascii_subjects_and_names_survive_the_round_trip():
    raw = build(sender=Address("Support Zürich – Team", "support@northwind.example"),
                to=[Address("Jörg \"JJ\" Müller, Ph.D.", "joerg@globex.example"), Address("田中 太郎", "tanaka@globex.example")],
                subject="Grüße – 請求書 #42 " + "long words " * 12)
    parsed = parse_message(raw)
    assert parsed.from_.name == "Support Zürich – Team"
    assert [a.name for a in parsed.to] == ["Jörg \"JJ\" Müller, Ph.D.", "田中 太郎"]
    assert parsed.subject == ("Grüße – 請求書 #42 " + "long words " * 12).strip()
    assert b"=?utf-8?" in raw


@pytest.mark.parametrize("field", ["subject", "name", "header"])
@pytest.mark.parametrize("attack", [
    "Hello\r\nBcc: evil@attacker.example", "Hello\nBcc: evil@attacker.example", "Hello\rBcc: evil@attacker.example",
    "Hello\u2028Bcc: evil@attacker.example", "=?utf-8?q?Hello=0D=0ABcc:_evil@attacker.example?=",
    "=?utf-8?b?SGVsbG8NCkJjYzogZXZpbEBhdHRhY2tlci5leGFtcGxl?=",
])
def test_header_injection_never_creates_a_header(field, attack):
    if field == "subject":
        raw = build(subject=attack)
    elif field == "name":
        raw = build(to=[Address(attack, "bob@globex.example")])
    else:
        raw = build(headers={"X-Ticket-Title": attack})
    parsed = parse_message(raw)
    assert "bcc" not in [name for name, _ in parsed.headers]
    assert "bcc" not in header_names(raw)
    assert not re.search(rb"(?im)^bcc:", raw)
    assert message_from_bytes(raw, policy=policy.default)["Bcc"] is None
    assert parsed.to[0].email == "bob@globex.example"


def test_a_header_name_that_is_no_token_or_is_reserved_is_refused():
    for name in ["X-Bad Name", "X-Bad:", "X-Bad\r\nBcc", "Bcc", "to", "Message-ID", "Content-Type", "Resent-To", ""]:
        with pytest.raises(ValueError):
            build(headers={name: "x"})


def test_extra_headers_are_written():
    parsed = parse_message(build(headers={"X-Whiteglove-Ticket": "WG-42", "List-Unsubscribe": "<mailto:u@northwind.example>"}))
    assert parsed.header("x-whiteglove-ticket") == "WG-42"
    assert parsed.header("list-unsubscribe") == "<mailto:u@northwind.example>"


def test_unusable_addresses_are_refused():
    with pytest.raises(ValueError):
        build(to=[Address("Bob", "bob@globex.example>, evil@attacker.example")])
    with pytest.raises(ValueError):
        build(sender=Address("Support", "support@northwind.example\r\nBcc: x@y"))
    with pytest.raises(ValueError):
        build(to=[])


def test_a_naive_date_is_refused():
    with pytest.raises(ValueError):
        build(date=datetime(2026, 11, 18, 16, 0))


def test_the_date_keeps_its_offset():
    raw = build(date=datetime(2026, 11, 18, 17, 0, tzinfo=timezone(timedelta(hours=1))))
    assert raw.startswith(b"Date: Wed, 18 Nov 2026 17:00:00 +0100\r\n")


@pytest.mark.parametrize("message_id", ["", "no-at-sign", "a b@c", "a@b>", "<a@b", "a@b\r\nBcc: x@y", "a..b@c", "é@c"])
def test_an_unsafe_message_id_of_our_own_is_refused(message_id):
    with pytest.raises(ValueError):
        build(message_id=message_id)


def test_a_message_id_in_angle_brackets_is_accepted_as_the_same_id():
    assert build(message_id="<wg.ack.42@northwind.example>") == build()


def test_a_reply_threads_with_in_reply_to_and_references():
    parsed = parse_message(build(in_reply_to="q2@globex.example", references=["q1@globex.example", "<q2@globex.example>"]))
    assert parsed.in_reply_to == ("q2@globex.example",)
    assert parsed.references == ("q1@globex.example", "q2@globex.example")


def test_inbound_ids_that_could_break_the_header_are_left_out():
    raw = build(in_reply_to="bad id\r\nBcc: evil@x", references=["q1@globex.example", "a<b", "ok@x", "", "ünï@x"])
    parsed = parse_message(raw)
    assert parsed.in_reply_to == ()
    assert parsed.references == ("q1@globex.example", "ok@x")
    assert "bcc" not in header_names(raw) and "in-reply-to" not in header_names(raw)


def test_odd_but_harmless_inbound_ids_are_echoed_back_as_they_were():
    parsed = parse_message(build(in_reply_to="NoAtSign.1234$", references=["NoAtSign.1234$"]))
    assert parsed.in_reply_to == ("NoAtSign.1234$",)
    assert parsed.references == ("NoAtSign.1234$",)


def test_long_references_keep_the_first_and_the_last_ids():
    ids = [f"m{n}.{'x' * 30}@globex.example" for n in range(200)]
    raw = build(references=ids, in_reply_to=ids[-1])
    parsed = parse_message(raw)
    assert parsed.references[0] == ids[0]
    assert parsed.references[-2:] == tuple(ids[-2:])
    assert len(parsed.references) < len(ids)
    assert list(parsed.references[1:]) == ids[len(ids) - len(parsed.references) + 1:]  # the most recent, in order
    assert len(" ".join(f"<{i}>" for i in parsed.references)) <= MAX_REFERENCES_CHARS


def test_references_are_folded_between_ids_and_never_encoded():
    long_id = "a" * 120 + "@globex.example"
    raw = build(references=["q1@globex.example", long_id], in_reply_to=long_id)
    block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in block
    assert f"In-Reply-To: <{long_id}>".encode() in block
    assert parse_message(raw).references == ("q1@globex.example", long_id)


def test_trim_references_drops_repeats_and_keeps_everything_that_fits():
    assert trim_references(["a@x", "b@x", "a@x", "c@x"]) == ["a@x", "b@x", "c@x"]
    assert trim_references(["a@x", "b@x", "c@x", "d@x"], limit=20) == ["a@x", "c@x", "d@x"]
    assert trim_references([]) == []


def test_auto_submitted_is_written_when_asked_and_only_then():
    assert parse_message(build(auto_submitted="auto-replied")).header("auto-submitted") == "auto-replied"
    assert parse_message(build()).header("auto-submitted") is None
    with pytest.raises(ValueError):
        build(auto_submitted="auto-replied\r\nBcc: x@y")


def test_html_makes_a_multipart_alternative_with_text_first():
    raw = build(html="<p>Hello <b>Bob</b></p>")
    parsed = parse_message(raw)
    assert parsed.content_type == "multipart/alternative"
    assert parsed.text == "Hello Bob,\nthanks.\n"
    assert parsed.html == "<p>Hello <b>Bob</b></p>\n"
    tree = message_from_bytes(raw, policy=policy.default)
    assert [p.get_content_type() for p in tree.iter_parts()] == ["text/plain", "text/html"]
    assert all("MIME-Version" not in part for part in tree.iter_parts())


def test_attachments_keep_their_names_types_and_sizes():
    raw = build(attachments=[("report.pdf", "application/pdf", b"%PDF-1.7" * 100),
                             ("Übersicht März.csv", "Text/CSV", b"a,b\n1,2\n"),
                             ("../../etc/passwd", "text/plain", b"x")])
    parsed = parse_message(raw)
    assert parsed.content_type == "multipart/mixed"
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf", 800), ("Übersicht März.csv", "text/csv", 8), ("passwd", "text/plain", 1)]
    assert parsed.text == "Hello Bob,\nthanks.\n"


@pytest.mark.parametrize("content_type", ["pdf", "application/pdf\r\nBcc: x@y", "multipart/mixed", "message/rfc822", "a/b c"])
def test_an_attachment_type_that_is_no_plain_mime_type_is_refused(content_type):
    with pytest.raises(ValueError):
        build(attachments=[("a", content_type, b"x")])


def test_a_calendar_invitation_is_an_alternative_with_its_method_and_an_ics_attachment():
    raw = build(html="<p>Kick-off</p>", calendar=("request", INVITE))
    parsed = parse_message(raw)
    assert [c.method for c in parsed.calendars] == ["REQUEST", "REQUEST"]
    assert "UID:kickoff-7@northwind.example" in parsed.calendars[0].text
    tree = message_from_bytes(raw, policy=policy.default)
    assert tree.get_content_type() == "multipart/mixed"
    alternative, invite = tree.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    calendar_part = list(alternative.iter_parts())[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert (invite.get_content_type(), invite.get_filename()) == ("application/ics", "invite.ics")
    assert invite.get_content() == INVITE.replace("\n", "\r\n").encode()


def test_a_calendar_method_that_is_unknown_or_contradicts_the_object_is_refused():
    with pytest.raises(ValueError):
        build(calendar=("INVITE", INVITE))
    with pytest.raises(ValueError):
        build(calendar=("CANCEL", INVITE))
