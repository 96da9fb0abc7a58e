"""Making a file name from a message safe to show and to store (pure).

A name comes from a sender: an attachment's, an uuencoded file's, or one whiteglove passes on in
a message it composes. :func:`sanitise_filename` keeps what a reader recognises and drops what
could climb out of a folder, hide the real extension or break a file system.
"""
from __future__ import annotations

import re
import unicodedata

_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_DOTS = re.compile(r"\.{2,}")
# Bidirectional overrides let "evil\u202excod.exe" display as "evilexe.docx".
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
MAX_FILENAME = 200


def sanitise_filename(name: str) -> str:
    """Return ``name`` made safe to show and to store as a file name.

    Keeps the last path component (``/`` or ``\\``), removes control and bidi-override
    characters, the reserved characters ``<>:"|?*``, runs of dots and leading dots, and trims
    to 200 characters keeping the extension. Returns ``"attachment"`` when nothing is left.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name.translate(_BIDI) if unicodedata.category(c) != "Cc")
    name = _DOTS.sub(".", _RESERVED.sub("", name))
    name = name.strip().lstrip(".").strip().rstrip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "attachment"
