"""The exceptions of :mod:`mailer`; the tree is drawn in the package docstring."""


class MailerError(Exception):
    """Base class of every error raised by :mod:`mailer`."""


class MailboxError(MailerError):
    """A mailbox could not be read or changed."""


class MailboxConnectError(MailboxError):
    """The mailbox server cannot be reached, TLS failed, or the connection dropped.

    ``permanent`` is True when waiting will not help (the host name does not resolve, the TLS
    certificate fails verification): a worker that has never reached the mailbox stops on it.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailboxAuthError(MailboxError):
    """The mailbox server refused the credentials."""


class SendError(MailerError):
    """A message could not be sent."""


class TransientSendError(SendError):
    """Sending failed in a way that may succeed later (SMTP 4xx, connection trouble)."""


class ServerUnavailableError(TransientSendError):
    """The server could not be reached, or refused the session before any message was given: no
    message's fault. Wait and try again with every message, counting no attempt against them."""


class PermanentSendError(SendError):
    """Sending failed for good (SMTP 5xx): retrying will not help.

    :attr:`refused` maps the recipients the server refused at RCPT, when it named them, to its
    ``(code, reply)``: those addresses do not work, whatever the message.
    """

    refused: dict[str, tuple[int, str]] = {}


class PartiallySentError(PermanentSendError):
    """Some recipients accepted the message and the others refused it.

    The message has been delivered to :attr:`accepted`: resending it would give them a second
    copy, so this is a :class:`PermanentSendError` for the message as a whole. :attr:`refused`
    maps each refused recipient to the server's ``(code, reply)``; record them, and retry one
    alone (a new send to that recipient only) if its code is 4xx.
    """

    def __init__(self, message: str, *, accepted: tuple[str, ...], refused: dict[str, tuple[int, str]]) -> None:
        super().__init__(message)
        self.accepted = tuple(accepted)
        self.refused = dict(refused)

    def __reduce__(self):
        return _rebuild_partially_sent, (str(self), self.accepted, self.refused)


def _rebuild_partially_sent(message: str, accepted: tuple[str, ...], refused: dict) -> PartiallySentError:
    return PartiallySentError(message, accepted=accepted, refused=refused)


class SenderAuthError(SendError):
    """The mail server refused the sender's credentials, or offers no way to log in.

    Neither the message's fault (it is not permanent for the message) nor fixed by retrying
    soon (it is not transient): keep the message queued, stop sending, and tell an operator.
    """


class SenderTLSError(SendError):
    """TLS to the mail server could not be set up as configured.

    The server does not offer STARTTLS, or its certificate failed verification. Like
    :class:`SenderAuthError` this is a configuration problem, not the message's and not a passing
    one (a plain-text fallback would expose the mail): keep the message queued and tell an
    operator. A handshake that fails for network reasons is a :class:`TransientSendError`.
    """


class TokenError(MailerError):
    """No OAuth2 access token could be had: the identity provider refused the client (a wrong
    secret, certificate, tenant or scope) or could not be reached. The text says which, and never
    holds a secret or a token; ``transient`` is True when trying again later may help."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
