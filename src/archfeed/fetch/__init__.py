"""The only network code: fetching sources concurrently, within a deadline and a byte cap.
Owns: httpx, the download threads, conditional GET (ETag, Last-Modified, body hash), how long an
answer is fresh (caching.py), redirects, decompression under a cap, reading local files. Never
parses a feed, never touches the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
import threading
import time
import zlib
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from archfeed import __version__
from archfeed.fetch.caching import fresh_for
from archfeed.fetch.failures import retry_after, transport_failure
from archfeed.models import FetchResult, Settings, Source, Validators
from archfeed.text import clean

MAX_REDIRECTS = 5
_TICK = 0.25  # how often the deadline of requests in flight is checked
_GRACE = 0.5  # past the timeout, before a request that ignores it is abandoned
USER_AGENT = f"archfeed/{__version__}"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


class _TooBig(Exception):
    """The body passed max_bytes."""


class _Deadline(Exception):
    """The whole request passed its timeout."""


def body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class _Inflater:
    """Collects a body, decompressing gzip/deflate as it comes, never holding more than the cap."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []
        encoding = encoding.strip().lower()
        self._zlib: zlib._Decompress | None = None
        self._deflate = encoding == "deflate"
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)

    def feed(self, chunk: bytes) -> None:
        if self._deflate and self._zlib is None and chunk:
            # "deflate" is zlib-wrapped by the standard and raw by many servers: look at the header
            wrapped = (
                len(chunk) >= 2 and chunk[0] & 0x0F == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
            )
            self._zlib = zlib.decompressobj(wbits=zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self._zlib is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            # max_length bounds each step, so a gzip bomb costs at most the cap in memory
            self._keep(self._zlib.decompress(data, self.cap - self.size + 1))
            data = self._zlib.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise _TooBig
        self.parts.append(data)

    def body(self) -> bytes:
        if self._zlib is not None:
            self._keep(self._zlib.flush())
        return b"".join(self.parts)


def _ungzip_file(body: bytes, cap: int) -> bytes:
    """A .gz file served without Content-Encoding (or read from disk) is still a feed."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = _Inflater("gzip", cap)
    try:
        inflater.feed(body)
        return inflater.body()
    except zlib.error:
        return body  # not really gzip: let the parser say what it is


def fetch_all(
    sources: Iterable[Source],
    validators: Mapping[str, Validators],
    settings: Settings,
    force: bool = False,
) -> Generator[FetchResult, None, None]:
    """Fetch every source, `settings.concurrency` at a time; yield results as they complete.
    Closing the generator early stops the downloads not yet started."""
    todo = list(sources)
    if not todo:
        return
    workers = max(1, min(settings.concurrency, len(todo)))
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    client = httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=limits,
    )
    jobs: queue.SimpleQueue[Source] = queue.SimpleQueue()
    for source in todo:
        jobs.put(source)
    # bounded: when parsing and storing fall behind, downloads wait instead of piling up bodies
    done: queue.Queue[FetchResult] = queue.Queue(maxsize=2 * workers)
    started: dict[str, float] = {}

    closing = threading.Event()  # the caller stopped reading: no thread starts another request

    def work() -> None:
        while not closing.is_set():
            try:
                source = jobs.get_nowait()
            except queue.Empty:
                return
            started[source.name] = time.monotonic()
            known = validators.get(source.name, Validators())
            try:
                result = fetch_one(client, source, known, settings, force)
            except RuntimeError:  # httpx: "the client has been closed", under a caller gone
                if closing.is_set():
                    return
                raise
            started.pop(source.name, None)  # finished: waiting to be taken is not overdue
            done.put(result)

    def hire() -> None:
        # daemon threads: a request stuck past its deadline is abandoned, never waited for
        threading.Thread(target=work, daemon=True, name="fetch").start()

    for _ in range(workers):
        hire()
    pending = {source.name for source in todo}
    abandoned = False
    try:
        while pending:
            # on every turn: a steady flow of answers must not hide a request past its deadline
            for name in _overdue(pending, started, settings.timeout + _GRACE):
                pending.discard(name)
                abandoned = True
                hire()  # the stuck thread's place, so the sources behind it still start
                yield FetchResult(name, None, None, error=_timed_out(settings))
            try:
                result = done.get(timeout=_TICK)
            except queue.Empty:
                continue
            if result.source in pending:  # else: abandoned already, its late answer is moot
                pending.discard(result.source)
                yield result
    finally:
        closing.set()
        if not abandoned:  # closing would wait on the connection a stuck thread still reads
            client.close()


def _overdue(pending: set[str], started: dict[str, float], limit: float) -> list[str]:
    now = time.monotonic()
    # .get: a download thread may finish (and pop its start) while this reads
    return [name for name in pending if now - started.get(name, now) > limit]


def _timed_out(settings: Settings) -> str:
    return f"timed out after {settings.timeout:g} s"


def fetch_one(
    client: httpx.Client, source: Source, known: Validators, settings: Settings, force: bool
) -> FetchResult:
    started = time.monotonic()
    try:
        if source.is_remote:
            result = _fetch_http(client, source, known, settings, force)
        else:
            result = _read_file(source, known, settings, force)
    except _TooBig:
        result = FetchResult(
            source.name, None, None, error=f"larger than max_bytes ({settings.max_bytes:,} bytes)"
        )
    except (_Deadline, httpx.TimeoutException):
        result = FetchResult(source.name, None, None, error=_timed_out(settings))
    except httpx.TooManyRedirects:
        result = FetchResult(source.name, None, None, error=f"more than {MAX_REDIRECTS} redirects")
    except httpx.HTTPError as exc:
        message, unreachable = transport_failure(exc)
        result = FetchResult(source.name, None, None, error=message, unreachable=unreachable)
    except (OSError, zlib.error) as exc:
        result = FetchResult(source.name, None, None, error=f"cannot read: {exc}")
    # a server's words (reason phrase, error text) are as hostile as its feed
    return dataclasses.replace(
        result,
        elapsed=time.monotonic() - started,
        error=clean(result.error)[:500] if result.error else None,
    )


def _fetch_http(
    client: httpx.Client, source: Source, known: Validators, settings: Settings, force: bool
) -> FetchResult:
    deadline = time.monotonic() + settings.timeout
    headers = {}
    if not force:
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
    with client.stream("GET", source.url, headers=headers) as response:
        meta = FetchResult(
            source.name,
            status=response.status_code,
            body=None,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag") or known.etag,
            last_modified=response.headers.get("last-modified") or known.last_modified,
            final_url=str(response.url),
            permanent_redirect=_permanent_redirect(response),
            body_hash=known.body_hash,  # kept until a body says otherwise
            fresh_for=fresh_for(response.headers),  # a 304's too: it says how long, as a 200
        )
        if response.status_code == 304:
            return meta
        if response.status_code >= 400:
            return dataclasses.replace(
                meta,
                error=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isdigit() and not encoding and int(declared) > settings.max_bytes:
            raise _TooBig
        inflater = _Inflater(encoding, settings.max_bytes)
        for chunk in response.iter_raw():  # as the bytes arrive: a chunk size would buffer them
            inflater.feed(chunk)
            if time.monotonic() > deadline:  # a server trickling bytes never trips the read timeout
                raise _Deadline
        body = _ungzip_file(inflater.body(), settings.max_bytes)
    return _unless_same(meta, body, known, force)


def _read_file(source: Source, known: Validators, settings: Settings, force: bool) -> FetchResult:
    path = Path(unquote(urlsplit(source.url).path))
    with path.open("rb") as handle:
        body = handle.read(settings.max_bytes + 1)
    if len(body) > settings.max_bytes:
        raise _TooBig
    meta = FetchResult(source.name, status=None, body=None)
    return _unless_same(meta, _ungzip_file(body, settings.max_bytes), known, force)


def _unless_same(meta: FetchResult, body: bytes, known: Validators, force: bool) -> FetchResult:
    """A body identical to the last one is not modified, whatever the server said."""
    digest = body_hash(body)
    if digest == known.body_hash and not force:
        return dataclasses.replace(meta, body_hash=digest)
    return dataclasses.replace(meta, body=body, body_hash=digest)


def _permanent_redirect(response: httpx.Response) -> str | None:
    if response.history and all(hop.status_code in (301, 308) for hop in response.history):
        return clean(str(response.url))[:2048]  # shown to the user: inert text only
    return None
