"""dedup.py: canonical URLs and the same-article decision, on hand-made pairs."""

from __future__ import annotations

import pytest

from archfeed.dedup import canonical_url, keys, same_article
from archfeed.models import Article


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Blog.Example.com/Post/", "https://blog.example.com/Post"),
        ("https://www.example.com:443/a?b=2&a=1#comments", "https://example.com/a?a=1&b=2"),
        (
            "https://example.com/p?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y&ref=hn",
            "https://example.com/p?id=7",
        ),
        (
            "https://medium.com/@ann/post-1a2b?source=rss----5f1c2e---4",
            "https://medium.com/@ann/post-1a2b",
        ),
        ("https://example.com/p?source=github", "https://example.com/p?source=github"),
        ("https://example.com:8443/x/", "https://example.com:8443/x"),
        ("http://example.com/?mc_cid=1&mc_eid=2", "https://example.com"),
        ("ftp://example.com/x", None),
        ("", None),
    ],
)
def test_canonical_url(url: str, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


BODY = (
    "Idempotency keys let a client retry a payment request without charging the customer twice. "
    "The server stores the key with the response of the first request and returns that stored "
    "response for every retry that carries the same key, whatever happened in between. The hard "
    "part is the window between accepting a request and committing its result: two retries can "
    "arrive while the first attempt is still running, and both must wait for it rather than start "
    "their own. We solved it with a row lock on the key and a short lease, and this post walks "
    "through the schema, the lock, the lease renewal and the three bugs we shipped on the way. "
) * 2


def _article(
    source: str, title: str, text: str = BODY, url: str | None = None, lang: str = "en"
) -> Article:
    return Article(source, title, text, lang, keys(url, title, text))


def test_retitled_copy_with_a_footer_is_the_same_article() -> None:
    one = _article("blog", "Idempotency keys in practice")
    two = _article(
        "aggregator",
        "Latest news: idempotency done right",
        BODY + " Originally published at blog.example.com.",
    )
    assert same_article(one, two)


def test_traps_stay_apart() -> None:
    one = _article("blog", "Payments, part 1")
    assert not same_article(one, _article("blog", "Payments, part 1 (copy)"))  # same source
    assert not same_article(one, _article("devto", "Payments, part 2"))  # another part
    assert not same_article(one, _article("devto", "Payments, part 1", lang="ru"))  # translation
    short = _article("hn", "Show HN: a thing", "Comments")
    assert not same_article(short, _article("hn2", "Ask HN: another", "Comments"))


def test_summary_of_the_same_title_is_the_same_article() -> None:
    summary = " ".join(BODY.split()[:60])
    assert same_article(
        _article("a", "Idempotency keys in practice"),
        _article("b", "Idempotency Keys in Practice!", summary),
    )
    # a summary under another title is not enough
    assert not same_article(
        _article("a", "Idempotency keys in practice"), _article("b", "Other", summary)
    )


def test_signature_bands_only_for_texts_long_enough() -> None:
    assert keys(None, "t", "Comments").bands == ()
    bands = keys(None, "t", BODY).bands
    assert len(bands) == 16  # densified: every band, even for a 228-word text
    assert keys(None, "other title", BODY).bands == bands  # a pure function of the text
