"""The `monitor` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from . import __version__
from .extract import Extraction, extract_text
from .fetch import FetchError
from .patterns import RulesError
from .rules import Rules, load_rules


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
        from .fetch import fetch_url

        data, content_type = fetch_url(source)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            return cmd_extract(args)
        if args.command == "rules" and args.rules_command == "check":
            return cmd_rules_check(args)
        if args.command == "rules":
            parser.parse_args(["rules", "--help"])
        parser.print_help()
        return 0 if args.command is None else 2
    except (UserError, RulesError, FetchError) as exc:
        print(f"monitor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
