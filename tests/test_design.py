"""docs/design.md stays true: what it names exists in the code, and what the code has, it names."""

from __future__ import annotations

import importlib
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from archfeed.errors import ExitCode
from archfeed.models import EntryDetail, LangSource, Source, StoredEntry
from test_readme import _registered

ROOT = Path(__file__).resolve().parents[1]
DESIGN = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "src" / "archfeed"


def section(title: str) -> str:
    """The text of the `## title` section."""
    parts = re.split(r"^## ", DESIGN, flags=re.M)
    (found,) = [part for part in parts if part.startswith(title + "\n")]
    return found


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table in `text`: its rows (header and rule left out) as cells."""
    found: list[list[list[str]]] = []
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            found.append(rows[2:])
            rows = []
    return found


def codes(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def keyed(title: str, table: int = 0) -> dict[str, str]:
    """The first column's code span → the second column, of a section's table."""
    return {codes(row[0])[0]: row[1] for row in tables(section(title))[table]}


def test_every_place_named_exists() -> None:
    places = [codes(row[1])[0] for row in tables(section("Where things are"))[0]]
    assert places
    for place in places:
        assert (ROOT / place).exists(), place


def test_every_command_is_named_with_the_function_that_is_it() -> None:
    listed = keyed("Where things are", 1)
    names = {name for name in _registered() if name}
    groups = {name.split()[0] for name in names if " " in name}  # `opml`: its subcommands count
    assert set(listed) == names - groups
    for where in listed.values():
        path, function = codes(where)[0].split(":")
        module = importlib.import_module("archfeed." + path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, function)), where


def test_every_file_of_the_package_is_named_and_every_named_one_exists() -> None:
    listed = set(keyed("Layers", 1))
    files = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert listed == files


def test_the_layers_are_the_packages_modules() -> None:
    from test_layout import BASE, MIDDLE, TOP

    rows = {codes(row[0])[0]: (row[1], row[3]) for row in tables(section("Layers"))[0]}
    assert {name for name, (layer, _) in rows.items() if layer == "base"} == BASE
    assert {name for name, (layer, _) in rows.items() if layer == "middle"} == set(MIDDLE)
    assert {name for name, (layer, _) in rows.items() if layer == "top"} == set(TOP)
    libraries = {**MIDDLE, **TOP}
    for name, (_, library) in rows.items():
        imported = {lib.replace("_", "-") for lib in libraries.get(name, set())}
        assert imported == ({library} if library else set()), name


def test_the_tables_and_columns_are_those_of_a_new_database(tmp_path: Path) -> None:
    from archfeed.store import SCHEMA_VERSION, Store

    with Store(tmp_path / "new.db"):
        pass
    conn = sqlite3.connect(tmp_path / "new.db")
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith("entries_fts")
    ]
    actual = {t: [c[1] for c in conn.execute(f"PRAGMA table_info({t})")] for t in names}
    conn.close()
    listed = {codes(row[0])[0]: codes(row[1]) for row in tables(section("Storage"))[0]}
    assert listed == actual
    assert f"schema version\n{SCHEMA_VERSION} in `user_version`" in section("Storage")
    versions = [int(row[0]) for row in tables(section("Storage"))[1]]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def _entry() -> StoredEntry:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return StoredEntry("0" * 16, "s", "t", None, "x", None, when, when, "en", ())


def test_every_json_key_is_named() -> None:
    from archfeed.render import entry_object
    from archfeed.render.detail import detail_object, source_object

    json_keys = {row[0]: codes(row[1]) for row in tables(section("The user-facing contract"))[0]}
    entry = entry_object(_entry(), 10)
    assert json_keys["`list` entry"] == list(entry)
    assert json_keys["`also_at` item"] == ["source", "url", "title"]
    when = datetime(2026, 1, 1, tzinfo=UTC)
    detail = detail_object(EntryDetail(_entry(), LangSource.CONFIG, (), when, None, True))
    assert json_keys["`show` (beyond a `list` entry)"] == [k for k in detail if k not in entry]
    assert json_keys["`sources` item"] == list(
        source_object(Source("s", "https://s.example"), None)
    )
    assert json_keys["`digest`"] == ["name", "generated", "count", "groups"]


def test_the_exit_codes_are_the_enum() -> None:
    rows = tables(section("The user-facing contract"))[1]
    assert {(int(row[0]), codes(row[1])[0]) for row in rows} == {
        (c.value, c.name) for c in ExitCode
    }


def test_the_global_options_filters_and_formats_are_the_code() -> None:
    from archfeed.cli.app import DETAIL_FORMATS, DIGEST_FORMATS, LIST_FORMATS
    from archfeed.cli.filters import _FILTERS
    from archfeed.render import FORMATS, detail, digest

    contract = section("The user-facing contract")
    named = set(re.findall(r"`(--[a-z-]+)`", contract.split("Filters, declared once")[0]))
    assert named == set(_registered()[""]) | {"--help"}
    filters = re.search(r"`langs`: (.*?)\. Repeating", contract, flags=re.S)
    assert filters is not None
    assert codes(filters.group(1)) == [f"--{name}" for name in _FILTERS]
    formats = contract.split("unknown one is a usage error):")[1].split(".\nWithout")[0]
    by_command = {}
    for clause in formats.replace("\n", " ").split(";"):
        commands, kinds = re.split(r" writes? ", clause)
        by_command.update(dict.fromkeys(codes(commands), codes(kinds)))
    assert by_command == {
        "list": list(FORMATS), "show": list(detail.FORMATS), "sources": list(detail.FORMATS),
        "topics": list(detail.FORMATS), "langs": list(detail.FORMATS),
        "digest": list(digest.FORMATS),
    }  # fmt: skip
    # the names the options take are those with a writer
    assert (LIST_FORMATS, DETAIL_FORMATS, DIGEST_FORMATS) == (
        FORMATS,
        detail.FORMATS,
        digest.FORMATS,
    )
