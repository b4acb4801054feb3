"""langdetect, the n-gram model that decides what the word and letter rules cannot.

Owns: langdetect's profiles (loaded once per process, under a lock) and a seeded guess, either
among every language langdetect knows or among a family the rules narrowed the text to. Never
decides by words or scripts (classify/language.py).

Narrowing is faster as well as surer. langdetect updates a probability per language it knows
for each n-gram it samples, and close languages converge slowly: a Danish or Norwegian text took
~8 ms among 55 languages and takes ~2 ms among Danish, Norwegian and Swedish, which the words
had already told it is one of (measured on tests/data/languages_world.tsv).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

UNDETERMINED = "und"
# the languages langdetect knows that are written in Latin letters
LATIN_SCRIPT = frozenset(
    "af ca cs cy da de en es et fi fr hr hu id it "
    "lt lv nl no pl pt ro sk sl so sq sv sw tl tr vi".split()
)

_everything: Any = None
_lock = threading.Lock()


def load() -> Any:
    """The factory of every profile, loaded on first use (~0.3 s): loading it from two threads
    at once fails with 'Need to load profiles'."""
    global _everything  # noqa: PLW0603 -- one shared, immutable-once-loaded profile set
    with _lock:
        if _everything is None:
            from langdetect.detector_factory import PROFILES_DIRECTORY

            _everything = _seeded(lambda factory: factory.load_profile(PROFILES_DIRECTORY))
        return _everything


@cache
def _family(langs: frozenset[str]) -> Any:
    """A factory of `langs`' profiles alone (a few ms each, read once per family)."""
    from pathlib import Path

    from langdetect.detector_factory import PROFILES_DIRECTORY

    files = [Path(PROFILES_DIRECTORY) / lang for lang in sorted(langs)]
    return _seeded(
        lambda factory: factory.load_json_profile([f.read_text(encoding="utf-8") for f in files])
    )


def _seeded(fill: Any) -> Any:
    from langdetect.detector_factory import DetectorFactory

    factory = DetectorFactory()
    fill(factory)
    factory.seed = 0  # langdetect samples n-grams at random: a fixed seed, a fixed answer
    return factory


def guess(sample: str, priors: Sequence[str], among: Collection[str] = ()) -> tuple[str, bool]:
    """langdetect's answer for `sample` (True), or the first prior when it has none (False);
    among the languages of `among` when given (langdetect's codes: two or more), else among all.
    The priors weigh three times as much as any other language."""
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # a family's factory is made once, whichever thread asks first
        factory = _family(frozenset(among)) if among else None
    factory = factory or load()
    detector = factory.create()
    names = factory.get_lang_list()
    known = {code.split("-")[0] for code in names}
    favoured = [lang for lang in dict.fromkeys(priors) if lang in known]
    if favoured:
        detector.set_prior_map(
            {name: 3.0 if name.split("-")[0] in favoured else 1.0 for name in names}
        )
    detector.append(sample)
    try:
        found = str(detector.detect())
    except LangDetectException:
        return (priors[0], False) if priors else (UNDETERMINED, False)
    return ("zh" if found.startswith("zh") else found.partition("-")[0]), True
