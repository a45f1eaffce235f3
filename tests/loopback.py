"""Loopback news sites for the pipeline and command-line tests.

`Site` is a threaded HTTP server on 127.0.0.1 whose pages a test sets, changes between runs
and counts. A page answers conditional requests like a real server (ETag and
Last-Modified), and can be made to misbehave: fail a few times first, redirect, answer
slowly, never answer, or send a body that never ends.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True  # send an ETag and answer If-None-Match
    modified: datetime | None = None  # send Last-Modified and answer If-Modified-Since
    first: list[int] = field(default_factory=list)  # statuses answered first, one a request
    headers: dict[str, str] = field(default_factory=dict)  # sent with the `first` answers too
    gzip: bool = False
    location: str | None = None  # a redirect to this path or URL
    redirect_status: int = 301
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answers
    endless: bool = False  # a body that never ends

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Hit:
    """One request the site answered (or began to)."""

    path: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None

    @property
    def conditional(self) -> bool:
        return self.if_none_match is not None or self.if_modified_since is not None


class Site:
    """`with Site() as site: site.put("/rss", body); url = site.url("/rss")`."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.stop = threading.Event()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: bytes | str, **options: object) -> Page:
        """Serve `body` at `path` (replacing what was there); `options` are Page fields."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        page = Page(body=data, **options)  # type: ignore[arg-type]
        with self._lock:
            self.pages[path] = page
        return page

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        with self._lock:
            self.pages[path] = Page(location=to, redirect_status=status)

    def count(self, path: str) -> int:
        """Requests for `path` (query included when the path has one)."""
        with self._lock:
            return sum(1 for h in self.hits if h.path == path)

    def log(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    # -- answering -------------------------------------------------------------------------

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path
        inm = handler.headers.get("If-None-Match")
        ims = handler.headers.get("If-Modified-Since")
        with self._lock:
            page = self.pages.get(path)
            status = self._status(page, inm, ims)
            self.hits.append(Hit(path, status, inm, ims))
            forced = page is not None and bool(page.first)
            if forced:
                page.first.pop(0)
        if page is None:
            self._send(handler, 404, b"not found", {"Content-Type": "text/plain"})
            return
        if page.delay and self.stop.wait(page.delay):
            return
        if page.hang:
            self.stop.wait()
            return
        if forced:
            self._send(handler, status, b"trouble", {"Content-Type": "text/plain", **page.headers})
            return
        if page.location is not None:
            self._send(handler, status, b"", {"Location": page.location})
            return
        headers = {"Content-Type": page.content_type, **page.headers}
        if page.etag:
            headers["ETag"] = page.tag
        if page.modified is not None:
            headers["Last-Modified"] = format_datetime(page.modified, usegmt=True)
        if status == 304:
            self._send(handler, 304, b"", headers)
            return
        if page.endless:
            self._endless(handler, headers)
            return
        body = page.body
        if page.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(handler, 200, body, headers)

    @staticmethod
    def _status(page: Page | None, inm: str | None, ims: str | None) -> int:
        if page is None:
            return 404
        if page.first:
            return page.first[0]
        if page.location is not None:
            return page.redirect_status
        if inm is not None and page.etag and inm == page.tag:
            return 304
        if ims is not None and page.modified is not None and inm is None:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return 200
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            if page.modified.replace(microsecond=0) <= since:
                return 304
        return 200

    @staticmethod
    def _send(
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if status != 304:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if status != 304:
            handler.wfile.write(body)

    def _endless(
        self, handler: http.server.BaseHTTPRequestHandler, headers: dict[str, str]
    ) -> None:
        handler.send_response(200)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        chunk = b"<p>" + b"x" * 16_000 + b"</p>\n"
        try:
            while not self.stop.is_set():
                handler.wfile.write(chunk)
        except OSError:
            return


# -- what the sites serve, and the source files that point at them ------------------------


def page(
    title: str, paragraphs: list[str], published: str | None = None, charset: str = "utf-8"
) -> str:
    """An article page with site chrome around the story."""
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>{meta}</head>'
        '<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>'
        f'<article class="story"><h1>{title}</h1>{body}</article>'
        "<footer>© News outlet. All rights reserved.</footer></body></html>"
    )


def rss(
    base: str, items: list[tuple[str, str, datetime]], content: dict[str, str] | None = None
) -> str:
    """An RSS 2.0 feed of (path, title, published) items; `content` maps a path to its
    content:encoded HTML."""
    entries = []
    for path, title, when in items:
        extra = ""
        if content and path in content:
            extra = f"<content:encoded><![CDATA[{content[path]}]]></content:encoded>"
        entries.append(
            f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate><description>{title}</description>"
            f"{extra}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>News</title><link>{base}/</link>{''.join(entries)}</channel></rss>"
    )


def listing(links: list[tuple[str, str]], charset: str = "utf-8") -> str:
    """A listing page: article cards among menu, tag and social links."""
    cards = "".join(
        f'<div class="card"><a class="title" href="{h}">{t}</a></div>' for h, t in links
    )
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>News</title></head><body>'
        '<nav><a href="/">Home</a><a href="/about">About</a></nav>'
        f'<main>{cards}</main><footer><a href="https://t.me/outlet">Telegram</a></footer>'
        "</body></html>"
    )


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_source(folder: Path, name: str, url: str, kind: str = "feed", **keys: Any) -> Path:
    """Write a source file as a user would; `html_links="a"`, `article_body="div.x"` go to
    the [html] / [article] tables. Returns its path."""
    top = {"name": name, "url": url, "kind": kind, "every": "30m"}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in keys.items():
        table, sep, sub = key.partition("_")
        if sep and table in ("html", "article"):
            tables.setdefault(table, {})[sub] = value
        else:
            top[key] = value
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    path = folder / f"{name.lower().replace(' ', '-')}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FAST_CONFIG = """\
[fetch]
host_delay = 0
backoff = 0
retries = 1
robots = false
connect_timeout = 2
read_timeout = 2
total_timeout = 10
"""
