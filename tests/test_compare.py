"""Change detection as pure functions: reference dates, equality up to rounding, series keys
and the decision first / same / change / history."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from monitor import compare
from monitor.compare import FactRow, decide, dims_key, ref_end, same_value

# --------------------------------------------------------------------------- ref_end


@pytest.mark.parametrize(
    ("as_of", "published", "expected"),
    [
        ("2024", None, "2024-12-31"),
        ("2025-05", None, "2025-05-31"),
        ("2024-02", None, "2024-02-29"),  # leap year
        ("2023-02", None, "2023-02-28"),
        ("2025-04", None, "2025-04-30"),
        ("2025-05-01", "2025-10-09", "2025-05-01"),
        (None, "2025-10-09", "2025-10-09"),
        (None, "2025-10-09T23:30:00+05:00", "2025-10-09"),  # the local date, not UTC's
        (None, "2025-10-09T10:00:00Z", "2025-10-09"),
        (None, None, None),
        ("not a date", "2025-10-09", "2025-10-09"),
        ("2025-13", None, None),
    ],
)
def test_ref_end_is_the_last_day_the_figure_refers_to(
    as_of: str | None, published: str | None, expected: str | None
) -> None:
    assert ref_end(as_of, published) == expected


# --------------------------------------------------------------------------- same_value


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (126_000, 126_345, True),  # "126 тыс." = 126 345
        (126_345, 126_000, True),  # in either order
        (126_000, 126_499, True),
        (126_000, 126_501, False),  # beyond half a thousand
        (1_600_000, 1_634_000, True),  # "1,6 млн" = 1 634 000
        (1_600_000, 1_651_000, False),
        (100_000, 126_000, False),  # ±50 000 would cover it; the 5 % cap does not
        (100_000, 104_900, True),  # within 5 % of a round 100 000
        (100_000, 105_100, False),
        (2_000, 2_400, False),  # ±500 capped to ±100
        (2_000, 2_090, True),
        (15_000, 15_000, True),
        (194_000, 126_000, False),
        (102_000, 104_000, False),  # same rounding: different figures
        (157_100_000, 157_134_000, True),  # "157,1 млн" = 157 134 000
        (2.5, 2.54, True),
        (2.5, 2.56, False),
        (0, 0, True),
        (0, 1, False),
        (1, 2, False),
    ],
)
def test_same_value_is_equality_up_to_rounding_capped_at_five_percent(
    a: float, b: float, equal: bool
) -> None:
    assert same_value(a, b) is equal
    assert same_value(float(a), float(b)) is equal


FINITE = st.floats(allow_nan=False, allow_infinity=False)
ROUND = st.builds(
    lambda digits, exponent: digits * 10.0**exponent,
    st.integers(-999, 999),
    st.integers(-3, 9),
)
# A relative difference around the 5 % cap, where the shortcut and the full rule meet.
NEAR_CAP = st.floats(-0.06, 0.06) | st.sampled_from([0.05, -0.05, 0.05 + 1e-12, -0.05 - 1e-12])


@given(ROUND | FINITE | st.integers(-(10**12), 10**12), NEAR_CAP, st.booleans())
@example(100_000, 0.05, False)
@example(100_000, -0.05, True)
@example(2_000, 0.045, False)
def test_same_value_shortcut_agrees_with_the_full_rule(a: float, r: float, swap: bool) -> None:
    """The early 'too far apart' exit of same_value gives what the decimal rule gives, on
    round and unround values a little inside and a little beyond the cap."""
    b = a * (1 + r)
    x, y = (b, a) if swap else (a, b)
    assert same_value(x, y) is (x == y or compare._within_rounding(x, y))


@given(FINITE, FINITE)
def test_same_value_shortcut_agrees_on_any_two_values(a: float, b: float) -> None:
    assert same_value(a, b) is (a == b or compare._within_rounding(a, b))


# --------------------------------------------------------------------------- dims_key


def test_dims_key_is_canonical_compact_json_with_letters_as_is() -> None:
    assert dims_key({}) == "{}"
    assert dims_key({"origin": "CN", "category": "skilled"}) == (
        '{"category":"skilled","origin":"CN"}'
    )
    assert dims_key({"b": "1", "a": "2"}) == dims_key({"a": "2", "b": "1"})
    assert dims_key({"region": "Қарағанды"}) == '{"region":"Қарағанды"}'


# --------------------------------------------------------------------------- decide: figures


def test_a_series_without_facts_gives_first() -> None:
    assert decide([], 126_000, "2025-10-09").kind == "first"


def test_a_newer_different_value_is_a_change_from_the_latest() -> None:
    facts = [FactRow(1, 150_000.0, "2023-12-31"), FactRow(2, 194_000.0, "2024-12-31")]
    decision = decide(facts, 126_000, "2025-10-09")
    assert (decision.kind, decision.old) == ("change", 194_000.0)


def test_a_repeat_dated_later_adds_a_source_to_the_latest() -> None:
    facts = [FactRow(1, 126_000.0, "2025-10-09")]
    decision = decide(facts, 126_345, "2025-10-12")
    assert (decision.kind, decision.fact_id) == ("same", 1)


def test_a_repeat_with_the_same_date_adds_a_source() -> None:
    decision = decide([FactRow(7, 15_000.0, "2025-10-09")], 15_000, "2025-10-09")
    assert (decision.kind, decision.fact_id) == ("same", 7)


def test_an_older_figure_fills_history() -> None:
    facts = [FactRow(1, 126_000.0, "2025-10-09")]
    assert decide(facts, 194_000, "2024-12-31").kind == "history"


def test_a_different_value_for_the_latest_date_fills_history() -> None:
    facts = [FactRow(1, 126_000.0, "2025-10-09")]
    assert decide(facts, 131_000, "2025-10-09").kind == "history"


def test_an_older_report_of_a_fact_in_force_then_adds_a_source_to_it() -> None:
    facts = [FactRow(1, 194_000.0, "2024-06-30"), FactRow(2, 126_000.0, "2025-10-09")]
    decision = decide(facts, 194_000, "2024-09-01")
    assert (decision.kind, decision.fact_id) == ("same", 1)
    assert decide(facts, 194_000, "2024-01-01").kind == "history"  # before it was known


def test_of_two_facts_with_the_latest_date_the_first_recorded_is_the_latest() -> None:
    facts = [FactRow(5, 131_000.0, "2025-10-09"), FactRow(3, 126_000.0, "2025-10-09")]
    decision = decide(facts, 140_000, "2025-11-01")
    assert (decision.kind, decision.old) == ("change", 126_000.0)
    same = decide(facts, 131_000, "2025-10-09")
    assert (same.kind, same.fact_id) == ("same", 5)


def test_an_undated_figure_is_older_than_any_dated_one() -> None:
    facts = [FactRow(1, 126_000.0, "2025-10-09")]
    assert decide(facts, 131_000, None).kind == "history"
    assert decide([FactRow(1, 126_000.0, None)], 131_000, "2020-01-01").kind == "change"


# --------------------------------------------------------------------------- decide: statuses


def test_a_status_that_differs_from_the_latest_and_is_newer_is_a_change() -> None:
    facts = [FactRow(1, "negotiating", "2024-05-01"), FactRow(2, "paused", "2024-11-01")]
    decision = decide(facts, "resumed", "2025-10-09")
    assert (decision.kind, decision.old) == ("change", "paused")


def test_an_older_current_status_changes_nothing() -> None:
    facts = [FactRow(1, "paused", "2024-11-01"), FactRow(2, "resumed", "2025-10-09")]
    assert decide(facts, "negotiating", "2025-01-15").kind == "history"
    assert decide(facts, "signed", "2025-01-15").kind == "history"
    repeat = decide(facts, "paused", "2025-01-15")  # what was in force then: one more source
    assert (repeat.kind, repeat.fact_id) == ("same", 1)


def test_a_status_that_is_not_current_never_makes_a_change_or_a_first() -> None:
    assert decide([], "paused", "2025-10-09", current=False).kind == "history"
    facts = [FactRow(1, "negotiating", "2024-05-01")]
    assert decide(facts, "signed", "2025-10-09", current=False).kind == "history"


def test_the_latest_status_is_the_latest_given_as_current() -> None:
    facts = [
        FactRow(1, "resumed", "2025-09-01"),
        FactRow(2, "paused", "2025-10-09", current=False),  # an article's account of the past
    ]
    decision = decide(facts, "signed", "2025-10-09")
    assert (decision.kind, decision.old) == ("change", "resumed")
    assert decide(facts, "resumed", "2025-10-09").kind == "same"


@pytest.mark.parametrize(
    ("latest", "new", "kind"),
    [
        ("paused", "resumed", "change"),
        ("resumed", "signed", "change"),
        ("signed", "negotiating", "history"),
        ("resumed", "paused", "history"),
        ("signed", "signed", "same"),
    ],
)
def test_statuses_of_the_same_day_are_ordered_by_the_lifecycle(
    latest: str, new: str, kind: str
) -> None:
    assert decide([FactRow(1, latest, "2025-10-09")], new, "2025-10-09").kind == kind
