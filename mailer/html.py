"""Rendering an HTML mail body as plain text (pure: no I/O).

Good enough to read and to quote in a ticket, not a layout engine: block elements start and end
lines, scripts and styles disappear, entities are unescaped, whitespace collapses as a browser
would collapse it (except inside ``<pre>``), and runs of blank lines shrink to one.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

# Elements whose content is never shown to a reader. Not <head> itself: broken mail opens it and
# never closes it, and what else it holds (<meta>, <link>) has no text anyway.
_HIDDEN = frozenset({"script", "style", "title", "template"})
# Block elements: their start and their end each begin a new line, unless one just began, as
# in a browser: "<div>Hi,<div>the login fails</div></div>" is two lines, and so are two
# <div>s in a row (Gmail writes a line each way), not three.
_BLOCKS = frozenset(
    {"p", "div", "tr", "li", "table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "section",
     "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "address", "form", "hr"}
)
# A paragraph or heading also leaves a blank line either side, as a browser's margin would.
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})
_CELLS = frozenset({"td", "th"})
# Inside <pre>, spaces and tabs stand in as these private-use characters while the text is
# tidied (which would collapse them), and are put back at the end; the same characters in the
# document itself (they mean nothing) are dropped first.
_KEEP = str.maketrans(" \t", "\ue000\ue001")
_RESTORE = str.maketrans("\ue000\ue001", " \t")
_DROP = dict.fromkeys(map(ord, "\ue000\ue001"))

_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_RUNS = re.compile(r"[ \t]{2,}")
_TRAILING = re.compile(r"[ \t]+\n")
_LEADING = re.compile(r"\n[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")


class _TextCollector(HTMLParser):
    """Collects the visible text of a document as a list of pieces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0  # depth inside _HIDDEN elements
        self._pre = 0  # depth inside <pre>, where line breaks are kept
        self._newlines = 2  # line breaks the text ends with, spaces aside (none needed at the start)

    def _append(self, text: str) -> None:
        self.pieces.append(text)
        body = text.rstrip(" \t")
        if not body:
            return
        if body[-1] != "\n":
            self._newlines = 0
        else:
            run = len(body) - len(body.rstrip("\n"))
            self._newlines = self._newlines + run if run == len(body) else run

    def _break(self, lines: int) -> None:
        """End the line (``lines=2``: and leave a blank line), unless the text already does."""
        if self._newlines < lines:
            self._append("\n" * (lines - self._newlines))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._append("\n")
        elif tag in _BLOCKS:
            self._break(2 if tag in _PARAGRAPH else 1)
        elif tag in _CELLS:
            self._append(" ")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._break(2 if tag in _PARAGRAPH else 1)
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and friends: a start without an end, whatever the slash says.
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            self._append(data.replace("\r\n", "\n").replace("\u00a0", " ").translate(_KEEP))
        else:
            self._append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """Return the readable text of the HTML document ``html``.

    Drops ``<script>``, ``<style>`` and ``<title>`` content; turns ``<br>`` and the starts and
    ends of ``<p>``, ``<div>``, ``<li>``, ``<tr>`` and similar blocks into line breaks; unescapes
    entities; collapses whitespace (keeping it inside ``<pre>``) and blank lines. Never raises.
    """
    if "\ue000" in html or "\ue001" in html:
        html = html.translate(_DROP)
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
        text = "".join(collector.pieces)
    except AssertionError:
        # html.parser still asserts on a few malformed declarations (<![if ...]> variants);
        # fall back to cutting the tags out.
        text = _SPACES.sub(" ", unescape(_TAG.sub(" ", html)))
    # Spaces either side of a tag collapse too, as a browser collapses them.
    text = _RUNS.sub(" ", text)
    text = _TRAILING.sub("\n", text)
    text = _LEADING.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip().translate(_RESTORE).rstrip()
