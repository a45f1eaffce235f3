"""Agreement statuses: triggers, guards against negated or planned statements, and the
choice of the status that holds at publication (see rules/statuses.toml)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .patterns import (
    LANGS,
    PrefixTable,
    RulesError,
    anchored_cover,
    check_keys,
    folded,
    holds_one,
    matches,
    per_lang,
    required_strings,
    search_at,
    str_list,
    union,
)

# Clause boundaries for guards: punctuation, and conjunctions that start a new clause.
_CLAUSE = re.compile(
    r"[,;:()\"]|\s-\s|\b(?:but|however|while|whereas|но|однако|а|бірақ|алайда)\b", re.I
)


_WORD_END = re.compile(r"\w*")


@dataclass(frozen=True)
class StatusRules:
    order: list[str]
    triggers: dict[str, dict[str, re.Pattern[str] | None]]
    guards_of: dict[str, list[str]]
    guards_before: dict[str, dict[str, re.Pattern[str] | None]]
    guards_after: dict[str, dict[str, re.Pattern[str] | None]]
    guards_word: dict[str, dict[str, re.Pattern[str] | None]]
    subject: dict[str, re.Pattern[str] | None]
    labour: dict[str, re.Pattern[str] | None]
    topic_veto: dict[str, re.Pattern[str] | None]
    # "previously", "бұған дейін": an event told as earlier than the article's news
    earlier: dict[str, re.Pattern[str] | None]
    # "они", "олар", "they": the talks of the sentence just before, in a sentence that does
    # not name them again ("Бірақ биыл қыркүйекте олар қайта басталды")
    pronoun: dict[str, re.Pattern[str] | None]
    # "опровергли сообщения о том, что соглашение заключено": what a denial reports is not so
    denial: dict[str, re.Pattern[str] | None]
    context_sentences: int
    window: int
    talk_phase: list[str]
    # lang -> the covers of the subject ("status-subject") and the triggers ("status:<name>"),
    # and where they may start (load_rules shares one table per language among all the rules)
    covers: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    tables: dict[str, PrefixTable] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # status -> its name in `tables`
    # lang -> name -> for a searched pattern without a cover, strings one of which each of
    # its matches holds (None: not known)
    required: dict[str, dict[str, frozenset[str] | None]] = field(default_factory=dict)
    # "after": opens a clause that tells an event before the sentence's news
    earlier_clause: dict[str, re.Pattern[str] | None] = field(default_factory=dict)

    def prefix_covers(self, lang: str) -> dict[str, frozenset[str]]:
        return dict(self.covers.get(lang, {}))

    def finds(
        self, name: str, rx: re.Pattern[str], text: str, lang: str
    ) -> Iterable[re.Match[str]]:
        """`rx.finditer(text)` for the pattern `name` of `tables`, tried only where it may start."""
        table = self.tables.get(lang)
        if table is not None and name in self.covers.get(lang, {}):
            return matches(rx, text, table.candidates(text).get(name, ()))
        if not holds_one(self.required.get(lang, {}).get(name), folded(text)):
            return ()
        return rx.finditer(text)

    def says(self, name: str, rx: re.Pattern[str], text: str, lang: str) -> bool:
        """Whether `rx` matches somewhere in `text` (`rx.search`), through `tables`."""
        return self.first(name, rx, text, lang) is not None

    def first(
        self,
        name: str,
        rx: re.Pattern[str],
        text: str,
        lang: str,
        start: int = 0,
        end: int | None = None,
    ) -> re.Match[str] | None:
        """`rx.search(text, start, end)` for the pattern `name`: tried only where `tables`
        says it may start, or for a pattern without a cover, only in a text holding one of
        the strings its matches need (`required`)."""
        table = self.tables.get(lang)
        if table is not None and name in self.covers.get(lang, {}):
            return search_at(rx, text, table.candidates(text).get(name, []), start, end)
        if not holds_one(self.required.get(lang, {}).get(name), folded(text)):
            return None
        return rx.search(text, start, len(text) if end is None else end)


def compile_statuses(data: dict[str, Any], file: str) -> StatusRules:
    check_keys(
        data,
        [
            "description",
            "context_sentences",
            "window",
            "talk_phase",
            "subject",
            "labour",
            "topic_veto",
            "earlier",
            "earlier_clause",
            "pronoun",
            "denial",
            "status",
            "guards",
            "example",
        ],
        file,
        "",
    )
    guards_before: dict[str, dict[str, re.Pattern[str] | None]] = {}
    guards_after: dict[str, dict[str, re.Pattern[str] | None]] = {}
    guards_word: dict[str, dict[str, re.Pattern[str] | None]] = {}
    for name, table in data.get("guards", {}).items():
        keys = [f"{lang}_{side}" for lang in LANGS for side in ("before", "after", "word")]
        check_keys(table, keys, file, f"guards.{name}")
        guards_before[name] = per_lang(table, file, f"guards.{name}", suffix="_before")
        guards_after[name] = per_lang(table, file, f"guards.{name}", suffix="_after")
        guards_word[name] = {
            lang: union(
                str_list(table, f"{lang}_word", file, f"guards.{name}"),
                file,
                f"guards.{name}.{lang}_word",
                anchor=False,
                suffix="$",
            )
            for lang in LANGS
        }
    triggers, guards_of = {}, {}
    statuses = data.get("status", {})
    if not statuses:
        raise RulesError(file, "status", "no statuses defined")
    for name, table in statuses.items():
        check_keys(table, [*LANGS, "guards"], file, f"status.{name}")
        triggers[name] = per_lang(table, file, f"status.{name}")
        guards_of[name] = str_list(table, "guards", file, f"status.{name}")
        for guard in guards_of[name]:
            if guard not in guards_before:
                raise RulesError(file, f"status.{name}.guards", f"unknown guard group {guard!r}")
    talk_phase = str_list(data, "talk_phase", file, "")
    for name in talk_phase:
        if name not in triggers:
            raise RulesError(file, "talk_phase", f"unknown status {name!r}")
    rules = StatusRules(
        order=list(statuses),
        triggers=triggers,
        guards_of=guards_of,
        guards_before=guards_before,
        guards_after=guards_after,
        guards_word=guards_word,
        subject=per_lang(data.get("subject", {}), file, "subject"),
        labour=per_lang(data.get("labour", {}), file, "labour"),
        topic_veto=per_lang(data.get("topic_veto", {}), file, "topic_veto"),
        earlier=per_lang(data.get("earlier", {}), file, "earlier"),
        earlier_clause=per_lang(data.get("earlier_clause", {}), file, "earlier_clause"),
        pronoun=per_lang(data.get("pronoun", {}), file, "pronoun"),
        denial=per_lang(data.get("denial", {}), file, "denial"),
        context_sentences=int(data.get("context_sentences", 4)),
        window=int(data.get("window", 45)),
        talk_phase=talk_phase,
    )
    covers = {}
    required: dict[str, dict[str, frozenset[str] | None]] = {}
    for lang in LANGS:
        named = {f"status:{name}": by_lang.get(lang) for name, by_lang in triggers.items()}
        for name, by_lang in _SEARCHED.items():
            named[name] = getattr(rules, by_lang).get(lang)
        found = {name: anchored_cover(rx) for name, rx in named.items() if rx is not None}
        covers[lang] = {name: cover for name, cover in found.items() if cover is not None}
        required[lang] = {
            name: required_strings(rx.pattern, rx.flags)
            for name, rx in named.items()
            if rx is not None and found[name] is None
        }
    tables = {lang: PrefixTable.of(covers[lang]) for lang in LANGS}
    names = {status: f"status:{status}" for status in rules.order}
    return replace(rules, covers=covers, tables=tables, names=names, required=required)


# the patterns searched for in whole sentences or clauses, by their names in `tables`
_SEARCHED = {
    "status-subject": "subject",
    "status-labour": "labour",
    "status-veto": "topic_veto",
    "status-denial": "denial",
    "status-pronoun": "pronoun",
    "status-earlier": "earlier",
    "status-earlier-clause": "earlier_clause",
}


@dataclass(init=False, unsafe_hash=True)
class Trigger:
    # made for every trigger found: its __init__ written out, as text.Sentence's is
    status: str
    start: int
    end: int

    def __init__(self, status: str, start: int, end: int) -> None:
        self.status = status
        self.start = start
        self.end = end


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): between punctuation or clause-opening conjunctions."""
    left = 0
    for m in _CLAUSE.finditer(text, 0, start):
        left = m.end()
    right_m = _CLAUSE.search(text, end)
    return left, right_m.start() if right_m else len(text)


def _guarded(rules: StatusRules, status: str, lang: str, text: str, start: int, end: int) -> bool:
    left, right = clause_bounds(text, start, end)
    # the words of a long trigger before its last one count as before it: "переговоры с
    # саудовской стороной не ведутся" is negated inside the phrase
    inner = text.rfind(" ", start, end)
    before = text[max(left, start - rules.window) : inner + 1 if inner > start else start]
    after = text[end : min(right, end + rules.window)]
    word_end = _WORD_END.match(text, end)
    last_word = text[start : word_end.end() if word_end else end].split()[-1:]
    for guard in rules.guards_of[status]:
        rx = rules.guards_word[guard].get(lang)
        if rx and last_word and rx.search(last_word[0]):
            return True  # Kazakh negation inside the verb: "ратификацияланбаған"
        rx = rules.guards_before[guard].get(lang)
        if rx and rx.search(before):
            return True
        rx = rules.guards_after[guard].get(lang)
        if rx and rx.search(after):
            return True
    return False


def _labour_said(rules: StatusRules, text: str, lang: str) -> bool:
    """Whether the sentence speaks of labour, not only to deny it: "an agreement on
    visa-free travel, which does not give the right to take up employment" is not one."""
    labour = rules.labour.get(lang)
    if labour is None:
        return False
    negation = rules.guards_before.get("negation", {}).get(lang)
    for m in rules.finds("status-labour", labour, text, lang):
        left, _ = clause_bounds(text, m.start(), m.end())
        before = text[max(left, m.start() - rules.window) : m.start()]
        if negation is None or not negation.search(before):
            return True
    return False


def find_triggers(
    rules: StatusRules, text: str, lang: str, *, continued: bool = False
) -> list[Trigger]:
    """Unguarded status triggers in one sentence that speaks of an agreement or talks
    (`continued`: of the talks of the sentence before, by a pronoun)."""
    subject = rules.subject.get(lang)
    if not continued and (not subject or not rules.says("status-subject", subject, text, lang)):
        return []
    veto = rules.topic_veto.get(lang)
    if veto and rules.says("status-veto", veto, text, lang) and not _labour_said(rules, text, lang):
        return []
    found: list[Trigger] = []
    for status in rules.order:
        rx = rules.triggers[status].get(lang)
        if not rx:
            continue
        for m in rules.finds(rules.names[status], rx, text, lang):
            if not _guarded(rules, status, lang, text, m.start(), m.end()):
                found.append(Trigger(status, m.start(), m.end()))
    denial = rules.denial.get(lang)
    denied = rules.first("status-denial", denial, text, lang) if denial else None
    if denied:
        found = [t for t in found if t.start < denied.start()]
    # one status per stretch of text: of overlapping triggers the more specific (later in
    # the lifecycle) wins, so "келіссөздер қайта басталды" is resumed, not negotiating
    found.sort(key=lambda t: t.start)
    kept: list[Trigger] = []
    for t in found:
        if kept and t.start < kept[-1].end:
            if rules.order.index(t.status) > rules.order.index(kept[-1].status):
                kept[-1] = t
            continue
        kept.append(t)
    return kept


def is_labour_text(rules: StatusRules, text: str, lang: str) -> bool:
    rx = rules.labour.get(lang)
    return rx is not None and rules.says("status-labour", rx, text, lang)


def current_status(rules: StatusRules, mentions: list[tuple[str, int, bool]]) -> str:
    """The status that holds now among (status, position, historical) mentions.

    Dated past events give way to undated ones. Then the furthest along the lifecycle wins,
    except that negotiating, paused and resumed replace each other in the order told.
    """
    live = [m for m in mentions if not m[2]] or mentions
    phase_rank = min((rules.order.index(s) for s in rules.talk_phase), default=0)

    def rank(item: tuple[str, int, bool]) -> tuple[int, int]:
        status, position, _ = item
        r = phase_rank if status in rules.talk_phase else rules.order.index(status)
        return r, position

    return max(live, key=rank)[0]


__all__ = [
    "StatusRules",
    "Trigger",
    "compile_statuses",
    "current_status",
    "find_triggers",
    "is_labour_text",
]
