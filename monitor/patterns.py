"""Compiling the regular expressions written in rules files, with errors that name file and key."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

LANGS = ("en", "ru", "kk")
FLAGS = re.IGNORECASE


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


# a run of word (or non-space) characters right before a space that must be there, and a
# run of spaces right before a word character that must be there: giving back any of it can
# never let the match go on, so it need not be kept to give back (possessive).
# "(?:\w+\s+){0,3}agencies" tried at every word of a sentence otherwise gives back each word
# a letter at a time.
_GREEDY_RUN = re.compile(
    r"(?<!\\)(\\[wS])([+*])(?=\\s(?![?*]|\{0|\{,))|(?<!\\)(\\s)([+*])(?=\\w(?![?*]|\{0|\{,))"
)


def possessive(pattern: str) -> str:
    """`pattern` with its runs of `_GREEDY_RUN` possessive: the same matches, found without
    the backtracking that cannot succeed."""
    return _GREEDY_RUN.sub(
        lambda m: (m.group(1) or m.group(3)) + (m.group(2) or m.group(4)) + "+", pattern
    )


def union(
    patterns: Iterable[str],
    file: str,
    key: str,
    *,
    anchor: bool = True,
    suffix: str = "",
    flags: int = FLAGS,
) -> re.Pattern[str] | None:
    """One regex matching any of `patterns`; each is checked alone first so a broken one is named.

    With `anchor`, a match must start at a word start. Longer patterns come first so that the
    alternation prefers the longer of two phrases starting at the same place.
    """
    parts = []
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not pattern:
            raise RulesError(file, f"{key}[{i}]", "a pattern must be a non-empty string")
        try:
            re.compile(pattern, flags)
        except re.error as exc:
            raise RulesError(file, f"{key}[{i}]", f"bad pattern {pattern!r}: {exc}") from None
        if re.compile(pattern, flags).match(""):
            raise RulesError(file, f"{key}[{i}]", f"pattern {pattern!r} matches empty text")
        parts.append(pattern)
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    body = "|".join(f"(?:{possessive(p)})" for p in parts)
    # the characters a match can start with, as a lookahead: a search then skips to them
    first = first_class(body, flags)
    ahead = f"(?={first})" if first is not None else ""
    return re.compile(("(?<!\\w)" if anchor else "") + f"{ahead}(?:{body}){suffix}", flags)


_MAX_BRANCHES = 4096  # the unions of alternatives an Alternation keeps compiled


@dataclass(frozen=True)
class Alternation:
    """`lead` then one of `patterns` (longest first, as `union` orders them), matched at one
    position at a time: `match(text, pos)` is what the whole union's `match` gives, but only
    the alternatives that can start with the character standing there are tried. The engine
    would try every one in turn: some 150 units after a number cost 8 µs a try.

    `lead` is "" or r"\\s?" (an optional space, so that the character after it counts too).
    The unions for the characters met are compiled when first needed and kept."""

    lead: str
    patterns: tuple[str, ...]
    firsts: tuple[frozenset[str] | None, ...]  # folded first characters; None: any
    flags: int
    known: frozenset[str] = frozenset()  # every character in `firsts`
    compiled: dict[frozenset[str], re.Pattern[str] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, patterns: Iterable[str], lead: str = "", flags: int = FLAGS) -> Alternation:
        if lead not in ("", r"\s?"):
            raise ValueError(f"unsupported lead {lead!r}")
        ordered = sorted(patterns, key=len, reverse=True)
        firsts = []
        for pattern in ordered:
            chars = first_chars(pattern, flags)
            firsts.append(None if chars is None else frozenset(fold(c)[:1] for c in chars))
        known = frozenset().union(*(f for f in firsts if f is not None))
        return cls(lead, tuple(ordered), tuple(firsts), flags, known)

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        key: list[str] = []
        if pos < len(text):  # at the end only what may match nothing can match
            char = text[pos]
            known = self.known
            if (c := fold(char)[:1]) in known:
                key.append(c)
            if (
                self.lead
                and char.isspace()
                and pos + 1 < len(text)
                and (c := fold(text[pos + 1])[:1]) in known
            ):
                key.append(c)
        chars = frozenset(key)  # the characters no alternative starts with tell nothing
        rx = self.compiled.get(chars, _UNSET)
        if rx is _UNSET:
            rx = self._branch(chars)
        return rx.match(text, pos) if rx is not None else None

    def _branch(self, chars: frozenset[str]) -> re.Pattern[str] | None:
        kept = [
            p
            for p, first in zip(self.patterns, self.firsts, strict=True)
            if first is None or not first.isdisjoint(chars)
        ]
        body = "|".join(f"(?:{possessive(p)})" for p in kept)
        rx = re.compile(self.lead + "(?:" + body + ")", self.flags)
        if len(self.compiled) >= _MAX_BRANCHES:
            self.compiled.clear()
        self.compiled[chars] = found = rx if kept else None
        return found


_UNSET: Any = object()


def all_langs(data: Mapping[str, Any], key: str, file: str) -> re.Pattern[str] | None:
    """One unanchored regex of the patterns table `key` lists per language, the languages
    together (words no language may read otherwise: `[not_words]`, a vocabulary's `weak`)."""
    table = data.get(key, {})
    check_keys(table, LANGS, file, key)
    patterns = [p for lang in LANGS for p in str_list(table, lang, file, key)]
    return union(patterns, file, key, anchor=False)


def str_list(data: Mapping[str, Any], key: str, file: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(file, f"{where}.{key}" if where else key, "expected a list of strings")
    return value


def check_keys(data: Mapping[str, Any], allowed: Iterable[str], file: str, where: str) -> None:
    """Unknown keys are errors: they are almost always typos."""
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            path = f"{where}.{key}" if where else key
            raise RulesError(
                file, path, f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )


def per_lang(
    data: Mapping[str, Any], file: str, where: str, *, prefix: str = "", suffix: str = ""
) -> dict[str, re.Pattern[str] | None]:
    """Compile the `en`/`ru`/`kk` (or `{prefix}en`...) pattern lists of a table."""
    out = {}
    for lang in LANGS:
        key = f"{prefix}{lang}{suffix}"
        out[lang] = union(str_list(data, key, file, where), file, f"{where}.{key}")
    return out


_MAX_SET = 512  # a character class wider than this is treated as "anything"


def max_width(rx: re.Pattern[str]) -> int | None:
    """The most characters a match of `rx` can take; None when unbounded (`\\w+`, `\\s*`)."""
    width = int(_parser.parse(rx.pattern, rx.flags).getwidth()[1])
    return None if width >= _parser.MAXREPEAT else width


def ending_at(
    rx: re.Pattern[str] | None,
    text: str,
    start: int,
    end: int,
    table: PrefixTable | None,
    name: str,
) -> re.Match[str] | None:
    """`rx.search(text, start, end)` for a pattern anchored at a word start that ends at `end`
    (`$`), such as the words before a number: tried only where `table` says `name` may start,
    when it can say, instead of at every position."""
    if rx is None:
        return None
    if table is None or name not in table.names:
        return rx.search(text, start, end)
    positions = table.candidates(text).get(name, ())
    for i in range(bisect_left(positions, start), len(positions)):
        at = positions[i]
        if at >= end:
            break
        m = rx.match(text, at, end)
        if m is not None:
            return m
    return None


def first_chars(pattern: str, flags: int = FLAGS) -> frozenset[str] | None:
    """The lower-cased characters a match of `pattern` can start with, or None if unknown.

    Used to index large alternations by their first character (see rules.Vocab): Python's
    regex engine tries every alternative at every position, which is slow for a gazetteer of
    hundreds of names. The pattern is read with the standard library's own parser; anything
    it cannot bound (a negated class, \\w, an optional whole pattern) gives None, which
    callers treat as "may start anywhere". Never wrong, at worst slower.
    """
    try:
        items = _parser.parse(pattern, flags)
    except re.error:
        return None
    found = _first(list(items))
    return frozenset(found) if found is not None else None


_Leaf = Callable[[Any, Any], set[str] | None]


def _first(items: list[tuple[Any, Any]], leaf: _Leaf | None = None) -> set[str] | None:
    """First characters of a sequence of parsed items; None if unknown or if it may be empty.
    `leaf` tells them for a literal or a class (by default: the lower-cased characters)."""
    first_of = leaf or _lower_leaf
    out: set[str] = set()
    for op, av in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: they only restrict
        if op is sre.LITERAL or op is sre.IN:
            chars = first_of(op, av)
            return None if chars is None else out | chars
        if op is sre.SUBPATTERN:
            sub = _first(list(av[-1]), leaf)
            return None if sub is None else out | sub
        if op is sre.BRANCH:
            alts = [_first(list(alt), leaf) for alt in av[1]]
            if any(a is None for a in alts):
                return None
            return out.union(*alts)  # type: ignore[arg-type]
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, _high, sub_items = av
            sub = _first(list(sub_items), leaf)
            if sub is None:
                return None
            out |= sub
            if low > 0:
                return out
            continue  # optional: the next item may come first
        return None
    return None  # the whole sequence may match nothing


def _lower_leaf(op: Any, av: Any) -> set[str] | None:
    return _cased(chr(av)) if op is sre.LITERAL else _in(av)


_CATEGORY_CLASS = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}


def first_class(pattern: str, flags: int = 0) -> str | None:
    """A character class (as regex source, "[...]") holding every character a match of
    `pattern` can start with, under `flags`; None if unknown. Put before a pattern as a
    lookahead, it lets the regex engine skip to where a match can start, which it cannot do
    for an alternation of patterns that start differently."""
    try:
        items = _parser.parse(pattern, flags)
    except re.error:
        return None
    parts = _first(list(items), _class_leaf)
    if not parts:
        return None
    return "[" + "".join(sorted(parts)) + "]"


def _class_leaf(op: Any, av: Any) -> set[str] | None:
    """The parts of a character class ("a", "0-9", "\\d") for a literal or a class."""
    if op is sre.LITERAL:
        return {re.escape(chr(av))}
    parts: set[str] = set()
    for o, a in av:
        if o is sre.LITERAL:
            parts.add(re.escape(chr(a)))
        elif o is sre.RANGE:
            parts.add(f"{re.escape(chr(a[0]))}-{re.escape(chr(a[1]))}")
        elif o is sre.CATEGORY and a in _CATEGORY_CLASS:
            parts.add(_CATEGORY_CLASS[a])
        else:
            return None  # a negated class
    return parts


def _in(av: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, arg in av:
        if op is sre.LITERAL:
            chars |= _cased(chr(arg))
        elif op is sre.RANGE:
            low, high = arg
            if high - low > _MAX_SET:
                return None
            for code in range(low, high + 1):
                chars |= _cased(chr(code))
        else:
            return None  # NEGATE, CATEGORY (\\w, \\d ...): too wide to index
    return chars


def _cased(char: str) -> set[str]:
    return {char.lower(), char.upper().lower()}


# --------------------------------------------------------------------------- prefilters
#
# Python's regex engine tries a pattern at every position of a sentence, and an extraction
# runs some hundred patterns over each sentence that holds a number. Most of them cannot
# match there at all. A *prefix cover* of a pattern is a set of short strings one of which
# every match starts with; the strings standing at the positions of a sentence where an
# anchored pattern may start (`start_strings`) are collected once, and a pattern whose cover shares
# none of them is not run. The strings are *folded* (`fold`), so that comparing them is
# comparing characters the way IGNORECASE matching does.

# Characters in the longest string of a cover: five tell "в сле" (в следующем году) from the
# "в " every Russian sentence has, and cut the patterns tried in vain by more than half
PREFIX = 5
_MAX_COVER = 4096  # strings in a cover; a wider pattern gets no cover (months: some 1,500)


def _fold_table() -> dict[int, str]:
    """Lower-case characters that IGNORECASE matching takes as one ("ſ" and "s", "ς" and
    "σ", Cyrillic "в" and its rounded form): each mapped to the first of its class."""
    try:
        from re import _casefix  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - CPython 3.11 and later have it
        return {}
    table: dict[int, str] = {}
    for low, extra in _casefix._EXTRA_CASES.items():
        first = min(low, *extra)
        for code in (low, *extra):
            if code != first:
                table[code] = chr(first)
    return table


_FOLD = _fold_table()
_FOLD_ODD = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")
_DOTTED_I = "\u0130"  # "İ": its lower() is two characters; IGNORECASE takes it as "i"


def fold(text: str) -> str:
    """`text` with each character replaced by the representative of the characters that
    IGNORECASE matching takes as equal to it, position for position: two characters match
    each other case-insensitively exactly when their folds are equal."""
    if _DOTTED_I in text:
        text = text.replace(_DOTTED_I, "i")
    low = text.lower()
    return low.translate(_FOLD) if _FOLD and _FOLD_ODD.search(low) else low


_STARTS = re.compile(rf"(?<!\w)(?=(.{{1,{PREFIX}}}))", re.S)
_NON_WORD = re.compile(r"\W")


def start_index(text: str) -> dict[str, list[int]]:
    """The positions of `text` no word character stands before (where a pattern anchored with
    (?<!\\w) may match), by the folded PREFIX characters standing there (fewer at the end).

    Spaces are read as one: every kind as " ", a run of them as one, the way the covers are
    made (`_append`), so that "в\\s+сеул" has the cover "в сеу" rather than "в ". Normalised
    text has nothing else; other text is read through a copy with its spaces so collapsed."""
    index: dict[str, list[int]] = {}
    low = folded(text)
    if low.isprintable() and "  " not in low:  # no space but " " (the others are not printable)
        # the start of the text and every position after a non-word character
        end = len(low)
        if end:
            index[low[:PREFIX]] = [0]
        # split at each of them: the pieces (words, or nothing between two of them) are each
        # followed by one, so the position after it is the sum of the lengths so far; no
        # match object is made
        parts = _NON_WORD.split(low)
        pos = 0
        for i in range(len(parts) - 1):
            pos += len(parts[i]) + 1
            if pos < end:
                key = low[pos : pos + PREFIX]
                got = index.get(key)
                if got is None:
                    index[key] = [pos]
                else:
                    got.append(pos)
        return index
    chars: list[str] = []
    at: list[int] = []  # position in `low` -> its position in the collapsed copy
    for c in low:
        if c.isspace() and at and low[len(at) - 1].isspace():
            at.append(len(chars) - 1)
            continue
        chars.append(" " if c.isspace() else c)
        at.append(len(chars) - 1)
    collapsed = "".join(chars)
    for m in _STARTS.finditer(low):
        start = at[m.start()]
        index.setdefault(collapsed[start : start + PREFIX], []).append(m.start())
    return index


_SPACES = re.compile(r"\s+")


def may_start(cover: frozenset[str], text: str, pos: int) -> bool:
    """Whether a pattern with this prefix cover may match at `pos` of `text`: one look at the
    folded characters there (spaces read as `start_index` reads them), instead of a try."""
    low = folded(text)
    width = 2 * PREFIX
    while True:
        key = low[pos : pos + width]
        if not (key.isprintable() and "  " not in key):
            key = _SPACES.sub(" ", key)
        if len(key) >= PREFIX or pos + width >= len(low):
            break
        width *= 2  # a long run of spaces: look further
    key = key[:PREFIX]
    return any(key[:n] in cover for n in range(1, len(key) + 1))


@lru_cache(maxsize=256)
def start_strings(text: str) -> frozenset[str]:
    """The folded strings of 1 to PREFIX characters that begin at a position of `text` no
    word character stands before: where a pattern anchored with (?<!\\w) may match."""
    found = start_index(text)
    return frozenset([s[:n] for s in found for n in range(1, len(s) + 1)])


@dataclass
class Recent:
    """What was worked out for the keys met last, at least `size` of them: kept in two
    generations, the older dropped whole when the newer is full. Dropping a dict's oldest key
    one at a time would cost a walk over the holes it leaves at every next drop; clearing it
    all would forget the article being read, whose sentences the statuses read again after
    the figures."""

    size: int
    new: dict[Any, Any] = field(default_factory=dict)
    old: dict[Any, Any] = field(default_factory=dict)

    def get(self, key: Any) -> Any:
        found = self.new.get(key)
        if found is None:
            found = self.old.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def put(self, key: Any, value: Any) -> None:
        if len(self.new) >= self.size:
            self.old = self.new
            self.new = {}
        self.new[key] = value


_MEMO_MAX = 50_000  # strings a PrefixTable remembers the patterns of
_RECENT = 128  # texts a PrefixTable remembers the candidates of


@dataclass(frozen=True)
class PrefixTable:
    """Where each of several anchored patterns may match in a text, from one look at the
    strings standing at its start positions (`start_index`) and each pattern's prefix cover.

    This replaces a regex search per pattern and sentence: a pattern is then tried only at
    the positions where one of its cover strings stands (`scan`), and not at all in a text
    where none does. `candidates` gives the same positions for every pattern as testing each
    position against each cover would, at the cost of one dictionary look-up per string of
    the text.
    """

    by_prefix: dict[str, tuple[str, ...]]  # cover string -> the names whose cover holds it
    memo: dict[str, tuple[str, ...]] = field(default_factory=dict)  # start string -> names
    names: frozenset[str] = frozenset()  # every name the table was made for
    recent: Recent = field(default_factory=lambda: Recent(_RECENT))  # text -> candidates

    @classmethod
    def of(cls, covers: Mapping[str, frozenset[str]]) -> PrefixTable:
        by_prefix: dict[str, list[str]] = {}
        for name, cover in covers.items():
            for string in cover:
                by_prefix.setdefault(string, []).append(name)
        return cls({s: tuple(names) for s, names in by_prefix.items()}, names=frozenset(covers))

    def _names(self, start: str) -> tuple[str, ...]:
        """The names whose cover holds a prefix of `start`."""
        get = self.by_prefix.get
        names = dict.fromkeys([n for k in range(1, len(start) + 1) for n in get(start[:k], ())])
        if len(self.memo) >= _MEMO_MAX:
            self.memo.clear()
        self.memo[start] = found = tuple(names)
        return found

    def candidates(self, text: str) -> dict[str, list[int]]:
        """For each name that may match in `text`, the positions where it may start, in order.
        The sentences read last are remembered, and names share lists: read them, never
        change them."""
        out: dict[str, list[int]] | None = self.recent.get(text)
        if out is not None:
            return out
        out = {}
        self.recent.put(text, out)
        memo = self.memo
        merged: list[str] = []  # the names with a list of their own, from several strings
        for start, positions in start_index(text).items():
            names = memo.get(start)
            if names is None:
                names = self._names(start)
            for name in names:
                got = out.get(name)
                if got is None:
                    out[name] = positions  # most names start with one string of a sentence
                else:
                    if not merged or name not in merged:
                        out[name] = got = list(got)
                        merged.append(name)
                    got.extend(positions)  # a position has one start string: never twice
        for name in merged:
            out[name].sort()
        return out


def matches(rx: re.Pattern[str], text: str, positions: Iterable[int]) -> list[re.Match[str]]:
    """The matches `rx.finditer(text)` gives, when every match of `rx` is non-empty and starts
    at one of `positions` (sorted): the leftmost match, then the next from where it ended."""
    found: list[re.Match[str]] = []
    end = 0
    match = rx.match
    for pos in positions:
        if pos < end:
            continue
        m = match(text, pos)
        if m is not None:
            found.append(m)
            end = m.end()
    return found


def search_at(
    rx: re.Pattern[str], text: str, positions: list[int], start: int = 0, end: int | None = None
) -> re.Match[str] | None:
    """`rx.search(text, start, end)` when every match of `rx` starts at one of `positions`
    (sorted): the first of them in the window where it matches."""
    stop = len(text) if end is None else end
    for i in range(bisect_left(positions, start), len(positions)):
        at = positions[i]
        if at >= stop:
            break
        m = rx.match(text, at, stop)
        if m is not None:
            return m
    return None


def scan(rx: re.Pattern[str], text: str, positions: Iterable[int]) -> list[tuple[int, int]]:
    """The spans of `matches`."""
    return [m.span() for m in matches(rx, text, positions)]


def anchored_cover(rx: re.Pattern[str]) -> frozenset[str] | None:
    """The prefix cover of a compiled pattern that must start at a word start, so that a
    PrefixTable may say where it can match; None for any other pattern."""
    if not rx.pattern.startswith(_ANCHOR):
        return None
    return prefix_cover(rx.pattern, rx.flags)


_ANCHOR = "(?<!\\w)"


def prefix_cover(pattern: str, flags: int = FLAGS) -> frozenset[str] | None:
    """Folded strings of at most PREFIX characters such that every non-empty match of
    `pattern` starts with one of them; None when the pattern may start with anything.

    Read with the standard library's own parser, like `first_chars`. Zero-width items
    (\\b, lookarounds) are skipped; an item that cannot be bounded (\\w, an optional part,
    a wide class) ends the strings where they are. Never wrong, at worst too wide.
    """
    try:
        items = _parser.parse(pattern, flags)
    except re.error:
        return None
    states = _extend(list(items), {("", True)})
    if states is None or any(not s for s, _ in states):
        return None
    return frozenset(s for s, _ in states)


def cover_of(patterns: Iterable[str], flags: int = FLAGS) -> frozenset[str] | None:
    """The union of the patterns' covers; None when one of them has none."""
    out: set[str] = set()
    for pattern in patterns:
        cover = prefix_cover(pattern, flags)
        if cover is None:
            return None
        out |= cover
    return frozenset(out)


def required_strings(pattern: str, flags: int = FLAGS) -> frozenset[str] | None:
    """Folded strings of two or more characters one of which every match of `pattern`
    contains; None when none can be told. For a pattern that may start anywhere ("\\w+stanis")
    and so has no prefix cover: a text holding none of them is not searched. Read with the
    standard library's parser, like `prefix_cover`; never wrong, at worst too wide."""
    try:
        items = _parser.parse(pattern, flags)
    except re.error:
        return None
    found = _required(list(items))
    return frozenset(found) if found else None


def _required(items: list[tuple[Any, Any]]) -> set[str] | None:
    best: set[str] | None = None

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and (best is None or _stronger(candidate, best)):
            best = candidate

    run = ""
    for op, av in items:
        if op is sre.LITERAL:
            run += fold(chr(av))
            continue
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: the characters on either side stand together
        if len(run) >= 2:
            consider({run})
        run = ""
        if op is sre.SUBPATTERN:
            consider(_required(list(av[-1])))
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            consider(_required(list(av)))
        elif op is sre.BRANCH:
            alternatives = [_required(list(alt)) for alt in av[1]]
            if all(alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:  # a first copy always stands there
            consider(_required(list(av[2])))
    if len(run) >= 2:
        consider({run})
    return best


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None))


def _stronger(a: set[str], b: set[str]) -> bool:
    """The better of two required sets: longer shortest string, then fewer strings."""
    return (min(map(len, a)), -len(a)) > (min(map(len, b)), -len(b))


def required_chars(pattern: str, flags: int = FLAGS) -> frozenset[str]:
    """Characters every match of `pattern` holds: the literals it cannot do without ("+" in a
    phone number "\\+\\d{7,}", ":" in a time). Only caseless ones under IGNORECASE; empty
    when none can be told. A text without one of them holds no match."""
    try:
        items = _parser.parse(pattern, flags)
    except re.error:
        return frozenset()
    return frozenset(_mandatory(list(items), not items.state.flags & re.IGNORECASE))


def _mandatory(items: list[tuple[Any, Any]], cased: bool) -> set[str]:
    """The literals of a parsed sequence that every match holds (`cased`: as written, else
    only those with no other case)."""
    found: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            char = chr(av)
            if cased or char.lower() == char.upper():
                found.add(char)
        elif op is sre.SUBPATTERN:
            _group, add, remove, sub = av
            keep = (cased and not add & re.IGNORECASE) or bool(remove & re.IGNORECASE)
            found |= _mandatory(list(sub), keep)
        elif op in _REPEATS and av[0] > 0:
            found |= _mandatory(list(av[2]), cased)
        elif op is sre.BRANCH:
            alts = [_mandatory(list(alt), cased) for alt in av[1]]
            found |= set.intersection(*alts) if alts else set()
    return found


def holds_one(needed: frozenset[str] | None, low: str) -> bool:
    """Whether the folded text `low` holds one of the strings a pattern's matches need
    (`required_strings`, `required_of`); True when they are not known."""
    return needed is None or any(n in low for n in needed)


def required_of(patterns: Iterable[str], flags: int = FLAGS) -> frozenset[str] | None:
    """The union of the patterns' required strings; None when one of them has none."""
    out: set[str] = set()
    for pattern in patterns:
        found = required_strings(pattern, flags)
        if found is None:
            return None
        out |= found
    return frozenset(out)


@lru_cache(maxsize=256)
def folded(text: str) -> str:
    """`fold(text)`, kept for the sentences being read."""
    return fold(text)


_State = set[tuple[str, bool]]  # (string so far, may it still grow)


def _extend(items: list[tuple[Any, Any]], states: _State) -> _State | None:
    for op, av in items:
        if not any(grows for _, grows in states):
            break
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width
        if op is sre.LITERAL:
            states = _append(states, {fold(chr(av))})
        elif op is sre.IN:
            chars = {" "} if _blank(op, av) else _in(av)
            states = (
                _close(states) if chars is None else _append(states, {fold(c)[:1] for c in chars})
            )  # 'İ'.lower() is 'i' + a dot
        elif op is sre.SUBPATTERN:
            grown = _extend(list(av[-1]), states)
            if grown is None:
                return None
            states = grown
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            grown = _extend(list(av), states)
            if grown is None:
                return None
            states = grown
        elif op is sre.BRANCH:
            merged: _State = set()
            for alt in av[1]:
                grown = _extend(list(alt), states)
                if grown is None:
                    return None
                merged |= grown
            states = merged
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, high, sub_items = av
            grown = _extend(list(sub_items), states)  # the first of its copies
            if grown is None:
                return None
            if high != 1 and not (len(sub_items) == 1 and _blank(*sub_items[0])):
                grown = _close(grown)  # more copies may follow (of spaces: one, as read)
            states = grown if low else states | grown  # optional: it may be skipped
        else:
            states = _close(states)
        if len(states) > _MAX_COVER:
            return None
    return states


def _append(states: _State, chars: set[str]) -> _State:
    """The states grown by one of `chars`, spaces read as `start_index` reads them: every
    kind as " ", and a run of them as one."""
    out: _State = set()
    for s, grows in states:
        if not grows:
            out.add((s, False))
            continue
        for c in chars:
            if c.isspace():
                if s.endswith(" "):
                    out.add((s, grows))
                    continue
                c = " "
            out.add((s + c, len(s) + 1 < PREFIX))
    return out


def _blank(op: Any, av: Any) -> bool:
    """Whether the item matches one space character (`\\s`, or a class of spaces only)."""
    if op is sre.LITERAL:
        return chr(av).isspace()
    if op is not sre.IN:
        return False
    return bool(av) and all(
        (o is sre.CATEGORY and a in (sre.CATEGORY_SPACE, sre.CATEGORY_UNI_SPACE))
        or (o is sre.LITERAL and chr(a).isspace())
        for o, a in av
    )


def _close(states: _State) -> _State:
    return {(s, False) for s, _ in states}
