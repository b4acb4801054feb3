"""Which encoding a feed document is in, when what it says is not what it is.

Owns: UTF-16 documents with no byte-order mark, and UTF-8 documents that declare a single-byte
charset (in the Content-Type or the XML declaration), both handed on as UTF-8 that says so.
Never parses XML: parse/__init__.py hands the result to feedparser.
"""

from __future__ import annotations

import re

_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding=["'])([^"']*)(["'])""")
_DECLARED_ENCODING_BYTES = re.compile(rb"""^(\s*<\?xml[^>]*?encoding=["'])([^"']*)(["'])""")
_CHARSET = re.compile(r"charset=([\w.:-]+)", re.IGNORECASE)
# charsets of one byte per character: in them, text outside ASCII is (almost) never also valid
# UTF-8 with multi-byte sequences, so bytes that are tell which one the document really is
_SINGLE_BYTE = re.compile(
    r"^(?:iso[-_]?8859[-_]?\d+|latin[-_]?\d|l\d|windows[-_]?125\d|cp[-_]?125\d|cp[-_]?8\d\d|"
    r"koi8[-_]?[a-z]|us[-_]?ascii|ascii|mac[-_]?roman|macintosh)$",
    re.IGNORECASE,
)


def utf16_without_bom(body: bytes) -> bytes | None:
    """UTF-16 with no byte-order mark defeats expat and feedparser's sniffing, but its zero bytes
    give it away: `<` is 00 3C in big-endian and 3C 00 in little-endian."""
    if len(body) < 4:
        return None
    if body[0] == 0 and body[2] == 0 and body[1] and body[3]:
        text = body.decode("utf-16-be", errors="replace")
    elif body[1] == 0 and body[3] == 0 and body[0] and body[2]:
        text = body.decode("utf-16-le", errors="replace")
    else:
        return None
    return _DECLARED_ENCODING.sub(r"\1utf-8\3", text, count=1).encode("utf-8")


def utf8_despite_declaration(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """The document and its Content-Type, saying UTF-8 when the bytes are UTF-8 (some outside
    ASCII, all valid) but a single-byte charset is declared: a server's default header over a
    UTF-8 file, or a template's stale declaration. Read as declared, "Både" became "BÃ¥de". A
    windows-1251 or iso-8859-1 text is never valid UTF-8 as soon as it has a letter outside
    ASCII, so real single-byte feeds keep their charset."""
    header = _CHARSET.search(content_type or "")
    declared = _DECLARED_ENCODING_BYTES.match(body)
    charsets = [
        header.group(1) if header else "",
        declared.group(2).decode("ascii", "replace") if declared else "",
    ]
    if not any(_SINGLE_BYTE.match(charset) for charset in charsets) or body.isascii():
        return body, content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body, content_type
    if declared:
        body = _DECLARED_ENCODING_BYTES.sub(rb"\1utf-8\3", body, count=1)
    if header and content_type:
        content_type = _CHARSET.sub("charset=utf-8", content_type)
    return body, content_type
