"""End to end: a dated story about labour migration, released step by step by two loopback
news sites, read by `monitor run` processes, checked through `monitor changes --json`,
`monitor history` and `monitor sources list`.

Site A is an outlet with an RSS feed in Russian and English whose source file names the
article body and date selectors; its pages carry a "read also" box with an old quota that
only a page read without the selector would take. Site B is an outlet with a listing page
in windows-1251 in Kazakh and Russian whose source names no article selectors; Kazakh
letters the code page lacks are written as character references (&#1179; for қ ...).

Over the story figures rise and fall, a figure is repeated by the other outlet in another
language (a source is added, no change), old figures are quoted again (history is filled,
no change), and the talks with South Korea go negotiating -> paused -> resumed -> signed,
followed by a "not yet ratified" (no change). All texts are written for this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from loopback import Site, write_source


@dataclass(frozen=True)
class Article:
    site: str  # "A" or "B"
    path: str
    lang: str
    published: str  # YYYY-MM-DD
    title: str
    paragraphs: tuple[str, ...]


B0_KK = Article(
    "B",
    "/kk/zhanalyqtar/2025/01/10/zhana-sayabaq",
    "kk",
    "2025-01-10",
    "Астанада жаңа саябақ ашылды",
    (
        "Елорданың Есіл ауданында 12 гектар аумақта жаңа саябақ ашылды. Саябақта балалар "
        "алаңдары мен велосипед жолдары бар, деп хабарлады қала әкімдігі.",
    ),
)
A1_RU = Article(
    "A",
    "/ru/news/2025/01/15/trudoustroystvo-za-rubezhom",
    "ru",
    "2025-01-15",
    "Казахстан и Южная Корея обсуждают трудоустройство граждан",
    (
        "АСТАНА. По данным Министерства труда и социальной защиты населения, на 1 января "
        "2025 года за рубежом были официально трудоустроены 118 тыс. граждан Казахстана.",
        "Из них 95 тыс. работают в России.",
        "В министерстве также сообщили, что переговоры с Южной Кореей о включении Казахстана "
        "в систему разрешений на работу (EPS) продолжаются.",
        "Средняя зарплата казахстанцев за рубежом составляет около 900 долларов в месяц. "
        "Консультации по вопросам трудоустройства можно получить по номеру 1414.",
    ),
)
A1_EN = Article(
    "A",
    "/en/news/2025/01/20/foreign-workforce",
    "en",
    "2025-01-20",
    "Foreign workforce in Kazakhstan: who comes and where they work",
    (
        "ASTANA – As of January 1, 2025, 16,400 foreign citizens were working in Kazakhstan "
        "under permits issued by local authorities, the Ministry of Labor and Social "
        "Protection reported.",
        "The quota for attracting foreign labor for 2025 has been set at 29,750 people.",
        "Most foreign specialists work in construction and mining, and their average monthly "
        "salary exceeds 1.1 million tenge.",
    ),
)
B2_KK = Article(
    "B",
    "/kk/zhanalyqtar/2025/04/10/shetelde-zhumys",
    "kk",
    "2025-04-10",
    "Шетелде жұмыс істейтін қазақстандықтар көбейді",
    (
        "Еңбек және халықты әлеуметтік қорғау министрлігінің мәліметінше, 2025 жылғы "
        "1 сәуірдегі жағдай бойынша шетелде 126 мың қазақстандық ресми түрде жұмыс істейді.",
        "Оның 103 мыңы Ресейде, 14 мыңы Оңтүстік Кореяда еңбек етеді.",
        "Министрліктің хабарлауынша, Оңтүстік Кореямен жұмысқа рұқсат беру жүйесі (EPS) "
        "бойынша келіссөздер уақытша тоқтатылды.",
        "Шетелде жұмысқа орналасу мәселелері бойынша 1414 нөміріне хабарласуға болады.",
    ),
)
A3_EN = Article(
    "A",
    "/en/news/2025/04/20/korea-talks-resume",
    "en",
    "2025-04-20",
    "Kazakhstan and South Korea return to the table on labor migration",
    (
        "ASTANA – Kazakhstan and South Korea have resumed talks on including Kazakhstan in "
        "the Employment Permit System, the Ministry of Labor and Social Protection said on "
        "Sunday.",
        "According to the ministry, as of April 1, 2025, some 126,000 Kazakh citizens were "
        "officially employed abroad.",
        "Officials said both sides hope to finalize the text of the agreement later this year.",
    ),
)
B3_RU = Article(
    "B",
    "/ru/novosti/2025/04/25/inostrannye-rabotniki",
    "ru",
    "2025-04-25",
    "Число иностранных работников в Казахстане выросло",
    (
        "По информации Министерства труда, на 1 апреля 2025 года в республике по разрешениям "
        "местных исполнительных органов работали 17,9 тыс. иностранцев.",
        "Больше всего иностранной рабочей силы привлечено в строительство и горнодобывающую "
        "отрасль.",
        "Напомним, в прошлом году средняя зарплата иностранного специалиста составила "
        "1,2 млн тенге.",
    ),
)
A4_RU = Article(
    "A",
    "/ru/news/2025/07/10/trudovaya-emigratsiya",
    "ru",
    "2025-07-10",
    "Трудовая эмиграция: данные на 1 июля",
    (
        "По состоянию на 1 июля 2025 года за рубежом работали 122 тыс. казахстанцев, "
        "сообщили в Министерстве труда и социальной защиты населения.",
        "Из них 99 тыс. трудятся в России. Снижение в ведомстве связывают с окончанием "
        "сезонных работ и ростом зарплат внутри страны.",
        "С начала года на родину вернулись около 4% трудовых мигрантов.",
    ),
)
B4_KK = Article(
    "B",
    "/kk/zhanalyqtar/2025/07/15/koreyamen-kelisim",
    "kk",
    "2025-07-15",
    "Қазақстан мен Корея еңбек көші-қоны туралы келісімге қол қойды",
    (
        "Сеулде Қазақстанның еңбек және халықты әлеуметтік қорғау министрі мен Корея "
        "Республикасының жұмыспен қамту және еңбек министрі қазақстандықтарды EPS жүйесі "
        "бойынша жұмысқа орналастыру туралы келісімге қол қойды.",
        "Құжат қазақстандықтарға корей кәсіпорындарында заңды түрде жұмыс істеуге мүмкіндік "
        "береді.",
    ),
)
B4_RU = Article(
    "B",
    "/ru/novosti/2025/07/15/soglashenie-s-koreey",
    "ru",
    "2025-07-15",
    "Казахстан и Корея подписали соглашение о трудоустройстве",
    (
        "В Сеуле министр труда и социальной защиты населения Казахстана и министр занятости "
        "и труда Республики Корея подписали соглашение о трудоустройстве граждан Казахстана "
        "по системе EPS.",
        "Документ позволит казахстанцам легально работать на корейских предприятиях.",
    ),
)
A5_EN = Article(
    "A",
    "/en/news/2025/08/05/foreign-hiring-slows",
    "en",
    "2025-08-05",
    "Foreign hiring in Kazakhstan slows over the summer",
    (
        "ASTANA – The number of foreign citizens working in Kazakhstan with permits fell to "
        "16,900 as of July 1, 2025, the Ministry of Labor and Social Protection said.",
        "The labor migration agreement with South Korea, signed in July, has not yet been "
        "ratified by Parliament.",
        "Officials expect lawmakers to consider the document in the autumn session.",
    ),
)
B5_RU = Article(
    "B",
    "/ru/novosti/2025/08/10/kak-menyalos-chislo",
    "ru",
    "2025-08-10",
    "Как менялось число казахстанцев, работающих за границей",
    (
        "В начале года, на 1 января 2025 года, за рубежом работали 118 тыс. граждан "
        "Казахстана, напоминают в Министерстве труда. На 1 февраля за рубежом работали уже "
        "119 тыс. казахстанцев.",
        "Эксперты отмечают, что большинство из них выбирают Россию и Южную Корею.",
    ),
)
B6_KK = Article(
    "B",
    "/kk/zhanalyqtar/2025/11/20/kvota-2026",
    "kk",
    "2025-11-20",
    "2026 жылға арналған квота бекітілді",
    (
        "Үкімет 2026 жылға шетелдік жұмыс күшін тартуға арналған квотаны 31 200 адам деп бекітті.",
        "Министрліктің айтуынша, квотаның басым бөлігі құрылыс пен тау-кен саласына бөлінеді.",
    ),
)

# What each step releases; step 3 releases nothing (an unchanged step).
STEPS: list[list[Article]] = [
    [B0_KK, A1_RU, A1_EN],  # B0: news of another topic, nothing to extract
    [B2_KK],
    [A3_EN, B3_RU],
    [],
    [A4_RU, B4_KK, B4_RU],
    [A5_EN, B5_RU],
    [B6_KK],
]
UNCHANGED_STEP = 3

# The real changes, in order: (metric or counterparty, dims, old, new, as_of, sources)
EXPECTED = [
    ("citizens_abroad", {}, None, 118000, "2025-01-01", [A1_RU, B5_RU]),
    ("citizens_abroad", {"country": "RU"}, None, 95000, "2025-01-01", [A1_RU]),
    ("KR", None, None, "negotiating", "2025-01-15", [A1_RU]),
    ("foreign_workers", {}, None, 16400, "2025-01-01", [A1_EN]),
    ("foreign_labor_quota", {}, None, 29750, "2025", [A1_EN]),
    ("citizens_abroad", {}, 118000, 126000, "2025-04-01", [B2_KK, A3_EN]),
    ("citizens_abroad", {"country": "RU"}, 95000, 103000, "2025-04-01", [B2_KK]),
    ("citizens_abroad", {"country": "KR"}, None, 14000, "2025-04-01", [B2_KK]),
    ("KR", None, "negotiating", "paused", "2025-04-10", [B2_KK]),
    ("KR", None, "paused", "resumed", "2025-04-20", [A3_EN]),
    ("foreign_workers", {}, 16400, 17900, "2025-04-01", [B3_RU]),
    ("citizens_abroad", {}, 126000, 122000, "2025-07-01", [A4_RU]),
    ("citizens_abroad", {"country": "RU"}, 103000, 99000, "2025-07-01", [A4_RU]),
    ("KR", None, "resumed", "signed", "2025-07-15", [B4_KK, B4_RU, A5_EN]),
    ("foreign_workers", {}, 17900, 16900, "2025-07-01", [A5_EN]),
    ("foreign_labor_quota", {}, 29750, 31200, "2026", [B6_KK]),
]

ROBOTS = "User-agent: *\nDisallow: /admin/\n"
CONFIG = """\
[fetch]
host_delay = 0
backoff = 0
retries = 1
connect_timeout = 2
read_timeout = 5
total_timeout = 10
"""


# -- the two outlets ----------------------------------------------------------------------


# Beside the story on every page of site A, in a plain box: a figure a page read without the
# source's body selector would take for part of the story.
A_BOX = {
    "ru": "Ранее сообщалось, что квота на привлечение иностранной рабочей силы на 2024 год "
    "составляла 25 000 человек, напомнили в ведомстве в ежегодном обзоре рынка труда.",
    "en": "Earlier this week: the quota for attracting foreign labor for 2024 was 25,000 people, "
    "the ministry recalled in its annual review of the labour market.",
}


def a_page(article: Article) -> bytes:
    """Site A: the story in div.article-text, its date in time.published, and a box beside
    it in the same column that is not part of the story."""
    home = "Главная" if article.lang == "ru" else "Home"
    paragraphs = "".join(f"<p>{p}</p>" for p in article.paragraphs)
    return (
        f'<!doctype html><html lang="{article.lang}"><head><meta charset="utf-8">'
        f"<title>{article.title} | Outlet A</title></head><body>"
        f'<header><a href="/">{home}</a> <a href="/{article.lang}/news/">News</a></header>'
        f'<div class="layout"><div class="news-head"><h1>{article.title}</h1>'
        f'<time class="published" datetime="{article.published}T10:30:00+05:00">'
        f"{article.published}</time></div>"
        f'<div class="news-body"><div class="article-text">{paragraphs}</div>'
        f'<div class="box"><p>{A_BOX[article.lang]}</p></div></div>'
        "</div><footer>© Outlet A, 2025</footer></body></html>"
    ).encode()


def a_feed(articles: list[Article], base: str) -> bytes:
    items = []
    for article in sorted(articles, key=lambda a: a.published, reverse=True):
        when = datetime.fromisoformat(f"{article.published}T10:30:00+05:00")
        items.append(
            f"<item><title>{article.title}</title><link>{base}{article.path}</link>"
            f'<guid isPermaLink="true">{base}{article.path}</guid>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{article.paragraphs[0][:160]}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet A</title><link>{base}/</link><description>News</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def cp1251(html: str) -> bytes:
    """windows-1251, Kazakh letters it lacks as numeric character references."""
    return html.encode("cp1251", "xmlcharrefreplace")


def b_page(article: Article) -> bytes:
    """Site B: a generic page (no selectors in its source file) with a sidebar."""
    paragraphs = "".join(f"<p>{p}</p>" for p in article.paragraphs)
    day = datetime.fromisoformat(article.published).strftime("%d.%m.%Y")
    return cp1251(
        f'<!DOCTYPE html><html lang="{article.lang}"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        f"<title>{article.title} - Outlet B</title>"
        f'<meta property="article:published_time" content="{article.published}T09:00:00+05:00">'
        '</head><body><div class="top-menu"><a href="/kk/">Қазақша</a> '
        '<a href="/ru/">Русский</a></div><div class="wrapper"><div class="content">'
        f'<h1>{article.title}</h1><div class="date">{day}</div>'
        f'<div class="text">{paragraphs}</div></div>'
        '<div class="sidebar"><h4>Көп оқылған</h4><ul><li><a href="/kk/weather">Ауа райы</a>'
        '</li><li><a href="/ru/sport">Спорт</a></li></ul></div></div>'
        "<footer>Outlet B</footer></body></html>"
    )


def b_listing(articles: list[Article]) -> bytes:
    cards = "".join(
        f'<div class="news-item"><a class="news-title" href="{a.path}">{a.title}</a>'
        f'<span class="date">{datetime.fromisoformat(a.published).strftime("%d.%m.%Y")}</span>'
        "</div>"
        for a in sorted(articles, key=lambda a: a.published, reverse=True)
    )
    return cp1251(
        '<!DOCTYPE html><html><head><meta charset="windows-1251"><title>Outlet B</title>'
        '</head><body><div class="top-menu"><a href="/">Басты бет</a> '
        '<a href="/kk/about">Біз туралы</a> <a href="/ru/reklama">Реклама</a></div>'
        f'<div class="news-list">{cards}</div>'
        '<footer><a href="https://t.me/outlet_b">Telegram</a></footer></body></html>'
    )


@dataclass
class Story:
    root: Path
    a: Site
    b: Site
    released: list[Article]
    # how many requests each site had seen at the end of each run
    seen: dict[str, list[int]] = field(default_factory=lambda: {"A": [], "B": []})

    def url(self, article: Article) -> str:
        return (self.a if article.site == "A" else self.b).url(article.path)

    def args(self, *command: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(self.root / "monitor.toml"),
            "--db",
            str(self.root / "state" / "monitor.db"),
            "--sources",
            str(self.root / "sources"),
            *command,
        ]

    def monitor(self, *command: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.args(*command), capture_output=True, text=True, timeout=120, cwd=self.root
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    def release(self, articles: list[Article]) -> None:
        """Put the step's articles online, and the feed and listing that link to them (a
        step that releases nothing changes nothing, so both answer 304)."""
        if not articles:
            return
        self.released += articles
        for article in articles:
            if article.site == "A":
                self.a.put(article.path, a_page(article))
            else:
                self.b.put(article.path, b_page(article), content_type="text/html")
        a_articles = [x for x in self.released if x.site == "A"]
        b_articles = [x for x in self.released if x.site == "B"]
        self.a.put("/rss.xml", a_feed(a_articles, self.a.base), content_type="application/rss+xml")
        self.b.put("/news/", b_listing(b_articles), content_type="text/html")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Story, list[str]]]:
    """The whole story, run once: each step released, then `monitor run --all`. Yields the
    story and the summary line of each run."""
    root = tmp_path_factory.mktemp("story")
    (root / "sources").mkdir()
    (root / "monitor.toml").write_text(CONFIG, encoding="utf-8")
    with Site() as a, Site() as b:
        for site in (a, b):
            site.put("/robots.txt", ROBOTS, content_type="text/plain")
        write_source(
            root / "sources",
            "Outlet A",
            a.url("/rss.xml"),
            article_body="div.article-text",
            article_published="time.published",
        )
        write_source(
            root / "sources", "Outlet B", b.url("/news/"), "html", html_links="a.news-title"
        )
        s = Story(root, a, b, [])
        lines = []
        for step in STEPS:
            s.release(step)
            proc = s.monitor("run", "--all")
            assert proc.stderr == ""
            lines.append(proc.stdout.strip())
            s.seen["A"].append(len(a.log()))
            s.seen["B"].append(len(b.log()))
        yield s, lines


def hits_per_run(s: Story, name: str) -> list[list[Any]]:
    """The requests of site A or B other than robots.txt, split by run."""
    log = (s.a if name == "A" else s.b).log()
    ends = s.seen[name]
    runs = [log[start:end] for start, end in zip([0, *ends], ends, strict=False)]
    return [[h for h in run if h.path != "/robots.txt"] for run in runs]


# -- what the story must show -------------------------------------------------------------


def test_changes_lists_exactly_the_real_changes_in_order(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    proc = s.monitor("changes", "--json")
    changes = [json.loads(line) for line in proc.stdout.splitlines()]
    got = [
        (
            c.get("metric") or c.get("counterparty"),
            c.get("dims"),
            c["old"],
            c["new"],
            c["as_of"],
            c["sources"],
        )
        for c in changes
    ]
    want = [
        (what, dims, old, new, as_of, [s.url(a) for a in sources])
        for what, dims, old, new, as_of, sources in EXPECTED
    ]
    assert got == want
    for change in changes:
        spec = (
            ["kind", "metric", "dims"] if change["kind"] == "figure" else ["kind", "counterparty"]
        )
        spec += ["old", "new", "as_of", "sources", "detected_at"]
        assert list(change)[: len(spec)] == spec
        assert change["found_by"] == "run"
        assert change["first_seen"] is (change["old"] is None)
    assert [c["detected_at"] for c in changes] == sorted(c["detected_at"] for c in changes)


def test_each_run_summary_counts_what_it_found(story: tuple[Story, list[str]]) -> None:
    _, lines = story
    assert lines == [
        "sources: 2 ok, 0 failed; new articles: 3; figures: 4; changes: 5",
        "sources: 2 ok, 0 failed; new articles: 1; figures: 3; changes: 4",
        "sources: 2 ok, 0 failed; new articles: 2; figures: 2; changes: 2",
        "sources: 2 ok, 0 failed; new articles: 0; figures: 0; changes: 0",
        "sources: 2 ok, 0 failed; new articles: 3; figures: 2; changes: 3",
        "sources: 2 ok, 0 failed; new articles: 2; figures: 3; changes: 1",
        "sources: 2 ok, 0 failed; new articles: 1; figures: 1; changes: 1",
    ]


def test_unchanged_step_costs_only_conditional_requests(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    for name, index in (("A", "/rss.xml"), ("B", "/news/")):
        runs = hits_per_run(s, name)
        assert len(runs) == len(STEPS)
        unchanged = [(h.path, h.status, h.conditional) for h in runs[UNCHANGED_STEP]]
        assert unchanged == [(index, 304, True)]
        # every later run asks for the index conditionally too
        for run in runs[1:]:
            assert run[0].path == index and run[0].conditional


def test_no_article_is_fetched_twice(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    for article in (a for step in STEPS for a in step):
        site = s.a if article.site == "A" else s.b
        assert site.count(article.path) == 1, article.path
    # robots.txt is kept a day (FetchPolicy.robots_max_age): asked by the first run only
    assert s.a.count("/robots.txt") == s.b.count("/robots.txt") == 1
    asked = {h.path for site in (s.a, s.b) for h in site.log()}
    assert asked == {
        "/robots.txt",
        "/rss.xml",
        "/news/",
        *(a.path for step in STEPS for a in step),
    }


def test_history_of_a_series_by_country(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    proc = s.monitor("history", "citizens_abroad", "--dims", "country=RU", "--json")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["as_of"], r["value"], r["dims"]) for r in rows] == [
        ("2025-01-01", 95000, {"country": "RU"}),
        ("2025-04-01", 103000, {"country": "RU"}),
        ("2025-07-01", 99000, {"country": "RU"}),
    ]
    assert [[src["url"] for src in r["sources"]] for r in rows] == [
        [s.url(A1_RU)],
        [s.url(B2_KK)],
        [s.url(A4_RU)],
    ]
    assert rows[1]["sources"][0]["lang"] == "kk"
    assert "103 мыңы Ресейде" in rows[1]["evidence"]


def test_old_figures_quoted_again_fill_history_silently(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    proc = s.monitor("history", "citizens_abroad", "--json")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["as_of"], r["value"]) for r in rows] == [
        ("2025-01-01", 118000),
        ("2025-02-01", 119000),
        ("2025-04-01", 126000),
        ("2025-07-01", 122000),
    ]
    by_value = {r["value"]: [src["url"] for src in r["sources"]] for r in rows}
    assert by_value[118000] == [s.url(A1_RU), s.url(B5_RU)]
    assert by_value[119000] == [s.url(B5_RU)]
    assert by_value[126000] == [s.url(B2_KK), s.url(A3_EN)]
    text = s.monitor("history", "citizens_abroad").stdout
    assert text.splitlines()[0] == "2025-01-01  118 000 persons"


def test_the_body_selector_of_site_a_keeps_the_box_beside_the_story_out(
    story: tuple[Story, list[str]],
) -> None:
    s, _ = story
    proc = s.monitor("history", "foreign_labor_quota", "--json")
    values = [json.loads(line)["value"] for line in proc.stdout.splitlines()]
    assert values == [29750, 31200]  # not the 25 000 of 2024 from the box beside the story
    page = a_page(A1_EN).decode()
    assert "25,000" in page and "article-text" in page


def test_sources_list_shows_each_outlet_healthy(story: tuple[Story, list[str]]) -> None:
    s, _ = story
    lines = s.monitor("sources", "list").stdout.splitlines()
    assert lines[0].split() == [
        "source",
        "kind",
        "lang",
        "last",
        "fetch",
        "status",
        "fails",
        "items",
        "newest",
    ]
    a_row, b_row = (line.split() for line in lines[1:])
    assert len(lines) == 3
    assert a_row[:3] == ["Outlet", "A", "feed"] and a_row[-4:] == ["ok", "0", "5", "2025-08-05"]
    assert b_row[:3] == ["Outlet", "B", "html"] and b_row[-4:] == ["ok", "0", "7", "2025-11-20"]
