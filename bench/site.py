"""Site benchmark: `write_site` over ten years of history, time and peak memory.

Builds a database through `monitor.store.save_article` (the path `monitor run` takes): 100
series (citizens abroad by host country, foreign workers by origin and sector, offences by
region, deportations, remittances and the totals), ten years of news, 100,000 figures in all,
a tenth of them re-reports of a known fact by a second outlet, plus agreement timelines with
five counterparties. Then writes the whole site `--runs` times (default 3), each run in a fresh
subprocess that reports the seconds `write_site` took (wall clock, and CPU, which other work
on the machine disturbs less) and its peak resident set (`ru_maxrss`, and `VmHWM` on Linux),
and prints the medians. When `monitor.notify` exists, the email digest of the newest 1,000
changes (`build_digest` + `render_email`) is timed the same way, and so is the digest of the
whole history as a first digest sees it (`notify.preview`: every change pending, the default
caps of `[digest]`).

    python bench/site.py [--figures 100000] [--series 100] [--years 10] [--runs 3] [--db PATH]

`--db PATH` keeps the database (built once, reused when it exists). Nothing touches the
network; every article is made up.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 300.0
FIGURES_PER_ARTICLE = 25
REREPORT_SHARE = 0.1
DIGEST_CHANGES = 1_000  # a digest of the newest changes: a very busy day

COUNTRIES = ["RU", "KR", "GB", "TR", "AE", "DE", "US", "PL", "CZ", "IT", "ES", "FR", "JP"]
COUNTRIES += ["CN", "UZ", "KG", "TJ", "LT", "LV", "EE", "IL", "SA", "QA", "CA", "AU", "EU+GB"]
ORIGINS = ["CN", "TR", "UZ", "IN", "RU", "KR", "GB", "DE", "US", "IT", "KG", "TJ", "UA", "BY"]
SECTORS = ["construction", "agriculture", "mining", "manufacturing", "trade", "transport"]
SECTORS += ["education", "health", "finance", "other"]
REGIONS = ["astana", "almaty", "shymkent", "karaganda_region", "turkestan_region"]
REGIONS += ["almaty_region", "east_kazakhstan_region", "mangystau_region", "atyrau_region"]
REGIONS += ["aktobe_region", "pavlodar_region", "kostanay_region", "zhambyl_region"]
REGIONS += ["kyzylorda_region", "west_kazakhstan_region", "akmola_region", "abai_region"]
REGIONS += ["ulytau_region", "zhetisu_region", "north_kazakhstan_region"]
STATUSES = ["proposed", "negotiating", "paused", "resumed", "draft_submitted", "agreed"]
STATUSES += ["signed", "ratified", "in_force"]
OUTLETS = [("Lada.kz", "ru"), ("Kazinform", "en"), ("Egemen", "kk"), ("Astana Times", "en")]


@dataclass(frozen=True)
class SeriesSpec:
    metric: str
    dims: dict[str, str]
    unit: str
    start: float


def series_specs(count: int) -> list[SeriesSpec]:
    """`count` distinct series across the catalogue, the totals first."""
    specs = [
        SeriesSpec("citizens_abroad", {}, "persons", 126_000),
        SeriesSpec("foreign_workers", {}, "persons", 15_000),
        SeriesSpec("foreign_labor_quota", {}, "persons", 29_000),
        SeriesSpec("migration_violations", {}, "cases", 20_000),
        SeriesSpec("migration_fines", {}, "KZT", 157_000_000),
        SeriesSpec("deportations", {}, "persons", 3_000),
        SeriesSpec("investor_visas", {}, "visas", 200),
        SeriesSpec("immigrants", {}, "persons", 9_000),
        SeriesSpec("kandas", {}, "persons", 15_000),
        SeriesSpec("remittances", {"direction": "out"}, "USD", 1.5e9),
    ]
    specs += [SeriesSpec("citizens_abroad", {"country": c}, "persons", 2_000) for c in COUNTRIES]
    specs += [SeriesSpec("foreign_workers", {"origin": c}, "persons", 1_000) for c in ORIGINS]
    specs += [SeriesSpec("foreign_workers", {"sector": s}, "persons", 1_500) for s in SECTORS]
    specs += [SeriesSpec("migration_violations", {"region": r}, "cases", 800) for r in REGIONS]
    specs += [SeriesSpec("deportations", {"country": c}, "persons", 150) for c in ORIGINS]
    specs += [
        SeriesSpec("remittances", {"country": c, "direction": "in"}, "USD", 5e7) for c in COUNTRIES
    ]
    if count > len(specs):
        raise SystemExit(f"--series: at most {len(specs)}")
    return specs[:count]


@dataclass
class Article:
    n: int
    published: date
    source: str
    lang: str
    figures: list[Any]
    statuses: list[Any]


def articles(figures: int, series: int, years: int, seed: int) -> Iterator[Article]:
    """News over `years` years, oldest first: each article reports `FIGURES_PER_ARTICLE`
    series in turn with a fresh value, or (one time in ten) repeats a known fact as a
    re-report by another outlet."""
    from monitor.extract import Figure, Status

    rng = random.Random(seed)
    specs = series_specs(series)
    level = [s.start for s in specs]
    last: list[tuple[float, str] | None] = [None] * len(specs)
    count = -(-figures // FIGURES_PER_ARTICLE)
    first_day = date(2026, 1, 1) - timedelta(days=365 * years)
    span = 365 * years
    parties = ["KR", "GB", "TR", "AE", "DE"]
    for n in range(count):
        day = first_day + timedelta(days=n * span // count)
        source, lang = OUTLETS[n % len(OUTLETS)]
        items = []
        for j in range(min(FIGURES_PER_ARTICLE, figures - n * FIGURES_PER_ARTICLE)):
            k = (n * FIGURES_PER_ARTICLE + j) % len(specs)
            spec = specs[k]
            known = last[k]
            if known is not None and rng.random() < REREPORT_SHARE:
                value, as_of = known
            else:
                # a random walk pulled back towards its start: values stay plausible
                drift = 0.95 * math.log(level[k] / spec.start) + rng.uniform(-0.06, 0.06)
                level[k] = spec.start * math.exp(drift)
                value, as_of = round(level[k], -1 if level[k] > 1000 else 0), day.isoformat()
                last[k] = (value, as_of)
            items.append(
                Figure(
                    metric=spec.metric,
                    dims=spec.dims,
                    value=value,
                    unit=spec.unit,
                    bound=rng.choice(["exact", "exact", "approx", "at_least"]),
                    as_of=as_of,
                    lang=lang,
                    evidence=f"По данным министерства, {value:,.0f} — {spec.metric} {as_of}."
                    + " Подробности в материале." * rng.randint(1, 6),
                )
            )
        statuses = []
        if n % 40 == 0:
            party = parties[(n // 40) % len(parties)]
            status = STATUSES[(n // 200) % len(STATUSES)]
            statuses.append(Status(party, status, True, lang, f"Статус: {status}, {party}."))
        yield Article(n, day, source, lang, items, statuses)


def build(db_path: Path, args: argparse.Namespace) -> tuple[int, float]:
    """Fill a fresh database; returns (articles, seconds)."""
    from monitor import store
    from monitor.extract import Extraction

    db = store.connect(db_path)
    started = time.perf_counter()
    n = 0
    try:
        for art in articles(args.figures, args.series, args.years, args.seed):
            n += 1
            published = art.published.isoformat()
            fetched = datetime(art.published.year, art.published.month, art.published.day, 9)
            store.save_article(
                db,
                source=art.source,
                url=f"https://news.example.kz/{art.n}",
                guid=f"bench-{art.n}",
                title=f"Labour migration news #{art.n}",
                lang=art.lang,
                published=published,
                fetched_at=fetched.replace(tzinfo=UTC).isoformat(),
                text="Текст статьи. " * 50,
                extraction=Extraction(art.lang, published, art.figures, art.statuses),
            )
    finally:
        db.close()
    return n, time.perf_counter() - started


# --------------------------------------------------------------------------- measuring


def _maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def _hwm_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 2**10 if line else None


def _worker(kind: str, db_path: Path, out: Path) -> None:
    """In a fresh interpreter: open the database, note ru_maxrss, do the work once, print."""
    from monitor import store

    db = store.connect(db_path)
    baseline = _maxrss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    detail = ""
    if kind == "site":
        from monitor.publish import write_site

        summary = write_site(
            db, out, title="Benchmark", base_url=None, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
        detail = str(summary)
    elif kind == "digest":
        from monitor import notify

        changes = _newest_changes(db, DIGEST_CHANGES)
        # the digest itself, not reading the changes
        started, cpu_started = time.perf_counter(), time.process_time()
        labels = notify.load_labels("en")
        digest = notify.build_digest(db, changes, labels, datetime(2026, 1, 1, tzinfo=UTC))
        _subject, text, html = notify.render_email(digest, labels, None)
        detail = f"{len(changes)} changes: {len(text):,} characters text, {len(html):,} HTML"
    else:
        from monitor import notify

        text = notify.preview(db, now=datetime(2026, 1, 1, tzinfo=UTC))
        count = db.execute("SELECT count(*) FROM changes WHERE found_by = 'run'").fetchone()[0]
        detail = f"{count:,} changes pending: {len(text):,} characters of text"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    db.close()
    line = {"seconds": seconds, "cpu": cpu, "baseline_mb": baseline, "peak_mb": _maxrss_mb()}
    print(json.dumps(line | {"hwm_mb": _hwm_mb(), "detail": detail}))


def _newest_changes(db: Any, count: int) -> list[dict[str, Any]]:
    """The newest `count` changes, oldest first, without reading the others where the store
    can (`changes_by_id`)."""
    from monitor import store

    if not hasattr(store, "changes_by_id"):
        return store.changes(db)[-count:]
    sql = "SELECT id FROM changes ORDER BY detected_at DESC, id DESC LIMIT ?"
    ids = [row[0] for row in db.execute(sql, [count])]
    return store.changes_by_id(db, ids[::-1])


@dataclass(frozen=True)
class Measure:
    seconds: float
    cpu: float  # CPU seconds of the process: less sensitive to other work on the machine
    peak_mb: float
    baseline_mb: float
    hwm_mb: float | None
    detail: str


def measure(kind: str, db_path: Path, out: Path, runs: int) -> Measure:
    """The median of `runs` fresh subprocesses (seconds and peak each taken as the median)."""
    results = []
    for _ in range(runs):
        command = [sys.executable, __file__, "--worker", kind, str(db_path), str(out)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"the {kind} subprocess failed:\n{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    hwm = [r["hwm_mb"] for r in results if r["hwm_mb"] is not None]
    return Measure(
        seconds=statistics.median(r["seconds"] for r in results),
        cpu=statistics.median(r["cpu"] for r in results),
        peak_mb=statistics.median(r["peak_mb"] for r in results),
        baseline_mb=statistics.median(r["baseline_mb"] for r in results),
        hwm_mb=statistics.median(hwm) if hwm else None,
        detail=results[-1]["detail"],
    )


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _line(name: str, m: Measure, targets: bool) -> str:
    hwm = f", VmHWM {m.hwm_mb:.0f} MB" if m.hwm_mb is not None else ""
    text = f"{name:<18}{m.seconds:>8.2f} s ({m.cpu:.2f} s CPU) {m.peak_mb:>8.1f} MB peak"
    if targets:
        text += (
            f"   target < {TARGET_SECONDS:.0f} s {_verdict(m.seconds < TARGET_SECONDS)},"
            f" < {TARGET_PEAK_MB:.0f} MB {_verdict(m.peak_mb < TARGET_PEAK_MB)}"
        )
    return text + f"   ({m.baseline_mb:.0f} MB after imports and connect{hwm})"


def _site_size(out: Path) -> str:
    files = [p for p in out.rglob("*") if p.is_file()]
    return f"{len(files)} files, {sum(p.stat().st_size for p in files) / 2**20:.1f} MB"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--figures", type=int, default=100_000, help="figures saved (100000)")
    parser.add_argument("--series", type=int, default=100, help="distinct series (100)")
    parser.add_argument("--years", type=int, default=10, help="years of history (10)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs, each a subprocess (3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the values (0)")
    parser.add_argument("--db", type=Path, help="keep the database here (reused if it exists)")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.figures, args.series, args.years, args.runs) < 1:
        parser.error("--figures, --series, --years and --runs must be at least 1")
    return args


def _has_notify() -> bool:
    try:
        from monitor import notify
    except ImportError:
        return False
    return hasattr(notify, "build_digest") and hasattr(notify, "render_email")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.worker:
        kind, db_path, out = args.worker
        _worker(kind, Path(db_path), Path(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        db_path = args.db or Path(tmp) / "bench.db"
        if db_path.exists():
            print(f"database: reusing {db_path}")
        else:
            count, seconds = build(db_path, args)
            print(
                f"database: {count} articles, {args.figures} figures in {args.series} series "
                f"over {args.years} years, built through save_article in {seconds:.1f} s "
                f"({db_path.stat().st_size / 2**20:.0f} MB)"
            )
        out = Path(tmp) / "site"
        print(f"median of {args.runs} runs, each in a fresh subprocess")
        site = measure("site", db_path, out, args.runs)
        print(_line("write_site", site, targets=True))
        print(f"{'':<18}{site.detail}; {_site_size(out)}")
        if _has_notify():
            digest = measure("digest", db_path, out, args.runs)
            print(_line("email digest", digest, targets=False))
            print(f"{'':<18}{digest.detail}")
            backlog = measure("backlog", db_path, out, args.runs)
            print(_line("backlog digest", backlog, targets=False))
            print(f"{'':<18}{backlog.detail}")
        else:
            print("email digest: monitor.notify is not there; not timed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
