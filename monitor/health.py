"""Source health: which sources fail to fetch and which have gone quiet.

A source is *failing* when its fetches keep failing for longer than `failing_after` (one bad
night is noise, a day of errors needs a person), and *silent* when it fetches fine but has
published nothing newer than its own `silent_after` (a feed that moved, a listing whose
selector no longer matches). A failing source is reported once, as failing: its silence
follows from the failures.

Everything is read from the store's `sources` table, one row a source:
`name, last_fetch, last_success, last_error, failures, newest_item, items` (plus
`first_fetch` when the store keeps it). Times are ISO strings; a time without a zone is UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlite_utils

PROBLEM_KINDS = ("failing", "silent")


class Watched(Protocol):
    """What health needs of a source (monitor.sources.Source has it)."""

    @property
    def name(self) -> str: ...

    @property
    def silent_after(self) -> timedelta: ...

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True)
class Problem:
    name: str
    kind: str  # "failing" | "silent"
    since: str | None  # ISO time: last success (failing) or newest item (silent); None: never
    detail: str  # one line in English, for logs and `monitor sources list`
    error: str | None = None  # failing: the last error as recorded
    failures: int = 0  # failing: consecutive failed fetches


def source_health(
    db: sqlite_utils.Database,
    sources: Iterable[Watched],
    now: datetime,
    failing_after: timedelta,
) -> list[Problem]:
    """The problems of the enabled `sources`, in their order; a source never fetched has none
    (nothing is known about it yet)."""
    rows = _rows(db)
    problems = []
    for source in sources:
        row = rows.get(source.name)
        if not source.enabled or row is None:
            continue
        problem = _failing(source.name, row, now, failing_after) or _silent(source, row, now)
        if problem:
            problems.append(problem)
    return problems


def _rows(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    if "sources" not in db.table_names():
        return {}
    return {row["name"]: row for row in db["sources"].rows}


def _failing(
    name: str, row: dict[str, Any], now: datetime, failing_after: timedelta
) -> Problem | None:
    failures = _int(row.get("failures"))
    if failures <= 0:
        return None
    last_success = when(row.get("last_success"))
    # Never succeeded: failing since the first fetch (or, when the store does not keep it,
    # the last fetch, which understates the time and so never reports too early).
    start = last_success or when(row.get("first_fetch")) or when(row.get("last_fetch"))
    if start is None or now - start <= failing_after:
        return None
    error = row.get("last_error")
    error = str(error) if error else None
    since = last_success.isoformat() if last_success else None
    detail = f"{failures} failed fetch{'es' if failures != 1 else ''} in a row"
    detail += f" since {since}" if since else ", never fetched successfully"
    if error:
        detail += f"; last error: {error}"
    return Problem(name, "failing", since, detail, error, failures)


def _silent(source: Watched, row: dict[str, Any], now: datetime) -> Problem | None:
    newest = when(row.get("newest_item"))
    if newest is not None:
        if now - newest <= source.silent_after:
            return None
        since = newest.isoformat()
        return Problem(source.name, "silent", since, f"no new item since {since}")
    if _int(row.get("items")) > 0:
        return None  # items without dates: nothing to judge by
    first = when(row.get("first_fetch")) or when(row.get("last_success"))
    if first is None or now - first <= source.silent_after:
        return None
    return Problem(source.name, "silent", None, "no item found yet")


def when(value: Any) -> datetime | None:
    """An ISO date or time from the store as an aware datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and value.strip():
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
