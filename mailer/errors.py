"""The exceptions of :mod:`mailer`; the tree is drawn in the package docstring."""


class MailerError(Exception):
    """Base class of every error raised by :mod:`mailer`."""


class MailboxError(MailerError):
    """A mailbox could not be read or changed."""


class MailboxConnectError(MailboxError):
    """The mailbox server cannot be reached, TLS failed, or the connection dropped."""


class MailboxAuthError(MailboxError):
    """The mailbox server refused the credentials."""


class SendError(MailerError):
    """A message could not be sent."""


class TransientSendError(SendError):
    """Sending failed in a way that may succeed later (SMTP 4xx, connection trouble)."""


class PermanentSendError(SendError):
    """Sending failed for good (SMTP 5xx): retrying will not help."""
