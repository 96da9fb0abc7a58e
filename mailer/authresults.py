"""Reading ``Authentication-Results`` headers (RFC 8601) to check who really sent a message (pure).

Only a header added by our own receiving server can be believed: anyone can write one into a
message before sending it. :func:`sender_verified` therefore looks only at the topmost header
whose ``authserv-id`` is the one configured (a server adds its header above those already there,
and a well-run border server removes forged ones carrying its own id, RFC 8601 section 5).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"([a-z0-9_-]+\.[a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.IGNORECASE)


@dataclass(frozen=True)
class MethodResult:
    """One ``method=result`` of a header, with its properties (``header.d``, ``smtp.mailfrom`` ...)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[MethodResult, ...]


def parse_auth_results(value: str) -> AuthResults | None:
    """Parse one header value; None when it has no authserv-id."""
    text = _COMMENT.sub(" ", value).strip()
    parts = [p.strip() for p in text.split(";")]
    if not parts or not parts[0]:
        return None
    return AuthResults(parts[0].split()[0].lower(), parse_results(";".join(parts[1:])))


def sender_verified(header_values: Iterable[str], authserv_id: str, from_domain: str) -> tuple[bool, str]:
    """Whether our server (``authserv_id``) vouched for the From domain; and why, in words.

    Passes on ``dmarc=pass`` (for the From domain, when it says ``header.from``); on ``dkim=pass`` with ``header.d`` equal to, or a parent of, the From
    domain; or on ``spf=pass`` whose ``smtp.mailfrom`` domain is the From domain (the alignment
    DMARC asks for). ``header_values`` are the message's Authentication-Results values, top first.
    """
    authserv_id = authserv_id.lower()
    for value in header_values:
        parsed = parse_auth_results(value)
        if parsed is None or parsed.authserv_id != authserv_id:
            continue
        return _judge(parsed.results, from_domain.lower(), authserv_id)
    return False, f"no Authentication-Results from {authserv_id}"


#: Exchange's own verdict on how a message entered the organization. Exchange removes every
#: ``X-MS-Exchange-Organization-*`` header from mail arriving from outside (its "header firewall"),
#: so a value here was written by Exchange, never by the sender.
EXCHANGE_AUTH_AS = "x-ms-exchange-organization-authas"
EXCHANGE_ONLINE = "Exchange Online"


def exchange_sender_verified(headers: Iterable[tuple[str, str]], from_domain: str) -> tuple[bool, str]:
    """Whether Microsoft Exchange (Online, or a server behind its transport) vouched for the sender.

    ``headers`` are the message's ``(lower-case name, value)`` pairs, top first. Mail an authenticated
    user of the organization sent says ``X-MS-Exchange-Organization-AuthAs: Internal``: it passes.
    Mail from outside says ``Anonymous`` (or ``Partner``); for it, Exchange Online's protection adds
    an ``Authentication-Results`` header without an authserv-id above any the sender wrote, and the
    topmost one is judged as :func:`sender_verified` judges our own server's. Without the AuthAs
    header the message did not come through Exchange's transport, and nothing in it is believed.
    """
    headers = list(headers)
    stamps = [v.strip() for k, v in headers if k == EXCHANGE_AUTH_AS]
    if not stamps:
        return False, "no X-MS-Exchange-Organization-AuthAs header: not delivered by Exchange"
    if len(stamps) > 1:  # Exchange writes one; more is a forgery its header firewall did not meet
        return False, "more than one X-MS-Exchange-Organization-AuthAs header"
    auth_as = stamps[0]
    if auth_as.lower() == "internal":
        return True, "sent by an authenticated user of the Exchange organization"
    top = next((v for k, v in headers if k == "authentication-results"), None)
    if top is None:
        return False, f"from outside the organization ({auth_as}) without Exchange's Authentication-Results"
    results = parse_results(top)
    return _judge(results, from_domain.lower(), EXCHANGE_ONLINE)


def parse_results(value: str) -> tuple[MethodResult, ...]:
    """The ``method=result`` parts of a header value, whether or not it starts with an authserv-id
    (Exchange Online's does not: ``spf=pass (sender IP is ...) smtp.mailfrom=...; dkim=...``)."""
    text = _COMMENT.sub(" ", value).strip()
    results = []
    for part in (p.strip() for p in text.split(";")):
        match = _RESULT.match(part)
        if not match:
            continue
        properties = {k.lower(): v.strip('"') for k, v in _PROPERTY.findall(match.group(3))}
        results.append(MethodResult(match.group(1).lower(), match.group(2).lower(), properties))
    return tuple(results)


def _judge(results: Iterable[MethodResult], from_domain: str, who: str) -> tuple[bool, str]:
    for result in results:
        if result.result != "pass":
            continue
        if result.method == "dmarc":
            # The server judged the From domain it read; a second From header may have been it.
            judged = result.properties.get("header.from", from_domain).rpartition("@")[2].lower()
            if judged == from_domain:
                return True, f"dmarc=pass from {who}"
            continue
        if result.method == "dkim" and _aligned(result.properties.get("header.d", ""), from_domain):
            return True, f"dkim=pass for {result.properties['header.d']} from {who}"
        if result.method == "spf":
            mailfrom = result.properties.get("smtp.mailfrom", "").rpartition("@")[2].lower()
            if mailfrom and mailfrom == from_domain:
                return True, f"spf=pass for {mailfrom} from {who}"
    return False, f"no aligned dkim, spf or dmarc pass for {from_domain} from {who}"


def _aligned(signing_domain: str, from_domain: str) -> bool:
    signing_domain = signing_domain.lower().rstrip(".")
    return bool(signing_domain) and (from_domain == signing_domain or from_domain.endswith("." + signing_domain))
