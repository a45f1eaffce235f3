"""`monitor demo`: the whole pipeline offline, on a bundled story served on loopback.

Three made-up outlets (story.toml: an RSS feed in Russian whose source names the article
body's selector, an RSS feed in English carrying full texts, and an HTML listing page in
Kazakh served in windows-1251, its links picked by a CSS selector) publish five news days of
2025. The demo serves
them from a local HTTP server, releases one day at a time, runs the same `run_once` as
`monitor run` against a fresh database, and then prints the digest and writes the site.
"""

from __future__ import annotations

import asyncio
import html
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import store
from ..config import Schedule, Settings
from ..fetch import Fetcher, FetchPolicy
from ..notify import LANGUAGES, preview
from ..pipeline import RunSummary, run_once
from ..publish import write_site
from ..rules import load_rules
from ..sources import Source

STORY = Path(__file__).with_name("story.toml")
PUBLISH_HOUR = 9  # UTC
RUN_HOUR = 18  # UTC: each news day is fetched in the evening
DIGEST_HOUR = 3  # UTC: 08:00 in Almaty, when the daemon sends the digest by default
KINDS = {
    "feed": "an RSS feed",
    "html": "an HTML listing page in windows-1251, read with a CSS selector",
}


@dataclass
class Article:
    outlet: str
    slug: str
    title: str
    text: str
    day: date

    @property
    def published(self) -> datetime:
        return _when(self.day, PUBLISH_HOUR)


@dataclass
class Story:
    outlets: list[dict[str, str]]
    steps: list[tuple[date, list[Article]]]


def load_story(path: Path = STORY) -> Story:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    steps = []
    for step in data["step"]:
        day = date.fromisoformat(step["date"])
        articles = [
            Article(a["outlet"], a["slug"], a["title"], a["text"].strip(), day)
            for a in step["article"]
        ]
        steps.append((day, articles))
    return Story(outlets=data["outlet"], steps=steps)


@dataclass
class _Site:
    """What the loopback server publishes now: the articles released so far."""

    story: Story
    released: list[Article] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def page(self, path: str) -> tuple[int, str, bytes]:
        self.requests.append(path)
        outlets = {o["key"]: o for o in self.story.outlets}
        parts = [p for p in path.split("?")[0].split("/") if p]
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if not parts or parts[0] not in outlets:
            return 404, "text/plain", b"not found"
        outlet = outlets[parts[0]]
        mine = [a for a in self.released if a.outlet == outlet["key"]]
        if len(parts) == 2 and parts[1] == "rss.xml" and outlet["kind"] == "feed":
            return 200, "application/rss+xml; charset=utf-8", _rss(outlet, mine).encode()
        if len(parts) == 1 and outlet["kind"] == "html":
            body = _listing(outlet, mine).encode("cp1251", "xmlcharrefreplace")
            return 200, "text/html; charset=windows-1251", body
        if len(parts) == 3 and parts[1] == "news":
            for a in mine:
                if a.slug == parts[2]:
                    if outlet["kind"] == "html":
                        body = _page(outlet, a).encode("cp1251", "xmlcharrefreplace")
                        return 200, "text/html; charset=windows-1251", body
                    return 200, "text/html; charset=utf-8", _page(outlet, a).encode()
        return 404, "text/plain", b"not found"


def _when(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _rss(outlet: dict[str, str], articles: list[Article]) -> str:
    items = []
    for a in reversed(articles):
        link = f"/{outlet['key']}/news/{a.slug}"
        full = ""
        if outlet["key"] == "herald":  # this outlet's feed carries the whole text
            full = f"<content:encoded><![CDATA[{_paragraphs(a.text)}]]></content:encoded>"
        items.append(
            f"<item><title>{html.escape(a.title)}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{html.escape(a.text.split(chr(10))[0][:200])}</description>"
            f"{full}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{html.escape(outlet['name'])}</title><link>/{outlet['key']}/</link>"
        f"<description>demo feed</description>{''.join(items)}</channel></rss>"
    )


_CHROME = """<header><nav><a href="/">Басты бет</a> <a href="/about">Біз туралы</a>
<span>Байланыс: +7 (7172) 55-12-34</span> <span>USD 512,40</span></nav></header>"""
_FOOTER = """<footer><p>© 2025 Demo. Жарнама бөлімі: 8 (7172) 55-00-00.
Барлық құқықтар қорғалған. 1 250 000 оқырман.</p></footer>"""


def _listing(outlet: dict[str, str], articles: list[Article]) -> str:
    links = "".join(
        f'<li><a class="news-link" href="/{outlet["key"]}/news/{a.slug}">'
        f"{html.escape(a.title)}</a> <span>{a.day.isoformat()}</span></li>"
        for a in reversed(articles)
    )
    return (
        '<!doctype html><html lang="kk"><head><meta charset="windows-1251">'
        f"<title>{html.escape(outlet['name'])}</title></head><body>{_CHROME}"
        f'<main><ul class="news">{links}</ul><a href="/about">Біз туралы</a></main>'
        f"{_FOOTER}</body></html>"
    )


def _page(outlet: dict[str, str], a: Article) -> str:
    charset = "windows-1251" if outlet["kind"] == "html" else "utf-8"
    stamp = a.published.isoformat()
    return (
        f'<!doctype html><html lang="{outlet["language"]}"><head><meta charset="{charset}">'
        f'<meta property="article:published_time" content="{stamp}">'
        f"<title>{html.escape(a.title)} | {html.escape(outlet['name'])}</title></head><body>"
        f'{_CHROME}<main><article><h1>{html.escape(a.title)}</h1><time datetime="{stamp}">'
        f'{a.day.isoformat()}</time><div class="article-body">{_paragraphs(a.text)}</div>'
        '</article><aside class="related"><h3>Most read</h3><ul><li>Курс тенге: 512,40 '
        "за доллар</li><li>Погода: +25</li></ul></aside></main>"
        f"{_FOOTER}</body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    site: _Site

    def do_GET(self) -> None:
        status, content_type, body = self.site.page(self.path)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own story."""


def demo_sources(base: str, story: Story) -> list[Source]:
    """The source files a user would write for these outlets."""
    out = []
    for o in story.outlets:
        key = o["key"]
        feed = o["kind"] == "feed"
        out.append(
            Source(
                name=o["name"],
                url=f"{base}/{key}/rss.xml" if feed else f"{base}/{key}/",
                kind=o["kind"],
                language=o["language"],
                every=timedelta(minutes=30),
                enabled=True,
                max_items=50,
                silent_after=timedelta(days=3650),
                links=None if feed else "a.news-link",
                include=None,
                exclude=None,
                body="div.article-body" if key == "kazinform" else None,
                published="time[datetime]" if key == "kazinform" else None,
                headers={},
                path=Path(f"sources/demo-{key}.toml"),
            )
        )
    return out


def _origin(change: dict[str, Any], outlets: dict[str, dict[str, str]]) -> str:
    """The language of the outlet whose article made the change, from its URL's first path
    part (the demo serves each outlet under /<key>/)."""
    urls = change.get("sources") or []
    key = urlsplit(urls[0]).path.strip("/").split("/")[0] if urls else ""
    outlet = outlets.get(key)
    return outlet["language"] if outlet else "??"


def _describe(change: dict[str, Any]) -> str:
    if change["kind"] == "status":
        old = change["old"] or "first seen"
        return f"agreement with {change['counterparty']}: {old} → {change['new']}"
    dims = ", ".join(f"{k}={v}" for k, v in sorted(change["dims"].items()))
    what = f"{change['metric']}{' (' + dims + ')' if dims else ''}"
    new = f"{change['new']:,.0f}"
    if change["old"] is None:
        return f"{what}: first seen {new} (as of {change['as_of']})"
    return f"{what}: {change['old']:,.0f} → {new} (as of {change['as_of']})"


def run_demo(out: Path | None = None, *, stream: Any = None) -> int:
    """Run the demo; returns the exit status. `out` keeps the database and the site."""
    stream = stream or sys.stdout

    def say(line: str = "") -> None:
        print(line, file=stream, flush=True)

    story = load_story()
    outlets = {o["key"]: o for o in story.outlets}
    workdir = out or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "demo.db"
    for stale in workdir.glob("demo.db*"):
        stale.unlink()
    site = _Site(story)
    handler = type("DemoHandler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    morning = _when(story.steps[-1][0] + timedelta(days=1), DIGEST_HOUR)
    try:
        sources = demo_sources(base, story)
        rules = load_rules()
        db = store.connect(db_path)
        say(f"Demo: three made-up outlets served on {base}:")
        for o in story.outlets:
            say(f"  [{o['language']}] {o['name']}: {KINDS[o['kind']]}")
        say("Each step publishes one news day; `monitor run` fetches what is new and prints")
        say("the changes it found, each with the language of the article it came from.\n")
        for day, articles in story.steps:
            site.released.extend(articles)
            summary = _step(sources, rules, db, _when(day, RUN_HOUR))
            say(f"== {day.isoformat()}: {summary.line()}")
            for outcome in summary.outcomes:
                if not outcome.ok:
                    say(f"   ! {outcome.name}: {outcome.error}")
            for change in summary.changes:
                say(f"   [{_origin(change, outlets)}] {_describe(change)}")
            if not summary.changes:
                say("   no change: the news was already known; the article adds a source")
        say()
        _print_digests(db, workdir, morning, say)
        _write_site(db, workdir / "site", morning, say)
        db.close()
    finally:
        server.shutdown()
        server.server_close()
    say()
    say(f"Database: {db_path} (try `monitor --db {db_path} changes` or")
    say(f"`monitor --db {db_path} history citizens_abroad`)")
    say("Next steps:")
    say("  - point sources/ at real outlets (one TOML file each; see sources/README.md),")
    say("    then `monitor sources check` and `monitor run`;")
    say("  - set [email] and/or [slack] in monitor.toml and try `monitor notify-test`;")
    say("  - add `monitor run`, `monitor digest` and `monitor site` to cron (cron.example),")
    say("    or run `monitor daemon`.")
    return 0


def _step(sources: list[Source], rules: Any, db: Any, now: datetime) -> RunSummary:
    async def go() -> RunSummary:
        policy = FetchPolicy(host_delay=0.0, retries=0)
        async with Fetcher(policy) as fetcher:
            return await run_once(sources, rules, db, fetcher, now, force=True)

    return asyncio.run(go())


def _print_digests(db: Any, workdir: Path, now: datetime, say: Callable[[str], None]) -> None:
    """Print the English digest `monitor digest` would send the next morning, then the same
    digest in Russian and Kazakh in short; write all three (text and HTML) beside the site."""
    settings = Settings(schedule=Schedule(timezone="Asia/Almaty"))
    say('The digest an analyst would receive the next morning ([digest] language = "en"):\n')
    for lang in LANGUAGES:
        text = preview(db, language=lang, settings=settings, now=now)
        html = preview(db, language=lang, settings=settings, now=now, html=True)
        (workdir / f"digest-{lang}.txt").write_text(text, encoding="utf-8")
        (workdir / f"digest-{lang}.html").write_text(html, encoding="utf-8")
        if lang == "en":
            say(text)
        else:
            say(f'The same digest with [digest] language = "{lang}", its change lines only:\n')
            say(_short(text))
    say(f"All three digests, as text and HTML mail: {workdir / 'digest-*'}")


def _short(digest: str) -> str:
    """The subject, the section headings and the change lines of a plain-text digest."""
    keep = [line for line in digest.splitlines() if line.startswith(("Subject:", "==", "--", "* "))]
    return "\n".join(keep) + "\n"


def _write_site(db: Any, site_dir: Path, now: datetime, say: Callable[[str], None]) -> None:
    write_site(db, site_dir, title="Demo: labour migration monitor", base_url=None, now=now)
    say(f"Site written: open file://{(site_dir / 'index.html').resolve()}")
