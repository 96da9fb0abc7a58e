"""The weekly SLA summary's HTML as a real browser (headless Chromium) renders it."""
from __future__ import annotations

import pytest
from support.browser import chromium
from support.week import HTML_FIGURES

from mailer.html import html_to_text


@pytest.fixture(scope="module")
def rendered(week_mail, tmp_path_factory):
    """The HTML part rendered once by headless Chromium: a PNG to look at, and the DOM it built."""
    browser = chromium()
    folder = tmp_path_factory.mktemp("weekly")
    page = folder / "weekly-summary.html"
    page.write_text(week_mail[1], encoding="utf-8")
    png = browser.screenshot(page, folder / "weekly-summary.png", width=900, height=2000)
    print(f"\nthe weekly summary as Chromium renders it: {png}")
    return png, browser.dump_dom(page)


def test_chromium_renders_every_figure(rendered):
    png, dom = rendered
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html_to_text(dom)
    for figure in HTML_FIGURES:
        assert figure in text, figure
    assert "<script" not in dom.lower()
