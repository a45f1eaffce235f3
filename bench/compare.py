"""Compare benchmark: does comparing a new figure with history slow down as history grows?

Builds two stores with the real schema (``monitor.store.connect``):

* small: 1 000 stored figures in 100 series (10 reports each),
* large: 1 000 000 stored figures in 10 000 series (100 reports each),

each series holding half as many facts as reports (every fact reported by two articles), with
its sources and changes, written with ``executemany`` in one transaction. Then it saves the
same kind of 1 000 new figures into each (100 articles of 10 figures, each figure on a random
stored series: a third newer and different -> a change, a third repeating the latest value ->
one more source, a third older -> history or one more source) and reports, per figure:

* ``save``: ``store.save_article`` (one transaction per article: insert the article, decide
  each figure against its series, write facts, sources, figures and changes), timed per
  article and divided by its 10 figures;
* ``compare``: the lookups and the decision alone (``store._fact_rows`` + ``compare.decide``)
  for the same figures, without writing.

The two stores take turns over ``--rounds`` rounds (default 5, each with new figures; the
small store is restored to its 1 000 figures before each), because the machine is shared and
noisy. The median over all timed articles is shown for each store, with the ratio
large / small (target: at most 2x) and the peak resident memory of the process. Nothing is
fetched; every value is made up.

    python bench/compare.py [--large 1000000] [--series 10000] [--rounds 5] [--seed 0]
                            [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor import compare, store
from monitor.extract import Extraction, Figure

TARGET_RATIO = 2.0
FIGURES_PER_ARTICLE = 10
NEW_ARTICLES = 100  # x 10 figures = 1 000 new figures
START = date(2015, 1, 1)
STEP = timedelta(days=30)
SEEN = "2025-01-01T00:00:00+00:00"
METRICS = ("citizens_abroad", "foreign_workers", "migration_violations", "deportations")


def _series_key(s: int) -> tuple[str, str]:
    return METRICS[s % len(METRICS)], compare.dims_key({"region": f"r{s:06d}"})


def _value(s: int, k: int) -> float:
    return float(10_000 + 97 * s + 1_000 * k)


def build(path: Path, figures: int, series: int) -> float:
    """A store holding `figures` stored figures over `series` series; returns seconds taken."""
    started = time.perf_counter()
    reports = figures // series  # per series
    facts_per_series = reports // 2
    db = store.connect(path)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")

    def fact_id(s: int, k: int) -> int:
        return 1 + k * series + s

    def facts() -> Iterator[tuple[Any, ...]]:
        for k in range(facts_per_series):
            ref = (START + STEP * k).isoformat()
            for s in range(series):
                metric, dk = _series_key(s)
                yield (fact_id(s, k), metric, dk, _value(s, k), ref, ref)

    conn.executemany(
        "INSERT INTO facts (id, kind, metric, dims_key, unit, value, bound, as_of, ref_end, "
        "first_seen_at) VALUES (?, 'figure', ?, ?, 'persons', ?, 'exact', ?, ?, '" + SEEN + "')",
        facts(),
    )
    articles = figures // FIGURES_PER_ARTICLE
    conn.executemany(
        "INSERT INTO articles (id, url, source, lang, published, fetched_at, content_hash, text) "
        "VALUES (?, ?, 'Bench', 'ru', '2025-01-01', ?, ?, 'bench')",
        ((a + 1, f"https://bench.example/{a}", SEEN, f"h{a}") for a in range(articles)),
    )

    def reports_rows() -> Iterator[tuple[Any, ...]]:
        # report i = (k * 2 + r) * series + s: an article holds 10 series at one date
        for i in range(reports * series):
            s, kr = i % series, i // series
            k = kr // 2
            metric, dk = _series_key(s)
            ref = (START + STEP * k).isoformat()
            article = 1 + i // FIGURES_PER_ARTICLE
            yield (article, metric, dk, _value(s, k), ref, ref, fact_id(s, k))

    conn.executemany(
        "INSERT INTO figures (article_id, metric, dims_key, value, unit, bound, as_of, ref_end, "
        "lang, evidence, fact_id) VALUES (?, ?, ?, ?, 'persons', 'exact', ?, ?, 'ru', "
        "'evidence', ?)",
        reports_rows(),
    )
    conn.execute(
        "INSERT OR IGNORE INTO fact_sources (fact_id, article_id) "
        "SELECT fact_id, article_id FROM figures ORDER BY id"
    )
    conn.execute(
        "INSERT INTO changes (kind, metric, dims_key, unit, old_value, new_value, as_of, "
        "ref_end, fact_id, detected_at, found_by, evidence, article_id) "
        "SELECT 'figure', f.metric, f.dims_key, 'persons', "
        "(SELECT p.value FROM facts p WHERE p.id = f.id - ?), f.value, f.as_of, f.ref_end, "
        "f.id, ?, 'run', 'evidence', (SELECT min(article_id) FROM fact_sources WHERE "
        "fact_id = f.id) FROM facts f ORDER BY f.id",
        [series, SEEN],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def new_articles(series: int, facts_per_series: int, seed: int) -> list[Extraction]:
    """1 000 new figures on random stored series: newer (change), repeat (same), older."""
    rng = random.Random(seed)
    out = []
    last = facts_per_series - 1
    for _ in range(NEW_ARTICLES):
        figures = []
        for j in range(FIGURES_PER_ARTICLE):
            s = rng.randrange(series)
            metric, _ = _series_key(s)
            kind = j % 3
            if kind == 0:  # newer and different: a change
                k, value = last + 1 + rng.randrange(50), _value(s, last) + 500_000 + j
            elif kind == 1:  # the latest value again, dated later: one more source
                k, value = last + 1 + rng.randrange(50), _value(s, last)
            else:  # about the past: history, or a source for the fact then in force
                k = rng.randrange(max(last, 1))
                value = _value(s, k) if rng.random() < 0.5 else _value(s, k) + 333
            ref = (START + STEP * k + timedelta(days=3)).isoformat()
            dims = {"region": f"r{s:06d}"}
            figures.append(Figure(metric, dims, value, "persons", "exact", ref, "ru", "new"))
        out.append(Extraction("ru", "2025-06-01", figures, []))
    return out


def time_compare(db: sqlite_utils.Database, articles: list[Extraction]) -> list[float]:
    """Per-figure seconds of the lookups and the decision alone, per article."""
    out = []
    key_sql = "metric = ? AND dims_key = ? AND unit = ?"
    for extraction in articles:
        started = time.perf_counter()
        for f in extraction.figures:
            ref = compare.ref_end(f.as_of, extraction.published)
            key = [f.metric, compare.dims_key(f.dims), f.unit]
            rows = store._fact_rows(db, key_sql, key, ref, status=False)
            compare.decide(rows, f.value, ref)
        out.append((time.perf_counter() - started) / len(extraction.figures))
    return out


def time_save(db: sqlite_utils.Database, articles: list[Extraction], tag: str) -> list[float]:
    """Per-figure seconds of store.save_article, per article."""
    out = []
    for n, extraction in enumerate(articles):
        started = time.perf_counter()
        store.save_article(
            db,
            source="Bench",
            url=f"https://new.example/{tag}/{n}",
            guid=None,
            title=None,
            lang="ru",
            published=extraction.published,
            fetched_at="2025-06-01T12:00:00+00:00",
            text=f"new article {tag} {n}",
            extraction=extraction,
        )
        out.append((time.perf_counter() - started) / len(extraction.figures))
    return out


def peak_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _open_copy(folder: Path, name: str) -> sqlite_utils.Database:
    """The small store as built (copied afresh each round, so that the new figures of earlier
    rounds do not grow it); the large one as it is (1 000 more figures a round are lost in a
    million)."""
    if name == "small":
        data = (folder / "small.db").read_bytes()
        (folder / "small-run.db").write_bytes(data)
        for extra in ("-wal", "-shm"):
            (folder / f"small-run.db{extra}").unlink(missing_ok=True)
        return store.connect(folder / "small-run.db")
    return store.connect(folder / f"{name}.db")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--large", type=int, default=1_000_000, help="stored figures, large store")
    ap.add_argument("--series", type=int, default=10_000, help="series in the large store")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (stores alternate)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="build the stores in DIR and keep them")
    args = ap.parse_args(argv)
    sizes = {"small": (1_000, 100), "large": (args.large, args.series)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db*"):
            old.unlink()
        built = {}
        for name, (figures, series) in sizes.items():
            built[name] = build(folder / f"{name}.db", figures, series)
            print(f"built {name}: {figures:,} figures in {series:,} series, {built[name]:.1f} s")
        megabytes = {
            name: sum(p.stat().st_size for p in folder.glob(f"{name}.db*")) / 1e6 for name in sizes
        }
        lookups: dict[str, list[float]] = {name: [] for name in sizes}
        saves: dict[str, list[float]] = {name: [] for name in sizes}
        # the machine is shared and noisy: the stores take turns, round after round
        for round_ in range(args.rounds):
            order = list(sizes) if round_ % 2 == 0 else list(reversed(sizes))
            for name in order:
                figures, series = sizes[name]
                articles = new_articles(series, figures // series // 2, args.seed + round_)
                db = _open_copy(folder, name)
                try:
                    time_compare(db, articles[:10])  # warm the page cache like a running store
                    lookups[name] += time_compare(db, articles)
                    saves[name] += time_save(db, articles, f"{name}-{round_}")
                finally:
                    db.close()
    print(
        f"{'store':<6} {'figures':>10} {'series':>7} {'MB':>7} "
        f"{'compare µs/fig':>15} {'save µs/fig':>12}"
    )
    medians = {
        name: (statistics.median(lookups[name]), statistics.median(saves[name])) for name in sizes
    }
    for name, (figures, series) in sizes.items():
        compare_s, save_s = medians[name]
        print(
            f"{name:<6} {figures:>10,} {series:>7,} {megabytes[name]:>7.1f} "
            f"{compare_s * 1e6:>15.1f} {save_s * 1e6:>12.1f}"
        )
    for n, what in enumerate(("compare", "save")):
        ratio = medians["large"][n] / medians["small"][n]
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
        print(f"{what}: large / small = {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x) {verdict}")
    print(f"peak RSS: {peak_mb():.0f} MB (the whole run, building the stores included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
