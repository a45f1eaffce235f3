"""Normalisation and the language of a sentence (monitor.text)."""

from __future__ import annotations

import pytest

from monitor.text import normalize, sentence_language, sentences


def test_latin_look_alikes_in_a_cyrillic_word_become_cyrillic() -> None:
    text = normalize("Kазахстанцы работают в Kорее, EPS не меняется.")  # Latin K twice
    assert text == "Казахстанцы работают в Корее, EPS не меняется."


def test_a_text_in_one_script_is_left_as_it_is() -> None:
    for text in ("Kazakh citizens work in Korea.", "Қазақстандықтар Кореяда жұмыс істейді."):
        assert normalize(text) == text


@pytest.mark.parametrize(
    ("text", "doc_lang", "expected"),
    [
        ("Как сообщили в министерстве, переговоры продолжаются.", "kk", "ru"),
        ("Министрліктің мәліметінше, келіссөздер жалғасуда.", "ru", "kk"),
        ("The talks continue, the ministry said.", "ru", "en"),
        ("Переговоры по EPS продолжаются.", "ru", "ru"),
        ("126 000 — 102 000.", "kk", "kk"),  # no letters: the article's language
        ("", "en", "en"),
    ],
)
def test_the_language_of_a_sentence(text: str, doc_lang: str, expected: str) -> None:
    assert sentence_language(text, doc_lang) == expected


def test_a_quotation_in_another_language_keeps_its_language() -> None:
    text = normalize(
        "Шетелде 126 мың қазақстандық жұмыс істейді.\n"
        '"Мы продолжаем переговоры с корейской стороной по трудовой миграции", - сказал министр.'
    )
    assert [s.lang for s in sentences(text, "kk")] == ["kk", "ru"]
