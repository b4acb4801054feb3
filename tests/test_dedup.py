"""dedup.py: canonical URLs and the same-article decision, on hand-made pairs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archfeed.dedup import canonical_url, keys, same_article
from archfeed.dedup.boilerplate import words
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
    # under a title that says nothing the text says, the same opening is not enough
    assert not same_article(
        _article("a", "Idempotency keys in practice"), _article("b", "Other", summary)
    )


def test_signature_bands_only_for_texts_long_enough() -> None:
    assert keys(None, "t", "Comments").bands == ()
    bands = keys(None, "t", BODY).bands
    assert len(bands) == 16  # densified: every band, even for a 228-word text
    assert keys(None, "other title", BODY).bands == bands  # a pure function of the text


# -- excerpts: the opening rule ---------------------------------------------------------------

SOFT = (
    "The Soft Delete Trap In Laravel, enabling SoftDeletes is as easy as adding a trait to your "
    "model. Every query then quietly adds a deleted_at check, unique indexes stop meaning what "
    "they say, and reports count customers who left two years ago."
)
KAFKA = (
    "Полгода назад все наши Kafka consumers жили на виртуалках, и каждый деплой означал ручной "
    "rebalance и десять минут лага. Рассказываю, как мы перенесли их в Kubernetes, настроили "
    "static membership и ни разу не остановили обработку заказов."
)


def _excerpt(text: str, chars: int, tail: str = "…") -> str:
    return text[:chars].rstrip() + tail


def _copy(source: str, title: str, text: str, lang: str = "en", **sibling: object) -> Article:
    from archfeed.dedup import Sibling

    return Article(source, title, text, lang, keys(None, title, text, None, Sibling(**sibling)))  # type: ignore[arg-type]


def test_an_aggregators_generic_headline_over_the_same_opening_is_one_article() -> None:
    blog = _copy(
        "blog", "Why Soft Deletes Are Breaking Your SaaS Database (And How to Fix It)", SOFT
    )
    news = _copy(
        "technews",
        "Latest Architecture news from Tech News",
        _excerpt(SOFT, 84),
        generic_title=True,
    )
    assert same_article(blog, news)
    # the same headline not known to be generic, and unrelated to the article's: not enough
    assert not same_article(blog, _copy("technews", "Latest Architecture news", _excerpt(SOFT, 84)))


def test_a_retitled_russian_excerpt_cut_elsewhere_is_one_article() -> None:
    one = _copy("habr", "Как мы перенесли Kafka consumers на Kubernetes без даунтайма",
                _excerpt(KAFKA, 150, "… Читать далее"), "ru")  # fmt: skip
    two = _copy("vc", "Kafka consumers на Kubernetes: опыт миграции", _excerpt(KAFKA, 230), "ru")
    assert same_article(one, two)


def test_tails_edits_and_markup_do_not_hide_a_copy() -> None:
    title = "Why Soft Deletes Are Breaking Your SaaS Database"
    blog = _copy("blog", title, SOFT)
    for text in (
        _excerpt(SOFT, 160, "… Continue reading on Medium »"),
        _excerpt(SOFT, 160, " The post Why Soft Deletes… appeared first on Laravel Weekly."),
        "Update: the index section is new. " + _excerpt(SOFT, 160),
        _excerpt(SOFT.replace("adding a trait", "adding a trait 🚀").replace(",", " —"), 170),
        _excerpt(SOFT.replace("quietly", "quitely"), 160),  # a typo the other copy fixed
    ):
        assert same_article(blog, _copy("medium", title, text)), text


def test_a_retitled_excerpt_is_a_copy_within_days_and_a_quoting_follow_up_is_not() -> None:
    from datetime import UTC, datetime

    def dated(article: Article, day: int) -> Article:
        return replace(article, published=datetime(2026, 10, day, tzinfo=UTC))

    blog = _copy("blog", "Why Soft Deletes Are Breaking Your SaaS Database", SOFT)
    retitled = _copy(
        "devto", "Laravel's SoftDeletes trait, considered harmful", _excerpt(SOFT, 180)
    )
    assert same_article(dated(blog, 1), dated(retitled, 3))
    # the same opening quoted weeks later, under its own title: a follow-up
    weeks_later = replace(retitled, published=datetime(2026, 11, 20, tzinfo=UTC))
    assert not same_article(dated(blog, 1), weeks_later)


def test_excerpt_traps_stay_apart() -> None:
    intro = (
        "Hi, I'm Anna, a backend engineer at Acme Pay. I write about the boring parts of "
        "payments: ledgers, retries and the reports finance actually reads."
    )
    # one author's self-introduction: different articles under unrelated titles
    assert not same_article(
        _copy("blog", "How we sharded our ledger", _excerpt(intro, 140)),
        _copy("devto", "Why I stopped using ORMs", _excerpt(intro, 160)),
    )
    # parts of a series with one intro, counted in words
    assert not same_article(
        _copy("blog", "Ledgers, part one", _excerpt(intro, 140)),
        _copy("devto", "Ledgers, part two", _excerpt(intro, 140)),
    )
    # release notes from one template: the version differs
    notes = "We are happy to announce the release of Quarry {}. This release fixes the slow " \
        "startup on large repositories, the crash when a config file is empty and two leaks."  # fmt: skip
    assert not same_article(
        _copy("blog", "Quarry 2.3.1 released", notes.format("2.3.1")),
        _copy("news", "Quarry release", notes.format("2.3.2"), generic_title=True),
    )
    # a translation
    assert not same_article(
        _copy("a", "Soft deletes", SOFT), _copy("b", "Soft deletes", SOFT, "ru")
    )
    # an opening the source repeats (a series' shared intro) is no evidence, whatever follows
    lead = len(words(intro))
    assert not same_article(
        _copy(
            "blog", "Ledgers: double entry", intro + " Double entry means every move…", lead=lead
        ),
        _copy(
            "news",
            "Ledgers: what to store",
            intro + " Store amounts as integers…",
            generic_title=True,
        ),
    )
    # too short to be distinctive
    assert not same_article(
        _copy("a", "New release of Foo", "Foo is out. Get it now…"),
        _copy("b", "Foo: new release", "Foo is out. Get it now, it is…"),
    )


def test_a_copy_citing_its_original_is_the_same_article() -> None:
    original = Article("blog", "A", SOFT, "en", keys("https://anna.example/p", "A", SOFT))
    copy = Article(
        "medium", "Another title", "Short.", "en",
        keys("https://medium.com/@anna/x", "Another title", "Short.", "https://anna.example/p/"),
    )  # fmt: skip
    assert same_article(original, copy) and same_article(copy, original)


def test_siblings_find_what_a_source_repeats() -> None:
    from archfeed.dedup import siblings

    intro = "Part of the series on ledgers, where we build one from scratch."
    found = siblings(
        ["Latest news", "Latest news", "Ledgers 1", "Ledgers 2", "Other"],
        [
            "One thing… Read more",
            "Another… Read more",
            f"{intro} First we",
            f"{intro} Now we",
            "Unrelated text here",
        ],
        feed_title="Tech News",
    )
    assert [s.generic_title for s in found] == [True, True, False, False, False]
    assert found[2].lead == found[3].lead == len(words(intro))
    assert found[4].lead == 0
    assert siblings(["Latest Architecture news from Tech News"], ["x"], "Tech News")[
        0
    ].generic_title


def test_private_links() -> None:
    from archfeed.dedup.urls import is_private

    for url in ("http://localhost:4000/p", "http://127.0.0.1/p", "http://192.168.1.20/p",
                "http://10.0.0.5/p", "http://myblog.local/p", "http://devbox/p", None):  # fmt: skip
        assert is_private(url), url
    for url in ("https://anna.example/p", "https://8.8.8.8/p", "https://habr.com/ru/articles/1/"):
        assert not is_private(url), url


def test_what_follows_the_cut_is_the_feeds_and_a_note_ends_at_its_sentence() -> None:
    from archfeed.dedup.boilerplate import visible

    assert visible("One two three four… 💬 What would you add? Tell me below.") == [
        "one", "two", "three",
    ]  # fmt: skip
    # a writer's own "…" followed by more of the article is no cut
    text = "Wait… " + "the article goes on " * 20
    assert visible(text)[:2] == ["wait", "the"]
    assert visible("UPD: fixed in Node.js 22.9, link below. Сервис падал по OOM.") == [
        "сервис", "падал", "по", "oom",
    ]  # fmt: skip


def test_a_count_only_one_title_has_must_mark_a_part() -> None:
    text = _excerpt(SOFT, 200)
    base = _copy("blog", "Soft deletes are breaking your database", text)
    assert same_article(base, _copy("devto", "Soft deletes across 12 services broke our DB", text))
    for title in ("Soft deletes, part 2", "Soft deletes #2", "Soft deletes (2/3)",
                  "Soft deletes, part two", "Soft deletes 2.1"):  # fmt: skip
        assert not same_article(base, _copy("devto", title, text)), title


def test_an_untitled_items_title_speaks_of_nothing() -> None:
    """Two test items of a parser's suite, one untitled (its title is its text's start), whose
    texts differ in their first word: seen in ../shared/corpus."""
    body = ("with type=text/plain. This is not valid in Atom 1.0, where type must be one of text, "
            "html or xhtml. So the library does not parse it for now, and we may change that.")  # fmt: skip
    untitled = _copy("a", f"summary {body}"[:78] + "…", f"summary {body}")
    titled = _copy("b", "A & B. The history of the blink tag, invalid in Atom 1.0", f"title {body}")
    assert not same_article(untitled, titled)
