"""Every [[example]] in the rules folder, run against the engine: adding a case is adding data."""

from __future__ import annotations

from typing import Any

import pytest

from monitor import extract_text, load_rules
from monitor.dates import find_dates
from monitor.numbers import find_quantities
from monitor.text import detect_language, normalize

RULES = load_rules()


def _cases(prefix: str) -> list[Any]:
    return [
        pytest.param(name, example, id=f"{name}[{i}]")
        for name, examples in RULES.examples.items()
        if name.startswith(prefix)
        for i, example in enumerate(examples)
    ]


def _lang(example: dict[str, Any], text: str) -> str:
    return example.get("lang") or detect_language(text)


def _number_view(q: Any) -> dict[str, Any]:
    out = {"value": q.value}
    if q.bound != "exact":
        out["bound"] = q.bound
    if q.unit:
        out["unit"] = q.unit
    if q.value_max is not None:
        out["value_max"] = q.value_max
    return out


@pytest.mark.parametrize(("name", "example"), _cases("numbers.toml"))
def test_number_example(name: str, example: dict[str, Any]) -> None:
    text = normalize(example["text"])
    dates = find_dates(RULES.dates, text, _lang(example, text))
    found = find_quantities(
        RULES.numbers, text, _lang(example, text), [(d.start, d.end) for d in dates]
    )
    assert [_number_view(q) for q in found] == example["expect"]


@pytest.mark.parametrize(("name", "example"), _cases("dates.toml"))
def test_date_example(name: str, example: dict[str, Any]) -> None:
    text = normalize(example["text"])
    found = find_dates(RULES.dates, text, _lang(example, text), example.get("published"))
    assert [d.value for d in found if d.value] == example["expect"]


@pytest.mark.parametrize(("name", "example"), _cases("cues.toml"))
def test_cue_example(name: str, example: dict[str, Any]) -> None:
    text = normalize(example["text"])
    found = RULES.cues.find(text, _lang(example, text))
    wanted = set(example["expect"])
    assert wanted <= set(found), f"missing cue groups: {wanted - set(found)}"
    unexpected = {g for g in found if not g.startswith("noun_")} - wanted
    assert not unexpected, f"unexpected cue groups: {unexpected}"


@pytest.mark.parametrize(("name", "example"), _cases("vocab/"))
def test_vocabulary_example(name: str, example: dict[str, Any]) -> None:
    vocab = next(v for v in RULES.vocabs.values() if f"vocab/{v.name}.toml" == name)
    values: list[str] = []
    for hit in vocab.find(normalize(example["text"])):
        if hit.value not in values:
            values.append(hit.value)
    assert values == example["expect"]


def _figure_key(item: dict[str, Any]) -> tuple[Any, ...]:
    return item["metric"], tuple(sorted(item.get("dims", {}).items())), float(item["value"])


@pytest.mark.parametrize(("name", "example"), _cases("metrics.toml"))
def test_metric_example(name: str, example: dict[str, Any]) -> None:
    result = extract_text(example["text"], RULES, lang=example.get("lang"))
    got = {_figure_key(f.to_json()): f for f in result.figures}
    wanted = {_figure_key(e): e for e in example["expect"]}
    assert sorted(got) == sorted(wanted)
    for key, expected in wanted.items():
        if "unit" in expected:
            assert got[key].unit == expected["unit"]
        if "bound" in expected:
            assert got[key].bound == expected["bound"]


@pytest.mark.parametrize(("name", "example"), _cases("statuses.toml"))
def test_status_example(name: str, example: dict[str, Any]) -> None:
    result = extract_text(
        example["text"], RULES, lang=example.get("lang"), published=example.get("published")
    )
    got = sorted((s.counterparty, s.status) for s in result.statuses)
    assert got == sorted((e["counterparty"], e["status"]) for e in example["expect"])
    current = {s.counterparty: s.status for s in result.statuses if s.current}
    assert current == example.get("current", {})


def test_every_rules_file_has_examples() -> None:
    for name, examples in RULES.examples.items():
        assert examples, f"{name} has no [[example]]"
