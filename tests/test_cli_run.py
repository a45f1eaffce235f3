"""`monitor run`, `changes`, `history`, `sources list|check` and `reextract` as a user runs
them: source files in a folder, a config file, a real database, loopback news sites, and
the command started as a process (or through `monitor.cli.main`)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loopback import FAST_CONFIG, Site, listing, page, rss, write_source

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
