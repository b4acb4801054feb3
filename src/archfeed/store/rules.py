"""The SQL of the config's [[mute]] and [[keep]] rules: which rows they hide, and by which rule.

Owns: a Rule as a condition of SQL (languages and sources as `IN`, topics through entry_topics,
phrases as whole words in any case and regexes through two functions registered on the
connection, each behind a cheap `instr` test where a phrase allows one), the order they are
tried in (mutes, then the keep rules of a row's source: with any, a row none of them keeps is
hidden), and an article's verdict (hidden when every copy is). Never puts a value into SQL text:
phrases, names and labels are parameters, patterns are numbers into this query's own list.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache

from archfeed.models import Muting, Rule
from archfeed.text import phrases

_COLUMN = {"title": "title", "text": "text", "author": "author", "url": "url",
           "category": "categories"}  # fmt: skip
NOT_KEPT = "not kept by the [[keep]] rules of "


def register(conn: sqlite3.Connection) -> None:
    """archfeed_match(value, kind, pattern), the whole-word and regex test the SQL asks."""
    conn.create_function("archfeed_match", 3, _match, deterministic=True)


def _match(value: str | None, kind: str, pattern: str) -> bool:
    return bool(value) and _compiled(kind, pattern).search(value or "") is not None


@lru_cache(maxsize=256)
def _compiled(kind: str, pattern: str) -> re.Pattern[str]:
    """A rule's pattern, compiled once per process: phrases as JSON, or a regex as written."""
    return phrases(tuple(json.loads(pattern))) if kind == "words" else re.compile(pattern)


def _rule(rule: Rule, row: str, params: list[object]) -> str:
    """Whether the row matches the rule's conditions (not its sources)."""
    parts = []
    if rule.langs:
        parts.append(f"{row}.lang IN ({_marks(rule.langs, params)})")
    if rule.topics:
        parts.append(f"EXISTS (SELECT 1 FROM entry_topics x WHERE x.seq = {row}.seq AND "
                     f"x.topic IN ({_marks(rule.topics, params)}))")  # fmt: skip
    for field, words, pattern in rule.fields:
        column = f"{row}.{_COLUMN[field]}"
        tests = [_words(column, words, params)] if words else []
        if pattern is not None:
            tests.append(f"archfeed_match({column}, 'regex', ?)")
            params.append(pattern)
        parts.append(f"({' OR '.join(tests)})")
    return f"({' AND '.join(parts)})"


def _words(column: str, words: tuple[str, ...], params: list[object]) -> str:
    call = f"archfeed_match({column}, 'words', ?)"
    if not all(word.isascii() for word in words):  # SQLite's lower() folds ASCII alone
        params.append(json.dumps(words))
        return call
    # the whole-word test in Python only where every word of a phrase is in the text
    screens = [" AND ".join(f"instr(lower({column}), ?)" for _ in word.split()) for word in words]
    params.extend(part.lower() for word in words for part in word.split())
    params.append(json.dumps(words))
    return f"(({') OR ('.join(screens)}) AND {call})"


def _verdict(rules: Sequence[Rule], row: str, params: list[object]) -> str:
    """The label of what hides the row, or NULL."""
    cases = []
    for rule in (r for r in rules if r.kind == "mute"):
        cases.append(f"WHEN {_applies(rule, row, params)} AND {_rule(rule, row, params)} THEN ?")
        params.append(rule.label)
    keeps = [rule for rule in rules if rule.kind == "keep"]
    if keeps:
        subject = " OR ".join(_applies(rule, row, params) for rule in keeps)
        kept = " OR ".join(f"({_applies(rule, row, params)} AND {_rule(rule, row, params)})"
                           for rule in keeps)  # fmt: skip
        cases.append(f"WHEN ({subject}) AND NOT ({kept}) THEN ? || {row}.source")
        params.append(NOT_KEPT)
    return f"(CASE {' '.join(cases)} END)"


def _applies(rule: Rule, row: str, params: list[object]) -> str:
    return f"{row}.source IN ({_marks(rule.sources, params)})" if rule.sources else "1"


def _marks(values: Sequence[str], params: list[object]) -> str:
    params.extend(values)
    return ", ".join("?" * len(values))


def clause(conn: sqlite3.Connection, muting: Muting, params: list[object]) -> str:
    """The WHERE fragment of the articles shown (`muting.hidden`: of those hidden), its
    parameters added to `params`. An article is hidden when every copy of it is: muting one
    copy's source leaves the article where another copy is not muted."""
    if not muting.rules:
        return "0 = 1" if muting.hidden else "1 = 1"
    register(conn)
    own = _verdict(muting.rules, "entries", params)
    other = _verdict(muting.rules, "c", params)
    shown_copy = (
        "(entries.cluster IS NOT NULL AND EXISTS (SELECT 1 FROM entries c WHERE c.cluster = "
        f"entries.cluster AND c.seq != entries.seq AND {other} IS NULL))"
    )
    if muting.hidden:
        return f"({own} IS NOT NULL AND NOT {shown_copy})"
    return f"({own} IS NULL OR {shown_copy})"


def label(conn: sqlite3.Connection, muting: Muting, params: list[object]) -> str:
    """A column of what hides each row (NULL: nothing), its parameters added to `params`."""
    if not muting.rules:
        return "NULL"
    register(conn)
    return _verdict(muting.rules, "entries", params)


def hits(conn: sqlite3.Connection, rules: Sequence[Rule]) -> list[int]:
    """How many stored entries each rule matches (on its sources, whatever its kind), in one
    pass: `check` names the rules that match none."""
    register(conn)
    params: list[object] = []
    sums = [f"sum({_applies(rule, 'entries', params)} AND {_rule(rule, 'entries', params)})"
            for rule in rules]  # fmt: skip
    row = conn.execute(f"SELECT {', '.join(sums)} FROM entries", params).fetchone()
    return [int(count or 0) for count in row]
