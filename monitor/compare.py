"""Change detection: is a newly extracted figure or status new, a repeat, a change or history?

Pure functions over plain values; the store (monitor.store) fetches the facts and writes what
is decided. A *fact* is one value of one series at one reference date, seen in one or more
articles. A *series* is a metric with its dims (and unit), or the agreement with one
counterparty.

The rules (SPEC, "What counts as a change"):

* no fact yet for the series: ``first`` (a new fact, reported as first seen, old = None);
* the value equals, up to rounding, the latest fact's and its reference date is not older:
  ``same`` (the report adds a source to that fact);
* the reference date is newer than the latest fact's and the value differs: ``change``;
* otherwise the report is about the past: the same value as a fact in force at its reference
  date adds a source to that fact (``same``), a different one is a new fact that fills history
  and alerts nobody (``history``).

Statuses follow the same rules, with two differences. Only the status an article gives as
*current* for a counterparty can be ``first`` or ``change``: the others are the article's
account of the past and only fill history, and the latest fact a new status is compared with
is the latest one some article gave as current. And two current statuses with the same
reference date (two articles of the same day) are ordered by the lifecycle: one further along
it is a change ("resumed" after "paused" the same day), one behind it fills history, so that
outlets that repeat yesterday's status do not flip the alert back and forth.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

DECISIONS = ("first", "same", "change", "history")

# Lifecycle order of agreement statuses (SPEC section 2); breaks ties between two current
# statuses reported for the same day.
STATUS_ORDER = (
    "proposed",
    "negotiating",
    "paused",
    "resumed",
    "draft_submitted",
    "agreed",
    "signed",
    "ratified",
    "in_force",
    "terminated",
)

ROUNDING_CAP = 0.05  # a rounded figure stands for at most ±5 % of its value


@dataclass(frozen=True)
class FactRow:
    """One stored fact of a series, as the decision needs it."""

    id: int
    value: float | str  # a number for figures, the status for statuses
    ref_end: str | None  # "YYYY-MM-DD", or None when neither as_of nor a date is known
    current: bool = True  # statuses: some article gave it as its current status


@dataclass(frozen=True)
class Decision:
    kind: str  # one of DECISIONS
    fact_id: int | None = None  # same: the fact the report repeats
    old: float | str | None = None  # change: the value of the latest fact it replaces


def ref_end(as_of: str | None, published: str | None) -> str | None:
    """The last day a figure or status refers to, as a sortable "YYYY-MM-DD": `as_of` when
    given ("2024" -> "2024-12-31", "2025-05" -> "2025-05-31"), else the date of `published`.
    A value that is not an ISO date or time is skipped."""
    for value in (as_of, published):
        end = _period_end(value)
        if end is not None:
            return end
    return None


def _period_end(value: str | None) -> str | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 4 and text.isdigit():
            return date(int(text), 12, 31).isoformat()
        if len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:])
            return date(year, month, calendar.monthrange(year, month)[1]).isoformat()
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def _unit(value: float) -> Decimal:
    """The unit of the last significant digit: 126000 -> 1000, 126345 -> 1, 2.5 -> 0.1."""
    try:
        exponent = Decimal(f"{abs(value):.15g}").normalize().as_tuple().exponent
    except InvalidOperation:
        return Decimal(0)
    if not isinstance(exponent, int):  # NaN or infinity
        return Decimal(0)
    return Decimal(1).scaleb(exponent)


def same_value(a: float, b: float) -> bool:
    """Equal up to rounding. The rounder of the two (the one with more trailing zeros) stands
    for the range of ± half its last significant digit, but for no more than ±5 % of itself:
    126 000 = 126 345 and 1 600 000 = 1 634 000, while 100 000 != 126 000 (a round 100 000
    would cover ±50 000, which the cap cuts to ±5 000)."""
    if a == b:
        return True
    # The tolerance is never more than the cap of the larger value: most pairs compared (a
    # new figure against every stored fact of its series and date) are told apart here,
    # without the decimal arithmetic. The margin keeps float rounding on the safe side.
    if abs(a - b) > ROUNDING_CAP * max(abs(a), abs(b)) * (1 + 1e-9):
        return False
    return _within_rounding(a, b)


def _within_rounding(a: float, b: float) -> bool:
    """`same_value` without its shortcuts: |a - b| within the tolerance of the rounder."""
    unit_a, unit_b = _unit(a), _unit(b)
    rounder = a if unit_a >= unit_b else b
    half_digit = max(unit_a, unit_b) / 2
    tolerance = min(half_digit, Decimal(abs(rounder)) * Decimal(str(ROUNDING_CAP)))
    return Decimal(abs(a - b)) <= tolerance * (1 + Decimal("1e-12"))


def dims_key(dims: dict[str, str]) -> str:
    """The canonical text of a series' dims: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(dims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _equal(a: float | str, b: float | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return same_value(a, b)


def _ref(fact: FactRow) -> str:
    return fact.ref_end or ""  # an unknown date sorts before every known one


def _latest(facts: list[FactRow]) -> FactRow | None:
    """The newest fact; of several with the same date, the one recorded first (the one that
    was compared with, and alerted on, before the others filled history)."""
    return max(facts, key=lambda f: (_ref(f), -f.id), default=None)


def _rank(status: float | str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else -1


def _newer(value: float | str, ref: str, latest: FactRow, *, status: bool) -> bool:
    """Is a report dated `ref` news after the latest fact? A later date is; for a status the
    same date is too when the status is further along the lifecycle."""
    if ref != _ref(latest):
        return ref > _ref(latest)
    return status and _rank(value) > _rank(latest.value)


def decide(
    series: list[FactRow], value: float | str, ref: str | None, *, current: bool = True
) -> Decision:
    """What a newly reported `value` with reference date `ref` is to the stored facts of its
    series. A number is a figure, a string a status; `current` is False for a status an
    article mentions that is not its current one.

    Only the latest fact and the facts dated like the latest one not after `ref` matter, so
    the store may pass just those."""
    status = isinstance(value, str)
    latest = _latest([f for f in series if f.current or not status])
    new_ref = ref or ""
    if latest is None:
        if not (status and not current):
            return Decision("first")
    elif new_ref >= _ref(latest) and _equal(value, latest.value):
        return Decision("same", fact_id=latest.id)
    elif current and _newer(value, new_ref, latest, status=status):
        return Decision("change", old=latest.value)
    earlier = [f for f in series if _ref(f) <= new_ref]
    if earlier:
        in_force = max(_ref(f) for f in earlier)
        for fact in sorted(earlier, key=lambda f: f.id):
            if _ref(fact) == in_force and _equal(value, fact.value):
                return Decision("same", fact_id=fact.id)
    return Decision("history")


__all__ = [
    "DECISIONS",
    "STATUS_ORDER",
    "Decision",
    "FactRow",
    "decide",
    "dims_key",
    "ref_end",
    "same_value",
]
