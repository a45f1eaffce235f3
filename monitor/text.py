"""Text normalisation, sentence splitting and language detection.

Rules match on normalised text: every kind of space becomes a plain space, every dash a
hyphen, typographic quotes a plain double quote, ``ё`` becomes ``е`` and the Latin
look-alikes that creep into Kazakh web text are mapped back to Cyrillic. Evidence sentences
are quoted from this normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KK_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")

# What normalisation replaces (or, for "", deletes). str.translate with a dict looks up
# every character; the few that need a change are found faster by one character-class
# search (some 15x on a page of news text).
_CHAR_REPLACE = {
    "\u00a0": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u205f": " ",
    "\u3000": " ",
    "\t": " ",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "ё": "е",
    "Ё": "Е",
    "ə": "ә",
    "Ə": "Ә",
    "ӊ": "ң",
    "Ӊ": "Ң",
    "ɵ": "ө",
    "Ɵ": "Ө",
    "\u00ad": "",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
}
_CHAR_FIND = re.compile("[" + "".join(re.escape(c) for c in _CHAR_REPLACE) + "]")


def _replace_char(match: re.Match[str]) -> str:
    return _CHAR_REPLACE[match.group(0)]


# Latin letters that look Cyrillic, repaired only inside words that are otherwise Cyrillic.
_LATIN_TO_CYR = str.maketrans("aceopxiyACEOPXIKMHTB", "асеорхіуАСЕОРХІКМНТВ")
# a Latin letter beside a Cyrillic one; opening with the Latin letters lets the regex engine
# skip to them, which are few in a Cyrillic text (an English one has no Cyrillic to look for)
_MIXED_SCRIPT = re.compile(r"[a-zA-Z](?:(?<=[а-яёА-ЯЁ][a-zA-Z])|(?=[а-яёА-ЯЁ]))")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_MIXED_WORD = re.compile(r"\w*[а-яёәғқңөұүһі]\w*[a-z]\w*|\w*[a-z]\w*[а-яёәғқңөұүһі]\w*", re.I)


def _fix_mixed(match: re.Match[str]) -> str:
    word = match.group(0)
    if any(c.isdigit() for c in word):
        return word
    return word.translate(_LATIN_TO_CYR)


def normalize(text: str) -> str:
    """Return `text` in the form the rules are written for (see rules/README.md)."""
    text = _CHAR_FIND.sub(_replace_char, unicodedata.normalize("NFC", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CYRILLIC.search(text) and _MIXED_SCRIPT.search(text):
        text = _MIXED_WORD.sub(_fix_mixed, text)
    return text


@dataclass(init=False, unsafe_hash=True)
class Sentence:
    # made in every sentence: the __init__ is written out, because the one dataclass makes
    # stays interpreted when mypyc compiles the module and, for a frozen class, costs some 30
    # times as much; a value all the same, never changed once made (hashed by its fields)
    text: str
    start: int  # offset in the normalised document
    paragraph: int
    lang: str

    def __init__(self, text: str, start: int, paragraph: int, lang: str) -> None:
        self.text = text
        self.start = start
        self.paragraph = paragraph
        self.lang = lang


# A sentence ends at . ! ? or … followed by space and a capital, a digit or an opening quote,
# unless the dot closes one of these abbreviations. ("[.!?…][.!?…]*" rather than "[.!?…]+":
# a pattern that opens with a character class lets a search skip to the stops; one that
# opens with a repeat is tried at every position.)
_BOUNDARY = re.compile(r'([.!?…][.!?…]*["\')\]]*)(\s+)(?=["(\[]?[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ0-9])')
_NO_SPLIT_BEFORE = re.compile(
    r"(?:\b(?:[A-ZА-ЯӘҒҚҢӨҰҮҺІ]|г|гг|ст|им|ул|д|т|тт|пп|п|ч|рис|см|ср|напр|проф|акад|"
    r"Mr|Mrs|Ms|Dr|St|No|Nos|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Gen|Col|"
    r"Prof|Sen|Rep|Gov|Inc|Co|Ltd|e\.g|i\.e|U\.S|ж|жж|б|т\.б|т\.с|обл|р-н|пос|с)\.)$"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in one paragraph of normalised text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end(1)
        if _NO_SPLIT_BEFORE.search(text[max(start, end - 12) : end]):
            continue
        if text[start:end].strip():
            spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


# Letters of each script are counted as what is left of a text without the runs of other
# characters: about twice as fast as listing every letter with findall.
_NOT_LATIN = re.compile(r"[^a-zA-Z]+")
_LATIN = re.compile(r"[a-zA-Z]")
_NOT_CYRILLIC = re.compile(r"[^\u0400-\u04ff]+")
_NOT_KK = re.compile("[^" + "".join(sorted(KK_LETTERS)) + "]+")
_KK = re.compile("[" + "".join(sorted(KK_LETTERS)) + "]")


def detect_language(text: str) -> str:
    """'kk', 'ru' or 'en' from the letters used; Kazakh when its own letters are common."""
    sample = text[:20000]
    latin = len(_NOT_LATIN.sub("", sample))
    cyr = len(_NOT_CYRILLIC.sub("", sample))
    if latin > cyr:
        return "en"
    if cyr and len(_NOT_KK.sub("", sample)) / cyr > 0.015:
        return "kk"
    return "ru" if cyr else "en"


def sentence_language(text: str, doc_lang: str) -> str:
    """The language of one sentence, with the document's language as the prior."""
    if text.isascii():  # no Cyrillic: English when it has a Latin letter
        return "en" if _LATIN.search(text) else doc_lang
    cyr = len(_NOT_CYRILLIC.sub("", text))
    # more Latin than Cyrillic letters needs fewer Cyrillic ones than other characters
    if 2 * cyr < len(text) and len(_NOT_LATIN.sub("", text)) > cyr:
        return "en"
    if not cyr:
        return doc_lang
    # most sentences are told by whether they have a Kazakh letter at all
    if doc_lang == "kk":
        # a Russian quotation in a Kazakh article has none of the Kazakh letters
        return "ru" if cyr >= 25 and _KK.search(text) is None else "kk"
    if _KK.search(text) is None:
        return "ru"
    kk = len(_NOT_KK.sub("", text))
    return "kk" if kk >= 2 and kk / cyr > 0.02 else "ru"


def sentences(text: str, lang: str) -> list[Sentence]:
    """Split normalised text into sentences; each line is a paragraph."""
    out: list[Sentence] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        for start, end in split_sentences(line):
            chunk = line[start:end].strip()
            lead = len(line[start:end]) - len(line[start:end].lstrip())
            out.append(
                Sentence(chunk, offset + start + lead, number, sentence_language(chunk, lang))
            )
        offset += len(line) + 1
    return out
