"""The static HTML changelog: `monitor site OUTDIR`.

Writes, from the store:

* `index.html`: the current value of every series, every agreement's latest status and the
  latest changes;
* `series/<metric>--<dim>-<value>.html`: one page per series, its whole history as a table
  and an inline SVG chart;
* `agreements/<CC>.html`: one timeline per agreement counterparty;
* `feed.xml`: an Atom feed of changes, one entry per change with an id that never changes;
* `history.csv`, `history.json` (every fact of every series with its sources) and
  `changes.json`.

Everything that came from the web (titles, outlet names, evidence, URLs) is hostile: the
templates autoescape it, control characters are removed, lengths are capped, and only http(s)
URLs become links. Pages carry a Content-Security-Policy that allows no script and no style but
the page's own stylesheet (by hash), so even a slip in escaping could not run anything. Links
are relative, so the folder works from the file system and from any subpath of a web server.

The site is built in a temporary sibling folder and swapped into place only when complete; a
failure leaves the previous site as it was. Series are read and written one at a time, and
`changes.json` is written as SQLite renders each change's JSON, so memory stays flat however
long the history is.
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import functools
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urljoin

import jinja2
import sqlite_utils
from markupsafe import Markup, escape

from . import store, untrusted
from .untrusted import MAX_URL, safe_url

GENERATOR = "kz-migration-monitor"
TAG = "tag:kz-migration-monitor,2026:"
TEMPLATES = Path(__file__).parent / "templates" / "site"
FEED_ENTRIES = 500  # the newest changes in feed.xml; changes.json has them all
INDEX_CHANGES = 50
MAX_TEXT = 1000  # characters of any one fetched string shown on a page
MAX_NAME = 200
CHART_POINTS = 600  # above this many facts the chart draws a min/max envelope per column

METRIC_TITLES: dict[str, str] = {
    "citizens_abroad": "Citizens of Kazakhstan working abroad",
    "foreign_workers": "Foreign workers employed in Kazakhstan",
    "foreign_labor_quota": "Quota for foreign labour",
    "migration_violations": "Migration law offences",
    "migration_fines": "Fines for migration offences",
    "deportations": "Deportations and readmissions",
    "investor_visas": "Investor visas issued",
    "immigrants": "Immigrants to Kazakhstan",
    "kandas": "Ethnic Kazakhs granted kandas status",
    "remittances": "Remittances",
}

STATUS_LABELS: dict[str, str] = {
    "proposed": "proposed",
    "negotiating": "under negotiation",
    "paused": "talks paused",
    "resumed": "talks resumed",
    "draft_submitted": "draft submitted",
    "agreed": "text agreed",
    "signed": "signed",
    "ratified": "ratified",
    "in_force": "in force",
    "terminated": "terminated",
}

COUNTRY_NAMES: dict[str, str] = {
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AM": "Armenia",
    "AT": "Austria",
    "AU": "Australia",
    "AZ": "Azerbaijan",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "BY": "Belarus",
    "CA": "Canada",
    "CH": "Switzerland",
    "CN": "China",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "EG": "Egypt",
    "ES": "Spain",
    "EU": "the European Union",
    "FI": "Finland",
    "FR": "France",
    "GB": "the United Kingdom",
    "GE": "Georgia",
    "GR": "Greece",
    "HU": "Hungary",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IR": "Iran",
    "IT": "Italy",
    "JP": "Japan",
    "KG": "Kyrgyzstan",
    "KR": "South Korea",
    "KW": "Kuwait",
    "KZ": "Kazakhstan",
    "LT": "Lithuania",
    "LV": "Latvia",
    "MN": "Mongolia",
    "MY": "Malaysia",
    "NL": "the Netherlands",
    "NO": "Norway",
    "OM": "Oman",
    "PK": "Pakistan",
    "PL": "Poland",
    "PT": "Portugal",
    "QA": "Qatar",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "SA": "Saudi Arabia",
    "SE": "Sweden",
    "SG": "Singapore",
    "SK": "Slovakia",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TM": "Turkmenistan",
    "TR": "Türkiye",
    "UA": "Ukraine",
    "US": "the United States",
    "UZ": "Uzbekistan",
    "VN": "Vietnam",
}

_DIM_WORDS: dict[str, str] = {
    "origin": "from {}",
    "sector": "{} sector",
    "education": "{} education",
    "stage": "{}",
    "legal": "{}",
    "category": "{}",
}
_DIRECTION = {"in": "to Kazakhstan", "out": "from Kazakhstan"}
_BOUND_SIGNS = {"approx": "≈ ", "at_least": "≥ ", "at_most": "≤ ", "exact": ""}
_BOUND_WORDS = {"approx": "about", "at_least": "at least", "at_most": "at most", "exact": "exact"}
_SLUG_OK = re.compile(r"[A-Za-z0-9_+]+")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_COMPACT = (",", ":")


class SiteError(Exception):
    """The site cannot be written where asked (one line, naming the folder)."""


@dataclass(frozen=True)
class SiteSummary:
    outdir: Path
    series: int
    facts: int
    agreements: int
    changes: int
    files: int

    def __str__(self) -> str:
        return (
            f"{self.series} series ({self.facts} facts), {self.agreements} agreement "
            f"timelines, {self.changes} changes, {self.files} files"
        )


@dataclass(frozen=True)
class _Link:
    name: str  # the outlet
    href: str | None  # None: not an http(s) URL, shown as text only
    url: str
    title: str | None = None  # the article's
    lang: str | None = None


@dataclass
class _Series:
    """One row of the index: a series in one unit with its latest fact."""

    title: str
    where: str
    slug: str
    value: str
    when: str
    when_iso: str
    sources: int
    facts: int


@dataclass
class _Chart:
    svg: Markup
    points: int
    drawn: int
    unit: str


# --------------------------------------------------------------------------- text and values


def clean(text: Any, limit: int = MAX_TEXT) -> str:
    """Fetched text made safe to show (`untrusted.clean`), at most `limit` characters."""
    return untrusted.clean(text, limit)


def metric_title(metric: str) -> str:
    return METRIC_TITLES.get(metric) or clean(metric, MAX_NAME).replace("_", " ").capitalize()


def country_name(code: str) -> str:
    return " + ".join(COUNTRY_NAMES.get(part, part) for part in code.split("+"))


def region_name(slug: str) -> str:
    if slug.endswith("_region"):
        return slug[: -len("_region")].replace("_", " ").title() + " region"
    return slug.replace("_", " ").title()


def dims_words(dims: dict[str, str]) -> str:
    """The dims of a series in words: {"country": "RU", "legal": "undocumented"} ->
    "Russia, undocumented"; the total ({}) -> "total"."""
    words = []
    for key, raw in sorted(dims.items()):
        value = clean(raw, MAX_NAME)
        if key == "country":
            words.append(country_name(value))
        elif key == "origin":
            words.append("from " + country_name(value))
        elif key == "region":
            words.append(region_name(value))
        elif key == "direction":
            words.append(_DIRECTION.get(value, f"direction {value}"))
        elif key in _DIM_WORDS:
            words.append(_DIM_WORDS[key].format(value.replace("_", " ")))
        else:
            words.append(f"{clean(key, MAX_NAME)}: {value}")
    return ", ".join(words) or "total"


def format_number(value: Any) -> str:
    """126000 -> "126,000"; 157.1 -> "157.1"; not a number -> as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return clean(value, MAX_NAME)
    return untrusted.format_number(value)


def format_value(fact: dict[str, Any]) -> str:
    """A fact's value with its bound sign, range and unit: "≥ 126,000 persons"."""
    text = format_number(fact.get("value"))
    if fact.get("value_max") is not None:
        text += "–" + format_number(fact["value_max"])
    sign = _BOUND_SIGNS.get(str(fact.get("bound") or "exact"), "")
    return f"{sign}{text} {_short(fact.get('unit'))}".strip()


@functools.lru_cache(maxsize=1024)
def _short(text: Any) -> str:
    """A unit or a word from the store, cleaned (they repeat: cached)."""
    return clean(text, 40)


def compact(value: float) -> str:
    """An axis label: 126000 -> "126k", 2500000 -> "2.5M"."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def period_end(as_of: Any) -> date | None:
    """The last day an `as_of` refers to: "2024" -> 2024-12-31, "2025-05" -> 2025-05-31."""
    return _period_end(as_of.strip()[:10]) if isinstance(as_of, str) else None


@functools.lru_cache(maxsize=8192)
def _period_end(text: str) -> date | None:
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 12, 31)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            return date(year, month, calendar.monthrange(year, month)[1])
        return date.fromisoformat(text)
    except ValueError:
        return None


def reference_date(fact: dict[str, Any]) -> date | None:
    """The date a fact is about, when it is a plausible one (1900-2200)."""
    day = period_end(fact.get("ref_end")) or period_end(fact.get("as_of"))
    return day if day is not None and 1900 <= day.year <= 2200 else None


def _by_date(fact: dict[str, Any]) -> date:
    return reference_date(fact) or date.min


def _plottable(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def format_when(as_of: Any) -> str:
    """How a reference date reads: "2024", "May 2025", "1 May 2025"."""
    if not isinstance(as_of, str) or not as_of:
        return "undated"
    return _format_when(as_of)


@functools.lru_cache(maxsize=8192)
def _format_when(as_of: str) -> str:
    text = clean(as_of, 40)
    day = period_end(text)
    if day is None:
        return text
    if re.fullmatch(r"\d{4}", text):
        return text
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return f"{calendar.month_name[day.month]} {day.year}"
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _iso(as_of: Any) -> str:
    """The `datetime` attribute of <time>: a valid date string or nothing."""
    text = as_of.strip()[:10] if isinstance(as_of, str) else ""
    return text if period_end(text) else ""


def rfc3339(stamp: Any, default: datetime) -> str:
    """A timestamp from the store as Atom wants it, in UTC; a naive one is taken as UTC."""
    when = default
    if isinstance(stamp, datetime):
        when = stamp
    elif isinstance(stamp, str) and stamp:
        try:
            when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
        except ValueError:
            when = default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe(atom: str) -> tuple[str, bool]:
    """`atom` with every run of characters other than letters, digits, "_" and "+" made one
    "_"; and whether anything was lost."""
    safe = "_".join(_SLUG_OK.findall(atom)) or "_"
    return safe, safe != atom


def _finish(name: str, original: str, lossy: bool) -> str:
    """A short hash of the original is added when characters were replaced or the name was
    cut, so that two different inputs never share a file."""
    if not lossy and len(name) <= 120:
        return name
    digest = hashlib.sha1(original.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{name[:120]}~{digest}"


def slug(text: str) -> str:
    """A file name that is safe on every file system and the same for the same input."""
    safe, lossy = _safe(text)
    return _finish(safe, text, lossy)


def series_slug(metric: str, dims: dict[str, str]) -> str:
    """`citizens_abroad--country-RU`: the metric, then `--key-value` per dim in key order."""
    name, lossy = _safe(metric)
    for key, value in sorted(dims.items()):
        safe_key, lossy_key = _safe(key)
        safe_value, lossy_value = _safe(value)
        name += f"--{safe_key}-{safe_value}"
        lossy = lossy or lossy_key or lossy_value
    return _finish(name, json.dumps([metric, sorted(dims.items())]), lossy)


def csv_cell(text: Any) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    out = "" if text is None else str(text)
    return "'" + out if out.startswith(_CSV_FORMULA) else out


# --------------------------------------------------------------------------- store rows


def _links(sources: Iterable[Any], known: dict[str, dict[str, Any]] | None = None) -> list[_Link]:
    """Sources as links: dicts with url, source, title and lang, or bare URLs, which take the
    outlet and title from `known` when it has them."""
    links = []
    for item in sources or []:
        src = item if isinstance(item, dict) else (known or {}).get(str(item)) or {"url": item}
        links.append(_link(src.get("url"), src.get("source"), src.get("title"), src.get("lang")))
    return links


@functools.lru_cache(maxsize=4096)
def _link(url: Any, source: Any, title: Any, lang: Any) -> _Link:
    """One article as a link (cached: an article is the source of many facts)."""
    return _Link(
        name=clean(source or untrusted.host(url) or "source", MAX_NAME),
        href=safe_url(url),
        url=clean(url, MAX_URL),
        title=clean(title, MAX_NAME) or None,
        lang=clean(lang, 8) or None,
    )


_ROW = '<tr>\n<td>{}</td>\n<td class="num">{}</td>\n<td>{}</td>\n<td>{}</td>\n<td>{}</td>\n</tr>\n'


SourceItem = Callable[[Any, Any, Any, Any], str]


def row_html(fact: dict[str, Any], source_item: SourceItem) -> str:
    """One fact as a row of a series' history table (reference date, value, bound, evidence,
    sources). Written here rather than in the template because a series can have thousands
    of rows: this is the site's hot path, and dates and articles repeat, so their markup is
    rendered once and cached: `source_item(url, source, title, lang)` gives an article's
    `<li>` (see `_build`). Every piece of text goes through `escape`."""
    sources = fact.get("sources") or []
    evidence = clean(
        fact.get("evidence")
        or next((s["evidence"] for s in sources if isinstance(s, dict) and s.get("evidence")), None)
    )
    as_of = fact.get("as_of")
    items = "".join(
        [
            source_item(s.get("url"), s.get("source"), s.get("title"), s.get("lang"))
            if isinstance(s, dict)
            else source_item(s, None, None, None)
            for s in sources
        ]
    )
    return _ROW.format(
        when_html(as_of) if isinstance(as_of, str) else "undated",
        escape(format_value(fact)),
        _bound_html(fact.get("bound")),
        f'<q class="evidence">{escape(evidence)}</q>' if evidence else "",
        f'<ul class="sources">\n{items}</ul>'
        if items
        else '<span class="muted">no source recorded</span>',
    )


@functools.lru_cache(maxsize=256)
def _bound_html(bound: Any) -> Markup:
    return escape(_BOUND_WORDS.get(str(bound or "exact")) or _short(bound))


@functools.lru_cache(maxsize=8192)
def when_html(as_of: str) -> Markup:
    """A reference date as a <time> element when it is a valid date."""
    text, iso = format_when(as_of), _iso(as_of)
    if not iso:
        return escape(text)
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


def _change_title(change: dict[str, Any]) -> str:
    """The line a change reads as: "Citizens of ..., Russia: 102,000 → 110,000 persons"."""
    unit = clean(change.get("unit"), 40)
    if change.get("kind") == "status":
        party = country_name(clean(change.get("counterparty"), 40))
        new = STATUS_LABELS.get(str(change.get("new")), clean(change.get("new"), 60))
        if change.get("old") is None:
            return f"Agreement with {party}: {new} (first seen)"
        old = STATUS_LABELS.get(str(change.get("old")), clean(change.get("old"), 60))
        return f"Agreement with {party}: {old} → {new}"
    dims = dims_words(untrusted.dims(change.get("dims")))
    what = f"{metric_title(str(change.get('metric')))}, {dims}"
    new = f"{format_number(change.get('new'))} {unit}".strip()
    if change.get("old") is None:
        return f"{what}: {new} (first seen)"
    return f"{what}: {format_number(change.get('old'))} → {new}"


def _change_target(change: dict[str, Any]) -> str:
    """The page of the series or agreement a change belongs to, relative to the site root."""
    if change.get("kind") == "status":
        return f"agreements/{slug(str(change.get('counterparty')))}.html"
    dims = untrusted.dims(change.get("dims"))
    return f"series/{series_slug(str(change.get('metric')), dims)}.html"


def _change_view(
    change: dict[str, Any], now: datetime, known: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    detected = rfc3339(change.get("detected_at"), now)
    return {
        "id": f"{TAG}change/{clean(change.get('id'), 80)}",
        "title": _change_title(change),
        "target": _change_target(change),
        "detected": detected,
        "detected_day": detected[:10],
        "when": format_when(change.get("as_of")),
        "when_iso": _iso(change.get("as_of")),
        "evidence": clean(change.get("evidence")) or None,
        "links": _links(change.get("sources") or [], known),
        "first_seen": change.get("old") is None,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --------------------------------------------------------------------------- chart


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _date_ticks(first: date, last: date) -> list[date]:
    """Round dates across the range: years, months or days, at most about eight."""
    span = (last - first).days
    if span >= 3 * 365:
        years = last.year - first.year + 1
        step = max(1, math.ceil(years / 8))
        return [date(y, 1, 1) for y in range(first.year, last.year + 2, step)]
    if span >= 60:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        step = max(1, math.ceil(months / 8))
        out, y, m = [], first.year, first.month
        while date(y, m, 1) <= last + timedelta(days=31):
            out.append(date(y, m, 1))
            m += step
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return out
    step = max(1, math.ceil((span + 1) / 8))
    return [first + timedelta(days=d) for d in range(0, span + step, step)]


def _envelope(points: list[tuple[float, float]], columns: int) -> list[tuple[float, float]]:
    """Thousands of points reduced for drawing: per pixel column its first, lowest, highest
    and last point, in order, so peaks and the line's shape survive."""
    buckets: dict[int, list[tuple[float, float]]] = {}
    for x, y in points:
        buckets.setdefault(int(x * columns), []).append((x, y))
    out: list[tuple[float, float]] = []
    for key in sorted(buckets):
        group = buckets[key]
        keep = {group[0], min(group, key=lambda p: p[1]), max(group, key=lambda p: p[1]), group[-1]}
        out.extend(sorted(keep))
    return out


def chart(facts: list[dict[str, Any]], title: str, ident: str = "chart") -> _Chart | None:
    """An inline SVG line chart of one series in one unit by reference date, or None when no
    fact has a date. `ident` names the chart's <title> element, unique within the page."""
    dated = [(reference_date(f), f) for f in facts]
    dated = [(d, f) for d, f in dated if d is not None and _plottable(f.get("value"))]
    if not dated:
        return None
    dated.sort(key=lambda p: p[0])
    unit = clean(dated[-1][1].get("unit"), 40)

    width, height = 720, 280
    left, right, top, bottom = 64, 40, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = dated[0][0], dated[-1][0]
    if (last - first).days < 2:  # one date: put it in the middle of a year
        first, last = first - timedelta(days=182), last + timedelta(days=182)
    ticks_x = _date_ticks(first, last)
    lo_day = min(first, ticks_x[0])
    hi_day = max(last, ticks_x[-1])
    day_span = max((hi_day - lo_day).days, 1)
    values = [float(f["value"]) for _, f in dated]
    lo = min(0.0, min(values))
    hi = max(values) * 1.05 if max(values) > 0 else max(values)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step(hi - lo, 5)
    hi = math.ceil(hi / step) * step
    lo = math.floor(lo / step) * step

    def px(day: date) -> float:
        return left + plot_w * (day - lo_day).days / day_span

    def py(value: float) -> float:
        return top + plot_h * (1 - (value - lo) / (hi - lo))

    unit_points = [((d - lo_day).days / day_span, float(f["value"])) for d, f in dated]
    drawn = _envelope(unit_points, plot_w) if len(unit_points) > CHART_POINTS else unit_points
    coords = [(left + plot_w * x, py(y)) for x, y in drawn]

    e = escape
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{e(ident)}">',
        f'<title id="{e(ident)}">{e(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fbfbfd" '
        'stroke="#d0d4dc"/>',
    ]
    tick = lo
    while tick <= hi + step / 2:
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ed"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#444">{e(compact(tick))}</text>'
        )
        tick += step
    for day in ticks_x:
        x = px(day)
        if x < left - 0.5 or x > left + plot_w + 0.5:
            continue
        label = str(day.year) if (day.month, day.day) == (1, 1) and day_span > 3 * 365 else None
        label = label or (
            f"{calendar.month_abbr[day.month]} {day.year}" if day.day == 1 else day.isoformat()
        )
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}" '
            f'stroke="#888"/><text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
            f'font-size="11" fill="#444">{e(label)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12" '
        'fill="#222">reference date</text>'
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" font-size="12" fill="#222" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{e(unit or "value")}</text>'
    )
    if len(coords) > 1:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    if len(coords) <= 60:
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f5fbf"/>' for x, y in coords
        )
    parts.append("</svg>")
    return _Chart(
        svg=Markup("".join(parts)), points=len(unit_points), drawn=len(coords), unit=unit
    )  # fmt: skip


# --------------------------------------------------------------------------- writing


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    env.globals.update(
        css=Markup(css),
        csp=(
            f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
            "base-uri 'none'; form-action 'none'"
        ),
        generator=GENERATOR,
    )
    return env


class _Writer:
    """Writes pages into the build folder and counts them."""

    def __init__(self, root: Path, env: jinja2.Environment, common: dict[str, Any]) -> None:
        self.root = root
        self.env = env
        self.common = common
        self.files = 0

    def page(self, path: str, template: str, **context: Any) -> None:
        html = self.env.get_template(template).render(
            **self.common, **context, root="../" * path.count("/")
        )
        self.text(path, html)

    def text(self, name: str, content: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        self.files += 1

    def open(self, name: str, newline: str | None = None) -> TextIO:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files += 1
        return path.open("w", encoding="utf-8", newline=newline)


_CSV_FIELDS = (
    "metric", "dims", "fact", "value", "value_max", "unit", "bound", "as_of", "ref_end",
    "source", "url", "lang", "evidence",
)  # fmt: skip


def _csv_field(value: Any) -> str:
    """A CSV field as `csv.writer` writes it (QUOTE_MINIMAL, "\\r\\n" lines): quoted when it
    holds a comma, a quote or a line break. Done by hand: history.csv is tens of megabytes,
    and this with the cached article fields takes half the time of `csv.writer`."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


@functools.lru_cache(maxsize=4096)
def _csv_source(source: Any, url: Any, lang: Any) -> str:
    """The source, url and lang fields of an article (they repeat: cached)."""
    return f"{_csv_field(csv_cell(source))},{_csv_field(csv_cell(url))},{_csv_field(lang)}"


def _history_csv(metric: str, dims: dict[str, str], facts: list[dict[str, Any]]) -> str:
    """A series' lines of history.csv: one per fact and source (a fact without a source still
    gets one), the fields of `_CSV_FIELDS`."""
    dims_text = csv_cell(";".join(f"{k}={v}" for k, v in sorted(dims.items())))
    head = f"{_csv_field(metric)},{_csv_field(dims_text)}"
    lines = []
    for number, fact in enumerate(facts, 1):
        get = fact.get
        base = ",".join(
            [
                head,
                _csv_field(get("id", number)),
                _csv_field(get("value")),
                _csv_field(get("value_max")),
                _csv_field(csv_cell(get("unit"))),
                _csv_field(get("bound")),
                _csv_field(get("as_of")),
                _csv_field(get("ref_end")),
            ]
        )
        sources = [s if isinstance(s, dict) else {"url": s} for s in get("sources") or []]
        for src in sources or [{}]:
            where = _csv_source(src.get("source"), src.get("url"), src.get("lang"))
            said = _csv_field(csv_cell(src.get("evidence") or get("evidence")))
            lines.append(f"{base},{where},{said}\r\n")
    return "".join(lines)


def _dumps(value: Any) -> str:
    """Compact JSON (no spaces after separators: the exports are smaller), UTF-8 as is."""
    return json.dumps(value, ensure_ascii=False, separators=_COMPACT, default=_json_default)


def _write_changes_json(fh: TextIO, rows: Iterable[tuple[int, str]], keep: deque[int]) -> int:
    """Write the changes' JSON texts as the members of a JSON array, noting the last ids
    in `keep`. Returns how many."""
    count = 0
    for change_id, text in rows:
        fh.write(",\n" if count else "\n")
        fh.write(text)
        keep.append(change_id)
        count += 1
    return count


def _by_unit(newest_first: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A series' facts (newest reference date first, undated last, facts of one date in the
    store's order) by unit, the units in the order of their newest fact: the first fact of
    each group is the unit's latest, as `store.series` picks it."""
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for fact in newest_first:
        by_unit.setdefault(_unit(fact), []).append(fact)
    return by_unit


def _series_page(
    out: _Writer,
    name: str,
    heading: str,
    where: str,
    newest_first: list[dict[str, Any]],
    by_unit: dict[str, list[dict[str, Any]]],
    source_item: SourceItem,
) -> None:
    """series/<name>.html: the latest value and a chart per unit, then every fact."""
    charts = [
        chart(group, f"{heading}, {where}", f"chart{i}") for i, group in enumerate(by_unit.values())
    ]
    out.page(
        f"series/{name}.html",
        "series.html",
        heading=heading,
        where=where,
        latest=[
            (
                format_value(group[0]),
                format_when(group[0].get("as_of")),
                _iso(group[0].get("as_of")),
            )
            for group in by_unit.values()
        ],
        facts=len(newest_first),
        charts=[c for c in charts if c is not None],
        rows=Markup("".join([row_html(f, source_item) for f in newest_first])),
    )


def _index_rows(
    heading: str, where: str, name: str, by_unit: dict[str, list[dict[str, Any]]]
) -> Iterator[_Series]:
    """The index's rows of one series: one per unit, with its latest fact."""
    for unit in sorted(by_unit):
        group = by_unit[unit]
        latest = group[0]
        yield _Series(
            title=heading,
            where=where,
            slug=name,
            value=format_value(latest),
            when=format_when(latest.get("as_of")),
            when_iso=_iso(latest.get("as_of")),
            sources=len(latest.get("sources") or []),
            facts=len(group),
        )


def _series_json(metric: str, dims: dict[str, str], name: str, facts: list[dict[str, Any]]) -> str:
    """One series of history.json. The series is named once above its facts, and evidence is
    each source's (a fact's own is its first source's), so those keys are dropped from the
    facts, in place: they were read for this page and are not used after it."""
    for fact in facts:
        for key in ("metric", "dims", "evidence"):
            fact.pop(key, None)
    entry = {"metric": metric, "dims": dims, "page": f"series/{name}.html", "facts": facts}
    return _dumps(entry)


def _catalogue_order(metric: str, dims: dict[str, str]) -> tuple[int, str, int, str]:
    """Metrics in catalogue order, each total before its breakdowns."""
    rank = list(METRIC_TITLES).index(metric) if metric in METRIC_TITLES else len(METRIC_TITLES)
    return rank, metric, len(dims), json.dumps(dims, sort_keys=True)


def _unit(fact: dict[str, Any]) -> str:
    return str(fact.get("unit") or "")


def _event_view(event: dict[str, Any]) -> dict[str, Any]:
    when = event.get("as_of") or event.get("ref_end")
    return {
        "status": STATUS_LABELS.get(str(event.get("status")), clean(event.get("status"), 60)),
        "when": format_when(when),
        "when_iso": _iso(when),
        "evidence": clean(event.get("evidence")) or None,
        "links": _links(event.get("sources") or []),
        "recalled": event.get("current") is False,
    }


def _build(
    db: sqlite_utils.Database, root: Path, *, title: str, base_url: str | None, now: datetime
) -> SiteSummary:
    env = _environment()
    generated = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    site_title = clean(title, MAX_NAME)
    out = _Writer(root, env, {"site_title": site_title, "generated": generated})

    recent_ids: deque[int] = deque(maxlen=FEED_ENTRIES)
    with out.open("changes.json") as fh:
        fh.write(f'{{"generated": {_dumps(now.isoformat())}, "changes": [')
        total_changes = _write_changes_json(fh, store.changes_json(db), recent_ids)
        fh.write("\n]}\n")
    recent = store.changes_by_id(db, list(recent_ids))
    wanted = {str(u) for c in recent for u in c.get("sources") or []}
    known: dict[str, dict[str, Any]] = {}  # outlet and title of the recent changes' articles

    def remember(sources: Iterable[dict[str, Any]]) -> None:
        for src in sources:
            if src.get("url") in wanted:
                known.setdefault(str(src["url"]), src)

    pages: dict[str, tuple[str, dict[str, str]]] = {}
    for metric, raw in store.figure_series(db):
        dims = untrusted.dims(raw)
        pages.setdefault(series_slug(metric, dims), (metric, dims))
    ordered = sorted(pages.items(), key=lambda item: _catalogue_order(*item[1]))

    source_template = env.get_template("_source.html")

    @functools.lru_cache(maxsize=4096)
    def source_item(url: Any, source: Any, title: Any, lang: Any) -> str:
        link = _link(url, source, title, lang)
        return f"<li>{source_template.render(link=link).strip()}</li>\n"

    listed: list[_Series] = []
    facts_total = 0
    with (
        out.open("history.csv", newline="") as csv_file,
        out.open("history.json") as json_file,
    ):
        csv_file.write(",".join(_CSV_FIELDS) + "\r\n")
        json_file.write(f'{{"generated": {_dumps(now.isoformat())}, "series": [')
        histories = store.histories(db, [key for _, key in ordered])
        for number, ((name, (metric, dims)), facts) in enumerate(
            zip(ordered, histories, strict=True)
        ):
            facts_total += len(facts)
            heading, where = metric_title(metric), dims_words(dims)
            newest_first = sorted(facts, key=_by_date, reverse=True)
            by_unit = _by_unit(newest_first)
            listed.extend(_index_rows(heading, where, name, by_unit))
            for fact in facts:
                remember(fact.get("sources") or [])
            _series_page(out, name, heading, where, newest_first, by_unit, source_item)
            csv_file.write(_history_csv(metric, dims, facts))
            json_file.write(",\n" if number else "\n")
            json_file.write(_series_json(metric, dims, name, facts))
        json_file.write("\n]}\n")

    parties: dict[str, list[dict[str, Any]]] = {}
    for event in store.status_timeline(db):
        parties.setdefault(str(event.get("counterparty")), []).append(event)
        remember(event.get("sources") or [])
    agreements = []
    for party, events in sorted(parties.items()):
        code, page = clean(party, 40), f"agreements/{slug(party)}.html"
        name = country_name(code)
        now_holds = next((e for e in reversed(events) if e.get("latest")), events[-1])
        agreements.append({"name": name, "page": page, **_event_view(now_holds)})
        views = [_event_view(e) for e in events]
        out.page(page, "agreement.html", name=name, code=code, events=views)

    newest = [_change_view(c, now, known) for c in reversed(recent)]

    out.page(
        "index.html",
        "index.html",
        series=listed,
        agreements=agreements,
        changes=newest[:INDEX_CHANGES],
        total_changes=total_changes,
    )
    base = base_url if base_url is None or base_url.endswith("/") else base_url + "/"
    out.text(
        "feed.xml",
        env.get_template("feed.xml").render(
            site_title=site_title,
            feed_id=f"{TAG}changes",
            updated=newest[0]["detected"] if newest else rfc3339(now, now),
            base=base or "",
            self_href=urljoin(base, "feed.xml") if base else None,
            entries=newest,
        ),
    )
    return SiteSummary(
        outdir=root,
        series=len(pages),
        facts=facts_total,
        agreements=len(agreements),
        changes=total_changes,
        files=out.files,
    )


def _is_site(folder: Path) -> bool:
    """Whether `folder` may be replaced: empty, or a site this module wrote."""
    if not any(folder.iterdir()):
        return True
    index = folder / "index.html"
    try:
        with index.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}">' in head


def write_site(
    db: sqlite_utils.Database,
    outdir: Path,
    *,
    title: str,
    base_url: str | None,
    now: datetime,
) -> SiteSummary:
    """Write the whole site to `outdir`, replacing the site there in one step.

    `base_url` (the absolute http(s) URL the site is published at) only makes the Atom feed's
    links absolute; the pages use relative links either way. `outdir` must not exist, be
    empty, or hold a site written by this function: any other folder is refused rather than
    deleted.
    """
    if base_url is not None and safe_url(base_url) is None:
        raise SiteError(f"site base_url {base_url!r}: not an http(s) URL")
    target = Path(outdir).expanduser().resolve()
    if target.exists():
        if not target.is_dir():
            raise SiteError(f"{outdir}: exists and is not a folder")
        if not _is_site(target):
            raise SiteError(
                f"{outdir}: folder is not empty and holds no site written by monitor; "
                "refusing to replace it"
            )
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
    except OSError as exc:
        raise SiteError(f"{outdir}: cannot create a folder beside it: {exc.strerror}") from None
    try:
        build.chmod(target.stat().st_mode & 0o7777 if target.exists() else 0o755)
        summary = _build(db, build, title=title, base_url=base_url, now=now)
        _swap(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return SiteSummary(**{**summary.__dict__, "outdir": target})


def _swap(build: Path, target: Path) -> None:
    """Put the finished `build` folder where `target` is: the old site is renamed away, the
    new one renamed in, then the old one deleted. Renames within one folder are atomic, so a
    reader sees the old site or the new one, never a half-written mix."""
    if not target.exists():
        os.rename(build, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(build, target)
    except OSError:
        os.rename(old, target)
        raise
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
