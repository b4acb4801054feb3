"""The configuration file: discovery, TOML parsing and validation into Settings, Sources and rules.

Owns: where feeds.toml and the database live by default, what keys the file may hold, and error
messages that name the file, line and key. Never touches the network or the database.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archfeed.config.checker import Checker
from archfeed.config.rules import rules
from archfeed.errors import ConfigError
from archfeed.models import Config, Settings, Source, TopicRule
from archfeed.text import has_control, is_lang_code, slugify, source_name

CONFIG_NAME = "feeds.toml"
MAX_CONFIG_BYTES = 1024 * 1024  # a config of 10,000 sources is ~1 MB

_TOP_KEYS = ("settings", "source", "topics", "mute", "keep")
_SETTINGS_KEYS = ("db", "excerpt", "concurrency", "timeout", "max_bytes", "languages",
                  "min_interval")  # fmt: skip
_SOURCE_KEYS = ("name", "url", "topics", "lang", "enabled", "interval")
_TOPIC_KEYS = ("keywords", "categories")
# what each number may be: beyond these it is a typo (timeout = 1e30 waited forever)
_RANGES: dict[str, tuple[float, float]] = {
    "excerpt": (0, 100_000),
    "concurrency": (1, 256),
    "timeout": (0.001, 3600),
    "max_bytes": (1, 1 << 30),
}
MOST_INTERVAL = timedelta(days=30)  # `interval`, `min_interval`: a longer one is a typo


def user_config_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path("archfeed") / CONFIG_NAME


def default_config_path() -> Path:
    local = Path(CONFIG_NAME)
    return local if local.is_file() else user_config_file()


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("archfeed") / "archfeed.db"


def starter_text() -> str:
    return resources.files("archfeed").joinpath("starter.toml").read_text(encoding="utf-8")


def write_starter(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never overwrite, even in a race
            out.write(starter_text())
    except FileExistsError:
        raise ConfigError(
            f"{path} already exists; not overwriting it", hint="edit it, or give init another path"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="give init a path in a folder you can write",
        ) from None


def load(path: Path) -> Config:
    """Read and validate a config file; every problem found is reported at once."""
    return parse_text(path, decode(path, read_bytes(path)))


def read_bytes(path: Path) -> bytes:
    """The file's bytes, read with a bound: `-c /dev/zero` is not a config."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"no config file at {path}",
            hint="create one with 'archfeed init', or pass --config / set ARCHFEED_CONFIG",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config file",
            hint="pass the feeds.toml with --config",
        )
    return raw


def decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # an editor's byte-order mark is no TOML
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def parse_text(path: Path, text: str) -> Config:
    """Validate `text` as the config file at `path` holds it: relative paths are relative to its
    folder, and messages name it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", hint="check the quoting and brackets on that line"
        ) from None
    return _validate(path, text, data)


def _validate(path: Path, text: str, data: dict[str, Any]) -> Config:
    check = Checker(path, text)
    check.known_keys("the file", (), data, _TOP_KEYS)
    settings = _settings(check, data.get("settings", {}), path)
    sources = _sources(check, data.get("source", []), path.parent)
    topics = _topics(check, data.get("topics", {}))
    muting = rules(check, data, sources)
    if check.problems:
        count = len(check.problems)
        raise ConfigError(
            "\n".join(check.problems),
            hint=f"{count} problem(s) in the config; the README lists every key",
        )
    return Config(path=path, settings=settings, sources=sources, topics=topics, rules=muting)


def _settings(check: Checker, raw: Any, config_path: Path) -> Settings:
    table = ("settings",)
    where = "[settings]"
    if not isinstance(raw, dict):
        check.problem(where, table, None, "[settings] must be a table")
        return Settings()
    check.known_keys(where, table, raw, _SETTINGS_KEYS)
    defaults = Settings()
    db = check.typed(where, table, raw, "db", (str,), "a path")
    excerpt = check.typed(where, table, raw, "excerpt", (int,), "a whole number of characters")
    concurrency = check.typed(where, table, raw, "concurrency", (int,), "a whole number")
    timeout = check.typed(where, table, raw, "timeout", (int, float), "a number of seconds")
    max_bytes = check.typed(where, table, raw, "max_bytes", (int,), "a whole number of bytes")
    numbers = {"excerpt": excerpt, "concurrency": concurrency, "timeout": timeout,
               "max_bytes": max_bytes}  # fmt: skip
    for key, value in numbers.items():
        low, high = _RANGES[key]
        # `not low <= value <= high` is true of nan too
        if value is not None and not low <= value <= high:
            check.problem(where, table, key, f"'{key}' must be from {low:,} to {high:,}")
    languages = tuple(lang.lower() for lang in check.strings(where, table, raw, "languages"))
    min_interval = check.duration(where, table, raw, "min_interval", MOST_INTERVAL)
    for lang in languages:
        if not is_lang_code(lang):
            check.problem(where, table, "languages", f"'{lang}' is not an ISO 639-1 code")
    db_path = None
    if db is not None:
        db_path = Path(db).expanduser()
        if not db_path.is_absolute():
            db_path = config_path.parent / db_path
        if not db.strip():
            check.problem(where, table, "db", "'db' is empty: remove it for the default path")
        elif db_path.is_dir():
            check.problem(where, table, "db", f"'db' is a folder ({db_path}), not a file")
    return Settings(
        db=db_path,
        excerpt=excerpt if excerpt is not None else defaults.excerpt,
        concurrency=concurrency or defaults.concurrency,
        timeout=float(timeout) if timeout else defaults.timeout,
        max_bytes=max_bytes or defaults.max_bytes,
        languages=languages,
        min_interval=defaults.min_interval if min_interval is None else min_interval,
    )


def _sources(check: Checker, raw: Any, base: Path) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        check.problem(
            "the file", ("source",), None, "'source' must be written as [[source]] tables"
        )
        return ()
    sources: list[Source] = []
    names: dict[str, int] = {}
    urls: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        table = ("source", str(number))
        where = f"[[source]] #{number}"
        check.known_keys(where, table, item, _SOURCE_KEYS)
        url = check.typed(where, table, item, "url", (str,), "a URL or a path")
        if url is not None and not url.strip():
            check.problem(where, table, "url", "'url' is empty")
            continue
        if not url:
            if "url" not in item:
                check.problem(where, table, None, "missing 'url'")
            continue
        resolved = _resolve_url(url, base)
        if resolved is None:
            check.problem(
                where, table, "url", f"'{url}' is not an http(s) URL, file:// URL or path"
            )
            continue
        name = check.typed(where, table, item, "name", (str,), "a string") or source_name(resolved)
        if has_control(name):
            check.problem(
                where, table, "name", f"the name {name!r} holds control or direction characters"
            )
        lang = check.typed(where, table, item, "lang", (str,), "a language code")
        if lang is not None and not is_lang_code(lang.lower()):
            check.problem(where, table, "lang", f"'{lang}' is not an ISO 639-1 code")
        enabled = check.typed(where, table, item, "enabled", (bool,), "true or false")
        interval = check.duration(where, table, item, "interval", MOST_INTERVAL)
        topics = tuple(
            dict.fromkeys(filter(None, map(slugify, check.strings(where, table, item, "topics"))))
        )
        if name in names:
            check.problem(
                where, table, "name", f"duplicate name '{name}' (also [[source]] #{names[name]})"
            )
        if resolved in urls:
            check.problem(
                where, table, "url", f"duplicate url '{url}' (also [[source]] #{urls[resolved]})"
            )
        names.setdefault(name, number)
        urls.setdefault(resolved, number)
        sources.append(
            Source(
                name=name,
                url=resolved,
                topics=topics,
                lang=lang.lower() if lang else None,
                enabled=enabled is not False,
                position=number,
                interval=interval,
            )
        )
    return tuple(sources)


def _resolve_url(url: str, base: Path) -> str | None:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):  # HTTP://Host/ is http://host/: a scheme has no case
        netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc
        return parts._replace(scheme=scheme, netloc=netloc).geturl() if parts.netloc else None
    if scheme == "file":
        return url.strip()
    if scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive letter
        return None
    path = Path(url).expanduser()
    return (path if path.is_absolute() else (base / path).resolve()).as_uri()


def _topics(check: Checker, raw: Any) -> tuple[TopicRule, ...]:
    if not isinstance(raw, dict):
        check.problem(
            "the file", ("topics",), None, "'topics' must be written as [topics.NAME] tables"
        )
        return ()
    rules: list[TopicRule] = []
    for name, item in raw.items():
        table = ("topics", name)
        where = f"[topics.{name}]"
        if not isinstance(item, dict):
            check.problem(where, table, None, f"[topics.{name}] must be a table")
            continue
        check.known_keys(where, table, item, _TOPIC_KEYS)
        slug = slugify(name)
        if not slug:
            check.problem(where, table, None, f"'{name}' is not a usable topic name")
            continue
        rules.append(
            TopicRule(
                name=slug,
                keywords=tuple(
                    word.lower() for word in check.strings(where, table, item, "keywords")
                ),
                categories=tuple(
                    slugify(cat) for cat in check.strings(where, table, item, "categories")
                ),
            )
        )
    return tuple(rules)
