"""Recognising mail that no person wrote: bounces, reports, auto-replies and bulk mail (pure).

:func:`recognise` looks at a :class:`~mailer.message.ParsedMessage` and says where it came from,
checking in this order: a bounce (RFC 3464 delivery status notifications and the free-text
forms older MTAs send), a report (RFC 5965 ARF feedback, RFC 8098 read receipts, DMARC
aggregate reports), an auto-reply (RFC 3834 ``Auto-Submitted`` and what vacation programs do
instead: their own headers, subjects, and an out-of-office text, :mod:`mailer.out_of_office`), bulk mail (RFC 2369/2919 list headers, ``Precedence``), and otherwise a person.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from mailer.message import ParsedMessage
from mailer.out_of_office import says_out_of_office


class Origin(str, Enum):
    """Who, or what, produced a message."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    BOUNCE = "bounce"
    REPORT = "report"


@dataclass(frozen=True)
class Verdict:
    """What :func:`recognise` concluded, and on what evidence."""

    origin: Origin
    reason: str  # e.g. "Auto-Submitted: auto-replied", "null sender <>"
    failed_recipients: tuple[str, ...] = ()  # for bounces: the addresses that failed
    permanent: bool = False  # for bounces: a permanent failure, not a delay
    diagnostic: str = ""  # for bounces: what the receiving server said ("550 5.1.1 User unknown")


# -- patterns ----------------------------------------------------------------------------------

# Bounce subjects, at the start of the subject (so "Fwd: Undeliverable: ..." from a customer
# asking for help stays human), after an optional "[tag]" or "**".
_BOUNCE_SUBJECT = re.compile(
    r"^[\W_]*(?:\[[^\]]*\][\W_]*)?(?:"
    r"undeliver|undelivered|non[- ]?deliver|delivery (?:status notification|failure|notification"
    r"|has failed|report|problem)|mail delivery (?:failed|failure|system|problem)"
    r"|(?:e-?mail |message )?delivery (?:error|failure)|returned mail|failure notice|failed mail"
    r"|mail system error|message status - undeliverable|warning: could not send|delayed mail"
    r"|could not send|error mail report|there was an error sending|notice: mail delivery"
    r"|e-?mail bounce|message you sent blocked|banned file|mail failure|returned to sender"
    r"|unzustellbar|nicht zustellbar|non remis|onbestelbaar|non recapitabile|no se pudo entregar"
    r"|недоставленное сообщение|ваше сообщение не доставлено|邮件传输失败|退信"
    r"|メッセージを配信できません|配信エラー)",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(
    r"delay|still being retried|could not send message for past|warning:", re.IGNORECASE
)
# Phrases of a bounce's own text (looked for near the start of the body only).
_BOUNCE_TEXT = re.compile(
    r"could not be delivered|couldn't be delivered|wasn't able to deliver|was not delivered"
    r"|delivery (?:has )?failed|undeliverable|permanent (?:error|failure)|user unknown"
    r"|unknown user|mailbox (?:unavailable|full)|following address(?:es)? failed"
    r"|did not reach the following|returned to sender|this is the mail system at host"
    r"|delivery to the following recipient|trouble delivering your message|was rejected",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"mailer[-_ ]?daemon|postmaster|mail delivery (?:subsystem|system)", re.I)
# Where the recipients of a free-text bounce are named: addresses soon after one of these.
_RECIPIENT_CUE = re.compile(
    r"following[^:]{0,60}:|permanent error[.;,]|(?:was|could) not (?:be )?delivered to:|to these recipients[^:\n]*:"
    r"|target mail address:|failure reasons|your message was addressed,|recipient address(?:es)?:"
    r"|unknown (?:user|recipient):|failed recipients?:|delivering your (?:mail|message) to"
    r"|rcpt to:|recipients returned permanent errors:",
    re.IGNORECASE,
)
_CUE_WINDOW = 200  # characters after a cue in which the failed addresses are listed
_ANGLE_RECIPIENT = re.compile(r"^[ \t]*<([^<>\s@]+@[^<>\s]+)>[ \t]*(?::|$)", re.MULTILINE)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Where a free-text bounce starts quoting the returned message: addresses past it are not
# recipients that failed. Sendmail's text opens with "The original message was received at",
# which starts its own report, not the copy.
_RETURNED_MESSAGE = re.compile(
    r"copy of the (?:original )?message|original message(?! was received)|returned message|message follows"
    r"|^-+ ?(?:forwarded|original|returned|bounced)|^bounced e-?mail|^>?received: |^>?return-path:",
    re.IGNORECASE | re.MULTILINE,
)
_STATUS_CODE = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_PERMANENT_TEXT = re.compile(r"\b5\.\d{1,3}\.\d{1,3}\b|\b55\d\b|permanent", re.IGNORECASE)
_TRANSIENT_TEXT = re.compile(
    r"\b4\.\d{1,3}\.\d{1,3}\b|will (?:be )?retr|still (?:being )?retr|delayed|temporar",
    re.IGNORECASE,
)

_REPORT_SUBJECT = re.compile(
    r"^(?:report domain:.*submitter:|\[?dmarc aggregate report|complaint about message from"
    r"|email feedback report|abuse report|tls report domain:)",
    re.IGNORECASE,
)
_DMARC_FILE = re.compile(r"^[^!]+![^!]+!\d+!\d+.*\.(?:zip|gz|xml)$", re.IGNORECASE)

# Headers that only automatic responders set; X-Auto-Response-Suppress is not one of them:
# Outlook puts it on ordinary mail to stop out-of-office replies coming back.
_AUTO_REPLY_HEADERS = {
    "x-autoreply": None,
    "x-autorespond": None,
    "x-autoresponder": None,
    "x-autoreply-from": None,
    "x-mail-autoreply": None,
    "x-autogenerated": None,
    "x-apple-action": re.compile(r"vacation", re.I),
    "x-post-messageclass": re.compile(r"autorespon", re.I),
    "x-vacation": None,
    # Exchange marks what an inbox rule (the out-of-office assistant among them) generated.
    "x-ms-exchange-inbox-rules-loop": None,
}
# Vacation and out-of-office subjects, at the start of the subject. Single words (vacation,
# absence) only with a colon or a telling next word: "Vacation request" is a person asking, and
# so is "Holiday - office closed on the 24th" (a dash is how people title a subject, too).
_AUTO_REPLY_SUBJECT = re.compile(
    r"^[\W_]*(?:\[[^\]]*\][\W_]*)?(?:"
    r"out of (?:the )?office(?! hours)|automatic reply|auto(?:matic)?[ -]?re(?:ply|spon[sd])|auto:"
    r"|automated (?:reply|response)|on vacation|away from (?:the |my )?(?:office|desk|e-?mail)"
    r"|(?:vacation|absence|absent|away|holiday) (?:reply|response|notice|message|notification)"
    r"\s*[:\-\u2013]|(?:vacation|absence|absent|away|holiday)\s*:"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|reponse automatique"
    r"|risposta automatica|respuesta automática|resposta automática"
    r"|automatisch antwoord|automatisk svar|automaattinen vastaus|automatyczna odpowied"
    r"|automatická odpověď|automatikus válasz|автоматический ответ|автоответ|自動応答|自动回复"
    r"|automātiskā atbilde|automatiska atbilde|ārpus biroja|arpus biroja|atvaļinājums"
    r"|atvalinajums)",
    re.IGNORECASE,
)
# ... or anywhere, for forms that leave the original subject in front. Lotus Notes' "John Smith
# is out of the office (returning 05/10/2010)" only where the subject ends with it: "Our admin is
# out of the office this week, can you extend the trial?" is a person writing.
_AUTO_REPLY_ANYWHERE = re.compile(
    r"\((?:automatic response|auto[- ]?reply)\)"
    r"|\bis out of (?:the )?office\b\.?\s*(?:\(returning[^)]*\)?\.?\s*)?$"
    r"|automatiska atbilde|automātiskā atbilde",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_LIST_HEADERS = ("list-id", "list-post", "mailing-list", "x-mailing-list", "x-beenthere")
_NO_REPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply)(?:[-+_.].*)?$", re.I)


# -- the verdict ---------------------------------------------------------------------------


def recognise(msg: ParsedMessage, own_addresses: Iterable[str] = ()) -> Verdict:
    """Return where ``msg`` came from: a bounce, a report, an auto-reply, bulk mail or a person.

    For a bounce, also the recipients that failed (never the bounce's sender, its recipients,
    nor ``own_addresses``) and whether the failure is permanent. Never raises.
    """
    return (
        _bounce(msg, own_addresses)
        or _report(msg)
        or _auto_reply(msg)
        or _bulk(msg)
        or _no_reply_sender(msg)
        or Verdict(Origin.HUMAN, "no sign of automation")
    )


def _report_type(msg: ParsedMessage) -> str | None:
    if msg.content_type != "multipart/report":
        return None
    match = re.search(r"report-type\s*=\s*\"?([\w.-]+)", msg.header("content-type") or "", re.I)
    return match.group(1).lower() if match else ""


def _bounce(msg: ParsedMessage, own_addresses: Iterable[str]) -> Verdict | None:
    report_type = _report_type(msg)
    failed_header = msg.header("x-failed-recipients")
    if report_type == "delivery-status":
        reason = "multipart/report; report-type=delivery-status"
    elif msg.delivery_status and report_type not in ("feedback-report", "disposition-notification"):
        reason = "message/delivery-status part"
    elif failed_header:
        reason = "X-Failed-Recipients header"
    elif report_type is None or report_type == "":
        reason = _bounce_by_appearance(msg)
        if reason is None:
            return None
    else:
        return None
    excluded = _excluded(msg, own_addresses)
    found = _dsn_recipients(msg.delivery_status, excluded)
    if found is None:
        found = _text_recipients(msg, failed_header, excluded)
    recipients, permanent = found
    if msg.delivery_status and not recipients and _only_successes(msg.delivery_status):
        return Verdict(Origin.REPORT, "delivery status notification without a failure")
    return Verdict(Origin.BOUNCE, reason, recipients, permanent, _diagnostic(msg))


def _bounce_by_appearance(msg: ParsedMessage) -> str | None:
    """Recognise a free-text bounce: a daemon or the null sender, and a bounce's words."""
    sender = " ".join(filter(None, (msg.header("from"), msg.header("sender"))))
    daemon = _DAEMON.search(sender) or _DAEMON.search(msg.return_path or "")
    null_sender = msg.return_path == ""
    if not (daemon or null_sender):
        return None
    who = "mailer daemon sender" if daemon else "null sender <>"
    if _BOUNCE_SUBJECT.search(msg.subject):
        return f"{who} and bounce subject"
    if _BOUNCE_TEXT.search(msg.text[:4000]):
        return f"{who} and bounce text"
    return None


def _excluded(msg: ParsedMessage, own_addresses: Iterable[str]) -> frozenset[str]:
    mine = {a.lower() for a in own_addresses}
    mine.update(a.email.lower() for a in (*msg.to, *msg.cc))
    if msg.from_:
        mine.add(msg.from_.email.lower())
    if msg.return_path:
        mine.add(msg.return_path.lower())
    return frozenset(mine)


def _normalise(address: str) -> str | None:
    address = address.strip().strip("<>\"'.,;:()[]").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or _DAEMON.fullmatch(local):
        return None
    return f"{local}@{domain.lower()}"


def _keep(addresses: Iterable[str], excluded: frozenset[str]) -> tuple[str, ...]:
    kept: dict[str, None] = {}
    for address in addresses:
        normal = _normalise(address)
        if normal and normal.lower() not in excluded:
            kept.setdefault(normal, None)
    return tuple(kept)


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _dsn_recipients(
    status_texts: Iterable[str], excluded: frozenset[str]
) -> tuple[tuple[str, ...], bool] | None:
    """Return the failed recipients of RFC 3464 per-recipient blocks, and whether for good.

    Permanent failures win: if any recipient failed for good, only those are returned;
    otherwise the delayed ones. None when the text names no recipient at all.
    """
    permanent: list[str] = []
    transient: list[str] = []
    seen_recipient = False
    for text in status_texts:
        for block in re.split(r"\n[ \t]*\n", text):
            fields = _fields(block)
            named = [fields.get("original-recipient", ""), fields.get("final-recipient", "")]
            addresses = [_normalise(v.rpartition(";")[2]) for v in named if v]
            address = next((a for a in addresses if a), None)
            if address is None:
                continue
            seen_recipient = True
            action = (fields.get("action", "").split() or [""])[0].lower()
            status = _STATUS_CODE.search(fields.get("status", ""))
            if action in ("delivered", "relayed", "expanded"):
                continue
            if action == "failed" or (action != "delayed" and (status is None or status.group(1) == "5")):
                permanent.append(address)
            else:
                transient.append(address)
    if not seen_recipient:
        return None
    if permanent:
        return _keep(permanent, excluded), True
    return _keep(transient, excluded), False


_DIAGNOSTIC_LINE = re.compile(r"^.*(?:\b[45]\.\d{1,3}\.\d{1,3}\b|\b[45]\d\d[ -]).*$", re.MULTILINE)
_DIAGNOSTIC_LIMIT = 300


def _diagnostic(msg: ParsedMessage) -> str:
    """What the receiving server said about the first failed recipient, in its own words.

    From an RFC 3464 report: the Diagnostic-Code (without its "smtp;" type), else the Status; from
    a free-text bounce: the first line above the returned message that carries a status code.
    """
    for text in msg.delivery_status:
        for block in re.split(r"\n[ \t]*\n", text):
            fields = _fields(block)
            if not (fields.get("final-recipient") or fields.get("original-recipient")):
                continue
            if (fields.get("action", "").split() or [""])[0].lower() in ("delivered", "relayed", "expanded"):
                continue
            code = fields.get("diagnostic-code", "").partition(";")[2].strip() or fields.get("diagnostic-code", "")
            if code:
                return " ".join(code.split())[:_DIAGNOSTIC_LIMIT]
            if fields.get("status"):
                return f"Status: {fields['status']}"[:_DIAGNOSTIC_LIMIT]
    cut = _RETURNED_MESSAGE.search(msg.text)
    match = _DIAGNOSTIC_LINE.search(msg.text[: cut.start()] if cut else msg.text)
    return " ".join(match.group(0).split())[:_DIAGNOSTIC_LIMIT] if match else ""


def _only_successes(status_texts: Iterable[str]) -> bool:
    actions = re.findall(r"^action:\s*(\w+)", "\n".join(status_texts), re.I | re.M)
    return bool(actions) and all(a.lower() in ("delivered", "relayed", "expanded") for a in actions)


def _text_recipients(
    msg: ParsedMessage, failed_header: str | None, excluded: frozenset[str]
) -> tuple[tuple[str, ...], bool]:
    """Return the failed recipients named by X-Failed-Recipients or the bounce's text."""
    text = msg.text
    cut = _RETURNED_MESSAGE.search(text)
    own_text = text[: cut.start()] if cut else text
    if failed_header:
        found = _keep(_ADDRESS.findall(failed_header), excluded)
    else:
        candidates = _ANGLE_RECIPIENT.findall(own_text)
        for cue in _RECIPIENT_CUE.finditer(own_text):
            candidates.extend(_ADDRESS.findall(own_text[cue.end() : cue.end() + _CUE_WINDOW]))
        found = _keep(candidates, excluded)
    if _DELAY_SUBJECT.search(msg.subject):
        return found, False
    permanent = bool(_PERMANENT_TEXT.search(own_text)) or not _TRANSIENT_TEXT.search(own_text)
    return found, permanent


def _report(msg: ParsedMessage) -> Verdict | None:
    report_type = _report_type(msg)
    if report_type:
        return Verdict(Origin.REPORT, f"multipart/report; report-type={report_type}")
    if _REPORT_SUBJECT.search(msg.subject):
        return Verdict(Origin.REPORT, "report subject")
    if any(_DMARC_FILE.match(a.filename) for a in msg.attachments):
        return Verdict(Origin.REPORT, "DMARC aggregate report attachment")
    return None


def _auto_reply(msg: ParsedMessage) -> Verdict | None:
    submitted = (msg.header("auto-submitted") or "").split(";", 1)[0].strip().lower()
    if submitted and submitted != "no":
        return Verdict(Origin.AUTO_REPLY, f"Auto-Submitted: {submitted}")
    for name, wanted in _AUTO_REPLY_HEADERS.items():
        value = msg.header(name)
        if value is not None and (wanted is None or wanted.search(value)):
            return Verdict(Origin.AUTO_REPLY, f"{name} header")
    if (msg.header("precedence") or "").strip().lower() == "auto_reply":
        return Verdict(Origin.AUTO_REPLY, "Precedence: auto_reply")
    if _AUTO_REPLY_SUBJECT.search(msg.subject) or _AUTO_REPLY_ANYWHERE.search(msg.subject):
        return Verdict(Origin.AUTO_REPLY, "auto-reply subject")
    if msg.return_path == "":
        # Not a bounce (checked first), and people never send with the null sender: RFC 3834
        # asks responders to use it.
        return Verdict(Origin.AUTO_REPLY, "null sender <>")
    if says_out_of_office(msg.text):
        return Verdict(Origin.AUTO_REPLY, "out-of-office text")
    return None


def _bulk(msg: ParsedMessage) -> Verdict | None:
    precedence = (msg.header("precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return Verdict(Origin.BULK, f"Precedence: {precedence}")
    for name in _LIST_HEADERS:
        if msg.header(name) is not None:
            return Verdict(Origin.BULK, f"{name} header")
    if msg.header("list-unsubscribe") is not None:
        # A one-to-one mail sent through a CRM may carry List-Unsubscribe too; a reply
        # without the RFC 8058 one-click header is given the benefit of the doubt.
        if msg.header("list-unsubscribe-post") is not None or not (msg.in_reply_to or msg.references):
            return Verdict(Origin.BULK, "list-unsubscribe header")
    return None


def _no_reply_sender(msg: ParsedMessage) -> Verdict | None:
    if msg.from_ and _NO_REPLY.match(msg.from_.email.rpartition("@")[0]):
        return Verdict(Origin.AUTO_REPLY, "no-reply sender")
    return None
