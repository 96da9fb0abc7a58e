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
    authserv_id = parts[0].split()[0].lower()
    results = []
    for part in parts[1:]:
        match = _RESULT.match(part)
        if not match:
            continue
        properties = {k.lower(): v.strip('"') for k, v in _PROPERTY.findall(match.group(3))}
        results.append(MethodResult(match.group(1).lower(), match.group(2).lower(), properties))
    return AuthResults(authserv_id, tuple(results))


def sender_verified(header_values: Iterable[str], authserv_id: str, from_domain: str) -> tuple[bool, str]:
    """Whether our server (``authserv_id``) vouched for the From domain; and why, in words.

    Passes on ``dmarc=pass`` (for the From domain, when it says ``header.from``); on ``dkim=pass`` with ``header.d`` equal to, or a parent of, the From
    domain; or on ``spf=pass`` whose ``smtp.mailfrom`` domain is the From domain (the alignment
    DMARC asks for). ``header_values`` are the message's Authentication-Results values, top first.
    """
    authserv_id = authserv_id.lower()
    from_domain = from_domain.lower()
    for value in header_values:
        parsed = parse_auth_results(value)
        if parsed is None or parsed.authserv_id != authserv_id:
            continue
        for result in parsed.results:
            if result.result != "pass":
                continue
            if result.method == "dmarc":
                # Our server judged the From domain it read; a second From header may have been it.
                judged = result.properties.get("header.from", from_domain).rpartition("@")[2].lower()
                if judged == from_domain:
                    return True, f"dmarc=pass from {authserv_id}"
                continue
            if result.method == "dkim" and _aligned(result.properties.get("header.d", ""), from_domain):
                return True, f"dkim=pass for {result.properties['header.d']} from {authserv_id}"
            if result.method == "spf":
                mailfrom = result.properties.get("smtp.mailfrom", "").rpartition("@")[2].lower()
                if mailfrom and mailfrom == from_domain:
                    return True, f"spf=pass for {mailfrom} from {authserv_id}"
        return False, f"no aligned dkim, spf or dmarc pass for {from_domain} from {authserv_id}"
    return False, f"no Authentication-Results from {authserv_id}"


def _aligned(signing_domain: str, from_domain: str) -> bool:
    signing_domain = signing_domain.lower().rstrip(".")
    return bool(signing_domain) and (from_domain == signing_domain or from_domain.endswith("." + signing_domain))
