"""The quick writer of common messages gives the bytes the email package gives (mailer.text_mime)."""
import importlib
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from mailer.message import Address

compose_module = importlib.import_module("mailer.compose")

NAMES = ["Jane Doe", "", "O'Brien-Smith", "Bob  Martínez", "Dr. Who"]
SUBJECTS = ["Re: [#12] Question about SSO", "long " * 20, "Ünïcode", "=?utf-8?q?x?="]
TEXTS = ["Hello\nthere\n", "é" * 50 + "\n", "x" * 200, "From me\n.\n", "a\r\nb\rc", "\u2028weird\x0cform", "",
         "日本語テキスト\n" * 20, "\ud800 lone surrogate"]
HTMLS = [None, "<p>hi</p>", "<p>é</p>\n" * 30]


def _by_email_package(monkeypatch, **kw) -> bytes:
    with monkeypatch.context() as m:
        m.setattr(compose_module, "_text_message", lambda *a, **k: None)
        return compose_module.compose(**kw)


@pytest.mark.parametrize("name,subject", list(itertools.product(NAMES, SUBJECTS)))
def test_quick_path_writes_the_bytes_the_email_package_writes(monkeypatch, name, subject):
    quick = 0
    for n, (text, html) in enumerate(itertools.product(TEXTS, HTMLS)):
        kw = dict(sender=Address("Northwind Onboarding Support", "support@northwind.example"),
                  to=[Address(name, "jane@acme.example"), Address("", "IT@Acme.Example")][: 1 + n % 2],
                  cc=[Address(name, "cc@acme.example")] if n % 3 == 0 else [],
                  reply_to=Address(name, "r@northwind.example") if n % 4 == 0 else None, subject=subject,
                  text=text, html=html, message_id=f"<wg.ack.{n}@northwind.example>",
                  date=datetime(2026, 11, 18, 9, 5, tzinfo=timezone(timedelta(hours=-8 * (n % 2)))),
                  in_reply_to="<a@b.example>" if n % 2 else None,
                  references=[f"<id{k}@customer.example>" for k in range(n * 3)], auto_submitted="auto-replied")
        assert compose_module.compose(**kw) == _by_email_package(monkeypatch, **kw)
        quick += compose_module._text_message(*(kw[k] for k in (
            "sender", "to", "cc", "reply_to", "subject", "text", "html", "message_id", "date", "in_reply_to",
            "references", "auto_submitted"))) is not None
    plain = name in ("Jane Doe", "", "O'Brien-Smith") and subject.startswith("Re:")
    assert (quick > 0) == plain  # the quick path is taken exactly where nothing needs encoding
