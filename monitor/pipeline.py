"""One monitoring cycle: sources -> fetch -> parse -> extract -> store -> compare.

`run_once` is the single code path of `monitor run`, cron and the daemon; the outside world
(HTTP client, database, clock) is passed in. A failing source is data — an error recorded
for that source — never an exception that stops the others; a failing article is an error
recorded for its source, never one that stops the source.

No article is lost: when an article of a source cannot be fetched, read or stored, the
feed's new cache validators (ETag, Last-Modified) are not kept, so the next run gets the
whole feed again (not a 304) and retries the articles it does not have yet. An article that
keeps failing is given up (`store.failed_articles`), so that it no longer costs the whole
feed on every run: at once when the page is gone for good (410, 451) or over the size cap;
after ARTICLE_ATTEMPTS runs otherwise (a 404, a 403, a page with no article text, ...); and
for trouble that may pass (no answer, 5xx, 429, a failure to store) only once the runs also
span ARTICLE_RETRY_FOR. A given-up article is asked again when its feed entry changes.

A cycle in which every feed answers 304 is the common case of cron, so it costs only what it
must: the rules are compiled when the first article is extracted (`rules` may be a loader);
the feed and page parsers are imported when the first feed or page is read; with
`FetchPolicy.robots_max_age` the robots.txt answers of earlier runs are kept in the store and
obeyed again, so that a feed's 304 is the source's only request.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, TypeVar

import sqlite_utils

from . import store
from .extract import Extraction, extract_text
from .fetch import Fetcher, Response, RobotsTxt
from .patterns import RulesError
from .rules import Rules
from .sources import Source

if TYPE_CHECKING:
    from .feeds import Item

T = TypeVar("T")

# A feed item's own text (content:encoded) is used instead of fetching the page when it is
# at least this long and the source names no body selector.
FEED_TEXT_MIN = 600
MAX_ERROR_CHARS = 300
ARTICLE_ATTEMPTS = 3  # failed runs before an article is given up (see the module docstring)
ARTICLE_RETRY_FOR = timedelta(days=1)
GONE_STATUSES = frozenset({410, 451})


@dataclass(frozen=True)
class ArticleError:
    """An article of this run that could not be read or stored."""

    url: str
    error: str  # one line naming the URL
    kind: str  # "gone", "passing" (may pass) or "other": how soon it is given up
    status: int | None = None  # the HTTP status of the failure, None when there was none
    entry: str = ""  # `entry_key` of its feed item


@dataclass
class SourceOutcome:
    name: str
    ok: bool
    error: str | None = None  # why the source failed (one line naming the URL)
    not_modified: bool = False
    items: int = 0  # links found in the feed or listing
    new_articles: int = 0
    figures: int = 0
    changes: int = 0
    failures: list[ArticleError] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)  # URLs of failures given up in this run
    skipped: int = 0  # items given up by earlier runs, not asked again

    @property
    def article_errors(self) -> list[str]:
        """One line each, naming the URL."""
        return [f.error for f in self.failures]

    @property
    def failed_articles(self) -> int:
        return len(self.failures)


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
        failed = sum(o.failed_articles for o in self.outcomes)
        given_up = sum(len(o.given_up) for o in self.outcomes)
        figures = sum(o.figures for o in self.outcomes)
        failed_part = f" ({failed} failed)" if failed else ""
        if given_up:
            failed_part = f" ({failed} failed, {given_up} given up)"
        return (
            f"sources: {self.ok} ok, {self.failed} failed; new articles: {new}{failed_part}; "
            f"figures: {figures}; changes: {len(self.changes)}"
        )


# progress(outcome, done, total): called as each source has been fetched, before storing.
Progress = Callable[[SourceOutcome, int, int], None]


# The rules, or a loader called when the first article is extracted.
RulesSource = Rules | Callable[[], Rules]


@dataclass
class _Fetched:
    """An article ready to be stored: its text, extracted, with where it came from."""

    source: Source
    outcome: SourceOutcome
    url: str
    entry: str  # `entry_key` of its feed item
    guid: str | None
    title: str | None
    published: str | None
    text: str
    lang: str
    extraction: Extraction


@dataclass
class _Collected:
    outcome: SourceOutcome
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    newest: str | None = None  # the publication date of the newest article read


class _ArticleError(Exception):
    """An article that cannot be read; the message is one line naming its URL."""

    def __init__(self, message: str, kind: str = "other", status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.status = kind, status


class _LazyRules:
    """The rules of a run, loaded when the first article is extracted: compiling them costs
    more CPU than a whole cycle of 300 conditional requests (bench/cycle.py), and a cycle
    in which every feed answers 304 extracts nothing. A folder that cannot be loaded raises
    its RulesError there, which stops the run (see `run_once`)."""

    def __init__(self, rules: RulesSource) -> None:
        self._rules = rules if isinstance(rules, Rules) else None
        self._load = None if isinstance(rules, Rules) else rules
        self._failed: RulesError | None = None

    def get(self) -> Rules:
        if self._rules is None:
            if self._failed is not None:  # another article met it first: not loaded again
                raise self._failed
            assert self._load is not None
            try:
                self._rules = self._load()
            except RulesError as exc:
                self._failed = exc
                raise
        return self._rules


class _Spool:
    """The articles of a run waiting to be stored, in an unnamed temporary file.

    They are stored once every source is done, oldest first across all sources, so that
    history is read in the order it happened and the changes of a run come out in the same
    order whatever the timing of the network. Held in memory until then, each would keep its
    text and extraction (about 21 KB) to the end of a cold run; here only a line of index
    stays in memory. The file is the run's own (unlinked at once, private to the process).
    """

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._index: list[tuple[tuple[str, str], int, int, Source, SourceOutcome]] = []

    def add(self, art: _Fetched) -> None:
        payload = {k: v for k, v in vars(art).items() if k not in ("source", "outcome")}
        blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(blob)
        key = (art.published or "9999", art.url)
        self._index.append((key, offset, len(blob), art.source, art.outcome))

    def oldest_first(self) -> Iterator[_Fetched]:
        """Every article added, oldest first (undated ones last), read back one at a time."""
        for _, offset, size, source, outcome in sorted(self._index, key=lambda e: e[0]):
            self._file.seek(offset)
            payload = pickle.loads(self._file.read(size))
            yield _Fetched(source=source, outcome=outcome, **payload)


async def _gather(aws: Iterable[Awaitable[T]]) -> list[T]:
    """The results of `aws` run concurrently, in order. Unlike asyncio.gather, the first
    exception cancels the others (none is left running) and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_await(a)) for a in aws]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [t.result() for t in tasks]


async def _await(aw: Awaitable[T]) -> T:
    return await aw


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
    rules: RulesSource,
    db: sqlite_utils.Database,
    fetcher: Fetcher,
    now: datetime,
    *,
    only: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Fetch the sources that are due (or `only` the one named), store what is new, and
    return what happened with the changes found, in the order they were found.

    `rules` may be a callable that loads them: it is called at the first article to
    extract, if any. When it raises RulesError the run stops with it, nothing stored and no
    fetch recorded (the next run starts over)."""
    chosen = [s for s in sources if only is None or s.name == only]
    if only is not None and not chosen:
        raise ValueError(f"no source named {only!r}")
    states = store.source_states(db)
    if not force and only is None:
        chosen = [s for s in chosen if due(s, states.get(s.name), now)]
    claimed: set[str] = set()  # article URLs some source of this run is fetching
    lazy = _LazyRules(rules)
    robots_since = _robots_from_store(db, fetcher, now)
    done = 0

    async def collect(source: Source, spool: _Spool) -> _Collected:
        nonlocal done
        state = states.get(source.name) or {}
        result = await _collect_safely(source, state, lazy, db, fetcher, claimed, spool)
        done += 1
        if progress:
            progress(result.outcome, done, len(chosen))
        return result

    stamp = _iso(now)
    with tempfile.TemporaryFile() as file:
        spool = _Spool(file)
        results = await _gather(collect(s, spool) for s in chosen)
        summary = RunSummary(outcomes=[r.outcome for r in results])
        for art in spool.oldest_first():
            summary.changes.extend(_store(db, art, stamp))
    failures = _settle_failures(db, results, chosen, now)
    fetches = [_fetch_row(source, result) for result, source in zip(results, chosen, strict=True)]
    store.record_fetches(db, fetches, at=stamp, failures=failures)
    if robots_since is not None:
        fetched = {origin: (a.status, a.body) for origin, a in fetcher.fetched_robots().items()}
        store.save_robots(db, fetched, at=stamp, forget_before=robots_since)
    return summary


def _robots_from_store(db: sqlite_utils.Database, fetcher: Fetcher, now: datetime) -> str | None:
    """Give the fetcher the robots.txt answers stored by the runs of the last
    `robots_max_age` seconds; the start of that time, or None when none are kept."""
    policy = fetcher.policy
    if not policy.robots or policy.robots_max_age <= 0:
        return None
    since = _iso(now - timedelta(seconds=policy.robots_max_age))
    kept = store.robots(db, since)
    fetcher.use_robots({origin: RobotsTxt(status, body) for origin, (status, body) in kept.items()})
    return since


def _store(db: sqlite_utils.Database, art: _Fetched, stamp: str) -> list[dict[str, Any]]:
    """Save one article (one transaction) and count it; a failure is that article's error."""
    try:
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
    except Exception as exc:
        error = f"{art.url}: not stored: {_describe(exc)}"
        art.outcome.failures.append(ArticleError(art.url, error, "passing", entry=art.entry))
        return []
    art.outcome.new_articles += 1
    art.outcome.figures += len(art.extraction.figures)
    art.outcome.changes += len(changes)
    return changes


def entry_key(item: Item) -> str:
    """What a feed lists of an article (its GUID, title, date and text): a given-up article
    is asked again when this changes."""
    fields = (item.guid, item.title, item.published, item.content)
    return store.text_hash("\x1f".join(f or "" for f in fields))[:32]


def _settle_failures(
    db: sqlite_utils.Database, results: list[_Collected], sources: list[Source], now: datetime
) -> list[store.ArticleFailure]:
    """The new state of every article that failed in this run, each outcome told which ones
    it gives up (see the module docstring)."""
    failed = [
        (r.outcome, s, f) for r, s in zip(results, sources, strict=True) for f in r.outcome.failures
    ]
    if not failed:
        return []
    known = store.article_failures(db, [f.url for _, _, f in failed])
    stamp = _iso(now)
    out = []
    for outcome, source, failure in failed:
        before = known.get(failure.url)
        again = before is not None and before.entry == failure.entry
        attempts = before.attempts + 1 if before is not None and again else 1
        first = before.first_failed if before is not None and again else stamp
        give_up = failure.kind == "gone" or (
            attempts >= ARTICLE_ATTEMPTS
            and (
                failure.kind != "passing"
                or now - datetime.fromisoformat(first) >= ARTICLE_RETRY_FOR
            )
        )
        if give_up:
            outcome.given_up.append(failure.url)
        out.append(
            store.ArticleFailure(
                url=failure.url,
                source=source.name,
                entry=failure.entry,
                attempts=attempts,
                first_failed=first,
                last_failed=stamp,
                status=failure.status,
                error=failure.error,
                given_up=stamp if give_up else None,
            )
        )
    return out


def _fetch_row(source: Source, result: _Collected) -> store.Fetch:
    """The fetch of one source as the store records it. While a failed article is still to
    be retried the feed's validators are not kept (see the module docstring); the first
    failure becomes the source's last error, while the source itself counts as fetched
    fine."""
    outcome = result.outcome
    error = outcome.error
    keep_validators = len(outcome.given_up) == outcome.failed_articles
    if outcome.ok and outcome.failures:
        n = outcome.failed_articles
        error = f"{n} article{'s' if n > 1 else ''} failed, first: {outcome.article_errors[0]}"
        if outcome.given_up:
            error += f" ({len(outcome.given_up)} given up)"
    return store.Fetch(
        name=source.name,
        url=source.url,
        ok=outcome.ok,
        status=result.status,
        error=error,
        etag=result.etag if keep_validators else None,
        last_modified=result.last_modified if keep_validators else None,
        newest_item=result.newest,
        new_items=outcome.new_articles,
    )


async def _collect_safely(
    source: Source,
    state: dict[str, Any],
    rules: _LazyRules,
    db: sqlite_utils.Database,
    fetcher: Fetcher,
    claimed: set[str],
    spool: _Spool,
) -> _Collected:
    """`_collect`, with anything unexpected turned into the source's error (except rules
    that cannot be loaded: they stop the run)."""
    try:
        return await _collect(source, state, rules, db, fetcher, claimed, spool)
    except RulesError:
        raise
    except Exception as exc:
        outcome = SourceOutcome(source.name, ok=False, error=f"{source.url}: {_describe(exc)}")
        return _Collected(outcome)


async def _collect(
    source: Source,
    state: dict[str, Any],
    rules: _LazyRules,
    db: sqlite_utils.Database,
    fetcher: Fetcher,
    claimed: set[str],
    spool: _Spool,
) -> _Collected:
    """Fetch one source (`state`: its stored fetch state) and its new articles, and spool
    these; every failure is recorded in the outcome."""
    outcome = SourceOutcome(source.name, ok=True)
    response = await fetcher.get(
        source.url,
        etag=state.get("etag"),
        last_modified=state.get("last_modified"),
        headers=source.headers,
    )
    result = _Collected(outcome, response.status, response.etag, response.last_modified)
    if response.error:
        outcome.ok, outcome.error = False, response.error
        return result
    if response.not_modified:
        outcome.not_modified = True
        return result
    from .feeds import FeedError  # feedparser and selectolax: only once a feed has changed

    try:
        items = _items(source, response)
    except FeedError as exc:
        outcome.ok, outcome.error = False, str(exc)
        return result
    outcome.items = len(items)
    if source.kind == "html" and not items:
        outcome.ok, outcome.error = False, f"{source.url}: no article links found ({source.links})"
        return result
    fresh = _fresh(db, source, items[: source.max_items], claimed, outcome)
    pages = await _gather(
        _article(source, item, text, rules, fetcher, outcome) for item, text in fresh
    )
    for art in pages:
        if art is None:
            continue
        try:
            spool.add(art)
        except Exception as exc:
            error = f"{art.url}: not stored: {_describe(exc)}"
            outcome.failures.append(ArticleError(art.url, error, "passing", entry=art.entry))
            continue
        if art.published and (result.newest is None or art.published > result.newest):
            result.newest = art.published
    return result


def _items(source: Source, response: Response) -> list[Item]:
    from .feeds import parse_feed, parse_listing

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


def _fresh(
    db: sqlite_utils.Database,
    source: Source,
    items: list[Item],
    claimed: set[str],
    outcome: SourceOutcome,
) -> list[tuple[Item, str | None]]:
    """The items to read, each with the feed text that will be its text (None: the page is
    fetched). A stored article is never fetched again; one whose text comes from the feed and
    has changed there is taken again (and re-extracted). A URL another source of this run is
    already reading is left to it; one given up by an earlier run is left out (counted in
    `outcome.skipped`) until its entry changes."""
    failed = store.article_failures(db, [item.url for item in items])
    out = []
    for item in items:
        if item.url in claimed:
            continue
        before = failed.get(item.url)
        if before is not None and before.given_up and before.entry == entry_key(item):
            outcome.skipped += 1
            continue
        text = _feed_article_text(source, item)
        known = store.known_article(db, item.url)
        changed = (
            known is not None
            and text is not None
            and known.get("content_hash") != store.text_hash(text)
        )
        if known is None or changed:
            claimed.add(item.url)
            out.append((item, text))
    return out


def _feed_article_text(source: Source, item: Item) -> str | None:
    """The feed's own text of an item when it is the article's text: long enough, and the
    source names no body selector (which says the page has the real text)."""
    if not item.content or source.body is not None:
        return None
    from .parse import InputError, load_article

    try:
        text = load_article(item.content.encode("utf-8"), content_type="text/html; charset=utf-8")
    except InputError:
        return None
    return text.text if len(text.text) >= FEED_TEXT_MIN else None


async def _article(
    source: Source,
    item: Item,
    feed_text: str | None,
    rules: _LazyRules,
    fetcher: Fetcher,
    outcome: SourceOutcome,
) -> _Fetched | None:
    """One article read and extracted, or None with its error added to the outcome."""
    entry = entry_key(item)
    try:
        return await _read_article(source, item, entry, feed_text, rules, fetcher, outcome)
    except _ArticleError as exc:
        failure = ArticleError(item.url, str(exc), exc.kind, exc.status, entry)
    except RulesError:
        raise
    except Exception as exc:
        failure = ArticleError(item.url, f"{item.url}: {_describe(exc)}", "other", None, entry)
    outcome.failures.append(failure)
    return None


def _kind(response: Response) -> str:
    """How soon a failed article fetch is given up (see the module docstring)."""
    if response.too_large or response.status in GONE_STATUSES:
        return "gone"
    return "passing" if response.unreachable else "other"


async def _read_article(
    source: Source,
    item: Item,
    entry: str,  # `entry_key(item)`
    feed_text: str | None,
    rules: _LazyRules,
    fetcher: Fetcher,
    outcome: SourceOutcome,
) -> _Fetched:
    from .parse import InputError, load_article

    text, title = feed_text, item.title
    page_published = page_lang = None
    if text is None:
        response = await fetcher.get(item.url, headers=source.headers)
        if response.error:
            raise _ArticleError(response.error, _kind(response), response.status or None)
        try:
            article = load_article(
                response.body,
                content_type=response.content_type,
                body=source.body,
                published=source.published,
            )
        except InputError as exc:
            raise _ArticleError(f"{item.url}: {exc}") from None
        text, title = article.text, item.title or article.title
        page_published, page_lang = article.published, article.lang
    if not text.strip():
        raise _ArticleError(f"{item.url}: no article text found")
    published = _date(item.published) or page_published
    lang = page_lang if page_lang in ("kk", "ru", "en") else None
    extraction = extract_text(text, rules.get(), lang=lang or source.language, published=published)
    return _Fetched(
        source=source,
        outcome=outcome,
        url=item.url,
        entry=entry,
        guid=item.guid,
        title=title,
        published=published,
        text=text,
        lang=extraction.lang,
        extraction=extraction,
    )


def _describe(exc: Exception) -> str:
    """An unexpected exception as one short line."""
    detail = " ".join(str(exc).split())[:MAX_ERROR_CHARS]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _date(value: str | None) -> str | None:
    return value[:10] if value else None


def _iso(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.isoformat(timespec="seconds")
