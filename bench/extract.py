"""Extraction benchmark: generated news pages -> figures and statuses, against trafilatura.

Generates a few hundred realistic news article pages (Kazakh, Russian and English, a third
each, 30-150 KB of markup like real outlets: meta and JSON-LD head, navigation, breaking-news
ticker, share widgets, related news, comments, footer, inline scripts and SVG icons) and times

* ours: ``monitor.parse.load_article(bytes)`` then ``monitor.extract_text`` with the rules
  loaded once (not timed);
* ``trafilatura.extract(html)`` on the same pages, already decoded to ``str`` (text only).

Each side is timed in a fresh process of its own, one warm-up pass then ``--passes`` timed
passes over all pages (their median), the two sides taking turns for ``--runs`` rounds (a
machine that slows down or speeds up weighs on both alike, and neither runs in the other's
heap); the median of each side and of the rounds' ratios are reported. Peak memory is
``ru_maxrss`` (and, on Linux, ``VmHWM``) of a fresh subprocess that imports monitor, loads
the rules and extracts every page once, generating the pages one at a time. The subprocesses
run first, while this process is small, because Linux carries the parent's ru_maxrss into a
child. Nothing is fetched from the network; every page is made up.

    python bench/extract.py [--pages 300] [--seed 0] [--runs 5] [--passes 3] [--rules DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import pickle
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET_RATIO = 3.0  # trafilatura time / our time, at least
TARGET_PEAK_MB = 150.0
MIN_PAGE, MAX_PAGE = 30_000, 150_000  # bytes of a generated page
LANGS = ("kk", "ru", "en")

# --------------------------------------------------------------------------- page vocabulary

SITES = {
    "kk": [("Дала жаңалықтары", "dala-zhanalyq.example"), ("Астана хабар", "astana-habar.example")],
    "ru": [("Степные вести", "stepnye-vesti.example"), ("Курьер Азии", "kurier-azii.example")],
    "en": [("Steppe Post", "steppe-post.example"), ("Central Asia Daily", "ca-daily.example")],
}

UI = {
    "kk": {
        "nav": "Басты бет Саясат Экономика Қоғам Аймақтар Әлем Спорт Мәдениет Білім Денсаулық "
        "Технология Көлік Құқық Қаржы Бизнес Ауыл Экология Туризм Сұхбат Талдау Фото Видео "
        "Подкаст Инфографика Блогтар Тарих Ғылым Өнер Кино Музыка Жастар Отбасы Еңбек Көші-қон "
        "Құрылыс Энергетика Мұнай Агро Digital Жарнама",
        "breaking": "Шұғыл",
        "read_also": "Сондай-ақ оқыңыз",
        "share": "Бөлісу",
        "related": "Тақырып бойынша жаңалықтар",
        "popular": "Көп оқылғандар",
        "comments": "Пікірлер",
        "reply": "Жауап беру",
        "views": "Қаралды",
        "author": "Авторы",
        "tags": "Тегтер",
        "footer": "Редакция|Жарнама|Байланыс|Құпиялылық саясаты|Пайдалану шарттары|RSS|"
        "Вакансиялар|Серіктестер",
        "section": "Көші-қон",
        "rights": "Барлық құқықтар қорғалған. Материалдарды көшіріп басу кезінде сілтеме міндетті.",
        "address": "Астана қ., Мәңгілік Ел даңғылы, 8, 4-қабат",
        "weather": "Астана",
        "search": "Іздеу",
    },
    "ru": {
        "nav": "Главная Политика Экономика Общество Регионы Мир Спорт Культура Образование "
        "Здоровье Технологии Транспорт Право Финансы Бизнес Село Экология Туризм Интервью "
        "Аналитика Фото Видео Подкасты Инфографика Блоги История Наука Искусство Кино Музыка "
        "Молодёжь Семья Труд Миграция Стройка Энергетика Нефть Агро Digital Реклама",
        "breaking": "Срочно",
        "read_also": "Читайте также",
        "share": "Поделиться",
        "related": "Новости по теме",
        "popular": "Самое читаемое",
        "comments": "Комментарии",
        "reply": "Ответить",
        "views": "Просмотров",
        "author": "Автор",
        "tags": "Теги",
        "footer": "Редакция|Реклама|Контакты|Политика конфиденциальности|Условия использования|"
        "RSS|Вакансии|Партнёры",
        "section": "Миграция",
        "rights": "Все права защищены. При перепечатке материалов ссылка обязательна.",
        "address": "г. Алматы, пр. Абая, 52, офис 410",
        "weather": "Алматы",
        "search": "Поиск",
    },
    "en": {
        "nav": "Home Politics Economy Society Regions World Sports Culture Education Health "
        "Tech Transport Law Finance Business Rural Environment Travel Interviews Analysis "
        "Photo Video Podcasts Infographics Blogs History Science Arts Cinema Music Youth Family "
        "Labour Migration Construction Energy Oil Agro Digital Advertising",
        "breaking": "Breaking",
        "read_also": "Read also",
        "share": "Share",
        "related": "Related news",
        "popular": "Most read",
        "comments": "Comments",
        "reply": "Reply",
        "views": "Views",
        "author": "By",
        "tags": "Tags",
        "footer": "About|Advertise|Contacts|Privacy policy|Terms of use|RSS|Careers|Partners",
        "section": "Migration",
        "rights": "All rights reserved. Reproduction requires a link to the source.",
        "address": "8 Mangilik Yel Avenue, 4th floor, Astana",
        "weather": "Astana",
        "search": "Search",
    },
}

# (where, with whom) per language; Russia first, the others are counterparties of talks.
COUNTRIES = {
    "kk": [
        ("Ресейде", "Ресеймен"),
        ("Оңтүстік Кореяда", "Оңтүстік Кореямен"),
        ("Түркияда", "Түркиямен"),
        ("Германияда", "Германиямен"),
        ("Ұлыбританияда", "Ұлыбританиямен"),
        ("Польшада", "Польшамен"),
        ("БАӘ-де", "БАӘ-мен"),
    ],
    "ru": [
        ("в России", "с Россией"),
        ("в Южной Корее", "с Южной Кореей"),
        ("в Турции", "с Турцией"),
        ("в Германии", "с Германией"),
        ("в Великобритании", "с Великобританией"),
        ("в Польше", "с Польшей"),
        ("в ОАЭ", "с ОАЭ"),
    ],
    "en": [
        ("in Russia", "Russia"),
        ("in South Korea", "South Korea"),
        ("in Türkiye", "Türkiye"),
        ("in Germany", "Germany"),
        ("in the United Kingdom", "the United Kingdom"),
        ("in Poland", "Poland"),
        ("in the UAE", "the UAE"),
    ],
}

MONTHS = {
    "kk": "қаңтарда ақпанда наурызда сәуірде мамырда маусымда шілдеде тамызда қыркүйекте "
    "қазанда қарашада желтоқсанда",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "en": "January February March April May June July August September October November December",
}
RU_MONTHS_IN = "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре"

HEADLINES = {
    "kk": [
        "Шетелде {n} мыңнан астам қазақстандық жұмыс істейді",
        "{Instr} еңбек көші-қоны жөніндегі келіссөздер қайта басталды",
        "Көші-қон заңнамасын бұзғандарға {m} млн теңге айыппұл салынды",
        "Қазақстанда {f} мыңға жуық шетелдік жұмыскер бар",
    ],
    "ru": [
        "За рубежом работают {n} тыс. казахстанцев",
        "Переговоры {instr} о трудовой миграции возобновились",
        "Нарушителям миграционного законодательства выписали штрафы на {m} млн тенге",
        "В Казахстане работают {f} тыс. иностранцев",
    ],
    "en": [
        "{big} Kazakh citizens work abroad, ministry says",
        "Kazakhstan and {country} resume labour migration talks",
        "Migration offences bring KZT {m} million in fines",
        "Kazakhstan hosts {fbig} foreign workers",
    ],
}

LEADS = {
    "kk": "Еңбек және халықты әлеуметтік қорғау министрлігі шетелде жұмыс істейтін азаматтар "
    "мен елге келген шетелдік жұмыскерлер туралы жаңа деректерді жариялады.",
    "ru": "Министерство труда и социальной защиты населения опубликовало свежие данные о "
    "казахстанцах, работающих за рубежом, и об иностранной рабочей силе.",
    "en": "The Ministry of Labour and Social Protection of the Population has published new "
    "figures on Kazakh citizens working abroad and on foreign labour in the country.",
}

FIGURE_SENTENCES = {
    "kk": [
        "Министрліктің мәліметінше, шетелде {n} мыңнан астам қазақстандық жұмыс істейді.",
        "{Loc} {k} мыңға жуық қазақстандық жұмыс істейді.",
        "Оның {a} мыңы Ресейде, {b} мыңы Оңтүстік Кореяда жұмыс істейді.",
        "Қазақстанда рұқсат негізінде {f} мыңға жуық шетелдік азамат жұмыс істейді.",
        "Көші-қон заңнамасын бұзудың {v} фактісі анықталып, {m} млн теңге айыппұл салынды.",
        "Биыл елден {d} шетелдік шығарылды.",
        "Былтыр шетелде {n2} мың қазақстандық жұмыс істеген.",
    ],
    "ru": [
        "По состоянию на 1 {month} {year} года за рубежом официально трудоустроены "
        "{n} тыс. казахстанцев.",
        "{Loc} работают около {k} тыс. казахстанцев.",
        "Из них {a} тыс. работают в России, {b} тыс. — в Южной Корее.",
        "В Казахстане по разрешениям работодателей трудятся {f} тыс. иностранных работников.",
        "Выявлено {v} нарушений миграционного законодательства, наложено штрафов на {m} млн тенге.",
        "С начала года из страны выдворены {d} иностранцев.",
        "Годом ранее за границей работали {n2} тыс. граждан республики.",
    ],
    "en": [
        "As of {month} 1, {year}, {big} Kazakh citizens were officially employed abroad.",
        "About {kbig} Kazakh citizens work {loc}.",
        "Of them, {abig} work in Russia and {bbig} in South Korea.",
        "Some {fbig} foreign workers hold work permits in Kazakhstan.",
        "Police detected {v} violations of migration law; fines imposed for those offences "
        "reached KZT {m} million.",
        "Since January, {d} foreign nationals have been deported.",
        "A year earlier, {n2big} citizens of Kazakhstan worked abroad.",
    ],
}

STATUS_SENTENCES = {
    "kk": [
        "{Instr} еңбек көші-қоны жөніндегі келіссөздер қайта басталды.",
        "{Instr} келіссөздер уақытша тоқтатылды.",
        "{Instr} азаматтарды жұмысқа орналастыру туралы келісімге қол қойылды.",
        "Келісімге әлі қол қойылған жоқ, құжатқа жыл соңына дейін қол қою жоспарлануда.",
    ],
    "ru": [
        "Переговоры {instr} о трудоустройстве граждан возобновились в {month_loc}.",
        "Переговоры {instr} приостановлены по инициативе партнёров.",
        "Соглашение {instr} о временной трудовой деятельности подписано.",
        "Соглашение пока не подписано, стороны рассчитывают подписать его до конца года.",
    ],
    "en": [
        "Talks with {country} on the employment of Kazakh citizens resumed in {month}.",
        "Negotiations with {country} on labour migration were suspended.",
        "The agreement with {country} on temporary labour activity was signed in {month}.",
        "The agreement has not yet been signed, and no deadline has been set.",
    ],
}

BACKGROUND_SENTENCES = {
    "kk": [
        "Министрлік шетелде жұмыс іздейтін азаматтарға тек лицензиясы бар агенттіктерге "
        "жүгінуді ұсынады.",
        "Сарапшылардың айтуынша, еңбек көші-қонының негізгі бағыты әлі де Ресей болып отыр.",
        "Министрлік өкілі азаматтарды әлеуметтік желідегі күмәнді жарнамаларға сенбеуге шақырды.",
        "Шетелде жұмыс істейтін азаматтар табысын елге ресми жолмен аударуы тиіс.",
        "Заңсыз жұмыс істейтіндер сақтандырусыз қалады және құқықтық қорғаудан айырылады.",
        "– Біз әр елмен жеке жұмыс жүргіземіз, – деді вице-министр брифингте.",
        "Ведомство жұмыс берушілермен еңбек шарттарының талаптарын тексеруді жалғастырады.",
    ],
    "ru": [
        "В министерстве напоминают, что трудоустройство за рубежом возможно только через "
        "лицензированные частные агентства занятости.",
        "Эксперты отмечают, что основным направлением трудовой миграции остаётся Россия.",
        "По словам вице-министра, работа ведётся с каждой страной отдельно.",
        "В ведомстве подчеркнули, что граждане должны заранее проверять условия трудового "
        "договора.",
        "Специалисты советуют не доверять объявлениям о работе в социальных сетях.",
        "«Мы не ставим искусственных сроков, важно качество договорённостей», — сказал "
        "представитель министерства.",
        "Работающие нелегально остаются без страховки и правовой защиты.",
    ],
    "en": [
        "The ministry urged citizens to use only licensed private employment agencies.",
        "Experts note that Russia remains the main destination for Kazakh labour migrants.",
        "According to the vice minister, the work is carried out with each country separately.",
        "Officials stressed that citizens should check the terms of their contracts in advance.",
        "Specialists advise against trusting job advertisements on social media.",
        "“We are not setting artificial deadlines,” a ministry spokesperson said.",
        "Those working illegally are left without insurance or legal protection.",
    ],
}

TRAP_SENTENCES = {
    "kk": [
        "Толық ақпаратты 1414 байланыс орталығынан немесе {phone} нөмірінен алуға болады.",
        "Шетелге жұмысқа шығатындардың {p} пайызға жуығы Ресейді таңдайды.",
        "Жұмысқа 18 бен 39 жас аралығындағы азаматтар алынады.",
        "Жалақы айына {wage} мың теңгеден басталады.",
    ],
    "ru": [
        "Справки — по номеру 1414 или {phone}.",
        "Доля России составляет около {p}% от общего числа трудовых мигрантов.",
        "Работодатели ищут сотрудников в возрасте от 18 до 39 лет.",
        "Средняя зарплата составляет {wage} тыс. тенге в месяц.",
    ],
    "en": [
        "Consultations are available through the 1414 contact centre and at {phone}.",
        "Russia accounts for roughly {p}% of the country's labour migrants.",
        "Employers look for workers aged 18 to 39.",
        "Wages start at {wage},000 tenge a month.",
    ],
}

COMMENTS = {
    "kk": [
        "Дұрыс айтылған, жастар жұмыс іздеп кетіп жатыр.",
        "Агенттіктерді тексеру керек, алаяқтар көп.",
        "Інім Кореяда 3 жыл істеді, оңай емес.",
        "Өз елімізде жалақы көтерілсе, ешкім кетпес еді.",
    ],
    "ru": [
        "Всё правильно пишут, молодёжь уезжает.",
        "Агентства надо проверять, мошенников полно.",
        "Брат в Корее 3 года работал, тяжело там.",
        "Поднимите зарплаты дома, и никто не уедет.",
    ],
    "en": [
        "Good to see official numbers at last.",
        "Agencies must be checked, there are many scams.",
        "My cousin worked in Korea for 3 years, it was hard.",
        "Raise wages at home and people will stay.",
    ],
}

NAMES = ["Aigerim", "Daniyar", "Saule", "Nurlan", "Aruzhan", "Yerlan", "Madina", "Timur"]
SURNAMES = ["Tulegenova", "Abenov", "Seitkali", "Kassymova", "Omarov", "Zhakupova"]
SLUG_WORDS = [
    "trud",
    "migraciya",
    "news",
    "kz",
    "work",
    "abroad",
    "korea",
    "quota",
    "permit",
    "visa",
    "talks",
    "fines",
    "labour",
    "ministry",
    "astana",
    "almaty",
    "shymkent",
    "agreement",
    "jobs",
    "agency",
    "remittances",
]
ICONS = ["facebook", "telegram", "whatsapp", "x", "vk", "instagram", "youtube", "tiktok", "link"]


@dataclass(frozen=True)
class Page:
    lang: str
    charset: str
    data: bytes  # the page as fetched
    html: str  # the same page decoded, as trafilatura takes it
    headline: str = ""  # what a feed item about this page shows (bench/cycle.py)
    published: str = ""  # YYYY-MM-DD
    slug: str = ""


# --------------------------------------------------------------------------- text generation


def _thousands(rng: random.Random, low: float, high: float, lang: str) -> str:
    """A number of thousands as written in the language: '13,5' (kk, ru) or '13.5' (en)."""
    value = rng.uniform(low, high)
    text = f"{value:.1f}" if rng.random() < 0.4 else str(round(value))
    return text.replace(".", ",") if lang != "en" else text


def _big(thousands: str) -> str:
    """'13.5' thousands -> '13,500'."""
    return f"{round(float(thousands) * 1000):,}"


def _phone(rng: random.Random) -> str:
    code = rng.choice(["7172", "727", "7292", "7122", "7252"])
    return f"+7 ({code}) {rng.randint(20, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"


def _fields(rng: random.Random, lang: str, published: str) -> dict[str, str]:
    """Every slot a sentence template may use, drawn afresh."""
    loc, _ = rng.choice(COUNTRIES[lang][1:] if rng.random() < 0.7 else COUNTRIES[lang])
    _, partner = rng.choice(COUNTRIES[lang][1:])
    month = rng.randrange(12)
    fields = {
        "n": _thousands(rng, 100, 135, lang),
        "n2": _thousands(rng, 95, 130, lang),
        "k": _thousands(rng, 1, 20, lang),
        "a": _thousands(rng, 85, 105, lang),
        "b": _thousands(rng, 10, 16, lang),
        "f": _thousands(rng, 12, 30, lang),
        "m": f"{rng.uniform(20, 400):.1f}".replace(".", "," if lang != "en" else "."),
        "v": f"{rng.randint(2000, 48000):,}".replace(",", " " if lang != "en" else ","),
        "d": str(rng.randint(120, 2400)),
        "p": str(rng.randint(55, 85)),
        "wage": str(rng.randint(150, 900)),
        "phone": _phone(rng),
        "year": published[:4],
        "loc": loc,
        "Loc": loc[0].upper() + loc[1:],
        "instr": partner,
        "Instr": partner[0].upper() + partner[1:],
        "country": partner,
        "month": MONTHS[lang].split()[month],
        "month_loc": RU_MONTHS_IN.split()[month],
    }
    if lang == "en":
        for key in ("n", "n2", "k", "a", "b", "f"):
            fields[f"{key}big"] = _big(fields[key])
        fields["big"] = fields["nbig"]
    return fields


def _sentence(rng: random.Random, lang: str, published: str) -> str:
    pool = rng.choices(
        [FIGURE_SENTENCES, STATUS_SENTENCES, BACKGROUND_SENTENCES, TRAP_SENTENCES],
        weights=[4, 2, 5, 2],
    )[0]
    return rng.choice(pool[lang]).format(**_fields(rng, lang, published))


def _headline(rng: random.Random, lang: str, published: str) -> str:
    return rng.choice(HEADLINES[lang]).format(**_fields(rng, lang, published))


def _paragraphs(rng: random.Random, lang: str, published: str) -> list[str]:
    """6-15 paragraphs of 1-3 sentences, no sentence twice."""
    seen: set[str] = set()
    paragraphs: list[str] = []
    for _ in range(rng.randint(6, 15)):
        sentences: list[str] = []
        wanted = rng.randint(1, 3)
        while len(sentences) < wanted:
            sentence = _sentence(rng, lang, published)
            if sentence not in seen:
                seen.add(sentence)
                sentences.append(sentence)
        paragraphs.append(" ".join(sentences))
    return paragraphs


# --------------------------------------------------------------------------- markup pieces


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(rng: random.Random) -> str:
    return "-".join(rng.choice(SLUG_WORDS) for _ in range(rng.randint(2, 5)))


def _icon(name: str) -> str:
    return (
        f'<svg class="icon icon--{name}" width="20" height="20" aria-hidden="true">'
        f'<use xlink:href="#icon-{name}"></use></svg>'
    )


def _path_data(rng: random.Random, points: int) -> str:
    parts = [f"M{rng.uniform(0, 24):.2f} {rng.uniform(0, 24):.2f}"]
    for _ in range(points):
        coords = " ".join(f"{rng.uniform(-12, 12):.3f}" for _ in range(6))
        parts.append(f"c{coords}")
    return "".join(parts) + "z"


def _svg_sprite(rng: random.Random, budget: int) -> str:
    symbols: list[str] = []
    size = 0
    while size < budget:
        name = f"{rng.choice(ICONS)}-{len(symbols)}"
        symbol = (
            f'<symbol id="icon-{name}" viewBox="0 0 24 24">'
            f'<path fill="currentColor" d="{_path_data(rng, rng.randint(8, 40))}"/></symbol>'
        )
        symbols.append(symbol)
        size += len(symbol)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" style="display:none">'
        + "".join(symbols)
        + "</svg>"
    )


def _link_list(rng: random.Random, words: Sequence[str], domain: str, css: str, count: int) -> str:
    items = "".join(
        f'<li class="{css}__item"><a class="{css}__link" href="https://{domain}/{_slug(rng)}/">'
        f"{_esc(rng.choice(words))}</a></li>"
        for _ in range(count)
    )
    return f'<ul class="{css}">{items}</ul>'


def _mega_menu(rng: random.Random, lang: str, domain: str, budget: int, charset: str) -> str:
    words = UI[lang]["nav"].split()
    sections: list[str] = []
    size = 0
    while size < budget:
        section = (
            f'<div class="sitemap__col"><h4 class="sitemap__title">{rng.choice(words)}</h4>'
            f"{_link_list(rng, words, domain, 'sitemap__list', rng.randint(8, 16))}</div>"
        )
        sections.append(section)
        size += _size(section, charset)
    return f'<nav class="sitemap" aria-label="sitemap">{"".join(sections)}</nav>'


def _js_blob(rng: random.Random, budget: int) -> str:
    chunks: list[str] = []
    size = 0
    while size < budget:
        a, b, c = (f"{rng.choice('abcdefghijklmnopqrstuvwxyz')}{rng.randint(0, 99)}" for _ in "123")
        chunk = (
            f"function {a}(e,t){{var n=e.querySelectorAll('.js-{b}'),r=0;for(;r<n.length;r++)"
            f"{{n[r].addEventListener('click',function(o){{o.preventDefault();{c}(this,t)}})}}"
            f"return n.length>{rng.randint(0, 9)}}};"
            f"window.__app.push(['{b}',{rng.randint(0, 99999)},"
            f"{{lazy:!0,offset:{rng.randint(0, 400)}}}]);"
        )
        chunks.append(chunk)
        size += len(chunk)
    return "<script>window.__app=window.__app||[];" + "".join(chunks) + "</script>"


def _state_blob(rng: random.Random, lang: str, published: str, budget: int, charset: str) -> str:
    items: list[dict[str, Any]] = []
    size = 0
    while size < budget:
        item = {
            "id": rng.randint(100000, 999999),
            "title": _headline(rng, lang, published),
            "url": f"/news/{_slug(rng)}-{rng.randint(1000, 9999)}",
            "views": rng.randint(100, 50000),
            "image": {"src": f"/uploads/{rng.randint(1000, 9999)}.webp", "w": 640, "h": 360},
        }
        items.append(item)
        size += _size(json.dumps(item, ensure_ascii=False), charset)
    state = json.dumps({"feed": items, "locale": lang}, ensure_ascii=False).replace("</", "<\\/")
    return f"<script>window.__INITIAL_STATE__={state};</script></head>"


# --------------------------------------------------------------------------- page parts


@dataclass(frozen=True)
class Story:
    lang: str
    site: str
    domain: str
    slug: str
    published: str  # YYYY-MM-DD
    headline: str
    lead: str
    paragraphs: list[str]
    author: str


def _story(rng: random.Random, lang: str) -> Story:
    site, domain = rng.choice(SITES[lang])
    published = f"{rng.choice([2024, 2025])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return Story(
        lang=lang,
        site=site,
        domain=domain,
        slug=f"{_slug(rng)}-{rng.randint(10000, 99999)}",
        published=published,
        headline=_headline(rng, lang, published),
        lead=LEADS[lang],
        paragraphs=_paragraphs(rng, lang, published),
        author=f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
    )


def _head(story: Story, charset: str) -> str:
    url = f"https://{story.domain}/news/{story.slug}"
    stamp = f"{story.published}T10:25:00+05:00"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.headline,
        "description": story.lead,
        "datePublished": stamp,
        "dateModified": stamp,
        "inLanguage": story.lang,
        "author": {"@type": "Person", "name": story.author},
        "publisher": {"@type": "Organization", "name": story.site, "logo": f"{url}/logo.png"},
        "mainEntityOfPage": url,
    }
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": 1,
                "name": story.site,
                "item": f"https://{story.domain}/",
            },
            {"@type": "ListItem", "position": 2, "name": story.headline, "item": url},
        ],
    }
    metas = [
        f'<meta charset="{charset}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(story.headline)} — {_esc(story.site)}</title>",
        f'<meta name="description" content="{_esc(story.lead)}">',
        f'<link rel="canonical" href="{url}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_esc(story.headline)}">',
        f'<meta property="og:description" content="{_esc(story.lead)}">',
        f'<meta property="og:url" content="{url}">',
        f'<meta property="og:image" content="https://{story.domain}/uploads/og/{story.slug}.jpg">',
        f'<meta property="og:site_name" content="{_esc(story.site)}">',
        f'<meta property="og:locale" content="{story.lang}_KZ">',
        f'<meta property="article:published_time" content="{stamp}">',
        f'<meta property="article:modified_time" content="{stamp}">',
        '<meta property="article:section" content="migration">',
        '<meta name="twitter:card" content="summary_large_image">',
        f'<link rel="stylesheet" href="https://{story.domain}/static/css/main.3f9a1c.css">',
        f'<link rel="preload" as="font" href="https://{story.domain}/static/fonts/inter.woff2">',
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>',
        f'<script type="application/ld+json">{json.dumps(crumbs, ensure_ascii=False)}</script>',
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());gtag('config','G-XXXX0000');</script>",
        "<style>.header{display:flex;align-items:center}.ticker{overflow:hidden;white-space:"
        "nowrap}.article__body p{margin:0 0 1em;line-height:1.6}.share{display:flex;gap:8px}"
        ".footer{background:#1b1f24;color:#c9d1d9}</style>",
    ]
    return "<head>" + "\n".join(metas) + "</head>"


def _header(rng: random.Random, story: Story) -> str:
    ui = UI[story.lang]
    words = ui["nav"].split()
    nav = _link_list(rng, words, story.domain, "menu", rng.randint(20, 40))
    rates = (
        f'<div class="rates">USD <b>{rng.uniform(440, 540):.2f}</b> EUR '
        f"<b>{rng.uniform(480, 620):.2f}</b> RUB <b>{rng.uniform(4.8, 6.5):.2f}</b></div>"
    )
    weather = f'<div class="weather">{ui["weather"]} {rng.randint(-25, 35):+d}°</div>'
    search = (
        f'<form class="search" action="/search"><input type="search" name="q" '
        f'placeholder="{ui["search"]}"><button type="submit">{_icon("search")}</button></form>'
    )
    langs = (
        '<div class="lang-switch"><a href="/kz/">Қаз</a><a href="/ru/">Рус</a>'
        '<a href="/en/">Eng</a></div>'
    )
    logo = f'<a class="logo" href="/">{_icon("logo")}<span>{_esc(story.site)}</span></a>'
    return (
        f'<header class="header">{logo}{langs}{rates}{weather}{search}'
        f'<nav class="main-nav" id="main-menu">{nav}</nav></header>'
    )


def _ticker(rng: random.Random, story: Story) -> str:
    items = "".join(
        f"<li><time>{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}</time> "
        f'<a href="/news/{_slug(rng)}">{_esc(_headline(rng, story.lang, story.published))}</a></li>'
        for _ in range(rng.randint(5, 8))
    )
    return (
        f'<div class="breaking-news ticker" role="marquee"><span class="ticker__label">'
        f'{UI[story.lang]["breaking"]}</span><ul class="ticker__list">{items}</ul></div>'
    )


def _share(rng: random.Random, story: Story) -> str:
    buttons = "".join(
        f'<a class="share__btn share__btn--{name}" href="https://share.example/{name}?u='
        f'{story.domain}%2Fnews%2F{story.slug}" rel="nofollow">{_icon(name)}'
        f'<span class="share__count">{rng.randint(0, 900)}</span></a>'
        for name in ICONS[: rng.randint(4, len(ICONS))]
    )
    return f'<div class="share social-share"><span>{UI[story.lang]["share"]}</span>{buttons}</div>'


def _news_item(rng: random.Random, story: Story, css: str) -> str:
    day = f"{story.published[:8]}{rng.randint(1, 28):02d}"
    return (
        f'<li class="{css}__item"><a href="/news/{_slug(rng)}"><img src="/uploads/thumb/'
        f'{rng.randint(1000, 9999)}.webp" alt="" loading="lazy" width="160" height="90">'
        f'<span class="{css}__title">{_esc(_headline(rng, story.lang, story.published))}</span>'
        f'</a><time datetime="{day}">{day}</time><span class="{css}__views">{_icon("eye")}'
        f"{rng.randint(100, 40000)}</span></li>"
    )


def _related(rng: random.Random, story: Story) -> str:
    items = "".join(_news_item(rng, story, "related") for _ in range(rng.randint(6, 10)))
    return (
        f'<section class="related-news"><h3>{UI[story.lang]["related"]}</h3>'
        f'<ul class="related">{items}</ul></section>'
    )


def _popular(rng: random.Random, story: Story) -> str:
    items = "".join(_news_item(rng, story, "popular") for _ in range(5))
    return (
        f'<aside class="sidebar"><div class="popular"><h3>{UI[story.lang]["popular"]}</h3>'
        f'<ol class="popular__list">{items}</ol></div><div class="adv adv--240x400" '
        f'id="adfox_{rng.randint(10**6, 10**7)}"></div></aside>'
    )


def _comments(rng: random.Random, story: Story) -> str:
    ui = UI[story.lang]
    count = rng.randint(0, 8)
    items = "".join(
        f'<li class="comment"><div class="comment__author">{rng.choice(NAMES)}</div>'
        f'<time class="comment__date">{story.published} {rng.randint(10, 23)}:{rng.randint(10, 59)}'
        f'</time><p class="comment__text">{_esc(rng.choice(COMMENTS[story.lang]))}</p>'
        f'<button class="comment__reply">{ui["reply"]}</button>'
        f'<span class="comment__likes">{_icon("like")}{rng.randint(0, 60)}</span></li>'
        for _ in range(count)
    )
    return (
        f'<section class="comments" id="comments"><h3>{ui["comments"]} ({count})</h3>'
        f'<ul class="comments__list">{items}</ul><form class="comments__form"><textarea '
        f'name="text"></textarea><button type="submit">OK</button></form></section>'
    )


def _article(rng: random.Random, story: Story) -> str:
    ui = UI[story.lang]
    body: list[str] = []
    inserts = {rng.randint(2, 4): "read_also", rng.randint(5, 6): "adv"}
    for i, paragraph in enumerate(story.paragraphs):
        body.append(f"<p>{_esc(paragraph)}</p>")
        kind = inserts.get(i)
        if kind == "read_also":
            other = _esc(_headline(rng, story.lang, story.published))
            body.append(
                f'<div class="read-also"><span>{ui["read_also"]}:</span> '
                f'<a href="/news/{_slug(rng)}">{other}</a></div>'
            )
        elif kind == "adv":
            body.append(
                f'<div class="adv adv--inline"><script>(window.adsQueue=window.adsQueue||[])'
                f".push({{slot:'inread',id:{rng.randint(1000, 9999)}}});</script></div>"
            )
    tags = "".join(
        f'<a class="tag" href="/tag/{t}">#{t}</a>' for t in ("migration", "labour", story.lang)
    )
    return (
        f'<article class="article" itemscope itemtype="https://schema.org/NewsArticle">'
        f'<nav class="breadcrumbs"><a href="/">{_esc(story.site)}</a> / <a href="/migration/">'
        f'{ui["section"]}</a></nav><h1 class="article__title" itemprop="headline">'
        f'{_esc(story.headline)}</h1><div class="article__meta"><time itemprop="datePublished" '
        f'datetime="{story.published}T10:25:00+05:00">{story.published} 10:25</time>'
        f'<span class="article__author">{ui["author"]}: {_esc(story.author)}</span>'
        f'<span class="article__views">{ui["views"]}: {rng.randint(200, 30000)}</span></div>'
        f'<div class="article__lead"><p>{_esc(story.lead)}</p></div>'
        f'<figure class="article__image"><img src="/uploads/{story.slug}.jpg" alt="" width="1200" '
        f'height="675"><figcaption>© {_esc(story.site)}</figcaption></figure>'
        f'<div class="article__body" itemprop="articleBody">{"".join(body)}</div>'
        f'<div class="article__tags">{ui["tags"]}: {tags}</div>{_share(rng, story)}</article>'
    )


def _footer(rng: random.Random, story: Story, sitemap: str) -> str:
    ui = UI[story.lang]
    links = "".join(
        f'<a href="/page/{i}/">{_esc(w)}</a>' for i, w in enumerate(ui["footer"].split("|"))
    )
    phones = " ".join(f'<a href="tel:{p}">{p}</a>' for p in (_phone(rng), _phone(rng)))
    return (
        f'<footer class="footer">{sitemap}<div class="footer__links">{links}</div>'
        f'<div class="footer__contacts"><address>{ui["address"]}</address>{phones} '
        f'<a href="mailto:info@{story.domain}">info@{story.domain}</a></div>'
        f'<div class="footer__social">{"".join(_icon(n) for n in ICONS)}</div>'
        f'<p class="footer__copy">© 2011–{story.published[:4]} {_esc(story.site)}. '
        f"{ui['rights']} 16+</p></footer>"
    )


def _page_html(rng: random.Random, lang: str, charset: str) -> tuple[Story, str]:
    """A whole page and its story; SVG icons, scripts and a site map pad it to a random
    30-150 KB."""
    story = _story(rng, lang)
    head, header, ticker = _head(story, charset), _header(rng, story), _ticker(rng, story)
    article, popular = _article(rng, story), _popular(rng, story)
    related, comments = _related(rng, story), _comments(rng, story)
    footer = _footer(rng, story, "{sitemap}")
    skeleton = (
        f'<!DOCTYPE html>\n<html lang="{lang}">{head}<body class="page-article">'
        f"{{sprite}}{header}{ticker}"
        f'<main class="layout"><div class="layout__main">{article}{related}{comments}</div>'
        f"{popular}</main>{footer}{{js}}</body></html>"
    )
    target = rng.randint(MIN_PAGE, MAX_PAGE - 5_000)  # the last chunk of each filler overshoots
    deficit = max(target - _size(skeleton, charset), 0)
    shares = [rng.uniform(0.5, 1.5) for _ in range(4)]
    sprite, js, state, sitemap = (int(deficit * share / sum(shares)) for share in shares)
    padded = skeleton.replace("</head>", _state_blob(rng, lang, story.published, state, charset))
    return story, (
        padded.replace("{sprite}", _svg_sprite(rng, sprite), 1)
        .replace("{sitemap}", _mega_menu(rng, lang, story.domain, sitemap, charset), 1)
        .replace("{js}", _js_blob(rng, js), 1)
    )


def _size(text: str, charset: str) -> int:
    return len(text.encode(charset, errors="xmlcharrefreplace"))


def iter_pages(count: int, seed: int) -> Iterator[Page]:
    """`count` news pages, a third in each language, in a seeded random order, one at a time."""
    rng = random.Random(seed)
    langs = [LANGS[i % len(LANGS)] for i in range(count)]
    rng.shuffle(langs)
    for lang in langs:
        yield make_page(rng, lang)


def make_page(rng: random.Random, lang: str) -> Page:
    """One news page in `lang`; about a tenth of the Russian ones in windows-1251."""
    charset = "windows-1251" if lang == "ru" and rng.random() < 0.1 else "utf-8"
    story, page = _page_html(rng, lang, charset)
    data = page.encode(charset, errors="xmlcharrefreplace")
    return Page(
        lang, charset, data, data.decode(charset), story.headline, story.published, story.slug
    )


def generate_pages(count: int, seed: int) -> list[Page]:
    return list(iter_pages(count, seed))


# --------------------------------------------------------------------------- timing


@dataclass
class Run:
    seconds: float
    parse_seconds: float = 0.0
    extract_seconds: float = 0.0


@dataclass
class Yield:
    figures: int = 0
    statuses: int = 0
    chars: int = 0
    empty: int = 0


def run_ours(pages: Sequence[Page], rules: Any, tally: Yield | None = None) -> Run:
    from monitor import extract_text
    from monitor.parse import load_article

    clock = time.perf_counter
    parse_s = extract_s = 0.0
    start = clock()
    for page in pages:
        t0 = clock()
        article = load_article(page.data, content_type=None)
        t1 = clock()
        result = extract_text(article.text, rules, lang=article.lang, published=article.published)
        t2 = clock()
        parse_s += t1 - t0
        extract_s += t2 - t1
        if tally is not None:
            tally.figures += len(result.figures)
            tally.statuses += len(result.statuses)
            tally.chars += len(article.text)
            tally.empty += not article.text
    return Run(clock() - start, parse_s, extract_s)


def run_trafilatura(
    pages: Sequence[Page], extract: Callable[[str], str | None], tally: Yield | None = None
) -> Run:
    start = time.perf_counter()
    for page in pages:
        text = extract(page.html)
        if tally is not None:
            tally.chars += len(text or "")
            tally.empty += not text
    return Run(time.perf_counter() - start)


def _trafilatura() -> Callable[[str], str | None] | None:
    try:
        import trafilatura
    except ImportError:
        return None
    return trafilatura.extract


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class Memory:
    baseline_mb: float  # ru_maxrss after the imports (and, for ours, load_rules)
    peak_mb: float  # ru_maxrss at the end
    hwm_mb: float | None  # VmHWM at the end (Linux): the new process image's own peak
    spawned_at_mb: float  # the parent's ru_maxrss when it started the subprocess


def _maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, else KiB


def _hwm_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 2**10 if line else None


def _worker(kind: str, count: int, seed: int, rules_dir: Path | None) -> None:
    """In a fresh interpreter: import, note ru_maxrss, extract every page, print the peaks.

    The pages are generated here one at a time (same seed, same pages) so that no more than
    one page is held at once, as in the monitor.
    """
    if kind == "ours":
        from monitor import extract_text, load_rules
        from monitor.parse import load_article

        rules = load_rules(rules_dir)
        baseline = _maxrss_mb()
        for page in iter_pages(count, seed):
            article = load_article(page.data, content_type=None)
            extract_text(article.text, rules, lang=article.lang, published=article.published)
    else:
        import trafilatura

        baseline = _maxrss_mb()
        for page in iter_pages(count, seed):
            trafilatura.extract(page.html)
    print(json.dumps({"baseline_mb": baseline, "peak_mb": _maxrss_mb(), "hwm_mb": _hwm_mb()}))


def _worker_result(kind: str, options: list[str], args: argparse.Namespace) -> Any:
    """What `--worker kind` printed last (JSON), or None when it failed: it must not for our
    side; for trafilatura's, it fails when trafilatura is not importable."""
    command = [sys.executable, __file__, "--worker", kind, *options]
    command += [f"--rules={args.rules}"] if args.rules else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if "ours" in kind:
            sys.exit(f"the {kind} subprocess failed:\n{done.stderr}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_memory(kind: str, args: argparse.Namespace) -> Memory | None:
    """The worker's figures, or None when it failed (trafilatura not importable)."""
    spawned_at = _maxrss_mb()
    found = _worker_result(kind, [f"--pages={args.pages}", f"--seed={args.seed}"], args)
    return Memory(**found, spawned_at_mb=spawned_at) if found is not None else None


# --------------------------------------------------------------------------- report


def _row(name: str, seconds: float, pages: int, megabytes: float | None = None) -> str:
    row = f"{name:<34}{seconds:>9.3f}{pages / seconds:>11.1f}{seconds * 1000 / pages:>10.2f}"
    return row + (f"{megabytes / seconds:>8.1f}" if megabytes is not None else "")


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass(frozen=True)
class Results:
    ours: Run
    ours_yield: Yield
    ours_memory: Memory
    theirs: Run | None = None
    theirs_yield: Yield | None = None
    theirs_memory: Memory | None = None
    ratios: list[float] = field(default_factory=list)  # of each pair of runs taken in turn


def _header_lines(pages: Sequence[Page], args: argparse.Namespace) -> list[str]:
    n = len(pages)
    per_lang = "/".join(str(sum(p.lang == lang for p in pages)) for lang in LANGS)
    sizes = sorted(len(p.data) for p in pages)
    return [
        f"extraction benchmark: {n} pages (kk/ru/en {per_lang}), {sum(sizes) / 2**20:.1f} MB, "
        f"{sizes[0] / 1000:.0f}-{sizes[-1] / 1000:.0f} KB a page (median "
        f"{sizes[n // 2] / 1000:.0f})",
        f"seed {args.seed}; {args.runs} rounds, each side in a fresh process in turn: the median "
        f"of {args.passes} passes over all pages after 1 warm-up pass",
        f"monitor: {_build()}",
        f"{'':<34}{'s/run':>9}{'articles/s':>11}{'ms/page':>10}{'MB/s':>8}",
    ]


def _build() -> str:
    """Which build of the monitor runs: the plain sources or the compiled one (hatch_build.py)."""
    import monitor.extract

    where = monitor.extract.__file__ or "?"
    kind = "compiled (mypyc)" if where.endswith((".so", ".pyd")) else "plain Python"
    return f"{kind}, {where}"


def _memory_line(name: str, memory: Memory, target: str, after: str) -> str:
    return f"{name:<34}{memory.peak_mb:>6.1f} MB  {target:<24}({memory.baseline_mb:.1f} MB {after})"


def _footer_lines(res: Results, n: int) -> list[str]:
    mem = res.ours_memory
    hwm = f"; VmHWM {mem.hwm_mb:.1f} MB" if mem.hwm_mb is not None else ""
    line = (
        f"yield ours: {res.ours_yield.figures} figures, {res.ours_yield.statuses} statuses, "
        f"{res.ours_yield.chars / n:.0f} chars/page, {res.ours_yield.empty} empty"
    )
    if res.theirs_yield is not None:
        line += f"; trafilatura {res.theirs_yield.chars / n:.0f} chars/page"
    return [
        line,
        f"peak = ru_maxrss of a fresh subprocess extracting every page once{hwm}; "
        f"spawned at {mem.spawned_at_mb:.0f} MB",
    ]


def report(pages: Sequence[Page], args: argparse.Namespace, res: Results) -> None:
    n, mb = len(pages), sum(len(p.data) for p in pages) / 2**20
    lines = _header_lines(pages, args)
    lines.append(_row("ours: load_article + extract_text", res.ours.seconds, n, mb))
    lines.append(_row("  load_article", res.ours.parse_seconds, n))
    lines.append(_row("  extract_text", res.ours.extract_seconds, n))
    if res.theirs is not None:
        lines.append(_row("trafilatura.extract (text only)", res.theirs.seconds, n, mb))
        ratios = res.ratios or [res.theirs.seconds / res.ours.seconds]
        ratio = statistics.median(ratios)
        target = f"target >= {TARGET_RATIO:.0f}x {_verdict(ratio >= TARGET_RATIO)}"
        spread = f"   (runs in turn {min(ratios):.2f}-{max(ratios):.2f})" if ratios[1:] else ""
        lines.append(f"{'speed ratio trafilatura / ours':<34}{ratio:>6.2f} x   {target}{spread}")
    peak = res.ours_memory.peak_mb
    target = f"target < {TARGET_PEAK_MB:.0f} MB {_verdict(peak < TARGET_PEAK_MB)}"
    lines.append(_memory_line("peak RSS ours", res.ours_memory, target, "after imports + rules"))
    if res.theirs_memory is not None:
        lines.append(_memory_line("peak RSS trafilatura", res.theirs_memory, "", "after import"))
    print("\n".join(lines + _footer_lines(res, n)))


# --------------------------------------------------------------------------- main


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="pages to generate (300)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the pages (0)")
    parser.add_argument(
        "--runs", type=int, default=5, help="rounds, each side in a fresh process in turn (5)"
    )
    parser.add_argument(
        "--passes", type=int, default=3, help="timed passes over all pages in a round (3)"
    )
    parser.add_argument(
        "--rules", type=Path, help="rules folder (default: the rules shipped with monitor)"
    )
    parser.add_argument(
        "--worker",
        choices=["ours", "trafilatura", "time-ours", "time-trafilatura"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--pages-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pages < 1 or args.runs < 1 or args.passes < 1:
        parser.error("--pages, --runs and --passes must be at least 1")
    return args


def _median_run(results: Sequence[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in results),
        statistics.median(r.parse_seconds for r in results),
        statistics.median(r.extract_seconds for r in results),
    )


def _timing_worker(kind: str, pages_file: Path, rules_dir: Path | None, passes: int) -> None:
    """In a fresh interpreter: read the pages, make one warm-up pass and `passes` timed passes
    over them with one side, print the median pass and what the warm-up extracted."""
    with pages_file.open("rb") as fh:
        pages: list[Page] = pickle.load(fh)
    tally = Yield()
    if kind == "time-ours":
        from monitor import load_rules

        rules = load_rules(rules_dir)
        run_ours(pages, rules, tally)
        run = _median_run([run_ours(pages, rules) for _ in range(passes)])
    else:
        extract = _trafilatura()
        if extract is None:
            sys.exit("trafilatura is not importable")
        run_trafilatura(pages, extract, tally)
        run = _median_run([run_trafilatura(pages, extract) for _ in range(passes)])
    print(json.dumps({"run": dataclasses.asdict(run), "yield": dataclasses.asdict(tally)}))


def _timed_in_turn(
    kind: str, pages_file: Path, args: argparse.Namespace
) -> tuple[Run, Yield] | None:
    options = [f"--pages-file={pages_file}", f"--passes={args.passes}"]
    found = _worker_result(kind, options, args)
    return (Run(**found["run"]), Yield(**found["yield"])) if found is not None else None


def time_both(
    pages: Sequence[Page], args: argparse.Namespace
) -> tuple[Run, Yield, Run | None, Yield | None, list[float]]:
    """Each side timed in a fresh process of its own (so that neither runs in the other's
    heap), the two taking turns for `--runs` rounds (so that a machine slowing down or
    speeding up weighs on both alike): the medians of each side and the ratio (their time /
    ours) of each round."""
    with tempfile.TemporaryDirectory() as tmp:
        pages_file = Path(tmp) / "pages.pickle"
        with pages_file.open("wb") as fh:
            pickle.dump(list(pages), fh, protocol=pickle.HIGHEST_PROTOCOL)
        ours_runs: list[Run] = []
        theirs_runs: list[Run] = []
        ours_yield = Yield()
        theirs_yield: Yield | None = None
        for _ in range(args.runs):
            ours = _timed_in_turn("time-ours", pages_file, args)
            assert ours is not None
            ours_runs.append(ours[0])
            ours_yield = ours[1]
            theirs = _timed_in_turn("time-trafilatura", pages_file, args)
            if theirs is None:
                continue
            theirs_runs.append(theirs[0])
            theirs_yield = theirs[1]
    if not theirs_runs:
        print("trafilatura is not importable (pip install trafilatura): reporting ours only")
        return _median_run(ours_runs), ours_yield, None, None, []
    ratios = [t.seconds / o.seconds for o, t in zip(ours_runs, theirs_runs, strict=True)]
    return _median_run(ours_runs), ours_yield, _median_run(theirs_runs), theirs_yield, ratios


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.worker in ("time-ours", "time-trafilatura"):
        _timing_worker(args.worker, args.pages_file, args.rules, args.passes)
        return 0
    if args.worker:
        _worker(args.worker, args.pages, args.seed, args.rules)
        return 0
    # Memory first, while this process is still small (see Memory.spawned_at_mb).
    ours_memory = peak_memory("ours", args)
    assert ours_memory is not None
    theirs_memory = peak_memory("trafilatura", args)

    pages = generate_pages(args.pages, args.seed)
    ours, ours_yield, theirs, theirs_yield, ratios = time_both(pages, args)
    results = Results(ours, ours_yield, ours_memory, theirs, theirs_yield, theirs_memory, ratios)
    report(pages, args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
