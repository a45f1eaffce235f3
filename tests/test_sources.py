"""Source files: the shipped ones load, broken ones give one-line errors naming file and key."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.sources import Source, SourceError, load_source, load_sources, parse_duration

SHIPPED = Path(__file__).resolve().parent.parent / "sources"

GOOD = """\
name = "Good outlet"
url = "https://good.example.kz/rss"
kind = "feed"
language = "ru"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped sources ---------------------------------------------------------------------


def test_every_shipped_source_loads_and_all_three_languages_are_covered() -> None:
    sources, errors = load_sources(SHIPPED)
    assert errors == []
    assert len(sources) >= 13
    assert {s.language for s in sources} >= {"kk", "ru", "en"}
    assert len({s.url for s in sources}) == len(sources)


def test_every_shipped_source_says_where_its_url_comes_from() -> None:
    for path in sorted(SHIPPED.glob("*.toml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# URL"), path.name
        assert "confidence" in path.read_text(encoding="utf-8"), path.name


def test_shipped_sources_cover_the_outlets_of_the_brief() -> None:
    sources, _ = load_sources(SHIPPED)
    hosts = {re.sub(r"^www\.", "", s.url.split("/")[2]) for s in sources}
    for host in (
        "inform.kz",
        "kaz.inform.kz",
        "qazinform.com",
        "tengrinews.kz",
        "kaz.tengrinews.kz",
        "zakon.kz",
        "kz.kursiv.media",
        "lada.kz",
        "timesca.com",
        "astanatimes.com",
        "azattyq.org",
        "rus.azattyq.org",
        "vlast.kz",
        "informburo.kz",
        "en.qazmonitor.com",
        "gov.kz",
    ):
        assert host in hosts, host


def test_shipped_listing_sources_have_link_selectors_and_gov_kz_asks_for_russian() -> None:
    sources, _ = load_sources(SHIPPED)
    for source in sources:
        if source.kind == "html":
            assert source.links, source.name
    gov = next(s for s in sources if "gov.kz" in s.url)
    assert gov.headers == {"Accept-Language": "ru"}


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w", timedelta(weeks=1)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration_reads_units_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30x", "", "m", "30", "1.5h", "-1h", "0m", "30 minutes", "400d"])
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


# --- one file --------------------------------------------------------------------------------


def test_a_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, "good.toml", GOOD))
    assert source == Source(
        name="Good outlet",
        url="https://good.example.kz/rss",
        kind="feed",
        language="ru",
        every=timedelta(minutes=30),
        enabled=True,
        max_items=50,
        silent_after=timedelta(days=3),
        links=None,
        include=None,
        exclude=None,
        body=None,
        published=None,
        headers={},
        path=tmp_path / "good.toml",
    )


def test_every_key_is_read(tmp_path: Path) -> None:
    text = """\
name = "Listing"
url = "https://list.example.kz/news/"
kind = "html"
language = "kk"
every = "2h"
enabled = false
max_items = 20
silent_after = "1w"

[headers]
Accept-Language = "kk"

[html]
links = "a.news-title"
include = '/news/\\d+'
exclude = '/news/ads-'

[article]
body = "div.article-body"
published = "time[datetime]"
"""
    source = load_source(write(tmp_path, "listing.toml", text))
    assert (source.kind, source.language, source.every, source.enabled) == (
        "html",
        "kk",
        timedelta(hours=2),
        False,
    )
    assert (source.max_items, source.silent_after) == (20, timedelta(weeks=1))
    assert source.headers == {"Accept-Language": "kk"}
    assert source.links == "a.news-title"
    assert source.include is not None and source.include.search("/news/123")
    assert source.exclude is not None and source.exclude.search("/news/ads-1")
    assert (source.body, source.published) == ("div.article-body", "time[datetime]")


BROKEN = [
    ("bad TOML", 'name = "X"\nurl = \n', "invalid TOML", "line 2"),
    ("unknown key", GOOD + 'evry = "30m"\n', "evry: unknown key", "did you mean every?"),
    ("unknown table key", GOOD + '[article]\nbodyy = "div"\n', "article.bodyy: unknown key", ""),
    ("unknown table", GOOD + '[artcle]\nbody = "div"\n', "artcle: unknown key", "article"),
    ("bad kind", GOOD.replace('"feed"', '"atom"'), "kind: 'atom' is not one of", "'feed'"),
    ("bad language", GOOD.replace('"ru"', '"de"'), "language: 'de' is not one of", "kk"),
    ("bad duration", GOOD + 'every = "30x"\n', "every: '30x' is not a duration", "30m"),
    ("too frequent", GOOD + 'every = "10s"\n', "every: '10s' is too short", "1m"),
    ("bad silent_after", GOOD + 'silent_after = "soon"\n', "silent_after: 'soon'", ""),
    ("duration as number", GOOD + "every = 30\n", "every: must be a string", "number 30"),
    ("string for integer", GOOD + 'max_items = "50"\n', "max_items: must be an integer", ""),
    ("boolean for integer", GOOD + "max_items = true\n", "max_items: must be an integer", ""),
    ("max_items zero", GOOD + "max_items = 0\n", "max_items: 0 is not between 1", ""),
    ("string for boolean", GOOD + 'enabled = "yes"\n', "enabled: must be a boolean", ""),
    ("ftp url", GOOD.replace("https://", "ftp://"), "url: 'ftp://", "not an http(s) URL"),
    ("url without host", GOOD.replace("https://good.example.kz/rss", "https:///rss"), "url:", ""),
    ("missing name", GOOD.replace('name = "Good outlet"\n', ""), "name: missing", ""),
    (
        "html without links",
        GOOD.replace('"feed"', '"html"'),
        "html.links:",
        'kind = "html" needs a CSS selector',
    ),
    (
        "html table on a feed",
        GOOD + '[html]\nlinks = "a"\n',
        "html.links: only applies",
        "feed",
    ),
    (
        "invalid CSS selector",
        GOOD + '[article]\nbody = "div..x"\n',
        "article.body: 'div..x' is not a valid CSS selector",
        "",
    ),
    (
        "invalid links selector",
        GOOD.replace('"feed"', '"html"') + '[html]\nlinks = "a:nope"\n',
        "html.links: 'a:nope' is not a valid CSS selector",
        "",
    ),
    (
        "invalid regex",
        GOOD.replace('"feed"', '"html"') + "[html]\nlinks = \"a\"\ninclude = '(news'\n",
        "html.include: '(news' is not a valid regular expression",
        "",
    ),
    ("header with a newline", GOOD + '[headers]\nX-A = "a\\nb"\n', "headers.X-A:", "one line"),
    ("bad header name", GOOD + '[headers]\n"X A" = "b"\n', "headers.X A:", "header name"),
    ("headers not a table", GOOD + 'headers = "x"\n', "headers: must be a table", ""),
]


@pytest.mark.parametrize(
    ("text", "key", "detail"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_file_is_a_one_line_error_naming_file_and_key_while_good_files_load(
    tmp_path: Path, text: str, key: str, detail: str
) -> None:
    write(tmp_path, "a-good.toml", GOOD)
    broken = write(tmp_path, "b-broken.toml", text)
    write(tmp_path, "c-good.toml", GOOD.replace("Good outlet", "Another outlet"))
    sources, errors = load_sources(tmp_path)
    assert [s.name for s in sources] == ["Good outlet", "Another outlet"]
    assert len(errors) == 1
    message = str(errors[0])
    assert "\n" not in message
    assert message.startswith(f"{broken}: ")
    assert key in message
    assert detail in message


def test_the_duration_error_reads_as_documented(tmp_path: Path) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    write(folder, "lada.toml", GOOD + 'every = "30x"\n')
    with pytest.raises(SourceError) as caught:
        load_source(folder / "lada.toml")
    assert (
        str(caught.value) == f"{folder}/lada.toml: every: '30x' is not a duration like 30m, 2h, 1d"
    )


def test_duplicate_names_are_an_error_naming_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "lada.toml", GOOD)
    second = write(tmp_path, "lada-copy.toml", GOOD.replace("Good outlet", "GOOD OUTLET"))
    sources, errors = load_sources(tmp_path)
    # sorted by file name: lada-copy.toml comes first and keeps the name
    assert [s.path for s in sources] == [second]
    assert len(errors) == 1
    message = str(errors[0])
    assert message.startswith(f"{first}: name: ")
    assert str(second) in message


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.toml"
    path.write_bytes('name = "Лада"\n'.encode("cp1251"))
    with pytest.raises(SourceError, match=r"cp1251\.toml: not UTF-8"):
        load_source(path)


def test_a_missing_folder_raises_and_an_empty_one_has_no_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such sources folder"):
        load_sources(tmp_path / "nowhere")
    assert load_sources(tmp_path) == ([], [])


def test_files_other_than_toml_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# notes\nname = 1\n")
    write(tmp_path, "good.toml", GOOD)
    sources, errors = load_sources(tmp_path)
    assert [s.name for s in sources] == ["Good outlet"]
    assert errors == []
