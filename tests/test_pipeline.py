"""`run_once` over real HTTP on loopback: sources written as TOML files, the shipped rules,
a real SQLite file. Each broken source or article ends as a recorded error naming its URL
while the other sources still run."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from loopback import Hit, Site, listing, page, rss, write_source

from monitor import pipeline, store
from monitor.fetch import Fetcher, FetchPolicy
from monitor.patterns import RulesError
from monitor.pipeline import RulesSource, RunSummary, SourceOutcome, run_once
from monitor.rules import Rules, load_rules
from monitor.sources import Source, load_source

FAST = FetchPolicy(
    host_delay=0,
    backoff=0,
    retries=1,
    robots=False,
    connect_timeout=2,
    read_timeout=1,
    total_timeout=5,
)
DAY = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)

# -- articles (written for these tests) ---------------------------------------------------

RU_ABROAD = [
    "Министерство труда сообщило, что на 1 марта 2025 года за рубежом работали 121 тыс. "
    "граждан Казахстана.",
    "Из них 97 тыс. трудятся в России.",
]
EN_WORKERS = [
    "As of March 1, 2025, 15,200 foreign citizens were employed in Kazakhstan under work "
    "permits, the ministry said.",
]
KK_QUOTA = [
    "Үкімет 2025 жылға шетелдік жұмыс күшін тартуға арналған квотаны 29 750 адам деп бекітті.",
    "Квота өткен жылмен салыстырғанда азайды, деп хабарлады министрлік.",
]
KK_WORKERS = [
    "2025 жылғы 1 наурыздағы жағдай бойынша Қазақстанда жұмысқа рұқсат негізінде 15,2 мың "
    "шетел азаматы еңбек етуде.",
    "Олардың басым бөлігі құрылыс саласында жұмыс істейді.",
]
RU_WORKERS = [
    "По данным ведомства, на 1 марта 2025 года в Казахстане по разрешениям на работу "
    "трудились 14,8 тыс. иностранных граждан.",
]
RU_QUOTA = [
    "Ведомство напомнило, что квота на привлечение иностранной рабочей силы на 2025 год "
    "составляет 29 750 человек.",
]


# -- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = store.connect(tmp_path / "monitor.db")
    yield database
    database.conn.close()


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def make_source(folder: Path, name: str, url: str, kind: str = "feed", **keys: Any) -> Source:
    return load_source(write_source(folder, name, url, kind, **keys))


class Sleeps:
    """An injected `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def run(
    sources: list[Source],
    rules: RulesSource,
    db: sqlite_utils.Database,
    now: datetime = DAY,
    policy: FetchPolicy = FAST,
    sleeps: Sleeps | None = None,
    **kwargs: Any,
) -> RunSummary:
    async def main() -> RunSummary:
        async with Fetcher(policy, sleep=sleeps or Sleeps()) as fetcher:
            return await run_once(sources, rules, db, fetcher, now, force=True, **kwargs)

    return asyncio.run(main())


def outcome(summary: RunSummary, name: str) -> SourceOutcome:
    return next(o for o in summary.outcomes if o.name == name)


def figures(db: sqlite_utils.Database) -> set[tuple[str, str, float, str]]:
    """(metric, dims, value, article url) of every stored figure."""
    rows = db.execute(
        "SELECT f.metric, f.dims_key, f.value, a.url FROM figures f "
        "JOIN articles a ON a.id = f.article_id"
    ).fetchall()
    return {(m, d, v, u) for m, d, v, u in rows}


def values(db: sqlite_utils.Database) -> set[tuple[str, str, float]]:
    return {(m, d, v) for m, d, v, _ in figures(db)}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def good_feed(site: Site, prefix: str = "") -> None:
    """A Russian feed of two articles on `site`."""
    site.put(f"{prefix}/news/abroad", page("Трудовая миграция", RU_ABROAD, "2025-03-05"))
    site.put(f"{prefix}/news/quota", page("Квота", RU_QUOTA, "2025-03-04"))
    feed = rss(
        site.base,
        [
            (f"{prefix}/news/abroad", "Казахстанцы за рубежом", DAY),
            (f"{prefix}/news/quota", "Квота на 2025 год", DAY - timedelta(days=1)),
        ],
    )
    site.put(f"{prefix}/rss", feed, content_type="application/rss+xml; charset=utf-8")


# -- step 1: robustness -------------------------------------------------------------------


def test_a_feed_and_its_articles_are_stored_with_figures_and_first_sightings(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"), language="ru")
    summary = run([src], rules, db)
    out = outcome(summary, "Feed RU")
    assert (out.ok, out.items, out.new_articles, out.failed_articles) == (True, 2, 2, 0)
    assert values(db) == {
        ("citizens_abroad", "{}", 121000.0),
        ("citizens_abroad", '{"country":"RU"}', 97000.0),
        ("foreign_labor_quota", "{}", 29750.0),
    }
    assert [c["old"] for c in summary.changes] == [None, None, None]
    assert summary.changes[0]["metric"] == "foreign_labor_quota"  # the older article first
    assert summary.line() == ("sources: 1 ok, 0 failed; new articles: 2; figures: 3; changes: 3")
    state = store.source_state(db, "Feed RU")
    assert state is not None
    assert (state["failures"], state["last_error"], state["items"]) == (0, None, 2)
    assert state["etag"] and state["newest_item"] == "2025-03-05"


def test_an_exception_while_extracting_one_article_fails_only_that_article(
    tmp_path: Path,
    site: Site,
    rules: Rules,
    db: sqlite_utils.Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug met on one article (here injected into the real extractor for the article
    mentioning 'квота') is that article's recorded error; the source and the other sources
    go on."""
    real = pipeline.extract_text

    def buggy(text: str, rules: Rules, **kwargs: Any) -> Any:
        if "квота" in text:
            raise RuntimeError("index out of range\nin a rule")
        return real(text, rules, **kwargs)

    monkeypatch.setattr(pipeline, "extract_text", buggy)
    good_feed(site)
    site.put("/en/workers", page("Foreign workforce", EN_WORKERS, "2025-03-05"))
    site.put(
        "/en/rss",
        rss(site.base, [("/en/workers", "Foreign workforce", DAY)]),
        content_type="application/rss+xml",
    )
    ru = make_source(tmp_path, "Feed RU", site.url("/rss"), language="ru")
    en = make_source(tmp_path, "Feed EN", site.url("/en/rss"), language="en")
    summary = run([ru, en], rules, db)
    out = outcome(summary, "Feed RU")
    assert out.ok and out.new_articles == 1
    assert out.article_errors == [
        f"{site.url('/news/quota')}: RuntimeError: index out of range in a rule"
    ]
    assert outcome(summary, "Feed EN").new_articles == 1
    assert {m for m, _, _ in values(db)} == {"citizens_abroad", "foreign_workers"}
    assert "new articles: 2 (1 failed)" in summary.line()
    state = store.source_state(db, "Feed RU")
    assert state is not None and state["failures"] == 0
    assert state["last_error"] == (
        f"1 article failed, first: {site.url('/news/quota')}: RuntimeError: index out of "
        "range in a rule"
    )


def test_failed_article_page_keeps_the_feed_uncached_until_it_is_stored(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """No lost article: the feed is unchanged, but the article that failed last time must be
    tried again, so the feed's ETag is not kept while an article is missing."""
    good_feed(site)
    quota = site.pages["/news/quota"]
    quota.first = [500, 500]  # both attempts of the first run fail
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    first = run([src], rules, db)
    assert outcome(first, "Feed RU").article_errors == [
        f"{site.url('/news/quota')}: HTTP 500 after 2 attempts"
    ]
    state = store.source_state(db, "Feed RU")
    assert state is not None and state["etag"] is None and state["last_modified"] is None

    second = run([src], rules, db, now=DAY + timedelta(hours=1))
    out = outcome(second, "Feed RU")
    assert not out.not_modified and out.new_articles == 1 and not out.article_errors
    assert ("foreign_labor_quota", "{}", 29750.0) in values(db)
    assert site.count("/news/abroad") == 1  # the stored one is not fetched again
    state = store.source_state(db, "Feed RU")
    assert state is not None and state["etag"] == site.pages["/rss"].tag
    assert state["last_error"] is None

    third = run([src], rules, db, now=DAY + timedelta(hours=2))
    assert outcome(third, "Feed RU").not_modified
    assert site.log()[-1].status == 304


def test_one_broken_source_never_stops_the_others(
    tmp_path: Path, rules: Rules, db: sqlite_utils.Database
) -> None:
    """Good sources on two loopback sites beside a bad port, a 500, a server that never
    answers, malformed XML, an entity bomb and a listing of junk links."""
    with Site() as a, Site() as b:
        good_feed(a)
        b.put("/kk/quota", page("Квота", KK_QUOTA, "2025-03-04"))
        b.put("/kk/news", listing([("/kk/quota", "Квота бекітілді")]))
        b.put("/500", "", first=[500] * 10)
        b.put("/hang", "", hang=True)
        b.put("/malformed.xml", "<rss><channel><title>Жаңалықтар</ti", content_type="text/xml")
        bomb = (
            '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            "<rss><channel><item><title>&b;</title><link>/x</link></item></channel></rss>"
        )
        b.put("/bomb.xml", bomb, content_type="application/xml")
        b.put("/junk", listing([("/", "Басты бет"), ("/logo.png", "Logo"), ("https://t.me/x", "")]))
        junk = make_source(tmp_path, "Junk", b.url("/junk"), "html", html_links="main a")
        bad = f"http://127.0.0.1:{closed_port()}/rss"
        sources = [
            make_source(tmp_path, "Good feed", a.url("/rss"), language="ru"),
            make_source(tmp_path, "Good listing", b.url("/kk/news"), "html", html_links="a.title"),
            make_source(tmp_path, "Bad port", bad),
            make_source(tmp_path, "Server error", b.url("/500")),
            make_source(tmp_path, "Silent", b.url("/hang")),
            make_source(tmp_path, "Malformed", b.url("/malformed.xml")),
            make_source(tmp_path, "Bomb", b.url("/bomb.xml")),
            junk,
        ]
        summary = run(sources, rules, db)

    assert (summary.ok, summary.failed) == (2, 6)
    assert ("citizens_abroad", "{}", 121000.0) in values(db)
    assert {u for _, _, _, u in figures(db)} == {
        a.url("/news/abroad"),
        a.url("/news/quota"),
        b.url("/kk/quota"),
    }
    expected = {
        "Bad port": (bad, "ConnectError"),
        "Server error": (b.url("/500"), "HTTP 500 after 2 attempts"),
        "Silent": (b.url("/hang"), "timed out after 2 attempts"),
        "Malformed": (b.url("/malformed.xml"), "malformed XML at line 1"),
        "Bomb": (b.url("/bomb.xml"), "XML entities are not allowed"),
        "Junk": (b.url("/junk"), "no article links found"),
    }
    for name, (url, words) in expected.items():
        error = outcome(summary, name).error
        assert error is not None and error.startswith(url) and words in error, (name, error)
        assert "\n" not in error
        state = store.source_state(db, name)
        assert state is not None
        assert (state["failures"], state["last_error"]) == (1, error)
        assert state["last_success"] is None
    for name in ("Good feed", "Good listing"):
        state = store.source_state(db, name)
        assert state is not None and state["failures"] == 0 and state["last_success"]


def test_progress_is_called_once_per_source_as_it_is_fetched(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    sources = [
        make_source(tmp_path, "Feed RU", site.url("/rss")),
        make_source(tmp_path, "Missing", site.url("/nothing-here")),
    ]
    calls: list[tuple[str, bool, int, int]] = []

    def progress(o: SourceOutcome, done: int, total: int) -> None:
        calls.append((o.name, o.ok, done, total))

    run(sources, rules, db, progress=progress)
    assert sorted((name, ok, total) for name, ok, _, total in calls) == [
        ("Feed RU", True, 2),
        ("Missing", False, 2),
    ]
    assert sorted(done for _, _, done, _ in calls) == [1, 2]


def test_only_an_unknown_source_is_an_error(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    with pytest.raises(ValueError, match="no source named 'Nope'"):
        run([src], rules, db, only="Nope")
    assert site.log() == []


def test_sources_not_due_are_not_fetched(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))

    async def cycle(now: datetime) -> RunSummary:
        async with Fetcher(FAST) as fetcher:
            return await run_once([src], rules, db, fetcher, now)

    assert len(asyncio.run(cycle(DAY)).outcomes) == 1
    assert asyncio.run(cycle(DAY + timedelta(minutes=10))).outcomes == []
    assert len(asyncio.run(cycle(DAY + timedelta(minutes=31))).outcomes) == 1
    assert site.count("/rss") == 2


# -- step 2: what HTTP and the documents throw at a run -------------------------------------


def feed_hits(site: Site, path: str = "/rss") -> list[Hit]:
    return [h for h in site.log() if h.path == path]


def test_unchanged_feed_with_etag_costs_one_conditional_request(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    run([src], rules, db)
    before = len(site.log())
    second = run([src], rules, db, now=DAY + timedelta(hours=1))
    assert outcome(second, "Feed RU").not_modified
    assert second.changes == []
    new = site.log()[before:]
    assert [(h.path, h.status, h.if_none_match) for h in new] == [
        ("/rss", 304, site.pages["/rss"].tag)
    ]
    state = store.source_state(db, "Feed RU")
    assert state is not None
    assert (state["last_status"], state["etag"], state["failures"]) == (
        304,
        site.pages["/rss"].tag,
        0,
    )


def test_unchanged_feed_with_last_modified_costs_one_conditional_request(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    feed = site.pages["/rss"]
    feed.etag, feed.modified = False, datetime(2025, 3, 5, 8, 0, tzinfo=UTC)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    run([src], rules, db)
    before = len(site.log())
    second = run([src], rules, db, now=DAY + timedelta(hours=1))
    assert outcome(second, "Feed RU").not_modified
    new = site.log()[before:]
    assert [(h.path, h.status, h.if_modified_since) for h in new] == [
        ("/rss", 304, "Wed, 05 Mar 2025 08:00:00 GMT")
    ]


def test_a_new_item_fetches_only_the_new_article(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    run([src], rules, db)
    later = DAY + timedelta(days=1)
    site.put("/news/workers", page("Иностранцы", RU_WORKERS, "2025-03-06"))
    site.put(
        "/rss",
        rss(
            site.base,
            [
                ("/news/workers", "Иностранная рабочая сила", later),
                ("/news/abroad", "Казахстанцы за рубежом", DAY),
                ("/news/quota", "Квота на 2025 год", DAY - timedelta(days=1)),
            ],
        ),
        content_type="application/rss+xml",
    )
    second = run([src], rules, db, now=later)
    out = outcome(second, "Feed RU")
    assert (out.items, out.new_articles) == (3, 1)
    assert [site.count(p) for p in ("/news/abroad", "/news/quota", "/news/workers")] == [1, 1, 1]
    assert feed_hits(site)[-1].status == 200 and feed_hits(site)[-1].conditional
    assert ("foreign_workers", "{}", 14800.0) in values(db)


def test_gzip_feed_and_article_are_decoded(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    for path in ("/rss", "/news/abroad", "/news/quota"):
        site.pages[path].gzip = True
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db)
    assert outcome(summary, "Feed RU").new_articles == 2
    assert ("citizens_abroad", "{}", 121000.0) in values(db)


def test_redirected_feed_and_article_are_followed(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    site.put("/news/2025/abroad", page("Трудовая миграция", RU_ABROAD, "2025-03-05"))
    site.redirect("/a/123", "/news/2025/abroad", 302)
    site.put(
        "/feeds/main.xml",
        rss(site.base, [("/a/123", "Казахстанцы за рубежом", DAY)]),
        content_type="application/rss+xml",
    )
    site.redirect("/rss", "/feeds/main.xml", 301)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db)
    assert outcome(summary, "Feed RU").new_articles == 1
    # the article is known by the feed's link, so the next feed names it the same way
    assert {u for _, _, _, u in figures(db)} == {site.url("/a/123")}
    assert [h.path for h in site.log()] == [
        "/rss",
        "/feeds/main.xml",
        "/a/123",
        "/news/2025/abroad",
    ]


def test_404_feed_and_404_article_are_errors_naming_the_url(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    del site.pages["/news/quota"]
    ok = make_source(tmp_path, "Feed RU", site.url("/rss"))
    gone = make_source(tmp_path, "Gone", site.url("/old/rss"))
    summary = run([ok, gone], rules, db)
    assert outcome(summary, "Gone").error == f"{site.url('/old/rss')}: HTTP 404"
    assert outcome(summary, "Feed RU").article_errors == [f"{site.url('/news/quota')}: HTTP 404"]
    assert outcome(summary, "Feed RU").new_articles == 1
    assert site.count("/old/rss") == 1  # a 404 is not retried


def test_500_then_success_is_retried_and_stored(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.pages["/rss"].first = [500]
    site.pages["/news/abroad"].first = [503]
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db)
    out = outcome(summary, "Feed RU")
    assert out.ok and out.new_articles == 2 and not out.article_errors
    assert [h.status for h in feed_hits(site)] == [500, 200]
    assert [h.status for h in feed_hits(site, "/news/abroad")] == [503, 200]


def test_429_with_retry_after_waits_as_asked_then_succeeds(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.pages["/rss"].first = [429]
    site.pages["/rss"].headers = {"Retry-After": "7"}
    sleeps = Sleeps()
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db, sleeps=sleeps)
    assert outcome(summary, "Feed RU").new_articles == 2
    assert 7.0 in sleeps.delays
    assert [h.status for h in feed_hits(site)] == [429, 200]


def test_article_server_that_never_answers_times_out_and_the_rest_is_stored(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.pages["/news/quota"].hang = True
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db)
    out = outcome(summary, "Feed RU")
    assert out.article_errors == [f"{site.url('/news/quota')}: timed out after 2 attempts"]
    assert out.new_articles == 1
    assert ("citizens_abroad", "{}", 121000.0) in values(db)


def test_endless_body_stops_at_the_size_cap(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.put("/stream", b"", endless=True, content_type="application/rss+xml")
    site.pages["/news/quota"].endless = True
    policy = FetchPolicy(**{**FAST.__dict__, "max_bytes": 200_000})
    endless = make_source(tmp_path, "Endless", site.url("/stream"))
    ok = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([endless, ok], rules, db, policy=policy)
    assert outcome(summary, "Endless").error == (
        f"{site.url('/stream')}: response larger than 200000 bytes"
    )
    assert outcome(summary, "Feed RU").article_errors == [
        f"{site.url('/news/quota')}: response larger than 200000 bytes"
    ]
    assert ("citizens_abroad", "{}", 121000.0) in values(db)


def test_windows_1251_listing_and_article_with_character_references(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """Kazakh letters outside windows-1251 (ә, қ, ң, ү, ұ, і, ө, ғ) written as &#1241; and so
    on, the Cyrillic the code page has as single bytes; the listing declares its charset
    in a meta tag only, the article in the HTTP header only."""
    title = "Шетелдік жұмыс күші: 15,2 мың адам"
    raw_listing = listing([("/kk/2025/03/workers", title)], charset="windows-1251")
    paragraphs = [
        *KK_WORKERS,
        "Бұл туралы үкімет отырысында Еңбек және халықты әлеуметтік қорғау министрі айтты.",
    ]
    article = page(title, paragraphs, "2025-03-04", charset="windows-1251").replace(
        '<meta charset="windows-1251">', ""
    )
    site.put(
        "/kk/news", raw_listing.encode("cp1251", "xmlcharrefreplace"), content_type="text/html"
    )
    body = article.encode("cp1251", "xmlcharrefreplace")
    for letter in "әқңүұөғ":
        assert f"&#{ord(letter)};".encode() in body
    assert "і".encode("cp1251") in body
    site.put("/kk/2025/03/workers", body, content_type="text/html; charset=windows-1251")
    src = make_source(tmp_path, "Listing KK", site.url("/kk/news"), "html", html_links="a.title")
    summary = run([src], rules, db)
    assert outcome(summary, "Listing KK").new_articles == 1
    text, title_stored, lang = db.execute("SELECT text, title, lang FROM articles").fetchone()
    assert "Қазақстанда жұмысқа рұқсат негізінде 15,2 мың шетел азаматы" in text
    assert "&#" not in text and title_stored == title and lang == "kk"
    assert values(db) == {("foreign_workers", "{}", 15200.0)}


def test_malformed_feed_keeps_the_entries_it_could_read(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    whole = site.pages["/rss"].body.decode()
    cut = whole[: whole.index("</item>") + len("</item>")] + "<item><title>Квота</tit"
    site.put("/rss", cut, content_type="application/rss+xml")
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db)
    out = outcome(summary, "Feed RU")
    assert (out.ok, out.items, out.new_articles) == (True, 1, 1)
    assert ("citizens_abroad", "{}", 121000.0) in values(db)


def test_entity_bomb_is_refused_without_expanding_it(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    # billion laughs: ten levels of ten references each, 10**9 "lol"s if expanded
    lol = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{lol}]><rss version="2.0"><channel>'
        f"<item><title>&l9;</title><link>{site.base}/x</link></item></channel></rss>"
    )
    site.put("/rss", bomb, content_type="application/rss+xml")
    good_feed(site, "/other")
    bombed = make_source(tmp_path, "Bomb", site.url("/rss"))
    ok = make_source(tmp_path, "Feed RU", site.url("/other/rss"))
    summary = run([bombed, ok], rules, db)
    assert outcome(summary, "Bomb").error == (
        f"{site.url('/rss')}: XML entities are not allowed (the feed declares <!ENTITY>)"
    )
    assert site.count("/x") == 0
    assert outcome(summary, "Feed RU").new_articles == 2


def test_listing_of_junk_links_is_an_error_and_nothing_is_fetched(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    junk = [
        ("/", "Басты бет"),
        ("/static/banner.jpg", "Жарнама"),
        ("/docs/report.pdf", "Есеп"),
        ("mailto:desk@example.org", "Хат жазу"),
        ("javascript:void(0)", "Тағы"),
        ("https://www.youtube.com/@outlet", "YouTube"),
        ("#top", "Жоғары"),
    ]
    site.put("/kk/news", listing(junk))
    src = make_source(tmp_path, "Listing KK", site.url("/kk/news"), "html", html_links="main a")
    summary = run([src], rules, db)
    assert outcome(summary, "Listing KK").error == (
        f"{site.url('/kk/news')}: no article links found (main a)"
    )
    assert [h.path for h in site.log()] == ["/kk/news"]


def test_stored_article_is_not_fetched_again_when_the_feed_changes(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """The feed's description of a stored article changes (feeds rewrite them): the page is
    not fetched again, since the article's text comes from the page."""
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"), article_body="article.story")
    run([src], rules, db)
    site.put(
        "/rss",
        site.pages["/rss"].body.decode().replace("<description>Казахстанцы", "<description>Все"),
        content_type="application/rss+xml",
    )
    second = run([src], rules, db, now=DAY + timedelta(hours=1))
    assert feed_hits(site)[-1].status == 200
    assert outcome(second, "Feed RU").new_articles == 0
    assert site.count("/news/abroad") == 1 and site.count("/news/quota") == 1


def test_article_whose_feed_text_changed_is_re_extracted(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """A feed carrying whole articles (content:encoded, no body selector) corrects one: it
    is read again from the feed and what it says replaces what it said; the other is left."""
    filler = (
        "<p>В ведомстве отметили, что большинство граждан выезжают на работу по "
        "организованным каналам, через частные агентства занятости, имеющие лицензию. "
        "Перед выездом специалисты советуют проверить работодателя и условия договора, "
        "а также сохранить контакты посольства в стране пребывания. Консультации "
        "проводятся бесплатно в центрах занятости населения во всех регионах страны.</p>"
        "<p>Отдельное внимание уделяется тем, кто выезжает на сезонные работы: им "
        "рекомендуют заранее оформить медицинскую страховку, выучить основные фразы на языке "
        "страны и не передавать паспорт посредникам. При нарушении трудовых прав можно "
        "обратиться на горячую линию ведомства или в консульство.</p>"
    )
    abroad = f"<p>{RU_ABROAD[0]}</p><p>{RU_ABROAD[1]}</p>{filler}"
    quota = f"<p>{RU_QUOTA[0]}</p>{filler}"
    items = [
        ("/news/abroad", "Казахстанцы за рубежом", DAY),
        ("/news/quota", "Квота", DAY - timedelta(days=1)),
    ]
    site.put(
        "/rss",
        rss(site.base, items, {"/news/abroad": abroad, "/news/quota": quota}),
        content_type="application/rss+xml",
    )
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    first = run([src], rules, db)
    assert outcome(first, "Feed RU").new_articles == 2
    corrected = abroad.replace("1 марта", "1 апреля").replace("121 тыс.", "123 тыс.")
    site.put(
        "/rss",
        rss(site.base, items, {"/news/abroad": corrected, "/news/quota": quota}),
        content_type="application/rss+xml",
    )
    second = run([src], rules, db, now=DAY + timedelta(hours=1))
    assert outcome(second, "Feed RU").new_articles == 1
    assert [(c["old"], c["new"]) for c in second.changes if c["dims"] == {}] == [(121000, 123000)]
    assert ("citizens_abroad", "{}", 121000.0, site.url("/news/abroad")) not in figures(db)
    assert ("citizens_abroad", "{}", 123000.0, site.url("/news/abroad")) in figures(db)
    assert site.log() and all(h.path == "/rss" for h in site.log())  # no page was fetched


def test_an_article_in_two_sources_of_one_run_is_fetched_once(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.put("/ru/news", listing([("/news/abroad", "Казахстанцы за рубежом")]))
    feed = make_source(tmp_path, "Feed RU", site.url("/rss"))
    lst = make_source(tmp_path, "Listing RU", site.url("/ru/news"), "html", html_links="a.title")
    summary = run([feed, lst], rules, db)
    assert site.count("/news/abroad") == 1
    assert sum(o.new_articles for o in summary.outcomes) == 2
    rows = db.execute("SELECT count(*) FROM figures WHERE value = 121000").fetchone()
    assert rows[0] == 1


# -- what a cycle costs, and the order it stores in ----------------------------------------

KK_ABROAD_FEBRUARY = [
    "Еңбек министрлігінің мәліметінше, 2025 жылғы 1 ақпандағы жағдай бойынша шетелде 119 мың "
    "қазақстандық ресми түрде жұмыс істеді.",
]


class Loader:
    """A rules loader that counts its calls and gives `rules`, or raises it."""

    def __init__(self, rules: Rules | Exception) -> None:
        self.rules = rules
        self.calls = 0

    def __call__(self) -> Rules:
        self.calls += 1
        if isinstance(self.rules, Exception):
            raise self.rules
        return self.rules


def test_rules_are_loaded_at_the_first_article_and_not_in_a_cycle_of_304s(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    cold = Loader(rules)
    first = run([src], cold, db)
    assert outcome(first, "Feed RU").new_articles == 2
    assert cold.calls == 1  # once for the run, not once per article
    warm = Loader(rules)
    second = run([src], warm, db, now=DAY + timedelta(hours=1))
    assert outcome(second, "Feed RU").not_modified
    assert warm.calls == 0


def test_rules_that_cannot_be_loaded_stop_the_run_and_record_nothing(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """The error is the run's (the command prints it as one line), not an error of each
    article: nothing is stored and no fetch recorded, so the next run reads it all."""
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    broken = Loader(RulesError("metrics.toml", "citizens_abroad.unit", "unknown unit 'heads'"))
    with pytest.raises(RulesError, match=r"^metrics.toml: citizens_abroad.unit: unknown unit"):
        run([src], broken, db)
    assert broken.calls == 1
    assert db["articles"].count == 0
    assert store.source_state(db, "Feed RU") is None
    again = run([src], rules, db, now=DAY + timedelta(minutes=1))
    assert outcome(again, "Feed RU").new_articles == 2
    assert feed_hits(site)[-1].status == 200


def test_articles_of_all_sources_are_stored_oldest_first_whatever_answers_first(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """The Russian source is done at once with the March figure; the Kazakh page with the
    February one comes late. The February figure is still stored first, so the run reports
    both in the order they happened (first seen, then the change), as two runs would have."""
    site.put("/ru/abroad", page("Трудовая миграция", RU_ABROAD, "2025-03-05"))
    site.put(
        "/ru/rss",
        rss(site.base, [("/ru/abroad", "Казахстанцы за рубежом", DAY)]),
        content_type="application/rss+xml",
    )
    site.put("/kk/abroad", page("Шетелдегі қазақстандықтар", KK_ABROAD_FEBRUARY, "2025-02-03"))
    site.pages["/kk/abroad"].delay = 0.5
    site.put(
        "/kk/rss",
        rss(site.base, [("/kk/abroad", "Шетелдегі қазақстандықтар", DAY - timedelta(days=30))]),
        content_type="application/rss+xml",
    )
    ru = make_source(tmp_path, "Feed RU", site.url("/ru/rss"), language="ru")
    kk = make_source(tmp_path, "Feed KK", site.url("/kk/rss"), language="kk")
    done: list[str] = []
    summary = run([kk, ru], rules, db, progress=lambda o, *_: done.append(o.name))
    assert done == ["Feed RU", "Feed KK"]
    total = [(c["old"], c["new"]) for c in summary.changes if c["dims"] == {}]
    assert total == [(None, 119000), (119000, 121000)]
    assert outcome(summary, "Feed KK").new_articles == 1


# -- robots.txt kept between runs -----------------------------------------------------------

WITH_ROBOTS = replace(FAST, robots=True, robots_max_age=86_400)
PRIVATE_ROBOTS = "User-agent: *\nDisallow: /private/\n"


def test_robots_txt_is_asked_once_a_day_and_its_rules_still_apply(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """RFC 9309 lets a crawler keep robots.txt for 24 hours: a run of 304s then costs one
    request per source, and the kept rules go on blocking what they block."""
    site.put("/robots.txt", PRIVATE_ROBOTS, content_type="text/plain")
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    run([src], rules, db, policy=WITH_ROBOTS)
    assert site.count("/robots.txt") == 1
    assert store.robots(db, DAY) == {site.base: (200, PRIVATE_ROBOTS)}

    before = len(site.log())
    warm = run([src], rules, db, now=DAY + timedelta(hours=1), policy=WITH_ROBOTS)
    assert outcome(warm, "Feed RU").not_modified
    assert [(h.path, h.status) for h in site.log()[before:]] == [("/rss", 304)]

    site.put("/private/memo", page("Служебная записка", RU_WORKERS, "2025-03-05"))
    items = [("/private/memo", "Записка", DAY), ("/news/abroad", "Казахстанцы за рубежом", DAY)]
    site.put("/rss", rss(site.base, items), content_type="application/rss+xml")
    blocked = run([src], rules, db, now=DAY + timedelta(hours=23), policy=WITH_ROBOTS)
    assert outcome(blocked, "Feed RU").article_errors == [
        f"{site.url('/private/memo')}: blocked by robots.txt"
    ]
    assert site.count("/robots.txt") == 1 and site.count("/private/memo") == 0

    run([src], rules, db, now=DAY + timedelta(hours=25), policy=WITH_ROBOTS)
    assert site.count("/robots.txt") == 2  # a day old: asked again
    assert site.count("/private/memo") == 0


def test_an_unreachable_robots_txt_is_not_kept(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """A server in trouble blocks its site for that run only: the next run asks again."""
    site.put("/robots.txt", PRIVATE_ROBOTS, content_type="text/plain")
    site.pages["/robots.txt"].first = [503, 503]  # both attempts of the first run
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    first = run([src], rules, db, policy=WITH_ROBOTS)
    assert outcome(first, "Feed RU").error == (
        f"{site.url('/rss')}: robots.txt unreachable (HTTP 503 after 2 attempts), not fetched"
    )
    assert store.robots(db, DAY) == {}
    second = run([src], rules, db, now=DAY + timedelta(hours=1), policy=WITH_ROBOTS)
    assert outcome(second, "Feed RU").new_articles == 2
    assert site.count("/robots.txt") == 3
    assert store.robots(db, DAY) == {site.base: (200, PRIVATE_ROBOTS)}


def test_a_database_of_schema_1_is_migrated_and_keeps_its_history(
    tmp_path: Path, site: Site, rules: Rules
) -> None:
    """Schema 2 adds the robots table (and 3 the failed articles). A database written before
    them (here: one made now and taken back to schema 1) opens with its sources and
    articles, and the next run uses its feed validators (a 304) and keeps robots.txt in it."""
    path = tmp_path / "old.db"
    site.put("/robots.txt", PRIVATE_ROBOTS, content_type="text/plain")
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    with closing(store.connect(path).conn) as conn:
        run([src], rules, sqlite_utils.Database(conn))
        conn.execute("DROP TABLE robots")
        conn.execute("DROP TABLE failed_articles")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db = store.connect(path)
    try:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == (str(store.SCHEMA_VERSION),) and store.SCHEMA_VERSION == 3
        assert db["articles"].count == 2 and store.robots(db, DAY) == {}
        again = run([src], rules, db, now=DAY + timedelta(hours=1), policy=WITH_ROBOTS)
        assert outcome(again, "Feed RU").not_modified
        assert store.robots(db, DAY) == {site.base: (200, PRIVATE_ROBOTS)}
    finally:
        db.conn.close()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_robots_txt_is_asked_every_run_when_none_is_kept(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    site.put("/robots.txt", PRIVATE_ROBOTS, content_type="text/plain")
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    policy = replace(FAST, robots=True, robots_max_age=0)
    assert FetchPolicy().robots_max_age == 86_400  # the default keeps them a day
    run([src], rules, db, policy=policy)
    run([src], rules, db, now=DAY + timedelta(hours=1), policy=policy)
    assert site.count("/robots.txt") == 2
    assert store.robots(db, DAY) == {}


# -- articles that keep failing -----------------------------------------------------------


def feed_of(site: Site, *items: tuple[str, str, datetime]) -> None:
    site.put("/rss", rss(site.base, list(items)), content_type="application/rss+xml")


def three_item_feed(site: Site, quota_title: str) -> None:
    """The feed of two good articles and the quota page, this title for the last."""
    feed_of(
        site,
        ("/news/workers", "Иностранные работники", DAY + timedelta(days=1)),
        ("/news/abroad", "Казахстанцы за рубежом", DAY),
        ("/news/quota", quota_title, DAY - timedelta(days=1)),
    )


def failure_rows(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
    """(url, attempts, status, given up?) of every recorded article failure."""
    rows = db.execute(
        "SELECT url, attempts, status, given_up IS NOT NULL FROM failed_articles ORDER BY url"
    )
    return [tuple(r) for r in rows]


def test_a_404_article_is_given_up_after_the_bound_and_the_feed_then_costs_a_304(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """A feed listing a page that is not there keeps the feed unconditional for
    ARTICLE_ATTEMPTS runs (the page may yet appear), then the page is given up: the feed is
    asked conditionally again and the page is not asked any more, until its entry changes."""
    good_feed(site)
    del site.pages["/news/quota"]
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    missing = site.url("/news/quota")
    hours = [DAY + timedelta(hours=h) for h in range(pipeline.ARTICLE_ATTEMPTS + 2)]
    for n, now in enumerate(hours[: pipeline.ARTICLE_ATTEMPTS], start=1):
        out = outcome(run([src], rules, db, now=now), "Feed RU")
        assert out.article_errors == [f"{missing}: HTTP 404"]
        last = n == pipeline.ARTICLE_ATTEMPTS
        assert out.given_up == ([missing] if last else [])
        assert failure_rows(db) == [(missing, n, 404, last)]
        state = store.source_state(db, "Feed RU")
        assert state is not None and (state["etag"] is not None) is last
    assert site.count("/news/quota") == pipeline.ARTICLE_ATTEMPTS
    assert [h.status for h in feed_hits(site)] == [200] * pipeline.ARTICLE_ATTEMPTS
    assert store.source_state(db, "Feed RU")["last_error"] == (  # type: ignore[index]
        f"1 article failed, first: {missing}: HTTP 404 (1 given up)"
    )
    given = store.given_up_articles(db)
    assert [(f.url, f.error) for f in given["Feed RU"]] == [(missing, f"{missing}: HTTP 404")]

    later = outcome(run([src], rules, db, now=hours[-2]), "Feed RU")
    assert later.not_modified and not later.failures
    assert feed_hits(site)[-1].status == 304 and site.count("/news/quota") == 3

    # the feed changes (a new article) but not the entry: still not asked
    site.put("/news/workers", page("Иностранцы", RU_WORKERS, "2025-03-06"))
    three_item_feed(site, "Квота на 2025 год")
    changed = outcome(run([src], rules, db, now=hours[-1]), "Feed RU")
    assert (changed.new_articles, changed.skipped, changed.failures) == (1, 1, [])
    assert site.count("/news/quota") == 3

    # its entry changes and the page is there now: asked again, stored once, forgotten
    site.put("/news/quota", page("Квота", RU_QUOTA, "2025-03-04"))
    three_item_feed(site, "Квота на 2025 год (обновлено)")
    fixed = outcome(run([src], rules, db, now=hours[-1] + timedelta(hours=1)), "Feed RU")
    assert (fixed.new_articles, fixed.failures) == (1, [])
    assert failure_rows(db) == []
    assert ("foreign_labor_quota", "{}", 29750.0) in values(db)
    urls = [r[0] for r in db.execute("SELECT url FROM articles ORDER BY url")]
    assert urls == [site.url(p) for p in ("/news/abroad", "/news/quota", "/news/workers")]
    assert {p: site.count(p) for p in ("/news/abroad", "/news/workers", "/news/quota")} == {
        "/news/abroad": 1,
        "/news/workers": 1,
        "/news/quota": 4,
    }


def test_a_500_article_is_retried_every_run_and_stored_once_it_works(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    """Trouble that may pass is not given up within ARTICLE_RETRY_FOR, however many runs
    meet it: the feed stays unconditional and the article is fetched once it answers."""
    good_feed(site)
    attempts = pipeline.ARTICLE_ATTEMPTS + 1
    site.pages["/news/quota"].first = [500, 500] * attempts  # every attempt of those runs
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    failing = site.url("/news/quota")
    for n in range(1, attempts + 1):
        out = outcome(run([src], rules, db, now=DAY + timedelta(hours=n)), "Feed RU")
        assert out.article_errors == [f"{failing}: HTTP 500 after 2 attempts"]
        assert out.given_up == []
        assert failure_rows(db) == [(failing, n, 500, False)]
    assert [h.status for h in feed_hits(site)] == [200] * attempts

    works = outcome(run([src], rules, db, now=DAY + timedelta(hours=attempts + 1)), "Feed RU")
    assert (works.new_articles, works.failures) == (1, [])
    assert failure_rows(db) == []
    assert [h.status for h in feed_hits(site, "/news/quota")][-1] == 200
    assert db["articles"].count == 2 and site.count("/news/abroad") == 1
    assert ("foreign_labor_quota", "{}", 29750.0) in values(db)
    assert outcome(run([src], rules, db, now=DAY + timedelta(days=1)), "Feed RU").not_modified


def test_trouble_that_may_pass_is_given_up_after_the_bound_and_a_day(
    tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    site.pages["/news/quota"].first = [503] * 100
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    whens = [DAY, DAY + timedelta(hours=1), DAY + timedelta(hours=2), DAY + timedelta(days=1)]
    given = [outcome(run([src], rules, db, now=w), "Feed RU").given_up for w in whens]
    assert given == [[], [], [], [site.url("/news/quota")]]
    assert failure_rows(db) == [(site.url("/news/quota"), 4, 503, True)]
    assert outcome(run([src], rules, db, now=DAY + timedelta(days=2)), "Feed RU").not_modified


@pytest.mark.parametrize("gone", ["410", "451", "size cap"])
def test_a_page_gone_for_good_or_over_the_cap_is_given_up_at_once(
    gone: str, tmp_path: Path, site: Site, rules: Rules, db: sqlite_utils.Database
) -> None:
    good_feed(site)
    policy = FAST
    if gone == "size cap":
        site.pages["/news/quota"].endless = True
        policy = replace(FAST, max_bytes=200_000)
    else:
        site.pages["/news/quota"].first = [int(gone)] * 10
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    summary = run([src], rules, db, policy=policy)
    first = outcome(summary, "Feed RU")
    assert first.given_up == [site.url("/news/quota")] and first.new_articles == 1
    assert "new articles: 1 (1 failed, 1 given up)" in summary.line()
    second = outcome(run([src], rules, db, now=DAY + timedelta(hours=1), policy=policy), "Feed RU")
    assert second.not_modified
    assert site.count("/news/quota") == 1


def test_a_database_of_schema_2_is_migrated_and_records_failed_articles(
    tmp_path: Path, site: Site, rules: Rules
) -> None:
    """Schema 3 adds the failed_articles table. A database of schema 2 (one made now and taken
    back) opens with its history and robots.txt answers, and the next run keeps using them
    while recording the article that fails."""
    path = tmp_path / "old.db"
    site.put("/robots.txt", PRIVATE_ROBOTS, content_type="text/plain")
    good_feed(site)
    src = make_source(tmp_path, "Feed RU", site.url("/rss"))
    with closing(store.connect(path).conn) as conn:
        run([src], rules, sqlite_utils.Database(conn), policy=WITH_ROBOTS)
        conn.execute("DROP TABLE failed_articles")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    site.put("/news/gone", page("Удалено", RU_WORKERS, "2025-03-06"), first=[410])
    feed_of(
        site,
        ("/news/gone", "Удалённая новость", DAY + timedelta(hours=1)),
        ("/news/abroad", "Казахстанцы за рубежом", DAY),
    )
    db = store.connect(path)
    try:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == ("3",) and db["articles"].count == 2
        assert store.robots(db, DAY) == {site.base: (200, PRIVATE_ROBOTS)}
        again = run([src], rules, db, now=DAY + timedelta(hours=1), policy=WITH_ROBOTS)
        assert outcome(again, "Feed RU").given_up == [site.url("/news/gone")]
        assert failure_rows(db) == [(site.url("/news/gone"), 1, 410, True)]
        assert site.count("/robots.txt") == 1
    finally:
        db.conn.close()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
