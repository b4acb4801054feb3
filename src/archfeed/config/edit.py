"""Edits of the config file for `archfeed add` and `archfeed remove`: one source in or out.

Owns: which lines of the file hold a source, and
writing the file again (atomically, in its own folder, mode, owner and group; through a symlink to
its target) once the edited text is proven to be the old document plus or minus exactly that one
source. Never reformats or rewrites what it does not add or remove: every other byte, comment and
blank line stays, and a file it cannot edit that way is left unchanged, with an error.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from archfeed.config import decode, parse_text, read_bytes
from archfeed.errors import ConfigError
from archfeed.models import Config
from archfeed.text import did_you_mean

# lines end at "\n" only: str.splitlines() also splits at U+2028, U+0085 and others, which TOML
# strings and comments may hold
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_TABLE = re.compile(r"[ \t]*\[(\[)?[^\[\]]+\](?(1)\])[ \t]*(?:#.*)?")
_SOURCE = re.compile(r"""[ \t]*\[\[[ \t]*(?:source|"source"|'source')[ \t]*\]\][ \t]*(?:#.*)?""")
_BY_HAND = "edit the file by hand"


def append_source(path: Path, block: str) -> Config:
    """Append `block`, one `[[source]]` table, to the config at `path` and return the new config.
    What the file holds stays as it is, byte for byte; only a line break and a blank line are put
    before the block when the file does not end with them."""
    raw, text = _read(path)
    old = _document(path, text)[1]
    newline = _newline(text)
    joint = _separator(text, newline)
    added = joint + block.replace("\r\n", "\n").replace("\n", newline)
    new_text = text + added
    new = _loads(block)
    if new is None or list(new) != ["source"] or not _is_one_table(new["source"]):
        raise ConfigError(
            f"not one [[source]] table: {block[:200]!r}", hint="make it with text.toml.source_block"
        )
    if _loads(new_text) != {**old, "source": [*old.get("source", []), *new["source"]]}:
        raise ConfigError(
            f"{path}: a [[source]] table added at its end would not be read as one more source; "
            "the file is unchanged",
            hint=f"its sources may be written as an inline array (source = [...]): {_BY_HAND}",
        )
    try:
        config = parse_text(path, new_text)
    except ConfigError as exc:
        first = (text + joint).count("\n") + 1
        raise ConfigError(
            f"not adding the source to {path}; the file is unchanged:\n{exc.message}",
            hint=f"the new [[source]] would begin at line {first}",
        ) from None
    _replace(path, raw, raw + added.encode("utf-8"))
    return config


def remove_source(path: Path, name: str) -> str:
    """Take the `[[source]]` table of the source named `name` out of the config at `path`, with
    the comment lines right above it, and return the text taken out (line breaks as the file has
    them). Comment and blank lines at its end stay: they belong to what follows."""
    raw, text = _read(path)
    config, old = _document(path, text)
    names = [source.name for source in config.sources]
    if name not in names:
        raise ConfigError(
            f"{path}: no source named {name!r}",
            hint=did_you_mean(name, names, "'archfeed check' lists the sources by name"),
        )
    index = names.index(name)
    lines = _LINE.findall(text)
    start, end = _table_lines(lines, index) or (0, 0)
    offset = sum(map(len, lines[:start]))
    removed = "".join(lines[start:end])
    new_text = text[:offset] + text[offset + len(removed) :]
    expected = {key: value for key, value in old.items() if key != "source"}
    if rest := [*old["source"][:index], *old["source"][index + 1 :]]:
        expected["source"] = rest
    if not removed or _loads(new_text) != expected:
        raise ConfigError(
            f"{path}: cannot tell which lines hold the source {name!r} alone; "
            "the file is unchanged",
            hint=f"{_BY_HAND}: sources written as an inline array (source = [...]), or a "
            "string with a line that looks like a [table], are not edited",
        )
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    _replace(path, raw, bom + new_text.encode("utf-8"))
    return removed


def _table_lines(lines: list[str], index: int) -> tuple[int, int] | None:
    """The lines, from and up to, of the `index`th [[source]] table as the lines suggest, with the
    comment right above it; remove_source verifies what TOML makes of the rest."""
    headers = [number for number, line in enumerate(lines) if _SOURCE.fullmatch(_bare(line))]
    if index >= len(headers):
        return None
    header = headers[index]
    end = next(
        (n for n in range(header + 1, len(lines)) if _TABLE.fullmatch(_bare(lines[n]))), len(lines)
    )
    while end > header + 1 and (not lines[end - 1].strip() or _is_comment(lines[end - 1])):
        end -= 1
    start = header
    while start > 0 and _is_comment(lines[start - 1]):
        start -= 1
    if start > 0 and not lines[start - 1].strip() and (end == len(lines) or not lines[end].strip()):
        start -= 1  # the blank line that set it apart (add wrote it) goes too: none is doubled
    return start, end


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and its text, as `load` reads them: bounded, without the BOM."""
    raw = read_bytes(path)
    return raw, decode(path, raw)


def _document(path: Path, text: str) -> tuple[Config, dict[str, Any]]:
    """The config and TOML document the file holds now, which must be valid to be edited."""
    try:
        config = parse_text(path, text)
    except ConfigError as exc:
        raise ConfigError(
            f"{path} must be a valid config to be edited; it is unchanged:\n{exc.message}",
            hint="fix it first ('archfeed check' names each problem), then try again",
        ) from None
    return config, tomllib.loads(text)


def _is_one_table(sources: Any) -> bool:
    return isinstance(sources, list) and len(sources) == 1 and isinstance(sources[0], dict)


def _loads(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _newline(text: str) -> str:
    """The file's line break, as its first line ends."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _separator(text: str, newline: str) -> str:
    """What goes between the file's text and a new table: enough for the table to start after a
    blank line (nothing in an empty file)."""
    if not text:
        return ""
    if not text.endswith("\n"):
        return newline * 2
    return "" if not text[:-1].rsplit("\n", 1)[-1].strip() else newline


def _replace(path: Path, old: bytes, new: bytes) -> None:
    """Put `new` in place of the file at `path`, which held `old`: all of it or nothing."""
    target = path.resolve()  # a symlinked config stays a symlink: its target gets the new text
    hint = (
        f"the new text is written beside {target} and renamed over it: its folder must be "
        "writable, with room for a copy"
    )
    try:
        status = target.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ConfigError(f"{path} is not a regular file; it is unchanged", hint=_BY_HAND)
        # a rename needs only the folder's permission: it would replace a file its owner made
        # read-only to keep it as it is
        if not os.access(target, os.W_OK):
            raise ConfigError(
                f"cannot write {path}: it is read-only; it is unchanged",
                hint="make it writable (chmod u+w) first",
            )
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise ConfigError(_cannot_write(path, exc), hint=hint) from None
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(handle, stat.S_IMODE(status.st_mode))
            made = os.fstat(handle)
            if (made.st_uid, made.st_gid) != (status.st_uid, status.st_gid):
                os.fchown(handle, status.st_uid, status.st_gid)  # readers by group keep reading
            out.write(new)
            out.flush()
            os.fsync(handle)
        # an editor may have saved the file meanwhile: its text is not to be lost
        if read_bytes(target) != old:
            raise ConfigError(
                f"{path} changed while it was being edited; it is as the other writer left it",
                hint="run the command again",
            )
        temp.replace(target)  # atomic: readers see the old file or the new one, never half
    except OSError as exc:
        raise ConfigError(_cannot_write(path, exc), hint=hint) from None
    finally:
        temp.unlink(missing_ok=True)  # gone already once it replaced the file
    # the rename is durable once the folder is on disk; the edit is made either way, so a folder
    # that cannot be synced (some network file systems) is no error
    with contextlib.suppress(OSError):
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _cannot_write(path: Path, error: OSError) -> str:
    return f"cannot write {path}: {error.strerror or error}; it is unchanged"
