"""The HTML digest in a real browser: headless Chromium renders it at a phone-ish 600 px and a
desktop 1200 px, without horizontal scrolling, and takes screenshots (left in a temporary folder,
never committed). Skipped, saying why, where no Chromium is installed (.ci/run installs it)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, Cli

BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium here (.ci/run installs Debian's)"
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]  # fmt: skip


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import make_cli

    root = tmp_path_factory.mktemp("digest")
    cli: Cli = make_cli(root)
    cli.write_config(
        [(name, str(FIXTURES / f"{name}.xml")) for name in ("mixed-en", "mixed-ru", "rss2")]
        + [("hostile", str(FIXTURES / "jsonfeed.json"))],
        extra='[topics.databases]\nkeywords = ["postgresql", "database", "databases"]\n'
        '[topics.reliability]\ncategories = ["reliability", "resilience", "queues"]\n',
    )
    assert cli.fetch().returncode == 0
    done = cli.run("digest", "--format", "html")
    assert done.returncode == 0, done.stderr
    path = root / "digest.html"
    path.write_text(done.stdout, encoding="utf-8")
    return path


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("width", [600, 1200])
def test_digest_renders_without_horizontal_scrolling(
    page: Path, width: int, tmp_path: Path
) -> None:
    # the page with a probe appended: the browser reports how wide the content really is
    probe = page.with_name(f"probe-{width}.html")
    probe.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>document.title='W'+document.documentElement.scrollWidth+'H'+"
            "document.documentElement.scrollHeight</script></body>",
        ),
        encoding="utf-8",
    )
    dom = _chromium(
        f"--window-size={width},900", "--dump-dom", probe.as_uri(), profile=tmp_path / "a"
    )
    measured = re.search(r"<title>W(\d+)H(\d+)</title>", dom.stdout)
    assert measured, dom.stderr[-2000:]
    scroll_width, height = map(int, measured.groups())
    assert scroll_width <= width
    assert height > 300  # there is content, not an empty page
    shot = page.with_name(f"digest-{width}.png")
    taken = _chromium(f"--window-size={width},{min(height, 4000)}", f"--screenshot={shot}",
                      page.as_uri(), profile=tmp_path / "b")  # fmt: skip
    assert shot.exists(), taken.stderr[-2000:]
    png_width, png_height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert png_width == width and png_height > 300
    print(f"screenshot: {shot}")  # look at it with -s
