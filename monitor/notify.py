"""Digests by email and Slack: the queued changes in people's words, one digest per channel.

Delivery is at least once, per channel. The store keeps which channels each change has
reached (`store.pending`, `store.mark_delivered`); a change is marked for a channel only after
that channel accepted the message carrying it. A failure leaves it queued for that channel
alone, and the next digest sends it again. A Slack digest split into several posts marks each
post's changes as it goes, so a failure halfway does not repeat the posts already made.

A digest shows every status change but only the newest figure changes and first sightings
(`[digest] max_figure_changes`, `max_first_seen`); the older ones are counted in a line that
points to the site and to `monitor changes`, and are delivered with it: after a first run over
years of history the first digest is a readable message, not tens of megabytes. The pending
changes are read a batch at a time and only the shown ones are kept.

Everything that came from the web (evidence sentences, titles, outlet names, URLs, error texts)
is hostile. Control and bidi characters are removed and lengths capped before any channel sees
it. HTML templates autoescape. In Slack, web text travels as `plain_text`, which Slack never
parses for mentions, links or formatting; what must sit in `mrkdwn` has `&`, `<` and `>`
escaped. Only http(s) URLs of stored articles become links.

Words (headings, metric, status and country names) are in `templates/digest/labels.toml`, en,
ru and kk side by side. The templates (`subject.txt`, `body.txt`, `body.html`) hold the layout;
a folder named by `digest.templates` in the config overrides them, per language
(`<folder>/ru/body.html`) or for all (`<folder>/body.html`), and may hold a `labels.toml` that
overrides single entries.
"""

from __future__ import annotations

import itertools
import json
import re
import smtplib
import socket
import ssl
import time
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import jinja2
import sqlite_utils
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import store, untrusted
from .config import ConfigError, Email, Settings, Slack
from .health import Problem, Watched, source_health, when
from .untrusted import format_number

CHANNELS = ("email", "slack")
TEMPLATES = Path(__file__).parent / "templates" / "digest"
LANGUAGES = ("en", "ru", "kk")

MAX_EVIDENCE = 600  # characters of an evidence sentence shown
MAX_NAME = 120  # an outlet or source name, a value we have no label for
MAX_ERROR = 300
MAX_URL = 1000  # a longer URL is shown as its outlet's name, not linked
MAX_LINKS = 4  # sources linked per change; the rest are counted

# Slack limits (https://docs.slack.dev/reference/block-kit): 50 blocks a message, 3000
# characters a text object, 150 a header; a message's text stays well under 40,000.
SLACK_BLOCKS = 50
SLACK_TEXT = 3000
SLACK_HEADER = 150
SLACK_BUDGET = 36000

# Catalogue order (SPEC section 2): metrics and dims are shown in this order.
METRICS = (
    "citizens_abroad",
    "foreign_workers",
    "foreign_labor_quota",
    "migration_violations",
    "migration_fines",
    "deportations",
    "investor_visas",
    "immigrants",
    "kandas",
    "remittances",
)
DIMS = ("country", "origin", "legal", "sector", "category", "region", "education", "stage")
DIM_VALUES = {"origin": "country"}  # dims named by another dim's value table
COUNT_UNITS = ("persons", "cases", "visas")  # implied by the metric, not shown


class NotifyError(Exception):
    """A channel that did not take the message; the text is one line naming the channel and
    the server: "email: smtp.example.org:587: connection refused"."""


@dataclass
class ChannelResult:
    channel: str
    ok: bool
    detail: str = ""  # one line for people: what was sent
    error: str | None = None  # one line: why not
    sent: int = 0  # changes delivered (and marked) on this channel
    messages: int = 0  # emails sent or Slack posts made
    text: str | None = None  # dry run: what would have been sent


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Labels:
    """The words of one digest language."""

    lang: str
    words: dict[str, Any]
    metrics: dict[str, str]
    statuses: dict[str, str]
    dims: dict[str, str]
    values: dict[str, dict[str, str]]  # dim -> value -> name
    units: dict[str, str]

    def word(self, key: str, **fill: Any) -> str:
        text = self.words[key]
        return text.format(**fill) if fill else text

    def plural(self, key: str, count: int) -> str:
        return plural_form(self.words[key], count, self.lang)


def load_labels(lang: str, override: Path | None = None) -> Labels:
    """The labels of `lang`: the package's table, entries of `override`/labels.toml over it;
    an entry without `lang` falls back to English."""
    table = _read_labels(TEMPLATES / "labels.toml")
    if override is not None and (override / "labels.toml").is_file():
        _merge(table, _read_labels(override / "labels.toml"))

    def pick(section: dict[str, Any]) -> dict[str, Any]:
        return {k: v.get(lang, v.get("en", k)) for k, v in section.items() if isinstance(v, dict)}

    values = table.get("value", {})
    return Labels(
        lang=lang,
        words=pick(table.get("word", {})),
        metrics=pick(table.get("metric", {})),
        statuses=pick(table.get("status", {})),
        dims=pick(table.get("dim", {})),
        values={dim: pick(entries) for dim, entries in values.items()},
        units=pick(table.get("unit", {})),
    )


def _read_labels(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _check_labels(data, path, "")
    return data


def _check_labels(data: dict[str, Any], path: Path, where: str) -> None:
    """Every leaf is an entry {en, ru, kk} of strings (or lists of plural forms)."""
    for key, value in data.items():
        name = f"{where}{key}"
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name}: expected a table of en, ru, kk")
        if any(lang in value for lang in LANGUAGES):
            for lang, text in value.items():
                if lang not in LANGUAGES:
                    raise ConfigError(f"{path}: {name}.{lang}: unknown language (en, ru, kk)")
                if not isinstance(text, str) and not (
                    isinstance(text, list) and text and all(isinstance(t, str) for t in text)
                ):
                    raise ConfigError(f"{path}: {name}.{lang}: expected a string")
        else:
            _check_labels(value, path, f"{name}.")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def plural_form(forms: str | list[str], count: int, lang: str) -> str:
    """The noun form for `count`: en [one, other]; ru [one, few, many]; kk [one]."""
    if isinstance(forms, str):
        return forms
    if lang == "ru" and len(forms) >= 3:
        if count % 10 == 1 and count % 100 != 11:
            return forms[0]
        if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
            return forms[1]
        return forms[2]
    return forms[0] if count == 1 or len(forms) == 1 else forms[1]


# --------------------------------------------------------------------------- text and numbers


def clean(text: Any, limit: int = MAX_NAME) -> str:
    """Fetched text made safe to show (`untrusted.clean`), at most `limit` characters."""
    return untrusted.clean(text, limit)


def safe_url(url: Any) -> str | None:
    """`url` when it may become a link (`untrusted.safe_url`), at most MAX_URL characters."""
    return untrusted.safe_url(url, MAX_URL)


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters as entities: `<!channel>`, `<@U1>`, `<http://x|y>`
    stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    """A URL inside `<url|text>`: `|` and `>` would end it, `&` and `<` are entities there."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def format_amount(value: Any, unit: str | None, labels: Labels) -> str:
    """A figure for people: the number in the language's style, with its currency."""
    number = _number(value)
    if number is None:
        return clean(value)
    text = format_number(number, labels.lang)
    if unit and unit not in COUNT_UNITS:
        text += " " + labels.units.get(unit, clean(unit, 20))
    return text


def format_delta(old: Any, new: Any, unit: str | None, labels: Labels) -> str | None:
    """ "−68,000, −35.1%": the absolute and relative change; None when not both numbers."""
    a, b = _number(old), _number(new)
    if a is None or b is None:
        return None
    diff = b - a
    sign = "+" if diff > 0 else "\u2212" if diff < 0 else "±"
    text = sign + format_amount(abs(diff), unit, labels)
    if a:
        pct = abs(diff) / abs(a) * 100
        digits = format_number(round(pct, 1), labels.lang)
        text += f", {sign}{labels.word('percent', count=digits)}"
    return text


def country_name(code: str, labels: Labels) -> str:
    names = labels.values.get("country", {})
    return " + ".join(names.get(part, clean(part, 20)) for part in code.split("+"))


def dims_words(dims: dict[str, Any], labels: Labels) -> str:
    """{"country": "RU", "legal": "undocumented"} -> "country: Russia, working illegally";
    the total ({}) -> "total"."""
    if not dims:
        return labels.word("total")
    parts = []
    for key in sorted(dims, key=lambda k: (DIMS.index(k) if k in DIMS else len(DIMS), k)):
        raw = str(dims[key])
        table = DIM_VALUES.get(key, key)
        if table == "country":
            value = country_name(raw, labels)
        else:
            value = labels.values.get(table, {}).get(raw, clean(raw).replace("_", " "))
        name = labels.dims.get(key, clean(key))
        parts.append(f"{name}: {value}" if name else value)
    return ", ".join(parts)


# --------------------------------------------------------------------------- the digest


@dataclass(frozen=True)
class Link:
    outlet: str
    url: str  # as stored, cleaned; shown as text
    href: str | None  # the URL when it may be a link (http/https), else None
    title: str  # the article's title, cleaned; may be empty


@dataclass
class Entry:
    """One change as every channel shows it."""

    id: int
    kind: str  # "figure" | "status"
    heading: str  # counterparty ("South Korea (KR)") or metric title
    what: str  # dims in words; "" for a status
    old: str | None  # the previous value or status, formatted; None for a first sighting
    new: str
    delta: str | None  # "−68,000, −35.1%"
    date: str | None  # "as of 2025-10-09", in the digest language
    evidence: str
    links: list[Link]
    hidden: int  # sources past MAX_LINKS, counted but not linked
    more: str | None  # "and 3 more"
    outlets: int  # distinct outlets reporting it
    agree: str  # "outlets agreeing: 2"
    reextract: str | None  # a note when found by `monitor reextract`

    @property
    def line(self) -> str:
        """The change in one line of plain text."""
        head = self.heading if self.kind == "status" else self.what
        if self.kind != "status" and self.old is None:
            head = f"{self.heading} — {self.what}"
        text = f"{head}: {self.old} → {self.new}" if self.old is not None else f"{head}: {self.new}"
        if self.delta:
            text += f" ({self.delta})"
        if self.date:
            text += f", {self.date}"
        return text


@dataclass
class Group:
    metric: str
    title: str
    entries: list[Entry]


@dataclass
class Trouble:
    """A source problem as the digest says it."""

    name: str
    text: str  # "failing since 2025-10-01 08:00"
    error: str | None


@dataclass
class Summary:
    """The changes of a section a digest counts instead of showing (the older ones)."""

    text: str  # "Earlier figure changes not shown here: 80,854. All of them are on the site..."
    ids: list[int]  # delivered with the digest all the same


@dataclass
class Digest:
    lang: str
    title: str
    day: str
    heading: str  # "Labour migration monitor — digest of 2025-10-09"
    statuses: list[Entry] = field(default_factory=list)
    figures: list[Group] = field(default_factory=list)
    first_seen: list[Entry] = field(default_factory=list)
    problems: list[Trouble] = field(default_factory=list)
    more_figures: Summary | None = None
    more_first_seen: Summary | None = None
    site: str | None = None  # the published site's http(s) URL, named by the summaries

    @property
    def entries(self) -> list[Entry]:
        return self.statuses + [e for g in self.figures for e in g.entries] + self.first_seen

    @property
    def summarised(self) -> list[int]:
        return [i for more in (self.more_figures, self.more_first_seen) if more for i in more.ids]

    @property
    def ids(self) -> list[int]:
        """Every change the digest carries, shown or summarised: all are delivered with it."""
        return [e.id for e in self.entries] + self.summarised

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.summarised)


class _Newest:
    """The newest `limit` changes of a stream, oldest first (None: all of them), and the ids
    of those pushed out, so that a backlog of any length takes `limit` changes of memory."""

    def __init__(self, limit: int | None) -> None:
        self.kept: deque[dict[str, Any]] = deque(maxlen=limit)
        self.dropped: list[int] = []

    def add(self, change: dict[str, Any]) -> None:
        if self.kept.maxlen == 0:
            self.dropped.append(int(change["id"]))
            return
        if len(self.kept) == self.kept.maxlen:
            self.dropped.append(int(self.kept[0]["id"]))
        self.kept.append(change)

    def summary(self, key: str, labels: Labels) -> Summary | None:
        if not self.dropped:
            return None
        count = format_number(len(self.dropped), labels.lang)
        text = f"{labels.word(key, count=count)} {labels.word('see_all')}"
        return Summary(text, self.dropped)


def build_digest(
    db: sqlite_utils.Database,
    changes: Iterable[dict[str, Any]],
    labels: Labels,
    now: datetime,
    *,
    problems: Sequence[Problem] = (),
    timezone: str = "UTC",
    max_figures: int | None = None,
    max_first_seen: int | None = None,
    site: str | None = None,
) -> Digest:
    """The digest of `changes` (oldest first, as the store gives them): status changes,
    figure changes grouped by metric, first sightings, then the sources with problems.

    At most `max_figures` figure changes and `max_first_seen` first sightings of figures are
    shown, the newest; the others are counted in a line that points to the site and to
    `monitor changes`, and are delivered with the digest all the same (None: no cap). Status
    changes are always all shown. `changes` is read once, so a backlog of any length can
    come as an iterator and only what is shown is held."""
    zone = _zone(timezone)
    local = _aware(now).astimezone(zone)
    statuses: list[dict[str, Any]] = []
    figures, first = _Newest(max_figures), _Newest(max_first_seen)
    for change in changes:
        if change.get("kind") == "status":
            statuses.append(change)
        elif change.get("first_seen") or change.get("old") is None:
            first.add(change)
        else:
            figures.add(change)
    shown = [*statuses, *figures.kept, *first.kept]
    articles = _articles(db, [u for c in shown for u in c.get("sources") or []])
    digest = Digest(
        lang=labels.lang,
        title=labels.word("title"),
        day=local.date().isoformat(),
        heading=f"{labels.word('title')} — {labels.word('digest_of', date=local.date())}",
        more_figures=figures.summary("not_shown_figures", labels),
        more_first_seen=first.summary("not_shown_first_seen", labels),
        site=safe_url(site) if site else None,
    )
    groups: dict[str, list[Entry]] = {}
    ordered = sorted(shown, key=_order)
    for change in ordered:
        entry = _entry(change, labels, articles)
        if change.get("first_seen") or change.get("old") is None:
            digest.first_seen.append(entry)
        elif entry.kind == "status":
            digest.statuses.append(entry)
        else:
            groups.setdefault(str(change.get("metric")), []).append(entry)
    digest.figures = [
        Group(metric, labels.metrics.get(metric, clean(metric).replace("_", " ")), entries)
        for metric, entries in groups.items()
    ]
    digest.problems = [_trouble(p, labels, zone) for p in problems]
    return digest


def _order(change: dict[str, Any]) -> tuple[Any, ...]:
    metric = change.get("metric") or ""
    rank = METRICS.index(metric) if metric in METRICS else len(METRICS)
    dims = untrusted.dims(change.get("dims"))
    where = (len(dims), json.dumps(dims, sort_keys=True))  # the total first
    return (rank, str(metric), str(change.get("counterparty") or ""), where, change.get("id", 0))


def _entry(change: dict[str, Any], labels: Labels, articles: dict[str, dict[str, Any]]) -> Entry:
    kind = str(change.get("kind"))
    old, new = change.get("old"), change.get("new")
    delta = None
    if kind == "status":
        code = clean(change.get("counterparty"), 20)
        heading = f"{country_name(code, labels)} ({code})"
        what = ""
        old_text = None if old is None else labels.statuses.get(str(old), clean(old))
        new_text = labels.statuses.get(str(new), clean(new))
    else:
        metric = str(change.get("metric"))
        heading = labels.metrics.get(metric, clean(metric).replace("_", " "))
        what = dims_words(untrusted.dims(change.get("dims")), labels)
        unit = change.get("unit")
        old_text = None if old is None else format_amount(old, unit, labels)
        new_text = format_amount(new, unit, labels)
        if old is not None:
            delta = format_delta(old, new, unit, labels)
    as_of = clean(change.get("as_of"), 40)
    links, outlets = _links(change.get("sources") or [], articles)
    hidden = len(links) - MAX_LINKS
    return Entry(
        id=int(change["id"]),
        kind=kind,
        heading=heading,
        what=what,
        old=old_text,
        new=new_text,
        delta=delta,
        date=_as_of(as_of, labels),
        evidence=clean(change.get("evidence"), MAX_EVIDENCE),
        links=links[:MAX_LINKS],
        hidden=max(hidden, 0),
        more=labels.word("more_sources", count=hidden) if hidden > 0 else None,
        outlets=outlets,
        agree=labels.word("outlets_agree", count=outlets),
        reextract=labels.word("reextract") if change.get("found_by") == "reextract" else None,
    )


def _as_of(as_of: str, labels: Labels) -> str | None:
    """ "as of 2025-10-09"; a whole year reads "in 2024" (Kazakh "2024 жылы")."""
    if not as_of:
        return None
    key = "as_of_year" if re.fullmatch(r"\d{4}", as_of) else "as_of"
    return labels.word(key, date=as_of)


def _links(urls: Iterable[Any], articles: dict[str, dict[str, Any]]) -> tuple[list[Link], int]:
    links: list[Link] = []
    outlets: set[str] = set()
    for url in dict.fromkeys(u for u in urls if isinstance(u, str)):
        article = articles.get(url, {})
        href = safe_url(url)
        outlet = clean(article.get("source")) or clean(_host(url)) or clean(url, 60)
        outlets.add(outlet.casefold())
        links.append(Link(outlet, clean(url, MAX_URL), href, clean(article.get("title"), 300)))
    return links, len(outlets)


def _host(url: str) -> str:
    return untrusted.host(url).removeprefix("www.")


def _articles(db: sqlite_utils.Database, urls: list[str]) -> dict[str, dict[str, Any]]:
    """Outlet (source name) and title of each stored article URL."""
    wanted = list(dict.fromkeys(urls))
    if not wanted or "articles" not in db.table_names():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"select url, source, title from articles where url in ({marks})"
        for url, source, title in db.execute(sql, chunk).fetchall():
            found[url] = {"source": source, "title": title}
    return found


def _trouble(problem: Problem, labels: Labels, zone: ZoneInfo) -> Trouble:
    since = when(problem.since)
    shown = since.astimezone(zone).strftime("%Y-%m-%d %H:%M") if since else None
    if problem.kind == "failing":
        text = labels.word("failing_since", since=shown) if shown else labels.word("failing")
        error = clean(problem.error, MAX_ERROR) or None
    else:
        text = labels.word("silent_since", since=shown) if shown else labels.word("silent")
        error = None
    return Trouble(clean(problem.name), text, error)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- templates


def environment(override: Path | None = None) -> jinja2.Environment:
    """Templates of the override folder first, then the package's. HTML is autoescaped; the
    sandbox keeps a template from reaching Python internals."""
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(TEMPLATES))
    return ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(("html", "htm"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, lang: str, **context: Any) -> str:
    """`name` for `lang`: `<lang>/<name>` if a folder has one, else `<name>`."""
    try:
        template = env.select_template([f"{lang}/{name}", name])
        return template.render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise NotifyError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise NotifyError(f"template {name}: {exc}") from None


def render_email(digest: Digest, labels: Labels, override: Path | None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the digest email."""
    env = environment(override)
    context = {"d": digest, "w": labels.words, "changes": labels.plural("changes", digest.count)}
    subject = clean(render(env, "subject.txt", labels.lang, **context), 250)
    text = render(env, "body.txt", labels.lang, **context)
    html = render(env, "body.html", labels.lang, **context)
    return subject, text, html


# --------------------------------------------------------------------------- email


_POLICY = SMTP.clone(cte_type="7bit")  # bodies in base64 / quoted-printable: any server takes


def email_message(
    cfg: Email, subject: str, text: str, html: str | None, now: datetime
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) in UTF-8, with Date and Message-ID."""
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = subject
    message["From"] = cfg.sender
    message["To"] = ", ".join(cfg.to)
    message["Date"] = format_datetime(_aware(now))
    message["Message-ID"] = make_msgid(domain=_domain(cfg.sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def send_email(cfg: Email, message: EmailMessage, *, ssl_context: ssl.SSLContext | None) -> str:
    """Send over SMTP (SSL, or STARTTLS, or plain) and log in when a username is set. Returns a
    note about recipients the server refused; raises NotifyError."""
    where = f"email: {cfg.host}:{cfg.port}"
    step = "connect"
    try:
        password = cfg.password() if cfg.username else None
        context = ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if cfg.ssl:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        with smtp:
            if cfg.starttls and not cfg.ssl:
                step = "STARTTLS"
                smtp.starttls(context=context)
            if cfg.username:
                step = "login"
                smtp.login(cfg.username, password or "")
            step = "send"
            sender = parseaddr(cfg.sender)[1] or cfg.sender
            refused = smtp.send_message(message, from_addr=sender, to_addrs=list(cfg.to))
    except ConfigError as exc:
        raise NotifyError(f"email: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"{where}: {_smtp_reason(exc, step, cfg.timeout)}") from None
    if refused:
        return "refused: " + ", ".join(clean(r) for r in refused)
    return ""


def _smtp_reason(exc: BaseException, step: str, timeout: float) -> str:
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS" if step == "STARTTLS" else f"{step}: {exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login failed: {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + ", ".join(clean(r) for r in exc.recipients)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender refused: {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{step}: {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"{step}: timed out after {timeout:g} s"  # smtplib wraps a read timeout
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{step}: the server closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {clean(exc.reason or exc, MAX_ERROR)}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host: {clean(exc.strerror or exc)}"
    return _reason(exc) if step == "connect" else f"{step}: {_reason(exc)}"


def _smtp_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return clean(text, MAX_ERROR)


def _reason(exc: BaseException) -> str:
    """An OS or library error as a short lower-case phrase: "connection refused"."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", clean(text, MAX_ERROR))
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------- Slack


@dataclass
class SlackMessage:
    payload: dict[str, Any]
    ids: list[int]  # the changes this post carries


@dataclass
class _Unit:
    """Blocks that stay together in one post (a heading with its first change)."""

    blocks: list[dict[str, Any]]
    ids: list[int]

    @property
    def size(self) -> int:
        return sum(_block_chars(b) for b in self.blocks)


def _block_chars(block: dict[str, Any]) -> int:
    texts = [block.get("text"), *block.get("elements", [])]
    return sum(len(t["text"]) for t in texts if isinstance(t, dict) and "text" in t)


def _mrkdwn(text: str) -> dict[str, Any]:
    """A section of our own mrkdwn; `verbatim` keeps Slack from turning bare text into links."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT], "verbatim": True},
    }


def _slack_entry(entry: Entry, labels: Labels) -> list[dict[str, Any]]:
    """A change: a mrkdwn section of our own words and links, and the evidence as plain_text."""
    e = escape_mrkdwn
    if entry.kind == "status" or entry.old is None:
        head = f"*{e(entry.heading)}*" + (f" — {e(entry.what)}" if entry.what else "")
    else:
        head = f"*{e(entry.what)}*"
    value = f"{e(entry.old)} → *{e(entry.new)}*" if entry.old is not None else f"*{e(entry.new)}*"
    line = f"{head}: {value}"
    if entry.delta:
        line += f" ({e(entry.delta)})"
    if entry.date:
        line += f" · {e(entry.date)}"
    if entry.reextract:
        line += f" · _{e(entry.reextract)}_"
    links = list(entry.links)
    while True:
        shown = [
            f"<{_slack_url(link.href)}|{e(link.outlet)}>" if link.href else e(link.outlet)
            for link in links
        ]
        hidden = entry.hidden + len(entry.links) - len(links)
        more = labels.word("more_sources", count=hidden) if hidden else None
        sources = ", ".join(shown) + (f" {e(more)}" if more else "")
        text = f"{line}\n{e(labels.word('sources'))}: {sources} · {e(entry.agree)}"
        if len(text) <= SLACK_TEXT or not links:
            break
        links.pop()
    blocks = [_mrkdwn(text)]
    if entry.evidence:
        quote = {"type": "plain_text", "text": f"“{entry.evidence}”", "emoji": False}
        blocks.append({"type": "context", "elements": [quote]})
    return blocks


def slack_messages(digest: Digest, labels: Labels) -> list[SlackMessage]:
    """The digest as Slack posts, each within Slack's limits; a change is never split."""
    e = escape_mrkdwn
    units: list[_Unit] = []

    def section(title: str, entries: list[Entry]) -> None:
        for i, entry in enumerate(entries):
            blocks = _slack_entry(entry, labels)
            if i == 0:
                blocks = [_mrkdwn(f"*{e(title)}*"), *blocks]
            units.append(_Unit(blocks, [entry.id]))

    def summary(title: str, shown: bool, more: Summary | None) -> None:
        """The line counting a section's older changes; the post carrying it delivers them."""
        if more is None:
            return
        text = e(more.text)
        if digest.site:
            text += f" <{_slack_url(digest.site)}|{e(digest.site)}>"
        blocks = [_mrkdwn(text)] if shown else [_mrkdwn(f"*{e(title)}*"), _mrkdwn(text)]
        units.append(_Unit(blocks, list(more.ids)))

    section(labels.word("statuses"), digest.statuses)
    for group in digest.figures:
        section(f"{labels.word('figures')}: {group.title}", group.entries)
    summary(labels.word("figures"), bool(digest.figures), digest.more_figures)
    section(labels.word("first_seen"), digest.first_seen)
    summary(labels.word("first_seen"), bool(digest.first_seen), digest.more_first_seen)
    if digest.problems:
        lines = [f"*{e(labels.word('health'))}*"]
        for p in digest.problems:
            line = f"• *{e(p.name)}*: {e(p.text)}"
            if p.error:
                line += f" — {e(labels.word('last_error'))}: {e(p.error)}"
            lines.append(line)
        units.extend(_Unit([_mrkdwn(text)], []) for text in _pack(lines, SLACK_TEXT))

    header_text = clean(digest.heading, SLACK_HEADER)
    parts: list[list[_Unit]] = [[]]
    for unit in units:
        current = parts[-1]
        blocks = 1 + sum(len(u.blocks) for u in current) + len(unit.blocks)
        chars = len(header_text) + sum(u.size for u in current) + unit.size
        if current and (blocks > SLACK_BLOCKS or chars > SLACK_BUDGET):
            parts.append([unit])
        else:
            current.append(unit)
    summary = f"{digest.title}: {digest.count} {labels.plural('changes', digest.count)}"
    summary += f" ({digest.day})"
    messages = []
    for number, part in enumerate(parts, 1):
        header = header_text
        fallback = summary
        if len(parts) > 1:
            marker = labels.word("part", count=f"{number}/{len(parts)}")
            header = clean(f"{digest.heading} ({marker})", SLACK_HEADER)
            fallback = f"{summary}, {marker}"
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}}
        ]
        for unit in part:
            blocks.extend(unit.blocks)
        payload = {
            "text": e(fallback),
            "blocks": blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        messages.append(SlackMessage(payload, [i for u in part for i in u.ids]))
    return messages


def _pack(lines: list[str], limit: int) -> list[str]:
    """Lines joined into texts of at most `limit` characters (a longer line is cut)."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def post_slack(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    backoff: float = 1.0,
    max_wait: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """POST one message to an incoming webhook. Retries on 429 (after Retry-After), on 5xx and
    on network errors with exponential backoff; other answers fail at once. Errors name the
    webhook's host only: the URL itself is a secret."""
    where = f"slack: {_host(url) or 'webhook'}"
    error = "no attempt made"
    for attempt in range(attempts):
        wait = backoff * 2**attempt
        try:
            response = client.post(url, json=payload)
        except httpx.TimeoutException:
            error = "timed out"
        except httpx.HTTPError as exc:
            error = _reason(exc)
        else:
            if response.status_code == 200:
                return
            body = clean(response.text, 200)
            error = f"HTTP {response.status_code}" + (f": {body}" if body else "")
            if response.status_code == 429:
                asked = _retry_after(response.headers.get("Retry-After"))
                if asked is not None:
                    if asked > max_wait:
                        raise NotifyError(f"{where}: rate limited for {asked:g} s")
                    wait = asked
            elif response.status_code < 500:
                raise NotifyError(f"{where}: {error}")
        if attempt + 1 < attempts:
            sleep(min(wait, max_wait))
    raise NotifyError(f"{where}: {error} (after {attempts} attempts)")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


# --------------------------------------------------------------------------- delivery


def deliver(
    db: sqlite_utils.Database,
    settings: Settings,
    now: datetime,
    *,
    dry_run: bool = False,
    channels: Sequence[str] | None = None,
    sources: Sequence[Watched] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ChannelResult]:
    """Send each configured channel its pending changes as one digest, and mark them delivered
    on that channel only once it took them. Nothing pending: nothing is sent. `dry_run`
    renders (ChannelResult.text) without sending or marking. `sources` are checked for health
    (failing, silent) and listed at the end; without them only failing sources can be told
    (from the store's `sources` table)."""
    configured = {"email": settings.email, "slack": settings.slack}
    wanted = list(channels) if channels is not None else [c for c in CHANNELS if configured[c]]
    labels = load_labels(settings.digest.language, settings.digest.templates)
    problems: list[Problem] | None = None
    results = []
    for channel in wanted:
        if channel not in CHANNELS:
            results.append(_failed(channel, f"{channel}: unknown channel (email or slack)"))
            continue
        config = configured[channel]
        if config is None:
            results.append(_failed(channel, f"{channel}: not configured ([{channel}] section)"))
            continue
        changes = _started(
            store.iter_pending(db, channel, include_reextract=settings.digest.include_reextract)
        )
        if changes is None:
            results.append(ChannelResult(channel, True, detail="nothing to send"))
            continue
        if problems is None:
            problems = _problems(db, settings, now, sources)
        digest = build_digest(
            db,
            changes,
            labels,
            now,
            problems=problems,
            timezone=settings.schedule.timezone,
            **_caps(settings),
        )
        try:
            if isinstance(config, Email):
                result = _deliver_email(
                    db, config, digest, labels, settings, now, dry_run, ssl_context
                )
            else:
                result = _deliver_slack(db, config, digest, labels, now, dry_run, http, sleep)
        except NotifyError as exc:  # a template error; send errors name their channel
            error = str(exc)
            result = _failed(channel, error if error.startswith(channel) else f"{channel}: {error}")
        results.append(result)
    return results


def preview(
    db: sqlite_utils.Database,
    *,
    language: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
    channel: str | None = None,
    sources: Sequence[Watched] | None = None,
    html: bool = False,
) -> str:
    """The digest email as its reader sees it, a Subject line and then the plain text (with
    `html`: the HTML part alone), for the changes pending on `channel`, or for every change
    when `channel` is None. Sends and marks nothing; "" when there is nothing to send.
    `language` (en, ru, kk) overrides `settings.digest.language`; templates, timezone and
    health thresholds come from `settings` (the defaults without one)."""
    settings = settings or Settings()
    lang = language or settings.digest.language
    if lang not in LANGUAGES:
        raise ConfigError(f"digest language {lang!r}: expected one of en, ru, kk")
    now = _aware(now or datetime.now(UTC))
    include = settings.digest.include_reextract
    if channel is None:
        changes = _started(_every_change(db, include_reextract=include))
    else:
        changes = _started(store.iter_pending(db, channel, include_reextract=include))
    if changes is None:
        return ""
    labels = load_labels(lang, settings.digest.templates)
    problems = _problems(db, settings, now, sources)
    digest = build_digest(
        db,
        changes,
        labels,
        now,
        problems=problems,
        timezone=settings.schedule.timezone,
        **_caps(settings),
    )
    subject, text, html_text = render_email(digest, labels, settings.digest.templates)
    return html_text if html else _plain(subject, text)


def _started(changes: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]] | None:
    """`changes` whole, or None when it is empty."""
    first = next(changes, None)
    return None if first is None else itertools.chain([first], changes)


def _every_change(
    db: sqlite_utils.Database, *, include_reextract: bool
) -> Iterator[dict[str, Any]]:
    """`store.changes(db)` one change at a time (the JSON SQLite writes for each, parsed)."""
    for _, text in store.changes_json(db):
        change = json.loads(text)
        if include_reextract or change.get("found_by") == "run":
            yield change


def _caps(settings: Settings) -> dict[str, Any]:
    return {
        "max_figures": settings.digest.max_figure_changes,
        "max_first_seen": settings.digest.max_first_seen,
        "site": settings.site.base_url,
    }


def _plain(subject: str, body: str, *, to: Sequence[str] = ()) -> str:
    head = f"Subject: {subject}\n" + (f"To: {', '.join(to)}\n" if to else "")
    return f"{head}\n{body}"


def _failed(channel: str, error: str) -> ChannelResult:
    return ChannelResult(channel, False, error=error)


def _problems(
    db: sqlite_utils.Database,
    settings: Settings,
    now: datetime,
    sources: Sequence[Watched] | None,
) -> list[Problem]:
    from .sources import parse_duration

    failing_after = parse_duration(settings.digest.failing_after)
    now = _aware(now)
    if sources is None:
        sources = _fetched_sources(db, now - failing_after)
    return source_health(db, sources, now, failing_after)


@dataclass(frozen=True)
class _Known:
    """A source known only from the store: failing can be judged, silence cannot (its own
    silent_after is in its file)."""

    name: str
    silent_after: timedelta = timedelta.max
    enabled: bool = True


def _fetched_sources(db: sqlite_utils.Database, since: datetime) -> list[_Known]:
    """Sources of the store fetched after `since`: a row of a source removed from the folder
    (its last fetch long past) is not judged."""
    if "sources" not in db.table_names():
        return []
    rows = db.execute("select name, last_fetch from sources order by name").fetchall()
    return [_Known(name) for name, fetched in rows if (when(fetched) or since) > since]


def _deliver_email(
    db: sqlite_utils.Database,
    cfg: Email,
    digest: Digest,
    labels: Labels,
    settings: Settings,
    now: datetime,
    dry_run: bool,
    ssl_context: ssl.SSLContext | None,
) -> ChannelResult:
    subject, text, html = render_email(digest, labels, settings.digest.templates)
    count = f"{digest.count} change{'s' if digest.count != 1 else ''}"
    if dry_run:
        shown = _plain(subject, text, to=cfg.to)
        return ChannelResult("email", True, detail=f"would send {count}", text=shown)
    message = email_message(cfg, subject, text, html, now)
    note = send_email(cfg, message, ssl_context=ssl_context)
    store.mark_delivered(db, "email", digest.ids, _aware(now).isoformat())
    detail = f"sent {count} to {len(cfg.to)} recipient{'s' if len(cfg.to) != 1 else ''}"
    return ChannelResult(
        "email", True, detail=detail + (f"; {note}" if note else ""), sent=digest.count, messages=1
    )


def _deliver_slack(
    db: sqlite_utils.Database,
    cfg: Slack,
    digest: Digest,
    labels: Labels,
    now: datetime,
    dry_run: bool,
    http: httpx.Client | None,
    sleep: Callable[[float], None],
) -> ChannelResult:
    messages = slack_messages(digest, labels)
    count = f"{digest.count} change{'s' if digest.count != 1 else ''}"
    posts = f"{len(messages)} post{'s' if len(messages) != 1 else ''}"
    if dry_run:
        text = "\n\n".join(json.dumps(m.payload, ensure_ascii=False, indent=2) for m in messages)
        return ChannelResult("slack", True, detail=f"would send {count} in {posts}", text=text)
    try:
        url = cfg.url()
    except ConfigError as exc:
        raise NotifyError(f"slack: {exc}") from None
    client = http or httpx.Client(timeout=httpx.Timeout(10.0))
    sent = made = 0
    try:
        for message in messages:
            try:
                post_slack(client, url, message.payload, sleep=sleep)
            except NotifyError as exc:
                done = f" ({made} of {len(messages)} posts made)" if made else ""
                return ChannelResult("slack", False, error=f"{exc}{done}", sent=sent, messages=made)
            made += 1
            if message.ids:
                store.mark_delivered(db, "slack", message.ids, _aware(now).isoformat())
                sent += len(message.ids)
    finally:
        if http is None:
            client.close()
    return ChannelResult("slack", True, detail=f"sent {count} in {posts}", sent=sent, messages=made)


def notify_test(
    settings: Settings,
    *,
    now: datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ChannelResult]:
    """Send a short test message to every configured channel; report each failure as it is."""
    now = _aware(now or datetime.now(UTC))
    labels = load_labels(settings.digest.language, settings.digest.templates)
    stamp = now.astimezone(_zone(settings.schedule.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    subject = f"{labels.word('title')}: {labels.word('test_subject')}"
    body = labels.word("test_body", date=stamp)
    results = []
    if settings.email is not None:
        message = email_message(settings.email, subject, body + "\n", None, now)
        try:
            send_email(settings.email, message, ssl_context=ssl_context)
            results.append(ChannelResult("email", True, detail="test message sent", messages=1))
        except NotifyError as exc:
            results.append(_failed("email", str(exc)))
    if settings.slack is not None:
        payload = {
            "text": escape_mrkdwn(subject),
            "blocks": [_mrkdwn(f"*{escape_mrkdwn(subject)}*\n{escape_mrkdwn(body)}")],
        }
        client = http or httpx.Client(timeout=httpx.Timeout(10.0))
        try:
            post_slack(client, settings.slack.url(), payload, sleep=sleep)
            results.append(ChannelResult("slack", True, detail="test message sent", messages=1))
        except ConfigError as exc:
            results.append(_failed("slack", f"slack: {exc}"))
        except NotifyError as exc:
            results.append(_failed("slack", str(exc)))
        finally:
            if http is None:
                client.close()
    return results
