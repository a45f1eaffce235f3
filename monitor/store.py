"""History in SQLite: sources, articles, the facts extracted from them, and the changes found.

One SQLite file (WAL mode) holds everything. An article and everything extracted from it is
written in one transaction, so a process killed at any moment leaves either the whole article
or nothing of it, and a rerun never duplicates a figure or a change.

Tables:

* ``sources``: fetch state and health of each news source.
* ``articles``: one row per canonical URL, with its text (kept for ``reextract``).
* ``figures`` / ``statuses``: what each article said, one row per extracted item.
* ``facts``: one value of one series at one reference date; ``fact_sources`` links a fact to
  every article that reported it (a repeat by another outlet adds a source, not a fact).
* ``changes``: first sightings and changes, found by a run or by a re-extraction.
* ``deliveries``: which change went out on which channel (the digests' outbox).
* ``robots``: the last robots.txt answer of each origin, which later runs may obey instead of
  asking again (RFC 9309 allows keeping it up to 24 hours; `FetchPolicy.robots_max_age`).
* ``failed_articles``: articles of a feed that could not be read, with how many runs tried
  them; one the pipeline has given up on is not asked again until its feed entry changes.

A figure series is a metric with its dims *and unit* (fines in KZT and in USD are two
series: no currency conversion). Times written by this module are ISO 8601 in UTC with
seconds ("2025-10-09T12:00:00+00:00"), so that they sort as text; the clock is never read
here, every time is passed in.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .compare import FactRow, decide, dims_key, ref_end
from .extract import Extraction, Figure, Status

SCHEMA_VERSION = 3
FOUND_BY = ("run", "reextract")
MAX_TITLE = 1_000
MAX_EVIDENCE = 2_000
_CHUNK = 500  # host parameters per IN (...) query

Extract = Callable[[str, str | None, str | None], Extraction]


class StoreError(Exception):
    """The database cannot be used: one line naming the file."""


# --------------------------------------------------------------------------- schema

_V1 = """
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    url TEXT,
    etag TEXT,
    last_modified TEXT,
    first_fetch TEXT,
    last_fetch TEXT,
    last_success TEXT,
    last_error TEXT,
    last_status INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    newest_item TEXT,
    items INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    guid TEXT,
    source TEXT,
    title TEXT,
    lang TEXT,
    published TEXT,
    fetched_at TEXT,
    updated_at TEXT,
    content_hash TEXT,
    text TEXT
);
CREATE INDEX articles_order ON articles (fetched_at, id);
CREATE TABLE facts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('figure', 'status')),
    metric TEXT,
    dims_key TEXT,
    unit TEXT,
    value REAL,
    value_max REAL,
    bound TEXT,
    counterparty TEXT,
    status TEXT,
    current INTEGER NOT NULL DEFAULT 1,
    as_of TEXT,
    ref_end TEXT,
    first_seen_at TEXT NOT NULL
);
CREATE INDEX facts_series ON facts (metric, dims_key, unit, ref_end);
CREATE INDEX facts_counterparty ON facts (counterparty, ref_end);
CREATE TABLE fact_sources (
    fact_id INTEGER NOT NULL REFERENCES facts (id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    UNIQUE (fact_id, article_id)
);
CREATE INDEX fact_sources_article ON fact_sources (article_id);
CREATE TABLE figures (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    dims_key TEXT NOT NULL,
    value REAL NOT NULL,
    value_max REAL,
    unit TEXT NOT NULL,
    bound TEXT,
    as_of TEXT,
    ref_end TEXT,
    lang TEXT,
    evidence TEXT,
    fact_id INTEGER REFERENCES facts (id)
);
CREATE INDEX figures_article ON figures (article_id);
CREATE INDEX figures_fact ON figures (fact_id);
CREATE TABLE statuses (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    counterparty TEXT NOT NULL,
    status TEXT NOT NULL,
    current INTEGER NOT NULL,
    as_of TEXT,
    ref_end TEXT,
    lang TEXT,
    evidence TEXT,
    fact_id INTEGER REFERENCES facts (id)
);
CREATE INDEX statuses_article ON statuses (article_id);
CREATE INDEX statuses_fact ON statuses (fact_id);
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('figure', 'status')),
    metric TEXT,
    dims_key TEXT,
    unit TEXT,
    counterparty TEXT,
    old_value REAL,
    new_value REAL,
    old_status TEXT,
    new_status TEXT,
    as_of TEXT,
    ref_end TEXT,
    fact_id INTEGER REFERENCES facts (id) ON DELETE SET NULL,
    detected_at TEXT NOT NULL,
    found_by TEXT NOT NULL CHECK (found_by IN ('run', 'reextract')),
    evidence TEXT,
    article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL
);
CREATE INDEX changes_detected ON changes (detected_at, id);
CREATE INDEX changes_fact ON changes (fact_id);
CREATE INDEX changes_article ON changes (article_id);
CREATE TABLE deliveries (
    change_id INTEGER NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    UNIQUE (change_id, channel)
)
"""


def _migrate_v1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        conn.execute(statement)


# body: the robots.txt text of a 2xx answer; NULL when there is none to obey (4xx, ...).
_V2 = """
CREATE TABLE robots (
    origin TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT
)
"""


def _migrate_v2(conn: sqlite3.Connection) -> None:
    conn.execute(_V2)


# entry: the feed entry the failures were met with (`pipeline.entry_key`); attempts: the runs
# that failed on it since the entry last changed; given_up: when the pipeline stopped trying
# (NULL while it still tries); status: the HTTP status of the last failure, NULL if none.
_V3 = """
CREATE TABLE failed_articles (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    entry TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    given_up TEXT
);
CREATE INDEX failed_articles_source ON failed_articles (source, given_up)
"""


def _migrate_v3(conn: sqlite3.Connection) -> None:
    for statement in _V3.split(";"):
        conn.execute(statement)


# MIGRATIONS[n] takes a database at schema version n to version n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_v1, _migrate_v2, _migrate_v3]
assert len(MIGRATIONS) == SCHEMA_VERSION


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating it and its folder if needed) and migrate the monitor database."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create its folder: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path)
        return sqlite_utils.Database(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: {exc}") from None
    except BaseException:
        conn.close()
        raise


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    tables = {
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith("sqlite_")
    }
    if "meta" not in tables:
        if tables:
            raise StoreError(
                f"{path}: not a monitor database (it has tables {', '.join(sorted(tables))} "
                "but no schema version)"
            )
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except ValueError:
        raise StoreError(f"{path}: meta.schema_version is not a number: {row[0]!r}") from None


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    while True:
        conn.execute("BEGIN IMMEDIATE")  # another process may be migrating at the same time
        try:
            version = _schema_version(conn, path)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path}: database schema version {version} is newer than this monitor "
                    f"understands ({SCHEMA_VERSION}); upgrade the monitor"
                )
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            if version == 0:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
            MIGRATIONS[version](conn)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [str(version + 1)],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


@contextmanager
def _transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction. IMMEDIATE takes the write lock at once, so that two writers wait
    for each other (busy_timeout) instead of failing on a lock upgrade."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


# --------------------------------------------------------------------------- run lock


@contextmanager
def run_lock(db_path: str | Path) -> Iterator[None]:
    """Hold "<db>.lock" for the duration of one `monitor run` (or reextract). A second run
    fails at once; the OS releases the lock when the holder exits or is killed."""
    lock = Path(f"{db_path}.lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{lock}: cannot open the run lock: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise StoreError(
                f"{db_path}: another `monitor run` is running (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


# --------------------------------------------------------------------------- helpers


def text_hash(text: str) -> str:
    """The content hash stored with an article: sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _stamp(value: str | datetime) -> str:
    """A time as ISO 8601 in UTC with seconds; a naive time or a bare date is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO date or time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two ISO dates/times (either may be missing or unreadable)."""
    if not a or not b:
        return a or b
    try:
        return a if _stamp(a) >= _stamp(b) else b
    except ValueError:
        return max(a, b)


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" for _ in items)


# --------------------------------------------------------------------------- sources


def source_state(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The stored fetch state and health of one source, or None if never fetched."""
    cursor = db.execute("SELECT * FROM sources WHERE name = ?", [name])
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def source_states(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """`source_state` of every source ever fetched, by name, in one query."""
    cursor = db.execute("SELECT * FROM sources")
    columns = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor}


@dataclass(frozen=True)
class Fetch:
    """One fetch of a source, as `record_fetches` records it."""

    name: str
    url: str
    ok: bool
    status: int | None
    error: str | None
    etag: str | None = None
    last_modified: str | None = None
    newest_item: str | None = None
    new_items: int = 0


def record_fetch(
    db: sqlite_utils.Database,
    name: str,
    url: str,
    *,
    at: str | datetime,
    ok: bool,
    status: int | None,
    error: str | None,
    etag: str | None = None,
    last_modified: str | None = None,
    newest_item: str | None = None,
    new_items: int = 0,
) -> None:
    """Record one fetch of a source. `failures` counts consecutive failed fetches; the cache
    validators are kept when a 304 (or a failure) brings none. An `error` given with `ok`
    (some articles failed) is kept as the last error without counting as a failure."""
    fetch = Fetch(name, url, ok, status, error, etag, last_modified, newest_item, new_items)
    record_fetches(db, [fetch], at=at)


def record_fetches(
    db: sqlite_utils.Database,
    fetches: Iterable[Fetch],
    *,
    at: str | datetime,
    failures: Iterable[ArticleFailure] = (),
) -> None:
    """Record the fetches of a run (as `record_fetch` each) and the state of its failed
    articles (`save_article_failures`), all in one transaction."""
    stamp = _stamp(at)
    with _transaction(db):
        for fetch in fetches:
            _record_fetch(db, fetch, stamp)
        _save_article_failures(db, failures)


def _record_fetch(db: sqlite_utils.Database, fetch: Fetch, stamp: str) -> None:
    old = source_state(db, fetch.name) or {}
    ok, status = fetch.ok, fetch.status
    keep = not ok or status == 304
    failed_error = fetch.error or (f"HTTP {status}" if status else "failed")
    row = {
        "name": fetch.name,
        "url": fetch.url,
        "etag": (fetch.etag or old.get("etag")) if keep else fetch.etag,
        "last_modified": (
            (fetch.last_modified or old.get("last_modified")) if keep else fetch.last_modified
        ),
        "first_fetch": old.get("first_fetch") or stamp,
        "last_fetch": stamp,
        "last_success": stamp if ok else old.get("last_success"),
        "last_error": fetch.error if ok else failed_error,
        "last_status": status,
        "failures": 0 if ok else int(old.get("failures") or 0) + 1,
        "newest_item": _later(old.get("newest_item"), fetch.newest_item),
        "items": int(old.get("items") or 0) + max(fetch.new_items, 0),
    }
    columns = list(row)
    db.execute(
        f"INSERT INTO sources ({', '.join(columns)}) VALUES ({_marks(columns)}) "
        "ON CONFLICT (name) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "name"),
        list(row.values()),
    )


# --------------------------------------------------------------------------- robots.txt


def robots(db: sqlite_utils.Database, since: str | datetime) -> dict[str, tuple[int, str | None]]:
    """The robots.txt answers fetched at or after `since`: origin -> (HTTP status, body)."""
    rows = db.execute(
        "SELECT origin, status, body FROM robots WHERE fetched_at >= ?", [_stamp(since)]
    )
    return {origin: (status, body) for origin, status, body in rows}


def save_robots(
    db: sqlite_utils.Database,
    answers: dict[str, tuple[int, str | None]],
    *,
    at: str | datetime,
    forget_before: str | datetime | None = None,
) -> None:
    """Keep robots.txt answers (origin -> (HTTP status, body)) fetched `at`, replacing the
    origins' older ones; answers fetched before `forget_before` are deleted."""
    stamp = _stamp(at)
    with _transaction(db):
        db.conn.executemany(
            "INSERT INTO robots (origin, fetched_at, status, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "status = excluded.status, body = excluded.body",
            [(origin, stamp, status, body) for origin, (status, body) in answers.items()],
        )
        if forget_before is not None:
            db.execute("DELETE FROM robots WHERE fetched_at < ?", [_stamp(forget_before)])


# --------------------------------------------------------------------------- failed articles


@dataclass(frozen=True)
class ArticleFailure:
    """The state of one article that could not be read, as the last run left it."""

    url: str
    source: str
    entry: str  # the feed entry it was listed with (`pipeline.entry_key`)
    attempts: int  # runs that failed on it since the entry last changed
    first_failed: str
    last_failed: str
    status: int | None  # the HTTP status of the last failure, None when there was none
    error: str  # the last failure, one line naming the URL
    given_up: str | None = None  # when the pipeline stopped trying; None while it tries


_FAILURE_COLUMNS = (
    "url, source, entry, attempts, first_failed, last_failed, status, error, given_up"
)


def article_failures(db: sqlite_utils.Database, urls: Sequence[str]) -> dict[str, ArticleFailure]:
    """The recorded failures of these article URLs (the ones that have any), by URL."""
    found: dict[str, ArticleFailure] = {}
    for chunk in _chunks(list(urls)):
        rows = db.execute(
            f"SELECT {_FAILURE_COLUMNS} FROM failed_articles WHERE url IN ({_marks(chunk)})",
            list(chunk),
        )
        for row in rows:
            found[row[0]] = ArticleFailure(*row)
    return found


def given_up_articles(db: sqlite_utils.Database) -> dict[str, list[ArticleFailure]]:
    """The articles the pipeline has given up on, by source, newest failure first."""
    rows = db.execute(
        f"SELECT {_FAILURE_COLUMNS} FROM failed_articles WHERE given_up IS NOT NULL "
        "ORDER BY source, last_failed DESC, url"
    )
    out: dict[str, list[ArticleFailure]] = {}
    for row in rows:
        failure = ArticleFailure(*row)
        out.setdefault(failure.source, []).append(failure)
    return out


def save_article_failures(db: sqlite_utils.Database, failures: Iterable[ArticleFailure]) -> None:
    """Keep the state of failed articles (replacing what their URLs had), in one transaction."""
    with _transaction(db):
        _save_article_failures(db, failures)


def _save_article_failures(db: sqlite_utils.Database, failures: Iterable[ArticleFailure]) -> None:
    columns = _FAILURE_COLUMNS.split(", ")
    db.conn.executemany(
        f"INSERT INTO failed_articles ({_FAILURE_COLUMNS}) VALUES ({_marks(columns)}) "
        "ON CONFLICT (url) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "url"),
        [
            (
                f.url,
                f.source,
                f.entry,
                f.attempts,
                _stamp(f.first_failed),
                _stamp(f.last_failed),
                f.status,
                _clip(f.error, MAX_EVIDENCE),
                None if f.given_up is None else _stamp(f.given_up),
            )
            for f in failures
        ],
    )


# --------------------------------------------------------------------------- articles


def known_article(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The id and content hash of the stored article at this (canonical) URL."""
    row = db.execute("SELECT id, content_hash FROM articles WHERE url = ?", [url]).fetchone()
    return None if row is None else {"id": row[0], "content_hash": row[1]}


def save_article(
    db: sqlite_utils.Database,
    *,
    source: str,
    url: str,
    guid: str | None,
    title: str | None,
    lang: str,
    published: str | None,
    fetched_at: str | datetime,
    text: str,
    extraction: Extraction,
    found_by: str = "run",
) -> list[dict[str, Any]]:
    """Store an article with what was extracted from it, compare each figure and status with
    the stored facts, and return the changes this found (in the `changes()` shape).

    The same URL with the same text is a no-op. The same URL with another text replaces the
    article's text and what was extracted from it; facts it still reports keep their changes,
    so nothing is reported twice. Everything happens in one transaction."""
    if not url:
        raise ValueError("save_article: the article has no URL")
    if found_by not in FOUND_BY:
        raise ValueError(f"save_article: found_by must be one of {FOUND_BY}, not {found_by!r}")
    stamp = _stamp(fetched_at)
    digest = text_hash(text)
    with _transaction(db):
        known = known_article(db, url)
        if known is not None and known["content_hash"] == digest:
            return []
        values = [guid, source, _clip(title, MAX_TITLE), lang, published, digest, text]
        if known is not None:
            article_id = int(known["id"])
            _forget_article(db, article_id)
            db.execute(
                "UPDATE articles SET guid = ?, source = ?, title = ?, lang = ?, published = ?, "
                "content_hash = ?, text = ?, updated_at = ?, fetched_at = coalesce(fetched_at, ?) "
                "WHERE id = ?",
                [*values, stamp, stamp, article_id],
            )
        else:
            cursor = db.execute(
                "INSERT INTO articles (guid, source, title, lang, published, content_hash, text, "
                "url, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*values, url, stamp],
            )
            article_id = int(cursor.lastrowid or 0)
        db.execute("DELETE FROM failed_articles WHERE url = ?", [url])
        run = _apply(db, _Pass(article_id, stamp, stamp, found_by), extraction, published)
        return _changes_by_id(db, run.change_ids)


def _forget_article(db: sqlite_utils.Database, article_id: int) -> None:
    """Remove what an article said, before it is read again. A fact no other article reports
    goes too, unless a change was reported on it (the change stays, with its fact)."""
    facts = [
        r[0]
        for r in db.execute("SELECT fact_id FROM fact_sources WHERE article_id = ?", [article_id])
    ]
    db.execute("DELETE FROM fact_sources WHERE article_id = ?", [article_id])
    db.execute("DELETE FROM figures WHERE article_id = ?", [article_id])
    db.execute("DELETE FROM statuses WHERE article_id = ?", [article_id])
    for fact_id in facts:
        db.execute(
            "DELETE FROM facts WHERE id = ? "
            "AND NOT EXISTS (SELECT 1 FROM fact_sources WHERE fact_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM changes WHERE fact_id = ?)",
            [fact_id, fact_id, fact_id],
        )


# Existing changes by (kind, metric, dims_key, unit, counterparty, old_value, new_value,
# old_status, new_status, ref_end): what a re-extraction finds again is kept, not duplicated.
_Reuse = dict[tuple[Any, ...], list[int]]


@dataclass
class _Pass:
    """One article being applied: where its items go and what they did."""

    article_id: int
    seen_at: str  # first_seen_at of the facts it creates
    detected_at: str  # detected_at of the changes it finds
    found_by: str
    reuse: _Reuse | None = None
    change_ids: list[int] = field(default_factory=list)
    new_changes: int = 0
    figures: int = 0
    statuses: int = 0


def _apply(
    db: sqlite_utils.Database, run: _Pass, extraction: Extraction, published: str | None
) -> _Pass:
    """Write one article's figures and statuses, deciding for each whether it is a new fact,
    a repeat, a change or history. Items are taken oldest reference date first, so that what
    one article tells about several dates is read in the order it happened."""
    published = extraction.published or published
    figures = sorted(
        ((ref_end(f.as_of, published), n, f) for n, f in enumerate(extraction.figures)),
        key=lambda t: (t[0] or "", t[1]),
    )
    for ref, _, figure in figures:
        _apply_figure(db, run, figure, ref)
    # an article's current status first: the others are its account of the past
    statuses = sorted(
        ((ref_end(s.as_of, published), n, s) for n, s in enumerate(extraction.statuses)),
        key=lambda t: (not t[2].current, t[0] or "", t[1]),
    )
    for ref, _, status in statuses:
        _apply_status(db, run, status, ref)
    return run


def _fact_rows(
    db: sqlite_utils.Database, key_sql: str, key: list[Any], ref: str | None, *, status: bool
) -> list[FactRow]:
    """The facts of one series that `decide` needs: the latest (for statuses, the latest
    given as current) and those dated like the latest fact not after `ref`. Three lookups
    on the series index, however long the history."""
    value = "status" if status else "value"
    columns = f"id, {value}, ref_end, current"
    where = f"{key_sql} AND current = 1" if status else key_sql
    rows = db.execute(
        f"SELECT {columns} FROM facts WHERE {where} "
        f"AND ref_end IS (SELECT max(ref_end) FROM facts WHERE {where}) ORDER BY id LIMIT 1",
        [*key, *key],
    ).fetchall()
    in_force = None
    if ref is not None:
        in_force = db.execute(
            f"SELECT max(ref_end) FROM facts WHERE {key_sql} AND ref_end <= ?", [*key, ref]
        ).fetchone()[0]
    if in_force is None:
        rows += db.execute(f"SELECT {columns} FROM facts WHERE {key_sql} AND ref_end IS NULL", key)
    else:
        rows += db.execute(
            f"SELECT {columns} FROM facts WHERE {key_sql} AND ref_end = ?", [*key, in_force]
        )
    unique = {r[0]: r for r in rows}
    return [FactRow(r[0], r[1], r[2], bool(r[3])) for r in unique.values()]


def _apply_figure(db: sqlite_utils.Database, run: _Pass, figure: Figure, ref: str | None) -> None:
    value = float(figure.value)
    if not math.isfinite(value):
        raise ValueError(f"figure {figure.metric}: value is not a finite number: {figure.value}")
    dk = dims_key(dict(figure.dims))
    key = [figure.metric, dk, figure.unit]
    key_sql = "metric = ? AND dims_key = ? AND unit = ?"
    decision = decide(_fact_rows(db, key_sql, key, ref, status=False), value, ref)
    if decision.kind == "same" and decision.fact_id is not None:
        fact_id = decision.fact_id
    else:
        fact_id = _insert(
            db,
            "facts",
            kind="figure",
            metric=figure.metric,
            dims_key=dk,
            unit=figure.unit,
            value=value,
            value_max=figure.value_max,
            bound=figure.bound,
            as_of=figure.as_of,
            ref_end=ref,
            first_seen_at=run.seen_at,
            current=1,
        )
    evidence = _clip(figure.evidence, MAX_EVIDENCE)
    _link(db, fact_id, run.article_id)
    _insert(
        db,
        "figures",
        article_id=run.article_id,
        metric=figure.metric,
        dims_key=dk,
        value=value,
        value_max=figure.value_max,
        unit=figure.unit,
        bound=figure.bound,
        as_of=figure.as_of,
        ref_end=ref,
        lang=figure.lang,
        evidence=evidence,
        fact_id=fact_id,
    )
    run.figures += 1
    if decision.kind in ("first", "change"):
        old = decision.old if isinstance(decision.old, float | int) else None
        change = {
            "kind": "figure",
            "metric": figure.metric,
            "dims_key": dk,
            "unit": figure.unit,
            "counterparty": None,
            "old_value": old,
            "new_value": value,
            "old_status": None,
            "new_status": None,
            "ref_end": ref,
        }
        _record_change(db, run, change, as_of=figure.as_of, fact_id=fact_id, evidence=evidence)


def _apply_status(db: sqlite_utils.Database, run: _Pass, status: Status, ref: str | None) -> None:
    key_sql = "counterparty = ? AND kind = 'status'"
    rows = _fact_rows(db, key_sql, [status.counterparty], ref, status=True)
    decision = decide(rows, status.status, ref, current=status.current)
    if decision.kind == "same" and decision.fact_id is not None:
        fact_id = decision.fact_id
        if status.current:
            db.execute("UPDATE facts SET current = 1 WHERE id = ? AND current = 0", [fact_id])
    else:
        fact_id = _insert(
            db,
            "facts",
            kind="status",
            counterparty=status.counterparty,
            status=status.status,
            current=int(status.current),
            as_of=status.as_of,
            ref_end=ref,
            first_seen_at=run.seen_at,
        )
    evidence = _clip(status.evidence, MAX_EVIDENCE)
    _link(db, fact_id, run.article_id)
    _insert(
        db,
        "statuses",
        article_id=run.article_id,
        counterparty=status.counterparty,
        status=status.status,
        current=int(status.current),
        as_of=status.as_of,
        ref_end=ref,
        lang=status.lang,
        evidence=evidence,
        fact_id=fact_id,
    )
    run.statuses += 1
    if decision.kind in ("first", "change"):
        change = {
            "kind": "status",
            "metric": None,
            "dims_key": None,
            "unit": None,
            "counterparty": status.counterparty,
            "old_value": None,
            "new_value": None,
            "old_status": decision.old if isinstance(decision.old, str) else None,
            "new_status": status.status,
            "ref_end": ref,
        }
        _record_change(db, run, change, as_of=status.as_of, fact_id=fact_id, evidence=evidence)


def _insert(db: sqlite_utils.Database, table: str, **row: Any) -> int:
    columns = list(row)
    cursor = db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(columns)})",
        list(row.values()),
    )
    return int(cursor.lastrowid or 0)


def _link(db: sqlite_utils.Database, fact_id: int, article_id: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO fact_sources (fact_id, article_id) VALUES (?, ?)",
        [fact_id, article_id],
    )


def _record_change(
    db: sqlite_utils.Database,
    run: _Pass,
    change: dict[str, Any],
    *,
    as_of: str | None,
    fact_id: int,
    evidence: str | None,
) -> None:
    if run.reuse is not None:
        same = run.reuse.get(tuple(change.values()))
        if same:
            change_id = same.pop(0)
            db.execute("UPDATE changes SET fact_id = ? WHERE id = ?", [fact_id, change_id])
            run.change_ids.append(change_id)
            return
    change_id = _insert(
        db,
        "changes",
        **change,
        as_of=as_of,
        fact_id=fact_id,
        detected_at=run.detected_at,
        found_by=run.found_by,
        evidence=evidence,
        article_id=run.article_id,
    )
    run.change_ids.append(change_id)
    run.new_changes += 1


# --------------------------------------------------------------------------- changes


_CHANGE_COLUMNS = (
    "c.id, c.kind, c.metric, c.dims_key, c.unit, c.counterparty, c.old_value, c.new_value, "
    "c.old_status, c.new_status, c.as_of, c.ref_end, c.fact_id, c.detected_at, c.found_by, "
    "c.evidence, a.url"
)


def _select_changes(
    db: sqlite_utils.Database, where: str = "1", params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    rows = db.execute(
        f"SELECT {_CHANGE_COLUMNS} FROM changes c LEFT JOIN articles a ON a.id = c.article_id "
        f"WHERE {where} ORDER BY c.detected_at, c.id",
        list(params),
    ).fetchall()
    urls = _source_urls(db, [r[12] for r in rows if r[12] is not None])
    out = []
    for row in rows:
        (cid, kind, metric, dk, unit, party, old_v, new_v, old_s, new_s) = row[:10]
        (as_of, ref, fact_id, detected_at, found_by, evidence, url) = row[10:]
        change: dict[str, Any] = {"id": cid, "kind": kind}
        if kind == "figure":
            change |= {"metric": metric, "dims": json.loads(dk or "{}")}
            change |= {"old": _number(old_v), "new": _number(new_v), "unit": unit}
        else:
            change |= {"counterparty": party, "old": old_s, "new": new_s}
        sources = [url] if url else []
        sources += [u for u in urls.get(fact_id, []) if u != url]
        change |= {
            "as_of": as_of or ref,
            "ref_end": ref,
            "sources": sources,
            "detected_at": detected_at,
            "first_seen": change["old"] is None,
            "found_by": found_by,
            "evidence": evidence,
        }
        out.append(change)
    return out


def _source_urls(db: sqlite_utils.Database, fact_ids: Iterable[int]) -> dict[int, list[str]]:
    """The article URLs behind each fact, the first reporter first."""
    out: dict[int, list[str]] = {}
    for chunk in _chunks(sorted(set(fact_ids))):
        rows = db.execute(
            "SELECT fs.fact_id, a.url FROM fact_sources fs JOIN articles a ON a.id = fs.article_id "
            f"WHERE fs.fact_id IN ({_marks(chunk)}) ORDER BY fs.rowid",
            list(chunk),
        )
        for fact_id, url in rows:
            out.setdefault(fact_id, []).append(url)
    return out


def _changes_by_id(db: sqlite_utils.Database, ids: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        out += _select_changes(db, f"c.id IN ({_marks(chunk)})", chunk)
    order = {cid: n for n, cid in enumerate(ids)}
    return sorted(out, key=lambda c: order[c["id"]])


def changes(
    db: sqlite_utils.Database,
    *,
    since: str | datetime | None = None,
    include_reextract: bool = True,
) -> list[dict[str, Any]]:
    """Every change (first sightings included), oldest first, in the SPEC `monitor changes
    --json` shape plus id, unit, ref_end, first_seen, found_by and evidence. `sources` lists
    every article behind the fact, the one that made the change first."""
    where, params = ["1"], []
    if since is not None:
        where.append("c.detected_at >= ?")
        params.append(_stamp(since))
    if not include_reextract:
        where.append("c.found_by = 'run'")
    return _select_changes(db, " AND ".join(where), params)


def pending(
    db: sqlite_utils.Database, channel: str, *, include_reextract: bool = False
) -> list[dict[str, Any]]:
    """The changes not yet delivered on `channel`, oldest first (the `changes()` shape)."""
    where = "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.change_id = c.id AND d.channel = ?)"
    if not include_reextract:
        where += " AND c.found_by = 'run'"
    return _select_changes(db, where, [channel])


def mark_delivered(
    db: sqlite_utils.Database, channel: str, change_ids: list[int], at: str | datetime
) -> None:
    """Record that these changes went out on `channel` (again: no-op)."""
    stamp = _stamp(at)
    with _transaction(db):
        for chunk in _chunks(sorted(set(change_ids))):
            found = {
                r[0]
                for r in db.execute(f"SELECT id FROM changes WHERE id IN ({_marks(chunk)})", chunk)
            }
            if missing := sorted(set(chunk) - found):
                raise ValueError(f"mark_delivered: no change with id {missing[0]}")
            db.conn.executemany(
                "INSERT OR IGNORE INTO deliveries (change_id, channel, delivered_at) "
                "VALUES (?, ?, ?)",
                [(cid, channel, stamp) for cid in chunk],
            )


def add_change(db: sqlite_utils.Database, change: dict[str, Any]) -> int:
    """Record a change given in the `changes()` shape, as an import would (also used by tests
    of the digests): its new value becomes a fact whose sources are the given URLs (a URL
    not stored yet gets a bare article row). Returns the change id."""
    kind = change.get("kind")
    if kind not in ("figure", "status"):
        raise ValueError(f"add_change: kind must be 'figure' or 'status', not {kind!r}")
    found_by = change.get("found_by") or "run"
    if found_by not in FOUND_BY:
        raise ValueError(f"add_change: found_by must be one of {FOUND_BY}, not {found_by!r}")
    stamp = _stamp(change["detected_at"])
    as_of = change.get("as_of")
    ref = ref_end(as_of, None)
    with _transaction(db):
        articles = []
        for url in change.get("sources") or []:
            known = known_article(db, url)
            articles.append(
                known["id"] if known else _insert(db, "articles", url=url, fetched_at=stamp)
            )
        if kind == "figure":
            dk = dims_key(dict(change.get("dims") or {}))
            old, new = change.get("old"), change.get("new")
            fact = {"metric": change["metric"], "dims_key": dk, "unit": change.get("unit")}
            fact |= {"value": float(new), "bound": change.get("bound") or "exact"}
            values = {
                "old_value": None if old is None else float(old),
                "new_value": float(new),
            }
        else:
            fact = {"counterparty": change["counterparty"], "status": change["new"]}
            values = {"old_status": change.get("old"), "new_status": change["new"]}
        fact_id = _insert(
            db, "facts", kind=kind, **fact, as_of=as_of, ref_end=ref, first_seen_at=stamp
        )
        for article_id in articles:
            _link(db, fact_id, article_id)
        return _insert(
            db,
            "changes",
            kind=kind,
            metric=fact.get("metric"),
            dims_key=fact.get("dims_key"),
            unit=fact.get("unit"),
            counterparty=fact.get("counterparty"),
            **values,
            as_of=as_of,
            ref_end=ref,
            fact_id=fact_id,
            detected_at=stamp,
            found_by=found_by,
            evidence=_clip(change.get("evidence"), MAX_EVIDENCE),
            article_id=articles[0] if articles else None,
        )


# --------------------------------------------------------------------------- history


def _sources(
    db: sqlite_utils.Database, fact_ids: list[int], table: str
) -> dict[int, list[dict[str, Any]]]:
    """Each fact's sources: the article and what it said (evidence), first reporter first."""
    out: dict[int, list[dict[str, Any]]] = {}
    item = (
        f"(SELECT x.{{}} FROM {table} x WHERE x.fact_id = fs.fact_id "
        "AND x.article_id = fs.article_id ORDER BY x.id LIMIT 1)"
    )
    for chunk in _chunks(fact_ids):
        rows = db.execute(
            "SELECT fs.fact_id, a.url, a.source, a.title, a.published, "
            f"coalesce({item.format('lang')}, a.lang), {item.format('evidence')} "
            "FROM fact_sources fs JOIN articles a ON a.id = fs.article_id "
            f"WHERE fs.fact_id IN ({_marks(chunk)}) ORDER BY fs.rowid",
            list(chunk),
        )
        for fact_id, url, source, title, published, lang, evidence in rows:
            out.setdefault(fact_id, []).append(
                {
                    "url": url,
                    "source": source,
                    "title": title,
                    "published": published,
                    "lang": lang,
                    "evidence": evidence,
                }
            )
    return out


_FIGURE_FACT = "id, metric, dims_key, unit, value, value_max, bound, as_of, ref_end, first_seen_at"


def _figure_fact(row: Sequence[Any]) -> dict[str, Any]:
    fact_id, metric, dk, unit, value, value_max, bound, as_of, ref, seen = row
    return {
        "id": fact_id,
        "metric": metric,
        "dims": json.loads(dk or "{}"),
        "value": _number(value),
        "value_max": _number(value_max),
        "unit": unit,
        "bound": bound,
        "as_of": as_of or ref,  # unknown: the publication date it was compared by
        "ref_end": ref,
        "first_seen_at": seen,
    }


def history(db: sqlite_utils.Database, metric: str, dims: dict[str, str]) -> list[dict[str, Any]]:
    """Every fact of one series, oldest reference date first (unknown dates first of all),
    each with its sources and the evidence sentence of its first source."""
    rows = db.execute(
        f"SELECT {_FIGURE_FACT} FROM facts WHERE metric = ? AND dims_key = ? ORDER BY ref_end, id",
        [metric, dims_key(dims)],
    ).fetchall()
    facts = [_figure_fact(r) for r in rows]
    sources = _sources(db, [f["id"] for f in facts], "figures")
    for fact in facts:
        fact["sources"] = sources.get(fact["id"], [])
        fact["evidence"] = next((s["evidence"] for s in fact["sources"] if s["evidence"]), None)
    return facts


def series(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every figure series (metric, dims, unit) with its latest fact and how many facts and
    sources it has, by metric, the total before its breakdowns."""
    rows = db.execute(
        f"SELECT {_FIGURE_FACT}, n, "
        "(SELECT count(*) FROM fact_sources fs WHERE fs.fact_id = latest.id) "
        f"FROM (SELECT {_FIGURE_FACT}, "
        "row_number() OVER (PARTITION BY metric, dims_key, unit ORDER BY ref_end DESC, id) AS rn, "
        "count(*) OVER (PARTITION BY metric, dims_key, unit) AS n "
        "FROM facts WHERE kind = 'figure') AS latest WHERE rn = 1 "
        "ORDER BY metric, dims_key != '{}', dims_key, unit"  # a metric's total first
    ).fetchall()
    out = []
    for row in rows:
        latest = _figure_fact(row[:10])
        fact_id = latest.pop("id")
        out.append({**latest, "fact_id": fact_id, "facts": row[10], "sources": row[11]})
    return out


def status_timeline(
    db: sqlite_utils.Database, counterparty: str | None = None
) -> list[dict[str, Any]]:
    """Every status fact, by counterparty then reference date, with its sources. `current`:
    some article gave it as its current status (the others are articles' accounts of the
    past); `latest`: the status that holds now for that counterparty."""
    where, params = "kind = 'status'", []
    if counterparty is not None:
        where += " AND counterparty = ?"
        params.append(counterparty)
    rows = db.execute(
        "SELECT id, counterparty, status, current, as_of, ref_end, first_seen_at FROM facts "
        f"WHERE {where} ORDER BY counterparty, ref_end, id",
        params,
    ).fetchall()
    sources = _sources(db, [r[0] for r in rows], "statuses")
    latest: dict[str, tuple[str, int]] = {}
    for fact_id, party, _, current, _, ref, _ in rows:
        if current and (party not in latest or (ref or "", -fact_id) > latest[party]):
            latest[party] = (ref or "", -fact_id)
    out = []
    for fact_id, party, status, current, as_of, ref, seen in rows:
        found = sources.get(fact_id, [])
        out.append(
            {
                "id": fact_id,
                "counterparty": party,
                "status": status,
                "current": bool(current),
                "latest": latest.get(party) == (ref or "", -fact_id),
                "as_of": as_of or ref,
                "ref_end": ref,
                "first_seen_at": seen,
                "evidence": next((s["evidence"] for s in found if s["evidence"]), None),
                "sources": found,
            }
        )
    return out


# --------------------------------------------------------------------------- bulk reading

_HISTORY_ROWS = (
    "SELECT f.id, f.unit, f.value, f.value_max, f.bound, f.as_of, f.ref_end, f.first_seen_at, "
    "fs.rowid, a.url, a.source, a.title, a.published, coalesce(x.lang, a.lang), x.evidence "
    "FROM facts f LEFT JOIN fact_sources fs ON fs.fact_id = f.id "
    "LEFT JOIN articles a ON a.id = fs.article_id "
    "LEFT JOIN figures x ON x.fact_id = fs.fact_id AND x.article_id = fs.article_id "
    "WHERE f.kind = 'figure' AND f.metric = ? AND f.dims_key = ? "
    "ORDER BY f.ref_end, f.id, fs.rowid, x.id"
)


def figure_series(db: sqlite_utils.Database) -> list[tuple[str, dict[str, str]]]:
    """Every figure series as (metric, dims), whatever its units, by metric and dims: what
    `series` lists without its latest facts, for a caller that reads the histories anyway."""
    # only figure facts have a metric: this reads the facts_series index alone
    rows = db.execute(
        "SELECT metric, dims_key FROM facts WHERE metric IS NOT NULL GROUP BY metric, dims_key"
    )
    return [(metric, json.loads(dk or "{}")) for metric, dk in rows]


def histories(
    db: sqlite_utils.Database, wanted: Iterable[tuple[str, dict[str, str]]]
) -> Iterator[list[dict[str, Any]]]:
    """`history(db, metric, dims)` for each (metric, dims) of `wanted`, in that order, one
    series at a time (memory holds one series). Each series is one query joining its facts,
    their articles and what each article said, instead of a query per 500 facts with two
    correlated subqueries per source: a whole site's history is read in about a third of the
    time. An article that gave the same fact twice counts once, with what it said first."""
    for metric, dims in wanted:
        facts: list[dict[str, Any]] = []
        fact: dict[str, Any] = {}
        seen_link = None
        dims_copy = json.loads(dims_key(dims))
        for row in db.execute(_HISTORY_ROWS, [metric, dims_key(dims)]):
            (fact_id, unit, value, value_max, bound, as_of, ref, seen, link) = row[:9]
            if fact.get("id") != fact_id:
                fact = {
                    "id": fact_id,
                    "metric": metric,
                    "dims": dict(dims_copy),
                    "value": _number(value),
                    "value_max": _number(value_max),
                    "unit": unit,
                    "bound": bound,
                    "as_of": as_of or ref,
                    "ref_end": ref,
                    "first_seen_at": seen,
                    "sources": [],
                    "evidence": None,
                }
                facts.append(fact)
            if link is None or link == seen_link:
                continue  # no source, or a second figure of the same article: keep the first
            seen_link = link
            url, source, title, published, lang, evidence = row[9:]
            fact["sources"].append(
                {
                    "url": url,
                    "source": source,
                    "title": title,
                    "published": published,
                    "lang": lang,
                    "evidence": evidence,
                }
            )
            if fact["evidence"] is None and evidence:
                fact["evidence"] = evidence
        yield facts


def _ids_then_batches(
    db: sqlite_utils.Database, where: str, params: Sequence[Any], batch: int
) -> Iterator[dict[str, Any]]:
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT c.id FROM changes c WHERE {where} ORDER BY c.detected_at, c.id", list(params)
        )
    ]
    for start in range(0, len(ids), max(batch, 1)):
        yield from _changes_by_id(db, ids[start : start + batch])


def iter_pending(
    db: sqlite_utils.Database,
    channel: str,
    *,
    include_reextract: bool = False,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """`pending(db, channel)`, the same changes in the same order and shape, read `batch` at a
    time: the ids first, then each batch with its sources, so that memory holds one batch
    however long the backlog is (81,000 changes as one list take about 200 MB). The set of
    changes is fixed when iteration starts: one recorded meanwhile waits for the next
    digest."""
    where = "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.change_id = c.id AND d.channel = ?)"
    if not include_reextract:
        where += " AND c.found_by = 'run'"
    return _ids_then_batches(db, where, [channel], batch)


_SAFE_INT = 2**53  # below this every integral float is exactly an integer


def _json_number(column: str) -> str:
    """SQL for a REAL column as `_number` gives it: an integral value as an integer."""
    return (
        f"CASE WHEN {column} = CAST({column} AS INTEGER) AND abs({column}) < {_SAFE_INT} "
        f"THEN CAST({column} AS INTEGER) ELSE {column} END"
    )


_CHANGE_TAIL = (
    "'as_of', coalesce(nullif(c.as_of, ''), c.ref_end), 'ref_end', c.ref_end, "
    "'sources', (SELECT json_group_array(u) FROM ("
    "SELECT ca.url AS u, -1 AS o WHERE ca.url <> '' "
    "UNION ALL SELECT a.url, fs.rowid FROM fact_sources fs JOIN articles a ON a.id = fs.article_id "
    "WHERE fs.fact_id = c.fact_id AND a.url IS NOT ca.url ORDER BY o)), "
    "'detected_at', c.detected_at, 'first_seen', json({first_seen}), 'found_by', c.found_by, "
    "'evidence', c.evidence"
)
_CHANGES_JSON = (
    "SELECT c.id, c.kind, c.old_value, c.new_value, CASE c.kind WHEN 'figure' THEN json_object("
    "'id', c.id, 'kind', c.kind, 'metric', c.metric, 'dims', json(coalesce(c.dims_key, '{{}}')), "
    f"'old', {_json_number('c.old_value')}, 'new', {_json_number('c.new_value')}, "
    "'unit', c.unit, "
    + _CHANGE_TAIL.format(first_seen="iif(c.old_value IS NULL, 'true', 'false')")
    + ") ELSE json_object('id', c.id, 'kind', c.kind, 'counterparty', c.counterparty, "
    "'old', c.old_status, 'new', c.new_status, "
    + _CHANGE_TAIL.format(first_seen="iif(c.old_status IS NULL, 'true', 'false')")
    + ") END FROM changes c LEFT JOIN articles ca ON ca.id = c.article_id "
    "ORDER BY c.detected_at, c.id"
)


def _exact_in_json(value: Any) -> bool:
    """Whether SQLite writes this stored number as Python's JSON would."""
    return value is None or (
        isinstance(value, int) or (float(value).is_integer() and abs(value) < _SAFE_INT)
    )


def changes_json(db: sqlite_utils.Database) -> Iterator[tuple[int, str]]:
    """Every change as (id, its JSON text), in `changes()` order: the text parses to exactly
    what `changes()` gives for it. SQLite writes the JSON (json_object) as it reads the rows,
    several times faster than building the dicts and encoding them, and memory holds one
    row. A value SQLite would write otherwise than Python (a fraction, with 15 digits
    where Python writes 17; a huge number) is written again by Python."""
    for change_id, kind, old, new, text in db.execute(_CHANGES_JSON):
        if kind == "figure" and not (_exact_in_json(old) and _exact_in_json(new)):
            change = json.loads(text)
            change["old"], change["new"] = _number(old), _number(new)
            text = json.dumps(change, ensure_ascii=False, separators=(",", ":"))
        yield change_id, text


def changes_by_id(db: sqlite_utils.Database, ids: list[int]) -> list[dict[str, Any]]:
    """These changes in the `changes()` shape, in the order of `ids` (an unknown id is left
    out)."""
    return _changes_by_id(db, ids)


# --------------------------------------------------------------------------- re-extraction


def reextract(db: sqlite_utils.Database, extract: Extract, now: str | datetime) -> dict[str, int]:
    """Rebuild figures, statuses, facts and their sources from the stored article texts with
    the current rules (`extract(text, lang, published)`), replaying the articles in the order
    they were first stored, in one transaction. A change found again is kept as it was
    (delivered or not); a new one is recorded as found by 're-extract', so that digests leave
    it out unless asked; changes no longer found stay, detached from any fact."""
    stamp = _stamp(now)
    counts = {"articles": 0, "figures": 0, "statuses": 0, "new_changes": 0}
    with _transaction(db):
        reuse: _Reuse = {}
        for row in db.execute(
            "SELECT id, kind, metric, dims_key, unit, counterparty, old_value, new_value, "
            "old_status, new_status, ref_end FROM changes ORDER BY id"
        ):
            reuse.setdefault(tuple(row[1:]), []).append(row[0])
        db.execute("UPDATE changes SET fact_id = NULL")
        for table in ("fact_sources", "figures", "statuses", "facts"):
            db.execute(f"DELETE FROM {table}")
        order = [
            r[0]
            for r in db.execute(
                "SELECT id FROM articles WHERE text IS NOT NULL ORDER BY fetched_at, id"
            )
        ]
        for article_id in order:
            url, lang, published, fetched_at, text = db.execute(
                "SELECT url, lang, published, fetched_at, text FROM articles WHERE id = ?",
                [article_id],
            ).fetchone()
            try:
                extraction = extract(text, lang, published)
            except Exception as exc:
                exc.add_note(f"while re-extracting {url}")
                raise
            run = _Pass(article_id, fetched_at or stamp, stamp, "reextract", reuse)
            applied = _apply(db, run, extraction, published)
            counts["articles"] += 1
            counts["figures"] += applied.figures
            counts["statuses"] += applied.statuses
            counts["new_changes"] += applied.new_changes
    return counts


__all__ = [
    "FOUND_BY",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ArticleFailure",
    "Fetch",
    "StoreError",
    "add_change",
    "article_failures",
    "changes",
    "connect",
    "given_up_articles",
    "history",
    "known_article",
    "mark_delivered",
    "pending",
    "record_fetch",
    "record_fetches",
    "reextract",
    "robots",
    "run_lock",
    "save_article",
    "save_article_failures",
    "save_robots",
    "series",
    "source_state",
    "source_states",
    "status_timeline",
    "text_hash",
]
