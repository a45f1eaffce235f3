"""`monitor daemon` as an operator runs it: a real process on second-level schedules, a news
site and an SMTP server on loopback, a real SQLite file, stopped with SIGTERM. Plus the cron
expressions it accepts and the errors it gives for the ones it does not."""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mailserver import Smtp, running_smtp

from monitor import daemon, store
from monitor.cli import build_parser
from monitor.config import ConfigError, Schedule, Settings

DEADLINE = 90.0  # seconds to wait for something the daemon should do; generous on a busy CI
ALMATY = ZoneInfo("Asia/Almaty")

# --------------------------------------------------------------------------- the news site

RU_TITLE = "Казахстанцы за рубежом: новые данные ведомства"
RU_BODY = [
    "По сведениям Министерства труда, на 1 сентября 2025 года за рубежом официально "
    "трудоустроены 98 тыс. граждан Казахстана.",
    "Больше всего из них, около 61 тыс. человек, работают в России.",
    "В ведомстве добавили, что переговоры с Южной Кореей о трудоустройстве казахстанцев "
    "возобновились.",
]
KK_TITLE = "Елімізге келген шетелдік мамандар саны белгілі болды"
KK_BODY = [
    "Еңбек министрлігінің мәліметінше, 2025 жылғы 1 қыркүйектегі жағдай бойынша Қазақстанда "
    "17 мыңнан астам шетелдік жұмысшы еңбек етеді.",
    "Олардың 6 мыңнан астамы құрылыс саласында жұмыс істейді.",
    "Биылғы жылы шетелдік жұмыс күшін тартуға арналған квота 29 мың адам болып бекітілді.",
]
ARTICLES = {
    "/news/ru-zarubezhom.html": (RU_TITLE, RU_BODY, "Fri, 05 Sep 2025 09:00:00 +0500"),
    "/news/kk-sheteldik-mamandar.html": (KK_TITLE, KK_BODY, "Sat, 06 Sep 2025 10:30:00 +0500"),
}
# what the two articles state, as (kind, metric or counterparty, dims key or status)
EXPECTED_CHANGES = {
    ("figure", "citizens_abroad", "{}"),
    ("figure", "citizens_abroad", '{"country":"RU"}'),
    ("figure", "foreign_workers", "{}"),
    ("figure", "foreign_workers", '{"sector":"construction"}'),
    ("figure", "foreign_labor_quota", "{}"),
    ("status", "KR", "resumed"),
}


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{title}</title>'
        f'</head><body><nav><a href="/">Басты бет</a></nav><article><h1>{title}</h1>{body}'
        "</article><footer>© Loopback news</footer></body></html>"
    ).encode()


def feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>{date}</pubDate><description>{paragraphs[0][:60]}…</description></item>"
        for path, (title, paragraphs, date) in ARTICLES.items()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Loopback news</title><link>{base}/</link><description>test</description>"
        f"{items}</channel></rss>"
    ).encode()


@dataclass
class Site:
    """A threaded loopback news site: a feed and its two article pages. `article_delay`
    makes each article page take that long, and `article_requested` is set when the first
    article request arrives."""

    base: str = ""
    article_delay: float = 0.0
    article_requested: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)


def serve_site(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/feed.xml":
                self.reply(feed(site.base), "application/rss+xml; charset=utf-8")
            elif self.path in ARTICLES:
                site.article_requested.set()
                time.sleep(site.article_delay)
                title, paragraphs, _ = ARTICLES[self.path]
                self.reply(page(title, paragraphs), "text/html; charset=utf-8")
            else:
                self.send_error(404)

        def reply(self, data: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site() -> Iterator[Site]:
    news = Site()
    server = serve_site(news)
    try:
        yield news
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the mail server


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with running_smtp() as server:
        yield server


# --------------------------------------------------------------------------- the daemon


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log_path: Path
    db: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=DEADLINE)


def write_setup(
    tmp: Path,
    site: Site,
    *,
    run: str,
    digest: str,
    smtp_port: int | None = None,
    site_outdir: str | None = None,
) -> tuple[Path, Path]:
    sources = tmp / "sources"
    sources.mkdir()
    (sources / "loopback.toml").write_text(
        f'name = "Loopback news"\nurl = "{site.base}/feed.xml"\nkind = "feed"\n'
        'every = "1m"\n[article]\nbody = "article"\n',
        encoding="utf-8",
    )
    config = [
        f'[schedule]\nrun = "{run}"\ndigest = "{digest}"\ntimezone = "Asia/Almaty"\n',
        "[fetch]\nrobots = false\nhost_delay = 0\nretries = 0\n",
        '[digest]\nlanguage = "kk"\n',
    ]
    if smtp_port is not None:
        config.append(
            f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\ntimeout = 10\n'
            'from = "Migration monitor <monitor@example.org>"\nto = ["desk@example.org"]\n'
        )
    if site_outdir is not None:
        config.append(f'[site]\noutdir = "{site_outdir}"\n')
    (tmp / "monitor.toml").write_text("".join(config), encoding="utf-8")
    return tmp / "monitor.toml", sources


def start_daemon(tmp: Path, config: Path, sources: Path) -> Daemon:
    db = tmp / "state" / "monitor.db"
    log_path = tmp / "daemon.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(config),
                "--db",
                str(db),
                "--sources",
                str(sources),
                "daemon",
            ],
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    return Daemon(proc, log_path, db)


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons a test started; any still running at the end is killed."""
    started: list[Daemon] = []
    yield started
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def wait_for(what: str, ready: Callable[[], bool], daemon_: Daemon) -> None:
    """Poll until `ready()`; fail with the daemon's log if it exits or the deadline passes."""
    deadline = time.monotonic() + DEADLINE
    while not ready():
        if daemon_.proc.poll() is not None:
            pytest.fail(
                f"the daemon exited ({daemon_.proc.returncode}) before {what}:\n{daemon_.log()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {DEADLINE} s:\n{daemon_.log()}")
        time.sleep(0.1)


def open_db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stored_changes(conn: sqlite3.Connection) -> set[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT kind, coalesce(metric, counterparty), "
        "CASE kind WHEN 'figure' THEN dims_key ELSE new_status END FROM changes"
    ).fetchall()
    return {tuple(r) for r in rows}


def assert_articles_whole(conn: sqlite3.Connection) -> None:
    """Both articles stored with their text, its hash and what was extracted from it."""
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    articles = conn.execute("SELECT id, url, title, text, content_hash FROM articles").fetchall()
    assert sorted(url.split("/news/")[1] for _, url, *_ in articles) == sorted(
        p.split("/news/")[1] for p in ARTICLES
    )
    for article_id, _url, title, text, content_hash in articles:
        assert title in (RU_TITLE, KK_TITLE)
        paragraphs = RU_BODY if title == RU_TITLE else KK_BODY
        assert all(p in text for p in paragraphs)
        assert content_hash == hashlib.sha256(text.encode()).hexdigest()
        figures = conn.execute(
            "SELECT count(*) FROM figures WHERE article_id = ?", [article_id]
        ).fetchone()[0]
        assert figures >= 2
    assert stored_changes(conn) == EXPECTED_CHANGES


# --------------------------------------------------------------------------- daemon tests


def test_daemon_runs_both_jobs_then_stops_cleanly_on_sigterm(
    tmp_path: Path, site: Site, smtp: Smtp, daemons: list[Daemon]
) -> None:
    inbox, port = smtp.inbox, smtp.port
    config, sources = write_setup(
        tmp_path,
        site,
        run="*/2 * * * * *",
        digest="*/3 * * * * *",
        smtp_port=port,
        site_outdir="public",
    )
    d = start_daemon(tmp_path, config, sources)
    daemons.append(d)

    wait_for("digest email", lambda: len(inbox.envelopes) >= 1, d)
    # a later digest finds nothing left to send: the changes went out once
    wait_for(
        "second digest",
        lambda: "digest: email: nothing to send" in d.log().split("digest: email: sent")[-1],
        d,
    )
    assert d.stop() == 0

    log = d.log()
    assert "run: started" in log
    assert "run: sources: 1 ok, 0 failed; new articles: 2" in log
    assert "digest: started" in log
    assert "digest: email: sent 6 changes to 1 recipient" in log
    assert "received SIGTERM" in log
    assert log.rstrip().endswith("daemon stopped")
    assert "Traceback" not in log
    # the site is written after the run that stored the articles, not after the empty ones
    assert log.count("run: started") >= 2
    assert log.count("site: wrote") == 1
    index = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "98" in index and (tmp_path / "public" / "feed.xml").is_file()

    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "трудоустроены 98 тыс. граждан" in text
    assert "17 мыңнан астам шетелдік жұмысшы" in text
    assert "Loopback news" in text or site.base.split("//")[1] in text

    with open_db(d.db) as conn:
        assert_articles_whole(conn)
        changes = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        per_change = conn.execute(
            "SELECT c.id, count(d.change_id) FROM changes c "
            "LEFT JOIN deliveries d ON d.change_id = c.id AND d.channel = 'email' GROUP BY c.id"
        ).fetchall()
    assert changes == len(EXPECTED_CHANGES)
    assert all(count == 1 for _, count in per_change)
    # each page was fetched once: a stored article is not fetched again by later runs
    for path in ARTICLES:
        assert site.requests.count(path) == 1
    with store.run_lock(d.db):  # the daemon let go of the run lock
        pass


def test_sigterm_during_a_run_lets_it_finish_its_write(
    tmp_path: Path, site: Site, daemons: list[Daemon]
) -> None:
    site.article_delay = 3.0
    config, sources = write_setup(tmp_path, site, run="*/2 * * * * *", digest="0 8 * * *")
    d = start_daemon(tmp_path, config, sources)
    daemons.append(d)

    wait_for("article request", site.article_requested.is_set, d)
    assert d.stop() == 0

    log = d.log()
    after_signal = log.split("received SIGTERM", 1)[1]
    # the run that was fetching when the signal came finished and stored its articles
    assert "run: sources: 1 ok, 0 failed; new articles: 2" in after_signal
    assert "run: started" not in after_signal  # and no new run began
    assert after_signal.rstrip().endswith("daemon stopped")
    with open_db(d.db) as conn:
        assert_articles_whole(conn)
        fetched = conn.execute(
            "SELECT name, last_success FROM sources WHERE name = 'Loopback news'"
        ).fetchall()
    assert len(fetched) == 1 and fetched[0][1]  # the run's last write, after the articles


def test_sigint_stops_an_idle_daemon(tmp_path: Path, site: Site, daemons: list[Daemon]) -> None:
    config, sources = write_setup(tmp_path, site, run="0 8 * * *", digest="0 9 * * *")
    d = start_daemon(tmp_path, config, sources)
    daemons.append(d)
    wait_for("start", lambda: "daemon started" in d.log(), d)
    assert d.stop(signal.SIGINT) == 0
    log = d.log()
    assert "run: next at" in log and "+05:00" in log  # 08:00 in Asia/Almaty
    assert "received SIGINT" in log
    assert "run: started" not in log
    assert site.requests == []


def test_bad_schedule_is_a_one_line_error_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text(
        '[schedule]\nrun = "*/30 * * * *"\ndigest = "0 8 * * 9"\n', encoding="utf-8"
    )
    (tmp_path / "sources").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", "monitor.toml", "daemon"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "monitor: error: monitor.toml: schedule.digest: '0 8 * * 9': "
        "unknown weekday '9' (expected 0-7 or sun..sat)"
    )
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- in process


def test_a_failing_job_is_logged_and_the_daemon_goes_on(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    calls = {"run": 0, "digest": 0}
    done = threading.Event()

    def broken(settings: Settings, paths: daemon.Paths) -> None:
        calls["run"] += 1
        raise RuntimeError("the run broke")

    def bad_config(settings: Settings, paths: daemon.Paths) -> None:
        calls["digest"] += 1
        if calls["digest"] >= 2 and calls["run"] >= 2:
            done.set()
        raise ConfigError("monitor.toml: email.port: expected a whole number")

    settings = Settings(schedule=Schedule(run="* * * * * *", digest="* * * * * *", timezone="UTC"))
    paths = daemon.Paths(db=tmp_path / "m.db", sources=tmp_path, rules=None)
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    thread = threading.Thread(
        target=daemon.serve,
        args=(settings, paths),
        kwargs={"stop": stop, "jobs": {"run": broken, "digest": bad_config}},
    )
    thread.start()
    try:
        assert done.wait(DEADLINE), caplog.text
    finally:
        stop.set()
        thread.join(DEADLINE)
    assert not thread.is_alive()
    failures = [r for r in caplog.records if r.getMessage().startswith("run failed")]
    assert len(failures) >= 2 and all(r.exc_info for r in failures)  # unknown: a traceback
    one_line = [r for r in caplog.records if r.getMessage().startswith("digest failed: ")]
    assert len(one_line) >= 2 and not any(r.exc_info for r in one_line)
    assert one_line[0].getMessage().endswith("email.port: expected a whole number")
    assert caplog.records[-1].getMessage() == "daemon stopped"


def test_jobs_take_turns_and_a_run_goes_before_a_digest_due_at_the_same_time(
    tmp_path: Path,
) -> None:
    """One worker: a digest never overlaps a run, and the 08:00 digest carries what the 08:00
    run found."""
    calls: list[str] = []
    running: list[str] = []
    overlaps: list[list[str]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def job(name: str) -> Callable[[Settings, daemon.Paths], None]:
        def work(settings: Settings, paths: daemon.Paths) -> None:
            with lock:
                if running:
                    overlaps.append([*running, name])
                running.append(name)
                calls.append(name)
            time.sleep(0.3)
            with lock:
                running.remove(name)
                if len(calls) >= 6:
                    enough.set()

        return work

    settings = Settings(schedule=Schedule(run="* * * * * *", digest="* * * * * *", timezone="UTC"))
    paths = daemon.Paths(db=tmp_path / "m.db", sources=tmp_path, rules=None)
    stop = threading.Event()
    thread = threading.Thread(
        target=daemon.serve,
        args=(settings, paths),
        kwargs={"stop": stop, "jobs": {"run": job("run"), "digest": job("digest")}},
    )
    thread.start()
    try:
        assert enough.wait(DEADLINE), calls
    finally:
        stop.set()
        thread.join(DEADLINE)
    assert overlaps == []
    assert calls[:2] == ["run", "digest"]
    assert running == []  # the job running at the stop finished before serve returned


# --------------------------------------------------------------------------- cron expressions


def fire_times(trigger: Any, start: datetime, count: int = 4) -> list[datetime]:
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return times


WEDNESDAY_NOON = datetime(2025, 10, 8, 12, 0, tzinfo=ALMATY)


def test_default_schedule_every_half_hour_and_digest_at_eight_in_almaty() -> None:
    triggers = daemon.schedule_triggers(Settings())
    runs = fire_times(triggers["run"], WEDNESDAY_NOON)
    assert [t.strftime("%H:%M") for t in runs] == ["12:00", "12:30", "13:00", "13:30"]
    digests = fire_times(triggers["digest"], WEDNESDAY_NOON, 2)
    assert [t.isoformat() for t in digests] == [
        "2025-10-09T08:00:00+05:00",
        "2025-10-10T08:00:00+05:00",
    ]


def test_six_fields_put_seconds_first() -> None:
    trigger = daemon.cron_trigger("*/2 * * * * *", "UTC", "run")
    times = fire_times(trigger, datetime(2025, 1, 1, 0, 0, 1, tzinfo=ZoneInfo("UTC")), 3)
    assert [t.second for t in times] == [2, 4, 6]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1", ["Mon"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("sun", ["Sun"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("1,3", ["Mon", "Wed"]),
        ("SAT,0", ["Sat", "Sun"]),
    ],
)
def test_weekdays_mean_what_they_mean_to_cron(field: str, days: list[str]) -> None:
    """APScheduler 3 counts weekdays from Monday = 0; cron from Sunday = 0."""
    trigger = daemon.cron_trigger(f"0 8 * * {field}", "Asia/Almaty", "digest")
    week = fire_times(trigger, WEDNESDAY_NOON, 8)
    assert sorted({t.strftime("%a") for t in week}) == sorted(days)
    assert all(t.strftime("%H:%M") == "08:00" for t in week)


def test_day_of_month_and_weekday_together_mean_either() -> None:
    """cron: '0 8 1 * 1' is the 1st of the month and every Monday, not only Monday the 1st."""
    trigger = daemon.cron_trigger("0 8 1 * 1", "Asia/Almaty", "digest")
    times = fire_times(trigger, WEDNESDAY_NOON, 5)
    assert [t.date().isoformat() for t in times] == [
        "2025-10-13",
        "2025-10-20",
        "2025-10-27",
        "2025-11-01",
        "2025-11-03",
    ]


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("* * * *", "expected 5 cron fields (minute hour day month weekday), or 6 with seconds"),
        ("", "expected 5 cron fields"),
        ("* * * * * * *", "got 7"),
        ("61 * * * *", "(61) is higher than the maximum value (59)"),
        ("0 24 * * *", "(24) is higher than the maximum value (23)"),
        ("0 8 * 13 *", "(13) is higher than the maximum value (12)"),
        ("0 8 * * 8", "unknown weekday '8'"),
        ("0 8 * * funday", "unknown weekday 'funday'"),
        ("0 8 * * 5-1", "weekday range '5-1' runs backwards"),
        ("0 8 * * */0", "bad step '0'"),
        ("0 0 30 2 *", "never happens"),
        ("every day", "got 2"),
    ],
)
def test_bad_cron_expression_names_the_key(expr: str, reason: str) -> None:
    with pytest.raises(ConfigError) as error:
        daemon.cron_trigger(expr, "Asia/Almaty", "digest", "monitor.toml: ")
    message = str(error.value)
    assert message.startswith(f"monitor.toml: schedule.digest: {expr!r}: ")
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize("zone", ["Asia", "Mars/Olympus", "", "../etc/passwd", "asia/almaty"])
def test_unknown_time_zone_names_the_key(zone: str) -> None:
    with pytest.raises(ConfigError) as error:
        daemon.cron_trigger("*/30 * * * *", zone, "run")
    assert str(error.value).startswith(f"schedule.timezone: unknown time zone {zone!r}")


def test_schedule_errors_name_the_config_file(tmp_path: Path) -> None:
    settings = Settings(path=tmp_path / "monitor.toml", schedule=Schedule(run="*/30 * * *"))
    with pytest.raises(ConfigError, match=r"monitor\.toml: schedule\.run: '\*/30 \* \* \*'"):
        daemon.schedule_triggers(settings)


# --------------------------------------------------------------------------- cron.example, deploy/

REPO = Path(__file__).resolve().parent.parent
REDIRECTION = re.compile(r"\s\d?>&\d|\s\d?(?:>>?|<)\s*[^\s;&|]+")


def monitor_commands(shell: str) -> list[list[str]]:
    """The `monitor` command lines in a shell line (`a || b; c >>log 2>&1`), as argv."""
    out = []
    for part in re.split(r";|&&|\|\|", REDIRECTION.sub("", shell)):
        argv = shlex.split(part)
        if argv and argv[0].endswith("/bin/monitor"):
            out.append(argv)
    return out


def parse_monitor(argv: list[str], where: str) -> argparse.Namespace:
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"{where}: the monitor CLI rejects {shlex.join(argv)}")


def cron_lines() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """cron.example's variables and its (schedule, command) entries."""
    variables, entries = {}, []
    for line in (REPO / "cron.example").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if match := re.fullmatch(r"([A-Z_]+)=(.*)", line.strip()):
            variables[match[1]] = match[2].strip('"')
            continue
        fields = line.split(None, 5)
        entries.append((" ".join(fields[:5]), fields[5]))
    return variables, entries


def test_cron_example_commands_parse_with_the_real_cli() -> None:
    variables, entries = cron_lines()
    assert variables["CRON_TZ"] == Schedule().timezone
    used: dict[str, list[str]] = {}
    for schedule, shell in entries:
        daemon.cron_trigger(schedule, variables["CRON_TZ"], f"cron.example {schedule!r}")
        assert shell.startswith("cd /srv/monitor || exit 1;")
        commands = monitor_commands(shell)
        assert commands, f"cron.example: no monitor command in {shell!r}"
        for argv in commands:
            assert argv[0] == ".venv/bin/monitor"  # the venv of the working directory
            args = parse_monitor(argv, "cron.example")
            used.setdefault(args.command, []).append(schedule)
            if args.command == "run":
                assert args.no_notify  # the digest goes out at 08:00, not after every run
            if args.command == "site":
                assert args.outdir.is_absolute()
    # the same times as the daemon's defaults
    assert used["run"] == [Schedule().run]
    assert used["digest"] == [Schedule().digest]
    assert used["site"] == used["run"]  # written after each run, on the same line


def test_cron_example_redirections_and_lists_are_understood() -> None:
    line = "cd /x || exit 1; .venv/bin/monitor --db a.db run --no-notify >>log 2>&1; true"
    assert monitor_commands(line) == [[".venv/bin/monitor", "--db", "a.db", "run", "--no-notify"]]


def unit_settings(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize(
    ("unit", "command"), [("monitor.service", "daemon"), ("monitor-site.service", "site")]
)
def test_systemd_units_run_the_real_cli_and_may_write_the_database(unit: str, command: str) -> None:
    values = unit_settings(REPO / "deploy" / unit)
    argv = shlex.split(values["ExecStart"][0])
    assert argv[0] == f"{values['WorkingDirectory'][0]}/.venv/bin/monitor"
    args = parse_monitor(argv, unit)
    assert args.command == command
    writable = " ".join(values["ReadWritePaths"]).split()
    # the database (default state/monitor.db), its WAL files and the run lock live in state/
    assert f"{values['WorkingDirectory'][0]}/{args.db.parent}" in writable
    assert values["ProtectSystem"] == ["strict"]
    assert values["NoNewPrivileges"] == ["yes"]
    assert values["User"] != ["root"]
    if command == "site":
        assert str(args.outdir.parent) in writable  # the site is swapped in beside OUTDIR


def test_daemon_unit_stops_with_sigterm_and_reads_secrets_from_a_file() -> None:
    values = unit_settings(REPO / "deploy" / "monitor.service")
    assert values["Type"] == ["simple"]
    assert values["KillSignal"] == ["SIGTERM"]
    assert values["Restart"] == ["on-failure"]
    assert values["TimeoutStopSec"]
    assert values["EnvironmentFile"] == ["/etc/monitor/secrets"]
    timer = unit_settings(REPO / "deploy" / "monitor-site.timer")
    assert timer["OnCalendar"] == ["*-*-* *:05,35:00"]
