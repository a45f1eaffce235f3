"""`monitor extract` and `monitor rules check` as a user runs them: real files, real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.rules import default_rules_dir

SAMPLE = Path(__file__).resolve().parent.parent / "monitor" / "samples" / "lada-2025-10-09-ru.txt"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_without_site_packages(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -S -m monitor ...` from the checkout: the standard library only, as on a machine
    where the project's dependencies are not installed."""
    return subprocess.run(
        [sys.executable, "-S", "-m", "monitor", *args],
        cwd=SAMPLE.parent.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_extract_reads_plain_text_with_the_standard_library_alone(tmp_path: Path) -> None:
    proc = _run_without_site_packages("extract", str(SAMPLE), "--json", "--published", "2025-10-09")
    assert proc.returncode == 0, proc.stderr
    got = {
        (i["metric"], i["value"])
        for i in map(json.loads, proc.stdout.splitlines())
        if "metric" in i
    }
    assert ("citizens_abroad", 128000) in got
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>126 000 citizens work abroad.</p></body></html>")
    proc = _run_without_site_packages("extract", str(page))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "'selectolax' is not installed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_extract_json_lines_follow_the_spec() -> None:
    proc = run("extract", str(SAMPLE), "--json", "--published", "2025-10-09")
    assert proc.returncode == 0, proc.stderr
    items = [json.loads(line) for line in proc.stdout.splitlines()]
    figures = [i for i in items if i["kind"] == "figure"]
    keys = {"kind", "metric", "dims", "value", "unit", "bound", "as_of", "lang", "evidence"}
    assert all(keys <= set(f) for f in figures)
    got = {(f["metric"], tuple(sorted(f["dims"].items())), f["value"]) for f in figures}
    assert ("citizens_abroad", (), 128000) in got
    assert ("citizens_abroad", (("country", "RU"),), 104000) in got
    assert ("citizens_abroad", (("country", "EU+GB"),), 2500) in got
    total = next(f for f in figures if f["value"] == 128000)
    assert total["as_of"] == "2025-10-01" and total["lang"] == "ru"
    assert "128 тыс." in total["evidence"]
    current = [i for i in items if i["kind"] == "status" and i["current"]]
    assert [(s["counterparty"], s["status"]) for s in current] == [("KR", "draft_submitted")]


def test_extract_reads_standard_input_and_prints_a_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = run("extract", "-", stdin="Шетелде 126 мың қазақстандық жұмыс істейді.".encode())
    assert proc.returncode == 0, proc.stderr
    assert "citizens_abroad" in proc.stdout and "126 000" in proc.stdout
    assert "language: kk" in proc.stdout


def test_empty_file_is_a_clean_empty_result(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    proc = run("extract", str(empty), "--json")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_binary_file_is_a_one_line_error(tmp_path: Path) -> None:
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    proc = run("extract", str(binary))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "photo.png" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_is_a_one_line_error() -> None:
    proc = run("extract", "/nonexistent/article.html")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "monitor: error: /nonexistent/article.html: no such file"


def test_huge_html_is_handled(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    filler = "<div class='x'><p>Lorem ipsum dolor sit amet, 2024 год, 55%.</p></div>\n" * 300_000
    page.write_text(
        "<html><head><meta charset='utf-8'></head><body><article><h1>Мигранты</h1>"
        "<p>За рубежом работают 126 тыс. казахстанцев.</p></article>" + filler + "</body></html>",
        encoding="utf-8",
    )
    assert page.stat().st_size > 20_000_000
    proc = run("extract", str(page), "--json")
    assert proc.returncode == 0, proc.stderr
    values = [json.loads(line)["value"] for line in proc.stdout.splitlines()]
    assert values == [126000]


def test_broken_markup_and_windows_1251(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    html = (
        "<html><head><meta charset='windows-1251'><title>Мигранты</title></head><body>"
        "<div><p>Всего за границей работают 126 тыс. казахстанцев.<p>Из них 102 тыс. "
        "трудятся в России.</span></table><p>15 тыс. &#1085;&#1072;&#1093;&#1086;&#1076;"
        "&#1103;&#1090;&#1089;&#1103; в Южной Корее.</div></body>"
    )
    page.write_bytes(html.encode("windows-1251"))
    proc = run("extract", str(page), "--json")
    assert proc.returncode == 0, proc.stderr
    got = {
        (tuple(sorted(o["dims"].items())), o["value"])
        for o in map(json.loads, proc.stdout.splitlines())
    }
    assert got == {((), 126000), ((("country", "RU"),), 102000), ((("country", "KR"),), 15000)}


def test_unknown_encoding_label_falls_back(tmp_path: Path) -> None:
    page = tmp_path / "odd.html"
    page.write_bytes(
        "<html><head><meta charset='x-unknown-42'></head><body><p>Шетелде 126 мың "
        "қазақстандық жұмыс істейді.</p></body></html>".encode()
    )
    proc = run("extract", str(page), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["value"] for line in proc.stdout.splitlines()] == [126000]


def test_bad_published_date_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["extract", str(SAMPLE), "--published", "9 Oct"])
    assert exc.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_rules_check_passes_on_the_shipped_rules() -> None:
    proc = run("rules", "check")
    assert proc.returncode == 0, proc.stderr
    assert "ok:" in proc.stdout


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def test_rules_check_names_the_file_and_key_of_a_broken_pattern(rules_copy: Path) -> None:
    cues = rules_copy / "cues.toml"
    text = cues.read_text(encoding="utf-8")
    cues.write_text(
        text.replace("'abroad', 'overseas'", "'abroad(', 'overseas'", 1), encoding="utf-8"
    )
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "cues.toml: abroad.en[0]: bad pattern 'abroad('" in proc.stderr
    proc = run("--rules", str(rules_copy), "extract", str(SAMPLE))
    assert proc.returncode == 2 and "cues.toml: abroad.en[0]" in proc.stderr


def test_rules_check_reports_unknown_keys_and_bad_toml(rules_copy: Path) -> None:
    metrics = rules_copy / "metrics.toml"
    metrics.write_text(
        metrics.read_text(encoding="utf-8").replace('unit = "cases"', 'unit = "cases"\nunits = 1'),
        encoding="utf-8",
    )
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2
    assert "metrics.toml: migration_violations.units: unknown key" in proc.stderr
    (rules_copy / "metrics.toml").write_text("[broken", encoding="utf-8")
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2 and "metrics.toml: -: not valid TOML" in proc.stderr


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        (
            'veto_unless = { students = ["wroking"], not_work = ["work_visa", "working"] }',
            "citizens_abroad.veto_unless.students: unknown cue group 'wroking'",
        ),
        (
            'veto_unless = { tourists = ["working"], not_work = ["work_visa", "working"] }',
            "citizens_abroad.veto_unless.tourists: not one of its vetoes",
        ),
    ],
)
def test_rules_check_names_a_bad_veto_exception(
    rules_copy: Path, replacement: str, message: str
) -> None:
    metrics = rules_copy / "metrics.toml"
    text = metrics.read_text(encoding="utf-8")
    original = 'veto_unless = { students = ["working"], not_work = ["work_visa", "working"] }'
    assert original in text
    metrics.write_text(text.replace(original, replacement), encoding="utf-8")
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"metrics.toml: {message}" in proc.stderr


def test_rules_check_names_a_flag_that_is_not_boolean_and_a_bad_locative_key(
    rules_copy: Path,
) -> None:
    metrics = rules_copy / "metrics.toml"
    text = metrics.read_text(encoding="utf-8")
    metrics.write_text(
        text.replace("counted_in_kazakhstan = true", "counted_in_kazakhstan = 1", 1),
        encoding="utf-8",
    )
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2
    assert "metrics.toml: deportations.counted_in_kazakhstan: expected true or false" in (
        proc.stderr
    )
    metrics.write_text(text, encoding="utf-8")
    cues = rules_copy / "cues.toml"
    cues.write_text(
        cues.read_text(encoding="utf-8").replace(
            "[locative]\nen_before = ", "[locative]\nen_befor = ", 1
        ),
        encoding="utf-8",
    )
    proc = run("--rules", str(rules_copy), "rules", "check")
    assert proc.returncode == 2 and "cues.toml: locative.en_befor: unknown key" in proc.stderr


def test_installed_package_ships_its_rules(tmp_path: Path) -> None:
    """Build the wheel, unpack it elsewhere and load the default rules from there."""
    root = Path(__file__).resolve().parent.parent
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)
    assert "monitor/rules/metrics.toml" in names
    assert "monitor/rules/vocab/country.toml" in names
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import monitor, monitor.rules as r; print(monitor.__file__, r.load_rules().path)",
        ],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    module_file, rules_path = proc.stdout.split()
    assert module_file.startswith(str(site)) and rules_path.startswith(str(site))
