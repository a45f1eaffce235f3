"""Compiling the regular expressions written in rules files, with errors that name file and key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
