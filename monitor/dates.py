"""Reference dates written in a sentence: "as of May 1, 2025", "на 1 октября 2025 года",
"2023 жылдың бірінші тоқсанының соңында", "в 2024 году", "January-May 2025", "last year".

The shapes are here; the words (months, ordinals, quarter and half words, relative years)
come from rules/dates.toml. Values follow the SPEC: a day is 'YYYY-MM-DD', a period is
named by its last month 'YYYY-MM' (or its last day after "end of"), a year is 'YYYY'.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .patterns import (
    LANGS,
    PrefixTable,
    RulesError,
    anchored_cover,
    check_keys,
    matches,
    str_list,
    union,
)

# a year not inside a longer number; the lookbehind comes last so that the pattern opens with
# its digits and a search skips to them
_YEAR = re.compile(r"(?:19|20)\d\d(?!\d)(?<!\d{5})")
_NEED_YEAR = frozenset({"day", "range", "quarter", "half", "month", "year"})


@dataclass(init=False, unsafe_hash=True)
class DateRef:
    # made for every date found: its __init__ written out, as text.Sentence's is
    start: int
    end: int
    value: str  # empty for a date that only masks its numbers ("August 8", no year known)
    comparison: bool = False
    relative: bool = False  # "last year", "a year earlier": counted from another date

    def __init__(
        self, start: int, end: int, value: str, comparison: bool = False, relative: bool = False
    ) -> None:
        self.start = start
        self.end = end
        self.value = value
        self.comparison = comparison
        self.relative = relative


@dataclass(frozen=True)
class DateRules:
    months: list[tuple[int, re.Pattern[str]]]
    ordinals: list[tuple[int, re.Pattern[str]]]
    shapes: list[tuple[str, re.Pattern[str]]]
    relative: list[tuple[int, re.Pattern[str]]]
    relative_to_context: list[tuple[int, re.Pattern[str]]]
    to_date: re.Pattern[str] | None  # "since the start of the year": up to the publication date
    comparison: dict[str, re.Pattern[str] | None]
    month_any: re.Pattern[str]
    named_month: frozenset[int]  # the shapes with a month name in them
    # the covers of the shapes ("date:shape<i>"), the relative dates ("date:relative<i>",
    # "date:context<i>") and to_date ("date:to_date") that have one, and (lang ->) where
    # they may start (patterns.PrefixTable)
    covers: dict[str, frozenset[str]] = field(default_factory=dict)
    tables: dict[str, PrefixTable] = field(default_factory=dict)
    # the names of the shapes and relative dates in `covers`, by index, made once
    shape_names: tuple[str, ...] = ()
    relative_names: tuple[str, ...] = ()
    context_names: tuple[str, ...] = ()
    # (the sentence names a year, names a month) -> the shapes that may then be there
    shapes_for: dict[tuple[bool, bool], tuple[int, ...]] = field(default_factory=dict)

    def prefix_covers(self) -> dict[str, frozenset[str]]:
        return dict(self.covers)

    def finder(self) -> dict[str, re.Pattern[str]]:
        """Every pattern of a sentence's dates, by its name in `table`."""
        named = {f"date:shape{i}": rx for i, (_, rx) in enumerate(self.shapes)}
        named |= {f"date:relative{i}": rx for i, (_, rx) in enumerate(self.relative)}
        named |= {f"date:context{i}": rx for i, (_, rx) in enumerate(self.relative_to_context)}
        if self.to_date is not None:
            named["date:to_date"] = self.to_date
        named["date:month"] = self.month_any
        return named


def _matches(
    rules: DateRules,
    starts: dict[str, list[int]] | None,
    name: str,
    rx: re.Pattern[str],
    text: str,
) -> Iterable[re.Match[str]]:
    """`rx.finditer(text)`, tried only where the table says it may start when it can say."""
    if starts is not None and name in rules.covers:
        return matches(rx, text, starts.get(name, ()))
    return rx.finditer(text)


def _alt(patterns: list[str]) -> str:
    return "(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + ")"


def compile_dates(data: dict[str, Any], file: str) -> DateRules:
    check_keys(
        data,
        [
            "description",
            "months",
            "ordinals",
            "periods",
            "years",
            "relative",
            "relative_to_context",
            "to_date",
            "comparison",
            "example",
        ],
        file,
        "",
    )
    months, month_pats = [], []
    for key, pats in data.get("months", {}).items():
        pats = str_list(data["months"], key, file, "months")
        rx = union(pats, file, f"months.{key}", suffix=r"(?!\w)")
        if rx is None or not key.isdigit() or not 1 <= int(key) <= 12:
            raise RulesError(file, f"months.{key}", "a month number 1-12 with patterns")
        months.append((int(key), re.compile(rx.pattern + "$", re.I)))
        month_pats += pats
    ordinals, ord_pats = [], []
    for key in data.get("ordinals", {}):
        pats = str_list(data["ordinals"], key, file, "ordinals")
        rx = union(pats, file, f"ordinals.{key}", suffix=r"(?!\w)")
        if rx is None or not key.isdigit():
            raise RulesError(file, f"ordinals.{key}", "an ordinal number with patterns")
        ordinals.append((int(key), re.compile(rx.pattern + "$", re.I)))
        ord_pats += pats
    periods = data.get("periods", {})
    check_keys(periods, ["quarter", "half", "end_of"], file, "periods")
    for key in ("quarter", "half", "end_of"):
        union(str_list(periods, key, file, "periods"), file, f"periods.{key}")
    years = data.get("years", {})
    check_keys(years, ["before", "after"], file, "years")
    for key in ("before", "after"):
        union(str_list(years, key, file, "years"), file, f"years.{key}")

    mon = rf"(?P<m>{_alt(month_pats)})(?!\w)"
    mon2 = rf"(?P<m2>{_alt(month_pats)})(?!\w)"
    ordn = rf"(?P<o>{_alt(ord_pats)})"
    year = r"(?P<y>(?:19|20)\d\d)(?!\d)"
    day = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|-?ші|-?шы|-?(?:го|е))?"
    yword = r"(?:\s*(?:" + _alt(years["after"]) + r"))?"
    q = _alt(periods["quarter"])
    h = _alt(periods["half"])
    end = r"(?P<end>" + _alt(periods["end_of"]) + r")"
    of = r"\s*[\[(]?\s*(?:of\s+|the\s+)?"
    kk_year = year + r"\s*(?:жыл\w*|ж\.)\s*"
    # "с 1 по 15 июня 2025 года", "from 1 to 15 June", "June 1-15": a span of days, dated by
    # its last day (and its first day is no count)
    first_day = r"[0-3]?\d(?:st|nd|rd|th|-?ші|-?шы|-?(?:го|е))?\s*"
    to_day = r"(?:-|–|—|to|till|until|through|по|до)\s*"
    shapes_src = [
        ("day", rf"{first_day}{to_day}{day}\s+{mon}\s*,?\s+{year}"),
        ("day", rf"{mon}\s+{first_day}{to_day}{day},?\s+{year}"),
        ("day", rf"{kk_year}{first_day}{to_day}{day}\s*-?\s*{mon}"),
        ("dm", rf"{first_day}{to_day}{day}\s*-?\s*{mon}"),
        ("dm", rf"{mon}\s+{first_day}{to_day}(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d,.]\d)"),
        ("day", rf"{mon}\s+{day},?\s+{year}"),
        ("day", rf"{day}\s+{mon}\s*,?\s+{year}"),
        ("day", rf"{kk_year}{day}\s*-?\s*{mon}"),
        ("day", r"(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>(?:19|20)\d\d)(?!\d)"),
        ("day", r"(?P<y>(?:19|20)\d\d)-(?P<mo>[01]\d)-(?P<d>[0-3]\d)"),
        ("range", rf"{mon}\s*(?:-|to|and|по|through|until)\s*{mon2}{of}{year}"),
        ("range", rf"{kk_year}{mon}\s*-\s*{mon2}"),
        ("quarter", rf"(?:{end}\s+)?{ordn}\s+{q}{of}{year}"),
        ("quarter", rf"(?:{end}\s+)?{q}\s*{ordn}\s*{of}{year}"),
        ("quarter", rf"{kk_year}{ordn}\s+{q}(?:\s+{end})?"),
        ("half", rf"(?:{end}\s+)?{ordn}\s+{h}{of}{year}"),
        ("half", rf"{kk_year}{ordn}\s+{h}(?:\s+{end})?"),
        ("month", rf"(?:{end}\s+)?{mon}{of}{year}"),
        ("month", rf"{kk_year}{mon}(?!\s*-)"),
        ("dm", rf"{mon}\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d,.]\d)"),
        ("dm", rf"(?P<d>[0-3]?\d)(?:st|nd|rd|th|-?ші|-?шы|-?(?:го|е))?\s*-?\s*{mon}"),
        ("year", rf"(?:{end}\s+|(?P<yb>{_alt(years['before'])})\s+)?{year}{yword}"),
    ]
    shapes = [(kind, re.compile(r"(?<!\w)" + src, re.I)) for kind, src in shapes_src]
    # the shapes that name a month: not tried in a sentence that names none
    named_month = frozenset(i for i, (_, src) in enumerate(shapes_src) if "(?P<m>" in src)
    month_any = re.compile(r"(?<!\w)" + mon, re.I)

    relative = _relative(data, "relative", file)
    relative_to_context = _relative(data, "relative_to_context", file)
    to_date = union(str_list(data, "to_date", file, ""), file, "to_date")
    comparison = {
        lang: union(
            str_list(data.get("comparison", {}), lang, file, "comparison"),
            file,
            f"comparison.{lang}",
        )
        for lang in LANGS
    }
    rules = DateRules(
        months,
        ordinals,
        shapes,
        relative,
        relative_to_context,
        to_date,
        comparison,
        month_any,
        named_month,
    )
    found = {name: anchored_cover(rx) for name, rx in rules.finder().items()}
    covers = {name: cover for name, cover in found.items() if cover is not None}
    return replace(
        rules,
        covers=covers,
        tables={lang: PrefixTable.of(covers) for lang in LANGS},
        shape_names=tuple(f"date:shape{i}" for i in range(len(rules.shapes))),
        relative_names=tuple(f"date:relative{i}" for i in range(len(rules.relative))),
        context_names=tuple(f"date:context{i}" for i in range(len(rules.relative_to_context))),
        shapes_for={
            (year, month): tuple(
                i
                for i, (kind, _) in enumerate(rules.shapes)
                if (year if kind in _NEED_YEAR else month) and (month or i not in rules.named_month)
            )
            for year in (False, True)
            for month in (False, True)
        },
    )


def _relative(data: dict[str, Any], table: str, file: str) -> list[tuple[int, re.Pattern[str]]]:
    out = []
    for key in data.get(table, {}):
        try:
            offset = int(key)
        except ValueError:
            raise RulesError(file, f"{table}.{key}", "the key must be a whole number") from None
        rx = union(str_list(data[table], key, file, table), file, f"{table}.{key}")
        if rx:
            out.append((offset, rx))
    return out


def _month(rules: DateRules, text: str) -> int:
    for number, rx in rules.months:
        if rx.match(text.strip()):
            return number
    return 0


def _ordinal(rules: DateRules, text: str) -> int:
    for number, rx in rules.ordinals:
        if rx.match(text.strip()):
            return number
    return 0


def _last_day(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _value(rules: DateRules, kind: str, m: re.Match[str], published: str | None) -> str | None:
    g = m.groupdict()
    if kind == "dm":  # "August 8": a date in the publication year, or at least not a count
        month, day = _month(rules, g["m"]), int(g["d"])
        if not (published and 1 <= month <= 12 and 1 <= day <= 31):
            return ""
        return f"{published[:4]}-{month:02d}-{day:02d}"
    year = int(g["y"])
    ended = bool(g.get("end"))
    if kind == "day":
        month = int(g["mo"]) if g.get("mo") else _month(rules, g["m"])
        day = int(g["d"])
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            return None
        return f"{year:04d}-{month:02d}-{day:02d}"
    if kind == "year":
        if not ended and not g.get("yb") and m.group(0).strip() == g["y"]:
            return None  # a bare number that looks like a year: the caller decides
        return _last_day(year, 12) if ended else f"{year:04d}"
    if kind == "range":
        month = _month(rules, g["m2"])
    elif kind == "month":
        month = _month(rules, g["m"])
    elif kind == "quarter":
        month = 3 * _ordinal(rules, g["o"])
    else:
        month = 6 * _ordinal(rules, g["o"])
    if not 1 <= month <= 12:
        return None
    return _last_day(year, month) if ended else f"{year:04d}-{month:02d}"


def find_dates(
    rules: DateRules,
    text: str,
    lang: str,
    published: str | None = None,
    context: str | None = None,
) -> list[DateRef]:
    """Reference dates in one sentence, in order, without overlaps (the first shape wins).

    "last year" counts from the publication year; "a year earlier" from `context`, the year
    the article last spoke of (else the publication year)."""
    found: list[DateRef] = []

    def free(start: int, end: int) -> bool:
        return all(end <= d.start or start >= d.end for d in found)

    table = rules.tables.get(lang)
    starts = table.candidates(text) if table is not None else None
    if rules.to_date is not None:
        # first, so that "с 1 января" is not read as a day of the year
        for m in _matches(rules, starts, "date:to_date", rules.to_date, text):
            found.append(DateRef(m.start(), m.end(), published or "", relative=True))
    has_year = _YEAR.search(text) is not None
    has_month = any(True for _ in _matches(rules, starts, "date:month", rules.month_any, text))
    for i in rules.shapes_for.get((has_year, has_month), ()):
        kind, rx = rules.shapes[i]
        for m in _matches(rules, starts, rules.shape_names[i], rx, text):
            if not free(m.start(), m.end()):
                continue
            value = _value(rules, kind, m, published)
            if value is not None:
                found.append(DateRef(m.start(), m.end(), value))
    explicit = sorted((d for d in found if d.value), key=lambda d: d.start)
    for relative, own_base in ((rules.relative_to_context, False), (rules.relative, True)):
        for i, (offset, rx) in enumerate(relative):
            name = rules.relative_names[i] if own_base else rules.context_names[i]
            for m in _matches(rules, starts, name, rx, text):
                before = [d.value for d in explicit if d.end <= m.start()]
                base_date = published if own_base else (before[-1] if before else context)
                base_date = base_date or published
                if base_date and free(m.start(), m.end()):
                    year = str(int(base_date[:4]) + offset)
                    found.append(DateRef(m.start(), m.end(), year, offset < 0, relative=True))
    return sorted(found, key=lambda d: d.start)
