"""A loopback HTTP/1.1 server for the fetch benchmarks: static files with ETag and 304s.

    python benchmarks/server.py DIR [--port 8765] [--latency MS]

Serves the files of DIR (not its subfolders) on 127.0.0.1 only, with keep-alive, a strong ETag (a
hash of the bytes), Last-Modified, Content-Type by extension and Content-Length; answers 304 Not
Modified to a matching If-None-Match, or (without one) to an If-Modified-Since not older than the
file. Files are read once and kept in memory, so the server costs the clients little. `--latency`
delays every answer. GET /_stats returns and resets the count of answers per status as JSON, so a
harness can check that a warm run really got 304s. GET /_use/changed serves the files of
DIR/changed instead (the next day's versions of the same feeds: genfeeds.py), /_use/base those of
DIR again. `--port 0` picks a free port. The first line
on stdout is `serving DIR at http://127.0.0.1:PORT`. Quiet: no request log. Stdlib only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


class Files:
    """The files of a folder, each read once: (body, ETag, Last-Modified, mtime)."""

    def __init__(self, folder: Path) -> None:
        self.base = self.folder = folder.resolve()
        self.cache: dict[str, tuple[bytes, str, str, int]] = {}
        self.lock = threading.Lock()
        self.counts: Counter[int] = Counter()

    def get(self, name: str) -> tuple[bytes, str, str, int] | None:
        with self.lock:
            if name in self.cache:
                return self.cache[name]
        with self.lock:
            path = self.folder / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return None
        body = path.read_bytes()
        mtime = int(path.stat().st_mtime)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        entry = (body, etag, formatdate(mtime, usegmt=True), mtime)
        with self.lock:
            self.cache[name] = entry
        return entry

    def use(self, variant: str) -> bool:
        """Serve DIR (`base`) or DIR/changed from now on."""
        folder = self.base / "changed" if variant == "changed" else self.base
        if variant not in ("base", "changed") or not folder.is_dir():
            return False
        with self.lock:
            self.folder, self.cache = folder, {}
        return True

    def count(self, status: int) -> None:
        with self.lock:
            self.counts[int(status)] += 1

    def stats(self) -> dict[str, int]:
        with self.lock:
            result = {str(status): n for status, n in sorted(self.counts.items())}
            self.counts.clear()
        return result


def _not_modified(headers: HTTPMessage, etag: str, mtime: int) -> bool:
    match = headers.get("If-None-Match")
    if match is not None:  # RFC 9110 §13.1.2: weak comparison for GET; it wins over the date
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return mtime <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False


def make_handler(files: Files, latency: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every answer carries its length

        def version_string(self) -> str:
            return "archfeed-bench"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            if latency:
                time.sleep(latency)
            name = self.path.split("?", 1)[0].lstrip("/")
            if name == "_stats":  # not counted itself
                self._send(HTTPStatus.OK, json.dumps(files.stats()).encode(), {}, head)
                return
            if name.startswith("_use/"):  # not counted either
                used = files.use(name.removeprefix("_use/"))
                self._send(HTTPStatus.OK if used else HTTPStatus.NOT_FOUND, b"", {}, head)
                return
            found = files.get(name)
            if found is None:
                files.count(HTTPStatus.NOT_FOUND)
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", {}, head)
                return
            body, etag, modified, mtime = found
            headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}
            if _not_modified(self.headers, etag, mtime):
                files.count(HTTPStatus.NOT_MODIFIED)
                self._send(HTTPStatus.NOT_MODIFIED, None, headers, head)
                return
            suffix = Path(name).suffix.lower()
            headers["Content-Type"] = TYPES.get(suffix, "application/octet-stream")
            files.count(HTTPStatus.OK)
            self._send(HTTPStatus.OK, body, headers, head)

        def _send(
            self, status: int, body: bytes | None, headers: dict[str, str], head: bool
        ) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if body is not None:  # a 304 has no body, and says no length
                self.send_header("Content-Length", str(len(body)))
                if "Content-Type" not in headers:
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            if body is not None and not head:
                self.wfile.write(body)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 16+ clients connecting at once must not overflow the backlog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder whose files are served")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="ms before each answer")
    args = parser.parse_args()
    if not args.dir.is_dir():
        sys.exit(f"server.py: {args.dir} is not a folder")
    files = Files(args.dir)
    server = Server(("127.0.0.1", args.port), make_handler(files, args.latency / 1000))
    print(f"serving {args.dir} at http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
