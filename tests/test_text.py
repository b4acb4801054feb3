"""Feed text becomes inert plain text; excerpts and user times behave as documented."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archfeed.text import clean, excerpt, html_to_text, parse_duration, parse_when, slugify

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


@given(st.text())
def test_clean_never_leaves_a_control_or_bidi_character(text: str) -> None:
    assert not UNSAFE.search(clean(text))


@given(st.text())
def test_html_to_text_never_leaves_a_control_or_bidi_character(text: str) -> None:
    assert not UNSAFE.search(html_to_text(text))


@given(st.text(min_size=1), st.integers(min_value=1, max_value=300))
def test_excerpt_fits_and_marks_a_cut(text: str, limit: int) -> None:
    text = clean(text)
    cut = excerpt(text, limit)
    assert len(cut) <= limit
    if len(text) > limit:
        assert cut.endswith("…")
    else:
        assert cut == text


def test_excerpt_cuts_at_a_word_boundary() -> None:
    text = "Event sourcing keeps every change as an immutable event in an append-only log"
    assert excerpt(text, 30) == "Event sourcing keeps every…"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello <b>world</b></p><p>Next</p>", "Hello world Next"),
        ("a&amp;b &lt;tag&gt; &#8212; &nbsp;x", "a&b <tag> — x"),
        ("<script>alert(1)</script><style>p{}</style>kept", "kept"),
        ("<p onclick='x()'>click</p>", "click"),
        ("line<br>break", "line break"),
        ("\x1b]0;owned\x07title\x1b[31m red", "]0;ownedtitle[31m red"),
        ("abc\u202edef", "abcdef"),
        ("[bold red]literal[/]", "[bold red]literal[/]"),
        ('<a title="a > b" href="x">link</a>', "link"),
        ("<SCRIPT type=x>gone()</SCRIPT >shown<!-- note -->", "shown"),
        ("before<script>never closed", "before"),
        ("<titles>kept</titles><template><p>hidden</p></template>", "kept"),
        ("a < b and c>d, <3", "a < b and c>d, <3"),
        ('<a href="x" <b>bold</b>', "bold"),
        ("<pre>code</pre><preview>x</preview>y", "code xy"),
        ("<![CDATA[raw]]><?php echo 1 ?><!DOCTYPE html>text", "text"),
        (
            "&lt;script&gt;shown as text&lt;/script&gt;&#27;[31m",
            "<script>shown as text</script>[31m",
        ),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("#Micro Services", "micro-services"),
        ("AppSec", "appsec"),
        ("Базы данных", "базы-данных"),
        ("C++", "c"),
    ],
)
def test_slugify(label: str, slug: str) -> None:
    assert slugify(label) == slug


def test_durations_and_dates() -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert parse_duration("90min") == timedelta(minutes=90)
    assert parse_duration("6mo") == timedelta(days=180)
    assert parse_duration("1Y") == timedelta(days=365)
    assert parse_duration("90m") is None  # minutes or months?
    assert parse_duration("100y") == timedelta(days=36500)
    assert parse_duration("101y") is None
    assert parse_duration("99999999999999999999d") is None
    assert parse_when("2w", now) == now - timedelta(weeks=2)
    assert parse_when("2026-01-01", now) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_when("2026-01-01T10:00+02:00", now) == datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert parse_when("yesterday", now) is None
    assert parse_duration("7x") is None


def test_a_no_break_space_stays_and_a_run_of_spacers_goes() -> None:
    assert clean("Le «\xa0cache\xa0» distribué") == "Le «\xa0cache\xa0» distribué"
    assert clean("10\u202f000 requêtes") == "10\u202f000 requêtes"
    assert clean("a \xa0\xa0 b\n\tc") == "a b c"
    assert html_to_text("<p>Le «&nbsp;cache&nbsp;»</p><p>&nbsp;</p>") == "Le «\xa0cache\xa0»"
