"""Agreement statuses of one article: which state each status trigger speaks of, which of
them are told as earlier events, and which one holds at publication for each state.

The triggers and guards of one sentence are statuses.py's; this module reads them across
the sentences of an article: the state a sentence names, or that the sentence before it or
the article's other statuses are about, and the dates that put an event in the past.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from .dates import DateRef, find_dates
from .rules import Hit, Rules
from .spans import Span, clause_breaks, grouped, owner_of
from .statuses import StatusRules, current_status, find_triggers, is_labour_text
from .text import Sentence

MAX_EVIDENCE = 600


@dataclass(frozen=True)
class Status:
    counterparty: str
    status: str
    current: bool
    lang: str
    evidence: str
    as_of: str | None = None

    def __reduce__(self) -> tuple[type[Status], tuple[Any, ...]]:
        # pickled by its fields, as extract.Figure is
        return (Status, tuple(getattr(self, f.name) for f in fields(self)))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "status",
            "counterparty": self.counterparty,
            "status": self.status,
            "current": self.current,
            "as_of": self.as_of,
            "lang": self.lang,
            "evidence": self.evidence,
        }


def read_statuses(
    rules: Rules, sents: list[Sentence], lang: str, published: str | None
) -> list[Status]:
    """Every agreement status the sentences of one article tell, each state's `current` one
    marked (statuses.py has the triggers and guards of one sentence)."""
    srules = rules.statuses
    if not any(is_labour_text(srules, s.text, s.lang) for s in sents):
        return []
    mentions: dict[str, list[tuple[str, int, bool, Sentence, str | None]]] = {}
    context: tuple[int, list[str]] | None = None
    pub_year = int(published[:4]) if published else None
    said = -2  # the index of the last sentence about an agreement or talks
    for index, sent in enumerate(sents):
        subject = srules.subject.get(sent.lang)
        question = sent.text.rstrip().endswith("?")
        pronoun = srules.pronoun.get(sent.lang)
        continued = False
        if not question and not (
            subject and srules.says("status-subject", subject, sent.text, sent.lang)
        ):
            # "Talks were paused in December. But in September they resumed"
            continued = (
                said == index - 1
                and pronoun is not None
                and srules.says("status-pronoun", pronoun, sent.text, sent.lang)
            )
        elif not question:
            said = index
        if question or (said != index and not continued):
            if question:
                # "How are the talks with Korea going?" asks, it does not tell a status; the
                # answer speaks of the state it names
                asked = [
                    h.value
                    for h in rules.find_vocab("country", sent.text, sent.lang)
                    if h.value != "KZ"
                ]
                if asked:
                    context = (index, list(dict.fromkeys(asked)))
            continue
        all_hits = rules.find_vocab("country", sent.text, sent.lang)
        named = []
        for h in all_hits:
            if h.value != "KZ" and h.value not in named:
                named.append(h.value)
        triggers = find_triggers(srules, sent.text, sent.lang, continued=continued)
        if triggers:
            parties = named or _context_parties(rules, sents, index, context)
            if not parties and len(mentions) == 1:
                # "Q: Has an agreement been signed? A: Not yet. But negotiators initialled the
                # text": far from any name, the one state the article's statuses are about
                parties = list(mentions)
            dates = find_dates(rules.dates, sent.text, sent.lang, published)
            kz_named = any(h.value == "KZ" for h in all_hits)
            hits = [h for h in all_hits if h.value != "KZ"]
            owners = [_trigger_of(sent.text, h, triggers) for h in hits]
            for n, t in enumerate(triggers):
                year = _event_year(sent.text, t.start, t.end, dates)
                historical = year is not None and (pub_year is None or year < pub_year)
                historical = historical or _told_as_earlier(srules, sent, t)
                own = [h.value for h, o in zip(hits, owners, strict=True) if o == n]
                relative = [h.value for h in hits if _RELATIVE.fullmatch(sent.text, h.end, t.start)]
                if relative:
                    own = relative  # "an agreement with Hungary, which took effect in March"
                if len(set(own)) > 1 and not kz_named and len(_lists(sent.text, hits, own)) > 1:
                    continue  # "Узбекистан подписал меморандум с Кореей": not our agreement
                if not own:
                    # "a memorandum with Lithuania, signed in 2022, was cancelled": a trigger
                    # naming no country of its own takes the nearest by clause, unless another
                    # trigger has it
                    free = [
                        (b, h.value)
                        for h, o in zip(hits, owners, strict=True)
                        if (b := clause_breaks(sent.text, h, t)) == 0 or o is None
                    ]
                    fewest = min((b for b, _ in free), default=0)
                    own = [cp for b, cp in free if b == fewest]
                    if not own and len(set(named)) == 1:
                        # "With Germany we signed a declaration in 2024; now we are
                        # negotiating the agreement itself": the one state of the sentence
                        own = list(named)
                for cp in dict.fromkeys(own) or ([] if named else parties):
                    mentions.setdefault(cp, []).append(
                        (
                            t.status,
                            index * 10000 + t.start,
                            historical,
                            sent,
                            str(year) if year else None,
                        )
                    )
        if named:
            context = (index, named)
    out: list[Status] = []
    for cp, items in mentions.items():
        current = current_status(srules, [(s, pos, hist) for s, pos, hist, _, _ in items])
        seen: dict[str, tuple[Sentence, str | None]] = {}
        for status, _, _, sent, told in items:
            seen[status] = (sent, told)
        for status, (sent, told) in seen.items():
            evidence = sent.text if len(sent.text) <= MAX_EVIDENCE else sent.text[:MAX_EVIDENCE]
            out.append(Status(cp, status, status == current, lang, evidence, told or published))
    return out


def _context_parties(
    rules: Rules, sents: list[Sentence], index: int, context: tuple[int, list[str]] | None
) -> list[str]:
    """The states a status sentence naming none speaks of: those of the nearest agreement
    sentence (or question) at most `context_sentences` before, or of a nearer sentence that
    names exactly one ("The UK took 3,000 workers this year. The text of the agreement is under
    discussion"); none when the nearest sentence naming states names several."""
    srules = rules.statuses
    for back in range(index - 1, max(-1, index - srules.context_sentences - 1), -1):
        if context and context[0] == back:
            return context[1]
        sent = sents[back]
        named = {h.value for h in rules.find_vocab("country", sent.text, sent.lang)} - {"KZ"}
        if named:
            return list(named) if len(named) == 1 else []
    return []


# a relative pronoun right after a state's name: the clause it opens tells of that state
_RELATIVE = re.compile(
    r"\s*,?\s*(?:which|that|whose|где|котор(?:ый|ое|ая|ые|ого|ой|ым|ом)|чье|чей|чья)\s+"
    r"(?:\w+\s+){0,3}",
    re.I,
)


def _trigger_of(text: str, hit: Hit, triggers: Sequence[Span]) -> int | None:
    """The status trigger a country belongs to: one in its own clause ("Korea resumed talks
    as the UK scheme was scrapped": Korea resumed, the UK scrapped), the nearer by punctuation
    when several are; none when a clause break parts it from every trigger."""
    for n, t in enumerate(triggers):
        if t.start <= hit.start and hit.end <= t.end:
            return n
    breaks = [clause_breaks(text, hit, t) for t in triggers]
    fewest = min(breaks, default=1)
    if fewest:
        return None
    near = [n for n, b in enumerate(breaks) if b == 0]
    pick = owner_of(text, hit.start, hit.end, [triggers[n] for n in near])
    return near[pick] if pick is not None else None


def _lists(text: str, hits: list[Hit], values: list[str]) -> set[tuple[int, int]]:
    """The separate lists ("Turkiye, the UAE and the UK") the named countries stand in."""
    return {span for h, span in grouped(text, hits) if h.value in values}


_CLAUSE_PART = re.compile(r"[,;:]")  # the bounds of a clause, for dating an event
_SENTENCE_PART = re.compile(r"[;:]")  # of a part of a sentence, for "previously"


def _clause(text: str, start: int, end: int, bounds: re.Pattern[str]) -> tuple[int, int]:
    """The stretch around text[start:end] up to the nearest `bounds` on either side."""
    left = max((m.end() for m in bounds.finditer(text, 0, start)), default=0)
    right_m = bounds.search(text, end)
    return left, right_m.start() if right_m else len(text)


def _told_as_earlier(srules: StatusRules, sent: Sentence, t: Span) -> bool:
    """ "Бұған дейін келіссөздер тоқтатылған болатын", "Previously, talks were paused": the
    part of the sentence with the trigger tells an event before the article's news; or the
    clause before the trigger opens with "after" (`earlier_clause`)."""
    rx = srules.earlier.get(sent.lang)
    if rx is not None:
        left, right = _clause(sent.text, t.start, t.end, _SENTENCE_PART)
        if srules.first("status-earlier", rx, sent.text, sent.lang, left, right) is not None:
            return True
    # "..., after the old one was denounced": the clause before the trigger says "after"
    rx = srules.earlier_clause.get(sent.lang)
    if rx is None:
        return False
    left, _ = _clause(sent.text, t.start, t.end, _CLAUSE_PART)
    found = srules.first("status-earlier-clause", rx, sent.text, sent.lang, left, t.start)
    return found is not None


def _event_year(text: str, start: int, end: int, dates: list[DateRef]) -> int | None:
    """The year of a status event when its clause dates it ("signed in 2019")."""
    left, right = _clause(text, start, end, _CLAUSE_PART)
    for d in dates:
        if left <= d.start and d.end <= right and d.value and not d.comparison:
            return int(d.value[:4])
    return None
