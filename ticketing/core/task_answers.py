"""Whether a customer's answer to a task reminder says the task is done (pure).

Only the first words of the new text count (what is above the quoted reminder): "done", "Done.",
"it's done", "all done", "completed", "finished", "yes, done - thanks". A negation or a doubt
before the word ("not done yet", "almost done", "is it done?"), a question, or a promise after it
("done by Friday", "finished next week") is not done: that answer goes to the engineer as any
other reply does.
"""
from __future__ import annotations

import re

_LEAD = r"(?:(?:yes|yep|ok|okay|hi|hello|all|now|it|this|that|we|we've|we have|i|i've|i have|have|has|been|is|are|" \
        r"it's|its|that's|this's|we're|all's|the task is|task)[\s,!.:;-]+)*"
_WORD = r"(?:done|completed|complete|finished|fixed|sorted)"
_DONE = re.compile(rf"^{_LEAD}{_WORD}(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
#: After the word, these make it a promise or a question, not a report.
_LATER = re.compile(r"^[\s,]*(?:by|until|soon|tomorrow|next|when|once|after|in\s+\d|later|shortly|\?)",
                    re.IGNORECASE)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def says_done(text: str) -> bool:
    """Whether the first line of ``text`` (the new text of a reply) reports the task done."""
    first = next((line.strip() for line in text.translate(_QUOTES).splitlines() if line.strip()), "")
    match = _DONE.match(first[:200])
    if match is None:
        return False
    rest = match["rest"]
    if rest[:1].isalnum():  # "doneness", "completely"
        return False
    return not _LATER.match(rest) and "?" not in first
