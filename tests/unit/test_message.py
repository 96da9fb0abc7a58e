"""Parsing raw messages: headers and encoded-words, attachments, bodies, calendar parts, ids,
dates and the envelope sender; and that parsing survives anything it is given."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from mailer.filenames import MAX_FILENAME, sanitise_filename
from mailer.message import (
    Address,
    ParsedMessage,
    decode_header_value,
    parse_message,
)

HEAD = "From: Bob Martinez <bob@globex.example>\nTo: support@northwind.example\n"


def parse(text: str | bytes) -> ParsedMessage:
    """Parse a message written with LF line endings; ``str`` is sent as UTF-8."""
    return parse_message(text.encode("utf-8") if isinstance(text, str) else text)


def with_attachment(disposition: str, content_type: str = "application/pdf") -> bytes:
    return (
        HEAD + "Subject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        "--B\nContent-Type: text/plain\n\nSee attached.\n"
        f"--B\nContent-Type: {content_type}\nContent-Disposition: {disposition}\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--B--\n"
    ).encode("utf-8")


# -- encoded-words (RFC 2047) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("=?utf-8?q?Caf=C3=A9_au_lait?=", "Café au lait"),
        ("=?ISO-8859-1?B?R3L832U=?=", "Grüße"),
        # Whitespace between two encoded-words is not part of the text (RFC 2047 6.2) ...
        ("=?utf-8?q?Login_?= =?utf-8?q?loop?=", "Login loop"),
        # ... but it is between an encoded-word and plain text.
        ("Re: =?utf-8?q?=E2=82=AC?= 100 refund", "Re: € 100 refund"),
        ("=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?= support", "日本語 support"),
        ("=?gb2312?B?suLK1A==?=", "测试"),
        ("=?ks_c_5601-1987?B?x9Gxub7u?=", "한국어"),
        ("=?windows-1251?B?0eLl5ujpIO/w4OnxLevo8fI=?=", "Свежий прайс-лист"),
        # Words in two charsets in one subject are decoded each in its own.
        ("=?ISO-8859-1?Q?caf=E9?= =?ISO-8859-2?Q?=BFaba?=", "caféżaba"),
    ],
)
def test_encoded_word_subjects_are_decoded(raw, expected):
    assert parse(f"{HEAD}Subject: {raw}\n\nbody\n").subject == expected


def test_a_character_split_across_two_encoded_words_survives():
    # "é" is C3 A9 in UTF-8: each word alone holds half of it.
    assert decode_header_value("=?utf-8?b?Q2Fmww==?= =?UTF-8?b?qQ==?=") == "Café"
    # Japanese senders split ISO-2022-JP words in the middle of a character sequence too.
    assert decode_header_value("=?utf-8?B?5pel5pys?= =?utf-8?B?6Kqe?=") == "日本語"


def test_a_folded_subject_is_unfolded():
    assert parse(f"{HEAD}Subject: =?utf-8?q?Cut-over?=\n =?utf-8?q?_date?=\n\tmoved\n\nbody\n").subject == (
        "Cut-over date moved"
    )


def test_an_unknown_charset_falls_back_to_utf8_then_cp1252_and_says_so():
    defects: list[str] = []
    assert decode_header_value("=?x-unknown-thing?q?caf=C3=A9?=", defects=defects) == "café"
    assert decode_header_value("=?x-mac-nonsense?q?caf=E9?=", defects=defects) == "café"
    assert "unknown charset 'x-mac-nonsense'" in defects


def test_an_undecodable_encoded_word_still_gives_a_subject():
    msg = parse(f"{HEAD}Subject: =?NONE?B?####?= test\n\nbody\n")
    assert "test" in msg.subject


def test_raw_utf8_in_headers_is_read_as_utf8():
    msg = parse("From: Jörg Müller <joerg@globex.example>\nSubject: Säying Hello\n\nbody\n")
    assert msg.subject == "Säying Hello"
    assert msg.from_ == Address("Jörg Müller", "joerg@globex.example")


def test_raw_8bit_headers_that_are_not_utf8_are_read_in_the_body_charset():
    raw = (
        b"From: Andr\xe9 Pirard <andre@ulg.example>\nSubject: R\xe9union de lancement\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\nBonjour \xe0 tous\n"
    )
    msg = parse(raw)
    assert msg.subject == "Réunion de lancement"
    assert msg.from_.name == "André Pirard"
    assert msg.text == "Bonjour à tous\n"


def test_encoded_display_names_are_decoded_and_domains_lower_cased():
    msg = parse(
        "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <Andre.Pirard@ULG.Example>\n"
        "To: support@northwind.example, =?utf-8?q?M=C3=BCller=2C_Jan?= <jan@globex.example>\n"
        "Cc: \"Lee, M.\" <m.lee@acme.example>\nSubject: x\n\nbody\n"
    )
    assert msg.from_ == Address("André Pirard", "Andre.Pirard@ulg.example")
    # The comma inside the encoded name does not split the address.
    assert msg.to == (Address("", "support@northwind.example"), Address("Müller, Jan", "jan@globex.example"))
    assert msg.cc == (Address("Lee, M.", "m.lee@acme.example"),)


def test_a_whole_name_and_address_inside_one_encoded_word_is_still_found():
    msg = parse("From: =?utf-8?B?SsO2cmcgPGpvZXJnQGdsb2JleC5leGFtcGxlPg==?=\nSubject: x\n\nbody\n")
    assert msg.from_ == Address("Jörg", "joerg@globex.example")


def test_control_characters_smuggled_in_encoded_words_are_removed():
    assert parse(f"{HEAD}Subject: =?utf-8?q?Hello=0D=0ABcc:_x@evil.example?=\n\nbody\n").subject == (
        "HelloBcc: x@evil.example"
    )


# -- attachments: RFC 2231 and sanitised filenames ---------------------------------------------


@pytest.mark.parametrize(
    "disposition, expected",
    [
        ("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", "€ rates.pdf"),
        ("attachment; filename*=iso-8859-1'de'Gr%FC%DFe.pdf", "Grüße.pdf"),
        # Continuations are joined before decoding: a character may straddle two sections.
        ("attachment; filename*0*=utf-8''%E6%97%A5%E6; filename*1*=%9C%AC.pdf", "日本.pdf"),
        ("attachment;\n filename*0=\"long name \";\n filename*1=\"in two parts.pdf\"", "long name in two parts.pdf"),
        # Outlook and Gmail put encoded-words in the parameter, against RFC 2047 5.
        ('attachment; filename="=?utf-8?B?5pel5pys6KqeLnBkZg==?="', "日本語.pdf"),
        ('attachment; filename="Frühling.pdf"', "Frühling.pdf"),  # raw UTF-8 (RFC 6532)
    ],
)
def test_attachment_filenames_are_decoded(disposition, expected):
    [attachment] = parse(with_attachment(disposition)).attachments
    assert attachment.filename == expected
    assert attachment.content_type == "application/pdf"
    assert attachment.size == 9


def test_the_content_type_name_is_used_when_the_disposition_has_no_filename():
    [attachment] = parse(with_attachment("attachment", 'application/pdf; name="offer.pdf"')).attachments
    assert attachment.filename == "offer.pdf"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:\\Users\\bob\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("report..final..pdf", "report.final.pdf"),
        ("..", "attachment"),
        (".htaccess", "htaccess"),
        # "invoice\u202egpj.exe" would display as "invoiceexe.jpg".
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\u2067name\u2069.txt", "name.txt"),
        ("bad\x00na\x1fme<>:\"|?*.txt", "badname.txt"),
        ("   ", "attachment"),
    ],
)
def test_filenames_are_sanitised(name, expected):
    assert sanitise_filename(name) == expected


def test_a_long_filename_is_trimmed_keeping_its_extension():
    name = sanitise_filename("Rechnung " * 40 + ".pdf")
    assert len(name) <= MAX_FILENAME
    assert name.endswith(".pdf") and name.startswith("Rechnung")
    assert len(sanitise_filename("x" * 500)) == MAX_FILENAME


def test_a_path_in_an_attachment_name_never_reaches_the_parsed_message():
    raw = with_attachment('attachment; filename="../../../../home/bob/.ssh/authorized_keys"')
    [attachment] = parse(raw).attachments
    assert attachment.filename == "authorized_keys"
    assert "/" not in attachment.filename and ".." not in attachment.filename


def test_a_parameter_given_whole_and_in_sections_does_not_lose_the_message():
    # The stdlib raised TypeError on this (comparing None with a section number), from the
    # parser or from any later lookup on the header: the message came out empty.
    msg = parse(with_attachment("attachment; filename*=utf-8''plan.pdf; filename*0*=utf-8''x; filename*1=.pdf"))
    assert msg.from_ == Address("Bob Martinez", "bob@globex.example")
    assert msg.text == "See attached."
    assert [a.filename for a in msg.attachments] == ["plan.pdf"]
    assert not any(d.startswith("parse failed") for d in msg.defects)


def test_a_boundary_given_whole_and_in_sections_still_splits_the_parts():
    msg = parse(
        f"{HEAD}Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary*=B; boundary*0=B\n\n"
        "--B\nContent-Type: text/plain\n\nhello\n--B--\n"
    )
    assert msg.text == "hello"
    assert not any(d.startswith("parse failed") for d in msg.defects)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/octet-stream; charset*=utf-8''utf-8",  # RFC 2231 charset: a tuple to the stdlib
        'application/octet-stream; charset="utf-8\x00"',  # a NUL: ValueError in the stdlib
    ],
)
def test_an_odd_charset_on_an_8bit_attachment_does_not_lose_the_message(content_type):
    raw = (
        f"{HEAD}Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        f"--B\nContent-Type: text/plain\n\nbody\n--B\nContent-Type: {content_type}\n"
        "Content-Disposition: attachment; filename=data.bin\n\n"
    ).encode("utf-8") + b"\xff\xfe\x00\x01\n--B--\n"
    msg = parse(raw)
    assert msg.from_ is not None and msg.text == "body"
    assert [(a.filename, a.size) for a in msg.attachments] == [("data.bin", 4)]
    assert not any(d.startswith("parse failed") for d in msg.defects)


@pytest.mark.parametrize("label", ["base64", "quoted-printable"])
def test_a_transfer_encoding_named_as_the_charset_does_not_lose_the_text(label):
    msg = parse(f"{HEAD}Subject: x\nContent-Type: text/plain; charset={label}\n\nThe SSO login loops.\n")
    assert msg.text == "The SSO login loops.\n"
    assert not any(d.startswith("parse failed") for d in msg.defects)


# -- bodies --------------------------------------------------------------------------------------


def test_the_text_part_is_the_body_and_the_html_is_kept_beside_it():
    msg = parse(
        f"{HEAD}Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=A\n\n"
        "--A\nContent-Type: text/plain; charset=utf-8\n\nPlain words.\n"
        "--A\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>words</b>.</p>\n--A--\n"
    )
    assert msg.text == "Plain words."
    assert msg.html == "<p>HTML <b>words</b>.</p>"
    assert msg.content_type == "multipart/alternative"


def test_html_only_mail_gets_its_text_from_the_html():
    msg = parse(
        f"{HEAD}Subject: x\nContent-Type: text/html; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "<html><head><style>p {color: red}</style></head><body><p>Gr=FC=DFe,</p>"
        "<div>the SSO&nbsp;login =\nloops.</div>"
        "<script>alert(1)</script></body></html>\n"
    )
    assert msg.text == "Grüße,\n\nthe SSO login loops."
    assert msg.html.startswith("<html>")


def test_a_blank_text_part_gives_way_to_the_html():
    msg = parse(
        f"{HEAD}Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=A\n\n"
        "--A\nContent-Type: text/plain\n\n\n\n--A\nContent-Type: text/html\n\n<p>Only here.</p>\n--A--\n"
    )
    assert msg.text == "Only here."


def test_a_text_file_attached_is_not_taken_for_the_body():
    msg = parse(
        f"{HEAD}Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        "--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename=log.txt\n\nERROR 42\n"
        "--B\nContent-Type: text/plain\n\nThe log is attached.\n--B--\n"
    )
    assert msg.text == "The log is attached."
    assert [a.filename for a in msg.attachments] == ["log.txt"]


def test_a_latin1_signature_in_a_utf8_body_is_read_as_latin1():
    raw = HEAD.encode() + (
        "Subject: x\nContent-Type: text/plain; charset=utf-8\n\nGrüße aus Köln\n-- \n".encode("utf-8")
        + "Geschäftsführer: Jürgen Weiß\n".encode("iso-8859-1")
    )
    msg = parse(raw)
    assert msg.text == "Grüße aus Köln\n-- \nGeschäftsführer: Jürgen Weiß\n"
    assert "bytes invalid in utf-8" in msg.defects


def test_a_character_cut_off_in_utf8_text_stays_a_replacement_character():
    raw = HEAD.encode() + b"Subject: x\nContent-Type: text/plain; charset=utf-8\n\n"
    raw += "Здравствуйте".encode() + b"\xd0\n"
    assert parse(raw).text == "Здравствуйте\ufffd\n"


def test_body_charsets_are_decoded_and_line_endings_made_lf():
    raw = HEAD.encode() + b"Subject: x\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n"
    raw += b"\xf4\xc5\xd3\xd4\r\nline 2\r\n"
    assert parse(raw).text == "Тест\nline 2\n"


# -- calendar parts ------------------------------------------------------------------------------

ICS = "BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nUID:1@x\nEND:VEVENT\nEND:VCALENDAR\n"


def test_an_inline_calendar_part_is_kept_with_its_method():
    msg = parse(
        f"{HEAD}Subject: Accepted: Kick-off\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=A\n\n"
        "--A\nContent-Type: text/plain\n\nBob has accepted.\n"
        "--A\nContent-Type: text/calendar; charset=utf-8; method=reply\n\n" + ICS.format(method="REPLY") + "--A--\n"
    )
    [calendar] = msg.calendars
    assert calendar.method == "REPLY"
    assert "BEGIN:VEVENT" in calendar.text
    assert msg.text == "Bob has accepted."
    assert msg.attachments == ()  # an inline invitation is no file for the reader


def test_a_calendar_without_a_method_parameter_takes_the_method_from_its_text():
    msg = parse(
        f"{HEAD}Subject: Invitation\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        "--B\nContent-Type: text/plain\n\nSee the invitation.\n"
        "--B\nContent-Type: application/ics; name=invite.ics\nContent-Disposition: attachment; filename=invite.ics\n"
        "Content-Transfer-Encoding: base64\n\n"
        "QkVHSU46VkNBTEVOREFSCk1FVEhPRDpDQU5DRUwKRU5EOlZDQUxFTkRBUgo=\n--B--\n"
    )
    assert [c.method for c in msg.calendars] == ["CANCEL"]
    assert [a.filename for a in msg.attachments] == ["invite.ics"]


# -- ids, dates, envelope sender -----------------------------------------------------------------


def test_message_ids_are_extracted_without_angle_brackets():
    msg = parse(
        f"{HEAD}Subject: Re: x\nMessage-ID: <reply.1@globex.example>\n"
        "In-Reply-To: <q1@northwind.example> (Bob's message of Monday)\n"
        "References: <root@northwind.example>\n <q1@northwind.example>\n\t<root@northwind.example>\n\nbody\n"
    )
    assert msg.message_id == "reply.1@globex.example"
    assert msg.in_reply_to == ("q1@northwind.example",)
    assert msg.references == ("root@northwind.example", "q1@northwind.example")


def test_ids_without_brackets_are_still_found():
    msg = parse(
        f"{HEAD}Subject: x\nMessage-ID: bare-id.42@globex.example\nIn-Reply-To: q1@northwind.example\n\nbody\n"
    )
    assert msg.message_id == "bare-id.42@globex.example"
    assert msg.in_reply_to == ("q1@northwind.example",)


@pytest.mark.parametrize("header", ["", "Message-ID:\n", "Message-ID:    \n", "Message-ID: <>\n"])
def test_a_missing_or_blank_message_id_is_none(header):
    msg = parse(f"{HEAD}Subject: x\n{header}\nbody\n")
    assert msg.message_id is None
    assert msg.in_reply_to == () and msg.references == ()


@pytest.mark.parametrize(
    "header, expected",
    [
        ("Thu, 19 Nov 2026 21:02:55 +0100", datetime(2026, 11, 19, 20, 2, 55, tzinfo=timezone.utc)),
        ("19 Nov 2026 21:02 -0500", datetime(2026, 11, 20, 2, 2, tzinfo=timezone.utc)),
        ("Thu, 19 Nov 2026 21:02:55 GMT", datetime(2026, 11, 19, 21, 2, 55, tzinfo=timezone.utc)),
    ],
)
def test_dates_are_parsed_aware(header, expected):
    date = parse(f"{HEAD}Subject: x\nDate: {header}\n\nbody\n").date
    assert date == expected and date.utcoffset() is not None


@pytest.mark.parametrize("header", ["Thu, 19 Nov 2026 21:02:55", "Thu, 19 Nov 2026 21:02:55 -0000"])
def test_a_date_without_a_time_zone_is_taken_as_utc_and_noted(header):
    msg = parse(f"{HEAD}Subject: x\nDate: {header}\n\nbody\n")
    assert msg.date == datetime(2026, 11, 19, 21, 2, 55, tzinfo=timezone.utc)
    assert msg.date.utcoffset() == timedelta(0)
    assert "Date without time zone: assumed UTC" in msg.defects


@pytest.mark.parametrize("header", ["Date: next Tuesday\n", "Date:\n", ""])
def test_an_unreadable_or_missing_date_is_none(header):
    assert parse(f"{HEAD}Subject: x\n{header}\nbody\n").date is None


def test_the_null_return_path_is_the_empty_string_and_a_missing_one_is_none():
    assert parse(f"Return-Path: <>\n{HEAD}Subject: x\n\nbody\n").return_path == ""
    assert parse(f"Return-Path: < >\n{HEAD}Subject: x\n\nbody\n").return_path == ""
    assert parse(f"{HEAD}Subject: x\n\nbody\n").return_path is None
    assert parse(f"Return-Path: <Bounces@Mail.Globex.Example>\n{HEAD}Subject: x\n\nbody\n").return_path == (
        "Bounces@mail.globex.example"
    )


def test_a_leading_mbox_from_line_is_dropped():
    msg = parse(f"From bob@globex.example Thu Nov 19 21:02:55 2026\n{HEAD}Subject: x\n\nbody\n")
    assert msg.from_ == Address("Bob Martinez", "bob@globex.example")
    assert msg.header("subject") == "x"


# -- never raises --------------------------------------------------------------------------------

SEED_MESSAGES = [
    with_attachment("attachment; filename*0*=utf-8''%E6%97%A5; filename*1=.pdf"),
    (
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example\nSubject: =?utf-8?b?VW5kZWxpdmVyYWJsZQ==?=\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
        "failed\n--R\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\n"
        "--R\nContent-Type: message/rfc822\n\nFrom: x@y.example\n"
        "Subject: =?iso-2022-jp?B?GyRCRnxLXBsoQg==?=\n\nhi\n--R--\n"
    ).encode(),
    (
        f"{HEAD}Subject: x\nContent-Type: multipart/alternative; boundary=A\n\n--A\nContent-Type: text/html; "
        "charset=iso-2022-jp\n\n<p>\x1b$BF|K\\\x1b(B</p>\n--A\nContent-Type: text/calendar; method=REQUEST\n\n"
        "BEGIN:VCALENDAR\nEND:VCALENDAR\n--A--\n"
    ).encode(),
]


def assert_parsed_without_the_safety_net(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)
    assert isinstance(msg.text, str) and isinstance(msg.subject, str)
    # parse_message catches anything as a last resort and returns an empty message: that must
    # not be what happened, or a whole customer message would have been lost.
    assert not [d for d in msg.defects if d.startswith("parse failed")], raw[:300]


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\r\n\r\n", b"\x00\xff" * 1000, b"=?" * 5000, b":\n" * 3000])
def test_garbage_parses_to_a_message(raw):
    assert_parsed_without_the_safety_net(raw)


def test_random_bytes_never_need_the_safety_net():
    rng = random.Random(20261118)
    for _ in range(300):
        assert_parsed_without_the_safety_net(rng.randbytes(rng.randrange(0, 800)))


def test_damaged_messages_never_need_the_safety_net():
    rng = random.Random(5322)
    splices = [b"=?utf-8?b?", b"?=", b"\n\n", b"--", b"; boundary*=B", b"; filename*=x", b"; charset*=utf-8''x",
               b"\x00", b"\xff\xfe", b"Content-Type: message/rfc822\n", b"\x1b$B", b";", b'"']
    for _ in range(600):
        data = bytearray(rng.choice(SEED_MESSAGES))
        for _ in range(rng.randrange(1, 12)):
            at = rng.randrange(len(data) + 1)
            choice = rng.randrange(3)
            if choice == 0:
                del data[at : at + rng.randrange(1, 40)]
            elif choice == 1:
                data[at:at] = rng.choice(splices)
            else:
                data[at:at] = rng.randbytes(rng.randrange(1, 6))
        assert_parsed_without_the_safety_net(bytes(data))


# -- real-world messages with a knowable answer --------------------------------------------------


def corpus_message(corpus_dir, name: str) -> ParsedMessage:
    return parse_message((corpus_dir / "mail" / name).read_bytes())


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, subject",
    [
        # Thunderbird, ISO-2022-JP encoded-words folded over two lines.
        ("plain/mimekit__japanese.eml", "日本語メールテスト (testing Japanese emails)"),
        # "=?gb18030?B?suLK1A===?=": GB18030 with one "=" too many.
        ("plain/rt__new-ticket-from-gb18030.eml", "测试"),
        # A circled digit: ISO-2022-JP with Microsoft's extensions (CP50220).
        ("plain/redmine__subject_japanese_3.eml", "① 丸数字テスト"),
        ("plain/php-imap__ks_c_5601-1987_headers.eml", "RE: 회원님께 Ersi님이 메시지를 보냈습니다."),
        ("plain/mail-mime-parser__m0006.eml", "Die Hasen und die Frösche (Microsoft Outlook 00)"),  # UTF-7
        ("plain/php-mime-mail-parser__issue149.eml", "מענה 'אני לא נמצא': Invoice 02722027"),  # iso-8859-8-i
        ("plain/tine20__facebook_notification.eml", "Bojan Rafle gefällt Tine 2.0"),
        ("plain/mikel-mail__utf8_headers.eml", "Säying Hello"),  # raw UTF-8 (RFC 6532)
    ],
)
def test_real_subjects_in_many_charsets_decode_to_the_expected_text(corpus_dir, name, subject):
    assert corpus_message(corpus_dir, name).subject == subject


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, filename",
    [
        # filename*0*=ISO-2022-JP'ja'...; filename*1*=...; filename*2*=... (RFC 2231 sections).
        ("attachments/rt__rfc2231-attachment-filename-continuations.eml", "新しいテキスト ドキュメント.txt"),
        ("attachments/mikel-mail__japanese_attachment_long_name.eml", "かきくけこ" * 5 + ".txt"),
        ("attachments/redmine__gmail_with_attachment_ja.eml", "テスト.txt"),
        ("attachments/php-imap__issue-348.eml", "Kelvinsong—Font_test_page_bold.pdf"),
        ("malformed/enmime__mime-bad-8bit-filename.eml", "管理.doc"),  # raw 8-bit name
        ("malformed/php-mime-mail-parser__m0027.eml", "1234.txt"),  # name="1234/../../1234.txt"
    ],
)
def test_real_attachment_names_decode_and_are_sanitised(corpus_dir, name, filename):
    assert [a.filename for a in corpus_message(corpus_dir, name).attachments] == [filename]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, methods",
    [
        ("calendar/calmailproc__test-05-2.eml", ["REPLY"]),  # Exchange "Akzeptiert:"
        ("calendar/ccs-calendarserver__good_reply.eml", ["REPLY"]),  # Apple iCal, .ics attached
        ("calendar/calmailproc__test-01-2.eml", ["CANCEL"]),
        ("calendar/tine20__mac_invitation.eml", ["REQUEST"]),  # no method= parameter: METHOD line
        ("calendar/tine20__zoom_invite.eml", [None]),  # no method anywhere
    ],
)
def test_real_calendar_messages_keep_their_calendar_part_and_method(corpus_dir, name, methods):
    calendars = corpus_message(corpus_dir, name).calendars
    assert [c.method for c in calendars] == methods
    assert all("BEGIN:VCALENDAR" in c.text for c in calendars)


@pytest.mark.corpus
def test_real_latin1_text_inside_a_utf8_part_is_read(corpus_dir):
    # Windows Mail wrote Swedish as quoted-printable Latin-1 into a part labelled UTF-8.
    text = corpus_message(corpus_dir, "plain/php-mime-mail-parser__m0023.eml").text
    assert "Det här är ett flerdelat meddelande i MIME-format." in text


@pytest.mark.corpus
def test_real_html_only_mail_gets_readable_text(corpus_dir):
    msg = corpus_message(corpus_dir, "plain/redmine__outlook_2010_html_only.eml")
    assert msg.html is not None
    assert "<" not in msg.text and msg.text.strip()


def test_a_date_past_the_end_of_time_in_utc_is_dropped_not_raised():
    # 31 Dec 9999 at 23:59 in California is in the year 10000 in UTC: no datetime holds it.
    msg = parse_message(b"From: a@b.example\r\nDate: Fri, 31 Dec 9999 23:59:59 -0800\r\nSubject: x\r\n\r\nhi\r\n")
    assert msg.date is None and "Date out of range" in msg.defects


def test_nul_characters_are_dropped_from_every_header_and_the_text():
    raw = (b"From: a\x00b@b.example\r\nTo: support@northwind.example, x\x00@y.example\r\nCc: z@q\x00.example\r\n"
           b"In-Reply-To: <a\x00b@c>\r\nReferences: <r\x00s@t>\r\nSubject: n\x00ul\r\nMessage-ID: <p3\x00@b.example>\r\n"
           b"\r\nhel\x00lo\r\n")
    msg = parse_message(raw)
    values = [msg.from_.email, *(a.email for a in msg.to + msg.cc), *msg.in_reply_to, *msg.references, msg.subject,
              msg.message_id, msg.text, *(v for _, v in msg.headers)]
    assert not [v for v in values if "\x00" in v]
    assert (msg.from_.email, msg.message_id, msg.text) == ("ab@b.example", "p3@b.example", "hello\n")
    assert "NUL characters dropped" in msg.defects


def test_a_long_in_reply_to_written_as_an_encoded_word_still_names_its_parent():
    # What Python's email package writes for an id longer than a line, and some mailers send.
    raw = (b"From: a@b.example\r\nTo: support@northwind.example\r\nSubject: Re: x\r\n"
           b"In-Reply-To: =?utf-8?q?=3Cwg=2Etask-reminder=2E2=2E20261210=2Epriya-northwin?=\r\n"
           b" =?utf-8?q?d-example=2Ehtcidn53=40northwind=2Eexample=3E?=\r\n"
           b"References: =?utf-8?q?=3Cwg=2Eack=2E1=2Eabcdefgh=40northwind=2Eexample=3E?=\r\n\r\nDone.\r\n")
    parsed = parse_message(raw)
    assert parsed.in_reply_to == ("wg.task-reminder.2.20261210.priya-northwind-example.htcidn53@northwind.example",)
    assert parsed.references == ("wg.ack.1.abcdefgh@northwind.example",)
