"""Small facts about hosts that more than one adapter needs (pure): loopback, and why a connection failed."""
from __future__ import annotations

import ipaddress
import socket
import ssl


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine ("localhost" or a loopback address): plain text is safe there."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect_failure(exc: BaseException, host: str, port: int) -> tuple[str, bool]:
    """Why a connection to ``host:port`` failed, in words an operator can act on, and whether it is
    *permanent*: a name that does not resolve, or TLS that cannot be set up (a certificate that fails
    verification, TLS spoken to a port that does not), will not mend by waiting. A refused or timed-out
    connection, or a name server that did not answer, may: the server can be restarting."""
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        if exc.errno in _NO_SUCH_NAME:
            return f"the host name {host} does not resolve", True
        return f"cannot resolve {host} now ({exc.strerror or exc})", False
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} failed verification: {exc.verify_message}", True
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        return (f"TLS with {where} failed ({reason}): is this the server's TLS port, and the security "
                "setting right?"), True
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection (is the server running, and the port right?)", False
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"{where} did not answer in time", False
    return f"cannot connect to {where}: {exc!r}", False


_NO_SUCH_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}
