"""Finding the new text of a reply: what the writer typed above the quoted message (pure).

Mail clients quote in a few recognisable ways: a "reply above this line" marker the sender put
in (ours), an attribution line ("On Tue, 17 Nov 2026, Jane wrote:"), Outlook's
"-----Original Message-----" or its "From: … Sent: …" block, and ``>``-prefixed lines. The first
of these that starts a line ends the new text.
"""
from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^(?:>?\s*)(?:on\b.{0,200}\bwrote|am\b.{0,200}\bschrieb|le\b.{0,200}\ba écrit|el\b.{0,200}\bescribió"
    r"|op\b.{0,200}\bschreef|il\b.{0,200}\bha scritto|em\b.{0,200}\bescreveu)\s*:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# "On Tue, 17 Nov 2026 at 10:22, Jane Doe <jane@acme.example>" may wrap before "wrote:".
_WRAPPED_ATTRIBUTION = re.compile(r"^on\b[^\n]{0,200}\n[^\n]{0,200}\bwrote\s*:\s*$", re.IGNORECASE | re.MULTILINE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|forwarded message)\s*-{2,}\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_OUTLOOK_BLOCK = re.compile(r"^\s*\*?(?:from|von|de)\s*:\*?\s.+\n\s*\*?(?:sent|gesendet|envoyé|date)\s*:", re.IGNORECASE | re.MULTILINE)
_QUOTED_TAIL = re.compile(r"(?:^>.*(?:\n|$))+\s*\Z", re.MULTILINE)
# Outlook draws a line of underscores above its "From: ... Sent: ..." block; others use dashes.
_RULE_TAIL = re.compile(r"(?:^[ \t]*[_\-=\u2014\u2500]{8,}[ \t]*(?:\n|$)\s*)+\Z", re.MULTILINE)


def new_text(text: str, marker: str | None = None) -> str:
    """Return the part of ``text`` above the quoted message, stripped; all of it when nothing is quoted."""
    cut = len(text)
    if marker:
        index = text.find(marker)
        if index >= 0:
            cut = text.rfind("\n", 0, index) + 1 if "\n" in text[:index] else 0
    low = text[:cut].lower()
    # Each pattern runs only when a word it needs is there: most mail quotes nothing, and these
    # regular expressions would otherwise try every line of every message.
    for pattern, needles in _CUTS:
        if any(n in low for n in needles):
            match = pattern.search(text, 0, cut)
            if match:
                cut = min(cut, match.start())
    head = text[:cut]
    for tail_pattern, needles in ((_QUOTED_TAIL, (">",)), (_RULE_TAIL, _RULES)):
        if any(n in head for n in needles):
            tail = tail_pattern.search(head)
            if tail:
                head = head[: tail.start()]
    return head.strip()


_ATTRIBUTION_WORDS = ("wrote", "schrieb", "écrit", "escribió", "schreef", "scritto", "escreveu")
_CUTS = (
    (_WRAPPED_ATTRIBUTION, ("wrote",)),
    (_ATTRIBUTION, _ATTRIBUTION_WORDS),
    (_ORIGINAL, ("--",)),
    (_OUTLOOK_BLOCK, ("from", "von", "de")),
)
_RULES = ("________", "--------", "========", "\u2014" * 8, "\u2500" * 8)
