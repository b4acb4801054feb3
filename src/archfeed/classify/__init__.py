"""Classification of entries: their language and their topics.

Owns: an entry's language (a source's configured `lang` forces it; otherwise what the text says,
with the feed's declared language and `[settings].languages` as priors) and its topics (the
source's topics, the entry's categories as slugs, and every `[topics.X]` rule that matches).
Never does I/O; the same input always gives the same answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archfeed.classify.ngrams import UNDETERMINED
from archfeed.models import LangSource, Source, TopicRule
from archfeed.text import phrases, slugify

if TYPE_CHECKING:  # a fetch's shapes (models/pipeline.py): `list` only asks fingerprints()
    from archfeed.models import Classified, Evidence, ParsedEntry

NOT_DETECTED = ""  # stored as text_lang while a source's `lang` makes detection unnecessary

__all__ = ["NOT_DETECTED", "UNDETERMINED", "classify", "decide", "fingerprints", "topics_of"]


def classify(
    entry: ParsedEntry,
    source: Source,
    declared: str | None,
    rules: Sequence[TopicRule],
    expected: Sequence[str] = (),
) -> Classified:
    if source.lang:  # the config decides: no detection to pay
        text_lang, how = NOT_DETECTED, LangSource.NOT_DETECTED
    else:
        from archfeed.classify.language import detect  # its tables: ~12 ms that `list` skips

        text_lang, how = detect(entry.title, entry.text, _iso639_1(declared), expected)
    from archfeed.models import Evidence

    evidence = Evidence(entry.title, entry.text, entry.categories, text_lang, how)
    return decide(source, evidence, rules, expected)


def decide(
    source: Source, evidence: Evidence, rules: Sequence[TopicRule], expected: Sequence[str] = ()
) -> Classified:
    """The classification from what was detected once and what the config says now; this is
    what runs again when the user edits the config, detecting only entries never detected (their
    source's `lang` used to decide)."""
    text_lang, how = evidence.text_lang, evidence.text_lang_source
    if not source.lang and how == LangSource.NOT_DETECTED:
        from archfeed.classify.language import detect

        text_lang, how = detect(evidence.title, evidence.text, None, expected)
    from archfeed.models import Classified

    return Classified(
        lang=source.lang or text_lang,
        lang_source=LangSource.CONFIG if source.lang else how,
        topics=topics_of(evidence.categories, evidence.title, evidence.text, source, rules),
        text_lang=text_lang,
        text_lang_source=how,
    )


def topics_of(
    categories: Sequence[str], title: str, text: str, source: Source, rules: Sequence[TopicRule]
) -> tuple[str, ...]:
    slugs = {slug for slug in map(slugify, categories) if slug}
    found = set(source.topics) | slugs
    haystack = f"{title}\n{text}"
    for rule in rules:
        if rule.name in found:
            continue
        if slugs.intersection(rule.categories) or (
            rule.keywords and phrases(rule.keywords).search(haystack)
        ):
            found.add(rule.name)
    return tuple(sorted(found))


def fingerprints(sources: Sequence[Source], rules: Sequence[TopicRule]) -> dict[str, str]:
    """Per source, a hash of everything in the config its classification depends on, apart from
    the entries' text: when it changes, that source's stored entries are classified again."""
    shared = json.dumps([[r.name, r.keywords, r.categories] for r in rules])
    return {
        source.name: hashlib.sha1(
            json.dumps([source.topics, source.lang, shared]).encode(), usedforsecurity=False
        ).hexdigest()[:16]
        for source in sources
    }


def _iso639_1(tag: str | None) -> str | None:
    if not tag:
        return None
    code = tag.lower()
    return "zh" if code.startswith("zh") else code
