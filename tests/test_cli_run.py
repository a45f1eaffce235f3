"""`monitor run`, `changes`, `history`, `sources list|check` and `reextract` as a user runs
them: source files in a folder, a config file, a real database, loopback news sites, and
the command started as a process (or through `monitor.cli.main`)."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loopback import FAST_CONFIG, Site, listing, page, rss, write_source

from monitor import cli
from monitor.rules import default_rules_dir

ROOT = Path(__file__).resolve().parent.parent

RU_ABROAD = [
    "Министерство труда сообщило, что на 1 марта 2025 года за рубежом работали 121 тыс. "
    "граждан Казахстана.",
    "Из них 97 тыс. трудятся в России.",
]
KK_WORKERS = [
    "2025 жылғы 1 наурыздағы жағдай бойынша Қазақстанда жұмысқа рұқсат негізінде 15,2 мың "
    "шетел азаматы еңбек етуде.",
    "Олардың басым бөлігі құрылыс саласында жұмыс істейді.",
]
EN_QUOTA = [
    "The government set the quota for attracting foreign labour in 2025 at 29,750 people, "
    "the Ministry of Labour said.",
]
MARCH = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


@dataclass
class Setup:
    """A working folder as a user has it: sources/, monitor.toml, state/monitor.db."""

    root: Path
    site: Site

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def db(self) -> Path:
        return self.root / "state" / "monitor.db"

    def args(self, *command: str) -> list[str]:
        return [
            "--config",
            str(self.root / "monitor.toml"),
            "--db",
            str(self.db),
            "--sources",
            str(self.sources),
            *command,
        ]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with Site() as site:
        (tmp_path / "sources").mkdir()
        (tmp_path / "monitor.toml").write_text(FAST_CONFIG, encoding="utf-8")
        yield Setup(tmp_path, site)


def serve_story(setup: Setup) -> None:
    """A Russian feed with one article and a Kazakh listing with one, on the same site."""
    site = setup.site
    site.put("/ru/abroad", page("Казахстанцы за рубежом", RU_ABROAD, "2025-03-05"))
    site.put(
        "/ru/rss",
        rss(site.base, [("/ru/abroad", "Казахстанцы за рубежом", MARCH)]),
        content_type="application/rss+xml; charset=utf-8",
    )
    site.put("/kk/workers", page("Шетелдік жұмыс күші", KK_WORKERS, "2025-03-04"))
    site.put("/kk/news", listing([("/kk/workers", "Шетелдік жұмыс күші")]))
    write_source(setup.sources, "Feed RU", site.url("/ru/rss"), language="ru")
    write_source(setup.sources, "Listing KK", site.url("/kk/news"), "html", html_links="a.title")


def monitor(setup: Setup, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *setup.args(*command)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=setup.root,
    )


def run_on_a_terminal(setup: Setup, *command: str) -> tuple[int, str, str]:
    """Run the monitor with its stderr on a pseudo-terminal; (status, stdout, terminal)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", *setup.args(*command)],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=setup.root,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        out, _ = proc.communicate(timeout=120)
        status = proc.returncode
    finally:
        os.close(leader)
    return status, out.decode(), b"".join(chunks).decode("utf-8", "replace")


# -- monitor run: progress and summary ----------------------------------------------------


def test_run_prints_one_summary_line_and_no_progress_when_not_on_a_terminal(
    setup: Setup,
) -> None:
    serve_story(setup)
    proc = monitor(setup, "run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("sources: 2 ok, 0 failed; new articles: 2; figures: 3; changes: 3\n")
    assert proc.stderr == ""


def test_run_shows_progress_on_a_terminal_and_clears_it(setup: Setup) -> None:
    serve_story(setup)
    status, out, terminal = run_on_a_terminal(setup, "run")
    assert status == 0, terminal
    assert out == "sources: 2 ok, 0 failed; new articles: 2; figures: 3; changes: 3\n"
    assert "[1/2] " in terminal and "[2/2] " in terminal
    assert "Feed RU: ok" in terminal and "Listing KK: ok" in terminal
    assert terminal.endswith("\r\x1b[K")  # the progress line is cleared at the end


def test_run_with_an_unknown_source_is_a_one_line_error(setup: Setup) -> None:
    serve_story(setup)
    proc = monitor(setup, "run", "--source", "Nope")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"monitor: error: {setup.sources}: no source named 'Nope'\n"
    assert setup.site.log() == []


def test_run_source_fetches_only_that_source(setup: Setup) -> None:
    serve_story(setup)
    proc = monitor(setup, "run", "--source", "Listing KK")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sources: 1 ok, 0 failed; new articles: 1;")
    assert {h.path for h in setup.site.log()} == {"/kk/news", "/kk/workers"}


def broken_rules(folder: Path) -> Path:
    """A copy of the shipped rules whose quota maximum is not a number."""
    shutil.copytree(default_rules_dir(), folder)
    metrics = folder / "metrics.toml"
    head, sep, tail = metrics.read_text(encoding="utf-8").partition("[foreign_labor_quota]\n")
    assert sep and "max_value = 1000000\n" in tail
    tail = tail.replace("max_value = 1000000\n", 'max_value = "many"\n', 1)
    metrics.write_text(head + sep + tail, encoding="utf-8")
    return folder


def test_run_reads_the_rules_only_when_an_article_is_new(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose feeds all answer 304 compiles no rules, so broken rules go unnoticed
    until an article is to be read: then the run stops with one line naming the file and
    key, stores nothing, and the run after the fix reads the article."""
    serve_story(setup)
    at(monkeypatch, MARCH)
    assert main(setup, "run") == 0
    capsys.readouterr()
    rules = broken_rules(setup.root / "rules")
    at(monkeypatch, datetime(2025, 3, 5, 10, 0, tzinfo=UTC))
    assert main(setup, "--rules", str(rules), "run") == 0
    assert lines(capsys)[0] == ["sources: 2 ok, 0 failed; new articles: 0; figures: 0; changes: 0"]
    assert setup.site.log()[-1].status == 304

    site = setup.site
    site.put("/en/quota", page("Quota", EN_QUOTA, "2025-03-06"))
    items = [
        ("/en/quota", "Quota", datetime(2025, 3, 6, 9, 0, tzinfo=UTC)),
        ("/ru/abroad", "Казахстанцы за рубежом", MARCH),
    ]
    site.put("/ru/rss", rss(site.base, items), content_type="application/rss+xml")
    at(monkeypatch, datetime(2025, 3, 6, 10, 0, tzinfo=UTC))
    assert main(setup, "--rules", str(rules), "run") == 2
    out, err = lines(capsys)
    assert out == []
    assert err == ["monitor: error: metrics.toml: foreign_labor_quota.max_value: expected a number"]
    assert stored_articles(setup) == ["/kk/workers", "/ru/abroad"]

    at(monkeypatch, datetime(2025, 3, 6, 11, 0, tzinfo=UTC))
    assert main(setup, "run") == 0
    assert lines(capsys)[0][0].startswith("sources: 2 ok, 0 failed; new articles: 1;")
    assert stored_articles(setup) == ["/en/quota", "/kk/workers", "/ru/abroad"]


def test_run_with_a_missing_rules_folder_fails_before_fetching(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_story(setup)
    missing = setup.root / "no-rules"
    assert main(setup, "--rules", str(missing), "run") == 2
    assert lines(capsys) == ([], [f"monitor: error: {missing}: no such rules folder"])
    assert setup.site.log() == []


def test_run_reports_failed_sources_on_stderr_naming_the_url(setup: Setup) -> None:
    serve_story(setup)
    write_source(setup.sources, "Gone", setup.site.url("/gone.xml"))
    proc = monitor(setup, "run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sources: 2 ok, 1 failed; new articles: 2;")
    assert proc.stderr == f"  Gone: {setup.site.url('/gone.xml')}: HTTP 404\n"


def _changes(setup: Setup) -> list[dict[str, object]]:
    proc = monitor(setup, "changes", "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


# -- a run killed hard, and a second run while one is running -------------------------------

KK_VIOLATIONS = [
    "2025 жылдың қаңтар-ақпан айларында көші-қон заңнамасын бұзудың 2 340 дерегі анықталды.",
    "Құқық бұзушылардың көбі тіркеу мерзімін өткізіп алған.",
]
RU_QUOTA = [
    "Ведомство напомнило, что квота на привлечение иностранной рабочей силы на 2025 год "
    "составляет 29 750 человек.",
]
RU_WORKERS = [
    "По данным ведомства, на 1 марта 2025 года в Казахстане по разрешениям на работу "
    "трудились 14,8 тыс. иностранных граждан.",
]
RU_APRIL = [
    "На 1 апреля 2025 года за рубежом работали 124 тыс. граждан Казахстана, сообщили в "
    "министерстве.",
]
KK_APRIL = [
    "Еңбек министрлігінің мәліметінше, 2025 жылғы 1 сәуірдегі жағдай бойынша шетелде 124 мың "
    "қазақстандық жұмыс істейді.",
    "Оңтүстік Кореямен еңбек көші-қоны жөніндегі келіссөздер уақытша тоқтатылды.",
]

# path -> (title, paragraphs, published)
FEED_STEPS = [
    {
        "/ru/abroad": ("Казахстанцы за рубежом", RU_ABROAD, "2025-03-05"),
        "/ru/quota": ("Квота на 2025 год", RU_QUOTA, "2025-03-04"),
        "/ru/workers": ("Иностранная рабочая сила", RU_WORKERS, "2025-03-03"),
    },
    {"/ru/april": ("Данные на 1 апреля", RU_APRIL, "2025-04-02")},
]
LISTING_STEPS = [
    {"/kk/violations": ("Көші-қон бұзушылықтары", KK_VIOLATIONS, "2025-03-04")},
    {"/kk/april": ("Шетелдегі қазақстандықтар", KK_APRIL, "2025-04-03")},
]


def serve_steps(setup: Setup, upto: int, delay: float) -> list[str]:
    """The feed and the listing as they stand after step `upto` (0-based), every article
    page answering after `delay` seconds; returns the article paths."""
    site = setup.site
    feed: list[tuple[str, str, datetime]] = []
    links: list[tuple[str, str]] = []
    for n in range(upto + 1):
        for steps in (FEED_STEPS, LISTING_STEPS):
            for path, (title, paragraphs, published) in steps[n].items():
                site.put(path, page(title, paragraphs, published), delay=delay)
                if steps is FEED_STEPS:
                    when = datetime.fromisoformat(published).replace(hour=9, tzinfo=UTC)
                    feed.insert(0, (path, title, when))  # newest first, as feeds are
                else:
                    links.insert(0, (path, title))
    site.put("/ru/rss", rss(site.base, feed), content_type="application/rss+xml; charset=utf-8")
    site.put("/kk/news", listing(links))
    write_source(setup.sources, "Feed RU", site.url("/ru/rss"), language="ru")
    write_source(setup.sources, "Listing KK", site.url("/kk/news"), "html", html_links="a.title")
    return [p for steps in (FEED_STEPS, LISTING_STEPS) for s in steps[: upto + 1] for p in s]


def start(setup: Setup, *command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", *setup.args(*command)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=setup.root,
    )


def wait_until(predicate: Callable[[], bool], what: str, limit: float = 60) -> None:
    """Poll until `predicate()` holds (not a timing assertion: `limit` only stops a hang)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def kill_mid_cycle(setup: Setup, paths: list[str], *command: str) -> None:
    """Start `monitor run`, SIGKILL it once it is fetching some of `paths`."""
    before = {p: setup.site.count(p) for p in paths}
    proc = start(setup, "run", *command)
    try:
        wait_until(
            lambda: sum(setup.site.count(p) - before[p] for p in paths) >= 2,
            "the run to fetch articles",
        )
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def stored_figures(setup: Setup) -> Counter[tuple[str, str, str, float]]:
    with closing(sqlite3.connect(setup.db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            "SELECT a.url, f.metric, f.dims_key, f.value FROM figures f "
            "JOIN articles a ON a.id = f.article_id"
        ).fetchall()
    return Counter((url.removeprefix(setup.site.base), m, d, v) for url, m, d, v in rows)


def stored_articles(setup: Setup) -> list[str]:
    with closing(sqlite3.connect(setup.db)) as conn:
        rows = conn.execute("SELECT url FROM articles ORDER BY url").fetchall()
    return [url.removeprefix(setup.site.base) for (url,) in rows]


def change_keys(changes: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        (c.get("metric") or c.get("counterparty"), json.dumps(c.get("dims")), c["old"], c["new"])
        for c in changes
    ]


def test_run_killed_mid_cycle_then_rerun_loses_and_repeats_nothing(setup: Setup) -> None:
    paths = serve_steps(setup, 0, delay=0.5)
    kill_mid_cycle(setup, paths)
    assert not setup.db.exists() or stored_articles(setup) == []
    done = monitor(setup, "run")
    assert done.returncode == 0, done.stderr
    assert stored_articles(setup) == sorted(paths)

    paths = serve_steps(setup, 1, delay=0.5)
    kill_mid_cycle(setup, paths, "--all")
    done = monitor(setup, "run", "--all")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sources: 2 ok, 0 failed; new articles: 2;")
    assert stored_articles(setup) == sorted(paths)
    assert stored_figures(setup) == Counter(
        [
            ("/ru/abroad", "citizens_abroad", "{}", 121000.0),
            ("/ru/abroad", "citizens_abroad", '{"country":"RU"}', 97000.0),
            ("/ru/quota", "foreign_labor_quota", "{}", 29750.0),
            ("/ru/workers", "foreign_workers", "{}", 14800.0),
            ("/kk/violations", "migration_violations", "{}", 2340.0),
            ("/ru/april", "citizens_abroad", "{}", 124000.0),
            ("/kk/april", "citizens_abroad", "{}", 124000.0),
        ]
    )
    changes = _changes(setup)
    assert change_keys(changes) == [
        ("foreign_workers", "{}", None, 14800),
        ("migration_violations", "{}", None, 2340),
        ("foreign_labor_quota", "{}", None, 29750),
        ("citizens_abroad", "{}", None, 121000),
        ("citizens_abroad", '{"country": "RU"}', None, 97000),
        ("citizens_abroad", "{}", 121000, 124000),
        ("KR", "null", None, "paused"),
    ]
    april = changes[5]
    assert april["sources"] == [setup.site.url("/ru/april"), setup.site.url("/kk/april")]
    again = monitor(setup, "run", "--all")
    assert again.stdout.startswith("sources: 2 ok, 0 failed; new articles: 0;")
    assert _changes(setup) == changes


def test_second_run_while_one_is_running_exits_at_once_with_a_clear_message(
    setup: Setup,
) -> None:
    paths = serve_steps(setup, 0, delay=1.0)
    first = start(setup, "run")
    try:
        wait_until(lambda: any(setup.site.count(p) for p in paths), "the first run to fetch")
        second = monitor(setup, "run")
        assert first.poll() is None  # the first is still at work
        assert second.returncode == 2
        pid = first.pid
        assert second.stderr == (
            f"monitor: error: {setup.db}: another `monitor run` is running (pid {pid})\n"
        )
        assert second.stdout == ""
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert out.startswith("sources: 2 ok, 0 failed; new articles: 4;")
    assert all(setup.site.count(p) == 1 for p in paths)


# -- changes, history, sources, reextract through monitor.cli.main -------------------------

EN_QUOTA_2026 = [
    "The government set the quota for attracting foreign labour in 2026 at 31,200 people, "
    "the Ministry of Labour said.",
]


def main(setup: Setup, *command: str) -> int:
    return cli.main(setup.args(*command))


def at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """The monitor's clock (detected_at, last fetch) reads `when`."""
    monkeypatch.setattr(cli, "_now", lambda: when)


def lines(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], list[str]]:
    out, err = capsys.readouterr()
    return out.splitlines(), err.splitlines()


def two_runs(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """March: the story of serve_story; April: the English feed adds the 2026 quota and a
    new total abroad."""
    serve_story(setup)
    at(monkeypatch, datetime(2025, 3, 6, 7, 0, tzinfo=UTC))
    assert main(setup, "run") == 0
    site = setup.site
    site.put("/ru/april", page("Данные на 1 апреля", RU_APRIL, "2025-04-02"))
    site.put("/en/quota", page("Quota for 2026", EN_QUOTA_2026, "2025-04-02"))
    items = [
        ("/en/quota", "Quota for 2026", datetime(2025, 4, 2, 12, 0, tzinfo=UTC)),
        ("/ru/april", "Данные на 1 апреля", datetime(2025, 4, 2, 9, 0, tzinfo=UTC)),
        ("/ru/abroad", "Казахстанцы за рубежом", MARCH),
    ]
    site.put("/ru/rss", rss(site.base, items), content_type="application/rss+xml")
    at(monkeypatch, datetime(2025, 4, 3, 7, 0, tzinfo=UTC))
    assert main(setup, "run") == 0


def test_changes_as_text_as_json_and_since_a_date(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    two_runs(setup, monkeypatch)
    capsys.readouterr()
    assert main(setup, "changes", "--json") == 0
    out, err = lines(capsys)
    changes = [json.loads(line) for line in out]
    assert err == []
    assert [(c["metric"], c["dims"], c["old"], c["new"], c["detected_at"]) for c in changes] == [
        ("foreign_workers", {}, None, 15200, "2025-03-06T07:00:00+00:00"),
        ("citizens_abroad", {}, None, 121000, "2025-03-06T07:00:00+00:00"),
        ("citizens_abroad", {"country": "RU"}, None, 97000, "2025-03-06T07:00:00+00:00"),
        ("foreign_labor_quota", {}, None, 31200, "2025-04-03T07:00:00+00:00"),
        ("citizens_abroad", {}, 121000, 124000, "2025-04-03T07:00:00+00:00"),
    ]
    assert changes[4]["sources"] == [setup.site.url("/ru/april")]
    assert changes[4]["as_of"] == "2025-04-01"

    assert main(setup, "changes", "--json", "--since", "2025-04-01") == 0
    out, _ = lines(capsys)
    assert [json.loads(line)["new"] for line in out] == [31200, 124000]

    assert main(setup, "changes", "--since", "2025-04-01") == 0
    out, _ = lines(capsys)
    assert out == [
        "2025-04-03T07:00  foreign_labor_quota: first seen -> 31 200 (as of 2026)",
        f"    {setup.site.url('/en/quota')}",
        "2025-04-03T07:00  citizens_abroad: 121 000 -> 124 000 (as of 2025-04-01)",
        f"    {setup.site.url('/ru/april')}",
    ]
    assert main(setup, "changes", "--since", "2025-05-01") == 0
    assert lines(capsys)[0] == ["no changes recorded"]
    assert main(setup, "changes", "--json", "--since", "2025-05-01") == 0
    assert lines(capsys)[0] == []


def test_changes_into_a_pipe_whose_reader_has_left_ends_quietly(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_runs(setup, monkeypatch)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", *setup.args("changes", "--json")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=setup.root,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_digest_dry_run_without_channels_prints_the_digest_and_marks_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    two_runs(setup, monkeypatch)
    capsys.readouterr()
    assert main(setup, "digest", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert out.startswith("Subject: ")
    assert "124" in out and "121" in out  # the April change of the total abroad
    assert "no channels configured" in err
    assert main(setup, "digest", "--dry-run") == 0
    assert capsys.readouterr().out == out  # nothing was marked as sent


def test_changes_with_a_bad_since_is_rejected_naming_the_option(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(setup, "changes", "--since", "last week")
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        "monitor changes: error: argument --since: not a date (YYYY-MM-DD): 'last week'"
    )
    assert not setup.db.exists()


def test_history_of_one_series_as_json_and_text(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    two_runs(setup, monkeypatch)
    capsys.readouterr()
    assert main(setup, "history", "citizens_abroad", "--json") == 0
    out, _ = lines(capsys)
    rows = [json.loads(line) for line in out]
    assert [(r["as_of"], r["value"], r["dims"], r["unit"]) for r in rows] == [
        ("2025-03-01", 121000, {}, "persons"),
        ("2025-04-01", 124000, {}, "persons"),
    ]
    assert rows[0]["evidence"] == RU_ABROAD[0]
    assert [s["url"] for s in rows[1]["sources"]] == [setup.site.url("/ru/april")]

    assert main(setup, "history", "citizens_abroad", "--dims", "country=RU", "--json") == 0
    out, _ = lines(capsys)
    assert [(json.loads(x)["value"], json.loads(x)["dims"]) for x in out] == [
        (97000, {"country": "RU"})
    ]

    assert main(setup, "history", "citizens_abroad", "--dims", "country=KR") == 0
    assert lines(capsys)[0] == ["no history for this series"]

    assert main(setup, "history", "foreign_labor_quota") == 0
    out, _ = lines(capsys)
    assert out == ["2026  31 200 persons", f"    {setup.site.url('/en/quota')}"]

    assert main(setup, "history", "--json") == 0  # no metric: every series, its latest
    out, _ = lines(capsys)
    series = [json.loads(line) for line in out]
    assert [(s["metric"], s["dims"], s["value"]) for s in series] == [
        ("citizens_abroad", {}, 124000),
        ("citizens_abroad", {"country": "RU"}, 97000),
        ("foreign_labor_quota", {}, 31200),
        ("foreign_workers", {}, 15200),
    ]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["history", "citizens_abroard"],
            "unknown metric 'citizens_abroard' (did you mean citizens_abroad? one of: "
            "citizens_abroad, deportations, foreign_labor_quota, ",
        ),
        (["history", "citizens_abroad", "--dims", "country"], "--dims: expected key=value, "),
        (["history", "citizens_abroad", "--dims", "=RU"], "--dims: expected key=value, got '=RU'"),
        (
            ["history", "citizens_abroad", "--dims", "land=RU"],
            "--dims: citizens_abroad has no dim 'land' (its dims: country, legal)",
        ),
        (
            ["history", "foreign_labor_quota", "--dims", "country=RU"],
            "--dims: foreign_labor_quota has no dim 'country' (it has no dims)",
        ),
    ],
)
def test_history_with_bad_input_is_a_one_line_error(
    setup: Setup, capsys: pytest.CaptureFixture[str], command: list[str], message: str
) -> None:
    assert main(setup, *command) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"monitor: error: {message}") and err.count("\n") == 1
    assert not setup.db.exists()


def test_sources_list_shows_health_before_and_after_runs(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_story(setup)
    write_source(setup.sources, "Gone", setup.site.url("/gone.xml"), language="en")
    assert main(setup, "sources", "list") == 0
    out, _ = lines(capsys)
    assert out[0].split() == [
        "source", "kind", "lang", "last", "fetch", "status", "fails", "items", "newest"
    ]  # fmt: skip
    assert [row.split() for row in out[1:]] == [
        ["Feed", "RU", "feed", "ru", "never", "-", "0", "0", "-"],
        ["Gone", "feed", "en", "never", "-", "0", "0", "-"],
        ["Listing", "KK", "html", "-", "never", "-", "0", "0", "-"],
    ]
    at(monkeypatch, datetime(2025, 3, 6, 7, 0, tzinfo=UTC))
    assert main(setup, "run") == 0
    site = setup.site
    site.put("/ru/april", page("Данные на 1 апреля", RU_APRIL, "2025-04-02"), first=[404] * 3)
    when = datetime(2025, 4, 2, 9, 0, tzinfo=UTC)
    items = [("/ru/april", "Данные", when), ("/ru/abroad", "Казахстанцы за рубежом", MARCH)]
    site.put("/ru/rss", rss(site.base, items), content_type="application/rss+xml")
    at(monkeypatch, datetime(2025, 4, 3, 7, 0, tzinfo=UTC))
    assert main(setup, "run") == 0
    capsys.readouterr()
    assert main(setup, "sources", "list") == 0
    out, _ = lines(capsys)
    assert [row.split() for row in out[1:]] == [
        ["Feed", "RU", "feed", "ru", "2025-04-03T07:00", "partial", "0", "1", "2025-03-05"],
        ["Gone", "feed", "en", "2025-04-03T07:00", "failing", "2", "0", "-"],
        ["Listing", "KK", "html", "-", "2025-04-03T07:00", "ok", "0", "1", "2025-03-04"],
    ]
    # the 404 page, after the runs that may wait for it, is given up and listed
    for day in (4, 5):
        at(monkeypatch, datetime(2025, 4, day, 7, 0, tzinfo=UTC))
        assert main(setup, "run") == 0
    capsys.readouterr()
    assert main(setup, "sources", "list") == 0
    out, _ = lines(capsys)
    assert out[-2:] == [
        "articles given up (asked again only when their feed entry changes):",
        f"  Feed RU: {site.url('/ru/april')}: HTTP 404 (3 runs, last 2025-04-05T07:00)",
    ]


def test_sources_check_fetches_each_once_and_stores_nothing(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_story(setup)
    write_source(setup.sources, "Gone", setup.site.url("/gone.xml"))
    assert main(setup, "sources", "check") == 1
    out, err = lines(capsys)
    assert out == [
        "Feed RU: ok, 1 items",
        f"    2025-03-05 {setup.site.url('/ru/abroad')}",
        f"Gone: FAILED: {setup.site.url('/gone.xml')}: HTTP 404",
        "Listing KK: ok, 1 items",
        f"               {setup.site.url('/kk/workers')}",
        "sources: 2 ok, 1 failed",
    ]
    assert err == []
    assert sorted(h.path for h in setup.site.log()) == ["/gone.xml", "/kk/news", "/ru/rss"]
    assert not setup.db.exists()


def test_a_broken_source_file_is_one_line_naming_file_and_key_and_the_others_run(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_story(setup)
    typo = setup.sources / "typo.toml"
    typo.write_text(
        f'name = "Typo"\nurl = "{setup.site.url("/x")}"\nkind = "feed"\nevry = "1h"\n',
        encoding="utf-8",
    )
    broken = setup.sources / "broken.toml"
    broken.write_text('name = "Broken\nurl = \n', encoding="utf-8")
    wrong = setup.sources / "wrong-kind.toml"
    wrong.write_text(
        f'name = "Wrong"\nurl = "{setup.site.url("/y")}"\nkind = "atom"\n', encoding="utf-8"
    )
    assert main(setup, "run") == 1
    out, err = lines(capsys)
    assert out == ["sources: 2 ok, 0 failed; new articles: 2; figures: 3; changes: 3"]
    assert len(err) == 3
    assert err[0].startswith(f"monitor: error: {broken}: invalid TOML: ")
    assert err[1].startswith(f"monitor: error: {typo}: evry: unknown key (did you mean every?)")
    assert err[2] == (f"monitor: error: {wrong}: kind: 'atom' is not one of 'feed', 'html'")
    assert {h.path for h in setup.site.log()} == {
        "/ru/rss",
        "/ru/abroad",
        "/kk/news",
        "/kk/workers",
    }


def test_reextract_rebuilds_history_and_marks_what_it_finds(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Rules that could not read the quota (its maximum set too low) run first; the shipped
    rules then find it in the stored text, without fetching, marked as found by
    re-extraction."""
    old_rules = tmp_path / "old-rules"
    shutil.copytree(default_rules_dir(), old_rules)
    metrics = old_rules / "metrics.toml"
    text = metrics.read_text(encoding="utf-8")
    head, sep, tail = text.partition("[foreign_labor_quota]\n")
    assert sep and "max_value = 1000000\n" in tail
    metrics.write_text(head + sep + tail.replace("max_value = 1000000\n", "max_value = 1000\n", 1))
    serve_story(setup)
    site = setup.site
    site.put("/en/quota", page("Quota for 2026", EN_QUOTA_2026, "2025-03-06"))
    items = [
        ("/en/quota", "Quota for 2026", datetime(2025, 3, 6, 9, 0, tzinfo=UTC)),
        ("/ru/abroad", "Казахстанцы за рубежом", MARCH),
    ]
    site.put("/ru/rss", rss(site.base, items), content_type="application/rss+xml")
    at(monkeypatch, datetime(2025, 3, 7, 7, 0, tzinfo=UTC))
    assert cli.main(["--rules", str(old_rules), *setup.args("run")]) == 0
    capsys.readouterr()
    fetched = len(site.log())

    at(monkeypatch, datetime(2025, 3, 8, 7, 0, tzinfo=UTC))
    assert main(setup, "reextract") == 0
    out, _ = lines(capsys)
    assert out == [
        "re-extracted 3 articles: 4 figures, 0 statuses, 1 new changes "
        "(marked as found by re-extraction)"
    ]
    assert len(site.log()) == fetched  # nothing fetched
    assert main(setup, "changes", "--json") == 0
    changes = [json.loads(line) for line in lines(capsys)[0]]
    assert [(c["metric"], c["new"], c["found_by"], c["detected_at"][:10]) for c in changes] == [
        ("foreign_workers", 15200, "run", "2025-03-07"),
        ("citizens_abroad", 121000, "run", "2025-03-07"),
        ("citizens_abroad", 97000, "run", "2025-03-07"),
        ("foreign_labor_quota", 31200, "reextract", "2025-03-08"),
    ]
    assert changes[3]["sources"] == [site.url("/en/quota")]

    assert main(setup, "reextract") == 0  # the same rules again find nothing new
    assert lines(capsys)[0] == [
        "re-extracted 3 articles: 4 figures, 0 statuses, 0 new changes "
        "(marked as found by re-extraction)"
    ]
    assert main(setup, "changes", "--json") == 0
    assert [json.loads(line) for line in lines(capsys)[0]] == changes
