"""The parser names the message a bounce returns, in every form bounces carry it."""
from support.bounces import delivery_report, free_text_bounce

from mailer import parse_message


def test_the_returned_headers_part_names_the_returned_message():
    assert parse_message(delivery_report("bob@globex.example", "wg.ack.1@northwind.example")).returned_message_ids == (
        "wg.ack.1@northwind.example",)


def test_an_enclosed_message_names_itself():
    raw = delivery_report("bob@globex.example", "wg.ack.1@northwind.example", enclosed=True)
    assert parse_message(raw).returned_message_ids == ("wg.ack.1@northwind.example",)


def test_a_free_text_bounce_names_the_message_it_quotes_but_never_itself():
    parsed = parse_message(free_text_bounce("bob@globex.example", "wg.ack.1@northwind.example"))
    assert parsed.returned_message_ids == ("wg.ack.1@northwind.example",)
    assert parse_message(free_text_bounce("bob@globex.example", None)).returned_message_ids == ()


def test_a_folded_quoted_message_id_is_read():
    raw = (b"From: MAILER-DAEMON@mx\r\nSubject: failure notice\r\nMessage-ID: <own@mx>\r\n\r\n"
           b"Sorry.\r\n--- Below this line is a copy of the message.\r\n\r\nMessage-ID:\r\n <wg.ack.2@northwind.example>\r\n")
    assert parse_message(raw).returned_message_ids == ("wg.ack.2@northwind.example",)


def test_an_ordinary_message_returns_nothing():
    raw = b"From: bob@globex.example\r\nSubject: hi\r\nMessage-ID: <q1@globex.example>\r\n\r\nHello.\r\n"
    assert parse_message(raw).returned_message_ids == ()
