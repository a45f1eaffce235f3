"""Items from already-fetched feeds (RSS, Atom) and listing pages. Nothing here fetches.

Fetched bytes are hostile:

- XML entity declarations are refused before feedparser sees the document. feedparser keeps
  "safe" internal entities and hands them to expat, so a quadratic blow-up (one long entity
  used many times) would otherwise be expanded in memory; expat's own billion-laughs guard
  does not cover every shape. No news feed needs its own entities.
- feedparser gets the bytes as a stream: given plain bytes it first tries them as a local
  file name, so a response body "/etc/passwd" would be read from disk.
- Sizes are capped (input, titles, content) and only http(s) links are kept.
"""

from __future__ import annotations

import codecs
import io
import ipaddress
import re
import xml.sax
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from .encoding import InputError, decode

MAX_FEED_BYTES = 10_000_000  # a larger feed is refused (truncated XML would lose entries)
MAX_PAGE_BYTES = 8_000_000  # a larger listing page is cut (HTML survives truncation)
MAX_CONTENT_CHARS = 500_000
MAX_TITLE_CHARS = 1_000
MAX_GUID_CHARS = 2_000
MAX_URL_CHARS = 4_000
MAX_LINKS = 5_000  # elements looked at on one listing page
_CARD_CHILDREN = 20  # at most this many children: an element is a news card

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "ysclid",
        "twclid",
        "ttclid",
        "igshid",
        "_openstat",
        "_ga",
        "_gl",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "rss",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_")
_FROM_FEED = frozenset({"rss", "feed", "rss_feed", "rssfeed", "atom"})  # from=rss, from=feed
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~"
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_URL_JUNK = re.compile(r"[\t\n\r]")

# Links on listing pages that are not articles.
_NOT_ARTICLE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|bmp|ico|tiff?|pdf|docx?|xlsx?|pptx?|odt|rtf|zip|rar|7z|gz"
    r"|mp3|mp4|m4a|avi|mov|mkv|webm|ogg|wav|apk|exe|xml|rss|css|js|json)$",
    re.I,
)
# Second-level labels under a country code that are public suffixes (com.kz, gov.kz, co.uk).
_SECOND_LEVEL = frozenset({"com", "net", "org", "gov", "edu", "mil", "co", "ac", "or", "ne"})

_ENTITY_DECL = re.compile(r"<!ENTITY\b", re.I)
_PROLOG_MARK = re.compile(r"<!--|<\?|<[A-Za-z_:]")
_HTML_HEAD = re.compile(
    r"\A(?:\s|<\?.*?\?>|<!--.*?-->)*(?:<!doctype\s+html|<html\b|<head\b|<body\b|<meta\b|<title\b)",
    re.I | re.S,
)
_AMP_TAIL = re.compile(r"(/.+?)/amp(/?)")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_XML_DECL = re.compile(r"\s*<\?xml\b")
_ROOT_NAME = re.compile(r"<([A-Za-z_:][-\w.:]*)")


@dataclass(frozen=True)
class Item:
    url: str  # canonical absolute URL
    guid: str | None
    title: str | None
    published: str | None  # ISO 8601 datetime or date, from the feed entry
    content: str | None  # HTML of content:encoded / Atom content / description, capped


class FeedError(ValueError):
    """A feed or listing page that yields nothing usable; the message is one line naming the
    URL."""


def parse_feed(data: bytes, url: str, content_type: str | None = None) -> list[Item]:
    """The entries of an RSS or Atom feed, in feed order, one per canonical URL.

    Entries without an http(s) link are skipped. A malformed feed keeps whatever entries
    could be read; one without any usable entry raises FeedError, as do entity declarations and
    documents that are not feeds. A well-formed feed without entries gives [].
    """
    if not data or not data.strip():
        raise FeedError(f"{url}: empty response, not a feed")
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"{url}: larger than {MAX_FEED_BYTES // 1_000_000} MB, not parsed")
    text = _scan_text(data)
    if _declares_entities(text):
        raise FeedError(f"{url}: XML entities are not allowed (the feed declares <!ENTITY>)")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers=headers,
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    entries = parsed.get("entries") or []
    if not entries:
        _check_empty(parsed, text, url)
        return []
    items: list[Item] = []
    seen: set[str] = set()
    for entry in entries:
        item = _entry_item(entry, url)
        if item is not None and item.url not in seen:
            seen.add(item.url)
            items.append(item)
    if not items:
        _check_empty(parsed, text, url)  # a broken feed whose entries gave no link is an error
    return items


def parse_listing(
    data: bytes,
    url: str,
    links: str,
    content_type: str | None = None,
    include: re.Pattern[str] | str | None = None,
    exclude: re.Pattern[str] | str | None = None,
) -> list[Item]:
    """Article links of a listing page, in page order, one per canonical URL.

    `links` selects the link elements: `a[href]` themselves, or elements holding one (the
    first link inside, else the link around them). Kept: http(s) links to the page's site
    or its subdomains that are not the page itself, the home page or a file (image, PDF,
    ...), which match `include` (searched in the canonical URL) and not `exclude`.
    A page with only other links gives [].
    """
    try:
        text = decode(data[:MAX_PAGE_BYTES], content_type)
    except InputError as exc:
        reason = str(exc).removesuffix(", not an article")
        raise FeedError(f"{url}: {reason}, not a listing page") from None
    include_re = re.compile(include) if isinstance(include, str) else include
    exclude_re = re.compile(exclude) if isinstance(exclude, str) else exclude
    try:
        tree = LexborHTMLParser(text)
        nodes = tree.css(links)
    except (SelectolaxError, ValueError):
        raise FeedError(f"{url}: {links!r} is not a valid CSS selector") from None
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        joined = urljoin(url, (base_node.attributes.get("href") or "").strip())
        if urlsplit(joined).scheme.lower() in _DEFAULT_PORTS:
            base = joined
    try:
        page = canonical_url(url)
    except ValueError:
        raise FeedError(f"{url}: not a valid URL") from None
    site = _site(urlsplit(page).hostname)
    items: list[Item] = []
    seen: set[str] = set()
    for node in nodes[:MAX_LINKS]:
        anchor = _anchor(node)
        if anchor is None:
            continue
        target = _article_url(anchor.attributes.get("href") or "", base, site, page)
        if target is None or target in seen:
            continue
        if include_re is not None and not include_re.search(target):
            continue
        if exclude_re is not None and exclude_re.search(target):
            continue
        seen.add(target)
        items.append(Item(target, None, _link_title(anchor), _listing_date(node, anchor), None))
    return items


def canonical_url(url: str, base: str | None = None) -> str:
    """One spelling per URL, for de-duplication.

    Resolves against `base`; lower-cases scheme and host; drops default ports, the
    fragment, tracking parameters (utm_*, fbclid, gclid, yclid, _openstat, from=rss, ref,
    mc_cid, ...) and a final /amp segment; sorts the remaining query parameters; resolves
    '.' and '..' segments; percent-encodes what needs it (spaces, non-ASCII) and upper-cases
    escapes; keeps the case of the path; an empty path becomes "/".
    Raises ValueError for a URL that cannot be parsed (a bad port, a broken IPv6 host).
    """
    url = _URL_JUNK.sub("", url).strip()
    if base:
        url = urljoin(_URL_JUNK.sub("", base).strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{host}"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    path = _remove_dot_segments(parts.path)
    amp = _AMP_TAIL.fullmatch(path)
    if amp:
        path = amp.group(1) + amp.group(2)
    path = _encode(path, _PATH_SAFE)
    if not path and netloc:
        path = "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _entry_item(entry: Any, feed_url: str) -> Item | None:
    link = entry.get("link") or ""
    if not link:
        for candidate in entry.get("links") or []:
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not link or len(link) > MAX_URL_CHARS:
        return None
    try:
        url = canonical_url(link, feed_url)
    except ValueError:
        return None
    if urlsplit(url).scheme not in _DEFAULT_PORTS or not urlsplit(url).hostname:
        return None
    guid = _clean_text(entry.get("id"), MAX_GUID_CHARS)
    title = entry.get("title")
    kind = (entry.get("title_detail") or {}).get("type") or ""
    if title and "html" in kind:
        title = LexborHTMLParser(title).text(separator=" ")
    title = _clean_text(title, MAX_TITLE_CHARS)
    return Item(url, guid, title, _entry_date(entry), _entry_content(entry))


def _entry_content(entry: Any) -> str | None:
    """The longest of the entry's contents (content:encoded, Atom content), else its summary."""
    best = ""
    for content in entry.get("content") or []:
        value = content.get("value") or ""
        if len(value) > len(best):
            best = value
    if not best.strip():
        best = entry.get("summary") or ""
    best = best.strip()
    return best[:MAX_CONTENT_CHARS] or None


def _entry_date(entry: Any) -> str | None:
    for key in ("published", "created", "updated"):
        found = _iso_date(entry.get(key))
        if found:
            return found
    for key in ("published_parsed", "created_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                moment = datetime(*parsed[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            if 1990 <= moment.year <= 2100:
                return moment.isoformat()
    return None


def _iso_date(value: Any) -> str | None:
    """An RFC 822 or ISO 8601 date as ISO 8601, keeping its UTC offset; None otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()[:100]
    if _DATE_ONLY.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    moment: datetime
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if not 1990 <= moment.year <= 2100:
        return None
    return moment.isoformat()


def _check_empty(parsed: Any, text: str, url: str) -> None:
    """Raise FeedError for a document without entries that is not a well-formed feed.

    bozo alone is not enough: feedparser also sets it for a wrong declared encoding or a
    feed served as text/html, and an empty feed is not an error.
    """
    version = parsed.get("version")
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    broken = isinstance(exc, xml.sax.SAXParseException)
    if not version and _HTML_HEAD.match(text[:4096]):
        raise FeedError(f"{url}: not a feed (HTML page)")
    if broken:
        # feedparser puts an XML declaration on a line of its own before a document without one
        shift = 0 if _XML_DECL.match(text) else 1
        raise FeedError(f"{url}: {_bozo_reason(exc, shift)}")
    if version:
        return
    root = _root_name(text)
    what = f"XML root <{root}>" if root else "no RSS or Atom root element"
    raise FeedError(f"{url}: not a feed ({what})")


def _bozo_reason(exc: xml.sax.SAXParseException, shift: int) -> str:
    message = _clean_text(str(exc.getMessage()), 200) or "not well-formed"
    line = max(1, (exc.getLineNumber() or 1) - shift)
    return f"malformed XML at line {line} ({message})"


def _scan_text(data: bytes) -> str:
    """The document as text good enough to find markup in: UTF-16/32 decoded, anything
    ASCII-compatible read byte for byte."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace")
    if b"\x00" in data[:4]:
        for name in ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"):
            text = data.decode(name, "replace")
            if text.lstrip().startswith("<"):
                return text
    return data.decode("latin-1")


def _declares_entities(text: str) -> bool:
    """Whether the prolog (everything before the root element, comments and processing
    instructions skipped) declares an entity."""
    pos = 0
    while True:
        mark = _PROLOG_MARK.search(text, pos)
        end = len(text) if mark is None else mark.start()
        if _ENTITY_DECL.search(text, pos, end):
            return True
        if mark is None:
            return False
        token = mark.group()
        if token == "<!--":
            close = text.find("-->", mark.end())
        elif token == "<?":
            close = text.find("?>", mark.end())
        else:
            return False  # the root element starts
        if close < 0:  # never closed: whatever follows is suspect
            return _ENTITY_DECL.search(text, mark.end()) is not None
        pos = close + (3 if token == "<!--" else 2)


def _root_name(text: str) -> str | None:
    pos = 0
    while True:
        mark = _PROLOG_MARK.search(text, pos, min(len(text), 65_536))
        if mark is None:
            return None
        token = mark.group()
        if token not in ("<!--", "<?"):
            found = _ROOT_NAME.match(text, mark.start())
            return found.group(1)[:50] if found else None
        close = text.find("-->" if token == "<!--" else "?>", mark.end())
        if close < 0:
            return None
        pos = close + 2


def _anchor(node: LexborNode) -> LexborNode | None:
    if node.tag == "a" and node.attributes.get("href"):
        return node
    inner = node.css_first("a[href]")
    if inner is not None:
        return inner
    parent = node.parent
    for _ in range(5):
        if parent is None:
            return None
        if parent.tag == "a" and parent.attributes.get("href"):
            return parent
        parent = parent.parent
    return None


def _article_url(href: str, base: str, site: str, page: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#") or len(href) > MAX_URL_CHARS:
        return None
    try:
        target = canonical_url(href, base)
    except ValueError:
        return None
    parts = urlsplit(target)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if _site(parts.hostname) != site:
        return None
    if target == page or (parts.path == "/" and not parts.query):
        return None
    if _NOT_ARTICLE.search(unquote_plus(parts.path)):
        return None
    return target


def _link_title(anchor: LexborNode) -> str | None:
    text = _clean_text(anchor.text(separator=" "), MAX_TITLE_CHARS)
    return text or _clean_text(anchor.attributes.get("title"), MAX_TITLE_CHARS)


def _listing_date(node: LexborNode, anchor: LexborNode) -> str | None:
    """The date of a `time[datetime]` in the link's element, or in the element around it when
    that holds this one link and one date (a news card)."""
    found = node.css_first("time[datetime]")
    card = node.parent
    if found is None and node.mem_id == anchor.mem_id and card is not None and _small(card):
        times = card.css("time[datetime]")
        if len(times) == 1 and len(card.css("a[href]")) == 1:
            found = times[0]
    return _iso_date(found.attributes.get("datetime")) if found is not None else None


def _small(node: LexborNode) -> bool:
    """Whether an element has few children: a card, not the whole list (whose searches, one
    per link, would cost links x page size)."""
    child = node.child
    for _ in range(_CARD_CHILDREN * 2):  # text nodes between elements count too
        if child is None:
            return True
        child = child.next
    return False


def _site(host: str | None) -> str:
    """The registrable domain of a host, roughly: the last two labels, three under a
    country code's public second level (gov.kz, com.kz, co.uk). IP addresses are themselves."""
    if not host:
        return ""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for paths that came absolute with '.' or '..' in them."""
    if "." not in path:
        return path
    segments = path.split("/")
    if not any(s in (".", "..") for s in segments):
        return path
    output: list[str] = []
    for segment in segments:
        if segment == ".":
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            continue
        output.append(segment)
    result = "/".join(output)
    if segments[-1] in (".", ".."):
        result += "/"
    return result


def _clean_query(query: str) -> str:
    kept: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        name = unquote_plus(key).strip().lower()
        if name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        if name == "from" and unquote_plus(value).strip().lower() in _FROM_FEED:
            continue
        kept.append((name, _encode(part, _QUERY_SAFE)))
    kept.sort()
    return "&".join(part for _, part in kept)


def _encode(text: str, safe: str) -> str:
    text = quote(text, safe=safe)
    return _PERCENT.sub(lambda m: m.group().upper(), text)


def _clean_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] or None
