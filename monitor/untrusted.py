r"""Text and values from the web made safe to show, one set of rules for every reader.

Titles, outlet names, evidence sentences, URLs and dims reach people through the digests
(`monitor.notify`) and the site (`monitor.publish`). Both clean them here:

* `clean`: no control characters (C0, DEL, C1), no invisible characters that reorder or hide
  what a reader sees (bidi marks, embeddings, overrides and isolates, the Arabic letter mark),
  no noncharacters or lone surrogates; every run of white space, line and paragraph breaks
  included, is one space; capped in length with "…". The removed characters are invisible,
  so removing them keeps words whole ("a\u202eb" reads "ab"), while the ones that separate
  lines become spaces ("line\x0bline" reads "line line").
* `safe_url`: a URL may become a link only when it is http(s) with a host, has no white
  space or such characters, and is not too long.
* `host`, `dims`: an URL's host, a series' dims as stored, never raising on bad input.
* `format_number`: a number for people, 126,000 in English and 126 000 in Russian and Kazakh.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

MAX_URL = 2048

# C0 and C1 controls that are not white space (those become spaces), DEL, the bidi marks,
# embeddings, overrides and isolates, the Arabic letter mark, noncharacters and surrogates.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufffe\uffff\ud800-\udfff]"
)


def clean(text: Any, limit: int) -> str:
    """`text` as one line of at most `limit` characters, safe to show (see the module)."""
    if text is None:
        return ""
    out = str(text)
    if not out.isprintable():  # control, format or separator characters other than " "
        out = _INVISIBLE.sub("", out)
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def safe_url(url: Any, limit: int = MAX_URL) -> str | None:
    """`url` when it may become a link: http(s) with a host, at most `limit` characters, no
    white space, control or invisible characters; else None."""
    if not isinstance(url, str) or len(url) > limit or _INVISIBLE.search(url):
        return None
    if any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def host(url: Any) -> str:
    """The host of `url` in lower case, "" when it has none or is not a URL."""
    try:
        return urlsplit(str(url)).hostname or ""
    except ValueError:
        return ""


def dims(raw: Any) -> dict[str, str]:
    """A series' dims from the store (a dict, or its JSON text) as text keys and values;
    anything else, malformed JSON included, is no dims."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def format_number(value: float, lang: str = "en") -> str:
    """126000 -> en "126,000", ru/kk "126 000" (no-break space); 157.1 -> "157.1" / "157,1";
    two decimals at most."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if lang != "en":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text
