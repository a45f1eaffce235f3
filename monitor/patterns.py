"""Compiling the regular expressions written in rules files, with errors that name file and key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
    body = "|".join(f"(?:{p})" for p in parts)
    return re.compile(("(?<!\\w)" if anchor else "") + f"(?:{body}){suffix}", flags)


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


def _first(items: list[tuple[Any, Any]]) -> set[str] | None:
    """First characters of a sequence of parsed items; None if unknown or if it may be empty."""
    out: set[str] = set()
    for op, av in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: they only restrict
        if op is sre.LITERAL:
            return out | _cased(chr(av))
        if op is sre.IN:
            chars = _in(av)
            return None if chars is None else out | chars
        if op is sre.SUBPATTERN:
            sub = _first(list(av[-1]))
            return None if sub is None else out | sub
        if op is sre.BRANCH:
            alts = [_first(list(alt)) for alt in av[1]]
            if any(a is None for a in alts):
                return None
            return out.union(*alts)  # type: ignore[arg-type]
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, _high, sub_items = av
            sub = _first(list(sub_items))
            if sub is None:
                return None
            out |= sub
            if low > 0:
                return out
            continue  # optional: the next item may come first
        return None
    return None  # the whole sequence may match nothing


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
