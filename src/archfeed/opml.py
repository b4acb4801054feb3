"""OPML in and out: outlines ⇄ Sources, and Sources as `[[source]]` blocks of feeds.toml.

Owns: reading OPML 1.0/2.0 (feeds nested in folders at any depth; folder titles and `category`
attributes become topics), writing OPML 2.0, the TOML text of new sources, and which imported
feeds are new to a config. Never reads or writes files, never parses a DTD or expands an entity
(an OPML file may be hostile), and never imports archfeed.config: cli/opml.py joins the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archfeed.errors import UsageError
from archfeed.models import Source
from archfeed.text import clean, is_lang_code, slugify, source_name
from archfeed.text.links import xml_safe
from archfeed.text.toml import source_block

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

# Attributes outside the OPML spec must live in a namespace (OPML 2.0, "Extending OPML").
NS = "urn:archfeed:opml"
_HINT = "export the subscriptions from your feed reader as OPML"
_DTD_MARKS = tuple(
    mark.encode(codec)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


@dataclass(frozen=True)
class Imported:
    """What an OPML file held: its feeds, and why some outlines were left out."""

    sources: tuple[Source, ...]
    warnings: tuple[str, ...] = ()


class _DtdRefused(Exception):
    pass


def read(data: bytes, origin: str) -> Imported:
    """The feeds of an OPML document; `origin` (a file name) only labels the messages."""
    root = _parse(data, origin)
    body = root.find("body")
    if body is None:
        raise UsageError(f"{origin}: an OPML file needs a <body>", hint=_HINT)
    found: dict[str, Source] = {}
    warnings: list[str] = []
    stack: list[tuple[Element, tuple[str, ...]]] = [(o, ()) for o in reversed(_outlines(body))]
    while stack:  # a loop, not recursion: a hostile file may nest outlines a million deep
        outline, folders = stack.pop()
        attrs = {key.lower(): value for key, value in outline.attrib.items()}
        label = clean(attrs.get("text") or attrs.get("title") or "")
        children = _outlines(outline)
        if "xmlurl" not in attrs:
            inner = (*folders, slugify(label)) if slugify(label) else folders
            stack.extend((child, inner) for child in reversed(children))
            continue
        stack.extend((child, folders) for child in reversed(children))
        url = attrs["xmlurl"].strip()
        problem = _url_problem(url)
        if problem:
            shown = clean(url)[:200]
            warnings.append(f"{origin}: skipped outline '{label[:80]}': xmlUrl '{shown}' {problem}")
            continue
        topics = _unique((*folders, *_categories(attrs.get("category", ""))))
        key = url_key(url)
        if key in found:  # one feed filed in two folders: one source with both topics
            first = found[key]
            found[key] = replace(first, topics=_unique((*first.topics, *topics)))
            continue
        lang = clean(attrs.get(f"{{{NS}}}lang", "")).lower()
        enabled = attrs.get(f"{{{NS}}}enabled", "true").strip().lower() != "false"
        name = source_name(url, label)
        lang_or_none = lang if is_lang_code(lang) else None
        found[key] = Source(name, url, topics, lang_or_none, enabled, position=len(found) + 1)
    taken: set[str] = set()
    sources = []
    for source in found.values():
        name = unique_name(source.name, taken)
        taken.add(name)
        sources.append(replace(source, name=name))
    return Imported(tuple(sources), tuple(warnings))


def _parse(data: bytes, origin: str) -> Element:
    import xml.etree.ElementTree as ET

    upper = data.upper()
    if any(mark in upper for mark in _DTD_MARKS):
        raise UsageError(
            f"{origin}: OPML with a DTD is not accepted",
            hint="remove the <!DOCTYPE …> declaration; OPML needs none",
        )

    class _Builder(ET.TreeBuilder):
        def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
            raise _DtdRefused  # a second guard, for encodings the byte check cannot see

    parser = ET.XMLParser(target=_Builder())  # noqa: S314 - a DTD is refused above and here
    try:
        parser.feed(data)
        root = parser.close()
    except _DtdRefused:
        raise UsageError(f"{origin}: OPML with a DTD is not accepted") from None
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise UsageError(f"{origin}: not well-formed XML: {exc}", hint=_HINT) from None
    if root.tag.lower() != "opml":
        raise UsageError(f"{origin}: not an OPML file (its root is <{root.tag[:40]}>)", hint=_HINT)
    return root


def _outlines(parent: Element) -> list[Element]:
    return [child for child in parent if isinstance(child.tag, str) and child.tag == "outline"]


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url) if url.isprintable() else None
    if parts is None or " " in url:
        return "contains spaces or control characters"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) URL"
    return None if parts.netloc else "has no host"


def _categories(value: str) -> tuple[str, ...]:
    """OPML 2.0: comma-separated, slash-delimited paths ("/a/b,/c"); a tag is a path of one."""
    return tuple(slugify(part) for path in value.split(",") for part in path.split("/"))


def _unique(topics: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(topic for topic in topics if topic))


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`… whichever is not taken yet."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def url_key(url: str) -> str:
    """What makes two feed URLs the same feed: scheme and host compared in any case."""
    parts = urlsplit(url.strip())
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def additions(existing: Iterable[Source], imported: Iterable[Source]) -> tuple[Source, ...]:
    """The imported sources whose URL is not in `existing`, renamed where a name is taken."""
    existing = tuple(existing)
    urls = {url_key(source.url) for source in existing}
    taken = {source.name for source in existing}
    new = []
    for source in imported:
        if url_key(source.url) in urls:
            continue
        name = unique_name(source.name, taken)
        taken.add(name)
        new.append(replace(source, name=name))
    return tuple(new)


def write(sources: Iterable[Source], title: str, now: datetime) -> str:
    """An OPML 2.0 document of `sources` in their order; topics go into `category`."""
    import xml.etree.ElementTree as ET

    root = ET.Element("opml", {"version": "2.0", "xmlns:archfeed": NS})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_safe(title)
    created = format_datetime(now.astimezone(UTC), usegmt=True)
    ET.SubElement(head, "dateCreated").text = created
    ET.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for source in sources:
        name = xml_safe(source.name)
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": xml_safe(source.url)}
        if source.topics:
            attrs["category"] = xml_safe(",".join(source.topics))
        if source.lang:
            attrs["archfeed:lang"] = xml_safe(source.lang)
        if not source.enabled:
            attrs["archfeed:enabled"] = "false"
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def toml_blocks(sources: Iterable[Source]) -> str:
    """The `[[source]]` tables of `sources` as feeds.toml would hold them, a blank line apart."""
    return "\n".join(
        source_block(source.name, source.url, source.topics, source.lang, source.enabled)
        for source in sources
    )
