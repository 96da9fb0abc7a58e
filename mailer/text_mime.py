"""Writing the common outgoing message quickly: ASCII headers over a text body, or text and HTML.

:func:`mailer.compose.compose` builds most of what whiteglove sends (acknowledgements,
notifications, updates) with this module instead of :class:`email.message.EmailMessage`, whose
header registry parses back every header it is given and costs most of the time of sending. The
bytes are those the ``email`` package writes for the same message under
:data:`mailer.compose.POLICY` (a test compares them): the body encoding is the package's own choice
(``email.contentmanager``: 7bit, quoted-printable or base64), lines end in CR LF. Anything else
(non-ASCII or long headers, attachments, calendars) goes the ``email`` package's way. Pure: no I/O.
"""
from __future__ import annotations

from email import contentmanager
from typing import Sequence

#: Longest header line written here (RFC 5322 2.1.1 recommends 78); longer ones need folding.
MAX_LINE = 78


def header_lines_fit(lines: Sequence[str]) -> bool:
    """Whether every header line is printable ASCII and short enough to need no folding or encoding."""
    return all(len(line) <= MAX_LINE and line.isascii() and line.isprintable() for line in lines)


def text_message(headers: Sequence[str], text: str, html: str | None, boundary: str, policy) -> bytes:
    """Return the message of ``headers`` (ready lines, no line ends) over ``text`` (and ``html`` as its
    multipart/alternative sibling, separated by ``boundary``), as the ``email`` package writes it."""
    out = list(headers)
    if html is None:
        part_headers, body = _part(text, "plain", policy)
        return _join([*out, *part_headers, "MIME-Version: 1.0"], body)
    out += ["MIME-Version: 1.0", "Content-Type: multipart/alternative;", f' boundary="{boundary}"']
    parts = [_join(*_part(content, subtype, policy)).decode("ascii")
             for content, subtype in ((text, "plain"), (html, "html"))]
    return _join(out, "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n")


def _part(content: str, subtype: str, policy) -> tuple[list[str], str]:
    """A text part's headers and its encoded body with CR LF line ends."""
    cte, payload = contentmanager._encode_text(content, "utf-8", None, policy)
    headers = [f'Content-Type: text/{subtype}; charset="utf-8"', f"Content-Transfer-Encoding: {cte}"]
    return headers, payload.replace("\r\n", "\n").replace("\n", "\r\n")


def _join(headers: list[str], body: str) -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")
