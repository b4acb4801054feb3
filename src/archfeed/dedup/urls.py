"""Links as the cross-post rules see them: one canonical spelling per page, and whether a reader
could open it at all.

Owns: tracking parameters, default ports and the other spellings of one URL, and the hosts that
only their author's machine or network can reach. Never fetches or resolves a name.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# query parameters that say who sent the reader, never which page they read
_TRACKING = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ref", "ref_src",
                       "igshid", "yclid", "_hsenc", "_hsmi", "mkt_tok"})  # fmt: skip
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# names that resolve only on the author's machine or network (RFC 6761, RFC 6762, RFC 8375)
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test")


def canonical_url(url: str | None) -> str | None:
    """https, lower-case host without `www.` or a default port, no fragment, no tracking
    parameters (utm_*, fbclid, gclid, mc_*, ref, Medium's `source=rss…`), the rest sorted, no
    trailing slash."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port and str(parts.port) not in _DEFAULT_PORTS.values():
        host = f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key, value)
    )
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, urlencode(query), ""))


def _is_tracking(key: str, value: str) -> bool:
    key = key.lower()
    # Medium appends ?source=rss----<feed id>---4 to every link of a feed
    return (
        key.startswith("utm_") or key in _TRACKING or (key == "source" and value.startswith("rss"))
    )


def is_private(url: str | None) -> bool:
    """A link no other reader can open: loopback, a private or link-local address, `localhost`,
    a name of the local network or one without a dot (a feed generated on the author's machine).
    No link at all counts as private too: a copy with one is better."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return True
    if host[-1].isalpha():  # a name, not an address (asking ipaddress costs an exception)
        return "." not in host or host == "localhost" or host.endswith(_PRIVATE_SUFFIXES)
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return "." not in host
