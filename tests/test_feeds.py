"""Feeds and listing pages from fetched bytes: items, encodings, hostile input, canonical URLs."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.feeds import (
    MAX_CONTENT_CHARS,
    FeedError,
    Item,
    canonical_url,
    parse_feed,
    parse_listing,
)
from monitor.fetch import fetch_url

FEEDS = Path(__file__).resolve().parent / "feeds"


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def rss(items: str, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}<rss version="2.0"><channel>'
        f"<title>t</title>{items}</channel></rss>"
    ).encode()


# --- RSS and Atom --------------------------------------------------------------------------------


def test_rss_items_come_in_feed_order_with_canonical_urls_and_full_content() -> None:
    items = parse_feed(fixture("rss-content.xml"), "https://news.example.kz/rss")
    assert [i.url for i in items] == [
        "https://news.example.kz/kazakhstan/sezonnye-raboty-koreya-501",
        "https://news.example.kz/kk/qogam/shetelde-zhumys-502",
        "https://news.example.kz/en/economy/quota-503/",
    ]
    ru, kk, en = items
    assert ru.guid == "news-501"
    assert ru.title == "Более 2 тысяч казахстанцев выехали на сезонные работы в Корею"
    assert ru.published == "2025-10-09T14:30:00+05:00"
    # content:encoded wins over the shorter description
    assert ru.content is not None
    assert ru.content.startswith("<p>С начала года более 2 тысяч граждан Казахстана")
    assert "переговоры о присоединении к программе EPS продолжаются" in ru.content
    assert kk.title == "Шетелде жұмыс істейтін қазақстандықтар саны артты"
    assert kk.content is not None and "126 мыңға жуық" in kk.content
    assert en.published == "2025-10-11T08:00:00+05:00"  # dc:date, offset kept


def test_rss_content_is_sanitised_by_feedparser() -> None:
    items = parse_feed(fixture("rss-content.xml"), "https://news.example.kz/rss")
    en = items[2]
    assert en.content is not None
    assert "29 thousand work permits" in en.content
    assert "<script" not in en.content and "alert" not in en.content


def test_rss_items_without_an_http_link_are_skipped_and_tracking_duplicates_dropped() -> None:
    items = parse_feed(fixture("rss-content.xml"), "https://news.example.kz/rss")
    titles = [i.title for i in items]
    assert "Новость без ссылки" not in titles
    assert "Ссылка-скрипт" not in titles
    assert "Дубль первой новости с другой меткой" not in titles  # same URL but ?fbclid=


def test_atom_entries_resolve_relative_links_against_xml_base() -> None:
    items = parse_feed(fixture("atom.xml"), "https://en.example.kz/feed/atom/")
    assert items == [
        Item(
            url="https://en.example.kz/news/korea-talks-resume-601/",
            guid="tag:en.example.kz,2025:601",
            title="Kazakhstan and Korea resume labour talks",  # markup of a type="html" title
            published="2025-10-12T09:15:00+05:00",
            content=(
                "<p>Talks on the employment of Kazakh citizens in South Korea have resumed after"
                " a pause, a deputy minister told reporters in Astana.</p>"
            ),
        ),
        Item(
            url="https://en.example.kz/news/fines-602/",
            guid="tag:en.example.kz,2025:602",
            title="Migration fines collected in the first half of the year",
            published="2025-10-11",  # a date stays a date
            content="Police collected KZT 157.1 million in fines for migration offences.",
        ),
    ]


@pytest.mark.parametrize(
    "content_type",
    [None, "application/rss+xml", "text/xml; charset=windows-1251", "text/html"],
)
def test_a_windows_1251_feed_with_character_references_reads_cyrillic_and_kazakh_letters(
    content_type: str | None,
) -> None:
    items = parse_feed(fixture("rss-cp1251.xml"), "http://old.example.kz/rss.xml", content_type)
    assert [i.url for i in items] == [
        "http://old.example.kz/news/enbek-801.html",
        "http://old.example.kz/news/narusheniya-802.html",  # relative link, resolved
    ]
    kk, ru = items
    assert kk.title == "Еңбек мигранттары: Ресейде 102 мың қазақстандық жұмыс істейді"
    assert kk.content == (
        "Көші-қон қызметінің деректері бойынша, Ресейде шамамен 102 мың қазақстандық еңбек етеді."
    )
    assert ru.title == "В области выявлено 205 нарушений миграционного законодательства"
    assert ru.published == "2025-10-14T12:40:00+05:00"


def test_a_feed_served_over_loopback_http_parses_with_its_content_type(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/rss.xml").respond_with_data(
        fixture("rss-cp1251.xml"), content_type="application/rss+xml; charset=windows-1251"
    )
    url = httpserver.url_for("/rss.xml")
    data, content_type = fetch_url(url)
    items = parse_feed(data, url, content_type)
    assert items[0].title is not None
    assert items[0].title.startswith("Еңбек мигранттары")
    # relative links resolve against the URL the feed came from
    assert items[1].url == httpserver.url_for("/news/narusheniya-802.html")


def test_relative_rss_links_resolve_against_the_feed_url() -> None:
    data = rss(
        "<item><title>a</title><link>/ru/news/a-1</link></item>"
        "<item><title>b</title><link>b-2.html</link></item>"
        "<item><title>c</title><link>//cdn.example.kz/c-3</link></item>"
    )
    items = parse_feed(data, "https://site.example.kz/ru/rss/index.xml")
    assert [i.url for i in items] == [
        "https://site.example.kz/ru/news/a-1",
        "https://site.example.kz/ru/rss/b-2.html",
        "https://cdn.example.kz/c-3",
    ]


def test_a_malformed_feed_keeps_the_entries_it_could_read() -> None:
    items = parse_feed(fixture("rss-malformed.xml"), "https://broken.example.kz/rss")
    assert [i.url for i in items] == [
        "https://broken.example.kz/news/kvota-701",
        "https://broken.example.kz/news/deportaciya-702",
    ]
    assert items[0].title == "Квота на привлечение иностранной рабочей силы & её распределение"


def test_a_malformed_feed_whose_entries_have_no_link_is_an_error_not_an_empty_feed() -> None:
    with pytest.raises(FeedError, match=r"http://a\.kz/rss: malformed XML at line"):
        parse_feed(b"<rss><channel><item><title>X</ti", "http://a.kz/rss")
    # well-formed, with entries that have no link: nothing to take, but nothing broken
    assert parse_feed(b"<rss><channel><item><title>X</title></item></channel></rss>", "u") == []


def test_garbage_is_an_error_naming_the_url_and_the_line() -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(fixture("garbage.xml"), "https://g.example.kz/rss")
    message = str(caught.value)
    assert message.startswith("https://g.example.kz/rss: malformed XML at line 4 (")
    assert "\n" not in message


def test_line_numbers_of_a_document_without_xml_declaration_are_its_own() -> None:
    with pytest.raises(FeedError, match="malformed XML at line 3 "):
        parse_feed(b"<rss version='2.0'>\n<channel>\n<<<\n", "https://g.example.kz/rss")


def test_an_html_page_given_as_a_feed_is_an_error() -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(fixture("not-a-feed.html"), "https://x.example.kz/rss", "text/html")
    assert str(caught.value) == "https://x.example.kz/rss: not a feed (HTML page)"


def test_xml_that_is_not_a_feed_names_its_root_element() -> None:
    sitemap = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.example.kz/a</loc></url></urlset>"
    )
    with pytest.raises(FeedError, match=r"^https://x/s: not a feed \(XML root <urlset>\)$"):
        parse_feed(sitemap, "https://x/s")


def test_an_empty_response_is_an_error_but_a_feed_without_items_is_not() -> None:
    with pytest.raises(FeedError, match=r"^https://x/rss: empty response"):
        parse_feed(b"  \n", "https://x/rss")
    assert parse_feed(rss(""), "https://x/rss") == []


def test_content_is_capped() -> None:
    body = "<p>" + "Ә" * (MAX_CONTENT_CHARS + 10_000) + "</p>"
    data = rss(
        f"<item><title>long</title><link>https://x.kz/a</link>"
        f"<description><![CDATA[{body}]]></description></item>"
    )
    (item,) = parse_feed(data, "https://x.kz/rss")
    assert item.content is not None and len(item.content) == MAX_CONTENT_CHARS


def test_a_utf16_feed_parses() -> None:
    text = rss("<item><title>Қазақстан</title><link>https://x.kz/a</link></item>").decode()
    data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    (item,) = parse_feed(data, "https://x.kz/rss")
    assert (item.title, item.url) == ("Қазақстан", "https://x.kz/a")


# --- hostile XML ---------------------------------------------------------------------------------


def test_an_entity_bomb_fails_fast_with_little_memory() -> None:
    data = fixture("entity-bomb.xml")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FeedError) as caught:
            parse_feed(data, "https://bomb.example.kz/rss")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith("https://bomb.example.kz/rss: XML entities are not allowed")
    assert elapsed < 0.5
    assert peak < 2_000_000


def test_a_quadratic_blowup_is_refused() -> None:
    # one 50 KB entity used 5000 times would be 250 MB expanded
    entity = "x" * 50_000
    data = rss(
        "<item><title>" + "&a;" * 5000 + "</title><link>https://x.kz/a</link></item>",
        head=f'<!DOCTYPE rss [<!ENTITY a "{entity}">]>',
    )
    with pytest.raises(FeedError, match="XML entities are not allowed"):
        parse_feed(data, "https://x.kz/rss")


@pytest.mark.parametrize(
    "head",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;]>',
        '<!-- <a href="x"> --><?pi <b> ?><!DOCTYPE rss [<!ENTITY e "boo">]>',
        '<!doctype rss [<!entity e "lower case">]>',
        '<!-- never closed <!DOCTYPE rss [<!ENTITY e "x">]>',
    ],
    ids=["external", "parameter", "after comment and pi", "lower case", "unclosed comment"],
)
def test_entity_declarations_of_any_kind_are_refused(head: str) -> None:
    data = rss("<item><title>&xxe;</title><link>https://x.kz/a</link></item>", head=head)
    with pytest.raises(FeedError, match=r"^https://x\.kz/rss: XML entities are not allowed"):
        parse_feed(data, "https://x.kz/rss")


def test_an_entity_bomb_in_utf16_is_refused() -> None:
    text = (
        fixture("entity-bomb.xml")
        .decode()
        .replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    )
    with pytest.raises(FeedError, match="XML entities are not allowed"):
        parse_feed(text.encode("utf-16"), "https://x.kz/rss")


def test_a_doctype_without_entities_is_accepted() -> None:
    head = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    data = rss("<item><title>old</title><link>https://x.kz/a</link></item>", head=head)
    assert [i.url for i in parse_feed(data, "https://x.kz/rss")] == ["https://x.kz/a"]


def test_a_body_naming_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    local = tmp_path / "feed.xml"
    local.write_bytes(rss("<item><title>local</title><link>https://x.kz/local</link></item>"))
    with pytest.raises(FeedError):
        parse_feed(str(local).encode(), "https://x.kz/rss")


def test_entity_text_inside_an_item_is_not_a_declaration() -> None:
    data = rss(
        "<item><title>About &lt;!ENTITY&gt;</title><link>https://x.kz/a</link>"
        "<description><![CDATA[<code><!ENTITY x 'y'></code>]]></description></item>"
    )
    (item,) = parse_feed(data, "https://x.kz/rss")
    assert item.title == "About <!ENTITY>"


# --- listing pages -------------------------------------------------------------------------------

LISTING_URL = "https://portal.example.kz/news/"


def test_a_windows_1251_listing_keeps_article_links_and_drops_junk() -> None:
    items = parse_listing(fixture("listing-cp1251.html"), LISTING_URL, ".news-title")
    assert items == [
        Item(
            "https://portal.example.kz/news/kvota-901.html",
            None,
            "Квота на иностранных работников сокращена",
            "2025-10-15T09:00:00+05:00",
            None,
        ),
        Item(
            "https://portal.example.kz/news/deportaciya-902.html",
            None,
            "Из страны выдворены 40 нарушителей",
            None,
            None,
        ),
        Item(
            "https://kaz.portal.example.kz/kk/news/koshi-qon-903",  # a subdomain of the site
            None,
            "Көші-қон: жаңа ережелер",
            None,
            None,
        ),
        Item(
            "https://portal.example.kz/news/?page=2",
            None,
            "Следующая страница",
            None,
            None,
        ),
    ]


def test_include_and_exclude_filter_canonical_link_urls() -> None:
    items = parse_listing(
        fixture("listing-cp1251.html"),
        LISTING_URL,
        ".news-item a",
        content_type="text/html; charset=windows-1251",
        include=r"/news/[\w-]+\.html$",
        exclude="deportaciya",
    )
    assert [i.url for i in items] == ["https://portal.example.kz/news/kvota-901.html"]


def test_a_listing_of_only_junk_links_gives_nothing() -> None:
    page = (
        b'<html><body><ul class="n">'
        b'<li><a href="mailto:a@b.kz">mail</a></li><li><a href="javascript:go()">js</a></li>'
        b'<li><a href="#">top</a></li><li><a href="tel:+7700">tel</a></li>'
        b'<li><a href="https://elsewhere.com/a">other</a></li><li><a href="/img/a.png">img</a></li>'
        b'<li><a href="/">home</a></li><li><a href="/news/">this page</a></li>'
        b"</ul></body></html>"
    )
    assert parse_listing(page, LISTING_URL, "ul.n a") == []


def test_links_are_found_inside_or_around_the_selected_elements() -> None:
    page = (
        b'<div class="card"><h3 class="t"><a href="/news/a-1">A</a></h3></div>'
        b'<a href="/news/b-2"><span class="t">B</span></a>'
        b'<div class="card"><h3 class="t">no link</h3></div>'
    )
    items = parse_listing(page, LISTING_URL, ".t")
    assert [(i.url, i.title) for i in items] == [
        ("https://portal.example.kz/news/a-1", "A"),
        ("https://portal.example.kz/news/b-2", "B"),
    ]


def test_a_base_element_changes_how_relative_links_resolve() -> None:
    page = b'<head><base href="https://portal.example.kz/archive/"></head><a href="c-3">C</a>'
    (item,) = parse_listing(page, LISTING_URL, "a")
    assert item.url == "https://portal.example.kz/archive/c-3"


def test_a_listing_with_an_invalid_selector_or_binary_body_is_an_error() -> None:
    with pytest.raises(FeedError, match=r"^https://portal\.example\.kz/news/: 'div\.\.x' is not a"):
        parse_listing(b"<a href='/a'>a</a>", LISTING_URL, "div..x")
    with pytest.raises(FeedError, match=r"PNG image\), not a listing page$"):
        parse_listing(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, LISTING_URL, "a")


def test_listing_links_on_a_loopback_ip_are_the_same_site() -> None:
    page = b'<a class="x" href="/news/1">one</a><a class="x" href="http://127.0.0.2/news/2">two</a>'
    items = parse_listing(page, "http://127.0.0.1:8080/list", ".x")
    assert [i.url for i in items] == ["http://127.0.0.1:8080/news/1"]


# --- canonical URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Zakon.KZ/News/A-1.html", "https://www.zakon.kz/News/A-1.html"),
        ("https://x.kz", "https://x.kz/"),
        ("https://x.kz:443/a", "https://x.kz/a"),
        ("http://x.kz:80/a", "http://x.kz/a"),
        ("http://x.kz:8080/a", "http://x.kz:8080/a"),
        ("https://x.kz/a#comments", "https://x.kz/a"),
        ("https://x.kz/a?utm_source=rss&utm_medium=feed", "https://x.kz/a"),
        ("https://x.kz/a?b=2&fbclid=Z&a=1&gclid=Y", "https://x.kz/a?a=1&b=2"),
        ("https://x.kz/a?yclid=1&_openstat=2&from=rss&ref=tg", "https://x.kz/a"),
        ("https://x.kz/a?mc_cid=1&mc_eid=2&id=7", "https://x.kz/a?id=7"),
        ("https://x.kz/a?from=main", "https://x.kz/a?from=main"),
        ("https://x.kz/a?UTM_Campaign=x&q=1", "https://x.kz/a?q=1"),
        ("https://x.kz/a/b/../c/./d", "https://x.kz/a/c/d"),
        ("https://x.kz/kazakhstan_news/talks-123/amp/", "https://x.kz/kazakhstan_news/talks-123/"),
        ("https://x.kz/news/a-1/amp", "https://x.kz/news/a-1"),
        (
            "https://x.kz/новости/а 1",
            "https://x.kz/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%D0%B0%201",
        ),
        ("https://x.kz/a%2fb?q=%d0%b0", "https://x.kz/a%2Fb?q=%D0%B0"),
        ("  https://x.kz/a\n", "https://x.kz/a"),
        ("https://x.kz/?", "https://x.kz/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_resolves_against_a_base_and_is_idempotent() -> None:
    url = canonical_url("../b?utm_term=x#top", "https://x.kz/news/2025/a")
    assert url == "https://x.kz/news/b"
    assert canonical_url(url) == url


def test_canonical_url_raises_for_an_unparsable_port() -> None:
    with pytest.raises(ValueError):
        canonical_url("https://x.kz:99999999/a")
