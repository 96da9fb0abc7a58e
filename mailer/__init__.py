"""A mail toolkit: reading mailboxes, parsing messages, composing and sending mail.

It knows nothing of tickets; :mod:`ticketing` builds on it, never the other way round.

Exceptions raised by this package form one tree (see :mod:`mailer.errors`)::

    MailerError
    ├── MailboxError           a mailbox could not be read or changed
    │   ├── MailboxConnectError    the server cannot be reached, TLS failed, the link dropped
    │   └── MailboxAuthError       the server refused the credentials
    ├── SendError              a message could not be sent
    │   ├── TransientSendError     try again later (SMTP 4xx, connection trouble)
    │   │   └── ServerUnavailableError the server is down or refused the session: no message's fault
    │   ├── PermanentSendError     do not retry (SMTP 5xx)
    │   │   └── PartiallySentError     some recipients took it, others refused: never resend to all
    │   ├── SenderAuthError        the server refused the credentials: fix the configuration
    │   └── SenderTLSError         no STARTTLS, or the certificate failed: fix the configuration
    └── TokenError             no OAuth2 access token could be had (``transient`` when a retry may help)

Bad arguments (an unusable address, an unsafe header name) raise :class:`ValueError`.
Parsing never raises: :func:`mailer.message.parse_message` always returns a message,
recording what it had to repair in ``defects``.

The names below are the toolkit's public interface; :mod:`ticketing` imports them from here.
:class:`ImapSource` is loaded on first use, so that a program without IMAP does not import imapclient.
"""
from mailer.authresults import exchange_sender_verified, sender_verified
from mailer.automated import Origin, Verdict, recognise
from mailer.body import Attachment, CalendarPart
from mailer.compose import compose, make_message_id, safe_address, safe_header
from mailer.directory_sender import DirectorySender
from mailer.errors import (
    MailboxAuthError,
    MailboxConnectError,
    MailboxError,
    MailerError,
    PartiallySentError,
    PermanentSendError,
    SenderAuthError,
    SendError,
    SenderTLSError,
    ServerUnavailableError,
    TokenError,
    TransientSendError,
)
from mailer.ews import EwsMailbox, EwsSender, EwsSource, ews_busy_times
from mailer.files import count_messages, iter_messages
from mailer.graph import (
    GRAPH_SCOPE,
    GraphClient,
    GraphError,
    GraphSender,
    GraphSource,
    busy_times,
)
from mailer.header_fields import Address
from mailer.hosts import is_loopback
from mailer.imip import Attendee, Invitation, cancel, request
from mailer.imip_answers import CalendarAnswer, read_answers
from mailer.imip_series import Override, Weekly, request_instance, request_series
from mailer.maildir import MaildirSource
from mailer.message import ParsedMessage, parse_headers, parse_message
from mailer.oauth2 import OUTLOOK_SCOPE, GoogleTokens, MicrosoftTokens, TokenProvider
from mailer.parts import file_attachments, is_data_file, text_attachments
from mailer.quoting import new_text
from mailer.sending import MailSender, SmtpSender
from mailer.source import MailboxSource, SourceMessage

__all__ = [
    "Address", "Attachment", "Attendee", "CalendarAnswer", "CalendarPart", "DirectorySender", "EwsMailbox",
    "EwsSender", "EwsSource", "GRAPH_SCOPE", "GoogleTokens", "GraphClient", "GraphError", "GraphSender",
    "GraphSource", "ImapSource", "Invitation", "MailSender", "MailboxAuthError", "MailboxConnectError",
    "MailboxError", "MailboxSource", "MaildirSource", "MailerError", "MicrosoftTokens", "OUTLOOK_SCOPE",
    "Origin", "Override", "ParsedMessage", "PartiallySentError", "PermanentSendError", "SendError", "SenderAuthError",
    "SenderTLSError", "ServerUnavailableError", "SmtpSender", "SourceMessage", "TokenError", "TokenProvider",
    "TransientSendError", "Verdict", "Weekly", "busy_times", "cancel", "compose", "count_messages", "ews_busy_times",
    "file_attachments", "is_data_file", "is_loopback", "iter_messages", "make_message_id", "new_text",
    "parse_headers", "parse_message", "read_answers", "recognise", "request", "request_instance", "request_series", "safe_address", "safe_header", "sender_verified", "exchange_sender_verified",
    "text_attachments",
]


def __getattr__(name: str):
    if name == "ImapSource":
        from mailer.imap import ImapSource

        return ImapSource
    raise AttributeError(f"module 'mailer' has no attribute {name!r}")
