"""Language detection: what the text itself says first, langdetect only when that is not enough.

Owns: the decision of an entry's ISO 639-1 code from its title and text, with the feed's declared
language and the user's expected languages as priors. Deterministic: the same input gives the
same answer in any thread or process. Never does I/O beyond loading langdetect's profiles once.

Order of evidence, cheapest and surest first:
1. Scripts particular to one language or family (kana → ja, Hangul → ko, Han → zh, Greek, Hebrew,
   Thai…). Any Cyrillic word makes the text Cyrillic-language (English writers do not write in
   Cyrillic; Russian writers write in English terms all the time), then letters particular to one
   language (і ї є ґ → uk; ы э ё → ru; ў → be; ђ ћ џ → sr) decide which.
2. For Latin script, function words: "the/and/of" against "der/und/ist", "le/les/est", "el/los/
   para", "não/uma/com"… A clear winner decides; neighbours left level are told apart by their
   spellings (Danish "genereret", Norwegian "generert", Swedish "genererad") when those differ.
3. Otherwise langdetect (classify/ngrams.py), seeded, with the declared and expected languages
   as priors: among the languages the words narrowed the text to (Danish and Norwegian) when
   they did, else among those written in Latin letters for a text in them, else among all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from archfeed.classify import ngrams
from archfeed.classify.ngrams import UNDETERMINED
from archfeed.classify.vocabulary import (
    ARABIC,
    FAMILIES,
    FUNCTION_WORDS,
    LETTERS,
    NEIGHBOUR_SPELLINGS,
    PERSIAN,
    SPELLINGS,
    VIETNAMESE,
)
from archfeed.models import LangSource

_SAMPLE_CHARS = 400  # enough for a decision; langdetect's cost grows with the text
_SHORT_WORDS = 8  # up to this many words, langdetect's answer must be a plausible language

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kana", re.compile("[\u3040-\u30ff\u31f0-\u31ff]")),
    ("hangul", re.compile("[\uac00-\ud7af\u1100-\u11ff]")),
    ("han", re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("cyrillic", re.compile("[\u0400-\u04ff]")),
    ("greek", re.compile("[\u0370-\u03ff]")),
    ("hebrew", re.compile("[\u0590-\u05ff]")),
    ("arabic", re.compile("[\u0600-\u06ff]")),
    ("thai", re.compile("[\u0e00-\u0e7f]")),
    ("devanagari", re.compile("[\u0900-\u097f]")),
    ("armenian", re.compile("[\u0530-\u058f]")),
    ("georgian", re.compile("[\u10a0-\u10ff]")),
)
_SCRIPT_WORDS = {name: re.compile(f"{pattern.pattern}{{2,}}") for name, pattern in _SCRIPTS}
_ONE_LANGUAGE_SCRIPTS = {
    "hangul": "ko", "greek": "el", "hebrew": "he", "thai": "th", "armenian": "hy", "georgian": "ka",
    "devanagari": "hi",
}  # fmt: skip
# letters that only one Cyrillic language writes
_CYRILLIC_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (lang, re.compile(f"[{letters}]"))
    for lang, letters in {"uk": "іїєґІЇЄҐ", "ru": "ыэёЫЭЁ", "be": "ўЎ", "sr": "ђћџЂЋЏ",
                          "mk": "ѓќѕЃЌЅ", "kk": "әғқңөұүһӘҒҚҢӨҰҮҺ"}.items()
)  # fmt: skip
# Short words only one of the two writes: "ми", "що", "з" are Ukrainian, "мы", "что", "с" Russian
_CYRILLIC_WORDS = {
    "uk": frozenset("що як це та від але або щоб коли чому ми ви вони з із його її є".split()),
    "ru": frozenset("что как это и или но чтобы когда почему мы вы они с со из его её".split()),
}
_ARABIC_SCRIPT_LANGS = frozenset(("ar", "fa", "ur"))  # those langdetect knows
_ANY: frozenset[str] = frozenset()  # no family: langdetect chooses among all it knows
_BEYOND_LATIN = re.compile("[^\x00-\u024f]")  # below U+0250, no script of _SCRIPTS
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
# a hyphenated compound is one word: "end-to-end" in a French title is jargon, not English "to"
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# word → the languages it is a function word of ("des" is German and French): a lookup per word
_FUNCTION_WORD_LANGS: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, vocabulary in FUNCTION_WORDS.items() if word in vocabulary)
    for word in frozenset().union(*FUNCTION_WORDS.values())
}
_DECIDES = 2.0  # evidence enough, when it is also twice the runner-up's or _MARGIN more
_MARGIN = 1.0


def _function_word_scores(words: Sequence[str]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for word in words:
        for lang in _FUNCTION_WORD_LANGS.get(word, ()):
            scores[lang] = scores.get(lang, 0.0) + 1.0
    return scores


def detect(
    title: str, text: str, declared: str | None = None, expected: Sequence[str] = ()
) -> tuple[str, LangSource]:
    """The language of an entry, and how it was decided: DETECTED from the text, or DECLARED
    when the text could not tell and the feed's declared language stood."""
    lang, by_text = _detect(title, text, declared, expected)
    return lang, (LangSource.DECLARED if not by_text and lang == declared else LangSource.DETECTED)


def _detect(
    title: str, text: str, declared: str | None, expected: Sequence[str]
) -> tuple[str, bool]:
    sample = f"{title}. {text[:_SAMPLE_CHARS]}" if text else title
    priors = [lang for lang in (declared, *expected) if lang]
    latin_only = True  # no letter of another script, only Latin ones, digits, signs, emoji
    if _BEYOND_LATIN.search(sample):  # most samples are Latin only: one scan instead of eleven
        counts = {name: len(pattern.findall(sample)) for name, pattern in _SCRIPTS}
        latin_only = not any(counts.values())
        by_script = _by_script(sample, counts, len(_LATIN_LETTER.findall(sample)))
        if by_script:
            return by_script, True
    words = [word.lower() for word in _WORD.findall(sample)]
    if not words:
        return (priors[0], False) if priors else (UNDETERMINED, False)
    by_words, family = _by_words(sample, title, words, priors)
    if by_words:
        return by_words, True
    # a text in Latin letters alone is in a language written in them: langdetect weighs ~30
    # languages instead of 55, for each n-gram it samples
    among = family or (ngrams.LATIN_SCRIPT if latin_only else _ANY)
    found, by_text = ngrams.guess(sample, priors, among=among)
    latin = len(_LATIN_LETTER.findall(sample)) * 2 > len(sample.replace(" ", ""))
    unlisted = found not in FUNCTION_WORDS and found not in priors
    # within a family the text named, any answer is a plausible one (Slovenian among š and ž)
    if latin and len(words) <= _SHORT_WORDS and unlisted and not family:
        # langdetect is sure of nonsense on a few words of jargon ("Kafka vs RabbitMQ" comes out
        # Swahili): such a title is English unless the feed says otherwise
        latin_priors = [lang for lang in priors if lang in FUNCTION_WORDS]
        return (latin_priors[0], False) if latin_priors else ("en", True)
    return found, by_text


def _by_words(
    sample: str, title: str, words: Sequence[str], priors: Sequence[str]
) -> tuple[str | None, frozenset[str]]:
    """The language the words and letters tell, when they tell one apart from the others; else
    the family they tell, when they do, for langdetect to choose in."""
    scores = _function_word_scores(words)
    lettered = False  # a letter or spelling English does not write (å, š, -ları) was seen
    ascii_only = sample.isascii()  # most of a developer's feeds are: no letter to look for
    if not ascii_only and VIETNAMESE.search(sample):
        return "vi", _ANY
    for pattern, langs in SPELLINGS if ascii_only else LETTERS:
        if pattern.search(sample):
            lettered = True
            for lang in langs:
                scores[lang] = scores.get(lang, 0.0) + 1.5
    if _title_case(title):
        scores["en"] = scores.get("en", 0.0) + 1.5
    if not scores:
        return None, _ANY
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    # evidence that only one language has decides (a word several share counts for all of them:
    # "to" is English and Czech, "se" Croatian and Spanish, "for" four languages)
    if not runner_up or (
        score >= _DECIDES and (score >= 2 * runner_up or score - runner_up >= _MARGIN)
    ):
        return best, _ANY
    # a tie between languages the user expects and others: the expected one (the feed's
    # declared language first)
    expected = next((lang for lang in priors if scores.get(lang) == score), None)
    if expected:
        return expected, _ANY
    # evidence shared by neighbours ("på", "š"): too little to decide, enough to name the ones
    # langdetect chooses among, not the family's others ("til" is Danish and Norwegian, never
    # Swedish); with evidence enough, their spellings may tell them apart first
    close = {lang for lang, points in ranked if points > score - _MARGIN}
    family = next((f for f in FAMILIES if close <= f), _ANY)
    among = frozenset(close) if len(close) > 1 or not family else family
    if not family or (score < _DECIDES and not lettered):
        # "¿" and "en" (Spanish, Swedish), or one shared word among jargon ("TIL: git
        # worktree"): one of them, or English
        return None, among | {"en"}
    return _told_apart(sample, close), among


def _told_apart(sample: str, close: set[str]) -> str | None:
    """The one of `close` that its neighbours' spellings point to, if one does."""
    spellings = next((s for family, s in NEIGHBOUR_SPELLINGS.items() if close <= family), ())
    found: dict[str, int] = {}
    lowered = sample.lower()
    for pattern, lang in spellings:
        if lang in close:
            found[lang] = found.get(lang, 0) + len(pattern.findall(lowered))
    ranked = sorted(found.values(), reverse=True)
    if ranked and ranked[0] and (len(ranked) == 1 or ranked[0] > ranked[1]):
        return max(found, key=found.__getitem__)
    return None


def _title_case(title: str) -> bool:
    """ "Understanding Rust Lifetimes": capitalising every word is an English habit; Romance
    languages write titles in sentence case, German capitalises nouns only."""
    words = [word for word in _WORD.findall(title) if len(word) > 1]
    return len(words) >= 3 and all(word[0].isupper() for word in words)


def _by_script(sample: str, counts: dict[str, int], latin: int) -> str | None:
    if counts["kana"]:
        return "ja"
    if counts["hangul"] and counts["hangul"] >= counts["han"]:
        return "ko"
    if counts["han"] >= 2:
        return "zh"
    cyrillic = counts["cyrillic"]
    # a Cyrillic word among English terms makes a Russian (or Ukrainian…) text, unless it is a
    # quotation in a long Latin-script text
    if cyrillic and (cyrillic * 20 >= latin or latin < 200):
        return _cyrillic_language(sample)
    # so does a word of Devanagari, Arabic, Greek… letters: "Kotlin या Flutter?" is Hindi. A
    # word, not a letter: English writes λ, π and Σ
    for script, lang in (*_ONE_LANGUAGE_SCRIPTS.items(), ("arabic", "")):
        among_terms = counts[script] * 20 >= latin or latin < 200
        if counts[script] > latin or (among_terms and _SCRIPT_WORDS[script].search(sample)):
            return lang or _arabic_script(sample)
    return None


def _arabic_script(sample: str) -> str:
    """Persian or Arabic, by the letters only one of them writes; neither, or both: langdetect,
    on the Arabic-script words alone (the English terms among them would make it English)."""
    persian, arabic = bool(PERSIAN.search(sample)), bool(ARABIC.search(sample))
    if persian != arabic:
        return "fa" if persian else "ar"
    words = " ".join(_SCRIPT_WORDS["arabic"].findall(sample))
    return ngrams.guess(words, (), among=_ARABIC_SCRIPT_LANGS)[0]


def _cyrillic_language(sample: str) -> str:
    found = {lang: len(pattern.findall(sample)) for lang, pattern in _CYRILLIC_MARKERS}
    words = [word.lower() for word in _WORD.findall(sample)]
    for lang, vocabulary in _CYRILLIC_WORDS.items():
        found[lang] += sum(word in vocabulary for word in words)
    best = max(found, key=lambda lang: found[lang])
    if found[best] == 0:
        return "ru"  # no letter particular to one language: the most common one by far
    if best == "ru" and found["uk"] and found["uk"] >= found["ru"]:
        return "uk"
    return best
