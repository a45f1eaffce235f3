"""The first-character index of gazetteers and cues (rules.Vocab, rules.Cues) is only a
speed-up: it must find exactly what trying every name at every position finds."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import load_rules
from monitor.patterns import first_chars
from monitor.rules import Hit, Vocab

RULES = load_rules()
ARTICLES = Path(__file__).parent / "articles"


def _texts() -> list[str]:
    texts = [str(ex.get("text", "")) for exs in RULES.examples.values() for ex in exs]
    texts += [p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*/*.txt"))]
    return [t for t in texts if t]


def _every_position(vocab: Vocab, text: str) -> list[tuple[int, int, str]]:
    """The reference: at each position, the longest name of any value."""
    hits: list[tuple[int, int, str]] = []
    pos = 0
    while pos < len(text):
        best: tuple[int, str] | None = None
        for (value, _adj), rx in vocab.each.items():
            m = rx.match(text, pos)
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), value)
        if best:
            hits.append((pos, best[0], best[1]))
            pos = max(best[0], pos + 1)
        else:
            pos += 1
    return hits


@pytest.mark.parametrize("dim", sorted(RULES.vocabs))
def test_indexed_gazetteer_finds_what_trying_every_position_finds(dim: str) -> None:
    vocab = RULES.vocabs[dim]
    for text in _texts():
        got = [(h.start, h.end) for h in vocab.find(text)]
        want = [(s, e) for s, e, _ in _every_position(vocab, text)]
        assert got == want, text[:200]


def test_cue_prefilter_skips_no_match() -> None:
    for text in _texts():
        for lang in ("en", "ru", "kk"):
            got = RULES.cues.find(text, lang)
            want = {
                name: spans
                for name, by_lang in RULES.cues.groups.items()
                if (rx := by_lang.get(lang)) and (spans := [m.span() for m in rx.finditer(text)])
            }
            assert got == want


@pytest.mark.parametrize(
    ("pattern", "chars"),
    [
        (r"росси(?:я|и)\b", {"р"}),
        (r"(?:the\s+)?republic", {"t", "r"}),
        (r"(?-i:RK)\b", {"r"}),
        (r"[аә]лматы", {"а", "ә"}),
        (r"(?:in|to)\s+seoul", {"i", "t"}),
        (r"\w+стан", None),  # could start with any letter
        (r"(?:a)?", None),  # may match nothing
    ],
)
def test_first_chars_of_a_pattern(pattern: str, chars: set[str] | None) -> None:
    found = first_chars(pattern)
    assert (set(found) if found is not None else None) == chars


@given(st.text(alphabet="abcрсиқәAБ \\w()?|[]-+*.", max_size=12), st.text(max_size=20))
def test_a_match_always_starts_with_one_of_the_first_chars(pattern: str, text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "possible set union" and the like: not a rule pattern
        try:
            rx = re.compile(pattern, re.I)
        except (re.error, FutureWarning):
            return
    chars = first_chars(pattern)
    if chars is None:
        return
    for pos in range(len(text) + 1):
        m = rx.match(text, pos)
        if m and m.end() > pos:
            assert text[pos].lower() in chars


def test_hits_are_hits() -> None:
    assert RULES.vocabs["country"].find("Из них 102 тыс. трудятся в России.")[0] == Hit(
        27, 33, "RU", False
    )
