"""A deterministic generator of realistic developer-blog feeds for the fetch benchmarks.

    python benchmarks/genfeeds.py OUT_DIR [--feeds 200] [--entries 30] [--seed 1] [--long]
                                          [--base http://127.0.0.1:8765]

Writes OUT_DIR/fNNNN.rss (RSS 2.0), .atom (Atom 1.0) and a few .json (JSON Feed 1.1), each with
`--entries` entries: dev-blog titles, HTML bodies of 150-800 words (`--long`: 1,500-4,000, whole
articles as full-text feeds carry them; paragraphs, headings, code,
links, lists) from a per-language vocabulary with Zipf-like word frequencies, mostly English,
~15% Russian, some German, French and Spanish; categories, guids, dates. About 5% of the entries
are cross-posts of another feed's article (same text; the same link with tracking parameters, or
another site's URL). Also writes urls.txt (one feed URL per line under `--base`) and feeds.toml
(an archfeed config of those sources), and OUT_DIR/changed/: the same feeds the next day, each with
CHANGED_NEW new entries on top and as many of its oldest gone, so that every body is new but most
of its items are not. The same arguments always give the same bytes. Stdlib only.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

BASE_DATE = datetime(2025, 6, 1, tzinfo=UTC)  # in the past, so no date is clamped as future
TECH = (
    "Kafka PostgreSQL Kubernetes Redis gRPC GraphQL Rust Go Python TypeScript SQLite Docker "
    "Terraform ClickHouse Elasticsearch RabbitMQ NATS OAuth JWT WebAssembly Envoy Istio Prometheus "
    "OpenTelemetry Cassandra DynamoDB MongoDB Nginx Linux eBPF Temporal Spark Flink React Django"
).split()
WORDS = {
    "en": (
        "the a of to and in is that for it with as on be this are we by at from or an our which "
        "you can not but all they will one more when your about into there so if has only what "
        "service services system latency throughput request requests database query queries "
        "index cache consistency replication partition cluster node nodes deploy deployment "
        "pipeline schema migration event events stream consumer producer queue message retry "
        "timeout backpressure idempotent transaction lock contention thread memory allocation "
        "garbage collector benchmark profile trace metrics logging alert incident outage "
        "rollback release feature flag canary test tests coverage refactor module interface "
        "boundary domain aggregate monolith microservice gateway proxy load balancer shard "
        "leader follower quorum snapshot compaction storage disk network packet connection pool "
        "client server endpoint API contract version backward compatible breaking change team "
        "design decision tradeoff cost budget capacity scaling horizontal vertical bottleneck "
        "hot path slow fast simple complex error handling failure recovery observability "
        "security token secret key certificate encryption audit policy permission vulnerability"
    ).split(),
    "ru": (
        "и в не на что с как это по мы для из но к у же вы от так все она бы если только когда "
        "уже или ещё нет есть был быть можно нужно надо очень потом чтобы где там тут себя "
        "сервис сервисы система задержка запрос запросы база данных индекс кэш согласованность "
        "репликация кластер узел деплой развёртывание схема миграция событие события поток "
        "очередь сообщение повтор таймаут транзакция блокировка поток память сборщик мусора "
        "бенчмарк профилирование трассировка метрики логирование инцидент откат релиз тесты "
        "рефакторинг модуль интерфейс граница домен монолит микросервис шлюз нагрузка шард "
        "лидер реплика хранилище диск сеть соединение пул клиент сервер контракт версия команда "
        "решение компромисс стоимость масштабирование узкое место ошибка отказ восстановление "
        "наблюдаемость безопасность токен ключ шифрование аудит политика уязвимость архитектура"
    ).split(),
    "de": (
        "der die das und ist nicht mit ein eine zu von auf für wir sich dem den auch es bei "
        "wenn aber noch wie nach oder sind wird werden kann über Dienst Datenbank Abfrage "
        "Anfrage Latenz Speicher Zwischenspeicher Warteschlange Nachricht Fehler Ausfall "
        "Bereitstellung Architektur Schnittstelle Sicherheit Schlüssel Verschlüsselung Leistung "
        "Skalierung Entwicklung Änderung Version Team Entscheidung Kosten Überwachung"
    ).split(),
    "fr": (
        "le la les de des du et est pas une un pour que qui dans sur avec nous ce il elle mais "
        "plus par se sont être avoir fait comme aussi tout service base données requête latence "
        "mémoire cache file message erreur panne déploiement architecture interface sécurité "
        "clé chiffrement performance évolution développement changement version équipe coût"
    ).split(),
    "es": (
        "el la los las de del y en que es no un una para con por se lo como más pero sus le ya "
        "o este sí porque esta cuando muy sin sobre también servicio base datos consulta "
        "latencia memoria caché cola mensaje error fallo despliegue arquitectura interfaz "
        "seguridad clave cifrado rendimiento escalado desarrollo cambio versión equipo costo"
    ).split(),
}
TITLES = {
    "en": [
        "How we moved {t} to {u} without downtime",
        "{t} vs {u}: what we learned in production",
        "Debugging a {w} issue in {t}",
        "Why our {w} was slow, and how {t} fixed it",
        "A practical guide to {t} {w}",
        "Scaling {t} to a million {w} per second",
        "{t} {w}, part {n}",
        "Lessons from a {t} outage",
        "The hidden cost of {w} in {t}",
        "Designing a {w} with {t} and {u}",
    ],
    "ru": [
        "Как мы перевели {t} на {u} без простоя",
        "{t} против {u}: опыт продакшена",
        "Разбираем {w} в {t}",
        "Почему {w} тормозил и как помог {t}",
        "{t} и {w}: часть {n}",
        "Уроки одного инцидента с {t}",
        "Архитектура {w} на {t} и {u}",
    ],
    "de": ["Wie wir {t} mit {u} betreiben", "{t} in der Praxis: {w}, Teil {n}"],
    "fr": ["Comment nous utilisons {t} avec {u}", "{t} en production : {w}, partie {n}"],
    "es": ["Cómo migramos {t} a {u}", "{t} en producción: {w}, parte {n}"],
}
CATEGORIES = (
    "architecture backend databases security devops kubernetes postgres kafka rust golang python "
    "distributed-systems performance observability cloud microservices testing api networking "
    "frontend machine-learning career sre data-engineering"
).split()
LANGS, LANG_WEIGHTS = ("en", "ru", "de", "fr", "es"), (76, 15, 3, 3, 3)
CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml"}
CHANGED_NEW = 2  # entries on top of each feed of changed/, as many of its oldest gone
SHORT, LONG = (150, 800), (1500, 4000)  # words of a body


@dataclasses.dataclass(frozen=True)
class Article:
    title: str
    url: str
    guid: str
    body: str
    author: str
    categories: list[str]
    date: datetime
    lang: str


class Generator:
    def __init__(self, seed: int, words: tuple[int, int] = SHORT) -> None:
        self.length = words
        self.rng = random.Random(seed)  # noqa: S311 -- a fixed seed: the same feeds every run
        # Zipf-like weights: the first words of each list are the common ones, as in prose
        self.cum = {
            lang: list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
            for lang, words in WORDS.items()
        }

    def words(self, lang: str, count: int) -> list[str]:
        return self.rng.choices(WORDS[lang], cum_weights=self.cum[lang], k=count)

    def sentence(self, lang: str) -> str:
        words = self.words(lang, self.rng.randint(6, 18))
        if self.rng.random() < 0.3:
            words[self.rng.randrange(len(words))] = self.rng.choice(TECH)
        return " ".join(words).capitalize() + "."

    def body(self, lang: str) -> str:
        """HTML of self.length words: paragraphs, sometimes a heading, code, a link or a list."""
        target, count, parts = self.rng.randint(*self.length), 0, []
        while count < target:
            sentences = [self.sentence(lang) for _ in range(self.rng.randint(2, 6))]
            count += sum(len(s.split()) for s in sentences)
            roll = self.rng.random()
            if roll < 0.1:
                parts.append(f"<h2>{escape(sentences.pop().rstrip('.'))}</h2>")
            elif roll < 0.2:
                tech = self.rng.choice(TECH)
                parts.append(f"<pre><code>$ {tech.lower()} --config app.yaml &amp;&amp; echo ok"
                             "</code></pre>")  # fmt: skip
            elif roll < 0.3:
                parts.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in sentences) + "</ul>")
                continue
            link = self.rng.choice(TECH)
            parts.append(
                f'<p>{escape(" ".join(sentences))} See <a href="https://docs.example.org/'
                f'{link.lower()}">the {escape(link)} docs</a>.</p>'
            )
        return "\n".join(parts)

    def article(self, feed: int, index: int, lang: str, when: datetime) -> Article:
        tech, other = self.rng.sample(TECH, 2)
        title = self.rng.choice(TITLES[lang]).format(
            t=tech, u=other, w=" ".join(self.words(lang, 1)), n=self.rng.randint(1, 5)
        )
        if self.rng.random() < 0.8:  # a subtitle: real titles are nearly all different
            title += ": " + " ".join(self.rng.sample(WORDS[lang][40:], self.rng.randint(2, 4)))
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "post"
        site = f"blog{feed:04d}.example.org"
        return Article(title, f"https://{site}/{when:%Y/%m}/{slug}-{index}",
                       f"tag:{site},2025:post-{index}", self.body(lang),
                       f"Author {self.rng.randint(1, 400)}",
                       self.rng.sample(CATEGORIES, self.rng.randint(1, 4)), when, lang)  # fmt: skip

    def feeds(self, count: int, entries: int) -> list[tuple[str, str, list[Article]]]:
        """(format, feed language, articles) per feed, newest first, ~5% cross-posts."""
        feeds = []
        for feed in range(count):
            lang = self.rng.choices(LANGS, LANG_WEIGHTS)[0]
            kind = "json" if feed % 25 == 7 else self.rng.choice(("rss", "rss", "atom"))
            when, articles = BASE_DATE - timedelta(hours=self.rng.randint(0, 72)), []
            for index in range(entries):
                own = lang if self.rng.random() < 0.9 else self.rng.choices(LANGS, LANG_WEIGHTS)[0]
                articles.append(self.article(feed, index, own, when))
                when -= timedelta(minutes=self.rng.randint(30, 4000))
            feeds.append((kind, lang, articles))
        for feed, (_, _, articles) in enumerate(feeds):
            for index in range(entries):
                if count > 1 and self.rng.random() < 0.05:
                    other = self.rng.choice([f for f in range(count) if f != feed])
                    original = self.rng.choice(feeds[other][2])
                    if self.rng.random() < 0.5:
                        url = f"{original.url}?utm_source=rss&utm_medium=feed"
                    else:
                        url = f"https://blog{feed:04d}.example.org/reposts/{index}"
                    guid = f"tag:blog{feed:04d}.example.org,2025:repost-{index}"
                    articles[index] = dataclasses.replace(original, url=url, guid=guid)
        return feeds


def rss(name: str, lang: str, articles: list[Article]) -> str:
    items = []
    for a in articles:
        cats = "".join(f"<category>{c}</category>" for c in a.categories)
        items.append(
            f"<item><title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
            f'<guid isPermaLink="false">{a.guid}</guid>'
            f"<pubDate>{format_datetime(a.date)}</pubDate>"
            f"<dc:creator>{a.author}</dc:creator>{cats}"
            f"<description>{escape(a.body)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{name}</title><link>https://{name}.example.org/</link>"
        f"<description>Engineering notes</description><language>{lang}</language>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def atom(name: str, lang: str, articles: list[Article]) -> str:
    entries = []
    for a in articles:
        cats = "".join(f'<category term="{c}"/>' for c in a.categories)
        stamp = f"{a.date:%Y-%m-%dT%H:%M:%SZ}"
        entries.append(
            f"<entry><title>{escape(a.title)}</title>"
            f'<link rel="alternate" href="{escape(a.url)}"/><id>{a.guid}</id>'
            f"<published>{stamp}</published><updated>{stamp}</updated>"
            f"<author><name>{a.author}</name></author>{cats}"
            f'<content type="html">{escape(a.body)}</content></entry>'
        )
    updated = f"{articles[0].date:%Y-%m-%dT%H:%M:%SZ}" if articles else "2025-06-01T00:00:00Z"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="{lang}"><title>{name}</title><id>tag:{name}.example.org,2025:feed</id>'
        f'<link href="https://{name}.example.org/"/><updated>{updated}</updated>\n'
        + "\n".join(entries)
        + "\n</feed>\n"
    )


def json_feed(name: str, lang: str, articles: list[Article]) -> str:
    items = [
        {"id": a.guid, "url": a.url, "title": a.title, "content_html": a.body,
         "date_published": f"{a.date:%Y-%m-%dT%H:%M:%SZ}", "authors": [{"name": a.author}],
         "tags": a.categories, "language": a.lang}
        for a in articles
    ]  # fmt: skip
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": name, "language": lang,
            "home_page_url": f"https://{name}.example.org/", "items": items}  # fmt: skip
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"


def write(
    out: Path, feeds: int, entries: int, seed: int, base: str, words: tuple[int, int] = SHORT
) -> list[str]:
    """Writes the feeds, their next day's versions (changed/), urls.txt and feeds.toml; returns
    the URLs."""
    (out / "changed").mkdir(parents=True, exist_ok=True)
    writers = {"rss": (rss, ".rss"), "atom": (atom, ".atom"), "json": (json_feed, ".json")}
    urls, sources = [], []
    generated = Generator(seed, words).feeds(feeds, entries + CHANGED_NEW)
    for number, (kind, lang, articles) in enumerate(generated):
        render, ext = writers[kind]
        name, file = f"blog{number:04d}", f"f{number:04d}{ext}"
        (out / file).write_text(render(name, lang, articles[CHANGED_NEW:]), encoding="utf-8")
        (out / "changed" / file).write_text(render(name, lang, articles[:entries]), "utf-8")
        # a day older than the next day's version, for clients that ask If-Modified-Since
        day_before = (out / file).stat().st_mtime - 86400
        os.utime(out / file, (day_before, day_before))
        url = f"{base.rstrip('/')}/f{number:04d}{ext}"
        urls.append(url)
        topics = f'"{CATEGORIES[number % 6]}"'
        sources.append(f'[[source]]\nname = "{name}"\nurl = "{url}"\ntopics = [{topics}]\n')
    (out / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    config = (
        "# generated by benchmarks/genfeeds.py\n[settings]\nconcurrency = 16\n"
        'languages = ["en", "ru"]\n\n'
        '[topics.security]\nkeywords = ["oauth", "jwt", "vulnerability", "encryption"]\n'
        'categories = ["security", "appsec"]\n\n'
        '[topics.databases]\nkeywords = ["postgresql", "sqlite", "clickhouse", "database"]\n'
        'categories = ["databases", "postgres"]\n\n'
        '[topics.streaming]\nkeywords = ["kafka", "nats", "rabbitmq", "flink"]\n\n'
    )
    (out / "feeds.toml").write_text(config + "\n".join(sources), encoding="utf-8")
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the feeds into")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=30, help="entries per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--base", default="http://127.0.0.1:8765", help="URL the folder is at")
    parser.add_argument("--long", action="store_true", help="bodies of 1,500-4,000 words")
    args = parser.parse_args()
    words = LONG if args.long else SHORT
    urls = write(args.out, args.feeds, args.entries, args.seed, args.base, words)
    size = sum(p.stat().st_size for p in args.out.iterdir() if p.name.startswith("f"))
    print(f"{len(urls)} feeds × {args.entries} entries, {size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
