"""The parse stage: an article's bytes (HTML or plain text) to clean text and its metadata.

HTML goes through selectolax's Lexbor parser. Without a source's own ``body`` selector the main
text is found generically: tags that never hold article text are stripped, chrome (navigation,
share widgets, view counters, related news, comments, cookie banners, ...) is recognised by
its tag or by the words of its class and id, then the article is the largest
``[itemprop=articleBody]``, common body class or ``<article>`` outside the chrome, else the
element with the most paragraph text. Block elements become paragraph breaks: a marker text node
is planted around each of them and the text is collected in one pass.

Inputs larger than MAX_INPUT_BYTES are cut to that many bytes (characters for the str
functions) before parsing: no article is that long, and the cut keeps one cycle's time bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from operator import sub
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from .encoding import InputError, decode

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
_BLOCKS = (
    "p, div, li, h1, h2, h3, h4, h5, h6, br, tr, blockquote, section, article, main, header, "
    "footer, ul, ol, dl, dt, dd, table, caption, pre, figure, figcaption, address, hr, details, "
    "summary, center, fieldset"
)
_CELLS = "td, th"

# Every alternative of _CHROME_WORD contains one of these: a quick test before the class and
# id are split into words ("ad" covers header, read, advert, ads).
_CHROME_STEM = re.compile(
    "shar|soc|comment|relat|recommend|promo|banner|breadcrumb|menu|subscri|newsletter|ad|rtb"
    "|cookie|consent|gdpr|sidebar|tag|view|counter|popular|also|more|foot|nav|likely|pluso",
    re.I,
)
_CHROME_CANDIDATES = ", ".join([*sorted(_LAYOUT_TAGS), "[class]", "[id]"])
_CHROME_WORD = re.compile(
    r"\b(?:share\w*|sharing|social\w*|soc|comments?|commenting|related|recommend\w*|promo\w*"
    r"|banners?|breadcrumbs?|menus?|submenu|subscri\w*|newsletters?|advert\w*|ads?|adv|adfox\w*"
    r"|adriver|rtb|cookies?|consent|gdpr|sidebars?|tags?|views|viewed|view ?counts?|counters?"
    r"|popular|read ?also|also ?read|see ?also|more ?news|footer\w*|header\w*|nav|navbar"
    r"|navigation|likely|addthis|pluso)\b"
)
_LAYOUT_WORD = re.compile(r"\b(?:header\w*|footer\w*|nav|navbar|navigation|menus?|sidebars?)\b")
_DRUPAL_VIEWS = re.compile(r"^views?-(?!count)", re.I)  # Drupal's "views-row" holds content
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# A header inside the article holds its title and lead, not the site's navigation.
_ARTICLE_HEADERS = (
    "article header, article [class*=header i], article [id*=header i], "
    "[itemprop=articleBody i] header"
)

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
_JUNK_LINE = re.compile(
    rf"^(?:[\W\d_]|(?<![^\W\d_])(?:{_COUNTER_WORDS})(?![^\W\d_]))*$\n?", re.M | re.I
)
_SPACES = re.compile(r"\s+")
_BREAKS = re.compile(rf" ?{_MARK}[ {_MARK}]*")

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
    tree = LexborHTMLParser(_flatten_if_deep(html[:MAX_INPUT_BYTES]))
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
    nodes = _selected(tree, root, body) if body is not None else []
    if not nodes:
        nodes = [_generic_main(root)]
    h1 = next((h for h in (n.css_first("h1") for n in nodes) if h is not None), None)
    paragraphs = _collect(nodes)
    if h1 is None:
        h1 = root.css_first("h1")
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
    text = decode(data[:MAX_INPUT_BYTES], content_type)
    if not text.strip():
        return _EMPTY
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml") or looks_like_html(text):
        return parse_html(text, body=body, published=published)
    return parse_text(text)


def _check_selector(selector: str, what: str) -> None:
    if not selector.strip():
        raise InputError(f"empty CSS selector for {what}")
    try:  # a parser of its own: a parser caches its selector engine, threads must not share one
        LexborHTMLParser("").css(selector)
    except (SelectolaxError, ValueError):
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
    html = tree.css_first("html")
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
    node = tree.css_first("[itemprop=datePublished i]")
    found = _node_date(node) if node is not None else None
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
        node = tree.css_first(sel)
        found = _node_date(node) if node is not None else None
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


def _selected(tree: LexborHTMLParser, root: LexborNode, body: str) -> list[LexborNode]:
    """The elements the source's body selector picks (outermost only), chrome removed inside."""
    nodes = tree.css(body)[:500]
    if not nodes:
        return []
    ids = {n.mem_id for n in nodes}
    nodes = [n for n in nodes if not _inside(n.parent, ids)]
    protected: set[int] = set()
    for node in nodes:
        protected |= _lineage(node)
    _remove([n for n, _ in _chrome(root)], protected)
    return nodes


def _generic_main(root: LexborNode) -> LexborNode:
    """Remove the chrome and return the element holding the article."""
    chrome = _chrome(root)
    root_len = len(root.text())
    # A layout element holding most of the page is a wrapper ("page with-sidebar"), not chrome.
    wrappers = {n.mem_id for n, layout in chrome if layout and len(n.text()) * 2 > root_len}
    blocking = {n.mem_id for n, _ in chrome} - wrappers
    main = _preferred(root, blocking, root_len)
    protected = _lineage(main) if main is not None else wrappers
    _remove([n for n, _ in chrome], protected)
    return main if main is not None else _densest(root)


def _chrome(root: LexborNode) -> list[tuple[LexborNode, bool]]:
    """Chrome elements in document order, each with whether it is page layout."""
    keep = {n.mem_id for n in root.css(_ARTICLE_HEADERS)}
    found: list[tuple[LexborNode, bool]] = []
    for node in root.css(_CHROME_CANDIDATES):
        tag = node.tag
        if tag in ("html", "body") or node.mem_id in keep:
            continue
        if tag in _LAYOUT_TAGS:
            found.append((node, True))
            continue
        attrs = node.attributes
        value = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if not _CHROME_STEM.search(value):
            continue
        words = _class_words(value)
        if _CHROME_WORD.search(words):
            found.append((node, _LAYOUT_WORD.search(words) is not None))
    return found


def _class_words(value: str) -> str:
    """The words of a class and id: "post__shareBox js-x" -> "post share box js x"."""
    tokens = value.split()
    joined = " ".join(t for t in tokens if not _DRUPAL_VIEWS.match(t))
    return " ".join(_NON_ALNUM.split(_CAMEL.sub(r"\1 \2", joined).lower())).strip()


def _remove(nodes: list[LexborNode], protected: set[int]) -> None:
    """Decompose the nodes not protected, last first: a descendant goes before its ancestor,
    so no node is touched after the subtree holding it was freed."""
    for node in reversed(nodes):
        if node.mem_id not in protected:
            node.decompose()


def _preferred(root: LexborNode, blocking: set[int], root_len: int) -> LexborNode | None:
    """The largest element of the first preferred kind that holds a real article.

    A bare <article> must also hold a twentieth of the page's text: on a page whose article is
    not marked up, <article>s are teasers of other news.
    """
    for kind, selector in enumerate(_PREFERRED):
        best, best_len = None, 0
        for node in root.css(selector)[:_MAX_CANDIDATES]:
            if _inside(node, blocking):
                continue
            size = len(node.text())
            if size > best_len:
                best, best_len = node, size
        bare = kind == len(_PREFERRED) - 1
        if best is not None and best_len >= _MIN_MAIN and (not bare or best_len * 20 >= root_len):
            return best
    return None


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
    """The paragraphs of the nodes, in one text pass after marking the block boundaries."""
    texts = []
    for node in nodes:
        for block in node.css(_BLOCKS):
            block.insert_before(_MARK)
            block.insert_after(_MARK)
        for cell in node.css(_CELLS):
            cell.insert_after(" ")
        texts.append(node.text())
    text = _BREAKS.sub("\n", _SPACES.sub(" ", _MARK.join(texts)))
    return list(filter(None, _JUNK_LINE.sub("", text).strip().split("\n")))
