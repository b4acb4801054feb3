"""The TOML text of new `[[source]]` tables, as `add` and `opml import` write them.

Owns: TOML basic strings (everything escaped that TOML requires, and whatever else is not
printable, so that `cat feeds.toml` stays inert and a direction mark cannot make one name look
like another) and the order of a source's keys. Never reads or writes a file (config/edit.py
puts a table into the config, cli/opml.py prints them); imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

# the short escapes of TOML basic strings; any other character that is not printable is \uXXXX
_ESCAPES = {char: "\\" + letter for char, letter in zip('"\\\b\t\n\f\r', '"\\btnfr', strict=True)}


def source_block(name: str | None, url: str, topics: Sequence[str] = (), lang: str | None = None,
                 enabled: bool = True) -> str:  # fmt: skip
    """One `[[source]]` table, its keys in the order name, url, topics, lang, enabled; those not
    given are left out (a source without a name gets one made from its URL)."""
    lines = ["[[source]]"]
    if name is not None:
        lines.append(f"name = {toml_string(name)}")
    lines.append(f"url = {toml_string(url)}")
    if topics:
        lines.append(f"topics = [{', '.join(map(toml_string, topics))}]")
    if lang:
        lines.append(f"lang = {toml_string(lang)}")
    if not enabled:
        lines.append("enabled = false")
    return "\n".join(lines) + "\n"


def toml_string(value: str) -> str:
    """`value` as a TOML basic string on one line; ValueError for what no file can hold."""
    if any("\ud800" <= char <= "\udfff" for char in value):  # an undecodable byte of argv
        raise ValueError(
            f"{value!r} is not text a TOML file can hold (it has half of a UTF-16 pair)"
        )
    return '"' + "".join(map(_escaped, value)) + '"'


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    return f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08X}"
