"""The parse stage: an article's bytes (HTML or plain text) to clean text and its metadata.

HTML goes through selectolax's Lexbor parser (UTF-8 pages as their bytes, which spares encoding
the text again). Without a source's own ``body`` selector the main text is found generically:
tags that never hold article text are stripped, chrome (navigation, share widgets, view
counters, related news, comments, cookie banners, ...) is recognised by its tag or by the words
of its class and id, then the article is the largest ``[itemprop=articleBody]``, common body
class or ``<article>`` outside the chrome, else the element with the most paragraph text once
all chrome is removed. Whether a candidate is inside chrome is asked of its ancestors only, so
a page with article markup never has all its elements classified. A lead in its own element in
front of the main element, and paragraphs that stray end tags pushed out just after it, are
part of the article too. Block elements become paragraph breaks: a marker text node is planted
around each of them and the text is collected in one pass.

Inputs larger than MAX_INPUT_BYTES are cut to that many bytes (characters for the str
functions) before parsing: no article is that long, and the cut keeps one cycle's time bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import accumulate, pairwise
from operator import sub
from typing import TYPE_CHECKING, Any

from .encoding import InputError, decode, decode_page

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "MAX_INPUT_BYTES",
    "Article",
    "InputError",
    "decode",
    "load_article",
    "looks_like_html",
    "parse_html",
    "parse_text",
]

MAX_INPUT_BYTES = 8_000_000


@dataclass(frozen=True)
class Article:
    text: str  # paragraphs separated by "\n\n", whitespace collapsed inside each
    title: str | None
    published: str | None  # 'YYYY-MM-DD' from the page's own metadata
    lang: str | None  # 'kk' | 'ru' | 'en' as the page declares it


_EMPTY = Article(text="", title=None, published=None, lang=None)


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MARK = "\ufdd0"  # a Unicode noncharacter: planted as a paragraph break, never found in text
_MAX_WALK = 512  # ancestors looked at when asking what an element is inside of
_MAX_CANDIDATES = 200  # elements of one preferred kind compared for the main text
_MIN_MAIN = 80  # characters a preferred element needs to count as the article
_MIN_PARAGRAPH = 25  # characters a paragraph needs to count for text density

_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "math",
    "button",
    "object",
    "embed",
    "canvas",
    "select",
    "textarea",
    "input",
    "dialog",
]
_LAYOUT_TAGS = frozenset({"nav", "header", "footer", "aside", "form"})
_BLOCKS = _names(
    "p div li h1 h2 h3 h4 h5 h6 br tr blockquote section article main header footer ul ol dl dt "
    "dd table caption pre figure figcaption address hr details summary center fieldset"
)
_CELLS = _names("td th")

# Chrome is recognised by the words of an element's class and id ("post__shareBox js-x" ->
# post, share, box, js, x): a word of _CHROME_WORDS, a word starting with one of
# _CHROME_PREFIXES, or two words of _CHROME_PAIRS in a row. Layout chrome (the site's header,
# footer, menus, sidebars) is told apart: a layout element may be a wrapper of the whole page.
_NONE, _CHROME, _LAYOUT = 0, 1, 2
_CHROME_WORDS = _names(
    "sharing soc comment comments commenting related banner banners breadcrumb breadcrumbs "
    "submenu newsletter newsletters ad ads adv adriver rtb cookie cookies consent gdpr tag tags "
    "views viewed viewcount viewcounts counter counters popular mostread readalso alsoread "
    "seealso morenews likely addthis pluso"
)
_CHROME_PREFIXES = ("share", "social", "recommend", "promo", "subscri", "advert", "adfox")
_CHROME_PAIRS = frozenset(
    {"read also", "also read", "see also", "more news", "most read", "view count", "view counts"}
)
_LAYOUT_WORDS = _names("nav navbar navigation menu menus sidebar sidebars")
_LAYOUT_PREFIXES = ("header", "footer")
_CHROME_CANDIDATES = ":is(" + ", ".join([*sorted(_LAYOUT_TAGS), "[class]", "[id]"]) + ")"
_NOT_CHROME_TAGS = frozenset({"html", "body", "-document"})
_DRUPAL_VIEWS = re.compile(r"^views?-(?!count)", re.I)  # Drupal's "views-row" holds content
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# A lead (standfirst) often sits in its own element in front of the article body. It is an
# element of one of these tags whose class or id has a lead word and no word of _NOT_LEAD
# (an "intro-image" or a "summary__date" is not the lead).
_LEAD_WORDS = _names(
    "lead lede leadtext subtitle subheadline subhead standfirst intro summary excerpt anons "
    "announce annotation vrez"
)
_LEAD_PAIRS = frozenset({"sub title", "sub headline", "sub head", "lead text"})
_NOT_LEAD = _names(
    "image img photo picture pic video media caption gallery figure thumb thumbnail cover "
    "author date time meta icon logo"
)
_LEAD_TAGS = _names("p div section h2 h3 h4 h5 h6 span strong b em blockquote")
_LEAD_CONTAINERS = _names("div section header hgroup")  # what may hold a lead inside
_NAMED = ":is([class], [id])"
_MAX_CACHED = 200  # characters of a class-and-id value whose classification is cached
_MAX_LEVELS = 6  # ancestors of the main element whose siblings are looked at for lead and tail
_MAX_SIBLINGS = 40  # siblings looked at on each level
_SENTENCE_END = re.compile(r"[.!?…](?:[\s\"'»”)]|$)")

_PREFERRED = (
    "[itemprop=articleBody i]",
    ".article-body, .article__body, .articleBody, .article_body, .article-text, .article__text, "
    ".article_text, .article-content, .article__content, .news-text, .news__text, .news_text, "
    ".news-body, .news-content, .news-detail, .content-text, .post-content, .post-body, "
    ".post__content, .entry-content, .story-body, .text-content, .full-text, .material-text, "
    ".js-mediator-article, .body-text, .main-text",
    "article",
)

# A paragraph of no words ("👁 5 678") or of nothing but a counter's label ("Поделиться
# 1 234", "Просмотров: 5 678") is a widget, not the article.
_COUNTER_WORDS = (
    "поделиться|просмотр[аыов]*|просмотрено|комментари[йяиев]*|бөлісу|көрілім|көрілді|қаралды"
    "|пікір|пікірлер|shares?|views?|comments?|likes?|k|к|тыс|млн"
)
_JUNK = re.compile(rf"(?:[\W\d_]|(?<![^\W\d_])(?:{_COUNTER_WORDS})(?![^\W\d_]))*", re.I)

# Quadratic corners of the HTML tree builder: every block start tag and every stray end tag
# looks through the stack of open elements, so a page of thousands of unclosed <div>s takes
# minutes. When (tags x unclosed elements) passes this bound the page is flattened first.
_MAX_NESTING_WORK = 100_000_000
_NO_NESTING = _names(
    "area base br col embed hr img input link meta param source track wbr "
    "p li dt dd tr td th tbody thead tfoot colgroup caption option optgroup rb rt rp "
    "html head body a"
)
_FLAT_KEEP = _names(
    "p br hr li dt dd tr td th table tbody thead tfoot caption h1 h2 h3 h4 h5 h6 html head body "
    "title meta link script style noscript template iframe textarea select option img"
)
_INLINE = _names(
    "a abbr b bdi bdo big cite code data dfn em font i ins del kbd label mark nobr q s samp small "
    "span strike strong sub sup time tt u var wbr"
)
_TAG_NAME = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*)")
# Written out in lower and upper case: re.I makes these passes over megabytes three times slower.
_INLINE_NAMES = "|".join(sorted(_INLINE | {n.upper() for n in _INLINE}))
_KEEP_NAMES = "|".join(sorted(_FLAT_KEEP | {n.upper() for n in _FLAT_KEEP}))
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_NAMES})(?=[\s/>])[^<>]*>")
_OTHER_TAG = re.compile(rf"</?(?!(?:{_KEEP_NAMES})[\s/>])[A-Za-z][A-Za-z0-9-]*[^<>]*>")
_HTML_START = re.compile(
    r"\s*(?:<!--.*?-->\s*)*(?:<\?xml[^>]*>\s*)?"
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|h[1-6]|table|ul)\b",
    re.I | re.S,
)
_HTML_TAG = re.compile(
    r"</?(?:html|head|body|p|div|span|a|br|h[1-6]|article|section|meta|title|ul|ol|li|table|tr"
    r"|td|script|style|link|img|strong|em|b|i)\b[^<>]*>",
    re.I,
)
_SNIFF_WINDOW = 65_536

_DATE_KEYS = (
    "date",
    "pubdate",
    "publish-date",
    "publish_date",
    "publishdate",
    "dc.date.issued",
    "dcterms.issued",
    "sailthru.date",
    "dc.date",
)
_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T|$)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})([./])(\d{1,2})\2(\d{4})(?!\d)")
_MONTHS = (
    r"январ\w*|jan\w*|қаңтар\w*",
    r"феврал\w*|feb\w*|ақпан\w*",
    r"март\w*|mar\w*|наурыз\w*",
    r"апрел\w*|apr\w*|сәуір\w*",
    r"ма[йя]|may|мамыр\w*",
    r"июн\w*|jun\w*|маусым\w*",
    r"июл\w*|jul\w*|шілде\w*",
    r"август\w*|aug\w*|тамыз\w*",
    r"сентябр\w*|sep\w*|қыркүйек\w*",
    r"октябр\w*|oct\w*|қазан\w*",
    r"ноябр\w*|nov\w*|қараша\w*",
    r"декабр\w*|dec\w*|желтоқсан\w*",
)
_MONTH = "(?:" + "|".join(f"(?P<m{i}>{p})" for i, p in enumerate(_MONTHS, 1)) + r")\b\.?"
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})\s+{_MONTH},?\s+(?P<y>\d{{4}})", re.I)
_MONTH_DAY_YEAR = re.compile(
    rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})", re.I
)
_YEAR_DAY_MONTH = re.compile(  # Kazakh: "2025 жылғы 9 қазан"
    rf"(?<!\d)(?P<y>\d{{4}})\s*(?:ж\.|жылғы|жылы)?\s+(?P<d>\d{{1,2}})\s+{_MONTH}", re.I
)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{6,64})"')

_LANGS = {"kk": "kk", "kz": "kk", "kaz": "kk", "ru": "ru", "rus": "ru", "en": "en", "eng": "en"}


def looks_like_html(text: str) -> bool:
    """True when the text starts like an HTML document or carries at least two HTML tags."""
    head = text[:_SNIFF_WINDOW].lstrip("\ufeff")
    if _HTML_START.match(head):
        return True
    tags = _HTML_TAG.finditer(head)
    return next(tags, None) is not None and next(tags, None) is not None


def parse_text(text: str) -> Article:
    """Plain text: every line is a paragraph, spaces collapsed within it."""
    lines = text[:MAX_INPUT_BYTES].lstrip("\ufeff").splitlines()
    paragraphs = (" ".join(line.split()) for line in lines)
    return Article(
        text="\n\n".join(p for p in paragraphs if p), title=None, published=None, lang=None
    )


def parse_html(html: str, *, body: str | None = None, published: str | None = None) -> Article:
    """An article's HTML -> its text, title, publication date and declared language.

    `body` and `published` are CSS selectors from the source's [article] table. With `body`
    the text comes from the elements it selects (chrome inside them is still dropped); when it
    selects nothing, the generic extractor runs instead, so that a site redesign degrades the
    text rather than losing it. The publication date comes from the `published` element's
    datetime or content attribute or its text, else from the page metadata, in this order:
    article:published_time, og:published_time, itemprop=datePublished, JSON-LD datePublished,
    meta name=date / pubdate / publish-date / DC.date.issued / sailthru.date, and last a
    <time datetime> (last because listings of other news carry <time>s too). An invalid
    selector raises InputError naming it.
    """
    if body is not None:
        _check_selector(body, "the article body")
    if published is not None:
        _check_selector(published, "the publication date")
    return _parse_html(html[:MAX_INPUT_BYTES], None, body, published)


def _parse_html(html: str, raw: bytes | None, body: str | None, published: str | None) -> Article:
    """parse_html() on checked selectors; `raw` is the page's UTF-8 bytes when `html` is them
    decoded as they are: the parser takes bytes without encoding the text again."""
    flat = _flatten_if_deep(html)
    tree = _html_tree(raw if raw is not None and flat is html else flat)
    metas = _metas(tree)
    lang = _lang(tree, metas)
    date_published = _published(tree, metas, published)
    site = metas.get("og:site_name")
    title_node = tree.css_first("title")
    fallback_title = _strip_site(metas.get("og:title"), site) or _strip_site(
        title_node.text() if title_node is not None else None, site
    )

    tree.strip_tags(_DROP_TAGS)
    root = tree.body if tree.body is not None else tree.root
    if root is None:
        return Article(text="", title=fallback_title, published=date_published, lang=lang)
    page = _Page(root)
    nodes = _selected(tree, body) if body is not None else []
    if not nodes:
        nodes = _generic_nodes(page)
    h1 = next((h for h in (n.css_first("h1") for n in nodes) if h is not None), None)
    if h1 is None:
        h1 = _heading(page, nodes)
    paragraphs = _collect(nodes)
    title = _clean(h1.text()) if h1 is not None else ""
    title = title or fallback_title or ""
    if title and not (paragraphs and paragraphs[0].startswith(title)):
        if title in paragraphs[:5]:
            paragraphs.remove(title)
        paragraphs.insert(0, title)
    return Article(
        text="\n\n".join(paragraphs), title=title or None, published=date_published, lang=lang
    )


def load_article(
    data: bytes,
    *,
    content_type: str | None = None,
    body: str | None = None,
    published: str | None = None,
) -> Article:
    """Bytes as fetched -> Article: cut to MAX_INPUT_BYTES, decode, then parse as HTML when the
    content type says so or the text looks like HTML, else as plain text.

    Empty (or blank) input gives an Article with empty text. Raises InputError for binary data
    and invalid selectors.
    """
    if body is not None:
        _check_selector(body, "the article body")
    if published is not None:
        _check_selector(published, "the publication date")
    if not data:
        return _EMPTY
    data = data[:MAX_INPUT_BYTES]
    text, as_is = decode_page(data, content_type)
    if not text or text.isspace():
        return _EMPTY
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml") or looks_like_html(text):
        return _parse_html(text, data if as_is else None, body, published)
    return parse_text(text)


def _html_tree(html: str | bytes) -> LexborHTMLParser:
    """The parsed page. The HTML parser is imported here, not with the module, so that plain
    text is read with the standard library alone (`monitor extract` on a .txt file)."""
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(html)


def _selectolax_error() -> type[Exception]:
    from selectolax.lexbor import SelectolaxError

    return SelectolaxError


def _check_selector(selector: str, what: str) -> None:
    if not selector.strip():
        raise InputError(f"empty CSS selector for {what}")
    try:  # a parser of its own: a parser caches its selector engine, threads must not share one
        _html_tree("").css(selector)
    except (_selectolax_error(), ValueError):
        raise InputError(f"invalid CSS selector for {what}: {selector!r}") from None


def _flatten_if_deep(html: str) -> str:
    """The page, or for a page of thousands of unclosed or nested elements, a flat copy of it.

    A page is flattened when (tags x nesting depth) passes the bound, or when fewer than one
    tag in five is an end tag. The flat copy keeps paragraphs, headings, list items, table
    cells, metadata and scripts, drops inline tags and turns every other tag into a paragraph
    break.
    """
    tags = html.count("<")
    if tags**2 <= _MAX_NESTING_WORK:
        return html
    closings = html.count("</")
    if closings * 4 >= tags - closings and _depth(html) * tags <= _MAX_NESTING_WORK:
        return html
    return _OTHER_TAG.sub(f" {_MARK} ", _INLINE_TAG.sub("", html))


def _depth(html: str) -> int:
    """The deepest nesting of elements, estimated as a running count of start tags less the
    end tags that can close them (a stray end tag closes nothing but still makes the parser
    look through its stack of open elements)."""
    names = _TAG_NAME.findall(html)
    opened = {n.lower() for n in set(names) if n[0] != "/"} - _NO_NESTING
    step = {}
    for name in set(names):
        low = name.lower()
        step[name] = (-(low[1:] in opened)) if low[0] == "/" else int(low in opened)
    level = list(accumulate(map(step.__getitem__, names)))
    # the largest rise of the level over an earlier low: closings never go below nothing
    return max(map(sub, level, accumulate(level, min, initial=0)), default=0)


def _metas(tree: LexborHTMLParser) -> dict[str, str]:
    """content of every <meta>, by its lower-cased property, name, itemprop or http-equiv."""
    found: dict[str, str] = {}
    for node in tree.css("meta")[:2000]:
        attrs = node.attributes
        content = attrs.get("content")
        if not content:
            continue
        for key in ("property", "name", "itemprop", "http-equiv"):
            value = attrs.get(key)
            if value:
                found.setdefault(value.strip().lower(), content.strip())
    return found


def _lang(tree: LexborHTMLParser, metas: dict[str, str]) -> str | None:
    html = tree.root
    attrs = html.attributes if html is not None else {}
    for value in (
        attrs.get("lang"),
        attrs.get("xml:lang"),
        metas.get("og:locale"),
        metas.get("content-language"),
        metas.get("language"),
    ):
        if value:
            lang = _LANGS.get(re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0])
            if lang is not None:
                return lang
    return None


def _published(tree: LexborHTMLParser, metas: dict[str, str], selector: str | None) -> str | None:
    if selector is not None:
        for node in tree.css(selector)[:20]:
            found = _node_date(node)
            if found:
                return found
    for key in ("article:published_time", "og:published_time"):
        found = _parse_date(metas.get(key))
        if found:
            return found
    itemprop = tree.css_first("[itemprop=datePublished i]")
    found = _node_date(itemprop) if itemprop is not None else None
    if found:
        return found
    found = _jsonld_date(tree)
    if found:
        return found
    for key in _DATE_KEYS:
        found = _parse_date(metas.get(key))
        if found:
            return found
    for sel in ("time[pubdate][datetime]", "article time[datetime]", "time[datetime]"):
        timed = tree.css_first(sel)
        found = _node_date(timed) if timed is not None else None
        if found:
            return found
    return None


def _node_date(node: LexborNode) -> str | None:
    attrs = node.attributes
    for value in (attrs.get("datetime"), attrs.get("content"), node.text()):
        found = _parse_date(value)
        if found:
            return found
    return None


def _jsonld_date(tree: LexborHTMLParser) -> str | None:
    for script in tree.css('script[type="application/ld+json" i]')[:20]:
        raw = script.text()
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            match = _JSONLD_DATE.search(raw)
            found = _parse_date(match.group(1)) if match else None
        else:
            found = _parse_date(_find_key(data, "datePublished"))
        if found:
            return found
    return None


def _find_key(data: Any, key: str) -> str | None:
    """The first string value of `key` anywhere in parsed JSON, breadth first."""
    queue: list[Any] = [data]
    for item in queue:
        if isinstance(item, dict):
            value = item.get(key)
            if isinstance(value, str):
                return value
            queue.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            queue.extend(v for v in item if isinstance(v, dict | list))
        if len(queue) > 10_000:
            break
    return None


def _parse_date(value: str | None) -> str | None:
    """'YYYY-MM-DD' from an ISO date or datetime, 'dd.mm.yyyy', an RFC 2822 date or a day,
    month name and year in Russian, Kazakh or English; None when there is none.

    Only the date as written is kept: '2025-10-09T23:30:00-05:00' is 2025-10-09.
    'dd/mm/yyyy' is read day first unless the day cannot be one.
    """
    if not value:
        return None
    value = value.strip()[:200]
    match = _COMPACT.match(value) or _YMD.search(value)
    if match:
        return _iso(match.group(1), match.group(2), match.group(3))
    match = _DMY.search(value)
    if match:
        day, sep, month, year = match.groups()
        if sep == "/" and int(month) > 12 >= int(day):
            day, month = month, day
        return _iso(year, month, day)
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _YEAR_DAY_MONTH):
        match = pattern.search(value)
        if match:
            month = next(i for i in range(1, 13) if match.group(f"m{i}"))
            return _iso(match.group("y"), str(month), match.group("d"))
    return None


def _iso(year: str, month: str, day: str) -> str | None:
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return found.isoformat() if 1900 <= found.year <= 2100 else None


def _strip_site(title: str | None, site: str | None) -> str | None:
    """The title without a trailing " | Site name" when the site's name is known."""
    title = _clean(title or "")
    if site and title.endswith(site) and len(title) > len(site):
        rest = title[: -len(site)].rstrip()
        if rest and rest[-1] in "|—–-:·•/":
            return rest[:-1].rstrip() or title
    return title or None


def _clean(text: str) -> str:
    return " ".join(text.replace(_MARK, " ").split())


@dataclass
class _Page:
    """The page body being searched, with what was learnt about it along the way."""

    root: LexborNode
    text_len: int = -1  # characters of text in root, counted when first needed
    blocked: dict[int, bool] = field(default_factory=dict)  # by mem_id: in chrome or not


def _page_len(page: _Page) -> int:
    if page.text_len < 0:
        page.text_len = len(page.root.text())
    return page.text_len


def _selected(tree: LexborHTMLParser, body: str) -> list[LexborNode]:
    """The elements the source's body selector picks (outermost only, each once), chrome
    removed inside them."""
    found = tree.css(body)[:500]
    ids = {n.mem_id for n in found}
    nodes: list[LexborNode] = []
    taken: set[int] = set()  # a node matched by two selectors of a list comes twice
    for node in found:
        if node.mem_id not in taken and not _inside(node.parent, ids):
            taken.add(node.mem_id)
            nodes.append(node)
    for node in nodes:
        _strip_chrome(node)
    return nodes


def _generic_nodes(page: _Page) -> list[LexborNode]:
    """The elements holding the article, in order: its lead, the main element, and paragraphs
    broken markup pushed out of it. Chrome inside them is removed.

    The main element is looked for among the preferred kinds first, without touching the
    rest of the page; only when there is none is all chrome removed and the element with the
    most paragraph text taken.
    """
    main = _preferred(page)
    if main is None:
        chrome = _chrome(page.root)
        wrappers = {n.mem_id for n, kind in chrome if kind == _LAYOUT and _wrapper(n, page)}
        for node, _ in reversed(chrome):  # a descendant before its ancestor
            if node.mem_id not in wrappers:
                node.decompose()
        page.blocked.clear()  # freed elements' ids may come back for new ones
        main = _densest(page.root)
        return [*_leads(main), main, *_tail(main)]
    nodes = [*_leads(main), main, *_tail(main)]
    for node in nodes:
        _strip_chrome(node)
    page.blocked.clear()
    return nodes


def _kind(node: LexborNode) -> int:
    """_LAYOUT for the site's header, footer, menus and sidebars, _CHROME for other chrome,
    else _NONE."""
    tag = node.tag
    if tag in _NOT_CHROME_TAGS or not node.is_element_node:
        return _NONE
    attrs = node.attributes
    value = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    kind = _LAYOUT if tag in _LAYOUT_TAGS else _value_kind(value) if value != " " else _NONE
    if kind and (tag == "header" or "header" in value.lower()) and _article_header(node):
        return _NONE
    return kind


def _value_kind(value: str) -> int:
    """What a class-and-id value names. Pages repeat their class names, so short values are
    answered from a cache (long ones are not kept: a hostile page could fill it)."""
    return _cached_kind(value) if len(value) <= _MAX_CACHED else _words_kind(value)


def _lead_value(value: str) -> bool:
    """Whether a class-and-id value names a lead: "article__lead", "subTitle", "news-intro"."""
    return _cached_lead(value) if len(value) <= _MAX_CACHED else _words_lead(value)


def _words_kind(value: str) -> int:
    kind, previous = _NONE, ""
    for word in _class_words(value).split():
        if word in _LAYOUT_WORDS or word.startswith(_LAYOUT_PREFIXES):
            return _LAYOUT
        if (
            word in _CHROME_WORDS
            or word.startswith(_CHROME_PREFIXES)
            or f"{previous} {word}" in _CHROME_PAIRS
        ):
            kind = _CHROME
        previous = word
    return kind


def _words_lead(value: str) -> bool:
    words = _class_words(value).split()
    if not _NOT_LEAD.isdisjoint(words):
        return False
    pairs = {f"{a} {b}" for a, b in pairwise(words)}
    return not (_LEAD_WORDS.isdisjoint(words) and _LEAD_PAIRS.isdisjoint(pairs))


_cached_kind = lru_cache(maxsize=4096)(_words_kind)
_cached_lead = lru_cache(maxsize=4096)(_words_lead)


def _class_words(value: str) -> str:
    """The words of a class and id: "post__shareBox js-x" -> "post share box js x"."""
    tokens = value.split()
    joined = " ".join(t for t in tokens if not _DRUPAL_VIEWS.match(t))
    return " ".join(_NON_ALNUM.split(_CAMEL.sub(r"\1 \2", joined).lower())).strip()


def _article_header(node: LexborNode) -> bool:
    """Whether a header-named element is inside the article: it holds the article's title and
    lead, not the site's navigation. A <header> counts inside an <article> or articleBody,
    an element with "header" in its class or id inside an <article>."""
    tag_header = node.tag == "header"
    current = node.parent
    for _ in range(_MAX_WALK):
        if current is None:
            return False
        if current.tag == "article":
            return True
        if tag_header and current.is_element_node:
            itemprop = current.attributes.get("itemprop") or ""
            if itemprop.lower() == "articlebody":
                return True
        current = current.parent
    return False


def _chrome(root: LexborNode) -> list[tuple[LexborNode, int]]:
    """Chrome elements under root in document order, each with its kind."""
    found = []
    for node in root.css(_CHROME_CANDIDATES):
        kind = _kind(node)
        if kind:
            found.append((node, kind))
    return found


def _strip_chrome(node: LexborNode) -> None:
    """Remove the chrome inside the node (not the node itself), a descendant before its
    ancestor so that no node is touched after the subtree holding it was freed."""
    key = node.mem_id
    for chrome, _ in reversed(_chrome(node)):
        if chrome.mem_id != key:
            chrome.decompose()


def _wrapper(node: LexborNode, page: _Page) -> bool:
    """A layout element holding most of the page is a wrapper ("page with-sidebar")."""
    return len(node.text()) * 2 > _page_len(page)


def _blocked(node: LexborNode, page: _Page) -> bool:
    """Whether the node or one of its ancestors is chrome (not a wrapper). Answers are kept
    for every element on the way up, so sibling candidates cost a step or two each."""
    path: list[LexborNode] = []
    current: LexborNode | None = node
    verdict = False
    for _ in range(_MAX_WALK):
        if current is None:
            break
        known = page.blocked.get(current.mem_id)
        if known is not None:
            verdict = known
            break
        path.append(current)
        current = current.parent
    for element in reversed(path):
        if not verdict:
            kind = _kind(element)
            verdict = kind == _CHROME or (kind == _LAYOUT and not _wrapper(element, page))
        page.blocked[element.mem_id] = verdict
    return verdict


def _preferred(page: _Page) -> LexborNode | None:
    """The largest element of the first preferred kind that holds a real article.

    A bare <article> must also hold a twentieth of the page's text: on a page whose article is
    not marked up, <article>s are teasers of other news.
    """
    for kind, selector in enumerate(_PREFERRED):
        best, best_len = None, 0
        for node in page.root.css(selector)[:_MAX_CANDIDATES]:
            if _blocked(node, page):
                continue
            size = len(node.text())
            if size > best_len:
                best, best_len = node, size
        bare = kind == len(_PREFERRED) - 1
        if (
            best is not None
            and best_len >= _MIN_MAIN
            and (not bare or best_len * 20 >= _page_len(page))
        ):
            return best
    return None


def _leads(main: LexborNode) -> list[LexborNode]:
    """Lead elements in front of the main element, in document order: its earlier siblings
    and those of its ancestors inside the article's container (up to an <article> or the
    body), that are leads or hold one, and whose text the main element does not repeat."""
    levels: list[list[LexborNode]] = []
    node = main
    for _ in range(_MAX_LEVELS):
        parent = node.parent
        if node.tag == "article" or parent is None or parent.tag in _NOT_CHROME_TAGS:
            break
        level: list[LexborNode] = []
        sibling = node.prev
        for _ in range(_MAX_SIBLINGS):
            if sibling is None:
                break
            if sibling.is_element_node and not _kind(sibling):
                level[:0] = _lead_elements(sibling)
            sibling = sibling.prev
        levels.append(level)
        node = parent
    leads = [lead for level in reversed(levels) for lead in level]
    if not leads:
        return []
    # a body that repeats the lead does so in its first elements
    start, child = [], main.child
    for _ in range(len(leads) + 3):
        if child is None:
            break
        start.append(child.text(separator=" "))
        child = child.next
    opening = _clean(" ".join(start))
    return [lead for lead in leads if _clean(lead.text(separator=" ")) not in opening]


def _lead_elements(node: LexborNode) -> list[LexborNode]:
    """The node when it is a lead, else the outermost leads inside it outside chrome."""
    if _is_lead(node):
        return [node]
    if node.tag not in _LEAD_CONTAINERS:
        return []
    key = node.mem_id
    found: list[LexborNode] = []
    taken: set[int] = set()
    for inner in node.css(_NAMED)[:_MAX_CANDIDATES]:
        if inner.mem_id == key or not _is_lead(inner):
            continue
        current, clear = inner.parent, True
        for _ in range(_MAX_WALK):
            if current is None or current.mem_id == key:
                break
            if current.mem_id in taken or _kind(current):
                clear = False
                break
            current = current.parent
        if clear:
            found.append(inner)
            taken.add(inner.mem_id)
    return found


def _is_lead(node: LexborNode) -> bool:
    """A lead is named so, is not chrome, and holds a phrase of its own (a link to the home
    page in an "intro" box, or a teaser that is all link, is not one)."""
    if node.tag not in _LEAD_TAGS:
        return False
    attrs = node.attributes
    value = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    if value == " " or not _lead_value(value) or _kind(node):
        return False
    size = len(_clean(node.text()))
    linked = sum(len(_clean(a.text())) for a in node.css("a")[:_MAX_SIBLINGS])
    return size >= _MIN_PARAGRAPH and linked * 2 < size


def _tail(main: LexborNode) -> list[LexborNode]:
    """Paragraphs that broken markup pushed out of the main element.

    Stray end tags close the main element and its containers early, so the paragraphs after
    them land as siblings of the main element or of one of its ancestors. Taken are the <p>s
    of sentence text (not chrome) that follow it with nothing else in between, level by level
    up to the body.
    """
    found: list[LexborNode] = []
    node = main
    for _ in range(_MAX_LEVELS):
        if node.tag in _NOT_CHROME_TAGS:
            break
        sibling = node.next
        for _ in range(_MAX_SIBLINGS):
            if sibling is None:
                break
            if sibling.is_element_node:
                if sibling.tag != "p" or _kind(sibling) or not _sentences(sibling):
                    return found
                found.append(sibling)
            elif sibling.is_text_node and (sibling.text_content or "").strip():
                return found
            sibling = sibling.next
        else:
            return found
        parent = node.parent
        if parent is None:
            break
        node = parent
    return found


def _sentences(node: LexborNode) -> bool:
    """Whether the paragraph reads as sentences: long enough and ending one."""
    text = _clean(node.text())
    return len(text) >= _MIN_PARAGRAPH and _SENTENCE_END.search(text) is not None


def _heading(page: _Page, nodes: list[LexborNode]) -> LexborNode | None:
    """The page's first <h1> outside chrome, with the chrome inside it removed (but for chrome
    holding the article's nodes: an <h1> that holds them is broken markup)."""
    found = page.root.css_first("h1")
    if found is not None and _blocked(found, page):
        found = next((h for h in page.root.css("h1")[:20] if not _blocked(h, page)), None)
    if found is None:
        return None
    chrome = _chrome(found)
    if chrome:
        keep = {found.mem_id}  # itself when it is a layout element wrapping the page
        for node in nodes:
            keep |= _lineage(node)
        for element, _ in reversed(chrome):
            if element.mem_id not in keep:
                element.decompose()
    return found


def _lineage(node: LexborNode) -> set[int]:
    """The node and its ancestors."""
    ids: set[int] = set()
    current: LexborNode | None = node
    for _ in range(_MAX_WALK):
        if current is None:
            break
        ids.add(current.mem_id)
        current = current.parent
    return ids


def _densest(root: LexborNode) -> LexborNode:
    """The element with the most paragraph text: each paragraph counts for its parent and half
    for its grandparent; text written straight into a div or cell counts for it."""
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}

    def credit(node: LexborNode | None, amount: float) -> None:
        if node is None or node.tag in ("html", "-document", None):
            return
        key = node.mem_id
        scores[key] = scores.get(key, 0.0) + amount
        nodes[key] = node

    for para in root.css("p, pre, blockquote"):
        size = len(para.text().strip())
        if size >= _MIN_PARAGRAPH:
            parent = para.parent
            credit(parent, size)
            if parent is not None:
                credit(parent.parent, size / 2)
    for box in root.css("div, td, section, article, main"):
        size = len(box.text(deep=False).strip())
        if size >= _MIN_PARAGRAPH:
            credit(box, size)
            credit(box.parent, size / 2)
    if not scores:
        return root
    return nodes[max(scores, key=scores.__getitem__)]


def _inside(node: LexborNode | None, ids: set[int]) -> bool:
    """Whether the node or one of its ancestors is in `ids`."""
    for _ in range(_MAX_WALK):
        if node is None:
            return False
        if node.mem_id in ids:
            return True
        node = node.parent
    return False


def _collect(nodes: Iterable[LexborNode]) -> list[str]:
    """The paragraphs of the nodes, in one text pass after marking the block boundaries.

    The elements are walked in Python rather than picked by a CSS selector list: an article
    holds a few dozen elements, and parsing a long selector costs more than walking them.
    """
    texts = []
    for node in nodes:
        elements = [(e, e.tag) for e in node.traverse()]
        for element, tag in elements:
            if tag in _BLOCKS:
                element.insert_before(_MARK)
                element.insert_after(_MARK)
            elif tag in _CELLS:
                element.insert_after(" ")
        texts.append(node.text())
    parts = " ".join(_MARK.join(texts).split()).split(_MARK)
    return [p for p in map(str.strip, parts) if p and not _JUNK.fullmatch(p)]
