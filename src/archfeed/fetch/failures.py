"""What went wrong with a download, said as a user reads it, and whether it was the network.

Owns: the words of a transport failure (by the type of its root cause, in any locale), whether
it says the machine could reach no network (no name resolution, connection refused or
unreachable, TLS broken), and a server's Retry-After. Never fetches, never decides what a
failure does to a source (update does).
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from email.utils import parsedate_to_datetime

import httpx


def transport_failure(exc: httpx.HTTPError) -> tuple[str, bool]:
    """The message for a request that got no answer, and True when the failure is the
    network's (offline, no resolver, a portal breaking TLS) rather than one server's."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        cause = _root_cause(exc)
        if isinstance(cause, socket.gaierror):  # getaddrinfo: no such name, or no resolver
            return "cannot resolve the host name", True
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused", True
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {cause}", True
        unreachable = isinstance(cause, OSError) and cause.errno in _UNREACHABLE
        return f"cannot connect: {text}", unreachable
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {text}", False
    return f"{type(exc).__name__}: {text}", False


_UNREACHABLE = frozenset((errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN))


def _root_cause(exc: BaseException) -> BaseException:
    """What httpx's error wraps (httpcore's, which wraps the socket's): the OS error names the
    failure by its type and errno, in any locale and on any platform."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def retry_after(value: str | None) -> float | None:
    """Seconds a 429 or 503 asks to wait: a number, or an HTTP date (read by the system clock)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
