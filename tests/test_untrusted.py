"""The one set of rules that makes fetched text and URLs safe to show in digests and on the site."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import notify, publish, untrusted


def test_clean_removes_invisible_characters_and_keeps_words_whole() -> None:
    assert untrusted.clean("a\x00b\u202ec\u2066d\x1b[0m", 100) == "abcd[0m"
    assert untrusted.clean("Қазақстан\u200f азаматтары", 100) == "Қазақстан азаматтары"


def test_clean_turns_every_line_break_and_run_of_spaces_into_one_space() -> None:
    assert untrusted.clean("  line\x0bline\nnext\u2028para\u2029end\t ", 100) == (
        "line line next para end"
    )


def test_clean_caps_the_length_with_an_ellipsis() -> None:
    assert untrusted.clean("x" * 50, 10) == "x" * 9 + "…"
    assert untrusted.clean(None, 10) == ""
    assert untrusted.clean(126000, 10) == "126000"


@given(st.text(max_size=300), st.integers(min_value=2, max_value=120))
def test_cleaned_text_is_printable_one_line_and_within_the_limit(text: str, limit: int) -> None:
    out = untrusted.clean(text, limit)
    assert len(out) <= limit
    assert "\n" not in out and "\r" not in out
    assert not any(c in out for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert untrusted.clean(out, limit) == out  # cleaning twice changes nothing


@pytest.mark.parametrize(
    "url",
    ["https://kaz.inform.kz/news/1?x=1", "http://127.0.0.1:8080/a#b", "HTTPS://Tengrinews.kz/"],
)
def test_http_urls_with_a_host_may_become_links(url: str) -> None:
    assert untrusted.safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "//evil.example/x",
        "http:///nohost",
        "http://a .kz/x",
        "http://a.kz/\u202eexe",
        "ftp://a.kz/file",
        "http://[::1",
        None,
        42,
    ],
)
def test_other_urls_never_become_links(url: object) -> None:
    assert untrusted.safe_url(url) is None


def test_an_overlong_url_is_not_a_link() -> None:
    url = "https://a.kz/" + "x" * 3000
    assert untrusted.safe_url(url) is None
    assert untrusted.safe_url(url, limit=4000) == url


def test_host_and_dims_never_raise_on_bad_input() -> None:
    assert untrusted.host("https://Lada.KZ/news/1") == "lada.kz"
    assert untrusted.host("http://[::1") == ""
    assert untrusted.host(None) == ""
    assert untrusted.dims('{"country": "RU"}') == {"country": "RU"}
    assert untrusted.dims({"origin": 1}) == {"origin": "1"}
    assert untrusted.dims("{broken") == {} and untrusted.dims("[1, 2]") == {}
    assert untrusted.dims(None) == {}


def test_numbers_read_as_people_write_them_in_each_language() -> None:
    assert untrusted.format_number(126000) == "126,000"
    assert untrusted.format_number(126000, "ru") == "126\u00a0000"
    assert untrusted.format_number(126000, "kk") == "126\u00a0000"
    assert untrusted.format_number(157.1, "en") == "157.1"
    assert untrusted.format_number(157.1, "kk") == "157,1"
    assert untrusted.format_number(float("inf")) == "inf"


def test_digests_and_site_apply_the_same_rules() -> None:
    hostile = "Say\u202e <b>hi</b>\x00\nnow"
    assert notify.clean(hostile, 100) == publish.clean(hostile, 100) == "Say <b>hi</b> now"
    for url in ("https://a.kz/x", "javascript:alert(1)", "http://a .kz"):
        assert notify.safe_url(url) == publish.safe_url(url) == untrusted.safe_url(url)
