"""The hand-written article corpus (tests/articles/<lang>/NAME.txt + NAME.expect.toml).

Each article carries its expectations: every listed figure is extracted, nothing unlisted
is (optional figures may be), and each counterparty's current status is the listed one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitor import extract_text, load_rules
from monitor.parse import load_article

ROOT = Path(__file__).resolve().parent / "articles"
RULES = load_rules()
ARTICLES = sorted(ROOT.glob("*/*.expect.toml"))


def _article_file(expect: Path) -> Path:
    stem = expect.name.removesuffix(".expect.toml")
    for ext in (".txt", ".html"):
        candidate = expect.with_name(stem + ext)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no article beside {expect}")


def _key(item: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return item["metric"], tuple(sorted(item.get("dims", {}).items()))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(abs(b) * 0.005, 0.5)


def test_the_corpus_covers_every_language() -> None:
    langs = {p.parent.name for p in ARTICLES}
    assert langs == {"kk", "ru", "en"}
    for lang in langs:
        assert sum(p.parent.name == lang for p in ARTICLES) >= 8


@pytest.mark.parametrize("expect_path", ARTICLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_article(expect_path: Path) -> None:
    expect = tomllib.loads(expect_path.read_text(encoding="utf-8"))
    article = load_article(_article_file(expect_path).read_bytes())
    published = expect.get("published") or article.published
    result = extract_text(article.text, RULES, lang=article.lang, published=published)
    got = [f.to_json() for f in result.figures]

    wanted = expect.get("figure", [])
    unmatched = list(got)
    missing = []
    for w in wanted:
        hit = next(
            (g for g in unmatched if _key(g) == _key(w) and _close(g["value"], w["value"])), None
        )
        if hit is None:
            if not w.get("optional"):
                missing.append((w["metric"], w.get("dims", {}), w["value"]))
            continue
        unmatched.remove(hit)
        for field in ("bound", "as_of", "unit"):
            if field in w:
                assert hit[field] == w[field], f"{field} of {_key(w)} {w['value']}"
    extra = [(g["metric"], g["dims"], g["value"], g["evidence"][:80]) for g in unmatched]
    assert not missing and not extra, f"missing: {missing}\nextra: {extra}"

    current = {s.counterparty: s.status for s in result.statuses if s.current}
    assert current == {s["counterparty"]: s["current"] for s in expect.get("status", [])}
