"""A mail toolkit: reading mailboxes, parsing messages, composing and sending mail.

It knows nothing of tickets; :mod:`ticketing` builds on it, never the other way round.

Exceptions raised by this package form one tree (see :mod:`mailer.errors`)::

    MailerError
    ├── MailboxError           a mailbox could not be read or changed
    │   ├── MailboxConnectError    the server cannot be reached, TLS failed, the link dropped
    │   └── MailboxAuthError       the server refused the credentials
    └── SendError              a message could not be sent
        ├── TransientSendError     try again later (SMTP 4xx, connection trouble)
        ├── PermanentSendError     do not retry (SMTP 5xx)
        │   └── PartiallySentError     some recipients took it, others refused: never resend to all
        ├── SenderAuthError        the server refused the credentials: fix the configuration
        └── SenderTLSError         no STARTTLS, or the certificate failed: fix the configuration

Bad arguments (an unusable address, an unsafe header name) raise :class:`ValueError`.
Parsing never raises: :func:`mailer.message.parse_message` always returns a message,
recording what it had to repair in ``defects``.
"""
