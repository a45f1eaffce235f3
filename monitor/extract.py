"""Extraction: figures and agreement statuses from the text of one article.

For every sentence: find its quantities (numbers.py) and reference dates (dates.py), the cue
groups and vocabulary values it names (rules.py), then bind each quantity to a metric and its
dims. A word between two numbers belongs to the one it is not cut off from by punctuation
("Uzbekistan (1,900), Turkey (1,100)": Turkey goes right; "102,000 in Russia, 15,000 in
Korea": Russia goes left). A sentence without a metric of its own continues the metric of the
sentence just before when it says "of them" or names a value of that metric's dims
("15 тыс. находятся в Южной Корее."). Statuses come from agreements.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .agreements import MAX_EVIDENCE, Status, read_statuses
from .dates import DateRef, find_dates
from .numbers import Quantity, Value, find_quantities, may_hold_quantity
from .patterns import folded
from .rules import Hit, Metric, Rules
from .spans import SEPARATOR, At, Span, clause_breaks, grouped, owner_of
from .text import Sentence, detect_language, normalize, sentences

CARRY_SENTENCES = 2
_CONVERSION = re.compile(
    r"^\s*\(\s*(?:or\s+|≈\s*|about\s+|около\s+|шамамен\s+)?(?:[$€₸₽]|US\$|USD|KZT|EUR)?\s*$", re.I
)
_DETACHED = 10_000  # penalty for an anchor that belongs to another number of the sentence
_UNIT_NOUNS = {"persons": "noun_persons", "cases": "noun_cases", "visas": "noun_visas"}


@dataclass(frozen=True)
class Figure:
    metric: str
    dims: dict[str, str]
    value: Value
    unit: str
    bound: str
    as_of: str | None
    lang: str
    evidence: str
    value_max: Value | None = None

    def __reduce__(self) -> tuple[type[Figure], tuple[Any, ...]]:
        # pickled by its fields (the run's spool keeps extractions in a file): a class
        # compiled by mypyc (hatch_build.py) cannot be unpickled attribute by attribute
        return (Figure, tuple(getattr(self, f.name) for f in fields(self)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "figure",
            "metric": self.metric,
            "dims": dict(sorted(self.dims.items())),
            "value": self.value,
            "unit": self.unit,
            "bound": self.bound,
            "as_of": self.as_of,
            "lang": self.lang,
            "evidence": self.evidence,
        }
        if self.value_max is not None:
            out["value_max"] = self.value_max
        return out


@dataclass(frozen=True)
class Extraction:
    lang: str
    published: str | None
    figures: list[Figure]
    statuses: list[Status]

    def __reduce__(self) -> tuple[type[Extraction], tuple[Any, ...]]:
        return (Extraction, (self.lang, self.published, self.figures, self.statuses))


@dataclass(init=False)
class _Bound:
    """A quantity bound to a metric while a sentence is being read."""

    # its __init__ written out, as text.Sentence's is

    q: Quantity
    metric: Metric
    dims: dict[str, list[str]] = field(default_factory=dict)
    as_of: str | None = None
    parent_as_of: str | None = None  # "of them": the date of the figure they are part of
    guessed: set[str] = field(default_factory=set)  # dims filled by metric defaults
    part_of: dict[str, list[str]] | None = None  # "of them": the dims of the whole
    each: bool = False  # "по 1,8 тыс.", "1,800 each": one figure for each value named

    def __init__(
        self,
        q: Quantity,
        metric: Metric,
        dims: dict[str, list[str]] | None = None,
        as_of: str | None = None,
        parent_as_of: str | None = None,
        guessed: set[str] | None = None,
        part_of: dict[str, list[str]] | None = None,
        each: bool = False,
    ) -> None:
        self.q = q
        self.metric = metric
        self.dims = {} if dims is None else dims
        self.as_of = as_of
        self.parent_as_of = parent_as_of
        self.guessed = set() if guessed is None else guessed
        self.part_of = part_of
        self.each = each


@dataclass(init=False)
class _Topic:
    metric: Metric
    index: int
    dims: dict[str, list[str]]
    as_of: str | None = None
    paragraph: int = -1
    question: bool = False  # an interviewer's question: the next sentence answers it

    def __init__(  # written out, as text.Sentence's is
        self,
        metric: Metric,
        index: int,
        dims: dict[str, list[str]],
        as_of: str | None = None,
        paragraph: int = -1,
        question: bool = False,
    ) -> None:
        self.metric = metric
        self.index = index
        self.dims = dims
        self.as_of = as_of
        self.paragraph = paragraph
        self.question = question


def _places(hits: list[Hit], places: list[tuple[int, int]]) -> list[Hit]:
    """An adjective before a place noun names a place: "British farms" -> GB."""
    return [
        Hit(h.start, h.end, h.value, False)
        if h.adj and any(h.end <= s <= h.end + 2 for s, _ in places)
        else h
        for h in hits
    ]


def _linked_owner(
    text: str, span: tuple[int, int], qs: list[Quantity], links: list[tuple[int, int]]
) -> int | None:
    """`owner_of` for a cue, but none when the cue comes after its number and a clause link
    ("то есть", "that is") stands between them: "16 тыс. иностранцев, то есть квота выбрана
    наполовину" says nothing of the quota's size with the 16,000 (while in "штраф до 100 МРП,
    то есть до 393 200 тенге" the words before the link still speak of the sum after it)."""
    owner = owner_of(text, span[0], span[1], qs)
    if owner is None or not links or qs[owner].end > span[0]:
        return owner
    end = qs[owner].end
    return None if any(end <= s and e <= span[0] for s, e in links) else owner


_ITEM_BREAK = re.compile(r"[,;:)]|\s-\s")


def _named_before(text: str, hits: list[Hit], qs: Sequence[Span], i: int) -> bool:
    """Whether a value other than Kazakhstan is named in front of number `i`, after the
    number before it, and belongs to it."""
    before = qs[i - 1].end if i else 0
    return any(
        before <= h.start
        and h.end <= qs[i].start
        and h.value != "KZ"
        and not h.adj
        and owner_of(text, h.start, h.end, qs) == i
        for h in hits
    )


_COUNTED_NOUN = re.compile(r"\s*[^\W\d_]{4,}")
_COUNTED_GAP = re.compile(r"\s?")
_KK_PLACE_CASE = re.compile(
    r"(?:да|де|та|те|нда|нде|дағы|дегі|тағы|тегі|ндағы|ндегі|ге|ға|ке|қа)$", re.I
)


_KK_POSSESSED = re.compile(r"азамат(?:тары|ы)(?:ның|на|нан|нда|н)?$", re.I)


def _resolve_actors(
    text: str, lang: str, cues: dict[str, list[tuple[int, int]]], countries: list[Hit]
) -> None:
    """Settle who is counted: "Ukrainian workers" and "citizens of Türkiye" are foreigners.

    A nationality adjective right before a word for people makes an actor_foreign span, and
    an actor_kz span that overlaps an actor_foreign one ("citizens" in "citizens of
    Türkiye") is dropped.
    """
    # "Kazakhs", "казахстанцев": whatever state reports them, they are ours
    ours = cues.get("kz_people", [])
    people = [
        (s, e)
        for s, e in cues.get("noun_persons", []) + cues.get("actor_kz", [])
        if not any(ks < e and s < ke for ks, ke in ours)
    ]
    foreign = list(cues.get("actor_foreign", []))
    for h in countries:
        # "Uzbekistan has more than 2 million citizens abroad": the people a state has
        # "у Узбекистана ... граждан": the word may stand before the state's name too
        has = cues.get("state_has", [])
        verb = next((v for v in has if 0 <= v[0] - h.end <= 2 or 0 <= h.start - v[1] <= 1), None)
        if verb and h.value != "KZ" and not h.adj:
            after = max(verb[1], h.end)
            foreign += [(s, e) for s, e in people if after <= s <= after + 60]
    first = countries[0] if countries else None
    if (
        first is not None
        and first.value != "KZ"
        and not first.adj
        and not text[: first.start].strip(" \"'«(-")
        and any(s >= first.end for s, _ in cues.get("state_sends", []))
    ):
        # "Uzbekistan joined the scheme in 2006 and sends 10,000 workers to Korea": the state
        # the sentence opens with sends its own people
        foreign += [(s, e) for s, e in people if s >= first.end]
    for s, e in cues.get("their_citizens", []):
        # "Kyrgyzstan reported that 1.2 million of its citizens work abroad"
        states = [h for h in countries if h.end <= s and not h.adj]
        if states and states[-1].value == "KZ":
            cues.setdefault("actor_kz", []).append((s, e))
        elif states:
            foreign.append((s, e))
    for h in countries:
        if h.value == "KZ":
            continue
        nominative = lang == "kk" and not _KK_PLACE_CASE.search(text, h.start, h.end)
        if h.adj or nominative:
            # "Ukrainian workers", "Өзбекстан азаматтары" (a locative "Кореядағы" is a place)
            foreign += [
                (min(h.start, s), e)
                for s, e in people
                if h.end <= s <= h.end + 2 or s <= h.start < e  # "индийских работников"
            ]
        if lang == "ru":  # "граждан Вьетнама"
            foreign += [(s, h.end) for s, e in people if e <= h.start <= e + 1]
    if lang == "kk":
        # "Түркия (2 250), Өзбекстан (1 600) және Үндістан (980) азаматтары": the citizens of
        # the countries just named
        for s, e in cues.get("actor_kz", []):
            if not _KK_POSSESSED.search(text, s, e):
                continue
            before = [h for h in countries if h.end <= s and not h.adj]
            if (
                before
                and before[-1].value != "KZ"
                and not _KK_PLACE_CASE.search(text, before[-1].start, before[-1].end)
            ):
                foreign.append((s, e))
    if foreign:
        cues["actor_foreign"] = sorted(set(foreign))
        kz = [
            (s, e)
            for s, e in cues.get("actor_kz", [])
            if not any(s < fe and fs < e for fs, fe in foreign)
        ]
        if kz:
            cues["actor_kz"] = kz
        else:
            cues.pop("actor_kz", None)


# "there", "in the region" take the country or region the sentence before named; "the
# sector", "в этой отрасли", "бұл салада" its sector
_ANAPHORA_DIMS = {"place_anaphora": ("country", "region"), "sector_anaphora": ("sector",)}

_DATELINE_END = re.compile(r"\s*(?:\([^)]{0,40}\)\s*)?-\s")


def _dateline(text: str, hit: Hit) -> bool:
    """ "ASTANA - ...", "Астана (Kazinform) - ...": where the news was filed, not what the
    figure is about."""
    if text[: hit.start].strip(" \"'([") != "":
        return False
    return text[hit.start : hit.end].isupper() or _DATELINE_END.match(text, hit.end) is not None


class _Reader:
    def __init__(self, rules: Rules, lang: str, published: str | None) -> None:
        self.rules = rules
        self.lang = lang
        self.published = published
        self.topic: _Topic | None = None
        self.quiet: tuple[int, Sentence] | None = None  # the last sentence without quantities
        self.figures: dict[tuple[str, tuple[tuple[str, str], ...], float], Figure] = {}
        self.currency: tuple[int, str] | None = None  # sentence index and unit of the last sum
        self.index = 0
        self.year: str | None = None  # the year the article last named, for "a year earlier"
        self.previous: Sentence | None = None  # the sentence read last, and the one before it
        self.before: Sentence | None = None
        self.listing = False  # the sentence before opened a list (":") or was an item of one
        self.region: str | None = None  # the region a regional article is about
        self.item = False  # this sentence is an item of such a list
        self.lead = 0  # the index of the last lead-in of a list

    # -- one sentence --------------------------------------------------------------------
    def read(self, index: int, sent: Sentence) -> None:
        self.index = index
        self.before, self.previous = self.previous, sent
        text = sent.text
        # "в том числе граждане:" then "- Узбекистана - 1 620;" line by line: the items of a
        # list after its lead-in are a breakdown of the figure before it
        self.item = self.listing and _LIST_ITEM.match(text) is not None
        self.listing = text.rstrip().endswith(":") or self.item
        if self.listing and not self.item:
            self.lead = index
        if not may_hold_quantity(self.rules.numbers, text, sent.lang):
            self.quiet = (index, sent)  # read only if a later sentence needs its topic
            return
        dates = find_dates(self.rules.dates, text, sent.lang, self.published, self.year)
        explicit = [d.value for d in dates if d.value and not d.relative]
        self.year = explicit[-1][:4] if explicit else self.year
        qs = find_quantities(self.rules.numbers, text, sent.lang, [(d.start, d.end) for d in dates])
        if not qs:
            self.quiet = (index, sent)
            return
        dates = [d for d in dates if d.value]
        cues = self.rules.cues.find(text, sent.lang)
        vocab = self.rules.find_vocabs(text, sent.lang)
        _resolve_actors(text, sent.lang, cues, vocab.get("country", []))
        vocab["country"] = _places(vocab.get("country", []), cues.get("place_nouns", []))
        present = _present(cues, vocab)
        satisfied = [m for m in self.rules.metrics.values() if _satisfied(m, present)]
        qs = [q for i, q in enumerate(qs) if not self._is_conversion(text, qs, i)]
        qs = self._elided_currency(index, text, qs, cues)
        links = cues.get("clause_link", [])
        owners = {
            name: [(span, _linked_owner(text, span, qs, links)) for span in spans]
            for name, spans in cues.items()
        }
        for dim, hits in vocab.items():
            # "@legal" in a veto: a value of that vocabulary attached to the number
            owners[f"@{dim}"] = [
                ((h.start, h.end), owner_of(text, h.start, h.end, qs)) for h in hits if not h.adj
            ]
        bound: list[_Bound | None] = []
        for i, q in enumerate(qs):
            attached = {name for name, items in owners.items() for _, o in items if o == i}
            metric = self._choose(text, q, i, satisfied, cues, attached, owners)
            prev = bound[-1] if bound else None
            if (
                metric is not None
                and prev is not None
                and prev.metric is not metric
                and not any(g in attached for g in metric.anchor)
                and self._fits(text, q, prev.metric, attached, cues)
            ):
                # "из России возвращены 410 граждан, из Южной Кореи - 1 120": an item with no
                # word of its own continues the metric of the item before it
                metric = prev.metric
            inherit: dict[str, list[str]] | None = None
            part = False
            if (
                metric is None
                and prev is not None
                and self._fits(text, q, prev.metric, attached, cues)
            ):
                if "respectively" in cues and _LIST_LINK.fullmatch(text, prev.q.end, q.start):
                    metric = prev.metric  # "870 and 410 respectively": one list, one metric
                elif _NEXT_ITEM.fullmatch(text, prev.q.end, q.start):
                    # "в 2024 году - 1,1 млрд долларов, в 2023 году - 1,3 млрд": the next item
                    # with no word of its own is the same figure told for another date
                    metric, inherit = prev.metric, dict(prev.dims)
            before = next((b for b in reversed(bound) if b is not None), None)
            if (
                metric is None
                and before is not None
                and any(before.q.end <= s < q.start for s, _ in cues.get("anaphora", []))
                and self._fits(text, q, before.metric, attached, cues)
            ):
                # "Южная Корея: 14 тыс. человек, из них порядка 10 тыс. - без документов":
                # "of them" after a figure of the same sentence is a part of that figure
                metric, inherit, part = before.metric, dict(before.dims), True
            if (
                prev is not None
                and _BRACKETED.fullmatch(text, prev.q.end, q.start)
                and self._fits(text, q, prev.metric, attached, cues)
            ):
                # "1 702 человека (годом ранее - 1 521)": the same figure for an earlier date
                metric, inherit = prev.metric, dict(prev.dims)
            if metric is None and self.quiet:
                self._read_quiet()
            if metric is None and self._near(index):
                metric, inherit, part = self._carry(index, text, q, i, qs, cues, vocab, attached)
            if (
                metric is None
                or self._foreign_breakdown(text, qs, i, metric, vocab, cues)
                or self._regional(text, qs, i, metric, vocab, cues)
                or (
                    self.region is not None
                    and "region" not in metric.dims.values()
                    and "national" not in cues
                )
                or (
                    metric.counted_in_kazakhstan
                    and self._placed_abroad(text, sent.lang, qs, i, vocab, cues)
                )
            ):
                bound.append(None)
                continue
            if (
                inherit is None
                and self.topic
                and metric is self.topic.metric
                and index - self.topic.index <= CARRY_SENTENCES
                and i == 0  # a later number's "of them" is the number before it
                and any(s < q.start for s, _ in cues.get("anaphora", []))
            ):
                # "Олардың мыңға жуығы рұқсатсыз жүр": "of them" names the whole before even
                # when the sentence could stand on its own
                inherit, part = dict(self.topic.dims), True
            b = _Bound(q, metric, each="each_one" in attached)
            if part and inherit is not None:
                b.part_of = dict(inherit)
            elif self._part_of_topic(text, q, metric):
                b.part_of = dict(self.topic.dims) if self.topic else {}
            if self.topic and (
                inherit is not None
                or (
                    metric is self.topic.metric
                    and sent.paragraph == self.topic.paragraph
                    and index - self.topic.index <= CARRY_SENTENCES
                )
            ):
                # "As of June 1, 16,000 foreigners ... By sector, 6,300 in construction": a
                # breakdown right after its total, in the same paragraph, is of the same date
                b.parent_as_of = self.topic.as_of
            for dim, vocab_name in metric.dims.items():
                values = _respectively(text, qs, i, vocab[vocab_name], cues) or self._dim_values(
                    text, qs, i, vocab[vocab_name], cues, dim in metric.adjectives
                )
                if not values and dim in metric.shared:
                    # "Kazakhstan received $430 million from Russia and $95 million from
                    # Korea": one word for the direction serves every sum of the sentence
                    named = {h.value for h in vocab[vocab_name] if not h.adj}
                    values = sorted(named) if len(named) == 1 else []
                if values:
                    b.dims[dim] = values
            for dim, values in (inherit or {}).items():
                b.dims.setdefault(dim, values)
            for dim, vocab_name in metric.dims.items():
                weak = self.rules.vocabs[vocab_name].weak
                if weak is not None and dim in b.dims and len(b.dims) > 1:
                    weak_hits = [h for h in vocab[vocab_name] if h.value in b.dims[dim]]
                    if weak_hits and all(weak.fullmatch(text, h.start, h.end) for h in weak_hits):
                        del b.dims[dim]  # "Ресейден келген мамандар - 640": workers from Russia
            for cue, dims in _ANAPHORA_DIMS.items():
                for dim in dims if cue in cues else ():
                    if dim in metric.dims and dim not in b.dims:
                        places = self._places_before(metric.dims[dim])
                        if places:
                            b.dims[dim] = places
            if (
                self.region is not None
                and "region" in metric.dims
                and "region" not in b.dims
                and "national" not in cues
            ):
                b.dims["region"] = [self.region]  # a regional article's own figures
            for dim, by_cue in metric.defaults.items():
                if dim not in b.dims:
                    found = [value for cue, value in by_cue.items() if cue in cues]
                    if len(set(found)) == 1:
                        b.dims[dim] = found[:1]
                        b.guessed.add(dim)
            bound.append(b)
        self._comparisons(text, qs, bound, sent.lang)
        self._partitives(text, qs, bound)
        bound = [
            None
            if b is not None and _adds_nothing(b) and not _dated_apart(text, qs, b, dates)
            else b
            for b in bound
        ]
        self._dates(text, qs, bound, dates)
        produced = [b for b in bound if b is not None]
        for b in produced:
            self._emit(b, sent)
        self.quiet = None
        if produced:
            first = produced[0]
            self.topic = _Topic(first.metric, index, first.dims, first.as_of, sent.paragraph)
        elif satisfied:
            # every number here counts something else ("1.2 million of its citizens"): "the
            # figure" in the next sentence is that, not a figure of ours
            self.topic = None

    def _near(self, index: int) -> bool:
        """Whether the topic is near enough to be continued at sentence `index`: at most
        CARRY_SENTENCES before it, counted for a list item from the list's lead-in ("Елдер
        бойынша көрсеткіш мынадай:" then "- Ресей - 99 мың адам;" ...)."""
        if self.topic is None:
            return False
        at = self.lead if self.item else index
        return at - self.topic.index <= CARRY_SENTENCES

    def _elided_currency(
        self, index: int, text: str, qs: list[Quantity], cues: dict[str, list[tuple[int, int]]]
    ) -> list[Quantity]:
        """ "from Russia ($640 million) and Korea (210 million)": a sum in millions or more
        written without its currency, next to sums in one currency, is in that currency."""
        units = {q.unit for q in qs if q.unit}
        if not units and self.currency and index - self.currency[0] <= 1:
            units = {self.currency[1]}
        if len(units) != 1 or all(q.unit for q in qs) or "count_of" in cues:
            return qs
        unit = units.pop()
        # "1.6 million transfers", "4,8 млн человек": a noun after the number says what it counts
        return [
            replace(q, unit=unit)
            if q.unit is None and q.value >= 1_000_000 and not _COUNTED_NOUN.match(text, q.end)
            else q
            for q in qs
        ]

    def _places_before(self, vocab_name: str = "country") -> list[str]:
        """ "In South Korea ... There, 9,000 of 13,600 work illegally": the host countries the
        sentence before named, for a sentence that says "there" ("там", "ондағы"); likewise the
        region for "in the region" ("өңірде")."""
        if self.before is None:
            return []
        text = self.before.text
        hits = self.rules.vocabs[vocab_name].find(text)
        if vocab_name == "country":
            cues = self.rules.cues.find(text, self.before.lang)
            hits = _places(hits, cues.get("place_nouns", []))
        return sorted({h.value for h in hits if not h.adj and h.value != "KZ"})

    def _read_quiet(self) -> None:
        """Take the topic of the last sentence without numbers, if it is newer than ours."""
        assert self.quiet is not None
        index, sent = self.quiet
        self.quiet = None
        if self.topic and self.topic.index > index:
            return
        cues = self.rules.cues.find(sent.text, sent.lang)
        vocab = self.rules.find_vocabs(sent.text, sent.lang)
        present = _present(cues, vocab)
        satisfied = [m for m in self.rules.metrics.values() if _satisfied(m, present)]
        # "Квота на привлечение иностранной рабочей силы установлена ...": a metric the
        # sentence's own words rule out (foreign workers, by "quota") is not its topic
        satisfied = [m for m in satisfied if not any(v in present for v in _vetoes(m, cues))]
        if satisfied:
            last = max(satisfied, key=lambda m: self._last_anchor(m, cues))
            question = sent.text.rstrip().endswith("?")
            dims: dict[str, list[str]] = {}
            if question:
                # "Сколько казахстанцев работает в Саудовской Аравии?" - "Около 450": the
                # answer counts what the question names
                for dim, vocab_name in last.dims.items():
                    named = {h.value for h in vocab[vocab_name] if not h.adj and h.value != "KZ"}
                    if len(named) == 1:
                        dims[dim] = sorted(named)
            self.topic = _Topic(last, index, dims, question=question)
        elif self.topic and self._last_anchor(self.topic.metric, cues) >= 0:
            # "Outgoing transfers by country:" before a list re-states the topic with the
            # attributes the list shares
            metric = self.topic.metric
            dims = {
                dim: values
                for dim in metric.inherit
                if len(values := sorted({h.value for h in vocab[metric.dims[dim]]})) == 1
            }
            if dims:
                self.topic = _Topic(metric, index, dims, self.topic.as_of, sent.paragraph)

    # -- metric choice -------------------------------------------------------------------
    @staticmethod
    def _last_anchor(metric: Metric, cues: dict[str, list[tuple[int, int]]]) -> int:
        return max((s for g in metric.anchor for s, _ in cues.get(g, [])), default=-1)

    def _fits(
        self,
        text: str,
        q: Quantity,
        metric: Metric,
        attached: set[str],
        cues: dict[str, list[tuple[int, int]]],
    ) -> bool:
        if (metric.unit == "money") != q.is_money:
            return False
        if not metric.min_value <= q.value <= metric.max_value:
            return False
        if metric.no_ranges and q.value_max is not None:
            return False
        if any(v in attached for v in _vetoes(metric, cues)):
            return False
        # "106 foreign nationals" is not a count of offences, "1,600 offences" not of people
        own = _UNIT_NOUNS.get(metric.unit)
        if own is None:
            return True
        window_end = q.end + 40
        nouns = [
            (s, name)
            for name in _UNIT_NOUNS.values()
            for s, _ in cues.get(name, [])
            if q.end <= s < window_end and not SEPARATOR.search(text, q.end, s)
        ]
        if nouns:
            nearest = min(nouns)[1]
            if nearest != own:
                return False
        return True

    def _choose(
        self,
        text: str,
        q: Quantity,
        i: int,
        satisfied: list[Metric],
        cues: dict[str, list[tuple[int, int]]],
        attached: set[str],
        owners: dict[str, list[tuple[tuple[int, int], int | None]]],
    ) -> Metric | None:
        best: tuple[int, int, Metric] | None = None
        for order, metric in enumerate(satisfied):
            if not self._fits(text, q, metric, attached, cues):
                continue
            # an anchor word attached to this number beats a nearer one attached to another
            distance = min(
                (
                    max(s - q.end, q.start - e, 0) + (0 if owner == i else _DETACHED)
                    for g in metric.anchor
                    for (s, e), owner in owners.get(g, [])
                ),
                default=len(text) + 2 * _DETACHED,
            )
            if best is None or (distance, order) < best[:2]:
                best = (distance, order, metric)
        return best[2] if best else None

    def _carry(
        self,
        index: int,
        text: str,
        q: Quantity,
        i: int,
        qs: list[Quantity],
        cues: dict[str, list[tuple[int, int]]],
        vocab: dict[str, list[Hit]],
        attached: set[str],
    ) -> tuple[Metric | None, dict[str, list[str]] | None, bool]:
        """The metric of the sentence before, the dims it passes on, and whether the number
        is a part of the figure before ("of them")."""
        assert self.topic is not None
        metric = self.topic.metric
        if not self._fits(text, q, metric, attached, cues):
            return None, None, False
        # "of them" before the number or right after it ("10,800 of them"); further on
        # ("5,780 foreigners, most of them engineers") it speaks of the number itself
        anaphora = any(
            s < q.start or not text[q.end : s].strip() for s, _ in cues.get("anaphora", [])
        )
        has_dim = any(
            self._dim_values(text, qs, i, vocab[v], cues, d in metric.adjectives)
            for d, v in metric.dims.items()
        ) or any(
            # "the sector employs 5,780 foreigners" after a sentence that names the sector
            cue in cues and dim in metric.dims and bool(self._places_before(metric.dims[dim]))
            for cue, dims in _ANAPHORA_DIMS.items()
            for dim in dims
        )
        if anaphora and not any(v in cues for v in _vetoes(metric, cues)):
            # "из них граждане Узбекистана - 2,3 млн, Таджикистана - 1,1 млн": "of them" about
            # someone the metric rules out continues nothing
            return metric, dict(self.topic.dims), True
        if self.topic.question and index - self.topic.index == 1:
            # "How many work abroad? - Over 120,000." answers the question's metric
            return metric, dict(self.topic.dims), False
        if "coreference" in attached or "coreference" in cues:
            # "Былтыр осы кезеңде бұл көрсеткіш 1,42 млрд болды": the same series, so the
            # same dims, unless the sentence names its own
            return metric, dict(self.topic.dims), False
        if "aside" in cues or any(v in cues for v in _vetoes(metric, cues)):
            # "Russia hosts 2.5 million Uzbek and 1 million Tajik migrants" after a list of
            # citizens abroad: a sentence about someone the metric rules out, or an aside
            # comparing other countries ("Compare this with Tajikistan"), continues nothing
            return None, None, False
        # "The largest number came from Germany (214)": a breakdown carries on any metric
        breakdown = self.item or any(s < q.start for s, _ in cues.get("breakdown", []))
        if has_dim and (breakdown or metric.carry == "dims") and self._near(index):
            # a list continued in the next sentence keeps the attributes it shares
            return metric, {d: v for d, v in self.topic.dims.items() if d in metric.inherit}, False
        return None, None, False

    def _foreign_breakdown(
        self,
        text: str,
        qs: list[Quantity],
        i: int,
        metric: Metric,
        vocab: dict[str, list[Hit]],
        cues: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """ "54 of the violators were citizens of Uzbekistan", "Өзбекстаннан 4 500 қандас": a
        number of a metric without a country dim that names a country is a breakdown the
        catalogue does not keep, not the total."""
        if "country" in metric.dims.values() or "country" not in vocab:
            return False
        return bool(self._dim_values(text, qs, i, vocab["country"], cues))

    def _regional(
        self,
        text: str,
        qs: list[Quantity],
        i: int,
        metric: Metric,
        vocab: dict[str, list[Hit]],
        cues: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """ "Atyrau region has about 4,100 foreign employees", "облыста 2 400 шетелдік жұмыс
        істейді" after a sentence naming the oblast: a number of a metric without a region
        dim that is placed in a region is a breakdown the catalogue does not keep, not the
        country's figure."""
        if "region" in metric.dims.values() or "region" not in vocab:
            return False
        q = qs[i]
        regions = [
            h
            for h in vocab["region"]
            if not _dateline(text, h)
            # "..., the vice minister told a briefing in Astana": a place after a comma is
            # not where the number is
            and not (h.start >= q.end and SEPARATOR.search(text, q.end, h.start))
        ]
        if self._dim_values(text, qs, i, regions, cues):
            return True
        return (
            "place_anaphora" in cues
            and bool(self._places_before("region"))
            and not self._places_before("country")
        )

    def _placed_abroad(
        self,
        text: str,
        lang: str,
        qs: list[Quantity],
        i: int,
        vocab: dict[str, list[Hit]],
        cues: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """ "Кореяда 300 мыңға жуық шетелдік еңбек етеді", "in Korea, 300,000 foreigners work":
        the number is placed in another country (a country's name attached to it in the
        locative, `[locative]` in cues.toml), or "South Korea admits 130,000 foreign workers":
        another state named before it takes them in (`hosting`, not "from Korea": `[ablative]`),
        and the number's clause does not say "in Kazakhstan"."""
        q = qs[i]
        if any(clause_breaks(text, At(s, e), q) == 0 for s, e in cues.get("in_kazakhstan", [])):
            return False
        if any(owner_of(text, s, e, qs) == i for s, e in cues.get("place_anaphora", [])) and (
            self._places_before("country")
        ):
            return True  # "In Japan ... The largest group of foreign workers there: 130,000"
        cue_rules = self.rules.cues
        before = cue_rules.locative.get(f"{lang}_before")
        form = cue_rules.locative.get(f"{lang}_form")
        owner = cue_rules.locative.get(f"{lang}_owner")
        owner_before = cue_rules.locative.get(f"{lang}_owner_before")
        countries = vocab.get("country", [])
        kz_named = any(h.value == "KZ" and not h.adj for h in countries)
        for h in countries:
            if h.adj or h.value == "KZ" or owner_of(text, h.start, h.end, qs) != i:
                continue
            if h.start >= q.end and SEPARATOR.search(text, q.end, h.start):
                # "90 citizens were returned from Russia, most of whom had worked in Russia":
                # a place after a comma tells of them, not where the number is
                continue
            if before and before.search(text, max(0, h.start - 20), h.start):
                return True
            if form and form.fullmatch(text, h.start, h.end):
                return True
            if h.end <= qs[i].start and (
                (owner and owner.match(text, h.end))
                or (owner_before and owner_before.search(text, max(0, h.start - 40), h.start))
            ):
                return True  # "Qatar's foreign workforce exceeds 2 million"
            if not kz_named and h.end <= qs[i].start and self._hosts(text, lang, h, qs, i, cues):
                return True
        return False

    def _hosts(
        self,
        text: str,
        lang: str,
        h: Hit,
        qs: list[Quantity],
        i: int,
        cues: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """Whether the state `h`, named before number `i`, is said to take its people in: a
        `hosting` verb of the number's clause, the state not named as where they come from."""
        ablative = self.rules.cues.ablative
        before = ablative.get(f"{lang}_before")
        form = ablative.get(f"{lang}_form")
        if (before and before.search(text, max(0, h.start - 20), h.start)) or (
            form and form.fullmatch(text, h.start, h.end)
        ):
            return False
        return any(
            owner_of(text, start, end, qs) == i and clause_breaks(text, h, At(start, end)) == 0
            for start, end in cues.get("hosting", [])
        )

    def _part_of_topic(self, text: str, q: Quantity, metric: Metric) -> bool:
        """ "Employers accounted for 318 of the violations": a part of the figure before."""
        rx = self.rules.cues.partitive.get(f"{self.lang}_part_after")
        return bool(
            rx and rx.match(text, q.end) and self.topic is not None and self.topic.metric is metric
        )

    # -- dims ----------------------------------------------------------------------------
    def _dim_values(
        self,
        text: str,
        qs: list[Quantity],
        i: int,
        hits: list[Hit],
        cues: dict[str, list[tuple[int, int]]],
        adjectives: bool = False,
    ) -> list[str]:
        values: list[str] = []
        counted: list[str] = []
        mostly = [s for s, _ in cues.get("mostly", []) if s >= qs[i].end]
        for h, (start, end) in grouped(text, hits):
            if (h.adj and not adjectives) or h.value == "KZ":
                continue
            if any(s < h.start for s in mostly):
                continue  # "11,500 foreign workers, most of them from China"
            if self._hit_owner(text, start, end, qs, hits) == i and h.value not in values:
                values.append(h.value)
                if _COUNTED_GAP.fullmatch(text, qs[i].end, h.start):
                    counted.append(h.value)
        if len(values) > len(counted) and counted:
            # "Корпоративішілік ауыстыру аясында 3 900 маман келген": the noun right after the
            # number only says it counts people when another word names the value
            values = [v for v in values if v not in counted]
        return values

    @staticmethod
    def _hit_owner(
        text: str, start: int, end: int, qs: list[Quantity], hits: list[Hit]
    ) -> int | None:
        """`owner_of`, with a tie settled by the list's own order: when the number before
        already has its name in front of it ("Kyrgyzstan, with $174.3 million, and
        Tajikistan, with $121 million"), a name standing between goes to the next number."""
        owner = owner_of(text, start, end, qs)
        if owner is not None and owner + 1 == len(qs) and qs[owner].end <= start:
            # "South Korea follows with around 15,000, then Germany": after the last number
            # and cut off from it, a name that has no number of its own, when the number
            # already has its name in front of it
            if _ITEM_BREAK.search(text, qs[owner].end, start) and _named_before(
                text, hits, qs, owner
            ):
                return None
            return owner
        if owner is None or owner + 1 >= len(qs) or not qs[owner].end <= start:
            return owner
        left, right = qs[owner], qs[owner + 1]
        seps_left = len(SEPARATOR.findall(text, left.end, start))
        seps_right = len(SEPARATOR.findall(text, end, right.start))
        if seps_left != seps_right:
            return owner
        return owner + 1 if _named_before(text, hits, qs, owner) else owner

    # -- structure inside a sentence -----------------------------------------------------
    @staticmethod
    def _is_conversion(text: str, qs: list[Quantity], i: int) -> bool:
        """ "KZT 157.1 million ($303,000)": the amount in brackets is the same money."""
        if i == 0 or not qs[i].is_money or not qs[i - 1].is_money:
            return False
        return bool(_CONVERSION.match(text[qs[i - 1].end : qs[i].start]))

    def _comparisons(
        self, text: str, qs: list[Quantity], bound: list[_Bound | None], lang: str
    ) -> None:
        """ "567, compared to 564 last year": the baseline is the same series."""
        cue = self.rules.dates.comparison.get(lang)
        for i in range(1, len(qs)):
            prev = bound[i - 1]
            if prev is None or not cue:
                continue
            own = bound[i]
            if own is not None and (own.metric is not prev.metric or set(own.dims) - own.guessed):
                continue  # a figure of its own, not a baseline
            same_kind = (prev.metric.unit == "money") == qs[i].is_money
            if same_kind and cue.search(text, qs[i - 1].end, qs[i].start):
                bound[i] = _Bound(qs[i], prev.metric, dict(prev.dims))

    def _partitives(self, text: str, qs: list[Quantity], bound: list[_Bound | None]) -> None:
        cues = self.rules.cues
        low = folded(text)
        for a in range(len(qs) - 1):
            b = a + 1
            between = text[qs[a].end : qs[b].start]
            before = text[: qs[a].start]
            after_b, before_b = text[qs[b].end :], text[: qs[b].start]
            pair = None
            for lang in dict.fromkeys((self.lang, "en", "ru", "kk")):
                if cues.says(f"{lang}_sub_after", after_b, low) or cues.says(
                    f"{lang}_sub_before", before_b, low
                ):
                    pair = (b, a)  # "..., and 11,500 of them": b is part of a
                    break
                if cues.says(f"{lang}_sub_first", between, low):
                    pair = (a, b)
                    break
                if cues.says(f"{lang}_super_first", between, low) and (
                    cues.partitive.get(f"{lang}_before_super") is None
                    or cues.says(f"{lang}_before_super", before, low)
                ):
                    pair = (b, a)
                    break
            if pair is None:
                continue
            sub_i, sup_i = pair
            sup, sub = bound[sup_i], bound[sub_i]
            if sup is None:
                # "4.5 million foreigners came, of them 2.4 million Uzbeks": the part of what
                # is not a figure is not one either
                bound[sub_i] = None
                continue
            if sub is None or sub.metric is not sup.metric:
                if sub is not None and sub.metric.name != sup.metric.name:
                    continue
                sub = bound[sub_i] = _Bound(qs[sub_i], sup.metric)
            for dim in sup.metric.partitive_moves:
                if dim in sup.dims and dim not in sub.dims:
                    sub.dims[dim] = sup.dims.pop(dim)
            sub.part_of = {d: v for d, v in sup.dims.items() if d not in sup.guessed}
            for dim, values in sup.dims.items():
                sub.dims.setdefault(dim, values)

    def _dates(
        self, text: str, qs: list[Quantity], bound: list[_Bound | None], dates: list[DateRef]
    ) -> None:
        lead = [d for d in dates if d.end <= qs[0].start and not d.comparison]
        base_year = lead[-1].value[:4] if lead else (self.published or "")[:4]
        comparison = self.rules.dates.comparison.get(self.lang)
        for i, b in enumerate(bound):
            if b is None:
                continue
            own = [d for d in dates if owner_of(text, d.start, d.end, qs) == i]
            if own:
                # "In 2024, the quota was 29,750, the same as this year": a year the text
                # names beats one counted from today
                b.as_of = ([d for d in own if not d.relative] or own)[-1].value
                continue
            prev_end = qs[i - 1].end if i else 0
            stretch = text[prev_end : b.q.start]
            if comparison and comparison.search(stretch) and base_year.isdigit():
                b.as_of = str(int(base_year) - 1)
            elif lead:
                b.as_of = lead[-1].value
            else:
                b.as_of = b.parent_as_of or self.published

    # -- output --------------------------------------------------------------------------
    def _emit(self, b: _Bound, sent: Sentence) -> None:
        dims: dict[str, str] = {}
        split: list[tuple[str, list[str]]] = []
        for dim, values in b.dims.items():
            if (dim == "country" or dim == "origin") and not b.each:
                dims[dim] = "+".join(sorted(values))
            elif (dim in b.metric.each or b.each) and len(values) > 1:
                split.append((dim, values))
            else:
                dims[dim] = values[0]
        variants = [dims]
        for dim, values in split:
            variants = [{**v, dim: value} for v in variants for value in values]
        unit = b.q.unit if b.metric.unit == "money" else b.metric.unit
        if b.q.unit:
            self.currency = (self.index, b.q.unit)
        evidence = sent.text if len(sent.text) <= MAX_EVIDENCE else sent.text[:MAX_EVIDENCE] + "…"
        for d in variants:
            key = (b.metric.name, tuple(sorted(d.items())), float(b.q.value))
            figure = Figure(
                metric=b.metric.name,
                dims=d,
                value=b.q.value,
                unit=unit or "",
                bound=b.q.bound,
                as_of=b.as_of,
                lang=self.lang,
                evidence=evidence,
                value_max=b.q.value_max,
            )
            old = self.figures.get(key)
            if old is None or (old.as_of == self.published and b.as_of != self.published):
                self.figures[key] = figure


def _adds_nothing(b: _Bound) -> bool:
    """A part ("of them", "ещё 76 человек") whose dims say no more than the whole's is a
    breakdown by something the catalogue does not keep (employers, women, entry bans)."""
    if b.part_of is None:
        return False
    own = {d: v for d, v in b.dims.items() if d not in b.guessed}
    return all(b.part_of.get(d) == v for d, v in own.items())


def _dated_apart(text: str, qs: list[Quantity], b: _Bound, dates: list[DateRef]) -> bool:
    """ "214 visas have been issued, 96 of them in 2025": a part with a year of its own is
    the same series at another date, not a breakdown."""
    i = qs.index(b.q)
    return any(
        d.value and not d.relative and not d.comparison and owner_of(text, d.start, d.end, qs) == i
        for d in dates
    )


# between two items of one list that name nothing of their own: list marks and the dates
# that tell them apart ("1,1 млрд долларов, в 2023 году - 1,3 млрд", "$1.1 billion in 2024
# and $1.3 billion")
_NEXT_ITEM = re.compile(
    r"(?:\s*(?:,|-|and|и|а|және|in|в|за|by|\d{4}|году|года|г\.|жылы|жылғы|year|\$|€|₸))+\s*",
    re.I,
)
# "1 702 человека (годом ранее - 1 521)", "640 (598)": the same figure for an earlier date
_BRACKETED = re.compile(
    r"\s*(?:[^\W\d]\w*\s+){0,3}\(\s*(?:(?:годом|год)\s+ранее|в\s+\d{4}\s+году|"
    r"a\s+year\s+(?:earlier|ago|before)|in\s+\d{4}|былтыр|\d{4}\s+жылы|бір\s+жыл\s+бұрын)?"
    r"\s*[-:,]?\s*",
    re.I,
)
_LIST_LINK = re.compile(r"\s*(?:,|-|and|и|және|мен|бен|пен)?\s*", re.I)


def _respectively(
    text: str, qs: list[Quantity], i: int, hits: list[Hit], cues: dict[str, list[tuple[int, int]]]
) -> list[str]:
    """ "Indian and South Korean nationals number 870 and 410 respectively": the value of
    number `i` when the sentence says "respectively" and names as many values before a list
    of numbers as the list has; none otherwise."""
    if "respectively" not in cues:
        return []
    first = last = i
    while first > 0 and _LIST_LINK.fullmatch(text, qs[first - 1].end, qs[first].start):
        first -= 1
    while last + 1 < len(qs) and _LIST_LINK.fullmatch(text, qs[last].end, qs[last + 1].start):
        last += 1
    since = qs[first - 1].end if first else 0
    values = list(
        dict.fromkeys(h.value for h in hits if since <= h.start and h.end <= qs[first].start)
    )
    if last == first or len(values) != last - first + 1:
        return []
    return [values[i - first]]


def _present(cues: dict[str, list[tuple[int, int]]], vocab: dict[str, list[Hit]]) -> set[str]:
    """The cue groups a sentence has, and "@<vocab>" for each vocabulary naming a value other
    than Kazakhstan in it: what metric conditions ask for."""
    present = {name for name, spans in cues.items() if spans}
    present.update(
        f"@{dim}" for dim, hits in vocab.items() if any(not h.adj and h.value != "KZ" for h in hits)
    )
    return present


def _satisfied(metric: Metric, present: set[str]) -> bool:
    """Whether one of the metric's conditions holds: each of its groups has a cue group, or
    an "@<vocab>" value other than Kazakhstan, that the sentence has (`present`)."""
    return any(
        all(not present.isdisjoint(group) for group in condition) for condition in metric.require
    )


def _vetoes(metric: Metric, cues: dict[str, list[tuple[int, int]]]) -> list[str]:
    """The metric's vetoes that hold in this sentence (`Metric.veto_unless`)."""
    if not metric.veto_unless:
        return metric.veto
    return [v for v in metric.veto if not any(c in cues for c in metric.veto_unless.get(v, ()))]


def extract_text(
    text: str, rules: Rules, *, lang: str | None = None, published: str | None = None
) -> Extraction:
    """Every figure and agreement status stated in `text` (plain text, paragraphs by line)."""
    norm = normalize(text)
    lang = lang or detect_language(norm)
    sents = _drop_read_also(rules, sentences(norm, lang))
    reader = _Reader(rules, lang, published)
    reader.region = _article_region(rules, sents)
    index = 0
    for sent in sents:
        if not _is_heading(sent.text):
            index += 1  # a subheading does not distance a breakdown from its total
        reader.read(index, sent)
    figures = _drop_less_specific(_drop_rounded(list(reader.figures.values()), published))
    return Extraction(lang, published, figures, read_statuses(rules, sents, lang, published))


def _drop_read_also(rules: Rules, sents: list[Sentence]) -> list[Sentence]:
    """The sentences without the lines that link other stories ("Read also: ...")."""
    links = rules.cues.groups.get("read_also", {})
    skip = {
        s.paragraph
        for s in sents
        if (rx := links.get(s.lang)) is not None and rx.match(s.text, _lead_of(s.text))
    }
    return [s for s in sents if s.paragraph not in skip] if skip else sents


def _lead_of(text: str) -> int:
    return len(text) - len(text.lstrip(" \"'«(-•"))


def _article_region(rules: Rules, sents: list[Sentence]) -> str | None:
    """The region an article is about: the one region its headline and lead name (a dateline
    aside) when a regional authority reports there ("the city akimat said"); else None."""
    head = [s for s in sents if s.paragraph <= 2][:6]
    sources = rules.cues.groups.get("regional_source", {})
    if not any((rx := sources.get(s.lang)) and rx.search(s.text) for s in head):
        return None
    named = {
        h.value
        for s in head
        for h in rules.find_vocab("region", s.text, s.lang)
        if not _dateline(s.text, h)
    }
    return named.pop() if len(named) == 1 else None


_HEADING = re.compile(r"[^.!?…:;,]{1,60}\??|[^.!?…;]{1,120}:")
_HEADING_MAX = 121  # the longest text _HEADING matches
_DIGIT = re.compile(r"\d")
_LIST_ITEM = re.compile(r"\s*(?:[•·▪◦*]|-\s|\d{1,2}[.)]\s)")


def _is_heading(text: str) -> bool:
    """A short line without a number or closing punctuation, a short question, or a list's
    lead-in: "Где работают", "Who they are?", "По категориям:"."""
    stripped = text.strip()
    return (
        len(stripped) <= _HEADING_MAX
        and not stripped.endswith((".", "!", "…", ";", ","))  # a sentence, as most lines
        and _DIGIT.search(text) is None
        and _HEADING.fullmatch(stripped) is not None
    )


def _trailing_zeros(value: Value) -> int:
    n, zeros = int(value), 0
    if n != value or n == 0:
        return 0
    while n % 10 == 0:
        n //= 10
        zeros += 1
    return zeros


def _rounds_to(precise: Value, rounded: Value) -> bool:
    """True when `rounded` is `precise` written with fewer digits: 121 300 -> "121 тыс."."""
    if precise == rounded or rounded <= 0:
        return False
    if _trailing_zeros(rounded) <= _trailing_zeros(precise):
        return False
    return abs(precise - rounded) <= 0.02 * precise


def _drop_rounded(figures: list[Figure], published: str | None) -> list[Figure]:
    """A headline's "более 121 тыс." and the body's "121 300" are one figure: keep the
    precise one, with the explicit reference date of either."""
    dropped: set[int] = set()  # ids: figures compare by value, and two may be equal
    for f in figures:
        for g in figures:
            if f is g or id(g) in dropped or id(f) in dropped:
                continue
            if f.metric != g.metric or f.dims != g.dims:
                continue
            same_time = (f.as_of or "")[:7] == (g.as_of or "")[:7] or published in (
                f.as_of,
                g.as_of,
            )
            if same_time and _rounds_to(f.value, g.value):
                dropped.add(id(g))
    return [f for f in figures if id(f) not in dropped] if dropped else list(figures)


def _drop_less_specific(figures: list[Figure]) -> list[Figure]:
    """A headline's "Karaganda police find 146 violations" and the body's "146 violations in
    the Karaganda region" are one figure: the one with more dims says where."""
    return [
        f
        for f in figures
        if not any(
            g.metric == f.metric
            and g.value == f.value
            and len(g.dims) > len(f.dims)
            and f.dims.items() <= g.dims.items()
            for g in figures
        )
    ]
