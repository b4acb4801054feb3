"""Drawing on a terminal the way the terminal itself will: rich's Console, how wide characters
are, and where a line of feed text may break.

Owns: `console()` (a Console for one Screen), `draw()` (printing with terminal widths) and
`feed_text()` (a rich Text that keeps words joined by a no-break space together). Never decides
what is printed (render/__init__.py, detail.py) nor reads the process's environment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.cells import CellTable
    from rich.console import Console, JustifyMethod, OverflowMethod
    from rich.containers import Lines
    from rich.style import Style
    from rich.text import Text

    from archfeed.models import Screen

NO_BREAK = "\u00a0"


def console(out: IO[str], screen: Screen) -> Console:
    """A rich Console that draws for `screen` and nothing else: whether it is a terminal and in
    colour was decided once, by the caller (cli/environment.py)."""
    from rich.console import Console

    # highlight=False keeps rich from colouring numbers and URLs inside feed text as if they were
    # code; _environ: rich reads no variable of this process behind the caller's back
    return Console(
        file=out,
        highlight=False,
        emoji=False,
        markup=False,
        width=screen.width,
        force_terminal=screen.terminal,
        no_color=screen.colours is None,
        # rich writes a hyperlink only through a colour system: without colours, the table
        # itself asks for no style but the links (render/table.py)
        color_system=screen.colours or ("standard" if screen.links else None),  # type: ignore[arg-type]
        _environ={},
    )


def draw(out: IO[str], screen: Screen, *renderables: Any) -> None:
    """Print `renderables` on `screen`, every character measured as a terminal draws it."""
    with _terminal_widths():
        console(out, screen).print(*renderables)


def feed_text(value: str = "", style: str | Style = "") -> Text:
    """Feed text for a table cell: literal (never markup), and wrapped only where a terminal
    reader would break it: never at a no-break space (French « », 12 000 €, 90 s)."""
    return _joined_type()(value, style=style)


@cache
def _joined_type() -> type[Text]:
    # the class is made on first use so that importing render does not import rich
    from rich.text import Text

    class Joined(Text):
        """rich wraps at every whitespace, no-break spaces included: they are stood in for by a
        character of the same width that is not whitespace, and put back in the wrapped lines."""

        def wrap(
            self,
            console: Console,
            width: int,
            *,
            justify: JustifyMethod | None = None,
            overflow: OverflowMethod | None = None,
            tab_size: int = 8,
            no_wrap: bool | None = None,
        ) -> Lines:
            plain = self.plain
            if NO_BREAK not in plain:
                return super().wrap(console, width, justify=justify, overflow=overflow,
                                    tab_size=tab_size, no_wrap=no_wrap)  # fmt: skip
            stand_in = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in plain)
            held = self.copy()
            held.plain = plain.replace(NO_BREAK, stand_in)  # same length: the styles stay put
            lines = Text.wrap(held, console, width, justify=justify, overflow=overflow,
                              tab_size=tab_size, no_wrap=no_wrap)  # fmt: skip
            for line in lines:
                line.plain = line.plain.replace(stand_in, NO_BREAK)
            return lines

    return Joined


@contextmanager
def _terminal_widths() -> Iterator[None]:
    """rich counts a spacing vowel sign (Unicode category Mc: Devanagari ि and ा, Bengali, Tamil…)
    as no cell; terminals that measure as glibc's wcwidth does (xterm, VTE, tmux) give it one, so
    a Hindi row came out wider than the screen. While drawing, rich reads a table that counts
    those marks as a terminal does; its caches are emptied on the way in and out, so that nothing
    measured one way is reused the other."""
    import rich.cells
    from rich.segment import Segment

    def forget() -> None:
        rich.cells.get_character_cell_size.cache_clear()
        rich.cells.cached_cell_len.cache_clear()
        Segment._split_cells.cache_clear()

    # rich.cells looks the name up at every measure; it is imported there, not exported
    load = rich.cells.load_cell_table  # type: ignore[attr-defined]
    rich.cells.load_cell_table = _terminal_table  # type: ignore[attr-defined]
    forget()
    try:
        yield
    finally:
        rich.cells.load_cell_table = load  # type: ignore[attr-defined]
        forget()


@cache
def _terminal_table(unicode_version: str = "auto") -> CellTable:
    """rich's table for `unicode_version`, with every spacing mark one cell wide."""
    from rich._unicode_data import load

    widths: list[tuple[int, int, int]] = []
    for start, end, width in load(unicode_version).widths:
        if width:
            widths.append((start, end, width))
            continue
        for point in range(start, end + 1):  # ~6,700 points in all: ~2 ms, once per process
            cells = int(unicodedata.category(chr(point)) == "Mc")
            if widths and widths[-1][2] == cells and widths[-1][1] == point - 1:
                widths[-1] = (widths[-1][0], point, cells)
            else:
                widths.append((point, point, cells))
    return load(unicode_version)._replace(widths=widths)
