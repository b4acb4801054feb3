"""Links and values made safe for where they are handed on: a terminal's OSC 8 or a browser,
an XML document.

Owns: web_link (an http(s) URL in printable ASCII, bounded, or nothing) and xml_safe (a value
without what XML 1.0 cannot carry). Never fetches a link, never decides where one is shown,
and imports only the standard library.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from archfeed.text import has_control

LINK_MAX = 2000  # characters: what browsers and terminals are known to take in a link


def web_link(url: str | None) -> str | None:
    """`url` as a link that may be handed to a terminal (OSC 8) or a browser: an http(s) URL
    with a host, in printable ASCII (other characters percent-encoded, an international host in
    IDNA), at most LINK_MAX characters. None for anything else: another scheme (javascript:,
    file:, data:), a space, a control character anywhere (ESC, BEL, C1's string terminator
    U+009C) or an invisible or direction character."""
    if not url or len(url) > LINK_MAX or has_control(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None
        if not parts.netloc.isascii():  # userinfo or a port beside an IDN: not worth the guess
            netloc = host.encode("idna").decode("ascii") + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
    except (ValueError, UnicodeError):  # a bad port, an IPv6 literal cut short, an invalid label
        return None
    # every printable ASCII character is safe in an OSC 8 string; the rest becomes UTF-8 %XX
    link = quote(parts.geturl(), safe="".join(map(chr, range(0x21, 0x7F))))
    return link if len(link) <= LINK_MAX else None


# characters XML 1.0 cannot carry at all, not even as character references
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """`value` without what XML 1.0 forbids (controls, lone surrogates, U+FFFE and U+FFFF): an
    XML writer escapes markup but passes these through, and the document is then not XML."""
    return _NOT_XML.sub("", value)
