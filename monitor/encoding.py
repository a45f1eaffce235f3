"""Bytes to text for article pages.

The order is the browser's: a byte-order mark; the charset of the Content-Type header; a
``<meta charset>`` (or ``http-equiv`` Content-Type, or an XML declaration) in the first 4 KB;
then detection; finally UTF-8 with replacement characters. Labels that name no text encoding
('x-unknown', 'utf-42', 'base64') are ignored. Pages lie about themselves, so three things
are settled by the bytes instead of the label:

- bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever a single-byte label says
  (text in a legacy charset is practically never valid UTF-8);
- a UTF-8 label the bytes do not fit (more than one in ten non-ASCII bytes broken) is ignored;
- a header's ISO-8859-1 or ASCII, the default of many servers, yields to the page's meta.

Detection first asks whether the bytes are (nearly) UTF-8, then whether they read as Russian or
Kazakh in one of the Cyrillic single-byte code pages, and only then asks charset_normalizer:
on short text charset_normalizer takes KOI8-R for Shift-JIS and cannot tell windows-1251 from
KZ-1048, while the shape of the words it decodes to (a capital at most at the start of a word,
lower-case letters after it) settles both.
"""

from __future__ import annotations

import codecs
import re

META_WINDOW = 4096
_SAMPLE = 8192  # bytes looked at to tell binary data from text
_DETECT_WINDOW = 262_144  # bytes of markup stripped to make the detection sample
_DETECT_SAMPLE = 65_536  # bytes of text given to detection
_UTF8_MAX_BROKEN = 0.1  # share of non-ASCII bytes that may be broken in "UTF-8" text
_CYRILLIC_MIN = 0.6  # share of non-ASCII bytes that must decode to well-formed Cyrillic words

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels browsers understand differently from Python, or that Python does not know.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "x-cp1251": "cp1251",
    "win-1251": "cp1251",
    "win1251": "cp1251",
    "windows1251": "cp1251",
    "koi": "koi8_r",
    "koi8": "koi8_r",
    "cskoi8r": "koi8_r",
    "koi8-ru": "koi8_u",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-ukrainian": "mac_cyrillic",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "x-sjis": "shift_jis",
    "gb2312": "gbk",
    "x-gbk": "gbk",
    "euc-kr": "cp949",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
}
_WEAK = frozenset({"cp1252"})  # what a header's iso-8859-1 / ascii become
_NOT_FOR_TEXT = frozenset(
    {"utf-7", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})

_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([^\s"'/;>]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']+)""", re.I)
_TAG = re.compile(rb"<[^<>]*>")

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"\x7fELF", "an executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an MS Office document"),
    (b"wOFF", "a font"),
    (b"wOF2", "a font"),
)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r\x1b") + b"\x7f"
_HIGH = bytes(range(128, 256))

_CYRILLIC_CODECS = ("cp1251", "kz1048", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic")
_UPPER = "А-ЯЁӘҒҚҢӨҰҮҺІ"
_LOWER = "а-яёәғқңөұүһі"
_CYRILLIC_WORD = re.compile(rf"(?<![^\W\d_])[{_UPPER}]?[{_LOWER}]+(?![^\W\d_])")


class InputError(ValueError):
    """Input that is not an article: binary data, an invalid CSS selector for it, ...

    The message is one line for the user.
    """


def decode(data: bytes, content_type: str | None = None) -> str:
    """Bytes -> text, in the order of the module docstring.

    Raises InputError for binary data: a known file signature (PNG, JPEG, ZIP, PDF, gzip, ...),
    NUL bytes, or more than 5% control bytes in the first 8 KB.
    """
    return decode_page(data, content_type)[0]


def decode_page(data: bytes, content_type: str | None = None) -> tuple[str, bool]:
    """decode(), and whether the text is the bytes read as UTF-8 as they are (no BOM, nothing
    replaced): then an HTML parser can be given the bytes and spared encoding the text again."""
    if not data:
        return "", False
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace"), False
    declared = charset_from_content_type(content_type)
    if declared in _WIDE:
        return data.decode(declared, "replace"), False
    wide = _check_binary(data)
    if wide is not None:
        return data.decode(wide, "replace"), False
    text, exact = _utf8_text(data)
    if text is not None and not data.isascii():
        return text, exact  # valid UTF-8 with non-ASCII bytes: UTF-8 whatever the labels say
    meta = charset_from_meta(data[:META_WINDOW])
    if declared in _WEAK and meta is not None:
        declared = meta
    for codec in (declared, meta):
        if codec is None:
            continue
        if codec == "utf-8":
            if text is not None:
                return text, exact
            if _nearly_utf8(data):
                return data.decode("utf-8", "replace"), False
            continue
        return data.decode(codec, "replace"), False
    if text is not None:
        return text, exact
    if _nearly_utf8(data):
        return data.decode("utf-8", "replace"), False
    return data.decode(_detect(data), "replace"), False


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, or None for a label that names no text encoding."""
    if not label:
        return None
    label = label.strip().strip("'\"").strip().lower()
    if not label or len(label) > 40:
        return None
    try:
        name = codecs.lookup(_ALIASES.get(label, label)).name
    except LookupError:
        return None
    if name in _NOT_FOR_TEXT:
        return None
    try:
        b"a".decode(name)
    except LookupError:  # a bytes-to-bytes or str-to-str codec: rot13, base64, ...
        return None
    except UnicodeError:
        pass
    return name


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return codec_name(match.group(1)) if match else None


def charset_from_meta(head: bytes) -> str | None:
    """The first usable charset declared by an XML declaration or a <meta> in `head`.

    A meta that names UTF-16 or UTF-32 means UTF-8: a page whose meta could be read as ASCII
    is not in a wide encoding (the HTML standard says the same).
    """
    labels = [m.group(1) for m in _XML_ENCODING.finditer(head)]
    labels += [m.group(1) for m in _META_CHARSET.finditer(head)]
    for raw in labels:
        name = codec_name(raw.decode("ascii", "replace"))
        if name is not None:
            return "utf-8" if name in _WIDE else name
    return None


def _check_binary(data: bytes) -> str | None:
    """Raise InputError for binary data; return a wide encoding for UTF-16 without a BOM."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"binary data ({kind}), not an article")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise InputError("binary data (a WebP image), not an article")
    if data[4:8] == b"ftyp":
        raise InputError("binary data (an ISO media file), not an article")
    sample = data[:_SAMPLE]
    nuls = sample.count(0)
    if nuls:
        wide = _utf16_without_bom(sample, nuls)
        if wide is not None:
            return wide
        raise InputError("binary data (contains NUL bytes), not an article")
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls * 20 > len(sample):
        raise InputError("binary data (mostly control bytes), not an article")
    return None


def _utf16_without_bom(sample: bytes, nuls: int) -> str | None:
    """UTF-16 text has its NUL bytes (the high bytes of ASCII characters) on one side."""
    if nuls * 5 < len(sample):
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    name = "utf-16-le" if odd > 9 * even else "utf-16-be" if even > 9 * odd else None
    if name is None:
        return None
    text = sample[: len(sample) // 2 * 2].decode(name, "replace")
    if "\x00" in text or text.count("\ufffd") * 100 > len(text):
        return None
    return name


def _utf8_text(data: bytes) -> tuple[str | None, bool]:
    """The bytes decoded as UTF-8 when they are UTF-8, else None; and whether they were
    decoded as they are.

    An incomplete character at the very end counts as UTF-8 (it becomes U+FFFD): the input
    may have been cut.
    """
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        # the first error is the one raised: at the end, everything before it is valid
        if exc.end == len(data) and exc.reason == "unexpected end of data":
            return data.decode("utf-8", "replace"), False
        return None, False


def _nearly_utf8(data: bytes) -> bool:
    """Whether bytes that are not valid UTF-8 have only a few broken non-ASCII bytes."""
    high = len(data) - len(data.translate(None, _HIGH))
    broken = data.decode("utf-8", "replace").count("\ufffd")
    return broken <= high * _UTF8_MAX_BROKEN


def _detect(data: bytes) -> str:
    """The codec for bytes that are not UTF-8 and declare nothing usable."""
    sample = _TAG.sub(b" ", data[:_DETECT_WINDOW])[:_DETECT_SAMPLE]
    cyrillic = _cyrillic_codec(sample)
    if cyrillic is not None:
        return cyrillic
    import charset_normalizer  # only for the rare page nothing else can read: not at start-up

    best = charset_normalizer.from_bytes(sample).best()
    if best is not None:
        name = codec_name(best.encoding)
        if name is not None:
            return name
    return "utf-8"


def _cyrillic_codec(sample: bytes) -> str | None:
    """The Cyrillic code page under which the sample reads as Russian or Kazakh words, if any.

    Ties go to the earlier code page (windows-1251 before KZ-1048: they differ only in the
    Kazakh letters).
    """
    high = len(sample) - len(sample.translate(None, _HIGH))
    if not high:
        return None
    best, best_score = None, 0
    for name in _CYRILLIC_CODECS:
        text = sample.decode(name, "replace")
        score = sum(len(word) for word in _CYRILLIC_WORD.findall(text))
        if score > best_score:
            best, best_score = name, score
    return best if best_score >= high * _CYRILLIC_MIN else None
