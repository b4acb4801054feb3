"""docs/design.md, "Layers": each module owns one thing, says so in its docstring, stays small, and imports only
what its layer allows."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "archfeed"
BASE = {"models", "errors", "text"}
# each middle module, and the one third-party library it may use
MIDDLE = {
    "config": {"platformdirs"},
    "fetch": {"httpx"},
    "parse": {"feedparser"},
    "classify": {"langdetect"},
    "dedup": set(),
    "store": {"sqlite_utils"},
    "render": {"rich"},
    "opml": set(),
}
TOP = {"update": set(), "cli": {"typer"}}


def _modules() -> list[Path]:
    """Every module file; a subpackage (store/, config/) counts as the one module it is named for."""
    files = [*PACKAGE.glob("*.py"), *PACKAGE.glob("*/*.py")]
    return sorted(p for p in files if _owner(p) not in {"__init__", "__main__"})


def _owner(path: Path) -> str:
    return path.stem if path.parent == PACKAGE else path.parent.name


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_module_is_in_the_design() -> None:
    assert {_owner(p) for p in _modules()} <= BASE | set(MIDDLE) | set(TOP)


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_imports_follow_the_layers(path: Path) -> None:
    module = _owner(path)
    own = set()
    third_party = set()
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "archfeed":
            sibling = name.removeprefix("archfeed").lstrip(".").split(".")[0] or "archfeed"
            if sibling != module:  # a package's own submodules are the same module
                own.add(sibling)
        elif top not in sys.stdlib_module_names and top != "__future__":
            third_party.add(top)
    if module in BASE:
        assert not own, f"{module} may import only the standard library"
        assert not third_party
    elif module in MIDDLE:
        assert own <= BASE | {"archfeed"}, f"{module} imports a sibling: {own - BASE}"
        assert third_party <= MIDDLE[module], f"{module} imports {third_party - MIDDLE[module]}"
    else:
        assert third_party <= TOP[module], f"{module} imports {third_party - TOP[module]}"
        if module == "update":
            assert "cli" not in own


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_module_says_what_it_owns_and_stays_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert "Owns:" in doc or "owns" in doc.lower(), f"{path.name}: docstring must say what it owns"
    assert "Never" in doc or "never" in doc, f"{path.name}: docstring must say what it never does"
    assert len(text.splitlines()) <= 320, f"{path.name} has grown past ~300 lines: split it"


def test_version_and_help_do_not_import_the_heavy_libraries() -> None:
    import subprocess

    code = (
        "import sys; sys.argv = ['archfeed', '--version']\n"
        "from archfeed import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('httpx', 'feedparser', 'langdetect', 'sqlite_utils', 'rich', 'archfeed.models',"
        " 'archfeed.render', 'archfeed.store', 'archfeed.update')\n"
        "print(' '.join(sorted(m for m in heavy if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["archfeed 0.1.0", ""]
