"""`monitor site OUTDIR`: the static changelog, its Atom feed and exports, from a real SQLite
store filled through `store.save_article`, checked as files, as parsed HTML and XML, and in a
real headless Chromium."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
import sqlite_utils
from defusedxml import ElementTree

from monitor import publish, store
from monitor.extract import Extraction, Figure, Status
from monitor.publish import SiteError, write_site

XSS = "<script>alert(1)</script>"
NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


# --------------------------------------------------------------------------- the store


def _figure(metric: str, dims: dict[str, str], value: float, as_of: str, **kw: Any) -> Figure:
    return Figure(
        metric=metric,
        dims=dims,
        value=value,
        unit=kw.pop("unit", "persons"),
        bound=kw.pop("bound", "exact"),
        as_of=as_of,
        lang=kw.pop("lang", "ru"),
        evidence=kw.pop("evidence", f"{value:,.0f} as of {as_of}."),
        **kw,
    )


def _save(
    db: sqlite_utils.Database,
    n: int,
    *,
    published: str,
    figures: list[Figure] = (),  # type: ignore[assignment]
    statuses: list[Status] = (),  # type: ignore[assignment]
    source: str = "Lada.kz",
    url: str | None = None,
    title: str | None = None,
    lang: str = "ru",
) -> list[dict[str, Any]]:
    fetched = datetime.fromisoformat(published).replace(tzinfo=UTC) + timedelta(hours=3)
    return store.save_article(
        db,
        source=source,
        url=url or f"https://news.example.kz/{n}",
        guid=f"guid-{n}",
        title=title or f"Article {n}",
        lang=lang,
        published=published,
        fetched_at=fetched.isoformat(),
        text=f"Text of article {n}.",
        extraction=Extraction(lang, published, list(figures), list(statuses)),
    )


def _fill(db: sqlite_utils.Database) -> None:
    """Two years of news: a total and a Russia series, fines in KZT, a Korea timeline, a hostile
    title and evidence, a non-http article URL, the same fact from a second outlet."""
    _save(
        db,
        1,
        published="2024-03-01",
        title=f"Migration {XSS}",
        figures=[
            _figure(  # a vertical tab and a bidi override: not allowed in XML, not shown
                "citizens_abroad", {}, 194000, "2024-02-01", evidence=f"194 тыс.\x0b {XSS}\u202e"
            ),
            _figure("citizens_abroad", {"country": "RU"}, 102000, "2024-02-01"),
        ],
        statuses=[Status("KR", "paused", True, "ru", f"Переговоры приостановлены {XSS}")],
    )
    _save(
        db,
        2,
        published="2024-09-10",
        source="Kazinform",
        lang="en",
        url="javascript:alert(2)",
        figures=[_figure("migration_fines", {}, 157_100_000, "2024-09", unit="KZT", lang="en")],
    )
    _save(
        db,
        3,
        published="2025-10-09",
        figures=[
            _figure("citizens_abroad", {}, 126000, "2025-10-01"),
            _figure("citizens_abroad", {"country": "RU"}, 104000, "2025-10-01"),
            _figure("citizens_abroad", {"country": "EU+GB"}, 2500, "2025-10-01", bound="approx"),
        ],
        statuses=[Status("KR", "resumed", True, "ru", "Осенью переговоры возобновились.")],
    )
    _save(
        db,
        4,
        published="2025-10-10",
        source="Astana Times",
        lang="en",
        figures=[_figure("citizens_abroad", {}, 126000, "2025-10-01", lang="en")],
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    (tmp_path / "state").mkdir()
    database = store.connect(tmp_path / "state" / "monitor.db")
    _fill(database)
    yield database
    database.close()


@pytest.fixture
def site(db: sqlite_utils.Database, tmp_path: Path) -> Path:
    out = tmp_path / "public" / "site"
    write_site(db, out, title=f"Monitor {XSS}", base_url=None, now=NOW)
    return out


# --------------------------------------------------------------------------- HTML checks


class _Page(HTMLParser):
    """A strict reading of one page: every element closed in order, links, ids, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.ids: Counter[str] = Counter()
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        found = dict(attrs)
        self.attrs.append((tag, found))
        if found.get("id"):
            self.ids[found["id"] or ""] += 1
        for key in ("href", "src"):
            if found.get(key) is not None:
                self.links.append(found[key] or "")
        if any(k.startswith("on") for k in found):
            self.errors.append(f"event handler attribute on <{tag}> at {self.getpos()}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)  # <path .../> inside SVG

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"end tag for void <{tag}> at {self.getpos()}")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1:]}> at {self.getpos()}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _text(page: _Page) -> str:
    return " ".join(" ".join(page.text).split())


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# --------------------------------------------------------------------------- tests: pages


def test_site_has_an_index_a_page_per_series_and_per_counterparty_and_the_exports(
    site: Path,
) -> None:
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert names == {
        "index.html",
        "series/citizens_abroad.html",
        "series/citizens_abroad--country-RU.html",
        "series/citizens_abroad--country-EU+GB.html",
        "series/migration_fines.html",
        "agreements/KR.html",
        "feed.xml",
        "history.csv",
        "history.json",
        "changes.json",
    }


def test_every_page_is_well_formed_html5_with_lang_charset_and_no_script(site: Path) -> None:
    for path in _pages(site):
        page = _read(path)
        name = path.relative_to(site)
        assert page.doctype.lower() == "doctype html", name
        assert page.errors == [], (name, page.errors)
        assert page.stack == [], (name, page.stack)
        assert ("html", {"lang": "en"}) in page.attrs, name
        assert ("meta", {"charset": "utf-8"}) in page.attrs, name
        assert page.tags["title"] >= 1 and page.tags["h1"] == 1, name
        assert page.tags["script"] == 0, name
        assert all(n == 1 for n in page.ids.values()), (name, page.ids)


def test_every_local_link_resolves_to_a_file_inside_the_site(site: Path) -> None:
    checked = 0
    for path in _pages(site):
        for link in _read(path).links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "data"):
                continue
            assert not parts.scheme and not parts.netloc, (path.name, link)
            assert not link.startswith("/"), f"absolute link {link} breaks a subpath"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_relative_to(site.resolve()), (path.name, link)
            assert target.is_file(), (path.name, link)
            if parts.fragment and target.suffix == ".html":
                assert _read(target).ids[parts.fragment] == 1, (path.name, link)
            checked += 1
    assert checked > 30


def test_index_lists_every_series_with_its_latest_value_and_links_agreements(site: Path) -> None:
    page = _read(site / "index.html")
    text = _text(page)
    links = set(page.links)
    for name in ("citizens_abroad", "citizens_abroad--country-RU", "migration_fines"):
        assert f"series/{name}.html" in links
    assert "agreements/KR.html" in links
    assert "126,000 persons" in text and "104,000 persons" in text
    assert "≈ 2,500 persons" in text and "the European Union + the United Kingdom" in text
    assert "157,100,000 KZT" in text
    assert "talks resumed" in text and "South Korea" in text
    assert "194,000 → 126,000" in text  # the latest changes


def test_series_page_has_the_whole_history_with_evidence_and_outlet_links(site: Path) -> None:
    page = _read(site / "series" / "citizens_abroad.html")
    text = _text(page)
    assert "194,000 persons" in text and "126,000 persons" in text
    assert "194 тыс." in text  # evidence
    assert {"Lada.kz", "Astana Times"} <= set(page.text)  # outlet names as link text
    assert "https://news.example.kz/3" in page.links and "https://news.example.kz/4" in page.links
    assert page.tags["svg"] == 1 and page.tags["path"] == 1 and page.tags["circle"] == 2


def test_agreement_timeline_lists_statuses_in_order_with_evidence(site: Path) -> None:
    page = _read(site / "agreements" / "KR.html")
    text = _text(page)
    assert text.index("talks paused") < text.index("talks resumed")
    assert "Осенью переговоры возобновились." in text
    assert "https://news.example.kz/1" in page.links


def test_script_in_a_title_and_in_evidence_is_shown_as_text_everywhere(site: Path) -> None:
    seen = 0
    for path in _pages(site):
        raw = path.read_text(encoding="utf-8")
        page = _read(path)
        assert page.tags["script"] == 0
        assert "<script" not in raw.lower()
        seen += sum(XSS in chunk for chunk in page.text)
    assert seen >= 4  # site title on every page, evidence on series, agreement and index
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<script" not in feed and "&lt;script&gt;alert(1)&lt;/script&gt;" in feed
    parsed = feedparser.parse(feed.encode())
    assert XSS in parsed.feed.title


def test_only_http_urls_become_links(site: Path) -> None:
    for path in [*_pages(site), site / "feed.xml"]:
        raw = path.read_text(encoding="utf-8")
        assert 'href="javascript:' not in raw
    fines = _text(_read(site / "series" / "migration_fines.html"))
    assert "Kazinform (javascript:alert(2))" in fines  # shown as text, not as a link


def test_pages_forbid_scripts_and_allow_only_their_own_style(site: Path) -> None:
    raw = (site / "index.html").read_text(encoding="utf-8")
    csp = next(
        a["content"] or ""
        for tag, a in _read(site / "index.html").attrs
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp and "script-src" not in csp
    css = raw.split("<style>", 1)[1].split("</style>", 1)[0]
    assert publish._environment().globals["css"] == css
    assert "sha256-" in csp


# --------------------------------------------------------------------------- tests: feed


def test_feed_is_valid_atom_with_one_entry_per_change(site: Path, db: Any) -> None:
    raw = (site / "feed.xml").read_bytes()
    root = ElementTree.fromstring(raw)
    assert root.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{child}") is not None, child
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    changes = store.changes(db)
    assert len(parsed.entries) == len(changes) >= 5
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == len(ids)
    assert {f"tag:kz-migration-monitor,2026:change/{c['id']}" for c in changes} == set(ids)
    for entry in root.findall(f"{ATOM}entry"):
        for child in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{child}") is not None, child
        updated = entry.findtext(f"{ATOM}updated") or ""
        assert datetime.fromisoformat(updated.replace("Z", "+00:00")).tzinfo is not None
    assert "\x0b" not in raw.decode() and "\u202e" not in raw.decode()
    first = parsed.entries[0]
    assert first.link.endswith(".html") and not first.link.startswith("/")


def test_feed_entry_ids_and_dates_stay_the_same_across_generations(db: Any, tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(db, out, title="Monitor", base_url=None, now=NOW)
    before = {e.id: e.updated for e in feedparser.parse((out / "feed.xml").read_bytes()).entries}
    _save(
        db,
        5,
        published="2025-12-01",
        figures=[_figure("citizens_abroad", {}, 131000, "2025-12-01")],
    )
    write_site(db, out, title="Monitor", base_url=None, now=NOW + timedelta(days=1))
    after = {e.id: e.updated for e in feedparser.parse((out / "feed.xml").read_bytes()).entries}
    assert len(after) == len(before) + 1
    assert {k: after[k] for k in before} == before
    (new,) = set(after) - set(before)
    assert new.startswith("tag:kz-migration-monitor,2026:change/")


def test_base_url_makes_feed_links_absolute(db: Any, tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(db, out, title="Monitor", base_url="https://example.org/kz", now=NOW)
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert parsed.feed.links[0].href == "https://example.org/kz/feed.xml"
    assert all(e.link.startswith("https://example.org/kz/") for e in parsed.entries)
    pages = [link for p in _pages(out) for link in _read(p).links]
    assert not any(link.startswith("https://example.org") for link in pages)


def test_a_base_url_that_is_not_http_is_refused(db: Any, tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"base_url 'ftp://example\.org/'"):
        write_site(db, tmp_path / "s", title="M", base_url="ftp://example.org/", now=NOW)
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------- tests: exports


def test_csv_and_json_exports_contain_every_fact_with_its_sources(site: Path, db: Any) -> None:
    expected = {}
    for row in store.series(db):
        for fact in store.history(db, row["metric"], row["dims"]):
            key = (row["metric"], json.dumps(row["dims"], sort_keys=True), fact["value"])
            expected[key] = {s["url"] for s in fact["sources"]}
    assert len(expected) == 6

    data = json.loads((site / "history.json").read_text(encoding="utf-8"))
    from_json = {
        (s["metric"], json.dumps(s["dims"], sort_keys=True), f["value"]): {
            x["url"] for x in f["sources"]
        }
        for s in data["series"]
        for f in s["facts"]
    }
    assert from_json == expected

    with (site / "history.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    from_csv: dict[tuple[str, str, float], set[str]] = {}
    for r in rows:
        dims = dict(kv.split("=", 1) for kv in r["dims"].split(";") if kv)
        key = (r["metric"], json.dumps(dims, sort_keys=True), float(r["value"]))
        from_csv.setdefault(key, set()).add(r["url"])
    assert from_csv == {(m, d, float(v)): urls for (m, d, v), urls in expected.items()}
    total = next(r for r in rows if r["url"] == "https://news.example.kz/4")
    assert total["source"] == "Astana Times" and total["lang"] == "en"
    assert total["evidence"].startswith("126,000")

    changes = json.loads((site / "changes.json").read_text(encoding="utf-8"))["changes"]
    assert [c["id"] for c in changes] == sorted(c["id"] for c in store.changes(db))
    assert {"kind", "old", "new", "as_of", "sources", "detected_at"} <= set(changes[0])


def _odd_changes(db: sqlite_utils.Database) -> None:
    """What the site's bulk readers must get right besides the usual: values SQLite would
    write otherwise than Python (a fraction with 17 digits, a huge number), a change with no
    source, a status first seen, a fact an article gave twice, an article deleted."""
    day = "2025-11-01T08:00:00+00:00"
    for old, new in ((0.1 + 0.2, 1e20), (None, 2.5), (3, 7)):
        store.add_change(
            db,
            {"kind": "figure", "metric": "remittances", "dims": {"direction": "out"},
             "old": old, "new": new, "unit": "USD", "as_of": "2025-10", "detected_at": day,
             "sources": ["https://news.example.kz/4"], "evidence": "Переводы: 2,5 млрд."},
        )  # fmt: skip
    store.add_change(
        db,
        {"kind": "status", "counterparty": "AE", "old": None, "new": "signed",
         "as_of": "2025-11-01", "detected_at": day, "sources": [], "evidence": None},
    )  # fmt: skip
    said = {"lang": "kk", "evidence": "Келгендер саны — 9 мың."}
    twice = _figure("immigrants", {}, 9000, "2025-09-01", **said)
    again = _figure("immigrants", {}, 9000, "2025-09-01", lang="kk", evidence="Тағы да 9 мың.")
    _save(db, 5, published="2025-11-02", lang="kk", source="Egemen", figures=[twice, again])
    db.execute("DELETE FROM articles WHERE url = 'javascript:alert(2)'")
    db.conn.commit()


def test_bulk_readers_of_the_site_give_what_the_per_item_readers_give(db: Any) -> None:
    _odd_changes(db)
    every = store.changes(db)
    parsed = [json.loads(text) for _, text in store.changes_json(db)]
    assert parsed == every
    assert [cid for cid, _ in store.changes_json(db)] == [c["id"] for c in every]
    assert {c["id"] for c in every if c["new"] == 1e20 or c["old"] == 0.1 + 0.2} and all(
        type(a["new"]) is type(b["new"]) for a, b in zip(parsed, every, strict=True)
    )
    ids = [c["id"] for c in every][::-2]
    assert store.changes_by_id(db, ids) == [c for c in reversed(every)][::2]

    keys = store.figure_series(db)
    assert sorted(keys, key=json.dumps) == sorted(
        {json.dumps([r["metric"], r["dims"]]): (r["metric"], r["dims"]) for r in store.series(db)}
        .values(), key=json.dumps,
    )  # fmt: skip
    assert list(store.histories(db, keys)) == [store.history(db, m, d) for m, d in keys]
    immigrants = store.history(db, "immigrants", {})
    assert [len(f["sources"]) for f in immigrants] == [1]
    assert immigrants[0]["sources"][0]["evidence"] == "Келгендер саны — 9 мың."


def test_the_site_of_a_store_with_odd_changes_shows_them(db: Any, tmp_path: Path) -> None:
    _odd_changes(db)
    out = tmp_path / "site"
    write_site(db, out, title="M", base_url=None, now=NOW)
    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))["changes"]
    assert changes == store.changes(db)
    index = _text(_read(out / "index.html"))
    assert "Agreement with United Arab Emirates: signed (first seen)" in index
    assert "Remittances, from Kazakhstan: 0.3 → 100,000,000,000,000,000,000 USD" in index
    page = _text(_read(out / "series" / "immigrants.html"))
    assert "Келгендер саны — 9 мың." in page and "Тағы да" not in page and "[kk]" in page


def test_history_csv_lines_are_what_csv_writer_writes() -> None:
    said = 'Строка\nвторая, с "кавычками"\r и запятой'
    facts = [
        {"id": 7, "value": 2.5, "value_max": None, "unit": "=USD", "bound": "approx",
         "as_of": "2025, May", "ref_end": None, "evidence": said,
         "sources": [{"source": 'Say "hi", all', "url": "https://x.kz/a,b", "lang": "kk",
                      "evidence": None}, "https://bare.example.kz/1"]},
        {"id": 8, "value": 126000, "unit": "persons", "sources": []},
    ]  # fmt: skip
    text = publish._history_csv("citizens_abroad", {"country": "RU", "note": "a,b"}, facts)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    head = ["citizens_abroad", "country=RU;note=a,b"]
    assert rows == [
        [*head, "7", "2.5", "", "'=USD", "approx", "2025, May", "", 'Say "hi", all',
         "https://x.kz/a,b", "kk", said],
        [*head, "7", "2.5", "", "'=USD", "approx", "2025, May", "", "",
         "https://bare.example.kz/1", "", said],
        [*head, "8", "126000", "", "persons", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    written = io.StringIO(newline="")
    csv.writer(written).writerows(rows)
    assert text == written.getvalue()


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    assert publish.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert publish.csv_cell("@SUM") == "'@SUM"
    assert publish.csv_cell("126 тыс.") == "126 тыс."


# --------------------------------------------------------------------------- tests: writing


def test_a_failure_while_writing_leaves_the_previous_site_untouched(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    write_site(db, out, title="First", base_url=None, now=NOW)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    calls = 0
    real = publish.chart

    def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # one series page is written, the rest are not
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(publish, "chart", crash_on_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_site(db, out, title="Second", base_url=None, now=NOW + timedelta(days=1))
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "state"]  # no leftovers


def test_a_second_generation_replaces_the_first_and_leaves_nothing_beside_it(
    db: Any, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    write_site(db, out, title="First", base_url=None, now=NOW)
    (out / "series" / "stale.html").write_text("old page", encoding="utf-8")
    summary = write_site(db, out, title="Second", base_url=None, now=NOW)
    assert not (out / "series" / "stale.html").exists()
    assert "Second" in (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "state"]
    assert (summary.series, summary.agreements, summary.facts) == (4, 1, 6)
    assert str(summary).startswith("4 series (6 facts), 1 agreement timelines")
    assert (out.stat().st_mode & 0o777) == 0o755  # readable by a web server


def test_a_folder_that_is_not_a_site_is_never_replaced(db: Any, tmp_path: Path) -> None:
    home = tmp_path / "documents"
    home.mkdir()
    (home / "thesis.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(SiteError, match="documents: folder is not empty and holds no site"):
        write_site(db, home, title="M", base_url=None, now=NOW)
    assert (home / "thesis.txt").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "state"]


def test_an_empty_store_gives_a_site_that_says_so(tmp_path: Path) -> None:
    empty = store.connect(tmp_path / "empty.db")
    try:
        summary = write_site(empty, tmp_path / "site", title="M", base_url=None, now=NOW)
    finally:
        empty.close()
    assert (summary.series, summary.changes) == (0, 0)
    text = " ".join(_read(tmp_path / "site" / "index.html").text)
    assert "No figures recorded yet." in text and "No changes detected yet." in text
    assert not feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes()).bozo


# --------------------------------------------------------------------------- tests: pieces


def test_series_file_names_are_stable_safe_slugs() -> None:
    assert publish.series_slug("citizens_abroad", {"country": "RU"}) == (
        "citizens_abroad--country-RU"
    )
    assert publish.series_slug("foreign_workers", {"sector": "mining", "origin": "CN"}) == (
        "foreign_workers--origin-CN--sector-mining"
    )
    odd = publish.series_slug("x", {"region": "../../etc/passwd"})
    assert (
        "/" not in odd
        and ".." not in odd
        and odd == publish.series_slug("x", {"region": "../../etc/passwd"})
    )
    assert odd != publish.series_slug("x", {"region": "__etc_passwd"})
    assert len(publish.series_slug("x", {"k": "v" * 500})) < 140


def test_chart_draws_one_point_and_thousands_of_points(tmp_path: Path) -> None:
    one = publish.chart([{"value": 126000, "unit": "persons", "as_of": "2025-10-01"}], "t")
    assert one is not None and one.points == 1
    svg = ElementTree.fromstring(str(one.svg))
    circles = svg.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 1
    x = float(circles[0].get("cx") or 0)
    assert 200 < x < 520  # in the middle, not on an edge

    start = datetime(2016, 1, 1)
    facts = [
        {"value": 1000 + (i % 97) * 10, "unit": "persons", "as_of": (start + timedelta(days=i))
         .date().isoformat()}
        for i in range(5000)
    ]  # fmt: skip
    facts[2500]["value"] = 99_999  # a spike must survive the downsampling
    many = publish.chart(facts, "t")
    assert many is not None and many.points == 5000 and many.drawn < 3000
    svg = ElementTree.fromstring(str(many.svg))
    (path,) = svg.findall("{http://www.w3.org/2000/svg}path")
    ys = [float(p.split(",")[1]) for p in (path.get("d") or "").replace("M", "L").split("L")[1:]]
    assert min(ys) < 100 < 200 < sorted(ys)[1]  # the spike, high above all the rest
    labels = [t.text for t in svg.findall("{http://www.w3.org/2000/svg}text")]
    assert "2018" in labels and "reference date" in labels and "persons" in labels
    assert publish.chart([{"value": 5, "as_of": None}], "t") is None


def test_values_dates_and_dims_read_as_words() -> None:
    assert publish.format_value({"value": 126000, "unit": "persons", "bound": "at_least"}) == (
        "≥ 126,000 persons"
    )
    assert publish.format_value({"value": 1.5, "value_max": 2, "unit": "USD"}) == "1.5–2 USD"
    assert publish.format_when("2024") == "2024"
    assert publish.format_when("2025-05") == "May 2025"
    assert publish.format_when("2025-05-01") == "1 May 2025"
    assert publish.format_when(None) == "undated"
    assert publish.dims_words({}) == "total"
    assert publish.dims_words({"country": "RU", "legal": "undocumented"}) == (
        "Russia, undocumented"
    )
    assert publish.dims_words({"region": "karaganda_region"}) == "Karaganda region"
    assert publish.dims_words({"direction": "out", "country": "UZ"}) == (
        "Uzbekistan, from Kazakhstan"
    )
    assert publish.safe_url("https://a.kz/x?y=1") == "https://a.kz/x?y=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//a.kz/x", "http://a .kz", "ftp://a"):
        assert publish.safe_url(bad) is None, bad
    assert publish.clean("a\x00b\u202ec\n d") == "abc d"


def test_monitor_site_command_writes_the_site(db: Any, tmp_path: Path) -> None:
    from monitor.cli import main

    db_path = tmp_path / "state" / "monitor.db"
    out = tmp_path / "cli-site"
    assert main(["--db", str(db_path), "site", str(out)]) == 0
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file()


def test_monitor_site_without_outdir_writes_to_the_configs_site_outdir(
    db: Any, tmp_path: Path
) -> None:
    from monitor.cli import main

    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "monitor.toml").write_text('[site]\noutdir = "../public"\n', encoding="utf-8")
    db_path = tmp_path / "state" / "monitor.db"
    args = ["--config", str(conf / "monitor.toml"), "--db", str(db_path), "site"]
    assert main(args) == 0
    # relative to the config file's folder, not to the working directory
    assert (tmp_path / "public" / "index.html").is_file()


def test_monitor_site_errors_are_one_line(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    db_path = tmp_path / "state" / "monitor.db"
    assert main(["--config", str(tmp_path / "none.toml"), "--db", str(db_path), "site"]) == 2
    (tmp_path / "monitor.toml").write_text("", encoding="utf-8")
    assert main(["--config", str(tmp_path / "monitor.toml"), "--db", str(db_path), "site"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "monitor: error: site: no OUTDIR given and no [site] outdir in the config"
    )
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "thesis.txt").write_text("not a site", encoding="utf-8")
    assert main(["--db", str(db_path), "site", str(papers)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"monitor: error: {papers}: folder is not empty")
    assert (papers / "thesis.txt").read_text(encoding="utf-8") == "not a site"


# --------------------------------------------------------------------------- Chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_site_renders_in_headless_chromium_with_visible_charts_and_no_errors(
    site: Path,
) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("MONITOR_REQUIRE_CHROMIUM"):  # set by .ci/run: CI must render it
            pytest.fail("MONITOR_REQUIRE_CHROMIUM is set but no chromium binary is on PATH")
        pytest.skip("no chromium binary on PATH (Debian: apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site.parent.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    prefix = f"http://127.0.0.1:{server.server_address[1]}/{site.parent.name}/{site.name}/"
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=binary, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
                )
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
                for url in (
                    (site / "index.html").as_uri(),  # from the file system
                    prefix + "index.html",  # from a subpath of a web server
                ):
                    page.goto(url)
                    assert page.locator("h1").inner_text().startswith("Monitor")
                    assert page.locator("table").first.is_visible()
                    page.locator(
                        "a", has_text="Citizens of Kazakhstan working abroad"
                    ).first.click()
                    page.wait_for_load_state()
                    assert page.url.endswith("/series/citizens_abroad.html")
                    chart = page.locator("svg.chart")
                    assert chart.is_visible()
                    box = chart.bounding_box()
                    assert box is not None and box["width"] > 300 and box["height"] > 100
                    line = page.locator("svg.chart path").bounding_box()
                    assert line is not None and line["width"] > 50
                    color = page.locator("header").evaluate(
                        "e => getComputedStyle(e).borderBottomStyle"
                    )
                    assert color == "solid"  # the inline stylesheet was allowed by the CSP
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert problems == []
