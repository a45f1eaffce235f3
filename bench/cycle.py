"""Cycle benchmark: 300 sources x 20 items on loopback, cold and warm, against urlwatch.

A server process (threaded, so that it does not share the monitor's GIL) serves 300 made-up
news sites, each on its own loopback address (127.0.1.1, 127.0.1.2, ...; Linux routes all of
127/8 to lo), all on one port: a robots.txt, an RSS feed of 20 items with an ETag and a
Last-Modified date (answered with 304 when either validator matches), and 20 article pages
made by ``bench/extract.py``'s generator (kk/ru/en text with figures, statuses and traps,
30-150 KB of markup, gzip-encoded when asked). Nothing is fetched from outside; every page is
made up.

The monitor side is a fresh process per cycle that loads the rules and the generated source
files (``monitor.sources.load_sources``), opens the database (``monitor.store.connect``) and
times ``monitor.pipeline.run_once`` inside a ``Fetcher`` with ``FetchPolicy(host_delay=0)``
(the other limits as shipped: 16 requests at once, 2 per host, robots.txt respected):

* cold: a fresh database, every feed and article fetched, extracted and stored;
* warm: the same database 30 minutes later (every source due again): every feed answers 304.

Beside it, urlwatch checks the same 300 feed URLs (one job each, its own cache file), cold and
warm, in a process of its own. CPU is user + sys of the whole process from ``os.wait4``
(start-up included, for both sides); the monitor's cycle alone is shown too. Peak memory is
the process's own ``VmHWM`` (Linux), else its ``ru_maxrss``.

The compare step uses ``bench/compare.py``'s stores (1 000 and 1 000 000 stored figures, real
schema) and times ``store.save_article`` of new 10-figure articles, the decision against
history included, on each, turn about.

    python bench/cycle.py [--sources 300] [--items 20] [--runs 5] [--cold-runs 3] [--seed 0]
                          [--large 1000000] [--rounds 5] [--urlwatch PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import html
import importlib.util
import json
import os
import random
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_WARM_WALL_S = 2.0
TARGET_PEAK_MB = 200.0
TARGET_COMPARE_RATIO = 2.0
LANGS = ("kk", "ru", "en")
FEED_MODIFIED = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
EVERY = timedelta(minutes=30)  # the sources' polling interval (the default)
ROBOTS = b"User-agent: *\nDisallow: /admin/\nDisallow: /search\n"


def _load(name: str) -> ModuleType:
    """A sibling bench script as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def host(index: int) -> str:
    """The loopback address of site `index`: 127.0.1.1 ... 127.0.1.250, 127.0.2.1 ..."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def lang_of(index: int) -> str:
    return LANGS[index % len(LANGS)]


# --------------------------------------------------------------------------- the sites


@dataclass
class Site:
    """What one made-up outlet serves: path -> (body, content type), gzip-encoded bodies."""

    feed: bytes = b""
    feed_gz: bytes = b""
    etag: str = ""
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)


def _rfc822(day: str, n: int) -> str:
    """A feed date on `day` (YYYY-MM-DD), the n-th item a few minutes apart."""
    when = datetime.fromisoformat(day).replace(hour=10, minute=25, tzinfo=UTC)
    return format_datetime(when - timedelta(minutes=7 * n))


def _feed_xml(index: int, port: int, items: list[tuple[str, Any]]) -> bytes:
    """RSS 2.0 with one <item> per (path, page), newest first, a short description each."""
    lang = lang_of(index)
    base = f"http://{host(index)}:{port}"
    entries = []
    ordered = sorted(items, key=lambda item: item[1].published, reverse=True)
    for n, (path, page) in enumerate(ordered):
        title = html.escape(page.headline)
        entries.append(
            f"<item><title>{title}</title><link>{base}{path}</link>"
            f'<guid isPermaLink="false">bench-{index}-{page.slug}</guid>'
            f"<pubDate>{_rfc822(page.published, n)}</pubDate>"
            f"<category>migration</category><description>{title}.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench outlet {index:03d}</title><link>{base}/</link><language>{lang}</language>"
        f"<description>Made-up news about labour migration</description>"
        f"<lastBuildDate>{format_datetime(FEED_MODIFIED)}</lastBuildDate>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def fill_sites(sites: list[Site], items: int, seed: int, port: int) -> None:
    """Every site's feed and pages, made with extract.py's page generator from one seed."""
    pages_module = _load("extract")
    rng = random.Random(seed)
    for index, site in enumerate(sites):
        site.etag = f'W/"feed-{seed}-{index}"'
        listed = []
        for n in range(items):
            page = pages_module.make_page(rng, lang_of(index))
            path = f"/news/{page.slug}-{n}.html"
            site.pages[path] = (gzip.compress(page.data, 6), f"text/html; charset={page.charset}")
            listed.append((path, page))
        site.feed = _feed_xml(index, port, listed)
        site.feed_gz = gzip.compress(site.feed, 6)


# --------------------------------------------------------------------------- the server


class Stats:
    """Requests served, by kind and status; read and reset by the parent between phases."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def take(self) -> dict[str, int]:
        with self.lock:
            out, self.counts = dict(self.counts), Counter()
        return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site
    timeout = 30
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: thousands of requests."""

    def do_GET(self) -> None:
        site, stats = self.server.site, self.server.stats
        path = self.path.split("?", 1)[0]
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if path == "/robots.txt":
            stats.add("robots 200")
            self._send(200, ROBOTS, "text/plain; charset=utf-8", gz=False)
        elif path == "/rss.xml":
            if self._fresh(site.etag):
                stats.add("feed 304")
                self._send(304, b"", None, gz=False, validators=site.etag)
            else:
                stats.add("feed 200")
                body = site.feed_gz if gz else site.feed
                ctype = "application/rss+xml; charset=utf-8"
                self._send(200, body, ctype, gz=gz, validators=site.etag)
        elif path in site.pages:
            stats.add("page 200")
            body, ctype = site.pages[path]
            self._send(200, body if gz else gzip.decompress(body), ctype, gz=gz)
        else:
            stats.add("other 404")
            self._send(404, b"not found\n", "text/plain; charset=utf-8", gz=False)

    def _fresh(self, etag: str) -> bool:
        """Whether the client's copy is current: If-None-Match first, else If-Modified-Since."""
        match = self.headers.get("If-None-Match")
        if match:
            tags = {t.strip().removeprefix("W/") for t in match.split(",")}
            return "*" in tags or etag.removeprefix("W/") in tags
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        return (when if when.tzinfo else when.replace(tzinfo=UTC)) >= FEED_MODIFIED

    def _send(
        self, status: int, body: bytes, ctype: str | None, *, gz: bool, validators: str = ""
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        if validators:
            self.send_header("ETag", validators)
            self.send_header("Last-Modified", format_datetime(FEED_MODIFIED, usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], site: Site, stats: Stats) -> None:
        self.site, self.stats = site, stats
        super().__init__(address, Handler)


def _bind_all(sites: list[Site], stats: Stats) -> list[SiteServer]:
    """One server per site address, all on one free port (tried anew if taken somewhere)."""
    for _ in range(10):
        probe = socket.socket()
        probe.bind((host(0), 0))
        port = probe.getsockname()[1]
        probe.close()
        servers: list[SiteServer] = []
        try:
            for index, site in enumerate(sites):
                servers.append(SiteServer((host(index), port), site, stats))
            return servers
        except OSError:
            for server in servers:
                server.server_close()
    raise SystemExit("could not find a port free on every loopback address")


def _serve_loop(servers: list[SiteServer]) -> None:
    """Accept on every listening socket from one thread; each connection gets its own."""
    selector = selectors.DefaultSelector()
    for server in servers:
        selector.register(server.socket, selectors.EVENT_READ, server)
    while True:
        for key, _ in selector.select():
            key.data.handle_request()


def serve(args: argparse.Namespace) -> None:
    """The server process: build the sites, listen, then answer the parent's commands on
    stdin ('stats' -> one JSON line of the requests since the last 'stats'; EOF -> exit)."""
    started = time.perf_counter()
    sites = [Site() for _ in range(args.sources)]
    stats = Stats()
    servers = _bind_all(sites, stats)
    fill_sites(sites, args.items, args.seed, servers[0].server_address[1])
    for server in servers:
        server.timeout = None
    threading.Thread(target=_serve_loop, args=(servers,), daemon=True).start()
    ready = {"port": servers[0].server_address[1], "seconds": time.perf_counter() - started}
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps(stats.take()), flush=True)
    os._exit(0)


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Measure:
    wall: float  # the whole process, as seen by the parent (s)
    cpu: float  # user + sys of the whole process (s)
    peak_mb: float
    cycle_wall: float | None = None  # the monitor's run_once alone
    cycle_cpu: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _hwm_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


def _maxrss_mb(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 2**20 if sys.platform == "darwin" else usage.ru_maxrss / 1024


def run_process(command: list[str], env: dict[str, str] | None = None) -> Measure:
    """Run `command`; wall, CPU and peak memory of that process alone. The last line of its
    stdout, when JSON, is its own report (the monitor worker's)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        errors = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0:
        tail = errors.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise SystemExit(f"{command[0]} exited with {proc.returncode}:\n" + "\n".join(tail))
    info: dict[str, Any] = {}
    if lines and lines[-1].startswith("{"):
        info = json.loads(lines[-1])
    peak = info.pop("hwm_mb", None) or _maxrss_mb(usage)
    return Measure(
        wall,
        usage.ru_utime + usage.ru_stime,
        peak,
        info.pop("cycle_wall", None),
        info.pop("cycle_cpu", None),
        info,
    )


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cycle_worker(args: argparse.Namespace) -> None:
    """One `monitor run`: load the sources, open the store, time run_once (which loads the
    rules at the first article to extract, as `monitor run` does)."""
    import asyncio

    from monitor import load_rules, store
    from monitor.fetch import Fetcher, FetchPolicy
    from monitor.pipeline import run_once
    from monitor.sources import load_sources

    sources, errors = load_sources(Path(args.sources_dir))
    if errors:
        raise SystemExit(str(errors[0]))
    db = store.connect(args.db)
    now = datetime.fromisoformat(args.now)
    policy = FetchPolicy(host_delay=0.0)
    if args.robots_max_age is not None:
        policy = replace(policy, robots_max_age=args.robots_max_age)

    async def cycle() -> Any:
        async with Fetcher(policy) as fetcher:
            return await run_once(sources, load_rules, db, fetcher, now)

    cpu, started = _cpu_self(), time.perf_counter()
    summary = asyncio.run(cycle())
    wall, cpu = time.perf_counter() - started, _cpu_self() - cpu
    db.close()
    report = {
        "cycle_wall": wall,
        "cycle_cpu": cpu,
        "hwm_mb": _hwm_mb(),
        "line": summary.line(),
        "not_modified": sum(o.not_modified for o in summary.outcomes),
        "failed_articles": sum(o.failed_articles for o in summary.outcomes),
        "errors": sorted({o.error for o in summary.outcomes if o.error})[:3],
    }
    print(json.dumps(report))


# --------------------------------------------------------------------------- the runs


class Server:
    """The server process, started by the parent and stopped by closing its stdin."""

    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--worker", "server", f"--sources={args.sources}"]
        command += [f"--items={args.items}", f"--seed={args.seed}"]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = self._line()
        self.port, self.seconds = int(ready["port"]), float(ready["seconds"])

    def _line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the loopback server did not start")
        return json.loads(line)

    def stats(self) -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        self.proc.stdin.flush()
        return self._line()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def feed_url(index: int, port: int) -> str:
    return f"http://{host(index)}:{port}/rss.xml"


def write_sources(folder: Path, count: int, port: int) -> None:
    """One TOML file per site; every third names the article body's selector."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        text = (
            f'name = "Bench outlet {index:03d}"\nurl = "{feed_url(index, port)}"\n'
            f'kind = "feed"\nlanguage = "{lang_of(index)}"\nevery = "30m"\n'
        )
        if index % 3 == 0:
            text += '\n[article]\nbody = ".article__body"\n'
        (folder / f"bench-{index:03d}.toml").write_text(text, encoding="utf-8")


def write_urlwatch(folder: Path, count: int, port: int) -> dict[str, Path]:
    """urlwatch's jobs file (one url job per feed), config (stdout report, no colour) and an
    empty home, so that it reads and writes nothing of the user's."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = folder / "jobs.yaml"
    jobs.write_text(
        "\n---\n".join(
            f'name: "Bench outlet {i:03d}"\nurl: "{feed_url(i, port)}"' for i in range(count)
        )
        + "\n",
        encoding="utf-8",
    )
    config = folder / "urlwatch.yaml"
    config.write_text(
        "display:\n  new: true\n  error: true\n  unchanged: false\n"
        "report:\n  text:\n    details: true\n    footer: false\n    line_length: 75\n"
        "  stdout:\n    enabled: true\n    color: false\n",
        encoding="utf-8",
    )
    (folder / "home").mkdir(exist_ok=True)
    idle = folder / "no-jobs.yaml"
    idle.write_text("", encoding="utf-8")
    return {"jobs": jobs, "idle": idle, "config": config, "home": folder / "home"}


def urlwatch_command(
    exe: str, files: dict[str, Path], cache: Path, jobs: str = "jobs"
) -> list[str]:
    return [
        exe,
        "--urls",
        str(files[jobs]),
        "--config",
        str(files["config"]),
        "--hooks",
        str(files["home"] / "hooks.py"),
        "--cache",
        str(cache),
    ]


def _urlwatch_exe(given: str | None) -> str | None:
    if given:
        return given
    beside = Path(sys.executable).parent / "urlwatch"
    return str(beside) if beside.exists() else shutil.which("urlwatch")


def _cycle_command(work: Path, db: Path, now: datetime, robots_max_age: float | None) -> list[str]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "cycle",
        f"--sources-dir={work / 'sources'}",
        f"--db={db}",
        f"--now={now.isoformat()}",
    ]
    if robots_max_age is not None:
        command.append(f"--robots-max-age={robots_max_age:g}")
    return command


@dataclass
class Results:
    cold: list[Measure] = field(default_factory=list)
    warm: list[Measure] = field(default_factory=list)
    uw_cold: list[Measure] = field(default_factory=list)
    uw_warm: list[Measure] = field(default_factory=list)
    uw_idle: list[Measure] = field(default_factory=list)  # urlwatch with no jobs: start-up
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    compare: dict[str, Any] = field(default_factory=dict)


def _fresh_db(path: Path) -> None:
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def _bytecode_env(work: Path) -> dict[str, str]:
    """The environment of both sides' processes: compiled modules written to and read from
    one cache folder of this benchmark, so that the warm runs of both start as an installed
    program does (pip compiles urlwatch's modules; an editable install of the monitor is
    compiled at its first run), even where PYTHONDONTWRITEBYTECODE is set."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def run_cycles(args: argparse.Namespace, server: Server, work: Path, res: Results) -> None:
    """Cold runs on fresh databases, then warm runs on the last one, turn about with
    urlwatch's warm runs (after its own cold runs on fresh caches)."""
    db = work / "monitor.db"
    start = datetime.now(UTC).replace(microsecond=0)
    ours = _bytecode_env(work)
    for n in range(args.cold_runs):
        _fresh_db(db)
        command = _cycle_command(work, db, start, args.robots_max_age)
        res.cold.append(run_process(command, ours))
        res.requests["ours cold"] = server.stats()
        print(f"  cold cycle {n + 1}: {res.cold[-1].wall:.1f} s", file=sys.stderr)
    exe = _urlwatch_exe(args.urlwatch)
    files = write_urlwatch(work / "urlwatch", args.sources, server.port)
    env = {**ours, "HOME": str(files["home"]), "XDG_CONFIG_HOME": str(files["home"])}
    env["XDG_CACHE_HOME"] = str(files["home"])
    cache = work / "urlwatch" / "cache.db"
    if exe is not None:
        for _ in range(args.cold_runs):
            cache.unlink(missing_ok=True)
            res.uw_cold.append(run_process(urlwatch_command(exe, files, cache), env))
            res.requests["urlwatch cold"] = server.stats()
    for n in range(args.runs):
        now = start + EVERY * (n + 1)
        res.warm.append(run_process(_cycle_command(work, db, now, args.robots_max_age), ours))
        res.requests["ours warm"] = server.stats()
        if exe is not None:
            res.uw_warm.append(run_process(urlwatch_command(exe, files, cache), env))
            res.requests["urlwatch warm"] = server.stats()
            idle = urlwatch_command(exe, files, work / "urlwatch" / "idle.db", "idle")
            res.uw_idle.append(run_process(idle, env))


# --------------------------------------------------------------------------- compare step


def compare_step(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Median seconds of store.save_article for a new 10-figure article (the decision against
    history included) on a store of 1 000 and one of `args.large` stored figures."""
    bc = _load("compare")
    sizes = {"small": (1_000, 100), "large": (args.large, args.series)}
    for old in folder.glob("*.db*"):  # a kept folder of an earlier run
        old.unlink()
    built = {name: bc.build(folder / f"{name}.db", f, s) for name, (f, s) in sizes.items()}
    saves: dict[str, list[float]] = {name: [] for name in sizes}
    for round_ in range(args.rounds):
        order = list(sizes) if round_ % 2 == 0 else list(reversed(sizes))
        for name in order:
            figures, series = sizes[name]
            articles = bc.new_articles(series, figures // series // 2, args.seed + round_)
            db = bc._open_copy(folder, name)
            try:
                bc.time_compare(db, articles[:10])  # warm the page cache like a running store
                per_figure = bc.time_save(db, articles, f"{name}-{round_}")
                saves[name] += [s * bc.FIGURES_PER_ARTICLE for s in per_figure]
            finally:
                db.close()
    medians = {name: statistics.median(values) for name, values in saves.items()}
    return {
        "built": built,
        "articles": {name: len(values) for name, values in saves.items()},
        "median": medians,
        "ratio": medians["large"] / medians["small"],
        "figures": {name: f for name, (f, _) in sizes.items()},
    }


# --------------------------------------------------------------------------- report


def _med(values: Sequence[float]) -> float:
    return statistics.median(values)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _rows(name: str, runs: list[Measure]) -> list[str]:
    if not runs:
        return [f"{name:<28}  (not run)"]
    line = (
        f"{name:<28}{_med([r.wall for r in runs]):>9.2f}{_med([r.cpu for r in runs]):>9.2f}"
        f"{_med([r.peak_mb for r in runs]):>9.1f}"
    )
    cycles = [r for r in runs if r.cycle_wall is not None]
    if cycles:
        line += f"{_med([r.cycle_wall or 0 for r in cycles]):>11.2f}"
        line += f"{_med([r.cycle_cpu or 0 for r in cycles]):>10.2f}"
    return [line]


def _targets(res: Results) -> list[str]:
    lines = []
    if res.warm:
        wall = _med([r.cycle_wall or 0 for r in res.warm])
        target = f"target < {TARGET_WARM_WALL_S:.0f} s {_verdict(wall < TARGET_WARM_WALL_S)}"
        lines.append(f"{'warm cycle wall (run_once)':<36}{wall:>8.2f} s   {target}")
        ours = _med([r.cpu for r in res.warm])
        if res.uw_warm:
            theirs = _med([r.cpu for r in res.uw_warm])
            target = f"target < urlwatch {theirs:.2f} s {_verdict(ours < theirs)}"
        else:
            target = "urlwatch not run"
        lines.append(f"{'warm CPU, whole process':<36}{ours:>8.2f} s   {target}")
        if res.uw_warm and res.uw_idle:
            ours = _med([r.cycle_cpu or 0 for r in res.warm])
            theirs -= _med([r.cpu for r in res.uw_idle])
            target = f"target < urlwatch {theirs:.2f} s {_verdict(ours < theirs)}"
            what = "warm CPU, checks alone (no start-up)"
            lines.append(f"{what:<36}{ours:>8.2f} s   {target}")
    peak = max(r.peak_mb for r in res.cold + res.warm)
    target = f"target < {TARGET_PEAK_MB:.0f} MB {_verdict(peak < TARGET_PEAK_MB)}"
    lines.append(f"{'peak memory, cold and warm':<36}{peak:>8.1f} MB  {target}")
    if res.compare:
        ratio = res.compare["ratio"]
        ok = ratio <= TARGET_COMPARE_RATIO
        target = f"target <= {TARGET_COMPARE_RATIO:.0f}x {_verdict(ok)}"
        lines.append(f"{'compare step, 1M / 1k':<36}{ratio:>8.2f} x   {target}")
    return lines


def report(args: argparse.Namespace, server_seconds: float, res: Results) -> None:
    lines = [
        f"cycle benchmark: {args.sources} sources x {args.items} items on loopback "
        f"({args.sources} addresses, one port); pages made in {server_seconds:.0f} s",
        f"medians: cold of {args.cold_runs} runs, warm of {args.runs}; wall and CPU (user+sys) "
        "of the whole process, cycle = run_once alone",
        f"{'':<28}{'wall s':>9}{'CPU s':>9}{'peak MB':>9}{'cycle wall':>11}{'cycle CPU':>10}",
    ]
    lines += _rows("monitor cold", res.cold)
    lines += _rows("monitor warm (all 304)", res.warm)
    lines += _rows("urlwatch cold (feeds only)", res.uw_cold)
    lines += _rows("urlwatch warm", res.uw_warm)
    lines += _rows("urlwatch start-up (no jobs)", res.uw_idle)
    if res.warm:
        startup = _med([r.cpu - (r.cycle_cpu or 0) for r in res.warm])
        lines.append(f"monitor start-up CPU (process - cycle, warm runs): {startup:.2f} s")
    for what, runs in (("cold", res.cold), ("warm", res.warm)):
        if runs:
            info = runs[-1].info
            extra = f"; errors: {info['errors']}" if info.get("errors") else ""
            lines.append(
                f"monitor {what}: {info.get('line')}; 304: {info.get('not_modified')}; "
                f"failed articles: {info.get('failed_articles')}{extra}"
            )
    for what, counts in res.requests.items():
        served = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))
        lines.append(f"requests {what} (last run): {served}")
    if res.compare:
        c = res.compare
        lines.append(
            "compare step: store.save_article of a new 10-figure article, median of "
            f"{c['articles']['small']} per store: 1k figures {c['median']['small'] * 1e3:.2f} ms, "
            f"{c['figures']['large']:,} figures {c['median']['large'] * 1e3:.2f} ms "
            f"(built in {c['built']['large']:.0f} s)"
        )
    lines += _targets(res)
    print("\n".join(lines))


# --------------------------------------------------------------------------- main


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sources", type=int, default=300, help="sites and sources (300)")
    ap.add_argument("--items", type=int, default=20, help="items per feed (20)")
    ap.add_argument("--runs", type=int, default=5, help="warm runs of each side (5)")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold runs of each side (3)")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the pages (0)")
    ap.add_argument("--large", type=int, default=1_000_000, help="figures, large store")
    ap.add_argument("--series", type=int, default=10_000, help="series, large store")
    ap.add_argument("--rounds", type=int, default=5, help="compare rounds, stores alternate")
    ap.add_argument("--urlwatch", help="the urlwatch command (default: beside python, PATH)")
    ap.add_argument("--keep", type=Path, help="work in DIR and keep it (db, sources, caches)")
    ap.add_argument(
        "--robots-max-age",
        type=float,
        metavar="S",
        help="FetchPolicy.robots_max_age of the monitor's runs (default: as shipped)",
    )
    ap.add_argument("--worker", choices=["server", "cycle"], help=argparse.SUPPRESS)
    ap.add_argument("--sources-dir", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--now", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if min(args.sources, args.items, args.runs, args.cold_runs, args.rounds) < 1:
        ap.error("--sources, --items, --runs, --cold-runs and --rounds must be at least 1")
    if args.sources > 250 * 254:
        ap.error("--sources: at most 63500 (loopback addresses)")
    return args


@contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
        yield Path(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.worker == "server":
        serve(args)
        return 0
    if args.worker == "cycle":
        cycle_worker(args)
        return 0
    pages = args.sources * args.items
    print(f"making {args.sources} feeds and {pages} pages ...", file=sys.stderr)
    res = Results()
    with _work_dir(args.keep) as work:
        server = Server(args)
        try:
            write_sources(work / "sources", args.sources, server.port)
            run_cycles(args, server, work, res)
        finally:
            server.close()
        print("compare step: building the stores ...", file=sys.stderr)
        folder = work / "compare"
        folder.mkdir(exist_ok=True)
        res.compare = compare_step(args, folder)
        report(args, server.seconds, res)
    if not res.uw_cold:
        print("urlwatch is not installed (pip install urlwatch): reported ours only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
