"""The indexes of gazetteers and cues (rules.Vocab, rules.Cues, patterns.PrefixTable) are only
a speed-up: they must find exactly what trying every name at every position finds."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor import load_rules
from monitor.patterns import (
    PrefixTable,
    first_chars,
    first_class,
    fold,
    may_start,
    prefix_cover,
    required_strings,
    scan,
)
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


def test_all_gazetteers_at_once_find_what_each_finds_alone() -> None:
    for text in _texts():
        for lang in ("en", "ru", "kk"):
            together = RULES.find_vocabs(text, lang)
            assert list(together) == list(RULES.vocabs)
            for dim, vocab in RULES.vocabs.items():
                assert together[dim] == vocab.find(text), (dim, text[:200])


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


@pytest.mark.parametrize("flags", [0, re.I])
@given(pattern=st.text(alphabet="abAБ8 \\wds()?|[]-+*.", max_size=12), text=st.text(max_size=20))
def test_a_first_class_lookahead_changes_no_match(flags: int, pattern: str, text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            rx = re.compile(pattern, flags)
        except (re.error, FutureWarning):
            return
    first = first_class(pattern, flags)
    if first is None:
        return
    ahead = re.compile(f"(?={first})(?:{pattern})", flags)
    want = [m.span() for m in rx.finditer(text) if m.end() > m.start()]
    assert [m.span() for m in ahead.finditer(text) if m.end() > m.start()] == want


def test_the_first_class_of_the_masks_is_where_a_phone_or_a_time_can_start() -> None:
    assert first_class(r"\+\d{7,}|\b\d{1,2}:\d{2}\b|[A-Z]{1,4}-\d+") == r"[A-Z\+\d]"
    assert first_class(r"(?:\w+\s+)?\d") == r"[\d\w]"  # a word, or the digit when none
    assert first_class(r"[^a]b") is None  # a negated class: too wide to tell
    assert first_class(r"a?") is None  # may match nothing


def test_hits_are_hits() -> None:
    assert RULES.vocabs["country"].find("Из них 102 тыс. трудятся в России.")[0] == Hit(
        27, 33, "RU", False
    )


# "\\s" and runs of spaces of every kind: the table reads a run of them as one " "
_PATTERNS = st.text(alphabet="abcрсиқәAБİſ \\ws()?|[]-+*.", max_size=12)
_TEXTS = st.text(alphabet="abcрсиқәABCРСИҚӘİıſ .,-(\n\t\u00a0", max_size=30)


def _compiled(pattern: str, flags: int = re.I) -> re.Pattern[str] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(pattern, flags)
        except (re.error, FutureWarning):
            return None


@pytest.mark.parametrize(
    ("pattern", "strings"),
    [
        (r"(?!kazakh)\w+stanis", {"stanis"}),
        (r"(?:\w+\s+)?(?:граждан|Мигрант)\w*", {"граждан", "мигрант"}),
        (r"\w+(?:дан|ден)\s+келген", {"келген"}),
        (r"ab[cd]efg", {"efg"}),  # of two runs of letters, the longer
        (r"(?:x|yz)\w+", None),  # "x" alone is too short to look for
        (r"\w+", None),
    ],
)
def test_required_strings_of_a_pattern(pattern: str, strings: set[str] | None) -> None:
    found = required_strings(pattern)
    assert (set(found) if found is not None else None) == strings


@settings(max_examples=400)
@given(_PATTERNS, _TEXTS)
def test_a_match_holds_one_of_the_required_strings(pattern: str, text: str) -> None:
    rx = _compiled(pattern)
    needed = required_strings(pattern) if rx is not None else None
    if rx is None or needed is None:
        return
    for m in rx.finditer(text):
        assert any(n in fold(m.group(0)) for n in needed), (m.group(0), needed)


@settings(max_examples=400)
@given(_PATTERNS, _TEXTS)
def test_trying_an_anchored_pattern_where_the_table_says_finds_every_match(
    pattern: str, text: str
) -> None:
    rx = _compiled(f"(?<!\\w)(?:{pattern})")
    cover = prefix_cover(pattern) if rx is not None else None
    if rx is None or cover is None:
        return
    starts = PrefixTable.of({"p": cover}).candidates(text).get("p", [])
    assert scan(rx, text, starts) == [m.span() for m in rx.finditer(text)]


@settings(max_examples=400)
@given(_PATTERNS, _TEXTS)
def test_a_pattern_matches_only_where_its_cover_says_it_may_start(pattern: str, text: str) -> None:
    rx = _compiled(pattern)
    cover = prefix_cover(pattern) if rx is not None else None
    if rx is None or cover is None:
        return
    for pos in range(len(text)):
        m = rx.match(text, pos)
        if m and m.end() > pos:
            assert may_start(cover, text, pos), (pattern, text, pos)


def test_the_prefix_table_gives_each_name_the_positions_where_it_may_start() -> None:
    text = "Мигранты и мигрантки, migrants: Ми-ми"
    table = PrefixTable.of(
        {"ru": frozenset({"миг"}), "en": frozenset({"mi"}), "m": frozenset({"ми"})}
    )
    starts = table.candidates(text)
    assert starts == {"ru": [0, 11], "m": [0, 11, 32, 35], "en": [22]}
    rx = re.compile(r"(?<!\w)ми\w*", re.I)
    assert scan(rx, text, starts["m"]) == [m.span() for m in rx.finditer(text)]
    assert len(scan(rx, text, starts["m"])) == 4


def test_a_run_of_spaces_of_any_kind_is_one_space_to_the_table() -> None:
    """ "в\\s+Сеул" gets a cover past its space ("в сеу"), and still finds "в\\t Сеуле"."""
    cover = prefix_cover(r"(?:в|из)\s+сеул(?:е|а)?")
    assert cover is not None and "в сеу" in cover
    rx = re.compile(r"(?<!\w)(?:(?:в|из)\s+сеул(?:е|а)?)", re.I)
    for text in ("Работают в Сеуле", "Работают в\t Сеуле", "из\u00a0\u00a0Сеула", "в  Сеул"):
        starts = PrefixTable.of({"p": cover}).candidates(text).get("p", [])
        assert scan(rx, text, starts) == [m.span() for m in rx.finditer(text)] != []
    assert PrefixTable.of({"p": cover}).candidates("в Астане").get("p") is None


def test_a_dotted_capital_i_is_looked_for_as_the_i_it_matches() -> None:
    """'İ'.lower() is two characters; IGNORECASE matching takes 'İ' as 'i'."""
    rx = re.compile(r"(?<!\w)(?:A|İ)stanbul", re.I)
    starts = PrefixTable.of({"p": prefix_cover("(?:A|İ)stanbul")}).candidates("in İSTANBUL")
    assert scan(rx, "in İSTANBUL", starts["p"]) == [(3, 11)]


def _sentences() -> list[tuple[str, str]]:
    from monitor.text import detect_language, normalize, sentences

    out = []
    for text in _texts():
        norm = normalize(text)
        out += [(s.text, s.lang) for s in sentences(norm, detect_language(norm))]
    return out


def test_dates_tried_where_the_table_says_are_the_dates_found_everywhere() -> None:
    from dataclasses import replace

    from monitor.dates import find_dates

    everywhere = replace(RULES.dates, tables={})
    assert RULES.dates.covers  # the shapes that start with a word have a cover
    assert RULES.dates.tables["ru"] is RULES.cues.tables["ru"]  # one look serves both
    for text, lang in _sentences():
        got = find_dates(RULES.dates, text, lang, "2025-06-01")
        assert got == find_dates(everywhere, text, lang, "2025-06-01"), text


def test_numbers_found_with_the_gates_are_the_numbers_found_without() -> None:
    from dataclasses import replace

    from monitor.numbers import find_quantities

    ungated = replace(
        RULES.numbers,
        words_cover=None,
        tables={},
        masks_any=None,
        currency_before_any=None,
        currency_after_any=None,
        bound_after_any={},
        currency_before_width=60,  # currency marks looked for in all 60 characters before
    )
    for text, lang in _sentences():
        got = find_quantities(RULES.numbers, text, lang)
        assert got == find_quantities(ungated, text, lang), text


def test_statuses_found_through_the_table_are_the_statuses_found_by_searching() -> None:
    from dataclasses import replace

    from monitor.agreements import read_statuses
    from monitor.statuses import find_triggers, is_labour_text
    from monitor.text import detect_language, normalize, sentences

    searched = replace(RULES.statuses, tables={}, required={})
    for text, lang in _sentences():
        for continued in (False, True):
            got = find_triggers(RULES.statuses, text, lang, continued=continued)
            assert got == find_triggers(searched, text, lang, continued=continued), text
        assert is_labour_text(RULES.statuses, text, lang) == is_labour_text(searched, text, lang)
    plain = replace(RULES, statuses=searched)
    for text in _texts():
        norm = normalize(text)
        sents = sentences(norm, detect_language(norm))
        lang = detect_language(norm)
        assert read_statuses(RULES, sents, lang, "2025-06-01") == read_statuses(
            plain, sents, lang, "2025-06-01"
        ), text[:200]


def test_a_cue_group_with_open_words_finds_them_and_its_other_words() -> None:
    """ "\\w+stanis" may start anywhere: the group is searched in a sentence holding "stanis",
    and elsewhere tried only where its other words may start."""
    assert ("actor_foreign", "en") in RULES.cues.open_words
    for text in (
        "Some 2,000 Uzbekistanis and 300 foreign workers arrived.",
        "Some 300 foreign workers and citizens of Turkey arrived.",
        "Nobody arrived.",
    ):
        rx = RULES.cues.groups["actor_foreign"]["en"]
        assert rx is not None
        want = [m.span() for m in rx.finditer(text)]
        assert RULES.cues.find(text, "en").get("actor_foreign", []) == want


@settings(max_examples=400)
@given(
    st.lists(st.text(alphabet="abAБб8 \\ws()?|[]-+*.", min_size=1, max_size=8), max_size=6),
    st.sampled_from(["", r"\s?"]),
    _TEXTS,
)
@example([r"\b"], "", "A")  # matches nothing at the end of the text
def test_an_alternation_matches_where_and_as_its_whole_union_does(
    patterns: list[str], lead: str, text: str
) -> None:
    from monitor.patterns import Alternation

    parts = [p for p in patterns if (rx := _compiled(p)) is not None and not rx.match("")]
    if not parts:
        return
    ordered = sorted(parts, key=len, reverse=True)
    whole = _compiled(lead + "(?:" + "|".join(f"(?:{p})" for p in ordered) + ")")
    if whole is None:
        return
    alternation = Alternation.of(parts, lead=lead)
    for pos in range(len(text) + 1):
        want = whole.match(text, pos)
        got = alternation.match(text, pos)
        assert (got and got.span()) == (want and want.span()), (parts, text, pos)


# the number and year patterns as first written, before they were turned to open with digits
_NUMBER = re.compile(
    r"(?<![\w.,\-/])"
    r"(?:(\d{1,3})(?:([ ,.])\d{3}(?!\d))(?:\2\d{3}(?!\d))*(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@settings(max_examples=1000)
@given(st.text(alphabet="0123456789 ,.-/aб٣\n", max_size=40))
def test_numbers_and_years_opening_with_their_digits_match_as_first_written(text: str) -> None:
    from monitor.dates import _YEAR as year
    from monitor.numbers import NUM_RE

    assert [(m.span(), m.group(1)) for m in NUM_RE.finditer(text)] == [
        (m.span(), m.group(2)) for m in _NUMBER.finditer(text)
    ]
    for pos in range(len(text)):
        got, want = NUM_RE.match(text, pos), _NUMBER.match(text, pos)
        assert (got and (got.span(), got.group(1))) == (want and (want.span(), want.group(2)))
    assert [m.span() for m in year.finditer(text)] == [m.span() for m in _YEAR.finditer(text)]


def test_the_memo_of_recent_sentences_keeps_at_least_as_many_as_it_was_made_for() -> None:
    from monitor.patterns import Recent

    recent = Recent(4)
    for n in range(25):
        recent.put(f"sentence {n}", n)
        assert [recent.get(f"sentence {k}") for k in range(max(0, n - 3), n + 1)] == list(
            range(max(0, n - 3), n + 1)
        )
    assert recent.get("sentence 0") is None  # long forgotten
    assert len(recent.new) + len(recent.old) <= 8


_RUN_PIECES = [
    *[r"\w+", r"\w*", r"\S+", r"\s+", r"\s*", r"\s", r"\w", r"\s?", r"\w?", r"\s{0,2}"],
    *[r"\s{1,2}", r"\w{,2}", "a", "б", "(?:", ")", "|", "?", "*", "+"],
]


@settings(max_examples=3000)
@given(
    st.lists(
        st.sampled_from(_RUN_PIECES),
        min_size=1,
        max_size=9,
    ),
    st.text(alphabet="abб \t.-", max_size=20),
)
@example([r"\w+", r"\s*", r"\w+"], "aa")  # the space may be missing: the run must give back
@example([r"\s+", r"\w*", r"\s"], "  ")
def test_possessive_runs_match_as_the_greedy_ones(pieces: list[str], text: str) -> None:
    from monitor.patterns import possessive

    pattern = "".join(pieces)
    greedy = _compiled(pattern)
    if greedy is None:
        return
    fast = re.compile(possessive(pattern), re.I)
    assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
        (m.span(), m.groups()) for m in greedy.finditer(text)
    ], (pattern, possessive(pattern), text)
    for pos in range(len(text) + 1):
        got, want = fast.match(text, pos), greedy.match(text, pos)
        assert (got and got.span()) == (want and want.span())


@settings(max_examples=600)
@given(st.text(alphabet="ab8+:(-)?|[]\\d*", max_size=12), st.sampled_from([0, re.I]), _TEXTS)
def test_a_match_holds_every_required_character(pattern: str, flags: int, text: str) -> None:
    from monitor.patterns import required_chars

    rx = _compiled(pattern, flags)
    if rx is None:
        return
    needed = required_chars(pattern, flags)
    for m in rx.finditer(text + " 8+:(-) AB"):
        assert needed <= set(m.group(0)), (pattern, m.group(0), needed)


def test_the_characters_a_mask_needs() -> None:
    from monitor.patterns import required_chars

    assert required_chars(r"\+\d[\d\s()\-]{7,}\d", 0) == {"+"}
    assert required_chars(r"\b\d{1,2}:\d{2}\b", 0) == {":"}
    assert required_chars(r"\b(?:COVID|Covid|covid)-\d+", 0) == {"-"}  # the branches differ
    assert required_chars(r"ab(?i:cd)", 0) == {"a", "b"}  # any case of c and d will do
    assert required_chars(r"x?y{0,2}z{1,3}", 0) == {"z"}
