"""config/edit.py: a source added to or removed from a real feeds.toml, every other byte kept, and
a file it cannot edit exactly left as it was."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archfeed.config import load
from archfeed.config.edit import append_source, remove_source
from archfeed.errors import ConfigError
from archfeed.text.toml import source_block

NEW = source_block("new", "https://new.example/feed", ["news"], "en")
THREE = """\
[settings]
excerpt = 80

# the first one
[[source]]
name = "alpha"
url = "https://a.example/feed"

# beta: kept for its architecture posts
# (it moved once)
[[source]]
name = "beta"   # a note on the header's key
url = "https://b.example/feed"
topics = [
  "architecture",  # one per line
]
# enabled = false

# gamma's comment belongs to gamma
[[source]]
name = "gamma"
url = "https://c.example/feed"
"""
BETA = """\
# beta: kept for its architecture posts
# (it moved once)
[[source]]
name = "beta"   # a note on the header's key
url = "https://b.example/feed"
topics = [
  "architecture",  # one per line
]
"""


def _config(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _refused(path: Path, edit: Callable[..., object], *args: str) -> ConfigError:
    """The error of an edit that must leave the file, and its folder, exactly as they were."""
    before = path.read_bytes()
    listing = sorted(os.listdir(path.parent))
    with pytest.raises(ConfigError) as raised:
        edit(path, *args)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == listing  # no temporary file left behind
    return raised.value


def test_append_keeps_every_byte_and_adds_one_source(tmp_path: Path) -> None:
    old = (
        "# my feeds\n\n  [settings]   # odd spacing\nexcerpt   =\t40\n\n"
        '[[source]]\nname="one"\nurl =  "https://one.example/feed"  # the last line has no break'
    )
    path = _config(tmp_path, old)
    config = append_source(path, NEW)
    written = path.read_text(encoding="utf-8")
    assert written == old + "\n\n" + NEW
    assert [source.name for source in config.sources] == ["one", "new"]
    assert [source.name for source in load(path).sources] == ["one", "new"]
    assert load(path).sources[-1].topics == ("news",)
    assert os.listdir(tmp_path) == ["feeds.toml"]


@pytest.mark.parametrize(
    ("old", "joint"),
    [("", ""), ("# only a comment\n", "\n"), ("# then a blank line\n\n", ""), ("# x", "\n\n")],
)
def test_append_adds_only_the_missing_line_break_and_blank_line(
    tmp_path: Path, old: str, joint: str
) -> None:
    path = _config(tmp_path, old)
    append_source(path, NEW)
    assert path.read_text(encoding="utf-8") == old + joint + NEW


def test_append_to_a_crlf_file_writes_crlf(tmp_path: Path) -> None:
    old = b'# windows\r\n[[source]]\r\nname = "one"\r\nurl = "https://one.example/feed"\r\n'
    path = _config(tmp_path, old)
    append_source(path, NEW)
    written = path.read_bytes()
    assert written.startswith(old)
    added = written[len(old) :]
    assert added == b"\r\n" + NEW.replace("\n", "\r\n").encode()
    assert b"\n" not in added.replace(b"\r\n", b"")
    assert [source.name for source in load(path).sources] == ["one", "new"]


def test_append_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    old = codecs.BOM_UTF8 + '[[source]]\nname = "één"\nurl = "https://e.example/f"\n'.encode()
    path = _config(tmp_path, old)
    append_source(path, NEW)
    assert path.read_bytes() == old + b"\n" + NEW.encode()
    assert [source.name for source in load(path).sources] == ["één", "new"]


def test_the_file_mode_is_kept(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    path.chmod(0o640)
    append_source(path, NEW)
    assert path.stat().st_mode & 0o7777 == 0o640
    remove_source(path, "beta")
    assert path.stat().st_mode & 0o7777 == 0o640


def test_a_symlinked_config_stays_a_link_and_its_target_changes(tmp_path: Path) -> None:
    (tmp_path / "dotfiles").mkdir()
    target = _config(tmp_path / "dotfiles", THREE)
    link = tmp_path / "feeds-link.toml"
    link.symlink_to(target)
    append_source(link, NEW)
    assert link.is_symlink()
    assert link.readlink() == target
    assert target.read_text(encoding="utf-8") == THREE + "\n" + NEW
    remove_source(link, "alpha")
    assert link.is_symlink()
    assert "alpha" not in target.read_text(encoding="utf-8")
    assert sorted(os.listdir(tmp_path / "dotfiles")) == ["feeds.toml"]
    assert sorted(os.listdir(tmp_path)) == ["dotfiles", "feeds-link.toml"]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            source_block("beta", "https://other.example/feed"),
            "duplicate name 'beta' (also [[source]] #2) in [[source]] #4 (line 25)",
        ),
        (
            source_block(None, "https://b.example/feed"),
            "duplicate url 'https://b.example/feed' (also [[source]] #2) in [[source]] #4 (line 25)",
        ),
        (
            source_block("bad", "ftp://x.example/f"),
            "is not an http(s) URL, file:// URL or path in [[source]] #4 (line 26)",
        ),
    ],
)
def test_a_source_the_config_refuses_is_not_added(
    tmp_path: Path, block: str, expected: str
) -> None:
    path = _config(tmp_path, THREE)
    error = _refused(path, append_source, block)
    assert error.message.startswith(f"not adding the source to {path}; the file is unchanged:\n")
    assert expected in error.message
    assert error.hint == "the new [[source]] would begin at line 24"  # THREE has 22, then a blank


def test_a_source_after_an_inline_array_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, 'source = [{ name = "one", url = "https://one.example/feed" }]\n')
    error = _refused(path, append_source, NEW)
    assert "would not be read as one more source" in error.message
    assert error.hint is not None
    assert "inline array" in error.hint


def test_an_invalid_config_is_not_edited(tmp_path: Path) -> None:
    path = _config(tmp_path, '[[source]]\nurl = "https://x.example/f"\nnmae = "x"\n')
    for error in (_refused(path, append_source, NEW), _refused(path, remove_source, "x-example-f")):
        assert "must be a valid config to be edited; it is unchanged" in error.message
        assert "unknown key 'nmae' in [[source]] #1 (line 3)" in error.message


def test_a_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config file at"):
        append_source(tmp_path / "feeds.toml", NEW)
    with pytest.raises(ConfigError, match="no config file at"):
        remove_source(tmp_path / "feeds.toml", "beta")
    assert os.listdir(tmp_path) == []


def test_what_is_not_one_source_table_is_not_appended(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    for block in (NEW + NEW, "[settings]\nexcerpt = 1\n", "[source]\nurl = 'x'\n", "[[source]"):
        assert "not one [[source]] table" in _refused(path, append_source, block).message


def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    path = _config(tmp_path, THREE)
    monkeypatch.setattr(os, "fsync", full)
    for error in (_refused(path, append_source, NEW), _refused(path, remove_source, "beta")):
        assert error.message == f"cannot write {path}: No space left on device; it is unchanged"
        assert error.hint is not None
        assert "folder must be writable, with room for a copy" in error.hint


def test_a_file_changed_meanwhile_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, THREE)
    sync = os.fsync

    def editor_saves(fd: int) -> None:
        sync(fd)
        path.write_text(THREE + "# saved by an editor\n", encoding="utf-8")

    monkeypatch.setattr(os, "fsync", editor_saves)
    with pytest.raises(ConfigError, match="changed while it was being edited"):
        append_source(path, NEW)
    assert path.read_text(encoding="utf-8") == THREE + "# saved by an editor\n"
    assert os.listdir(tmp_path) == ["feeds.toml"]


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    mode = path.stat().st_mode & 0o7777
    path.chmod(mode & ~0o222)
    try:
        yield
    finally:
        path.chmod(mode)


_CHILD = """
import sys
from pathlib import Path
from archfeed.config.edit import append_source, remove_source
from archfeed.text.toml import source_block
from archfeed.errors import ConfigError
path = Path(sys.argv[1])
try:
    if sys.argv[2] == "append":
        append_source(path, source_block("new", "https://new.example/feed"))
    else:
        remove_source(path, "beta")
except ConfigError as exc:
    print(exc.message)
else:
    print("written")
"""


def _edit_without_privileges(path: Path, operation: str) -> str:
    """The edit run in a process the permission bits bind: root's overrides are dropped."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root, and no setpriv to drop the permission overrides")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    command = [*prefix, sys.executable, "-c", _CHILD, str(path), operation]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("operation", ["append", "remove"])
def test_a_read_only_file_or_folder_is_left_unchanged(tmp_path: Path, operation: str) -> None:
    path = _config(tmp_path, THREE)
    with _read_only(path):
        said = _edit_without_privileges(path, operation)
    assert said == f"cannot write {path}: it is read-only; it is unchanged"
    with _read_only(tmp_path):
        said = _edit_without_privileges(path, operation)
    assert said == f"cannot write {path}: Permission denied; it is unchanged"
    assert path.read_text(encoding="utf-8") == THREE
    assert os.listdir(tmp_path) == ["feeds.toml"]
    assert _edit_without_privileges(path, operation) == "written"  # what the test relies on


def test_remove_takes_out_exactly_the_source_and_its_comment(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    assert remove_source(path, "beta") == BETA
    assert path.read_text(encoding="utf-8") == THREE.replace(BETA, "")
    assert [source.name for source in load(path).sources] == ["alpha", "gamma"]


def test_remove_the_first_and_the_last(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    # the blank line before each goes with it: none is left doubled, nor at the end
    first = '\n# the first one\n[[source]]\nname = "alpha"\nurl = "https://a.example/feed"\n'
    assert remove_source(path, "alpha") == first
    assert path.read_text(encoding="utf-8") == THREE.replace(first, "")
    last = '\n# gamma\'s comment belongs to gamma\n[[source]]\nname = "gamma"\nurl = "https://c.example/feed"\n'
    assert remove_source(path, "gamma") == last
    assert path.read_text(encoding="utf-8") == THREE.replace(first, "").replace(last, "")


def test_remove_every_source_leaves_a_valid_file(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    for name in ("gamma", "alpha", "beta"):
        remove_source(path, name)
    assert load(path).sources == ()
    assert path.read_text(encoding="utf-8") == "[settings]\nexcerpt = 80\n\n# enabled = false\n"


def test_remove_finds_a_source_by_the_name_made_from_its_url(tmp_path: Path) -> None:
    path = _config(tmp_path, '[[source]]\nurl = "https://www.example.com/blog/feed.xml"\n')
    assert remove_source(path, "example-com-blog").startswith("[[source]]\n")
    assert path.read_text(encoding="utf-8") == ""


def test_remove_keeps_crlf_and_a_byte_order_mark(tmp_path: Path) -> None:
    crlf = THREE.replace("\n", "\r\n")
    path = _config(tmp_path, codecs.BOM_UTF8 + crlf.encode())
    assert remove_source(path, "alpha") == (
        '\r\n# the first one\r\n[[source]]\r\nname = "alpha"\r\nurl = "https://a.example/feed"\r\n'
    )
    assert remove_source(path, "beta") == BETA.replace("\n", "\r\n")
    expected = crlf.replace(BETA.replace("\n", "\r\n"), "").replace(
        '\r\n# the first one\r\n[[source]]\r\nname = "alpha"\r\nurl = "https://a.example/feed"\r\n',
        "",
    )
    assert path.read_bytes() == codecs.BOM_UTF8 + expected.encode()


@pytest.mark.parametrize("name", ["alpha", "tricky", "omega"])
@pytest.mark.parametrize("quote", ['"""', "'''"])
def test_a_multiline_string_with_a_table_like_line_is_never_corrupted(
    tmp_path: Path, name: str, quote: str
) -> None:
    text = (
        '[[source]]\nname = "alpha"\nurl = "https://a.example/f"\n\n'
        f'[[source]]\nname = "tricky"\nurl = "https://t.example/f"\ntopics = [{quote}\n'
        f"[settings]\n[[source]]\n# not a comment\n{quote}]\n\n"
        '[[source]]\nname = "omega"\nurl = "https://o.example/f"\n'
    )
    path = _config(tmp_path, text)
    before = tomllib.loads(text)["source"]
    try:
        removed = remove_source(path, name)
    except ConfigError as error:
        assert "cannot tell which lines hold the source" in error.message
        assert error.hint is not None
        assert "edit the file by hand" in error.hint
        assert path.read_text(encoding="utf-8") == text
        return
    after = tomllib.loads(path.read_text(encoding="utf-8"))["source"]
    assert after == [source for source in before if source["name"] != name]
    assert text.replace(removed, "", 1) == path.read_text(encoding="utf-8")


def test_remove_refuses_sources_written_as_an_inline_array(tmp_path: Path) -> None:
    path = _config(tmp_path, 'source = [{ name = "one", url = "https://one.example/feed" }]\n')
    error = _refused(path, remove_source, "one")
    assert error.message == (
        f"{path}: cannot tell which lines hold the source 'one' alone; the file is unchanged"
    )


def test_remove_an_unknown_name_says_the_nearest(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    error = _refused(path, remove_source, "betta")
    assert error.message == f"{path}: no source named 'betta'"
    assert error.hint == "did you mean 'beta'?"
    far = _refused(path, remove_source, "zzzzzz")
    assert far.hint == "'archfeed check' lists the sources by name"


HOSTILE = [
    'a "quoted" name',
    "back\\slash\\",
    "line\nbreak\r\n",
    "\x1b[31mred\x1b[0m\x07",
    "tab\there, nul\x00, del\x7f, c1\x85\x9b",
    "bidi\u202eevil\u2066 zero\u200b width, line sep\u2028",
    "\U000e0041 tag, 😀 emoji, ünïcødé",
    "''' and \"\"\" and ]] and # not a comment",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_round_trip_through_toml(value: str) -> None:
    block = source_block(value, f"https://x.example/{value}", [value, "plain"], value)
    assert tomllib.loads(block) == {
        "source": [
            {
                "name": value,
                "url": f"https://x.example/{value}",
                "topics": [value, "plain"],
                "lang": value,
            }
        ]
    }
    assert len(block.split("\n")) == 6  # four keys, each on its own line, and the header
    assert block.replace("\n", "").isprintable()


def test_empty_keys_are_left_out() -> None:
    assert source_block(None, "https://x.example/f") == '[[source]]\nurl = "https://x.example/f"\n'
    assert source_block("n", "u", (), "") == '[[source]]\nname = "n"\nurl = "u"\n'
    assert source_block("n", "u", ["a", "b"], "ru") == (
        '[[source]]\nname = "n"\nurl = "u"\ntopics = ["a", "b"]\nlang = "ru"\n'
    )


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="half of a UTF-16 pair"):
        source_block("bad\udcff", "https://x.example/f")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a file another user's")
def test_the_owner_and_group_are_kept(tmp_path: Path) -> None:
    path = _config(tmp_path, THREE)
    os.chown(path, 65534, 65534)
    append_source(path, NEW)
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
