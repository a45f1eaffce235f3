"""Source health read from a real SQLite file: failing and silent sources."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from monitor import store
from monitor.health import source_health

NOW = datetime(2025, 10, 10, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Src:
    """What health reads of a source (monitor.sources.Source has the same fields)."""

    name: str
    silent_after: timedelta = timedelta(days=7)
    enabled: bool = True


def ago(delta: timedelta) -> str:
    return (NOW - delta).isoformat()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = store.connect(tmp_path / "health.db")
    yield database
    database.close()


def add(db: sqlite_utils.Database, name: str, **row: Any) -> None:
    base = {
        "name": name,
        "url": f"https://{name.lower()}.example/rss",
        "last_fetch": ago(timedelta(minutes=30)),
        "last_success": ago(timedelta(minutes=30)),
        "last_error": None,
        "failures": 0,
        "newest_item": ago(timedelta(hours=5)),
        "items": 20,
        "last_status": 200,
    }
    db["sources"].insert({**base, **row})


def test_a_healthy_source_has_no_problem(db: sqlite_utils.Database) -> None:
    add(db, "Lada")
    assert source_health(db, [Src("Lada")], NOW, DAY) == []


def test_failing_longer_than_failing_after_is_a_problem_since_the_last_success(
    db: sqlite_utils.Database,
) -> None:
    add(db, "Lada", failures=6, last_success=ago(2 * DAY), last_error="HTTP 503")
    [problem] = source_health(db, [Src("Lada")], NOW, DAY)
    assert problem.kind == "failing"
    assert problem.since == ago(2 * DAY)
    assert problem.error == "HTTP 503"
    assert problem.failures == 6
    assert "6 failed fetches" in problem.detail and "HTTP 503" in problem.detail


def test_a_short_run_of_failures_is_not_yet_a_problem(db: sqlite_utils.Database) -> None:
    add(db, "Lada", failures=2, last_success=ago(timedelta(hours=3)), last_error="timeout")
    assert source_health(db, [Src("Lada")], NOW, DAY) == []


def test_a_source_that_never_fetched_is_failing_from_its_first_fetch(
    db: sqlite_utils.Database,
) -> None:
    add(db, "Kursiv", failures=9, last_success=None, first_fetch=ago(3 * DAY), newest_item=None)
    add(db, "Fresh", failures=1, last_success=None, first_fetch=ago(timedelta(hours=1)))
    problems = source_health(db, [Src("Kursiv"), Src("Fresh")], NOW, DAY)
    assert [(p.name, p.kind, p.since) for p in problems] == [("Kursiv", "failing", None)]
    assert "never fetched successfully" in problems[0].detail


def test_a_source_with_no_new_item_for_longer_than_silent_after_is_silent(
    db: sqlite_utils.Database,
) -> None:
    add(db, "Azattyq", newest_item=ago(10 * DAY))
    add(db, "Weekly", newest_item=ago(10 * DAY))
    problems = source_health(
        db, [Src("Azattyq"), Src("Weekly", silent_after=timedelta(days=14))], NOW, DAY
    )
    assert [(p.name, p.kind, p.since) for p in problems] == [("Azattyq", "silent", ago(10 * DAY))]


def test_a_source_that_never_had_an_item_is_silent_after_silent_after(
    db: sqlite_utils.Database,
) -> None:
    add(db, "Empty", newest_item=None, items=0, first_fetch=ago(8 * DAY))
    add(db, "New", newest_item=None, items=0, first_fetch=ago(timedelta(hours=2)))
    problems = source_health(db, [Src("Empty"), Src("New")], NOW, DAY)
    assert [(p.name, p.kind, p.since) for p in problems] == [("Empty", "silent", None)]


def test_a_failing_source_is_listed_once_as_failing(db: sqlite_utils.Database) -> None:
    add(db, "Lada", failures=4, last_success=ago(20 * DAY), newest_item=ago(20 * DAY))
    problems = source_health(db, [Src("Lada")], NOW, DAY)
    assert [p.kind for p in problems] == ["failing"]


def test_disabled_and_never_fetched_sources_are_not_judged(db: sqlite_utils.Database) -> None:
    add(db, "Off", failures=10, last_success=ago(30 * DAY))
    problems = source_health(db, [Src("Off", enabled=False), Src("Unknown")], NOW, DAY)
    assert problems == []


def test_times_without_a_zone_are_utc_and_a_missing_table_means_no_problems(
    tmp_path: Path,
) -> None:
    empty = sqlite_utils.Database(tmp_path / "empty.db")
    try:
        assert source_health(empty, [Src("Lada")], NOW, DAY) == []
        naive = (NOW - 2 * DAY).replace(tzinfo=None).isoformat()
        add(empty, "Lada", failures=3, last_success=naive)
        [problem] = source_health(empty, [Src("Lada")], NOW, DAY)
        assert problem.kind == "failing"
    finally:
        empty.close()


def test_health_follows_the_fetches_the_store_records(db: sqlite_utils.Database) -> None:
    url = "https://tengrinews.kz/rss"
    store.record_fetch(
        db,
        "Tengri",
        url,
        at=NOW - 3 * DAY,
        ok=True,
        status=200,
        error=None,
        newest_item=(NOW - 3 * DAY).isoformat(),
        new_items=5,
    )
    for hours in range(48, 0, -6):
        store.record_fetch(
            db, "Tengri", url, at=NOW - timedelta(hours=hours), ok=False, status=503, error=None
        )
    store.record_fetch(db, "Quiet", url, at=NOW - 9 * DAY, ok=True, status=200, error=None)
    store.record_fetch(db, "Quiet", url, at=NOW, ok=True, status=304, error=None)

    problems = source_health(db, [Src("Tengri"), Src("Quiet")], NOW, DAY)

    assert [(p.name, p.kind, p.failures, p.error) for p in problems] == [
        ("Tengri", "failing", 8, "HTTP 503"),
        ("Quiet", "silent", 0, None),
    ]
    assert problems[0].since == (NOW - 3 * DAY).isoformat()
    assert problems[1].since is None  # fetched for 9 days, never an item
