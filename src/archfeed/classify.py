"""Classification of entries: their language and their topics.

Owns: the language decision (a source's configured `lang`, else the feed's declared language,
else `und`) and the topic rules (source topics, the entry's categories as slugs, `[topics.X]`
keywords and categories). Pure: never does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from archfeed.models import Classified, ParsedEntry, Source, TopicRule
from archfeed.text import slugify

UNDETERMINED = "und"


def classify(
    entry: ParsedEntry, source: Source, declared: str | None, rules: Sequence[TopicRule]
) -> Classified:
    if source.lang:
        lang, how = source.lang, "config"
    elif declared:
        lang, how = _iso639_1(declared), "declared"
    else:
        lang, how = UNDETERMINED, "detected"
    return Classified(lang=lang, lang_source=how, topics=topics_of(entry, source, rules))


def topics_of(entry: ParsedEntry, source: Source, rules: Sequence[TopicRule]) -> tuple[str, ...]:
    categories = {slug for slug in map(slugify, entry.categories) if slug}
    found = set(source.topics) | categories
    haystack = f"{entry.title}\n{entry.text}"
    for rule in rules:
        if rule.name in found:
            continue
        if categories.intersection(rule.categories) or (
            rule.keywords and _keywords(rule.keywords).search(haystack)
        ):
            found.add(rule.name)
    return tuple(sorted(found))


@lru_cache(maxsize=256)
def _keywords(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words or phrases, any case: `go` matches "Go 1.22" but never "google"; a phrase
    matches across any run of whitespace."""
    alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _iso639_1(tag: str) -> str:
    code = tag.lower()
    return "zh" if code.startswith("zh") else code
