"""Load, validate and compile the rules folder (see rules/README.md).

`load_rules(path)` reads every TOML file, checks every key and compiles every pattern, so a
mistake is reported once, at start-up, as ``file: key: problem``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .dates import DateRules, compile_dates
from .numbers import NumberRules, compile_numbers
from .patterns import (
    LANGS,
    PrefixTable,
    Recent,
    RulesError,
    all_langs,
    check_keys,
    cover_of,
    first_chars,
    folded,
    holds_one,
    per_lang,
    possessive,
    prefix_cover,
    required_of,
    required_strings,
    scan,
    start_strings,
    str_list,
    union,
)

__all__ = [
    "Cues",
    "Hit",
    "Metric",
    "Rules",
    "RulesError",
    "Vocab",
    "default_rules_dir",
    "load_rules",
]

UNITS = ("persons", "cases", "visas", "money")
_ANCHOR = "(?<!\\w)"


def default_rules_dir() -> Path:
    """The rules shipped with the package (installed), or the repository's rules/ (editable)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "metrics.toml").is_file():
            return candidate
    return here / "rules"


@dataclass(init=False, unsafe_hash=True)
class Hit:
    # made for every name found: its __init__ written out, as text.Sentence's is
    start: int
    end: int
    value: str
    adj: bool = False

    def __init__(self, start: int, end: int, value: str, adj: bool = False) -> None:
        self.start = start
        self.end = end
        self.value = value
        self.adj = adj


@dataclass(frozen=True)
class Vocab:
    """A gazetteer: words in three languages naming the values of one dim (keyed by its dim).

    A gazetteer is hundreds of alternatives, and Python's regex engine tries each of them at
    every position of a sentence. So the names are indexed by the characters they can start
    with (`patterns.first_chars`): `starts` finds the candidate positions in one C-level scan,
    and only the names starting with that character are tried there (`by_char`). Before
    that, a sentence in which no name can start (`cover`, see `patterns.prefix_cover`) is
    not scanned at all.
    """

    name: str
    dim: str
    groups: dict[str, tuple[str, bool]]  # regex group name -> (value, is adjective)
    each: dict[tuple[str, bool], re.Pattern[str]]
    starts: re.Pattern[str]
    by_char: dict[str, tuple[re.Pattern[str], tuple[tuple[str, bool], ...]]]
    cover: frozenset[str] | None = None  # what every name starts with; None: anything
    # names too general to give the value beside another dim of the same number: Kazakh
    # "мамандар" in "Ресейден келген мамандар - 640" is workers, not the category specialists
    weak: re.Pattern[str] | None = None

    def find(self, text: str, positions: Iterable[int] | None = None) -> list[Hit]:
        """All values named in `text`; of two overlapping names the longer wins.

        `positions`: where a name may start (`Rules.find_vocabs` has them from its
        PrefixTable), instead of looking for them here."""
        hits: list[Hit] = []
        if positions is None:
            if self.cover is not None and self.cover.isdisjoint(start_strings(text)):
                return hits
            positions = (m.start() for m in self.starts.finditer(text))
        pos = 0
        for at in positions:
            if at < pos:
                continue
            entry = self.by_char.get(text[at].lower())
            if entry is None:
                continue
            combined, keys = entry
            m = combined.match(text, at)
            if not m:
                continue
            best_end, best = m.end(), self.groups[m.lastgroup or ""]
            for key in keys:
                other = self.each[key].match(text, at)
                if other and other.end() > best_end:
                    best_end, best = other.end(), key
            hits.append(Hit(at, best_end, best[0], best[1]))
            pos = max(best_end, at + 1)
        return hits


# a cue group's pattern in one language: its group, its pattern, its name in `tables` (None
# without a cover), the required strings of its open words, whether it has open words
_Plan = tuple[str, re.Pattern[str], str | None, frozenset[str] | None, bool]


@dataclass(frozen=True)
class Cues:
    groups: dict[str, dict[str, re.Pattern[str] | None]]
    partitive: dict[str, re.Pattern[str] | None]
    # (group, lang) -> the prefix cover of its words, so that a group none of whose words can
    # start in a sentence is not searched at all; of a group with open words (words that may
    # start anywhere: "\w+stanis"), the cover of its other words
    covers: dict[tuple[str, str], frozenset[str] | None] = field(default_factory=dict)
    # "<lang>_before" (the text before a place name ends so: "in ", "в ") and "<lang>_form"
    # (the name's own form: Kazakh "Кореяда"): a place named as where something is
    locative: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    ablative: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # lang -> where the groups that have a cover may start ("cue:<group>"), so that each is
    # tried only there; load_rules shares one table per language among all the rules
    tables: dict[str, PrefixTable] = field(default_factory=dict)
    # the (group, lang) pairs with open words, and for each the strings one of which every
    # match of an open word holds (None: none known): a sentence without one is read as if
    # the open words were not there
    open_words: frozenset[tuple[str, str]] = frozenset()
    required: dict[tuple[str, str], frozenset[str] | None] = field(default_factory=dict)
    # lang -> what `find` runs over a sentence, in order (`_Plan`)
    plans: dict[str, list[_Plan]] = field(default_factory=dict)
    # lang -> the index in `plans` of each plan's name in `tables`, and of the plans with open
    # words
    keyed: dict[str, dict[str, int]] = field(default_factory=dict)
    open_plans: dict[str, list[int]] = field(default_factory=dict)
    # the partitive, locative and ablative patterns (by key): strings one of which each match
    # holds (None: not known), so that they are searched for only in a sentence holding one
    needs: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def says(self, key: str, piece: str, low: str) -> bool:
        """Whether the partitive pattern `key` matches in `piece` of a sentence whose folded
        text is `low`."""
        rx = self.partitive.get(key)
        if rx is None:
            return False
        return holds_one(self.needs.get(key), low) and rx.search(piece) is not None

    def find(self, text: str, lang: str) -> dict[str, list[tuple[int, int]]]:
        table = self.tables.get(lang)
        starts = table.candidates(text) if table else {}
        out: dict[str, list[tuple[int, int]]] = {}
        plans = self.plans.get(lang, [])
        # the plans of the groups that may start here, and those with open words, in order
        index = self.keyed.get(lang, {})
        chosen = [i for key in starts if (i := index.get(key, -1)) >= 0]
        chosen += self.open_plans.get(lang, ())
        chosen.sort()
        for i in chosen:
            name, rx, key, needed, has_open = plans[i]
            if has_open and holds_one(needed, folded(text)):
                # open words may match anywhere, but only in a text holding a string they need:
                # without one, the group matches only where its other words may start
                spans = [m.span() for m in rx.finditer(text)]
            elif key is not None and (positions := starts.get(key)) is not None:
                spans = scan(rx, text, positions)
            else:
                continue
            if spans:
                out[name] = spans
        return out

    def planned(self) -> Cues:
        """These cues with their `plans` made."""
        plans: dict[str, list[_Plan]] = {}
        for lang in LANGS:
            plans[lang] = [
                (
                    name,
                    rx,
                    None if self.covers.get((name, lang)) is None else f"cue:{name}",
                    self.required.get((name, lang)),
                    (name, lang) in self.open_words,
                )
                for name, by_lang in self.groups.items()
                if (rx := by_lang.get(lang))
            ]
        keyed = {
            lang: {
                key: i
                for i, (_, _, key, _, has_open) in enumerate(p)
                if key is not None and not has_open
            }
            for lang, p in plans.items()
        }
        open_plans = {lang: [i for i, plan in enumerate(p) if plan[4]] for lang, p in plans.items()}
        return replace(self, plans=plans, keyed=keyed, open_plans=open_plans)

    def prefix_covers(self, lang: str) -> dict[str, frozenset[str]]:
        """The covers of the groups in `lang`, by their names in `tables`."""
        return {
            f"cue:{name}": cover
            for (name, of), cover in self.covers.items()
            if of == lang and cover is not None
        }


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    dims: dict[str, str]  # dim name -> vocabulary name
    require: list[list[list[str]]]  # alternatives; each: every group needs one hit
    anchor: list[str]
    veto: list[str] = field(default_factory=list)
    # veto group -> cue groups that lift it when the sentence has one of them: students are
    # not workers, unless the sentence says they work
    veto_unless: dict[str, list[str]] = field(default_factory=dict)
    partitive_moves: list[str] = field(default_factory=list)
    each: list[str] = field(default_factory=list)
    adjectives: list[str] = field(default_factory=list)  # dims named by "Chinese", "узбекских"
    min_value: float = 0
    max_value: float = float("inf")
    inherit: list[str] = field(default_factory=list)
    carry: str = "dims"  # or "anaphora": continue only a sentence that says "of them"
    defaults: dict[str, dict[str, str]] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)  # dims one word gives a whole sentence
    # it counts people in Kazakhstan: a number its sentence places in another country
    # ("в Корее работают 300 тыс. иностранцев") is that country's, not a figure
    counted_in_kazakhstan: bool = False
    # a range ("from KZT 39,320 to 196,600") is never one of its figures: for fines it is the
    # scale the law sets, not a sum imposed
    no_ranges: bool = False


_RECENT_HITS = 1024  # (dim, lang, sentence) triples Rules remembers the hits of


@dataclass(frozen=True)
class Rules:
    path: Path
    numbers: NumberRules
    dates: DateRules
    cues: Cues
    vocabs: dict[str, Vocab]
    metrics: dict[str, Metric]
    statuses: Any  # monitor.statuses.StatusRules
    examples: dict[str, list[dict[str, Any]]]  # file name -> its [[example]] tables
    # lang -> where every pattern that has a cover may start, in one table shared by the cues,
    # the vocabularies ("vocab:<dim>"), the dates, the number words and the statuses: one look
    # at a sentence serves all of them
    tables: dict[str, PrefixTable] = field(default_factory=dict)
    # (dim, lang, sentence) -> its hits, for the sentences read last: the figures and then the
    # statuses of an article look for the countries of the same sentences
    recent: Recent = field(default_factory=lambda: Recent(_RECENT_HITS))

    def find_vocabs(self, text: str, lang: str) -> dict[str, list[Hit]]:
        """`Vocab.find` of every vocabulary, keyed by dim, from one look at `text`."""
        return {dim: self.find_vocab(dim, text, lang) for dim in self.vocabs}

    def find_vocab(self, dim: str, text: str, lang: str) -> list[Hit]:
        """`Vocab.find` of the dim's vocabulary, where `tables` says its names may start.
        The lists of the sentences read last are remembered: read them, never change them."""
        key = (dim, lang, text)
        hits: list[Hit] | None = self.recent.get(key)
        if hits is None:
            hits = self._find_vocab(dim, text, lang)
            self.recent.put(key, hits)
        return hits

    def _find_vocab(self, dim: str, text: str, lang: str) -> list[Hit]:
        vocab = self.vocabs[dim]
        table = self.tables.get(lang)
        if vocab.cover is None or table is None:
            return vocab.find(text)
        return vocab.find(text, table.candidates(text).get(f"vocab:{dim}", ()))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RulesError(path.name, "-", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(path.name, "-", f"not valid TOML: {exc}") from None


def compile_vocab(data: dict[str, Any], file: str, name: str) -> Vocab:
    check_keys(data, ["dim", "description", "values", "weak", "example"], file, "")
    dim = data.get("dim")
    if not isinstance(dim, str) or not dim:
        raise RulesError(file, "dim", "missing: the dim these values fill")
    values = data.get("values")
    if not isinstance(values, dict) or not values:
        raise RulesError(file, "values", "missing: a table of values")
    allowed = [*LANGS, *(f"adj_{lang}" for lang in LANGS)]
    groups: dict[str, tuple[str, bool]] = {}
    each: dict[tuple[str, bool], re.Pattern[str]] = {}
    parts: list[tuple[int, str, tuple[str, bool], list[str]]] = []
    for value, table in values.items():
        if not isinstance(table, dict):
            raise RulesError(file, f"values.{value}", "expected a table of patterns per language")
        check_keys(table, allowed, file, f"values.{value}")
        for adj in (False, True):
            pats = [
                p
                for lang in LANGS
                for p in str_list(table, f"adj_{lang}" if adj else lang, file, f"values.{value}")
            ]
            rx = union(pats, file, f"values.{value}")
            if rx is None:
                continue
            group = f"g{len(groups)}"
            groups[group] = (value, adj)
            each[(value, adj)] = rx
            parts.append((max(len(p) for p in pats), group, (value, adj), pats))
    parts.sort(key=lambda item: item[0], reverse=True)
    weak = all_langs(data, "weak", file)
    return replace(_indexed_vocab(name, dim, groups, each, parts), weak=weak)


def _indexed_vocab(
    name: str,
    dim: str,
    groups: dict[str, tuple[str, bool]],
    each: dict[tuple[str, bool], re.Pattern[str]],
    parts: list[tuple[int, str, tuple[str, bool], list[str]]],
) -> Vocab:
    """Index the names by first character (see Vocab); names that may start with anything
    (a leading \\w or optional part the index cannot bound) are tried at every word start."""
    by_char: dict[str, list[tuple[str, tuple[str, bool], str]]] = {}
    anywhere: list[tuple[str, tuple[str, bool], str]] = []
    for _, group, key, pats in parts:
        for pattern in pats:
            chars = first_chars(pattern)
            if chars is None:
                anywhere.append((group, key, pattern))
            for char in chars or ():
                by_char.setdefault(char, []).append((group, key, pattern))
    if anywhere:
        for char in by_char:
            by_char[char].extend(anywhere)
    index: dict[str, tuple[re.Pattern[str], tuple[tuple[str, bool], ...]]] = {}
    for char, entries in by_char.items():
        index[char] = (_alternation(entries), tuple(dict.fromkeys(k for _, k, _ in entries)))
    if anywhere:
        starts = re.compile(r"(?<!\w)\w", re.I)
        fallback = _alternation(anywhere), tuple(dict.fromkeys(k for _, k, _ in anywhere))
        index = _DefaultIndex(index, fallback)
    else:
        heads = "".join(re.escape(c) for c in sorted(by_char))
        starts = re.compile(f"(?<!\\w)[{heads}]", re.I)
    cover = cover_of(p for _, _, _, pats in parts for p in pats)
    return Vocab(
        name=name, dim=dim, groups=groups, each=each, starts=starts, by_char=index, cover=cover
    )


class _DefaultIndex(dict[str, tuple[re.Pattern[str], tuple[tuple[str, bool], ...]]]):
    """The first-character index, with the names that may start anywhere as its default."""

    def __init__(self, index: dict[str, Any], fallback: tuple[re.Pattern[str], Any]) -> None:
        super().__init__(index)
        self.fallback = fallback

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key, self.fallback)


def _alternation(entries: list[tuple[str, tuple[str, bool], str]]) -> re.Pattern[str]:
    """One named group per value, in the order given (longest names first)."""
    by_group: dict[str, list[str]] = {}
    for group, _, pattern in entries:
        by_group.setdefault(group, []).append(pattern)
    body = "|".join(
        f"(?P<{group}>" + "|".join(f"(?:{possessive(p)})" for p in pats) + ")"
        for group, pats in by_group.items()
    )
    return re.compile(f"(?<!\\w)(?:{body})", re.I)


def compile_cues(data: dict[str, Any], file: str) -> Cues:
    groups = {}
    partitive: dict[str, re.Pattern[str] | None] = {}
    locative: dict[str, re.Pattern[str] | None] = {}
    ablative: dict[str, re.Pattern[str] | None] = {}
    covers: dict[tuple[str, str], frozenset[str] | None] = {}
    required: dict[tuple[str, str], frozenset[str] | None] = {}
    open_words: set[tuple[str, str]] = set()
    needs: dict[str, frozenset[str] | None] = {}
    for name, table in data.items():
        if name in ("description", "example"):
            continue
        if not isinstance(table, dict):
            raise RulesError(file, name, "expected a table")
        if name in ("partitive", "locative", "ablative"):
            into = {"partitive": partitive, "locative": locative, "ablative": ablative}[name]
            if name != "partitive":
                kinds: tuple[str, ...] = ("before", "form")
                if name == "locative":
                    kinds = (*kinds, "owner", "owner_before")
                keys = [f"{lang}_{kind}" for lang in LANGS for kind in kinds]
                check_keys(table, keys, file, name)
            for key, pattern in table.items():
                if not isinstance(pattern, str):
                    raise RulesError(file, f"{name}.{key}", "expected a pattern string")
                into[key] = (
                    union([pattern], file, f"{name}.{key}", anchor=False) if pattern else None
                )
                needs[key] = required_strings(pattern) if pattern else None
            continue
        check_keys(table, LANGS, file, name)
        groups[name] = per_lang(table, file, name)
        for lang in LANGS:
            words = str_list(table, lang, file, name)
            closed = [(w, c) for w in words if (c := prefix_cover(w)) is not None]
            covers[(name, lang)] = frozenset().union(*(c for _, c in closed))
            if len(closed) < len(words):
                open_words.add((name, lang))
                shut = {w for w, _ in closed}
                required[(name, lang)] = required_of(w for w in words if w not in shut)
    cues = Cues(
        groups=groups,
        partitive=partitive,
        covers=covers,
        locative=locative,
        ablative=ablative,
        open_words=frozenset(open_words),
        required=required,
        needs=needs,
    )
    tables = {lang: PrefixTable.of(cues.prefix_covers(lang)) for lang in LANGS}
    return replace(cues, tables=tables).planned()


def _condition(
    groups: Any, file: str, key: str, cue_names: set[str], vocabs: dict[str, Vocab]
) -> list[list[str]]:
    if (
        not groups
        or not isinstance(groups, list)
        or not all(isinstance(g, list) and g and all(isinstance(i, str) for i in g) for g in groups)
    ):
        raise RulesError(file, key, "expected a list of non-empty lists of cue group names")
    for i, group in enumerate(groups):
        for item in group:
            known = item[1:] in vocabs if item.startswith("@") else item in cue_names
            if not known:
                raise RulesError(file, f"{key}[{i}]", f"unknown cue group {item!r}")
    return groups


def _flag(table: dict[str, Any], key: str, file: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise RulesError(file, f"{where}.{key}", "expected true or false")
    return value


def _number(table: dict[str, Any], key: str, default: float, file: str, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(file, f"{where}.{key}", "expected a number")
    return float(value)


def _choice(
    table: dict[str, Any], key: str, options: tuple[str, ...], file: str, where: str
) -> str:
    value = table.get(key, options[0])
    if value not in options:
        raise RulesError(file, f"{where}.{key}", f"expected one of {', '.join(options)}")
    return str(value)


def compile_metrics(
    data: dict[str, Any], file: str, cue_names: set[str], vocabs: dict[str, Vocab]
) -> dict[str, Metric]:
    metrics = {}
    for name, table in data.items():
        if name in ("description", "example"):
            continue
        if not isinstance(table, dict):
            raise RulesError(file, name, "expected a table")
        check_keys(
            table,
            [
                "unit",
                "dims",
                "require",
                "or_require",
                "anchor",
                "veto",
                "veto_unless",
                "partitive_moves",
                "each",
                "adjectives",
                "min_value",
                "max_value",
                "inherit",
                "defaults",
                "carry",
                "shared",
                "counted_in_kazakhstan",
                "no_ranges",
            ],
            file,
            name,
        )
        unit = table.get("unit")
        if unit not in UNITS:
            raise RulesError(file, f"{name}.unit", f"expected one of {', '.join(UNITS)}")
        dims = table.get("dims", {})
        for dim, vocab in dims.items():
            if vocab not in vocabs:
                raise RulesError(file, f"{name}.dims.{dim}", f"no vocabulary {vocab!r} in vocab/")
        require = [_condition(table.get("require"), file, f"{name}.require", cue_names, vocabs)]
        for i, alt in enumerate(table.get("or_require", [])):
            require.append(_condition(alt, file, f"{name}.or_require[{i}]", cue_names, vocabs))
        for key in ("anchor", "veto"):
            for item in str_list(table, key, file, name):
                if key == "veto" and item.startswith("@"):
                    if item[1:] not in vocabs:
                        raise RulesError(file, f"{name}.veto", f"no vocabulary {item[1:]!r}")
                elif item not in cue_names:
                    raise RulesError(file, f"{name}.{key}", f"unknown cue group {item!r}")
        veto_unless = table.get("veto_unless", {})
        if not isinstance(veto_unless, dict):
            raise RulesError(file, f"{name}.veto_unless", "expected a table: {veto = [cues]}")
        for veto in veto_unless:
            if veto not in str_list(table, "veto", file, name):
                raise RulesError(file, f"{name}.veto_unless.{veto}", "not one of its vetoes")
            for cue in str_list(veto_unless, veto, file, f"{name}.veto_unless"):
                if cue not in cue_names:
                    raise RulesError(
                        file, f"{name}.veto_unless.{veto}", f"unknown cue group {cue!r}"
                    )
        defaults = table.get("defaults", {})
        for dim, by_cue in defaults.items():
            if dim not in dims or not isinstance(by_cue, dict):
                raise RulesError(file, f"{name}.defaults.{dim}", "expected a dim: {cue = value}")
            for cue in by_cue:
                if cue not in cue_names:
                    raise RulesError(file, f"{name}.defaults.{dim}", f"unknown cue group {cue!r}")
        for key in ("partitive_moves", "each", "adjectives", "inherit", "shared"):
            for item in str_list(table, key, file, name):
                if item not in dims:
                    raise RulesError(file, f"{name}.{key}", f"{item!r} is not one of its dims")
        metrics[name] = Metric(
            name=name,
            unit=unit,
            dims=dict(dims),
            require=require,
            anchor=str_list(table, "anchor", file, name),
            veto=str_list(table, "veto", file, name),
            veto_unless={veto: list(lifts) for veto, lifts in veto_unless.items()},
            partitive_moves=str_list(table, "partitive_moves", file, name),
            each=str_list(table, "each", file, name),
            adjectives=str_list(table, "adjectives", file, name),
            min_value=_number(table, "min_value", 0, file, name),
            max_value=_number(table, "max_value", float("inf"), file, name),
            inherit=str_list(table, "inherit", file, name),
            carry=_choice(table, "carry", ("dims", "anaphora"), file, name),
            defaults={dim: dict(v) for dim, v in defaults.items()},
            shared=str_list(table, "shared", file, name),
            counted_in_kazakhstan=_flag(table, "counted_in_kazakhstan", file, name),
            no_ranges=_flag(table, "no_ranges", file, name),
        )
    return metrics


def load_rules(path: Path | str | None = None) -> Rules:
    """Load the rules folder at `path` (default: the rules shipped with the package)."""
    from .statuses import compile_statuses

    root = Path(path) if path else default_rules_dir()
    if not root.is_dir():
        raise RulesError(str(root), "-", "no such rules folder")
    files = {}
    for name in ("numbers.toml", "dates.toml", "cues.toml", "metrics.toml", "statuses.toml"):
        if not (root / name).is_file():
            raise RulesError(f"{root}/{name}", "-", "missing file")
        files[name] = _read(root / name)
    vocabs = {}
    for vpath in sorted((root / "vocab").glob("*.toml")):
        data = _read(vpath)
        files[f"vocab/{vpath.name}"] = data
        vocab = compile_vocab(data, f"vocab/{vpath.name}", vpath.stem)
        if vocab.dim in vocabs:
            raise RulesError(f"vocab/{vpath.name}", "dim", f"{vocab.dim!r} is already defined")
        vocabs[vocab.dim] = vocab
    numbers = compile_numbers(files["numbers.toml"], "numbers.toml")
    dates = compile_dates(files["dates.toml"], "dates.toml")
    cues = compile_cues(files["cues.toml"], "cues.toml")
    metrics = compile_metrics(files["metrics.toml"], "metrics.toml", set(cues.groups), vocabs)
    statuses = compile_statuses(files["statuses.toml"], "statuses.toml")
    for needed in ("country",):
        if needed not in vocabs:
            raise RulesError("vocab/", "-", f"no vocabulary for the dim {needed!r}")
    examples = {}
    for name, data in files.items():
        ex = data.get("example", [])
        if not isinstance(ex, list):
            raise RulesError(name, "example", "expected [[example]] tables")
        for i, item in enumerate(ex):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise RulesError(name, f"example[{i}]", "an example needs a text")
        examples[name] = ex
    tables = {}
    for lang in LANGS:
        covers = {f"vocab:{d}": v.cover for d, v in vocabs.items() if v.cover is not None}
        covers |= cues.prefix_covers(lang) | dates.prefix_covers() | numbers.prefix_covers(lang)
        covers |= statuses.prefix_covers(lang)
        tables[lang] = PrefixTable.of(covers)
    return Rules(
        root,
        replace(numbers, tables=tables),
        replace(dates, tables=tables),
        replace(cues, tables=tables),
        vocabs,
        metrics,
        replace(statuses, tables=tables),
        examples,
        tables,
    )
