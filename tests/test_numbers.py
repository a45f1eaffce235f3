"""The number normaliser: every way the three languages write a quantity reads back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import load_rules
from monitor.numbers import find_quantities
from monitor.text import normalize

RULES = load_rules()
SPACES = [" ", "\u00a0", "\u202f", "\u2009"]


def values(text: str, lang: str) -> list[float]:
    return [q.value for q in find_quantities(RULES.numbers, normalize(text), lang)]


def group(n: int, sep: str) -> str:
    s = str(n)
    parts = []
    while len(s) > 3:
        parts.insert(0, s[-3:])
        s = s[:-3]
    parts.insert(0, s)
    return sep.join(parts)


@given(n=st.integers(min_value=1000, max_value=999_999_999), sep=st.sampled_from([",", *SPACES]))
def test_grouped_integers_read_back(n: int, sep: str) -> None:
    assert values(f"Всего {group(n, sep)} человек.", "ru") == [n]
    assert values(f"In total {group(n, sep)} people.", "en") == [n]


@given(n=st.integers(min_value=1000, max_value=999_999_999))
def test_dot_grouping_reads_as_thousands(n: int) -> None:
    assert values(f"Барлығы {group(n, '.')} адам.", "kk") == [n]


@given(
    whole=st.integers(min_value=1, max_value=999),
    tenth=st.integers(min_value=1, max_value=9),
    scale=st.sampled_from([("тыс.", 1000), ("млн", 10**6), ("млрд", 10**9)]),
)
def test_decimal_comma_with_scale_word(whole: int, tenth: int, scale: tuple[str, int]) -> None:
    word, factor = scale
    expected = int(Decimal(f"{whole}.{tenth}") * factor)
    assert values(f"Около {whole},{tenth} {word} казахстанцев.", "ru") == [expected]


@given(
    whole=st.integers(min_value=1, max_value=999),
    tenth=st.integers(min_value=1, max_value=9),
    scale=st.sampled_from([("thousand", 1000), ("million", 10**6), ("billion", 10**9)]),
)
def test_decimal_point_with_scale_word(whole: int, tenth: int, scale: tuple[str, int]) -> None:
    word, factor = scale
    expected = int(Decimal(f"{whole}.{tenth}") * factor)
    assert values(f"Fines reached KZT {whole}.{tenth} {word} last year.", "en") == [expected]


@given(
    n=st.integers(min_value=1, max_value=999),
    suffix=st.sampled_from(["", "нан астам", "ға жуық", "ы", "ға дейін", "дай"]),
)
def test_kazakh_suffixes_after_the_scale_word(n: int, suffix: str) -> None:
    assert values(f"Шетелде {n} мың{suffix} қазақстандық жұмыс істейді.", "kk") == [n * 1000]


@given(year=st.integers(min_value=1990, max_value=2035))
def test_years_are_never_figures(year: int) -> None:
    assert values(f"В {year} году работали казахстанцы.", "ru") == []
    assert values(f"{year} жылы шетелде жұмыс істеді.", "kk") == []
    assert values(f"In {year}, citizens worked abroad.", "en") == []


@given(pct=st.decimals(min_value=0, max_value=100, places=1))
def test_percentages_are_never_figures(pct: Decimal) -> None:
    ru = str(pct).replace(".", ",")
    assert values(f"Рост составил {ru}% за год.", "ru") == []
    assert values(f"Өсім {ru} пайызды құрады.", "kk") == []
    assert values(f"An increase of {pct} percent.", "en") == []


@pytest.mark.parametrize(
    ("text", "lang", "value", "bound"),
    [
        ("пятнадцать тысяч казахстанцев", "ru", 15000, "exact"),
        ("сто двадцать шесть тысяч человек", "ru", 126000, "exact"),
        ("полтора миллиона мигрантов", "ru", 1500000, "exact"),
        ("полторы тысячи работников", "ru", 1500, "exact"),
        ("fifteen thousand workers", "en", 15000, "exact"),
        ("one hundred and twenty-six thousand people", "en", 126000, "exact"),
        ("бес мың адам", "kk", 5000, "exact"),
        ("жүз жиырма алты мың адам", "kk", 126000, "exact"),
        ("бір жарым миллион адам", "kk", 1500000, "exact"),
        ("екі жарым мың маман", "kk", 2500, "exact"),
        ("194 мыңнан астам қазақстандық", "kk", 194000, "at_least"),
        ("9 мыңға жуық адам", "kk", 9000, "approx"),
        ("3 мыңға дейін адам", "kk", 3000, "at_most"),
        ("шамамен 2,5 мың адам", "kk", 2500, "approx"),
        ("свыше 100 тыс. человек", "ru", 100000, "at_least"),
        ("не менее 5 тыс. человек", "ru", 5000, "at_least"),
        ("до 3 тыс. человек", "ru", 3000, "at_most"),
        ("почти 15 тыс. человек", "ru", 15000, "approx"),
        ("more than 20,000 people", "en", 20000, "at_least"),
        ("nearly 9,000 people", "en", 9000, "approx"),
        ("fewer than 500 people", "en", 500, "at_most"),
        ("15k workers", "en", 15000, "exact"),
    ],
)
def test_words_suffixes_and_bounds(text: str, lang: str, value: int, bound: str) -> None:
    found = find_quantities(RULES.numbers, normalize(text), lang)
    assert [(q.value, q.bound) for q in found] == [(value, bound)]


@pytest.mark.parametrize(
    ("text", "lang", "value", "unit"),
    [
        ("KZT 157.1 million", "en", 157100000, "KZT"),
        ("157,1 млн тенге", "ru", 157100000, "KZT"),
        ("157,1 млн теңгені құрады", "kk", 157100000, "KZT"),
        ("2,4 млрд ₸", "ru", 2400000000, "KZT"),
        ("$303,000", "en", 303000, "USD"),
        ("420 млн долларов США", "ru", 420000000, "USD"),
        ("1,2 млрд АҚШ долларын", "kk", 1200000000, "USD"),
        ("USD 1.5 billion", "en", 1500000000, "USD"),
        ("5 млн рублей", "ru", 5000000, "RUB"),
    ],
)
def test_currencies(text: str, lang: str, value: int, unit: str) -> None:
    found = find_quantities(RULES.numbers, normalize(text), lang)
    assert [(q.value, q.unit) for q in found] == [(value, unit)]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Телефон: 8 800 080 7777", "ru"),
        ("+7 (7172) 74-31-06", "ru"),
        ("в возрасте от 18 до 35 лет", "ru"),
        ("aged 18 to 35", "en"),
        ("18 жастан асқан азаматтар", "kk"),
        ("согласно статье 517 КоАП", "ru"),
        ("under Article 517 of the Code", "en"),
        ("ҚР Әкімшілік құқықбұзушылық туралы кодексінің 517-бабы", "kk"),
        ("Просмотров: 1 234", "ru"),
        ("Қаралды: 2 310", "kk"),
        ("Views: 5 678", "en"),
        ("жалақысы 350 мың теңге", "kk"),
        ("зарплата до 500 тыс. тенге", "ru"),
        ("jobs paying $617 per month", "en"),
        ("a population of 20 million", "en"),
        ("население страны превысило 20 млн человек", "ru"),
        ("елдің халқы 20 миллионнан асты", "kk"),
        ("в 3 тыс. км от Астаны", "ru"),
        ("15-тен астам елде", "kk"),
        ("более чем в 40 странах", "ru"),
        ("in more than 40 countries", "en"),
        ("1-ші орын", "kk"),
        ("the 2nd stage", "en"),
        ("COVID-19", "en"),
    ],
)
def test_not_figures(text: str, lang: str) -> None:
    assert find_quantities(RULES.numbers, normalize(text), lang) == []


RU_GENITIVE_TENS = {
    "двадцати": 20,
    "тридцати": 30,
    "сорока": 40,
    "пятидесяти": 50,
    "шестидесяти": 60,
    "семидесяти": 70,
    "восьмидесяти": 80,
    "девяноста": 90,
}
RU_GENITIVE_UNITS = {"двух": 2, "трех": 3, "четырех": 4, "пяти": 5, "шести": 6, "семи": 7}


@given(
    tens=st.sampled_from(sorted(RU_GENITIVE_TENS)), unit=st.sampled_from(sorted(RU_GENITIVE_UNITS))
)
def test_russian_oblique_number_words_after_approximators(tens: str, unit: str) -> None:
    # "около сорока пяти тысяч": the genitive after около / порядка / свыше
    found = find_quantities(RULES.numbers, normalize(f"около {tens} {unit} тысяч человек"), "ru")
    assert [(q.value, q.bound) for q in found] == [
        ((RU_GENITIVE_TENS[tens] + RU_GENITIVE_UNITS[unit]) * 1000, "approx")
    ]


RU_UNITS = {"две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8}


@given(unit=st.sampled_from(sorted(RU_UNITS)))
def test_russian_scale_first_means_about(unit: str) -> None:
    # "тысячи три" is about three thousand, "тысяча двести" is 1,200
    n = RU_UNITS
    found = find_quantities(RULES.numbers, normalize(f"вместе тысячи {unit}"), "ru")
    assert [(q.value, q.bound) for q in found] == [(n[unit] * 1000, "approx")]
    assert values("тысяча двести человек", "ru") == [1200]


@given(n=st.integers(min_value=2, max_value=999), suffix=st.sampled_from(["дай", "дей"]))
def test_kazakh_similative_suffix_is_about(n: int, suffix: str) -> None:
    found = find_quantities(RULES.numbers, normalize(f"{n} мың{suffix} адам"), "kk")
    assert [(q.value, q.bound) for q in found] == [(n * 1000, "approx")]
