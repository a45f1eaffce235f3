"""The history store on real SQLite files: facts, sources and changes as articles arrive,
re-extraction, the digests' outbox, schema versions, the run lock across processes, and what a
process killed in the middle of a write leaves behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from monitor import store
from monitor.extract import Extraction, Figure, Status

LADA = "https://www.lada.kz/news/126-tys.html"
INFORM = "https://www.inform.kz/ru/labour-abroad"
EGEMEN = "https://egemen.kz/article/labour"
TIMES = "https://astanatimes.com/2025/10/labour"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "monitor.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[sqlite_utils.Database]:
    database = store.connect(db_path)
    yield database
    database.close()


def fig(
    value: float,
    as_of: str | None,
    dims: dict[str, str] | None = None,
    *,
    metric: str = "citizens_abroad",
    unit: str = "persons",
    bound: str = "exact",
    lang: str = "ru",
    evidence: str | None = None,
) -> Figure:
    return Figure(
        metric=metric,
        dims=dims or {},
        value=value,
        unit=unit,
        bound=bound,
        as_of=as_of,
        lang=lang,
        evidence=evidence or f"{metric} {value} ({as_of})",
    )


def status(
    counterparty: str, name: str, *, current: bool = True, as_of: str | None = None
) -> Status:
    return Status(counterparty, name, current, "ru", f"{counterparty}: {name}", as_of)


def save(
    db: sqlite_utils.Database,
    url: str,
    *,
    published: str,
    figures: Sequence[Figure] = (),
    statuses: Sequence[Status] = (),
    source: str = "Lada.kz",
    lang: str = "ru",
    text: str | None = None,
    fetched_at: str | None = None,
) -> list[dict[str, Any]]:
    return store.save_article(
        db,
        source=source,
        url=url,
        guid=None,
        title=f"Article at {url}",
        lang=lang,
        published=published,
        fetched_at=fetched_at or f"{published}T12:00:00+00:00",
        text=text if text is not None else f"{url} {published}",
        extraction=Extraction(lang, published, list(figures), list(statuses)),
    )


def count(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def brief(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (c.get("metric") or c.get("counterparty"), c.get("dims"), c["old"], c["new"])
        for c in changes
    ]


# --------------------------------------------------------------------------- figures


def test_first_sighting_is_recorded_as_new_with_old_none(db: sqlite_utils.Database) -> None:
    found = save(db, LADA, published="2025-10-09", figures=[fig(126_000, "2025-10-01")])
    [change] = found
    assert change["kind"] == "figure"
    assert (change["metric"], change["dims"], change["old"], change["new"]) == (
        "citizens_abroad",
        {},
        None,
        126_000,
    )
    assert change["first_seen"] is True
    assert change["as_of"] == "2025-10-01"
    assert change["sources"] == [LADA]
    assert change["detected_at"] == "2025-10-09T12:00:00+00:00"
    assert change["found_by"] == "run"
    assert change["unit"] == "persons"
    assert change["evidence"] == "citizens_abroad 126000 (2025-10-01)"
    assert store.changes(db) == found
    json.dumps(found)  # the SPEC's JSON Lines shape


def test_a_newer_different_value_is_a_change_from_old_to_new(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2024-03-01", figures=[fig(194_000, "2024")])
    found = save(db, INFORM, published="2025-10-09", figures=[fig(126_000, "2025-10-01")])
    assert brief(found) == [("citizens_abroad", {}, 194_000, 126_000)]
    assert found[0]["first_seen"] is False
    assert found[0]["sources"] == [INFORM]
    assert len(store.changes(db)) == 2


def test_the_same_fact_from_another_outlet_adds_a_source_not_a_change(
    db: sqlite_utils.Database,
) -> None:
    save(db, LADA, published="2025-10-09", figures=[fig(126_000, "2025-10-09")])  # "126 тыс."
    again = save(
        db, INFORM, published="2025-10-10", source="Kazinform", figures=[fig(126_345, "2025-10-10")]
    )
    assert again == []
    [fact] = store.history(db, "citizens_abroad", {})
    assert fact["value"] == 126_000
    assert [s["url"] for s in fact["sources"]] == [LADA, INFORM]
    assert [s["source"] for s in fact["sources"]] == ["Lada.kz", "Kazinform"]
    [change] = store.changes(db)
    assert change["sources"] == [LADA, INFORM]  # grows as outlets repeat the fact
    [row] = store.series(db)
    assert (row["metric"], row["dims"], row["value"], row["facts"], row["sources"]) == (
        "citizens_abroad",
        {},
        126_000,
        1,
        2,
    )


def test_a_report_in_another_language_adds_a_source(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-10-09", figures=[fig(126_000, "2025-10-09")])
    kk = fig(
        126_000, "2025-10-09", lang="kk", evidence="Шетелде 126 мың қазақстандық жұмыс істейді."
    )
    assert save(db, EGEMEN, published="2025-10-09", lang="kk", figures=[kk]) == []
    en = fig(126_000, "2025-10-09", lang="en", evidence="About 126,000 Kazakhstanis work abroad.")
    assert save(db, TIMES, published="2025-10-11", lang="en", figures=[en]) == []
    [fact] = store.history(db, "citizens_abroad", {})
    assert [(s["url"], s["lang"]) for s in fact["sources"]] == [
        (LADA, "ru"),
        (EGEMEN, "kk"),
        (TIMES, "en"),
    ]
    assert fact["sources"][1]["evidence"] == "Шетелде 126 мың қазақстандық жұмыс істейді."


def test_an_older_figure_found_later_fills_history_and_alerts_nobody(
    db: sqlite_utils.Database,
) -> None:
    save(db, LADA, published="2025-10-09", figures=[fig(126_000, "2025-10-01")])
    assert save(db, INFORM, published="2025-10-12", figures=[fig(194_000, "2024")]) == []
    assert [(f["value"], f["ref_end"]) for f in store.history(db, "citizens_abroad", {})] == [
        (194_000, "2024-12-31"),
        (126_000, "2025-10-01"),
    ]
    assert len(store.changes(db)) == 1
    [row] = store.series(db)
    assert (row["value"], row["facts"]) == (126_000, 2)


@pytest.mark.parametrize(
    ("first", "second", "changed"),
    [
        ((15_000, "approx"), (15_000, "exact"), False),  # "about 15,000" = "15,000"
        ((15_000, "exact"), (15_000, "at_least"), False),  # "over 15,000": bounds are ignored
        ((126_000, "exact"), (126_345, "exact"), False),  # "126 тыс." = 126 345
        ((1_600_000, "approx"), (1_634_000, "exact"), False),  # "1,6 млн" = 1 634 000
        ((100_000, "exact"), (126_000, "exact"), True),  # beyond the 5 % cap
        ((2_000, "approx"), (2_400, "exact"), True),
    ],
)
def test_equality_is_up_to_rounding_and_ignores_bounds(
    db: sqlite_utils.Database,
    first: tuple[float, str],
    second: tuple[float, str],
    changed: bool,
) -> None:
    save(db, LADA, published="2025-01-10", figures=[fig(first[0], None, bound=first[1])])
    found = save(
        db, INFORM, published="2025-10-10", figures=[fig(second[0], None, bound=second[1])]
    )
    assert bool(found) is changed
    assert len(store.history(db, "citizens_abroad", {})) == (2 if changed else 1)


def test_dims_and_units_make_separate_series(db: sqlite_utils.Database) -> None:
    found = save(
        db,
        LADA,
        published="2025-10-09",
        figures=[
            fig(126_000, "2025-10-01"),
            fig(102_000, "2025-10-01", {"country": "RU"}),
            fig(15_000, "2025-10-01", {"country": "KR"}),
            fig(157_100_000, "2025-09", metric="migration_fines", unit="KZT"),
            fig(300_000, "2025-09", metric="migration_fines", unit="USD"),
        ],
    )
    assert all(c["first_seen"] for c in found) and len(found) == 5
    assert store.history(db, "citizens_abroad", {"country": "RU"})[0]["value"] == 102_000
    assert [f["value"] for f in store.history(db, "citizens_abroad", {})] == [126_000]
    assert [(s["metric"], json.dumps(s["dims"]), s["unit"]) for s in store.series(db)] == [
        ("citizens_abroad", "{}", "persons"),  # each metric's total before its breakdowns
        ("citizens_abroad", '{"country": "KR"}', "persons"),
        ("citizens_abroad", '{"country": "RU"}', "persons"),
        ("migration_fines", "{}", "KZT"),
        ("migration_fines", "{}", "USD"),
    ]
    later = save(
        db, INFORM, published="2025-11-01", figures=[fig(104_000, None, {"country": "RU"})]
    )
    assert brief(later) == [("citizens_abroad", {"country": "RU"}, 102_000, 104_000)]


def test_an_article_telling_two_years_is_read_in_date_order(db: sqlite_utils.Database) -> None:
    found = save(
        db,
        LADA,
        published="2025-10-09",
        figures=[fig(126_000, "2025-10-01"), fig(194_000, "2024")],  # text order: newest first
    )
    assert brief(found) == [
        ("citizens_abroad", {}, None, 194_000),
        ("citizens_abroad", {}, 194_000, 126_000),
    ]


# --------------------------------------------------------------------------- statuses


def test_status_lifecycle_gives_a_first_sighting_then_three_changes(
    db: sqlite_utils.Database,
) -> None:
    steps = [
        ("2024-05-01", "negotiating"),
        ("2024-11-20", "paused"),
        ("2025-06-02", "resumed"),
        ("2025-10-09", "signed"),
    ]
    found = []
    for n, (day, name) in enumerate(steps):
        found += save(db, f"{LADA}?{n}", published=day, statuses=[status("KR", name)])
    assert brief(found) == [
        ("KR", None, None, "negotiating"),
        ("KR", None, "negotiating", "paused"),
        ("KR", None, "paused", "resumed"),
        ("KR", None, "resumed", "signed"),
    ]
    assert found[0]["first_seen"] and not any(c["first_seen"] for c in found[1:])
    assert found[2]["as_of"] == "2025-06-02"
    assert "unit" not in found[0] and "metric" not in found[0]

    # an older article saying "paused", found later, changes nothing
    assert save(db, INFORM, published="2025-01-15", statuses=[status("KR", "paused")]) == []
    # the same status reported again adds a source
    assert save(db, EGEMEN, published="2025-10-10", statuses=[status("KR", "signed")]) == []
    timeline = store.status_timeline(db, "KR")
    assert [(e["status"], e["latest"]) for e in timeline] == [
        ("negotiating", False),
        ("paused", False),
        ("resumed", False),
        ("signed", True),
    ]
    assert [s["url"] for s in timeline[1]["sources"]] == [f"{LADA}?1", INFORM]
    assert [s["url"] for s in timeline[-1]["sources"]] == [f"{LADA}?3", EGEMEN]
    assert len(store.changes(db)) == 4


def test_a_status_that_is_not_the_articles_current_one_makes_no_change(
    db: sqlite_utils.Database,
) -> None:
    save(db, LADA, published="2025-06-02", statuses=[status("KR", "resumed")])
    found = save(
        db,
        INFORM,
        published="2025-10-09",
        statuses=[
            status("KR", "paused", current=False),  # "talks, paused last year, ..."
            status("KR", "resumed"),
            status("UZ", "signed", current=False, as_of="2019"),
        ],
    )
    assert found == []
    timeline = store.status_timeline(db)
    assert [(e["counterparty"], e["status"], e["current"]) for e in timeline] == [
        ("KR", "resumed", True),
        ("KR", "paused", False),
        ("UZ", "signed", False),
    ]
    # a later current status is compared with what articles gave as current, not with the past
    later = save(db, EGEMEN, published="2025-10-20", statuses=[status("KR", "draft_submitted")])
    assert brief(later) == [("KR", None, "resumed", "draft_submitted")]


# --------------------------------------------------------------------------- articles


def test_the_same_article_saved_twice_adds_nothing(db: sqlite_utils.Database) -> None:
    kw: dict[str, Any] = {
        "published": "2025-10-09",
        "figures": [fig(126_000, "2025-10-01"), fig(102_000, "2025-10-01", {"country": "RU"})],
        "statuses": [status("KR", "resumed")],
    }
    assert len(save(db, LADA, **kw)) == 3
    before = {t: count(db, t) for t in db.table_names()}
    assert save(db, LADA, **kw) == []
    assert save(db, LADA, fetched_at="2025-10-10T08:00:00+00:00", **kw) == []
    assert {t: count(db, t) for t in db.table_names()} == before
    assert store.known_article(db, LADA) == {
        "id": 1,
        "content_hash": store.text_hash(f"{LADA} 2025-10-09"),
    }
    assert store.known_article(db, INFORM) is None


def test_the_same_url_with_changed_text_replaces_its_figures_without_repeating_changes(
    db: sqlite_utils.Database,
) -> None:
    save(db, LADA, published="2024-03-01", figures=[fig(194_000, "2024")])
    first = save(
        db,
        INFORM,
        published="2025-10-09",
        text="v1",
        figures=[fig(126_000, "2025-10-01"), fig(102_000, "2025-10-01", {"country": "RU"})],
    )
    assert len(first) == 2
    updated = save(
        db,
        INFORM,
        published="2025-10-09",
        text="v2: now with Korea",
        fetched_at="2025-10-09T18:00:00+00:00",
        figures=[fig(126_000, "2025-10-01"), fig(15_000, "2025-10-01", {"country": "KR"})],
    )
    assert brief(updated) == [("citizens_abroad", {"country": "KR"}, None, 15_000)]
    assert count(db, "articles") == 2
    rows = db.execute(
        "SELECT dims_key, value FROM figures WHERE article_id = 2 ORDER BY id"
    ).fetchall()
    assert rows == [("{}", 126_000.0), ('{"country":"KR"}', 15_000.0)]
    assert len(store.changes(db)) == 4  # 194k first, 194k -> 126k, RU first, KR first
    [total] = [f for f in store.history(db, "citizens_abroad", {}) if f["value"] == 126_000]
    assert [s["url"] for s in total["sources"]] == [INFORM]
    assert db.execute("SELECT text FROM articles WHERE url = ?", [INFORM]).fetchone()[0] == (
        "v2: now with Korea"
    )


def test_a_failing_article_leaves_nothing_of_itself(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-10-09", figures=[fig(126_000, None)])
    before = {t: count(db, t) for t in db.table_names()}
    with pytest.raises(ValueError, match="not a finite number"):
        save(
            db,
            INFORM,
            published="2025-10-10",
            figures=[fig(131_000, None), fig(float("nan"), None, {"country": "RU"})],
        )
    assert {t: count(db, t) for t in db.table_names()} == before
    assert store.known_article(db, INFORM) is None


# --------------------------------------------------------------------------- changes, outbox


def test_changes_since_keeps_those_detected_from_that_time(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-01-10", figures=[fig(194_000, None)])
    save(db, INFORM, published="2025-10-09", figures=[fig(126_000, None)])
    save(db, EGEMEN, published="2025-10-20", figures=[fig(131_000, None)])
    assert [c["new"] for c in store.changes(db, since="2025-10-09")] == [126_000, 131_000]
    assert [c["new"] for c in store.changes(db, since="2025-10-09T12:00:01+00:00")] == [131_000]
    since = datetime(2025, 10, 20, 17, 0, tzinfo=UTC).astimezone()  # any zone
    assert [c["new"] for c in store.changes(db, since=since)] == []
    assert len(store.changes(db)) == 3
    with pytest.raises(ValueError, match="not an ISO date or time: 'yesterday'"):
        store.changes(db, since="yesterday")


def test_pending_and_delivered_are_kept_per_channel(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-01-10", figures=[fig(194_000, None)])
    save(db, INFORM, published="2025-10-09", figures=[fig(126_000, None)])
    ids = [c["id"] for c in store.pending(db, "email")]
    assert len(ids) == 2 and ids == [c["id"] for c in store.pending(db, "slack")]

    store.mark_delivered(db, "email", ids, "2025-10-10T08:00:00+00:00")
    assert store.pending(db, "email") == []
    assert [c["id"] for c in store.pending(db, "slack")] == ids
    store.mark_delivered(db, "email", ids, "2025-10-11T08:00:00+00:00")  # again: no-op
    assert count(db, "deliveries") == 2

    store.mark_delivered(db, "slack", ids[:1], datetime(2025, 10, 10, 8, tzinfo=UTC))
    assert [c["id"] for c in store.pending(db, "slack")] == ids[1:]
    found = save(db, EGEMEN, published="2025-10-20", figures=[fig(131_000, None)])
    assert [c["id"] for c in store.pending(db, "email")] == [found[0]["id"]]
    assert [c["id"] for c in store.pending(db, "slack")] == [ids[1], found[0]["id"]]
    with pytest.raises(ValueError, match="no change with id 999"):
        store.mark_delivered(db, "email", [999], "2025-10-10T08:00:00+00:00")


def test_changes_from_an_import_carry_their_sources(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-10-09", figures=[fig(1, None, metric="kandas")])
    change_id = store.add_change(
        db,
        {
            "kind": "status",
            "counterparty": "KR",
            "old": "paused",
            "new": "resumed",
            "as_of": "2025-10-09",
            "sources": [LADA, EGEMEN],
            "detected_at": "2025-10-09T12:00:00+00:00",
            "evidence": "Переговоры возобновились.",
        },
    )
    [change] = [c for c in store.pending(db, "email") if c["id"] == change_id]
    assert brief([change]) == [("KR", None, "paused", "resumed")]
    assert change["sources"] == [LADA, EGEMEN]
    assert store.known_article(db, EGEMEN) is not None


# --------------------------------------------------------------------------- re-extraction


def _rules(table: dict[str, Extraction]) -> store.Extract:
    def extract(text: str, lang: str | None, published: str | None) -> Extraction:
        return table.get(text, Extraction(lang or "ru", published, [], []))

    return extract


def test_reextract_adds_only_new_changes_marked_as_such_and_keeps_the_old_ones(
    db: sqlite_utils.Database,
) -> None:
    old_rules = {
        "a": Extraction("ru", "2024-03-01", [fig(194_000, "2024")], []),
        "b": Extraction("ru", "2025-10-09", [fig(126_000, "2025-10-01")], []),
        "c": Extraction("ru", "2025-10-10", [], []),
    }
    for url, text in ((LADA, "a"), (INFORM, "b"), (EGEMEN, "c")):
        e = old_rules[text]
        assert e.published is not None
        save(db, url, published=e.published, text=text, figures=e.figures)
    before = store.changes(db)
    store.mark_delivered(db, "email", [before[0]["id"]], "2025-10-11T08:00:00+00:00")

    new_rules = {
        **old_rules,
        "b": Extraction(
            "ru",
            "2025-10-09",
            [fig(126_000, "2025-10-01"), fig(102_000, "2025-10-01", {"country": "RU"})],
            [],
        ),
        "c": Extraction("ru", "2025-10-10", [], [status("KR", "resumed")]),
    }
    counts = store.reextract(db, _rules(new_rules), "2025-12-01T00:00:00+00:00")
    assert counts == {"articles": 3, "figures": 3, "statuses": 1, "new_changes": 2}

    after = store.changes(db)
    assert after[:2] == before  # kept as they were: ids, times, found_by, sources
    added = after[2:]
    assert brief(added) == [
        ("citizens_abroad", {"country": "RU"}, None, 102_000),
        ("KR", None, None, "resumed"),
    ]
    assert {c["found_by"] for c in added} == {"reextract"}
    assert {c["detected_at"] for c in added} == {"2025-12-01T00:00:00+00:00"}
    assert [c["id"] for c in store.pending(db, "email")] == [before[1]["id"]]
    assert [c["id"] for c in store.pending(db, "email", include_reextract=True)] == [
        before[1]["id"],
        *(c["id"] for c in added),
    ]
    assert len(store.changes(db, include_reextract=False)) == 2

    again = store.reextract(db, _rules(new_rules), "2025-12-02T00:00:00+00:00")
    assert again["new_changes"] == 0
    assert store.changes(db) == after


def test_reextract_keeps_a_change_the_new_rules_no_longer_find(db: sqlite_utils.Database) -> None:
    save(db, LADA, published="2025-10-09", text="x", figures=[fig(126_000, None)])
    counts = store.reextract(db, _rules({}), "2025-12-01T00:00:00+00:00")
    assert counts == {"articles": 1, "figures": 0, "statuses": 0, "new_changes": 0}
    [change] = store.changes(db)
    assert (change["new"], change["sources"]) == (126_000, [LADA])
    assert count(db, "facts") == 0


def test_a_failing_reextract_changes_nothing_and_names_the_article(
    db: sqlite_utils.Database,
) -> None:
    save(db, LADA, published="2025-10-09", text="x", figures=[fig(126_000, None)])
    before = {t: count(db, t) for t in db.table_names()}

    def broken(text: str, lang: str | None, published: str | None) -> Extraction:
        raise RuntimeError("rules exploded")

    with pytest.raises(RuntimeError, match="rules exploded") as info:
        store.reextract(db, broken, "2025-12-01T00:00:00+00:00")
    assert f"while re-extracting {LADA}" in info.value.__notes__
    assert {t: count(db, t) for t in db.table_names()} == before


# --------------------------------------------------------------------------- sources


def test_record_fetch_counts_failures_and_keeps_validators_on_304(
    db: sqlite_utils.Database,
) -> None:
    assert store.source_state(db, "Lada.kz") is None
    url = "https://www.lada.kz/rss"
    store.record_fetch(
        db, "Lada.kz", url, at="2025-10-09T10:00:00+00:00", ok=True, status=200, error=None,
        etag='"v1"', last_modified="Thu, 09 Oct 2025 09:00:00 GMT",
        newest_item="2025-10-09T08:00:00+05:00", new_items=5,
    )  # fmt: skip
    store.record_fetch(
        db, "Lada.kz", url, at="2025-10-09T10:30:00+00:00", ok=True, status=304, error=None
    )
    state = store.source_state(db, "Lada.kz")
    assert state is not None
    assert (state["etag"], state["last_modified"]) == ('"v1"', "Thu, 09 Oct 2025 09:00:00 GMT")
    for minute in ("11", "12"):
        store.record_fetch(
            db, "Lada.kz", url, at=f"2025-10-09T{minute}:00:00+00:00", ok=False, status=503,
            error="HTTP 503 Service Unavailable",
        )  # fmt: skip
    state = store.source_state(db, "Lada.kz")
    assert state is not None
    assert state["failures"] == 2
    assert state["last_error"] == "HTTP 503 Service Unavailable"
    assert state["last_success"] == "2025-10-09T10:30:00+00:00"
    assert state["first_fetch"] == "2025-10-09T10:00:00+00:00"
    assert state["etag"] == '"v1"'
    store.record_fetch(
        db, "Lada.kz", url, at="2025-10-09T13:00:00+00:00", ok=True, status=200, error=None,
        etag=None, newest_item="2025-10-01", new_items=2,
    )  # fmt: skip
    state = store.source_state(db, "Lada.kz")
    assert state is not None
    assert (state["failures"], state["last_error"], state["etag"]) == (0, None, None)
    assert state["newest_item"] == "2025-10-09T08:00:00+05:00"  # the newest stays
    assert (state["items"], state["last_status"]) == (7, 200)


# --------------------------------------------------------------------------- the database


def test_connect_sets_wal_foreign_keys_and_the_schema_version(
    db: sqlite_utils.Database, db_path: Path
) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == store.SCHEMA_VERSION
    again = store.connect(db_path)  # an up-to-date database opens as it is
    assert again.execute("SELECT count(*) FROM meta").fetchone()[0] == 1
    again.close()


def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    db = store.connect(db_path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [store.SCHEMA_VERSION + 1])
    db.close()
    with pytest.raises(store.StoreError) as info:
        store.connect(db_path)
    message = str(info.value)
    assert message.startswith(f"{db_path}: database schema version {store.SCHEMA_VERSION + 1}")
    assert "upgrade the monitor" in message and "\n" not in message


def test_a_file_that_is_not_a_monitor_database_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(store.StoreError, match=r"garbage\.db: file is not a database"):
        store.connect(garbage)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(store.StoreError, match=r"other\.db: not a monitor database"):
        store.connect(other)


# --------------------------------------------------------------------------- processes

HOLD_LOCK = """
import sys
from monitor import store
with store.run_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_run_lock_held_by_another_process_fails_at_once_and_is_released_when_it_ends(
    db_path: Path, ending: str
) -> None:
    with _child(HOLD_LOCK, str(db_path)) as child:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(store.StoreError) as info, store.run_lock(db_path):
            pass
        assert time.monotonic() - started < 1.0
        assert str(info.value) == (f"{db_path}: another `monitor run` is running (pid {child.pid})")
        if ending == "exit":
            child.stdin.close()
        else:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    with store.run_lock(db_path):
        assert Path(f"{db_path}.lock").read_text() == f"{os.getpid()}\n"
    with store.run_lock(db_path):  # released on exit, so it can be taken again
        pass


SAVE_FOREVER = """
import sys
from monitor import store
from monitor.extract import Extraction, Figure, Status
db = store.connect(sys.argv[1])
n = int(sys.argv[2])
while True:
    size = 200 + 37 * (n % 5)
    figures = [
        Figure("citizens_abroad", {"country": f"C{n}", "n": str(j)}, 1000.0 + j, "persons",
               "exact", None, "ru", "x" * 300)
        for j in range(size)
    ]
    statuses = [Status(f"P{n}", "signed", True, "ru", "y" * 300)]
    store.save_article(
        db, source="S", url=f"https://example.kz/{n}", guid=None, title=None, lang="ru",
        published="2025-10-09", fetched_at="2025-10-09T12:00:00+00:00", text=f"{n} {size}",
        extraction=Extraction("ru", "2025-10-09", figures, statuses),
    )
    print(n, flush=True)
    n += 1
"""


def _check_whole_articles(db: sqlite_utils.Database) -> None:
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for article_id, text in db.execute("SELECT id, text FROM articles").fetchall():
        size = int(text.split()[1])
        for table, expected in (("figures", size), ("statuses", 1), ("changes", size + 1)):
            found = db.execute(
                f"SELECT count(*) FROM {table} WHERE article_id = ?", [article_id]
            ).fetchone()[0]
            assert found == expected, (text, table)


def test_a_process_killed_while_saving_leaves_only_whole_articles(db_path: Path) -> None:
    store.connect(db_path).close()
    saved: list[int] = []
    # an article takes some milliseconds to save: killing at different moments after one
    # was reported lands inside the next one's transaction
    for round_, delay in enumerate((0.002, 0.006, 0.011, 0.017)):
        with _child(SAVE_FOREVER, str(db_path), str(1000 * round_)) as child:
            assert child.stdout is not None
            saved += [int(child.stdout.readline()) for _ in range(3)]
            time.sleep(delay)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        db = store.connect(db_path)
        try:
            _check_whole_articles(db)
        finally:
            db.close()
    db = store.connect(db_path)
    try:
        stored = {int(t.split()[0]) for (t,) in db.execute("SELECT text FROM articles")}
        assert set(saved) <= stored  # every save that returned is there
        figures, changes = count(db, "figures"), count(db, "changes")
        # saving the same article again after the crash duplicates nothing
        n = saved[0]
        again = store.save_article(
            db, source="S", url=f"https://example.kz/{n}", guid=None, title=None, lang="ru",
            published="2025-10-09", fetched_at="2025-10-10T12:00:00+00:00",
            text=f"{n} {200 + 37 * (n % 5)}", extraction=Extraction("ru", "2025-10-09", [], []),
        )  # fmt: skip
        assert again == []
        assert (count(db, "figures"), count(db, "changes")) == (figures, changes)
    finally:
        db.close()
