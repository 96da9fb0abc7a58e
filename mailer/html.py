"""Rendering an HTML mail body as plain text (pure: no I/O).

Good enough to read and to quote in a ticket, not a layout engine: block elements become line
breaks, scripts and styles disappear, entities are unescaped, whitespace collapses as a browser
would collapse it, and runs of blank lines shrink to one.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

# Elements whose content is never shown to a reader. Not <head> itself: broken mail opens it and
# never closes it, and what else it holds (<meta>, <link>) has no text anyway.
_HIDDEN = frozenset({"script", "style", "title", "template"})
# Elements that start on a new line, and those that also end one.
_BREAK_BEFORE = frozenset({"br", "li", "tr", "hr", "dt", "dd"})
_BREAK_AFTER = frozenset(
    {"p", "div", "tr", "li", "table", "ul", "ol", "dl", "blockquote", "pre", "section",
     "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "address", "form"}
)
# A paragraph or heading also leaves a blank line behind it, as a browser's margin would.
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})
_CELLS = frozenset({"td", "th"})

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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BREAK_BEFORE:
            self.pieces.append("\n")
        elif tag in _CELLS:
            self.pieces.append(" ")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BREAK_AFTER:
            self.pieces.append("\n\n" if tag in _PARAGRAPH else "\n")
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
            self.pieces.append(data.replace("\r\n", "\n").replace("\u00a0", " "))
        else:
            self.pieces.append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """Return the readable text of the HTML document ``html``.

    Drops ``<script>``, ``<style>`` and ``<title>`` content; turns ``<br>``, ``<li>``
    and the ends of ``<p>``, ``<div>``, ``<tr>`` and similar blocks into line breaks; unescapes
    entities; collapses whitespace and blank lines. Never raises.
    """
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
    return text.strip()
