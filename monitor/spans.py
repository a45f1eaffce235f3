"""Which number (or status trigger) a word of a sentence belongs to.

A word between two numbers belongs to the one it is not cut off from by punctuation
("Uzbekistan (1,900), Turkey (1,100)": Turkey goes right; "102,000 in Russia, 15,000 in
Korea": Russia goes left). Shared by the reading of figures (extract.py) and of agreement
statuses (agreements.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .rules import Hit

SEPARATOR = re.compile(r"[,;:)]")


@dataclass(frozen=True)
class At:
    """A span of the sentence, where a `Span` is asked for."""

    start: int
    end: int


class Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def owner_of(text: str, start: int, end: int, qs: Sequence[Span]) -> int | None:
    """Index of the quantity (or trigger) a word at [start, end) belongs to (see above)."""
    if not qs:
        return None
    if any(start < q.end and q.start < end for q in qs):
        return None  # inside a quantity
    if end <= qs[0].start:
        return 0
    for i in range(len(qs) - 1):
        left, right = qs[i], qs[i + 1]
        if left.end <= start and end <= right.start:
            seps_left = len(SEPARATOR.findall(text, left.end, start))
            seps_right = len(SEPARATOR.findall(text, end, right.start))
            return i if seps_left <= seps_right else i + 1
    return len(qs) - 1


# what joins the names of one list: a comma or a conjunction (names side by side with only a
# space between are not one: "Өзбекстан Германиямен ... қол қойған", Uzbekistan signed with
# Germany)
_LIST_GAP = re.compile(r"^\s*(?:(?:,|&|and|or|и|или|мен|бен|пен|және|немесе)\s*)+$", re.I)


def grouped(text: str, hits: list[Hit]) -> list[tuple[Hit, tuple[int, int]]]:
    """Each hit with the span of the list it stands in: "agriculture, forestry and
    fisheries (1,200)" is one name for the number, whatever the commas inside it."""
    out: list[tuple[Hit, tuple[int, int]]] = []
    group: list[Hit] = []

    def flush() -> None:
        for g in group:
            out.append((g, (group[0].start, group[-1].end)))

    for h in hits:
        if group and not _LIST_GAP.match(text[group[-1].end : h.start]):
            flush()
            group = []
        group.append(h)
    flush()
    return out


CLAUSE_BREAK = re.compile(
    r"[;:]|\s[-–—]\s|\b(?:even\s+as|as|while|whereas|but|however|although|though|when|"
    r"но|однако|тогда\s+как|в\s+то\s+время\s+как|а|хотя|бірақ|алайда|ал|әйтсе\s+де)\b",
    re.I,
)


def clause_breaks(text: str, a: Span, b: Span) -> int:
    """How many clause breaks stand between two spans."""
    return len(CLAUSE_BREAK.findall(text, min(a.end, b.end), max(a.start, b.start)))
