"""The `[[mute]]` and `[[keep]]` tables of the config, read into Rules.

Owns: their keys, what each may hold, and every problem with one (an unknown key, a regex that
does not compile, a source or language that does not exist, a rule with no condition), reported
with its line as any other config error. Never matches an entry: store/rules.py does, when a
command reads the database.
"""

from __future__ import annotations

import re
from typing import Any

from archfeed.config.checker import Checker
from archfeed.models import Rule, Source
from archfeed.text import did_you_mean, is_lang_code, slugify

KINDS = ("mute", "keep")
FIELDS = ("title", "text", "author", "url", "category")
_KEYS = ("name", "sources", "lang", "topic", *FIELDS, *(f"{field}_regex" for field in FIELDS))


def rules(check: Checker, data: dict[str, Any], sources: tuple[Source, ...]) -> tuple[Rule, ...]:
    """Every [[mute]] and [[keep]] table of `data` (the whole document), mutes first."""
    names = {source.name for source in sources}
    found: list[Rule] = []
    for kind in KINDS:
        raw = data.get(kind, [])
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            check.problem(
                "the file", (kind,), None, f"'{kind}' must be written as [[{kind}]] tables"
            )
            continue
        for number, item in enumerate(raw, start=1):
            rule = _rule(check, kind, number, item, names)
            if rule is not None:
                found.append(rule)
    return tuple(found)


def _rule(check: Checker, kind: str, number: int, item: dict[str, Any], names: set[str]
          ) -> Rule | None:  # fmt: skip
    table = (kind, str(number))
    where = f"[[{kind}]] #{number}"
    check.known_keys(where, table, item, _KEYS)
    sources = check.strings(where, table, item, "sources")
    for name in sources:
        if name not in names:
            check.problem(where, table, "sources", f"no source named {name!r}; "
                          + did_you_mean(name, names, "'archfeed check' lists them"))  # fmt: skip
    langs = tuple(code.lower() for code in check.strings(where, table, item, "lang"))
    for code in langs:
        if not is_lang_code(code):
            check.problem(where, table, "lang", f"'{code}' is not an ISO 639-1 code")
    topics = tuple(filter(None, map(slugify, check.strings(where, table, item, "topic"))))
    fields = []
    for field in FIELDS:
        phrases = tuple(p for p in check.strings(where, table, item, field) if p.strip())
        pattern = check.typed(where, table, item, f"{field}_regex", (str,), "a regular expression")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                check.problem(where, table, f"{field}_regex",
                              f"'{field}_regex' is not a regular expression: {exc}")  # fmt: skip
                continue
        if phrases or pattern:
            fields.append((field, phrases, pattern))
    if kind == "mute" and not (fields or langs or topics):
        # a mute with only `sources` would hide whole sources: that is `enabled = false`
        check.problem(where, table, None, "a [[mute]] needs a condition: title, text, author, url, "
                      "category (or their _regex), lang or topic")  # fmt: skip
        return None
    if kind == "keep" and not (fields or langs or topics):
        check.problem(where, table, None, "a [[keep]] needs a condition: what to keep")
        return None
    name = check.typed(where, table, item, "name", (str,), "a string")
    line = check.lines.of(table)
    label = name or (f"{where} (line {line})" if line else where)
    return Rule(kind, label, sources, langs, topics, tuple(fields))
