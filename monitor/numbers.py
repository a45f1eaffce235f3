"""Find the quantities written in a sentence, in any of the three languages.

A quantity is a number with its scale word ("126 тыс.", "1,6 млн", "157.1 million",
"194 мыңнан"), number words ("fifteen thousand", "екі жарым мың"), its bound ("about",
"свыше", "астам") and its currency. Numbers that are not figures (years, percentages, ages,
phone numbers, prices, ...) are dropped here, using rules/numbers.toml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from .patterns import (
    LANGS,
    Alternation,
    PrefixTable,
    RulesError,
    all_langs,
    anchored_cover,
    check_keys,
    ending_at,
    first_class,
    matches,
    max_width,
    may_start,
    prefix_cover,
    required_chars,
    str_list,
    union,
)

BOUNDS = ("exact", "approx", "at_least", "at_most")  # "exact" phrases win over "до"

# Digits: grouped thousands (comma, dot or space, used consistently; group 1 is the mark) or
# a plain run, with an optional decimal part. Not glued to a word, a decimal mark or a hyphen
# on the left: "(?<![\w.,\-/])" written after the first digit, so that the pattern starts
# with a character class and a search skips to the digits instead of trying every position.
NUM_RE = re.compile(
    r"\d(?<![\w.,\-/]\d)"
    r"(?:\d{0,2}(?:([ ,.])\d{3}(?!\d))(?:\1\d{3}(?!\d))*(?:[.,]\d+)?|\d*(?:[.,]\d+)?)"
)
_GLUED = re.compile(r"-?[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_AFTER_DIGITS = re.compile(r"\d[\d.,]*\s?$")
_LINK = re.compile(r"\s*(?:,|;|или|or|немесе|және|and|/)?\s*", re.I)
_PLAIN_NUM = re.compile(
    r"\d{1,3}(?:([ ,.])\d{3}(?!\d))(?:\1\d{3}(?!\d))*(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
)
_RANGE_DASH = re.compile(r"\s?-\s?(?=\d)")
# Kazakh case, possessive and derivational suffixes written after digits ("15-тен", "102-сі").
_KK_SUFFIX = re.compile(
    r"-?(?:(?:ның|нің|дың|дің|тың|тің|ға|ге|қа|ке|на|не|а|е|ны|ні|ды|ді|ты|ті|да|де|та|те|нда"
    r"|нде|дан|ден|тан|тен|нан|нен|мен|бен|пен|ы|і|сы|сі|ын|ін|дай|дей|тай|тей|ғы|гі|қы|кі"
    r"|дағы|дегі|тағы|тегі|ндағы|ндегі)){1,3}",
    re.I,
)


# a count or sum: an int when it is whole (126000, not 126000.0), which JSON output shows as such
Value = int | float


@dataclass(init=False, unsafe_hash=True)
class Quantity:
    # made for every number: its __init__ written out, as text.Sentence's is
    start: int
    end: int
    value: Value
    bound: str = "exact"
    unit: str | None = None  # a currency code when the quantity is money
    value_max: Value | None = None

    def __init__(
        self,
        start: int,
        end: int,
        value: Value,
        bound: str = "exact",
        unit: str | None = None,
        value_max: Value | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.value = value
        self.bound = bound
        self.unit = unit
        self.value_max = value_max

    @property
    def is_money(self) -> bool:
        return self.unit is not None


_BEFORE = 60  # characters before a number read for its currency, bound and context words


@dataclass(frozen=True)
class NumberRules:
    scale: re.Pattern[str]
    scale_values: dict[str, Decimal]
    words: dict[str, Decimal]
    words_re: re.Pattern[str] | None
    big_word: re.Pattern[str] | None  # a quick test: could this text hold a worded number?
    plus_half: re.Pattern[str] | None
    one_and_half: re.Pattern[str] | None
    half: re.Pattern[str] | None
    bound_before: dict[str, dict[str, re.Pattern[str] | None]]
    bound_after: dict[str, dict[str, re.Pattern[str] | None]]
    bound_glued: dict[str, dict[str, re.Pattern[str] | None]]
    currency_before: list[tuple[str, re.Pattern[str]]]
    currency_after: list[tuple[str, re.Pattern[str]]]
    unit_after: Alternation | None  # a unit word after a number: not a count of people
    context_before: dict[str, re.Pattern[str] | None]
    context_after: dict[str, re.Pattern[str] | None]
    masks: list[re.Pattern[str]]
    count_after: re.Pattern[str] | None
    # what every match of `words_re` (anchored at a word start) starts with
    # (`patterns.prefix_cover`): a sentence where no word starts so has no number word
    words_cover: frozenset[str] | None = None
    # where one of the units of `unit_after` with a cover may follow, and the units without
    unit_cover: frozenset[str] | None = None
    unit_open: re.Pattern[str] | None = None
    masks_any: re.Pattern[str] | None = None  # matches where any of `masks` does
    # the characters each mask cannot match without ("+", ":", "/"), and the union of the
    # masks a sentence holds the characters of, by their indexes (made when first needed)
    mask_needs: list[frozenset[str]] = field(default_factory=list)
    masks_of: dict[tuple[int, ...], re.Pattern[str] | None] = field(default_factory=dict)
    # likewise for the currency marks and the bound words after a number, which most numbers
    # have none of
    currency_before_any: re.Pattern[str] | None = None
    currency_after_any: re.Pattern[str] | None = None
    bound_after_any: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # lang -> where "number:words" (words_cover), the bound words before a number
    # ("number:bound:<kind>") and its context before ("number:context") may start:
    # load_rules shares these tables
    tables: dict[str, PrefixTable] = field(default_factory=dict)
    # the most characters a currency mark before a number takes (the marks end where it starts)
    currency_before_width: int = _BEFORE

    def prefix_covers(self, lang: str) -> dict[str, frozenset[str]]:
        covers = {"number:words": self.words_cover}
        for kind, rx in self.bound_before.get(lang, {}).items():
            covers[f"number:bound:{kind}"] = anchored_cover(rx) if rx else None
        rx = self.context_before.get(lang)
        covers["number:context"] = anchored_cover(rx) if rx else None
        return {name: cover for name, cover in covers.items() if cover is not None}

    # matched right after the number, before its bound words are taken off: Kazakh
    # "1,6 мыңға артты" (grew by) is a change, "21 мыңға дейін өсті" (grew to) is not
    context_next: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # number words per language; only Kazakh ones take Kazakh suffixes ("мыңнан"; "статей"
    # is no "ста")
    by_lang: dict[str, frozenset[str]] = field(default_factory=dict)


def compile_numbers(data: dict[str, Any], file: str) -> NumberRules:
    check_keys(
        data,
        [
            "description",
            "scales",
            "words",
            "halves",
            "bounds",
            "currencies",
            "units",
            "context",
            "masks",
            "years",
            "not_words",
            "example",
        ],
        file,
        "",
    )
    scales = data.get("scales", {})
    groups, values = [], {}
    for i, value in enumerate(scales):
        try:
            values[f"s{i}"] = Decimal(value)
        except InvalidOperation:
            raise RulesError(file, f"scales.{value}", "the key must be a number") from None
        rx = union(str_list(scales, value, file, "scales"), file, f"scales.{value}", anchor=False)
        if rx is not None:
            groups.append(f"(?P<s{i}>{rx.pattern})")
    scale = re.compile(r"\s?(?:" + "|".join(groups) + r")(?!\w)", re.I)

    words: dict[str, Decimal] = {}
    by_lang: dict[str, frozenset[str]] = {}
    for lang, table in data.get("words", {}).items():
        if lang not in LANGS or not isinstance(table, dict):
            raise RulesError(file, f"words.{lang}", "expected a table per language (en, ru, kk)")
        for word, value in table.items():
            words[word.lower()] = Decimal(str(value))
        by_lang[lang] = frozenset(w.lower() for w in table)
    halves = data.get("halves", {})
    check_keys(halves, ["plus_half", "one_and_half", "half"], file, "halves")
    half_words = [
        *str_list(halves, "plus_half", file, "halves"),
        *str_list(halves, "one_and_half", file, "halves"),
    ]
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True) + half_words
    unlike = all_langs(data, "not_words", file)
    words_re = None
    if alternatives:
        # a Kazakh case or possessive suffix may follow: "екі жарым мыңы", "бес мыңнан"; a
        # word that only looks so ("үшін", for; "жүзеге") starts none
        one = "(?:" + "|".join(alternatives) + r")(?:-?[а-яәғқңөұүһі]{1,6})?"
        if unlike is not None:
            one = rf"(?!(?:{unlike.pattern})(?!\w)){one}"
        words_re = re.compile(rf"(?<!\w){one}(?:(?:\s+|-)(?:(?:and|және)\s+)?{one})*(?!\w)", re.I)

    bounds = data.get("bounds", {})
    bound_before: dict[str, dict[str, re.Pattern[str] | None]] = {}
    bound_after: dict[str, dict[str, re.Pattern[str] | None]] = {}
    bound_glued: dict[str, dict[str, re.Pattern[str] | None]] = {}
    for kind, table in bounds.items():
        if kind not in BOUNDS:
            raise RulesError(
                file, f"bounds.{kind}", f"unknown bound (expected {', '.join(BOUNDS)})"
            )
        check_keys(
            table,
            [f"{lang}_{side}" for lang in LANGS for side in ("before", "after", "glued")],
            file,
            f"bounds.{kind}",
        )
        for lang in LANGS:
            where = f"bounds.{kind}"
            before = union(
                str_list(table, f"{lang}_before", file, where),
                file,
                f"{where}.{lang}_before",
                suffix=r"\s*$",
            )
            after = union(
                str_list(table, f"{lang}_after", file, where),
                file,
                f"{where}.{lang}_after",
                anchor=False,
            )
            glued = union(
                str_list(table, f"{lang}_glued", file, where),
                file,
                f"{where}.{lang}_glued",
                anchor=False,
                suffix="$",
            )
            bound_before.setdefault(lang, {})[kind] = before
            bound_glued.setdefault(lang, {})[kind] = glued
            bound_after.setdefault(lang, {})[kind] = (
                re.compile(r"^\s*" + after.pattern + r"(?!\w)", re.I) if after else None
            )

    currency_before, currency_after = [], []
    for code, table in data.get("currencies", {}).items():
        check_keys(table, ["before", "after"], file, f"currencies.{code}")
        before = union(
            str_list(table, "before", file, f"currencies.{code}"),
            file,
            f"currencies.{code}.before",
            anchor=False,
            suffix=r"\s?$",
        )
        after = union(
            str_list(table, "after", file, f"currencies.{code}"),
            file,
            f"currencies.{code}.after",
            anchor=False,
        )
        if before:
            currency_before.append((code, before))
        if after:
            currency_after.append((code, re.compile(r"\s?(?:" + after.pattern + ")", re.I)))

    unit_pats: list[str] = []
    for role, table in data.get("units", {}).items():
        check_keys(table, ["after"], file, f"units.{role}")
        unit_pats += str_list(table, "after", file, f"units.{role}")
    unit_rx = union(unit_pats, file, "units", anchor=False)
    unit_after = Alternation.of(unit_pats, lead=r"\s?") if unit_rx else None
    # the units that may start with anything, apart: where none of the others can start,
    # only these are tried
    open_pats = [p for p in unit_pats if prefix_cover(p) is None]
    covered = union([p for p in unit_pats if p not in open_pats], file, "units", anchor=False)
    uncovered = union(open_pats, file, "units", anchor=False)
    unit_cover = prefix_cover(r"\s?(?:" + covered.pattern + ")") if covered and unit_rx else None
    unit_open = re.compile(r"\s?(?:" + uncovered.pattern + ")", re.I) if uncovered else None

    context = data.get("context", {})
    check_keys(
        context,
        [f"{lang}_{side}" for lang in LANGS for side in ("before", "after", "next")],
        file,
        "context",
    )
    context_before, context_after, context_next = {}, {}, {}
    for lang in LANGS:
        context_before[lang] = union(
            str_list(context, f"{lang}_before", file, "context"),
            file,
            f"context.{lang}_before",
            suffix=r"\s*:?\s*$",
        )
        after = union(
            str_list(context, f"{lang}_after", file, "context"),
            file,
            f"context.{lang}_after",
            anchor=False,
        )
        context_after[lang] = re.compile(r"^\s*(?:" + after.pattern + ")", re.I) if after else None
        following = union(
            str_list(context, f"{lang}_next", file, "context"),
            file,
            f"context.{lang}_next",
            anchor=False,
        )
        context_next[lang] = (
            re.compile(r"^\s*(?:" + following.pattern + ")", re.I) if following else None
        )

    masks_table = data.get("masks", {})
    check_keys(masks_table, ["patterns"], file, "masks")
    masks = []
    for i, pattern in enumerate(str_list(masks_table, "patterns", file, "masks")):
        rx = union([pattern], file, f"masks.patterns[{i}]", anchor=False, flags=0)
        if rx:
            masks.append(rx)
    years = data.get("years", {})
    check_keys(years, ["count_after"], file, "years")
    count_after = union(
        str_list(years, "count_after", file, "years"), file, "years.count_after", anchor=False
    )
    words_cover = prefix_cover(words_re.pattern, words_re.flags) if words_re else None
    rules = NumberRules(
        scale=scale,
        scale_values=values,
        words=words,
        words_re=words_re,
        big_word=re.compile(
            "|".join([*(re.escape(w) for w, v in words.items() if v >= 100), *half_words]), re.I
        )
        if words
        else None,
        plus_half=_anchored(halves.get("plus_half", [])),
        one_and_half=_anchored(halves.get("one_and_half", [])),
        half=_anchored(halves.get("half", [])),
        bound_before=bound_before,
        bound_after=bound_after,
        bound_glued=bound_glued,
        currency_before=currency_before,
        currency_after=currency_after,
        unit_after=unit_after,
        unit_cover=unit_cover,
        unit_open=unit_open,
        context_before=context_before,
        context_after=context_after,
        context_next=context_next,
        masks=masks,
        count_after=re.compile(r"\s?(?:" + count_after.pattern + ")", re.I)
        if count_after
        else None,
        words_cover=words_cover,
        masks_any=_any_of(masks),
        mask_needs=[required_chars(rx.pattern, rx.flags) for rx in masks],
        currency_before_any=_any_of([rx for _, rx in currency_before]),
        currency_after_any=_any_of([rx for _, rx in currency_after]),
        bound_after_any={
            lang: _any_of([rx for rx in by_kind.values() if rx])
            for lang, by_kind in bound_after.items()
        },
        by_lang=by_lang,
        currency_before_width=min(_BEFORE, _width(currency_before) or _BEFORE),
    )
    return replace(
        rules, tables={lang: PrefixTable.of(rules.prefix_covers(lang)) for lang in LANGS}
    )


def _width(marks: list[tuple[str, re.Pattern[str]]]) -> int | None:
    """The most characters any of the currency marks takes; None when one is unbounded."""
    widths = [max_width(rx) for _, rx in marks]
    return None if not widths or None in widths else max(w for w in widths if w is not None)


def _anchored(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("^(?:" + "|".join(patterns) + ")$", re.I)


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One regex matching wherever one of `patterns` does (None: cannot be joined, as when
    the flags differ or a group could be referred to by number)."""
    if not patterns or len({rx.flags for rx in patterns}) > 1 or any(rx.groups for rx in patterns):
        return None
    joined = "|".join(f"(?:{rx.pattern})" for rx in patterns)
    flags = patterns[0].flags
    first = first_class(joined, flags)
    if first is not None:
        joined = f"(?={first})(?:{joined})"  # lets the engine skip to where one can start
    try:
        return re.compile(joined, flags)
    except re.error:
        return None


_LEAD = re.compile(r"[\s\"'«“„(\[-]*")


def _lead(text: str) -> int:
    """Where the words of a sentence begin, after opening quotes and brackets."""
    m = _LEAD.match(text)
    return m.end() if m else 0


def may_hold_quantity(rules: NumberRules, text: str, lang: str) -> bool:
    """Cheap test run before the real search: a digit, a number word opening the sentence, or
    a number word with a word for hundred or more in it. Without a digit only a number word
    makes a quantity, and each starts where `find_quantities` looks for one (`_worded`):
    trying only there is cheaper than searching the sentence for the big words."""
    if _DIGIT.search(text) is not None:
        return True
    if rules.words_re is None:
        return False
    lead = _lead(text)
    cover = rules.words_cover
    if (cover is None or may_start(cover, text, lead)) and rules.words_re.match(text, lead):
        return True  # "Thirty-two foreigners were deported": a number opens the sentence
    big = rules.big_word
    return big is not None and any(big.search(m.group(0)) for m in _worded(rules, text, lang))


def _worded(rules: NumberRules, text: str, lang: str) -> Iterable[re.Match[str]]:
    """The matches of the number words (`words_re`) in `text`, tried where they may start."""
    assert rules.words_re is not None
    table = rules.tables.get(lang)
    if rules.words_cover is None or table is None:
        return rules.words_re.finditer(text)
    return matches(rules.words_re, text, table.candidates(text).get("number:words", ()))


def mask_spans(rules: NumberRules, text: str) -> list[tuple[int, int]]:
    """The spans of every mask (phones, times, codes); most sentences have none, which the
    characters the masks need and one search of the union of the others tell."""
    if rules.masks_any is None:
        return [m.span() for rx in rules.masks for m in rx.finditer(text)]
    # only the masks whose characters the sentence holds can match: a phone number needs its
    # "+" or its "8", a time its ":"
    held = tuple(i for i, need in enumerate(rules.mask_needs) if all(c in text for c in need))
    if not held:
        return []
    gate = rules.masks_of.get(held, _NO_GATE)
    if gate is _NO_GATE:
        if len(rules.masks_of) >= _MAX_MASK_SETS:
            rules.masks_of.clear()
        gate = rules.masks_of[held] = _any_of([rules.masks[i] for i in held])
    if gate is not None and gate.search(text) is None:
        return []
    return [m.span() for i in held for m in rules.masks[i].finditer(text)]


_NO_GATE: Any = object()
_MAX_MASK_SETS = 256


def _digits_value(raw: str, group_sep: str | None, scaled: bool, lang: str) -> Decimal:
    """Read a digit string: "126,000", "126 000", "1.600", "1,6", "157.1", "1.234,5"."""
    if group_sep == " ":
        raw = raw.replace(" ", "")
        return Decimal(raw.replace(",", "."))
    if group_sep in (",", "."):
        parts = raw.split(group_sep)
        single = len(parts) == 2 and not re.search(r"[.,]", parts[1])
        # "1,600 млн" in Russian or Kazakh, or "1.600 million": a decimal before a scale word.
        if single and scaled and (group_sep == "." or lang in ("ru", "kk")):
            return Decimal(raw.replace(",", "."))
        body = raw.replace(group_sep, "", len(parts) - 1 if single else raw.count(group_sep))
        return Decimal(body.replace(",", "."))
    return Decimal(raw.replace(",", "."))


def _own_word(rules: NumberRules, phrase: str, lang: str) -> bool:
    """Whether the phrase starts with a number word of the sentence's language (Russian "Он"
    is "he", not Kazakh "он", ten)."""
    first = re.split(r"[\s-]+", phrase.lower(), maxsplit=1)[0]
    own = rules.by_lang.get(lang, frozenset())
    return first in own or (lang == "kk" and bool(_suffixed_word(rules, first)))


def _words_value(rules: NumberRules, phrase: str, opening: bool = False) -> Decimal | None:
    """The value of a worded number: of a hundred or more ("пятнадцать тысяч", "бес мың"),
    or, when it opens the sentence (`opening`: news writes such numbers out there), of ten
    or more ("Thirty-two foreigners ...", "Восемнадцать ..."); smaller ones are words."""
    total = current = Decimal(0)
    seen_scale = False
    for token in re.split(r"[\s-]+", phrase.lower()):
        if token in ("and", "и", "және", ""):
            continue
        if rules.one_and_half and rules.one_and_half.match(token):
            current += Decimal("1.5")
        elif rules.plus_half and rules.plus_half.match(token):
            current += Decimal("0.5")
        elif token in rules.words or _suffixed_word(rules, token):
            value = rules.words.get(token) or rules.words[_suffixed_word(rules, token)]
            if value == 100:
                current = (current or Decimal(1)) * 100
                seen_scale = True
            elif value >= 1000:
                total += (current or Decimal(1)) * value
                current = Decimal(0)
                seen_scale = True
            else:
                current += value
        else:
            return None
    value = total + current
    if _inverted(rules, phrase):
        value = total * current  # "тысячи три": three thousand
    if (seen_scale and value >= 100) or (opening and value >= 10):
        return value
    return None


def _inverted(rules: NumberRules, phrase: str) -> bool:
    """Russian puts the scale first to say "about": "тысячи три", "тысяч пять"."""
    tokens = [t for t in re.split(r"[\s-]+", phrase.lower()) if t]
    return (
        len(tokens) > 1
        and tokens[0] in ("тысячи", "тысяч", "миллиона", "миллионов")
        and all(rules.words.get(t, Decimal(1000)) < 10 for t in tokens[1:])
    )


def _glued_bound(rules: NumberRules, lang: str, written: str) -> str | None:
    """A bound glued to the number's last word: Kazakh "мыңдай" (some thousand)."""
    for kind in BOUNDS:
        rx = rules.bound_glued.get(lang, {}).get(kind)
        if rx and rx.search(written):
            return kind
    return None


def _suffixed_word(rules: NumberRules, token: str) -> str:
    """The number word inside a suffixed Kazakh form: "мыңы" -> "мың", "жүзден" -> "жүз"."""
    kazakh = rules.by_lang.get("kk", frozenset())
    for cut in range(len(token) - 1, 1, -1):
        if token[:cut] in kazakh and _KK_SUFFIX.fullmatch(token[cut:]):
            return token[:cut]
    return ""


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _bound(
    rules: NumberRules, lang: str, text: str, start: int, end: int, after: str
) -> tuple[str, int, int]:
    """The bound and how many characters its words take before the number (in text[start:end])
    and after it (`after`)."""
    gate = rules.bound_after_any.get(lang)
    for kind in BOUNDS if gate is None or gate.match(after) else ():
        rx = rules.bound_after.get(lang, {}).get(kind)
        m = rx.match(after) if rx else None
        if m:
            return kind, 0, m.end()
    table = rules.tables.get(lang)
    for kind in BOUNDS:
        rx = rules.bound_before.get(lang, {}).get(kind)
        m = ending_at(rx, text, start, end, table, _BOUND_NAMES[kind])
        if m:
            return kind, end - m.start(), 0
    return "exact", 0, 0


_BOUND_NAMES = {kind: f"number:bound:{kind}" for kind in BOUNDS}  # in the prefix table


def find_quantities(
    rules: NumberRules, text: str, lang: str, masked: list[tuple[int, int]] | None = None
) -> list[Quantity]:
    """Every count or amount of money in `text` (one sentence), in order."""
    codes = mask_spans(rules, text)
    masked = list(masked or []) + codes
    tokens: list[tuple[int, int, Decimal, bool]] = []  # start, end, value, from words
    for m in NUM_RE.finditer(text):
        if _overlaps(m.start(), m.end(), masked) or any(
            0 <= m.start() - e <= 8 and _LINK.fullmatch(text[e : m.start()]) for _, e in codes
        ):
            continue  # masked, or listed right after a phone number: "... 74-31-06 или 1414"
        tokens.append((m.start(), m.end(), Decimal(0), False))
    if rules.words_re is not None:
        lead = _lead(text)
        for m in _worded(rules, text, lang):
            if _overlaps(m.start(), m.end(), masked) or _AFTER_DIGITS.search(text, 0, m.start()):
                continue
            opening = m.start() == lead and _own_word(rules, m.group(0), lang)
            value = _words_value(rules, m.group(0), opening=opening)
            if value is not None:
                tokens.append((m.start(), m.end(), value, True))
    tokens.sort()

    out: list[Quantity] = []
    skip_until = -1
    for start, end, word_value, is_words in tokens:
        if start < skip_until:
            continue
        q = _read(rules, text, lang, start, end, word_value, is_words)
        if q is not None:
            out.append(q)
            skip_until = q.end
        elif out and _range_start(text, out[-1], start):
            out.pop()  # "от 900 до 1500 долларов в месяц": the range is a wage as a whole
    return _merge_ranges(text, _merge_compounds(rules, text, out), lang)


def _range_start(text: str, low: Quantity, high_start: int) -> bool:
    """Whether `low` opens a range ending with the number at `high_start`: "between" (or
    "от", "между") before it and "and" ("до", "и") after it (`_RANGE_WORDS`)."""
    return any(
        lead
        and link
        and lead.search(text, max(0, low.start - 12), low.start)
        and link.match(text[low.end : high_start])
        for lead, link in _RANGE_WORDS.values()
    )


def _merge_compounds(rules: NumberRules, text: str, quantities: list[Quantity]) -> list[Quantity]:
    """ "1 млн 130 мыңнан астам", "2 billion 300 million": one number written in parts, each
    part smaller than the scale word of the one before it."""
    out: list[Quantity] = []
    for q in quantities:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.unit is None
            and text[prev.end : q.start].isspace()
            and (scale := _trailing_scale(rules, text[prev.start : prev.end])) is not None
            and q.value < scale
            and prev.value % scale == 0
        ):
            bound = q.bound if q.bound != "exact" else prev.bound
            out[-1] = Quantity(prev.start, q.end, prev.value + q.value, bound, q.unit)
            continue
        out.append(q)
    return out


def _trailing_scale(rules: NumberRules, written: str) -> int | None:
    """The value of the scale word a written number ends with ("1 млн" -> 1 000 000)."""
    for m in rules.scale.finditer(written):
        if not written[m.end() :].strip(" .,") and m.lastgroup in rules.scale_values:
            return int(rules.scale_values[m.lastgroup])
    return None


def _read(
    rules: NumberRules,
    text: str,
    lang: str,
    start: int,
    end: int,
    word_value: Decimal,
    is_words: bool,
) -> Quantity | None:
    raw = text[start:end]
    pos = end
    value_max: Decimal | None = None
    if is_words:
        value = word_value
    else:
        glued = _GLUED.match(text, pos)
        if glued and not rules.scale.match(text, pos):
            if lang != "kk" or not _KK_SUFFIX.fullmatch(glued.group(0)):
                return (
                    None  # an ordinal, a code or a unit glued to the number: "1st", "5G", "10-year"
                )
            pos = glued.end()
        range_scale = Decimal(1)
        dash = _RANGE_DASH.match(text, pos)
        second = _PLAIN_NUM.match(text, dash.end()) if dash else None
        if second:
            scale_m = rules.scale.match(text, second.end())
            range_scale = _scale_value(rules, scale_m)
            value_max = _digits_value(second.group(0), second.group(1), bool(scale_m), lang)
            value_max *= range_scale
            pos = scale_m.end() if scale_m else second.end()
        scale_m = None if second else rules.scale.match(text, pos)
        if scale_m:
            pos = scale_m.end()
        grouped = NUM_RE.match(text, start)
        sep = grouped.group(1) if grouped else None
        scale = _scale_value(rules, scale_m) * range_scale
        value = _digits_value(raw, sep, scale != 1, lang) * scale
        if (
            scale == 1
            and sep is None
            and raw.isdigit()
            and len(raw) == 4
            and 1900 <= int(raw) <= 2100
            and not (value_max is None and rules.count_after and rules.count_after.match(text, pos))
        ):
            return None  # a year, or a span of years
        glued = _GLUED.match(text, pos)
        if scale_m and glued and lang == "kk" and _KK_SUFFIX.fullmatch(glued.group(0)):
            pos = glued.end()  # "млн-нан"
    unit: str | None = None
    before = max(0, start - _BEFORE)  # the words before the number start here ...
    cut = start  # ... and end here, before its currency mark
    near = max(before, start - rules.currency_before_width)
    gate = rules.currency_before_any
    for code, rx in rules.currency_before if gate is None or gate.search(text, near, start) else ():
        cm = rx.search(text, near, start)
        if cm:
            unit = code
            cut = cm.start()
            break
    gate = rules.currency_after_any
    if unit is None and (gate is None or gate.match(text, pos)):
        for code, rx in rules.currency_after:
            cm = rx.match(text, pos)
            if cm:
                unit = code
                pos = cm.end()
                break
    after_text = text[pos : pos + 60]
    bound, before_len, after_len = _bound(rules, lang, text, before, cut, after_text)
    if bound == "exact":
        bound = _glued_bound(rules, lang, text[start:pos]) or bound
    if bound == "exact" and is_words and _inverted(rules, raw):
        bound = "approx"
    unit_at = pos + after_len
    units: Alternation | re.Pattern[str] | None = rules.unit_after
    if rules.unit_cover is not None and not may_start(rules.unit_cover, text, unit_at):
        units = rules.unit_open  # none of the others can start here
    if unit is None and units:
        um = units.match(text, unit_at)
        if um and not text[um.end() : um.end() + 1].isalnum():
            return None
    ctx_b = rules.context_before.get(lang)
    table = rules.tables.get(lang)
    if ending_at(ctx_b, text, before, cut - before_len, table, "number:context"):
        return None
    ctx_a = rules.context_after.get(lang)
    if ctx_a and ctx_a.match(after_text[after_len:]):
        return None
    ctx_n = rules.context_next.get(lang)
    if ctx_n and ctx_n.match(after_text):
        return None
    if value <= 0:
        return None
    return Quantity(
        start=start,
        end=pos,
        value=_plain(value),
        bound=bound,
        unit=unit,
        value_max=_plain(value_max) if value_max is not None else None,
    )


def _scale_value(rules: NumberRules, m: re.Match[str] | None) -> Decimal:
    if m is None:
        return Decimal(1)
    for name, value in rules.scale_values.items():
        if m.group(name):
            return value
    return Decimal(1)


def _plain(value: Decimal) -> Value:
    """126000 stays an int-valued float; 157.1 million is exactly 157100000."""
    return int(value) if value == value.to_integral_value() else float(value)


_RANGE_WORDS = {
    "en": (
        re.compile(r"(?<!\w)between\s*[$€£₸]?\s*$", re.I),
        re.compile(r"^\s*and\s*[$€£₸]?\s*$", re.I),
    ),
    "ru": (re.compile(r"(?<!\w)(?:от|между)\s*$", re.I), re.compile(r"^\s*(?:до|и)\s*$", re.I)),
    "kk": (None, None),
}


# "39 320 теңгеден 196 600 теңгеге дейін": a Kazakh range, the low end in the ablative, the
# high end with "дейін"; unless a verb of change follows ("... дейін өсті": grew to)
_KK_RANGE_LOW = re.compile(r"(?:дан|ден|тан|тен|нан|нен)$", re.I)
_KK_RANGE_CHANGE = re.compile(
    r"\s*дейін\s+(?:\w+\s+)?(?:арт|өс|көбей|азай|кемі|қысқар|төменде|ұлғай)\w*", re.I
)
# "KZT 39,320 to 196,600": a sum and a bare number after "to" are a range of that currency,
# unless a verb of change comes before ("rose from KZT 40 million to 48 million")
_EN_RANGE_LINK = re.compile(r"\s*(?:to|-)\s*", re.I)
_EN_CHANGE_FROM = re.compile(
    r"\b(?:rose|risen|grew|grown|increased|decreased|fell|fallen|dropped|climbed|declined|"
    r"jumped|surged|went\s+(?:up|down))\s+from\s+\S*\s*$",
    re.I,
)


def _unmarked_range(text: str, q: Quantity, nxt: Quantity, lang: str) -> bool:
    """A range written without a word before its low end (`_RANGE_WORDS`)."""
    between = text[q.end : nxt.start]
    if lang == "kk":
        return (
            _KK_RANGE_LOW.search(text, q.start, q.end) is not None
            and (not between or between.isspace())
            and nxt.bound == "at_most"
            and q.unit in (None, nxt.unit)
            and _KK_RANGE_CHANGE.match(text, nxt.end) is None
        )
    if lang == "en":
        return (
            q.unit is not None
            and nxt.unit is None
            and _EN_RANGE_LINK.fullmatch(between) is not None
            and _EN_CHANGE_FROM.search(text, max(0, q.start - 40), q.start) is None
        )
    return False


def _merge_ranges(text: str, quantities: list[Quantity], lang: str = "") -> list[Quantity]:
    """'between 1,000 and 2,000', 'от 3 до 5 тысяч', '39 320 теңгеден 196 600 теңгеге дейін':
    one quantity from the lower end."""
    out: list[Quantity] = []
    i = 0
    while i < len(quantities):
        q = quantities[i]
        nxt = quantities[i + 1] if i + 1 < len(quantities) else None
        if nxt is not None and (
            _unmarked_range(text, q, nxt, lang)
            # "от 900 до 1500 долларов": one currency
            or (_range_start(text, q, nxt.start) and q.unit in (None, nxt.unit))
        ):
            low = q.value
            if low < nxt.value / 100 and nxt.value >= 1000:
                low = low * _scale_of(nxt.value, low)
            bound = q.bound if q.bound != "exact" else "at_least"
            # "KZT 39,320 to 196,600": the currency of either end
            out.append(Quantity(q.start, nxt.end, low, bound, nxt.unit or q.unit, nxt.value))
            i += 2
        else:
            out.append(_range_bound(q))
            i += 1
    return out


def _scale_of(high: Value, low: Value) -> int:
    scale = 1
    while low * scale * 10 <= high and scale < 10**9:
        scale *= 1000 if low * scale * 1000 <= high else 10
    return scale


def _range_bound(q: Quantity) -> Quantity:
    if q.value_max is not None and q.bound == "exact":
        return Quantity(q.start, q.end, q.value, "at_least", q.unit, q.value_max)
    return q
