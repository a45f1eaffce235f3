"""The parse stage: bytes of an article page (or plain text) to clean text and metadata.

Fixture pages are in tests/pages/, written for these tests in the encodings they are about.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.encoding import decode_page
from monitor.parse import (
    MAX_INPUT_BYTES,
    Article,
    InputError,
    decode,
    load_article,
    looks_like_html,
    parse_html,
    parse_text,
)

PAGES = Path(__file__).resolve().parent / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def paragraphs(article: Article) -> list[str]:
    return article.text.split("\n\n")


# --- encodings -------------------------------------------------------------------------


def test_windows_1251_declared_in_meta_charset() -> None:
    article = load_article(page("ru-cp1251-meta.html"))
    assert paragraphs(article)[0] == "Число казахстанцев, работающих в России, снизилось"
    assert "в России трудоустроены 98,5 тыс. граждан Казахстана" in article.text
    assert "— «ещё одна причина» названа" in article.text


def test_windows_1251_declared_only_in_content_type() -> None:
    data = page("ru-cp1251-header.html")
    assert b"charset" not in data
    article = load_article(data, content_type="text/html; charset=windows-1251")
    assert "Квота на привлечение иностранной рабочей силы" in article.text
    assert "29 тыс. человек" in article.text


def test_windows_1251_without_any_declaration_is_detected() -> None:
    article = load_article(page("ru-cp1251-undeclared.html"))
    assert article.title == "Полиция подвела итоги проверок работодателей"
    assert "выявили 4 312 нарушений миграционного законодательства" in article.text
    assert "Ещё 640 иностранцев выдворены" in article.text


def test_utf8_bom_kazakh_page() -> None:
    data = page("kk-utf8-bom.html")
    assert data.startswith(b"\xef\xbb\xbf")
    article = load_article(data)
    assert article.title == "Шетелде 126 мыңнан астам қазақстандық жұмыс істейді"
    assert "Оңтүстік Кореяда және Түркияда еңбек етеді" in article.text
    assert "\ufeff" not in article.text


def test_numeric_character_references_give_kazakh_letters() -> None:
    article = load_article(page("kk-ncr-cp1251.html"))
    assert article.title == "Қазақстан квотаны бекітті"
    assert "Қазақстанда шетелдік жұмыс күшіне арналған квота 29 мың адамға жетті." in article.text
    assert "Квота құрылыс пен ауыл шаруашылығына бөлінеді." in article.text
    assert "&#" not in article.text


def test_koi8r_declared_in_http_equiv_meta() -> None:
    article = load_article(page("ru-koi8r.html"))
    assert article.title == "Переговоры о трудоустройстве в Корее возобновились"
    assert "Весной переговоры были приостановлены." in article.text


def test_koi8r_without_declaration_is_detected() -> None:
    data = re.sub(rb"<meta[^>]*>", b"", page("ru-koi8r.html"))
    assert b"koi8" not in data
    article = load_article(data)
    assert "около пятнадцати тысяч казахстанцев" in article.text


def test_koi8r_declared_only_in_content_type() -> None:
    data = re.sub(rb"<meta[^>]*>", b"", page("ru-koi8r.html"))
    assert "Южная Корея" in decode(data, "text/html; charset=KOI8-R")


def test_kz1048_kazakh_without_declaration_is_detected() -> None:
    article = load_article(page("kk-kz1048.html"))
    assert "Қазақстанда рұқсат негізінде 17 мыңға жуық шетелдік азамат" in article.text
    assert "Ұлықбритания мен Түркиядан" in article.text


def test_unknown_charset_label_in_meta_falls_back_cleanly() -> None:
    article = load_article(page("unknown-charset.html"))
    assert article.title == "Выдано 93 инвесторские визы"
    assert "иностранным инвесторам выдано 93 инвесторские визы" in article.text


@pytest.mark.parametrize("label", ["x-unknown", "utf-42", "base64", "rot13", '"', ""])
def test_bogus_charset_label_in_content_type_is_ignored(label: str) -> None:
    data = page("ru-cp1251-undeclared.html")
    text = decode(data, f"text/html; charset={label}")
    assert "Сумма наложенных штрафов превысила 380 млн тенге" in text


def test_utf8_bytes_win_over_a_wrong_single_byte_label() -> None:
    data = "<p>Мигранты перевели 412 млн долларов.</p>".encode()
    assert decode(data, "text/html; charset=windows-1251") == data.decode("utf-8")


def test_a_utf8_label_the_bytes_do_not_fit_is_ignored() -> None:
    data = page("ru-cp1251-undeclared.html")
    assert "миграционного законодательства" in decode(data, "text/html; charset=utf-8")


def test_utf8_cut_inside_a_character_still_decodes_as_utf8() -> None:
    data = "Қазақстан азаматтары шетелде жұмыс істейді".encode()[:-1]
    assert decode(data).startswith("Қазақстан азаматтары шетелде жұмыс")


def test_a_header_latin1_default_yields_to_the_meta_charset() -> None:
    data = page("ru-cp1251-meta.html")
    text = decode(data, "text/html; charset=ISO-8859-1")
    assert "Число казахстанцев, работающих в России" in text


@pytest.mark.parametrize(
    ("data", "content_type", "as_is"),
    [
        ("Квота — 29 тыс.".encode(), None, True),
        ("Квота — 29 тыс.".encode(), "text/html; charset=windows-1251", True),
        (b"<p>Quota: 29,000</p>", None, True),
        (b"\xef\xbb\xbf<p>Quota</p>", None, False),
        ("Квота — 29 тыс.".encode("cp1251"), "text/html; charset=windows-1251", False),
        ("Квота".encode()[:-1], None, False),
    ],
    ids=["utf8", "utf8-despite-label", "ascii", "bom", "cp1251", "cut-character"],
)
def test_decode_page_says_when_the_text_is_the_utf8_bytes_as_they_are(
    data: bytes, content_type: str | None, as_is: bool
) -> None:
    text, same = decode_page(data, content_type)
    assert text == decode(data, content_type)
    assert same is as_is
    if as_is:
        assert text.encode() == data


def test_utf16_without_bom_is_recognised() -> None:
    text = "<html><body><p>Казахстанцы в Корее: 15 тыс.</p></body></html>"
    assert decode(text.encode("utf-16-le")) == text


def test_utf16_with_bom() -> None:
    text = "<p>Казахстанцы в Корее</p>"
    assert decode(b"\xff\xfe" + text.encode("utf-16-le")) == text


# --- binary and empty input ------------------------------------------------------------


def test_png_bytes_raise_input_error_with_one_line_message() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4
    with pytest.raises(InputError) as info:
        load_article(data)
    message = str(info.value)
    assert "PNG" in message
    assert "\n" not in message


def test_random_bytes_with_nuls_raise_input_error() -> None:
    data = random.Random(7).randbytes(5000) + b"\x00\x00\x00"
    with pytest.raises(InputError) as info:
        load_article(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00" + b"word/document.xml" * 10,
        b"\x1f\x8b\x08\x00" + b"compressed" * 10,
        b"%PDF-1.7\n" + b"stream" * 10,
        bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 100,
    ],
    ids=["zip", "gzip", "pdf", "control-bytes"],
)
def test_other_binary_formats_raise_input_error(data: bytes) -> None:
    with pytest.raises(InputError):
        load_article(data)


def test_input_error_is_a_value_error() -> None:
    assert issubclass(InputError, ValueError)


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf"])
def test_empty_input_gives_empty_text(data: bytes) -> None:
    assert load_article(data) == Article(text="", title=None, published=None, lang=None)


def test_empty_html_document_gives_empty_text() -> None:
    article = load_article(b"<html><head></head><body></body></html>")
    assert article.text == ""
    assert article.title is None


# --- broken markup ---------------------------------------------------------------------


def test_broken_markup_still_yields_the_text() -> None:
    article = load_article(page("broken-markup.html"))
    assert paragraphs(article) == [
        "Seasonal workers head to British farms",
        "Around 1,200 Kazakh citizens travelled to British farms this season under the "
        "seasonal worker scheme.",
        "Most of them pick berries in Kent and Herefordshire",
        "Recruiters must hold a licence from the ministry.",
        "Season one 2024",
        "Season two 2025",
        "Officials said the programme would continue next year.",
        "Visas are valid for six months",
        "Travel costs are paid by workers",
        "Applications open in January",
    ]


def test_block_elements_become_paragraph_breaks() -> None:
    html = (
        "<body><div><h2>Quota</h2><ul><li>Builders: 12,000</li><li>Farmers: 3,500</li></ul>"
        "<p>First line<br>second line</p><blockquote>Quoted</blockquote>"
        "<table><tr><td>A</td><td>1</td></tr><tr><td>B</td><td>2</td></tr></table></div></body>"
    )
    assert paragraphs(parse_html(html)) == [
        "Quota",
        "Builders: 12,000",
        "Farmers: 3,500",
        "First line",
        "second line",
        "Quoted",
        "A 1",
        "B 2",
    ]


def test_whitespace_inside_a_paragraph_is_collapsed() -> None:
    html = "<p>  Около\n\t15\u00a0тыс.   <b>казахстанцев</b>\n работают </p>"
    assert parse_html(html).text == "Около 15 тыс. казахстанцев работают"


def test_scripts_styles_comments_and_forms_never_reach_the_text() -> None:
    html = (
        "<head><style>p { margin: 0 }</style></head><body><article>"
        "<p>Visible 1.</p><script>var views = 5678;</script><!-- hidden 1234 -->"
        "<noscript>Enable JS 42</noscript><template><p>Tpl 7</p></template>"
        "<button>Load 99 more</button><p>Visible 2.</p></article></body>"
    )
    assert parse_html(html).text == "Visible 1.\n\nVisible 2."


def test_inline_elements_do_not_split_words() -> None:
    assert parse_html("<p>Қаза<b>қ</b>стан<i>да</i></p>").text == "Қазақстанда"


# --- chrome removal --------------------------------------------------------------------

CHROME_NUMBERS = [
    "24/7",
    "4 444",
    "7 777",
    "5 678",
    "1 234",
    "321",
    "31 тыс",
    "9 999",
    "8 888",
    "555,5",
    "6 666",
    "2 222",
    "8 800",
    "2003",
]


def test_chrome_numbers_never_reach_the_text() -> None:
    article = load_article(page("chrome.html"))
    for number in CHROME_NUMBERS:
        assert number not in article.text
    for word in ("Поделиться", "Похожие", "cookie", "Популярное", "Читайте также", "Главная"):
        assert word not in article.text


def test_chrome_page_keeps_the_article_paragraphs() -> None:
    article = load_article(page("chrome.html"))
    assert paragraphs(article)[0] == "В России работают 102 тыс. казахстанцев"
    assert "в России сейчас работают 102 тыс. граждан Казахстана." in article.text
    assert "Ещё около 15 тыс. трудятся в Южной Корее" in article.text
    assert "новые программы занятости сократят отток." in article.text


def test_chrome_is_removed_without_article_markup() -> None:
    article = load_article(page("chrome-density.html"))
    assert paragraphs(article) == [
        "Fines for migration offences rose",
        "Police recorded 3,950 offences under migration law in the first half of the year, "
        "the interior ministry said.",
        "Fines imposed for those offences reached KZT 157.1 million, of which KZT 98 million "
        "has been collected.",
        "Most cases concerned foreigners working without permits on construction sites near "
        "Almaty.",
        "Officials expect the number of inspections to grow before the end of the year.",
    ]


def test_view_counter_without_a_telling_class_is_dropped() -> None:
    html = (
        "<article><h1>Visas</h1><div><span>👁 5 678</span></div><div>Поделиться 1 234</div>"
        "<p>Kazakhstan issued 93 investor visas this year, the ministry said.</p></article>"
    )
    assert parse_html(html).text == (
        "Visas\n\nKazakhstan issued 93 investor visas this year, the ministry said."
    )


def test_a_wrapper_named_like_chrome_does_not_lose_the_article() -> None:
    html = (
        '<body><div class="page has-sidebar"><div class="main">'
        "<p>Around 4,600 citizens of Kazakhstan work in Turkey, the ministry said today.</p>"
        "<p>A further 800 work in Hungary, according to the same report by officials.</p>"
        '</div><div class="sidebar">Top 10</div></div></body>'
    )
    text = parse_html(html).text
    assert "4,600 citizens" in text
    assert "800 work in Hungary" in text
    assert "Top 10" not in text


def test_drupal_views_rows_are_content() -> None:
    html = (
        '<div class="view view-news"><div class="views-row"><div class="views-field-body">'
        "<p>The quota for foreign labour was set at 29,000 people for next year.</p>"
        "</div></div></div>"
    )
    assert "29,000 people" in parse_html(html).text


# --- lead and paragraphs around the main element --------------------------------------


def test_lead_outside_the_article_body_comes_before_it() -> None:
    article = load_article(page("kk-lead-outside-body.html"))
    assert paragraphs(article) == [
        "Оңтүстік Кореяда 15 мыңға жуық қазақстандық жұмыс істейді",
        "Еңбек министрлігі шетелдегі қазақстандық жұмысшылар туралы жаңа деректерді жариялады.",
        "Министрліктің мәліметінше, Оңтүстік Кореяда 15 мыңға жуық қазақстандық еңбек етеді.",
        "Олардың көбі құрылыс пен ауыл шаруашылығында жұмыс істейді.",
    ]
    for chrome in ("4 321", "1 234", "29 мың", "3 жыл", "543", "8 800", "2011", "Сондай-ақ"):
        assert chrome not in article.text


def test_subtitle_and_lead_next_to_the_body_are_kept_but_teasers_are_not() -> None:
    article = load_article(page("en-lead-subtitle.html"))
    assert paragraphs(article) == [
        "Seasonal workers: 2,400 places agreed with Britain",
        "The labour ministry expects the first group to leave in March",
        "Kazakhstan and the United Kingdom have agreed on 2,400 places for seasonal farm workers "
        "next year.",
        "The places are twice as many as this year, when about 1,200 citizens picked berries in "
        "Kent.",
        "Recruiters must hold a licence, and workers pay no fees, the ministry said.",
    ]
    for chrome in ("543", "93 issued", "5,678", "8,888", "365", "Most read"):
        assert chrome not in article.text


def test_a_lead_the_body_repeats_is_not_doubled() -> None:
    lead = "Квота на иностранную рабочую силу на 2026 год составит 29 тыс. человек."
    html = (
        f'<div class="story"><div class="story__lead">{lead}</div><div class="article-body">'
        f"<p>{lead}</p><p>Большая часть квоты пойдёт на строительство и сельское хозяйство.</p>"
        "</div></div>"
    )
    assert parse_html(html).text.count(lead) == 1


def test_a_photo_credit_named_lead_is_not_a_lead() -> None:
    html = (
        '<div class="story"><div class="lead-photo">Фото: пресс-служба, 2025</div>'
        '<div class="article-body"><p>В Турции работают около 4 600 граждан Казахстана, '
        "сообщило министерство труда.</p></div></div>"
    )
    assert "Фото" not in parse_html(html).text


def test_a_lead_outside_the_article_element_is_not_taken() -> None:
    html = (
        '<div class="page"><p class="lead">Another story: tenge falls to 543 per dollar today.</p>'
        '<article><h1>Visas</h1><div class="article__lead">Kazakhstan issued 93 investor visas '
        'this year.</div><div itemprop="articleBody"><p>Most of the visas went to investors from '
        "China and Turkey, the ministry said.</p></div></article></div>"
    )
    assert paragraphs(parse_html(html)) == [
        "Visas",
        "Kazakhstan issued 93 investor visas this year.",
        "Most of the visas went to investors from China and Turkey, the ministry said.",
    ]


def test_paragraphs_pushed_out_of_the_body_by_stray_end_tags_are_kept() -> None:
    article = load_article(page("ru-broken-tail.html"))
    assert paragraphs(article) == [
        "Более 126 тысяч казахстанцев работают за рубежом",
        "Министерство труда подсчитало граждан, работающих за границей по трудовым договорам.",
        "Один: в прошлом году таких было на 8 тысяч меньше.",
        "Два: 126 000 человек трудоустроены в 40 странах, больше всего — в России и Южной Корее.",
        "Ещё около 4 600 граждан работают в Турции, сообщили в ведомстве.",
    ]
    for chrome in ("777", "9 999", "Похожие", "8 800"):
        assert chrome not in article.text


def test_a_caption_after_the_body_is_not_taken_for_its_text() -> None:
    html = (
        '<div class="wrap"><div class="article-body"><p>Казахстанцы перевели из России '
        "412 млн долларов за полугодие.</p><p>Годом ранее сумма была на пятую часть больше.</p>"
        '</div></div><p>Фото: Астана хабар</p><div class="x">Реклама</div>'
        "<p>Редакция работает круглосуточно, пишите нам.</p>"
    )
    text = parse_html(html).text
    assert "412 млн долларов" in text
    assert "Фото" not in text
    assert "Редакция" not in text


def test_utf8_page_parses_the_same_from_bytes_and_from_text() -> None:
    data = page("kk-lead-outside-body.html")
    assert load_article(data) == parse_html(data.decode("utf-8"))


# --- selectors -------------------------------------------------------------------------


def test_body_selector_takes_only_that_text() -> None:
    article = load_article(page("selectors.html"), body="div.mt-content")
    assert paragraphs(article) == [
        "Переводы из России сократились",
        "За первое полугодие мигранты перевели из России в Казахстан 412 млн долларов.",
        "Годом ранее сумма переводов была на пятую часть больше.",
    ]


def test_body_selector_with_several_nodes_keeps_their_order() -> None:
    html = (
        '<h1>T</h1><div class="lead">Lead 1</div><div class="x">Noise 2</div>'
        '<div class="body"><p>Body 3</p><div class="lead">Nested 4</div></div>'
    )
    assert parse_html(html, body=".lead, .body").text == "T\n\nLead 1\n\nBody 3\n\nNested 4"


def test_body_selector_that_selects_nothing_falls_back_to_the_generic_extractor() -> None:
    article = load_article(page("selectors.html"), body="div.no-such-class")
    assert "412 млн долларов" in article.text


def test_published_selector_wins_over_metadata() -> None:
    data = page("selectors.html")
    assert load_article(data).published == "2020-01-01"
    assert load_article(data, published="span.mt-date").published == "2025-10-09"


def test_published_selector_reads_the_datetime_attribute() -> None:
    html = '<p class="d" datetime="2025-03-02T10:00:00+06:00">вчера</p><p>Text</p>'
    assert parse_html(html, published="p.d").published == "2025-03-02"


@pytest.mark.parametrize("selector", ["div[", "p:nth-child(", "a >", "###", "::"])
def test_invalid_body_selector_raises_input_error_naming_it(selector: str) -> None:
    with pytest.raises(InputError) as info:
        load_article(page("selectors.html"), body=selector)
    assert selector in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_published_selector_raises_input_error_naming_it() -> None:
    with pytest.raises(InputError, match=re.escape("span..date")):
        parse_html("<p>x</p>", published="span..date")


def test_invalid_selector_is_reported_for_plain_text_too() -> None:
    with pytest.raises(InputError, match=re.escape("div[")):
        load_article(b"plain text", body="div[")


# --- publication date ------------------------------------------------------------------

HEAD = "<html><head>{}</head><body><article><p>Text about migrants.</p>{}</article></body></html>"


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (
            '<meta property="article:published_time" content="2025-10-09T08:15:00+05:00">',
            "",
            "2025-10-09",
        ),
        ('<meta property="og:published_time" content="2025-10-08T23:50:00Z">', "", "2025-10-08"),
        ("", '<span itemprop="datePublished" content="2025-10-07">7 октября</span>', "2025-10-07"),
        ("", '<time datetime="2025-10-06T10:00">6 октября</time>', "2025-10-06"),
        (
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
            '[{"@type": "WebPage"}, {"@type": "NewsArticle", '
            '"datePublished": "2025-10-05T09:00:00+05:00"}]}</script>',
            "",
            "2025-10-05",
        ),
        ('<meta name="date" content="2025-10-04">', "", "2025-10-04"),
        ('<meta name="pubdate" content="2025-10-03T10:00:00+06:00">', "", "2025-10-03"),
        ('<meta name="publish-date" content="02.10.2025">', "", "2025-10-02"),
        ('<meta name="DC.date.issued" content="2025-10-01">', "", "2025-10-01"),
        ('<meta name="sailthru.date" content="2025-09-30 14:00:00">', "", "2025-09-30"),
    ],
    ids=[
        "article-published-time",
        "og-published-time",
        "itemprop",
        "time",
        "json-ld",
        "date",
        "pubdate",
        "publish-date",
        "dc-date-issued",
        "sailthru",
    ],
)
def test_published_date_from_metadata(head: str, body: str, expected: str) -> None:
    assert parse_html(HEAD.format(head, body)).published == expected


def test_published_date_from_broken_json_ld() -> None:
    html = HEAD.format(
        '<script type="application/ld+json">{"datePublished": "2025-08-01T00:00:00", }</script>',
        "",
    )
    assert parse_html(html).published == "2025-08-01"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("09.10.2025", "2025-10-09"),
        ("Опубликовано: 9.10.2025 14:30", "2025-10-09"),
        ("2025-10-09T23:30:00-05:00", "2025-10-09"),
        ("9 октября 2025 года", "2025-10-09"),
        ("2025 жылғы 9 қазан", "2025-10-09"),
        ("9 қазан 2025", "2025-10-09"),
        ("October 9, 2025", "2025-10-09"),
        ("Thu, 09 Oct 2025 14:30:00 +0500", "2025-10-09"),
        ("10/25/2025", "2025-10-25"),
        ("2025-13-45", None),
        ("сегодня, 14:30", None),
    ],
)
def test_published_date_forms(written: str, expected: str | None) -> None:
    html = f'<span class="date">{written}</span><p>Text</p>'
    assert parse_html(html, published="span.date").published == expected


def test_no_date_metadata_gives_none() -> None:
    assert parse_html("<p>Text from 2025 about 12.10 things</p>").published is None


# --- language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<html lang="kk"><body><p>Мәтін</p></body></html>', "kk"),
        ('<html lang="ru-RU"><body><p>Текст</p></body></html>', "ru"),
        ('<html><head><meta property="og:locale" content="en_US"></head><p>Text</p></html>', "en"),
        (
            '<html><head><meta http-equiv="Content-Language" content="kk-KZ"></head></html>',
            "kk",
        ),
        ('<html lang="kz"><body><p>Мәтін</p></body></html>', "kk"),
        ('<html lang="de"><body><p>Text</p></body></html>', None),
        ("<html><body><p>Text</p></body></html>", None),
    ],
    ids=["kk", "ru-RU", "og-locale", "content-language", "kz", "other", "absent"],
)
def test_language_from_the_page(html: str, expected: str | None) -> None:
    assert parse_html(html).lang == expected


# --- title -----------------------------------------------------------------------------


def test_title_from_h1_is_the_first_paragraph() -> None:
    html = "<title>Site</title><div><p>Rubric</p></div><h1>Quota set</h1><p>Body text here.</p>"
    article = parse_html(html)
    assert article.title == "Quota set"
    assert paragraphs(article)[0] == "Quota set"
    assert article.text.count("Quota set") == 1


def test_title_from_og_title_without_the_site_name() -> None:
    html = (
        '<head><meta property="og:title" content="Quota set | Kaz News">'
        '<meta property="og:site_name" content="Kaz News"><title>Other</title></head>'
        "<body><p>The quota was set at 29,000 people.</p></body>"
    )
    article = parse_html(html)
    assert article.title == "Quota set"
    assert paragraphs(article) == ["Quota set", "The quota was set at 29,000 people."]


def test_title_from_title_element_last() -> None:
    article = parse_html("<title> Quota\n set </title><p>Body.</p>")
    assert article.title == "Quota set"
    assert article.text == "Quota set\n\nBody."


def test_title_is_not_repeated_when_the_body_starts_with_it() -> None:
    article = parse_html('<div class="article-body"><h1>Quota set</h1><p>Body.</p></div>')
    assert article.text == "Quota set\n\nBody."


# --- plain text and sniffing -----------------------------------------------------------


def test_plain_text_keeps_paragraphs_and_collapses_spaces() -> None:
    text = "Title line\r\n\r\nFirst   paragraph\twith  tabs.\rSecond line.\n\n\n  Third.  \n"
    assert parse_text(text) == Article(
        text="Title line\n\nFirst paragraph with tabs.\n\nSecond line.\n\nThird.",
        title=None,
        published=None,
        lang=None,
    )


def test_plain_text_bytes_are_not_parsed_as_html() -> None:
    data = "Квота: 29 тыс. <не менее> 5% от рабочей силы.\nВторая строка.".encode("cp1251")
    article = load_article(data, content_type="text/plain")
    assert article.text == "Квота: 29 тыс. <не менее> 5% от рабочей силы.\n\nВторая строка."


def test_html_served_as_text_plain_is_sniffed() -> None:
    article = load_article(b"<!DOCTYPE html><p>Body</p>", content_type="text/plain")
    assert article.text == "Body"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html><html><body></body></html>", True),
        ("\ufeff  <!-- c --> <html lang=kk>", True),
        ("<p>One</p>", True),
        ("Some text <b>bold</b> and more", True),
        ("Quota < 5% and > 2%", False),
        ("Just a line of text.", False),
        ("", False),
    ],
)
def test_looks_like_html(text: str, expected: bool) -> None:
    assert looks_like_html(text) is expected


# --- size and robustness ---------------------------------------------------------------


def _big_page(size: int) -> bytes:
    article = (
        "<article><h2>Трудовые мигранты</h2>"
        + "<p>Министерство сообщило, что 102 тыс. граждан работают в России, "
        "<a href='/x'>подробнее</a> о <b>квотах</b>.</p>" * 5 + "</article>"
    )
    nav = "<nav><ul>" + "".join(f"<li><a href='/{i}'>Раздел {i}</a></li>" for i in range(20))
    block = f"<div class='row'><div class='share'>Поделиться 1 234</div>{article}{nav}</ul></nav>"
    block += "<div class='views'>👁 5 678</div></div>\n"
    count = size // len(block.encode()) + 1
    return f"<html><head><title>T</title></head><body>{block * count}</body></html>".encode()


def test_20_mb_of_html_parses_within_seconds() -> None:
    data = _big_page(20_000_000)
    assert len(data) > 20_000_000
    start = time.perf_counter()
    article = load_article(data, content_type="text/html; charset=utf-8")
    elapsed = time.perf_counter() - start
    assert "102 тыс. граждан работают в России" in article.text
    assert "1 234" not in article.text
    assert elapsed < 10, f"{elapsed:.1f} s"


def test_input_is_cut_at_max_input_bytes() -> None:
    data = b"<p>" + b"a" * (MAX_INPUT_BYTES + 1000)
    assert len(load_article(data).text) < MAX_INPUT_BYTES


@pytest.mark.parametrize(
    "html",
    [
        '<div class="x">' * 300_000 + "deep text",
        "<span>x" * 200_000 + "</i>" * 400_000,
        "<b>x<div>" * 300_000,
        "<section>" * 40_000 + "x" + "</section>" * 40_000,
    ],
    ids=["unclosed-divs", "stray-end-tags", "formatting-and-blocks", "deep-balanced"],
)
def test_pathological_nesting_stays_fast(html: str) -> None:
    start = time.perf_counter()
    article = parse_html(html)
    assert time.perf_counter() - start < 10
    assert article.text


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_an_article_or_input_error(data: bytes) -> None:
    try:
        article = load_article(data)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(article.text, str)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<div>",
                "</div>",
                "<p>",
                "</p>",
                "<table>",
                "<tr>",
                "<td>",
                "<li>",
                "<br>",
                "<b>",
                "</b>",
                '<div class="share">',
                "<article>",
                "<nav>",
                "</nav>",
                "<h1>",
                "<!--",
                "-->",
                "<script>",
                "</script>",
                "&#1179;",
                "&amp",
                "Қазақстан ",
                "102 тыс. ",
                "\n",
                "<",
                ">",
            ]
        ),
        max_size=60,
    )
)
def test_any_tag_soup_parses(parts: list[str]) -> None:
    article = parse_html("".join(parts))
    assert "\ufdd0" not in article.text
    for paragraph in paragraphs(article):
        assert paragraph == paragraph.strip()
        assert "  " not in paragraph
