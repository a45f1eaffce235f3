"""The `monitor` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import ConfigError, Settings, load_settings
from .extract import Extraction, extract_text
from .patterns import RulesError
from .rules import Rules, load_rules

if TYPE_CHECKING:
    import sqlite_utils

    from .feeds import Item
    from .pipeline import RunSummary, SourceOutcome
    from .sources import Source

# The monitoring commands import the fetch/store stages when they run, so that
# `monitor extract` (run once per article by scorers and scripts) starts fast.


class UserError(Exception):
    """Bad input or configuration: reported as one line on stderr, exit status 2."""


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="News monitor for labour migration in Kazakhstan: figures and agreement "
        "statuses from Kazakh, Russian and English news.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="settings file (default: monitor.toml in the working directory)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        default=Path("state/monitor.db"),
        help="SQLite database (default: state/monitor.db)",
    )
    parser.add_argument(
        "--sources",
        metavar="DIR",
        type=Path,
        default=Path("sources"),
        help="folder of source files (default: sources/)",
    )
    parser.add_argument(
        "--rules",
        metavar="DIR",
        type=Path,
        default=None,
        help="folder of extraction rules (default: the rules shipped with the package)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ex = sub.add_parser(
        "extract",
        help="extract figures and statuses from one article",
        description="Print every figure and agreement status one article states. The article "
        "is a file (HTML or plain text), a URL, or - for standard input.",
    )
    ex.add_argument("article", metavar="PATH|URL|-")
    ex.add_argument("--json", action="store_true", help="print JSON Lines (one object a line)")
    ex.add_argument(
        "--published",
        metavar="DATE",
        type=_iso_date,
        help="publication date (YYYY-MM-DD), the default reference date of figures",
    )
    ex.add_argument(
        "--lang", choices=["kk", "ru", "en"], help="language of the article (default: detected)"
    )
    ex.add_argument("--body", metavar="SELECTOR", help="CSS selector of the article text (HTML)")

    run = sub.add_parser(
        "run",
        help="one cycle: fetch due sources, extract, compare with history, store",
        description="Fetch every source that is due (or the one named), extract figures and "
        "statuses from new articles, compare them with the stored history and record the "
        "changes. Ends with a one-line summary.",
    )
    run.add_argument("--source", metavar="NAME", help="fetch only this source (even if not due)")
    run.add_argument("--all", action="store_true", help="fetch every source, due or not")
    run.add_argument(
        "--no-notify", action="store_true", help="queue the changes but send no digest"
    )

    ch = sub.add_parser("changes", help="list detected changes")
    ch.add_argument("--json", action="store_true", help="print JSON Lines (one change a line)")
    ch.add_argument("--since", metavar="DATE", type=_iso_date, help="only changes detected since")

    hi = sub.add_parser("history", help="the stored history of one series")
    hi.add_argument("metric", metavar="METRIC", nargs="?", help="a metric (omit to list series)")
    hi.add_argument(
        "--dims", metavar="K=V", nargs="*", default=[], help="the series' dims, e.g. country=RU"
    )
    hi.add_argument("--json", action="store_true", help="print JSON Lines")

    so = sub.add_parser("sources", help="the news sources and their health")
    ssub = so.add_subparsers(dest="sources_command", metavar="ACTION")
    ssub.add_parser("list", help="every source with its last fetch, status and failures")
    ssub.add_parser("check", help="fetch every source once and report what was found")

    sub.add_parser(
        "reextract",
        help="re-run the current rules over the stored articles (no fetching)",
        description="Re-extract every stored article with the current rules and rebuild the "
        "history. Changes found this way are marked as found by re-extraction and are not "
        "sent in digests unless [digest] include_reextract = true.",
    )

    dg = sub.add_parser(
        "digest",
        help="send the queued changes as one digest per channel",
        description="Send every change not yet delivered to a channel ([email], [slack] in "
        "the config) as one digest per channel. A channel that fails keeps its changes "
        "queued for the next digest.",
    )
    dg.add_argument(
        "--dry-run", action="store_true", help="print the digest instead; mark nothing as sent"
    )

    site = sub.add_parser("site", help="write the static HTML changelog and Atom feed")
    site.add_argument(
        "outdir",
        metavar="OUTDIR",
        type=Path,
        nargs="?",
        help="folder to write (replaced); default: [site] outdir of the config",
    )

    sub.add_parser(
        "daemon",
        help="run `run` and `digest` on the [schedule] of the config until stopped",
        description="Run `monitor run` and `monitor digest` on the cron expressions of "
        "[schedule] (defaults: every 30 minutes; digest at 08:00 Asia/Almaty). Stops cleanly "
        "on SIGTERM or Ctrl-C after the running job has finished its write.",
    )
    sub.add_parser("notify-test", help="send a test message to every configured channel")
    demo = sub.add_parser(
        "demo",
        help="the whole pipeline offline, on bundled sample feeds (start here)",
        description="Serve bundled sample feeds on loopback, run the pipeline on a temporary "
        "database step by step, print the digest and write the site. Needs no network and "
        "no configuration.",
    )
    demo.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="where to keep the site and database (default: "
        "a new folder under the system's temporary directory)",
    )

    rules = sub.add_parser("rules", help="work with the extraction rules")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rsub.add_parser("check", help="validate the rules folder; errors name the file and key")
    return parser


def _load_rules(args: argparse.Namespace) -> Rules:
    return load_rules(args.rules)


def _read_article(source: str) -> tuple[bytes, str | None, str]:
    """The article's bytes, its content type if known, and a name for messages."""
    if source == "-":
        return sys.stdin.buffer.read(), None, "<stdin>"
    if source.startswith(("http://", "https://")):
        from .fetch import FetchError, fetch_url

        try:
            data, content_type = fetch_url(source)
        except FetchError as exc:
            raise UserError(str(exc)) from None
        return data, content_type, source
    path = Path(source)
    try:
        return path.read_bytes(), None, source
    except FileNotFoundError:
        raise UserError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{source}: is a directory, not an article") from None
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None


def cmd_extract(args: argparse.Namespace) -> int:
    from .parse import InputError, load_article

    rules = _load_rules(args)
    data, content_type, name = _read_article(args.article)
    try:
        article = load_article(data, content_type=content_type, body=args.body)
    except InputError as exc:
        raise UserError(f"{name}: {exc}") from None
    published = args.published or article.published
    result = extract_text(article.text, rules, lang=args.lang or article.lang, published=published)
    if args.json:
        for item in [*result.figures, *result.statuses]:
            print(json.dumps(item.to_json(), ensure_ascii=False))
    else:
        print(format_table(result))
    return 0


def format_table(result: Extraction) -> str:
    lines = [f"language: {result.lang}   published: {result.published or 'unknown'}"]
    if not result.figures and not result.statuses:
        lines.append("no figures or statuses found")
        return "\n".join(lines)
    if result.figures:
        lines.append("")
        lines.append(f"{'metric':<22} {'dims':<28} {'value':>15} {'unit':<8} {'bound':<9} as_of")
        for f in result.figures:
            dims = ",".join(f"{k}={v}" for k, v in sorted(f.dims.items())) or "-"
            value = f"{f.value:,}".replace(",", " ")
            lines.append(
                f"{f.metric:<22} {dims:<28} {value:>15} {f.unit:<8} {f.bound:<9} {f.as_of or '-'}"
            )
            lines.append(f"    “{_short(f.evidence)}”")
    if result.statuses:
        lines.append("")
        lines.append(f"{'counterparty':<13} {'status':<16} current")
        for s in result.statuses:
            lines.append(f"{s.counterparty:<13} {s.status:<16} {'yes' if s.current else ''}")
            lines.append(f"    “{_short(s.evidence)}”")
    return "\n".join(lines)


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- monitoring: run, changes, history, sources, reextract ---------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _sources(args: argparse.Namespace) -> tuple[list[Source], list[str]]:
    """The sources that load, and one line for each file that does not."""
    from .sources import SourceError, load_sources

    try:
        sources, errors = load_sources(args.sources)
    except SourceError as exc:
        raise UserError(str(exc)) from None
    return sources, [str(e) for e in errors]


def _db(args: argparse.Namespace) -> sqlite_utils.Database:
    from . import store

    try:
        return store.connect(args.db)
    except store.StoreError as exc:
        raise UserError(str(exc)) from None


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_run(args: argparse.Namespace) -> int:
    from . import store

    settings = _settings(args)
    if args.rules is not None and not args.rules.is_dir():
        raise UserError(f"{args.rules}: no such rules folder")
    sources, errors = _sources(args)
    for line in errors:
        print(f"monitor: error: {line}", file=sys.stderr)
    if args.source and not any(s.name == args.source for s in sources):
        raise UserError(f"{args.sources}: no source named {args.source!r}")
    with store.run_lock(args.db):
        db = _db(args)
        summary = asyncio.run(_run(settings, sources, lambda: _load_rules(args), db, args))
        for outcome in summary.outcomes:
            if not outcome.ok:
                print(f"  {outcome.name}: {_printable(outcome.error)}", file=sys.stderr)
            for error in outcome.article_errors:
                print(f"  {outcome.name}: {_printable(error)}", file=sys.stderr)
        print(summary.line())
        if not args.no_notify:
            _notify(args, settings, db)
    return 1 if errors else 0


def _printable(text: str | None) -> str:
    """A message that may quote what a server sent, safe for a terminal."""
    return "".join(c if c.isprintable() else "?" for c in text or "")


async def _run(
    settings: Settings,
    sources: list[Source],
    rules: Callable[[], Rules],
    db: sqlite_utils.Database,
    args: argparse.Namespace,
) -> RunSummary:
    """One cycle; `rules` loads the rules when the first article is extracted (a cycle of
    304s compiles none)."""
    from .fetch import Fetcher, FetchPolicy
    from .pipeline import run_once

    tty = sys.stderr.isatty()
    shown = False

    def progress(outcome: SourceOutcome, done: int, total: int) -> None:
        """On a terminal only: one line, rewritten as each source is fetched."""
        nonlocal shown
        if tty:
            state = "ok" if outcome.ok else "failed"
            name = outcome.name[:40]
            print(f"\r[{done}/{total}] {name}: {state}\033[K", end="", file=sys.stderr)
            shown = True

    async with Fetcher(FetchPolicy(**settings.fetch)) as fetcher:
        summary = await run_once(
            sources,
            rules,
            db,
            fetcher,
            _now(),
            only=args.source,
            force=args.all,
            progress=progress,
        )
    if shown:
        print("\r\033[K", end="", file=sys.stderr)
    return summary


def _watched(args: argparse.Namespace) -> list[Source] | None:
    """The sources whose health a digest reports; None when the folder cannot be read (the
    digest then tells only the failures the store knows)."""
    try:
        return _sources(args)[0]
    except UserError:
        return None


def _notify(args: argparse.Namespace, settings: Settings, db: sqlite_utils.Database) -> None:
    """Send the queued changes when channels are configured (digests: monitor.notify)."""
    if settings.email is None and settings.slack is None:
        return
    from .notify import deliver

    for result in deliver(db, settings, _now(), sources=_watched(args)):
        if not result.ok:
            print(f"monitor: error: {result.error}", file=sys.stderr)


def _change_line(change: dict[str, Any]) -> dict[str, Any]:
    """A change in the SPEC's JSON shape (extra keys after the contract's own)."""
    keys = ["kind"]
    keys += ["metric", "dims"] if change["kind"] == "figure" else ["counterparty"]
    keys += ["old", "new", "as_of", "sources", "detected_at"]
    out = {k: change.get(k) for k in keys}
    for extra in ("unit", "first_seen", "found_by", "evidence"):
        if extra in change:
            out[extra] = change[extra]
    return out


def cmd_changes(args: argparse.Namespace) -> int:
    from . import store

    db = _db(args)
    changes = store.changes(db, since=args.since)
    if args.json:
        for change in changes:
            print(json.dumps(_change_line(change), ensure_ascii=False))
        return 0
    if not changes:
        print("no changes recorded")
        return 0
    for c in changes:
        what = c["metric"] if c["kind"] == "figure" else f"agreement with {c['counterparty']}"
        dims = ",".join(f"{k}={v}" for k, v in sorted((c.get("dims") or {}).items()))
        old = "first seen" if c.get("old") is None else _human(c["old"])
        print(
            f"{c['detected_at'][:16]}  {what}{' ' + dims if dims else ''}: {old} -> "
            f"{_human(c['new'])} (as of {c.get('as_of') or '?'})"
        )
        for url in c.get("sources", []):
            print(f"    {url}")
    return 0


def _human(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}".replace(",", " ") if isinstance(value, int | float) else str(value)


def _dims(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UserError(f"--dims: expected key=value, got {item!r}")
        out[key] = value
    return out


def cmd_history(args: argparse.Namespace) -> int:
    from . import store

    if not args.metric:
        for row in store.series(_db(args)):
            line = {k: row.get(k) for k in ("metric", "dims", "value", "unit", "as_of")}
            if args.json:
                print(json.dumps(line, ensure_ascii=False))
            else:
                dims = ",".join(f"{k}={v}" for k, v in sorted(row["dims"].items())) or "-"
                print(
                    f"{row['metric']:<22} {dims:<30} {_human(row['value']):>15} {row.get('as_of')}"
                )
        return 0
    dims = _series_dims(args)
    rows = store.history(_db(args), args.metric, dims)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print("no history for this series")
    for row in rows:
        when = row.get("as_of") or row.get("ref_end")
        print(f"{when}  {_human(row['value'])} {row.get('unit') or ''}")
        for src in row.get("sources", []):
            url = src.get("url") if isinstance(src, dict) else src
            print(f"    {url}")
    return 0


def _series_dims(args: argparse.Namespace) -> dict[str, str]:
    """The --dims of `history METRIC`, checked against the metric's own dims."""
    rules = _load_rules(args)
    if args.metric not in rules.metrics:
        close = difflib.get_close_matches(args.metric, list(rules.metrics), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UserError(
            f"unknown metric {args.metric!r} ({hint}one of: {', '.join(sorted(rules.metrics))})"
        )
    dims = _dims(args.dims)
    known = rules.metrics[args.metric].dims
    for key in dims:
        if key not in known:
            has = f"its dims: {', '.join(known)}" if known else "it has no dims"
            raise UserError(f"--dims: {args.metric} has no dim {key!r} ({has})")
    return dims


def cmd_sources_list(args: argparse.Namespace) -> int:
    from . import store

    sources, errors = _sources(args)
    db = _db(args)
    print(
        f"{'source':<28} {'kind':<5} {'lang':<4} {'last fetch':<17} {'status':<8} "
        f"{'fails':>5} {'items':>6}  newest"
    )
    for source in sources:
        state = store.source_state(db, source.name) or {}
        last = (state.get("last_fetch") or "never")[:16]
        status = "-"
        if state:
            status = "failing" if state.get("failures") else "ok"
            if status == "ok" and state.get("last_error"):
                status = "partial"  # fetched fine, some articles failed
        print(
            f"{source.name[:28]:<28} {source.kind:<5} {source.language or '-':<4} {last:<17} "
            f"{status:<8} {state.get('failures') or 0:>5} {state.get('items') or 0:>6}  "
            f"{(state.get('newest_item') or '-')[:10]}"
        )
    given_up = store.given_up_articles(db)
    names = [s.name for s in sources if s.name in given_up]
    if names:
        print("\narticles given up (asked again only when their feed entry changes):")
    for name in names:
        for failure in given_up[name]:
            runs = f"{failure.attempts} run{'s' if failure.attempts > 1 else ''}"
            print(f"  {name}: {failure.error} ({runs}, last {failure.last_failed[:16]})")
    for line in errors:
        print(f"monitor: error: {line}", file=sys.stderr)
    return 1 if errors else 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    sources, errors = _sources(args)
    for line in errors:
        print(f"monitor: error: {line}", file=sys.stderr)
    results = asyncio.run(_check(settings, sources))
    failed = 0
    for source, (items, error) in zip(sources, results, strict=True):
        if error:
            failed += 1
            print(f"{source.name}: FAILED: {error}")
            continue
        print(f"{source.name}: ok, {len(items)} items")
        for item in items[:3]:
            print(f"    {item.published or '':<10.10} {item.url}")
    print(f"sources: {len(sources) - failed} ok, {failed} failed")
    return 1 if errors or failed else 0


async def _check(settings: Settings, sources: list[Source]) -> list[tuple[list[Item], str | None]]:
    from .feeds import FeedError
    from .fetch import Fetcher, FetchPolicy
    from .pipeline import _items

    async with Fetcher(FetchPolicy(**settings.fetch)) as fetcher:

        async def one(source: Source) -> tuple[list[Item], str | None]:
            response = await fetcher.get(source.url, headers=source.headers)
            if response.error:
                return [], response.error
            try:
                items = _items(source, response)
            except FeedError as exc:
                return [], str(exc)
            if not items and source.kind == "html":
                return [], f"{source.url}: no article links found ({source.links})"
            return items, None

        return await asyncio.gather(*(one(s) for s in sources))


def cmd_reextract(args: argparse.Namespace) -> int:
    from . import store

    rules = _load_rules(args)
    with store.run_lock(args.db):
        db = _db(args)

        def extract(text: str, lang: str | None, published: str | None) -> Extraction:
            return extract_text(text, rules, lang=lang, published=published)

        counts = store.reextract(db, extract, _now().isoformat(timespec="seconds"))
    print(
        f"re-extracted {counts['articles']} articles: {counts['figures']} figures, "
        f"{counts['statuses']} statuses, {counts['new_changes']} new changes "
        "(marked as found by re-extraction)"
    )
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    rules = _load_rules(args)
    gaps = coverage_gaps(rules)
    n_examples = sum(len(v) for v in rules.examples.values())
    print(
        f"{rules.path}: ok: {len(rules.metrics)} metrics, {len(rules.statuses.order)} statuses, "
        f"{len(rules.vocabs)} vocabularies, {n_examples} examples"
    )
    for gap in gaps:
        print(f"  note: {gap}")
    return 0


def coverage_gaps(rules: Rules) -> list[str]:
    """Cue groups and statuses that have no pattern in some language."""
    gaps = []
    for name, by_lang in rules.cues.groups.items():
        missing = [lang for lang, rx in by_lang.items() if rx is None]
        if missing:
            gaps.append(f"cues.toml: {name}: no patterns for {', '.join(missing)}")
    for name, by_lang in rules.statuses.triggers.items():
        missing = [lang for lang, rx in by_lang.items() if rx is None]
        if missing:
            gaps.append(f"statuses.toml: status.{name}: no patterns for {', '.join(missing)}")
    return gaps


def cmd_daemon(args: argparse.Namespace) -> int:
    import logging

    from .daemon import Paths, serve

    settings = _settings(args)
    _load_rules(args)  # fail now, not at the first run
    _, broken = _sources(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for line in broken:
        logging.getLogger("monitor.daemon").error("source skipped: %s", line)
    serve(settings, Paths(db=args.db, sources=args.sources, rules=args.rules))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from .notify import deliver, preview

    settings = _settings(args)
    db = _db(args)
    watched = _watched(args)
    results = deliver(db, settings, _now(), dry_run=args.dry_run, sources=watched)
    if not results and args.dry_run:
        text = preview(db, settings=settings, now=_now(), sources=watched)
        print(text or "nothing to send")
        print("(no channels configured: [email] or [slack] in the config)", file=sys.stderr)
        return 0
    failed = 0
    for result in results:
        if args.dry_run and result.text:
            print(result.text)
        elif result.ok:
            print(f"{result.channel}: {result.detail}")
        else:
            failed += 1
            print(f"monitor: error: {result.error}", file=sys.stderr)
    if not results:
        print("no channels configured ([email] or [slack] in the config)")
    return 1 if failed else 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    from .notify import notify_test

    results = notify_test(_settings(args))
    if not results:
        print("no channels configured ([email] or [slack] in the config)")
        return 1
    failed = 0
    for result in results:
        if result.ok:
            print(f"{result.channel}: ok")
        else:
            failed += 1
            print(f"monitor: error: {result.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_site(args: argparse.Namespace) -> int:
    from .publish import SiteError, write_site

    settings = _settings(args)
    outdir = args.outdir or settings.site.outdir
    if outdir is None:
        raise UserError("site: no OUTDIR given and no [site] outdir in the config")
    db = _db(args)
    try:
        summary = write_site(
            db, outdir, title=settings.site.title, base_url=settings.site.base_url, now=_now()
        )
    except SiteError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {outdir}: {summary}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.out)


def _one_line_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input or configuration: one line on stderr, exit 2. A
    module that cannot be imported (its package missing) has raised none of them."""
    errors: list[type[Exception]] = [UserError, RulesError, ConfigError]
    for module, name in (
        ("fetch", "FetchError"),
        ("sources", "SourceError"),
        ("store", "StoreError"),
    ):
        try:
            errors.append(getattr(importlib.import_module(f".{module}", __package__), name))
        except ImportError:
            continue
    return tuple(errors)


COMMANDS = {
    ("extract", None): cmd_extract,
    ("run", None): cmd_run,
    ("changes", None): cmd_changes,
    ("history", None): cmd_history,
    ("sources", "list"): cmd_sources_list,
    ("sources", "check"): cmd_sources_check,
    ("reextract", None): cmd_reextract,
    ("digest", None): cmd_digest,
    ("site", None): cmd_site,
    ("daemon", None): cmd_daemon,
    ("notify-test", None): cmd_notify_test,
    ("demo", None): cmd_demo,
    ("rules", "check"): cmd_rules_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    action = getattr(args, f"{args.command}_command", None) if args.command else None
    command = COMMANDS.get((args.command, action))
    try:
        if command is not None:
            status = command(args)
            sys.stdout.flush()  # a closed pipe is found here, inside the handler below
            return status
        if args.command is not None:
            parser.parse_args([args.command, "--help"])
        parser.print_help()
        return 0 if args.command is None else 2
    except BrokenPipeError:
        # `monitor changes | head`: the reader left; say nothing more on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == __package__:
            raise
        print(
            f"monitor: error: the Python package {exc.name!r} is not installed: "
            "install the monitor with `pip install -e .` (see README)",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        if not isinstance(exc, _one_line_errors()):
            raise
        print(f"monitor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
