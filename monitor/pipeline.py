"""One monitoring cycle: sources -> fetch -> parse -> extract -> store -> compare.

`run_once` is the single code path of `monitor run`, cron and the daemon; the outside world
(HTTP client, database, clock) is passed in. A failing source is data — an error recorded
for that source — never an exception that stops the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from . import store
from .extract import extract_text
from .feeds import FeedError, Item, canonical_url, parse_feed, parse_listing
from .fetch import Fetcher, Response
from .parse import InputError, load_article
from .rules import Rules
from .sources import Source

# A feed item's own text (content:encoded) is used instead of fetching the page when it is
# at least this long and the source names no body selector.
FEED_TEXT_MIN = 600


@dataclass
class SourceOutcome:
    name: str
    ok: bool
    error: str | None = None
    not_modified: bool = False
    items: int = 0  # links found in the feed or listing
    new_articles: int = 0
    failed_articles: int = 0
    figures: int = 0
    changes: int = 0


@dataclass
class RunSummary:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.ok for o in self.outcomes)

    def line(self) -> str:
        new = sum(o.new_articles for o in self.outcomes)
        figures = sum(o.figures for o in self.outcomes)
        return (
            f"sources: {self.ok} ok, {self.failed} failed; new articles: {new}; "
            f"figures: {figures}; changes: {len(self.changes)}"
        )


@dataclass
class _Fetched:
    """An article ready to be stored: its text, extracted, with where it came from."""

    source: Source
    outcome: SourceOutcome
    url: str
    guid: str | None
    title: str | None
    published: str | None
    text: str
    lang: str
    extraction: Any


def due(source: Source, state: dict[str, Any] | None, now: datetime) -> bool:
    """Whether a source's polling interval has passed since its last fetch."""
    if not source.enabled:
        return False
    if not state or not state.get("last_fetch"):
        return True
    last = datetime.fromisoformat(state["last_fetch"])
    return now - last >= source.every


async def run_once(
    sources: list[Source],
    rules: Rules,
    db: sqlite_utils.Database,
    fetcher: Fetcher,
    now: datetime,
    *,
    only: str | None = None,
    force: bool = False,
    progress: Callable[[SourceOutcome], None] | None = None,
) -> RunSummary:
    """Fetch the sources that are due (or `only` the one named), store what is new, and
    return what happened with the changes found, in the order they were found."""
    chosen = [s for s in sources if only is None or s.name == only]
    if only is not None and not chosen:
        raise ValueError(f"no source named {only!r}")
    if not force and only is None:
        chosen = [s for s in chosen if due(s, store.source_state(db, s.name), now)]
    summary = RunSummary()
    results = await asyncio.gather(*(_collect(s, rules, db, fetcher, now) for s in chosen))
    fetched: list[_Fetched] = []
    for outcome, articles, _ in results:
        fetched.extend(articles)
        summary.outcomes.append(outcome)
    # store oldest first, so that history is read in the order it happened
    fetched.sort(key=lambda a: (a.published or "9999", a.url))
    stamp = _iso(now)
    for art in fetched:
        changes = store.save_article(
            db,
            source=art.source.name,
            url=art.url,
            guid=art.guid,
            title=art.title,
            lang=art.lang,
            published=art.published,
            fetched_at=stamp,
            text=art.text,
            extraction=art.extraction,
        )
        art.outcome.new_articles += 1
        art.outcome.figures += len(art.extraction.figures)
        art.outcome.changes += len(changes)
        summary.changes.extend(changes)
    for (outcome, articles, fetch_state), source in zip(results, chosen, strict=True):
        newest = max((a.published for a in articles if a.published), default=None)
        store.record_fetch(
            db,
            source.name,
            source.url,
            at=stamp,
            ok=outcome.ok,
            status=fetch_state.get("status"),
            error=outcome.error,
            etag=fetch_state.get("etag"),
            last_modified=fetch_state.get("last_modified"),
            newest_item=newest,
            new_items=outcome.new_articles,
        )
        if progress:
            progress(outcome)
    return summary


async def _collect(
    source: Source, rules: Rules, db: sqlite_utils.Database, fetcher: Fetcher, now: datetime
) -> tuple[SourceOutcome, list[_Fetched], dict[str, Any]]:
    """Fetch one source and its new articles; every failure is recorded in the outcome."""
    outcome = SourceOutcome(source.name, ok=True)
    state = store.source_state(db, source.name) or {}
    response = await fetcher.get(
        source.url,
        etag=state.get("etag"),
        last_modified=state.get("last_modified"),
        headers=source.headers,
    )
    fetch_state = {
        "status": response.status,
        "etag": response.etag,
        "last_modified": response.last_modified,
    }
    if response.error:
        outcome.ok, outcome.error = False, response.error
        return outcome, [], fetch_state
    if response.not_modified:
        outcome.not_modified = True
        return outcome, [], fetch_state
    try:
        items = _items(source, response)
    except FeedError as exc:
        outcome.ok, outcome.error = False, str(exc)
        return outcome, [], fetch_state
    outcome.items = len(items)
    if source.kind == "html" and not items:
        outcome.ok, outcome.error = False, f"{source.url}: no article links found ({source.links})"
        return outcome, [], fetch_state
    fresh = _fresh(db, items[: source.max_items])
    pages = await asyncio.gather(
        *(_article(source, item, rules, fetcher, outcome) for item in fresh)
    )
    return outcome, [p for p in pages if p is not None], fetch_state


def _items(source: Source, response: Response) -> list[Item]:
    if source.kind == "feed":
        return parse_feed(response.body, response.final_url, response.content_type)
    return parse_listing(
        response.body,
        response.final_url,
        source.links or "a",
        response.content_type,
        include=source.include,
        exclude=source.exclude,
    )


def _fresh(db: sqlite_utils.Database, items: Iterable[Item]) -> list[Item]:
    """Items not stored yet. A stored article is never fetched again; one whose feed text
    changed is taken again (and re-extracted)."""
    out = []
    for item in items:
        known = store.known_article(db, canonical_url(item.url))
        changed = (
            known is not None
            and item.content is not None
            and known.get("content_hash") != store.text_hash(_feed_text(item.content))
        )
        if known is None or changed:
            out.append(item)
    return out


async def _article(
    source: Source, item: Item, rules: Rules, fetcher: Fetcher, outcome: SourceOutcome
) -> _Fetched | None:
    text = title = page_published = page_lang = None
    if item.content and source.body is None:
        feed_text = _feed_text(item.content)
        if len(feed_text) >= FEED_TEXT_MIN:
            text, title = feed_text, item.title
    if text is None:
        response = await fetcher.get(item.url, headers=source.headers)
        if response.error:
            outcome.failed_articles += 1
            return None
        try:
            article = load_article(
                response.body,
                content_type=response.content_type,
                body=source.body,
                published=source.published,
            )
        except InputError:
            outcome.failed_articles += 1
            return None
        text, title = article.text, item.title or article.title
        page_published, page_lang = article.published, article.lang
    if not text.strip():
        outcome.failed_articles += 1
        return None
    published = _date(item.published) or page_published
    lang = page_lang if page_lang in ("kk", "ru", "en") else None
    extraction = extract_text(text, rules, lang=lang or source.language, published=published)
    return _Fetched(
        source=source,
        outcome=outcome,
        url=canonical_url(item.url),
        guid=item.guid,
        title=title,
        published=published,
        text=text,
        lang=extraction.lang,
        extraction=extraction,
    )


def _feed_text(content: str) -> str:
    return load_article(content.encode("utf-8"), content_type="text/html; charset=utf-8").text


def _date(value: str | None) -> str | None:
    return value[:10] if value else None


def _iso(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.isoformat(timespec="seconds")
