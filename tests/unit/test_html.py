"""Turning HTML mail bodies into readable text."""
import random

import pytest

from mailer.html import html_to_text
from mailer.message import parse_message


def test_paragraphs_are_separated_by_a_blank_line_and_br_breaks_a_line():
    assert html_to_text("<p>Hello Anna,</p><p>the login loops.<br>Since Monday.</p>") == (
        "Hello Anna,\n\nthe login loops.\nSince Monday."
    )


def test_each_nested_div_starts_a_line_as_gmail_writes_them():
    html = '<div dir="ltr">Hi team,<div>the SSO login loops.</div><div><br></div><div>Bob</div></div>'
    assert html_to_text(html) == "Hi team,\nthe SSO login loops.\n\nBob"


def test_a_reply_header_and_the_quoted_text_stay_on_separate_lines():
    html = "Am 26.06.2013 schrieb Anna:<div>Moin!</div><blockquote>Is the date fixed?</blockquote>Yes."
    assert html_to_text(html) == "Am 26.06.2013 schrieb Anna:\nMoin!\n\nIs the date fixed?\n\nYes."


def test_consecutive_blocks_do_not_leave_blank_lines_between_them():
    assert html_to_text("<div>one</div>\n  <div>two</div><div>three</div>") == "one\ntwo\nthree"


def test_an_unclosed_paragraph_still_starts_a_new_one():
    # Older clients (Netscape, Eudora) use <p> as a separator and never close it.
    text = html_to_text('"Let us die," said one.\n<p>They ran to the pond.')
    assert text == '"Let us die," said one.\n\nThey ran to the pond.'


def test_list_items_and_table_rows_are_one_line_each():
    assert html_to_text("<ul><li>Export users</li><li>Switch DNS</li></ul>") == "Export users\nSwitch DNS"
    table = "<table><tr><th>Step</th><th>Date</th></tr><tr><td>Cut-over</td><td>3 March</td></tr></table>"
    assert html_to_text(table) == "Step Date\nCut-over 3 March"


def test_scripts_styles_and_the_title_are_not_text():
    html = (
        "<html><head><title>Newsletter</title><style>p {color: red}</style><meta charset=utf-8>"
        "<body><script>document.write('x')</script><p>Visible</p><template><p>later</p></template></body></html>"
    )
    assert html_to_text(html) == "Visible"


def test_entities_are_unescaped_and_whitespace_collapses():
    text = html_to_text("<p>Fish&nbsp;&amp;  chips\n\t cost &euro;&#8239;5 &lt;each&gt;</p>")
    assert text == "Fish & chips cost €\u202f5 <each>"


def test_runs_of_blank_lines_shrink_to_one():
    assert html_to_text("Thanks<br><br><br><br><br>Bob") == "Thanks\n\nBob"


def test_preformatted_text_keeps_its_line_breaks_and_indentation():
    trace = 'Traceback (most recent call last):\n  File "sso.py", line 3\n\tlogin()'
    assert html_to_text(f"<p>The log:</p><pre>{trace}</pre>Any idea?") == f"The log:\n\n{trace}\nAny idea?"


def test_outlook_conditional_comments_are_dropped():
    assert html_to_text("<!--[if mso]><p>Outlook only</p><![endif]--><p>For everyone</p>") == "For everyone"


def test_declarations_html_parser_cannot_read_still_give_the_text():
    assert html_to_text("<p><![if !supportLists]>1.<![endif]> Export users</p>") == "1. Export users"


@pytest.mark.parametrize("html", ["", "<p>", "</div></div>", "<style>never closed", "<!--", "<<<>>>", "&#xD800;"])
def test_fragments_give_text_without_raising(html):
    assert isinstance(html_to_text(html), str)


def test_random_markup_never_raises():
    rng = random.Random(1866)
    pieces = ["<p>", "</p>", "<div>", "</div>", "<pre>", "</pre>", "<br/>", "<!--", "-->", "<![if x]>", "<![endif]>",
              "&amp;", "&#", "<script>", "</script>", "<td>", " ", "\n", "\t", "text", "\u00a0", "<", ">", '"',
              "\ue000"]
    for _ in range(500):
        html = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40)))
        text = html_to_text(html)
        assert isinstance(text, str) and text == text.rstrip() and not text.startswith("\n")


# -- real-world HTML -------------------------------------------------------------------------------


def corpus_html(corpus_dir, name: str) -> str:
    return html_to_text(parse_message((corpus_dir / "mail" / name).read_bytes()).html)


@pytest.mark.corpus
def test_a_real_quoted_reply_keeps_its_attribution_line_apart(corpus_dir):
    text = corpus_html(corpus_dir, "threaded/tine20__blockquote.eml")
    assert "Am 26.06.2013 18:17:48, schrieb Unittest:\nMoin!" in text


@pytest.mark.corpus
def test_real_netscape_paragraphs_stay_paragraphs(corpus_dir):
    # Netscape Messenger 4.7 separates paragraphs with unclosed <p> tags.
    text = corpus_html(corpus_dir, "attachments/mail-mime-parser__m1005.eml")
    assert text.startswith("Die Hasen und die Frösche\n\nDie Hasen klagten einst")
    assert 'sterben."\n\nIn einem nahen Teich' in text
