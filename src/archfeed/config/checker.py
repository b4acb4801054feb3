"""Validation helpers for the config: where each table and key stands, and problem messages.

Owns: line numbers (tomllib reports none), unknown-key detection with a did-you-mean, and type
checks that collect every problem before reporting. Never decides defaults or builds Sources.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from archfeed.text import ambiguous_unit, parse_duration


class Lines:
    """Line numbers of tables and keys, which tomllib does not report."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[tuple[str, ...], str], int] = {}
        table: tuple[str, ...] = ()
        arrays: dict[str, int] = {}  # [[source]], [[mute]], [[keep]]: each numbered from 1
        for number, line in enumerate(text.splitlines(), start=1):
            if header := self._HEADER.match(line):
                name = header.group(2).replace('"', "").replace("'", "")
                if header.group(1) == "[[":
                    arrays[name] = arrays.get(name, 0) + 1
                    table = (name, str(arrays[name]))
                else:
                    table = tuple(part.strip() for part in name.split("."))
                self.tables.setdefault(table, number)
            elif key := self._KEY.match(line):
                self.keys.setdefault((table, key.group(1).strip("\"'")), number)

    def of(self, table: tuple[str, ...], key: str | None = None) -> int | None:
        if key is not None and (table, key) in self.keys:
            return self.keys[(table, key)]
        return self.tables.get(table)


class Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = Lines(text)
        self.problems: list[str] = []

    def problem(self, where: str, table: tuple[str, ...], key: str | None, message: str) -> None:
        line = self.lines.of(table, key)
        at = f" (line {line})" if line else ""
        self.problems.append(f"{self.path}: {message} in {where}{at}")

    def known_keys(
        self, where: str, table: tuple[str, ...], data: dict[str, Any], allowed: tuple[str, ...]
    ) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                # an unknown table ([setings]) has a header line, not a key line
                line = self.lines.of(table, key) or self.lines.of((*table, key))
                at = f" (line {line})" if line else ""
                guess = f"; did you mean '{close[0]}'?" if close else ""
                self.problems.append(f"{self.path}: unknown key '{key}' in {where}{at}{guess}")

    def typed(
        self,
        where: str,
        table: tuple[str, ...],
        data: dict[str, Any],
        key: str,
        kinds: tuple[type, ...],
        what: str,
    ) -> Any:
        value = data.get(key)
        if value is None:
            return None
        # bool is an int to Python, never to a user: `excerpt = true` is a mistake
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.problem(where, table, key, f"'{key}' must be {what}")
            return None
        return value

    def duration(
        self, where: str, table: tuple[str, ...], data: dict[str, Any], key: str, most: timedelta
    ) -> timedelta | None:
        """A duration written as the command line takes them (`10min`, `6h`, `1d`), up to `most`."""
        value = self.typed(where, table, data, key, (str,), 'a duration such as "10min"')
        delta = parse_duration(value) if value is not None else None
        if value is not None and (delta is None or delta > most):
            why = "minutes or months? write min or mo" if ambiguous_unit(value) else (
                f"a number and min, h, d or w, up to {most.days}d")  # fmt: skip
            self.problem(where, table, key, f"'{key}' is not a duration: {value!r} ({why})")
            return None
        return delta

    def strings(
        self, where: str, table: tuple[str, ...], data: dict[str, Any], key: str
    ) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(where, table, key, f"'{key}' must be a list of strings")
            return ()
        return tuple(value)
