"""Source files: one TOML file per news outlet in the sources folder.

Loading is strict on purpose: a typo in a key ("evry", "[artcle]") would otherwise be silently
ignored and the source would quietly run with defaults, so every unknown key is an error. Each
error is one line naming the file and the key, and one broken file never stops the others from
loading (`load_sources` returns both the sources and the errors).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

KINDS = ("feed", "html")
LANGUAGES = ("kk", "ru", "en")
DEFAULT_EVERY = "30m"
DEFAULT_MAX_ITEMS = 50
DEFAULT_SILENT_AFTER = "3d"
MIN_EVERY = timedelta(minutes=1)  # politeness: no outlet is polled more often
MAX_ITEMS_LIMIT = 1000
MAX_FILE_BYTES = 100_000

# The schema: key -> expected type name, per table. "" is the top level.
_TOP_KEYS = {
    "name": "string",
    "url": "string",
    "kind": "string",
    "language": "string",
    "every": "string",
    "enabled": "boolean",
    "max_items": "integer",
    "silent_after": "string",
    "headers": "table",
    "html": "table",
    "article": "table",
}
_TABLE_KEYS = {
    "html": {"links": "string", "include": "string", "exclude": "string"},
    "article": {"body": "string", "published": "string"},
}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "table": dict,
}

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_DURATION_FULL = re.compile(r"(?:\d+\s*[smhdw]\s*)+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    kind: str  # "feed" or "html"
    language: str | None  # a hint: kk, ru or en
    every: timedelta  # polling interval
    enabled: bool
    max_items: int  # newest items taken per fetch
    silent_after: timedelta  # no new item for longer: the source is reported silent
    links: str | None  # [html] links: CSS selector of article links on a listing page
    include: re.Pattern[str] | None  # [html] include: keep only link URLs matching this
    exclude: re.Pattern[str] | None  # [html] exclude: drop link URLs matching this
    body: str | None  # [article] body: CSS selector of the article text
    published: str | None  # [article] published: CSS selector of the publication date
    headers: dict[str, str]  # extra request headers
    path: Path


class SourceError(ValueError):
    """A source file that cannot be used; the message is one line naming the file (and key)."""


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '1d', '90s', '1h30m', '1w' -> timedelta. Raises ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration like 30m, 2h, 1d")
    value = text.strip().lower()
    if not _DURATION_FULL.fullmatch(value):
        raise ValueError(f"{text!r} is not a duration like 30m, 2h, 1d")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(value))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    if seconds > 366 * 86400:
        raise ValueError(f"{text!r} is longer than a year")
    return timedelta(seconds=seconds)


def load_source(path: Path) -> Source:
    """One source file -> Source. Raises SourceError (one line: file, key, what is wrong)."""
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(f"{path}: larger than {MAX_FILE_BYTES // 1000} KB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: invalid TOML: {_one_line(str(exc))}") from None
    return _build(path, data)


def load_sources(folder: Path) -> tuple[list[Source], list[SourceError]]:
    """Every *.toml file of the folder, sorted by file name.

    Broken files become errors and the others still load. A name used by two files is an
    error for the later file, naming both. A missing folder raises SourceError.
    """
    if not folder.exists():
        raise SourceError(f"{folder}: no such sources folder")
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder")
    sources: list[Source] = []
    errors: list[SourceError] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        if not path.is_file():
            continue
        try:
            source = load_source(path)
        except SourceError as exc:
            errors.append(exc)
            continue
        key = source.name.casefold()
        if key in seen:
            errors.append(
                SourceError(f"{path}: name: {source.name!r} is already used by {seen[key]}")
            )
            continue
        seen[key] = path
        sources.append(source)
    return sources, errors


def _build(path: Path, data: dict[str, Any]) -> Source:
    def fail(key: str, message: str) -> SourceError:
        return SourceError(f"{path}: {key}: {message}")

    _check_keys(path, data, _TOP_KEYS, "")
    for table, keys in _TABLE_KEYS.items():
        if table in data and isinstance(data[table], dict):
            _check_keys(path, data[table], keys, f"{table}.")

    name = _get(path, data, "name", required=True)
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise fail("name", "must be one printable line of 1 to 100 characters")

    url = _get(path, data, "url", required=True).strip()
    _check_url(url, lambda message: fail("url", message))

    kind = _get(path, data, "kind", required=True)
    if kind not in KINDS:
        raise fail("kind", f"{kind!r} is not one of {', '.join(map(repr, KINDS))}")

    language = _get(path, data, "language")
    if language is not None and language not in LANGUAGES:
        raise fail("language", f"{language!r} is not one of {', '.join(LANGUAGES)}")

    every = _duration(path, data, "every", DEFAULT_EVERY)
    if every < MIN_EVERY:
        raise fail("every", f"{data['every']!r} is too short (at least 1m)")
    silent_after = _duration(path, data, "silent_after", DEFAULT_SILENT_AFTER)

    enabled = _get(path, data, "enabled")
    max_items = _get(path, data, "max_items")
    if max_items is not None and not 1 <= max_items <= MAX_ITEMS_LIMIT:
        raise fail("max_items", f"{max_items} is not between 1 and {MAX_ITEMS_LIMIT}")

    headers = _headers(path, data.get("headers", {}))

    html = data.get("html", {})
    article = data.get("article", {})
    links = _selector(path, html, "html.links")
    include = _regex(path, html, "html.include")
    exclude = _regex(path, html, "html.exclude")
    if kind == "html" and links is None:
        raise fail("html.links", 'kind = "html" needs a CSS selector of the article links')
    if kind == "feed" and html:
        key = "html." + next(iter(html))
        raise fail(key, 'only applies to kind = "html" (this source is a feed)')

    return Source(
        name=name,
        url=url,
        kind=kind,
        language=language,
        every=every,
        enabled=True if enabled is None else enabled,
        max_items=DEFAULT_MAX_ITEMS if max_items is None else max_items,
        silent_after=silent_after,
        links=links,
        include=include,
        exclude=exclude,
        body=_selector(path, article, "article.body"),
        published=_selector(path, article, "article.published"),
        headers=headers,
        path=path,
    )


def _check_keys(path: Path, data: dict[str, Any], known: dict[str, str], prefix: str) -> None:
    for key, value in data.items():
        if key not in known:
            hint = difflib.get_close_matches(key, list(known), n=1)
            suggestion = f" (did you mean {prefix}{hint[0]}?)" if hint else ""
            allowed = ", ".join(known)
            raise SourceError(
                f"{path}: {prefix}{key}: unknown key{suggestion}; known keys: {allowed}"
            )
        _check_type(path, f"{prefix}{key}", value, known[key])


def _check_type(path: Path, key: str, value: Any, expected: str) -> None:
    wanted = _TYPES[expected]
    if isinstance(value, wanted) and not (expected == "integer" and isinstance(value, bool)):
        return
    article = "an" if expected[0] in "aeiou" else "a"
    raise SourceError(f"{path}: {key}: must be {article} {expected}, not {_toml_type(value)}")


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def _get(path: Path, data: dict[str, Any], key: str, required: bool = False) -> Any:
    if key not in data:
        if required:
            raise SourceError(f"{path}: {key}: missing (required)")
        return None
    return data[key]


def _duration(path: Path, data: dict[str, Any], key: str, default: str) -> timedelta:
    try:
        return parse_duration(data.get(key, default))
    except ValueError as exc:
        raise SourceError(f"{path}: {key}: {exc}") from None


def _check_url(url: str, fail: Callable[[str], SourceError]) -> None:
    if not url.isprintable() or any(c.isspace() for c in url):
        raise fail(f"{url!r} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise fail(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise fail(f"{url!r} is not an http(s) URL")
    if not parts.hostname:
        raise fail(f"{url!r} has no host")


def _headers(path: Path, table: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in table.items():
        key = f"headers.{name}"
        if not _HEADER_NAME.fullmatch(name):
            raise SourceError(f"{path}: {key}: not a valid HTTP header name")
        if not isinstance(value, str):
            raise SourceError(f"{path}: {key}: must be a string, not {_toml_type(value)}")
        if any(c in value for c in "\r\n\x00"):
            raise SourceError(f"{path}: {key}: the value must be one line")
        headers[name] = value.strip()
    return headers


def _selector(path: Path, table: dict[str, Any], key: str) -> str | None:
    value = table.get(key.split(".", 1)[1])
    if value is None:
        return None
    if not value.strip():
        raise SourceError(f"{path}: {key}: empty CSS selector")
    try:  # a parser of its own: a parser caches its selector engine
        LexborHTMLParser("").css(value)
    except (SelectolaxError, ValueError):
        raise SourceError(f"{path}: {key}: {value!r} is not a valid CSS selector") from None
    return value.strip()


def _regex(path: Path, table: dict[str, Any], key: str) -> re.Pattern[str] | None:
    value = table.get(key.split(".", 1)[1])
    if value is None:
        return None
    if not value:
        raise SourceError(f"{path}: {key}: empty regular expression")
    try:
        return re.compile(value)
    except re.error as exc:
        raise SourceError(
            f"{path}: {key}: {value!r} is not a valid regular expression ({exc})"
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())
