"""Attribution: each number bound to the right metric and dims, in each language, and the traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import extract_text, load_rules, store

RULES = load_rules()


def figures(text: str, lang: str | None = None, published: str | None = None) -> set[tuple]:
    result = extract_text(text, RULES, lang=lang, published=published)
    return {(f.metric, tuple(sorted(f.dims.items())), f.value) for f in result.figures}


def statuses(text: str, published: str | None = None) -> dict[str, str]:
    result = extract_text(text, RULES, published=published)
    return {s.counterparty: s.status for s in result.statuses if s.current}


CA = "citizens_abroad"
FW = "foreign_workers"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Из 14 тыс. казахстанцев, работающих в Корее, 10 тыс. трудятся нелегально.",
            {
                (CA, (("country", "KR"),), 14000),
                (CA, (("country", "KR"), ("legal", "undocumented")), 10000),
            },
        ),
        (
            "В России – 98 тыс. казахстанцев, в Корее – 14 тыс., в Германии – 3 тыс.",
            {
                (CA, (("country", "RU"),), 98000),
                (CA, (("country", "KR"),), 14000),
                (CA, (("country", "DE"),), 3000),
            },
        ),
        (
            "About 3,000 Kazakh citizens work in Poland and Germany.",
            {(CA, (("country", "DE+PL"),), 3000)},
        ),
        (
            "Ресейде 90 мыңнан астам, Оңтүстік Кореяда 12 мыңға жуық қазақстандық жұмыс істейді.",
            {(CA, (("country", "RU"),), 90000), (CA, (("country", "KR"),), 12000)},
        ),
    ],
)
def test_countries_bind_to_their_own_number(text: str, expected: set) -> None:
    assert figures(text) == expected


def test_subject_carries_to_the_next_sentences() -> None:
    text = (
        "Шетелде 120 мың қазақстандық жұмыс істейді.\n"
        "Оның 97 мыңы Ресейде еңбек етеді.\n"
        "13 мыңы Оңтүстік Кореяда."
    )
    assert figures(text) == {
        (CA, (), 120000),
        (CA, (("country", "RU"),), 97000),
        (CA, (("country", "KR"),), 13000),
    }


def test_of_them_inherits_the_country_of_the_figure_before() -> None:
    text = "В Южной Корее работают 14 тыс. казахстанцев. Из них 10 тыс. – нелегально."
    assert figures(text) == {
        (CA, (("country", "KR"),), 14000),
        (CA, (("country", "KR"), ("legal", "undocumented")), 10000),
    }


def test_list_in_brackets_after_each_name() -> None:
    text = (
        "As of April 1, 2025, 13,900 foreign workers were employed in Kazakhstan. "
        "Most came from China (4,800), followed by Uzbekistan (1,700) and Turkey (1,050)."
    )
    assert figures(text) == {
        (FW, (), 13900),
        (FW, (("origin", "CN"),), 4800),
        (FW, (("origin", "UZ"),), 1700),
        (FW, (("origin", "TR"),), 1050),
    }


def test_each_gives_one_figure_per_sector() -> None:
    text = "Иностранная рабочая сила: в строительстве и сельском хозяйстве – по 2,1 тыс. человек."
    assert figures(text) == {
        (FW, (("sector", "agriculture"),), 2100),
        (FW, (("sector", "construction"),), 2100),
    }


def test_violations_by_region_in_kazakh() -> None:
    text = (
        "Көші-қон заңнамасын бұзудың 1,2 мың фактісі анықталды. Ең көп құқықбұзушылық "
        "Алматы қаласында (310), Астанада (205) және Түркістан облысында (98) тіркелді."
    )
    assert figures(text) == {
        ("migration_violations", (), 1200),
        ("migration_violations", (("region", "almaty"),), 310),
        ("migration_violations", (("region", "astana"),), 205),
        ("migration_violations", (("region", "turkestan_region"),), 98),
    }


def test_fines_keep_one_currency_and_the_collected_stage() -> None:
    text = "Штрафы составили 98,4 млн тенге ($190 тыс.). Из этой суммы взыскано 70 млн тенге."
    result = extract_text(text, RULES)
    got = {(f.metric, tuple(f.dims.items()), f.value, f.unit) for f in result.figures}
    assert got == {
        ("migration_fines", (), 98400000, "KZT"),
        ("migration_fines", (("stage", "collected"),), 70000000, "KZT"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "В Казахстане работают 20 тыс. трудовых мигрантов из Узбекистана.",
        "В России трудятся более 1 млн граждан Узбекистана.",
        "Uzbekistan has 1.5 million migrants working in Russia.",
        "Ресейде 1 миллионнан астам Өзбекстан азаматы жұмыс істейді.",
        "Казахстанцы работают более чем в 40 странах мира.",
        "Қазақстандықтар 15-тен астам елде жұмыс істейді.",
        "Kazakh citizens work in more than 40 countries.",
        "Население Казахстана превысило 20 млн человек, из них за рубежом работают многие.",
        "Средняя зарплата казахстанцев в Корее составляет 2 тыс. долларов.",
        "Kazakh workers in Korea earn about $2,000 a month.",
        "Кореядағы қазақстандықтардың жалақысы айына 1,5 млн теңгеге жетеді.",
        "In 2024, Kazakh citizens aged 18 to 35 worked abroad.",
        "Справки для казахстанцев за рубежом: 8 800 080 7777.",
    ],
)
def test_traps_give_no_figure(text: str) -> None:
    assert figures(text) == set()


def test_as_of_from_the_sentence_else_publication_date() -> None:
    text = (
        "По состоянию на 1 октября 2025 года за рубежом работают 126 тыс. казахстанцев.\n"
        "В Корее работают 15 тыс. казахстанцев."
    )
    result = extract_text(text, RULES, published="2025-10-09")
    as_of = {f.value: f.as_of for f in result.figures}
    assert as_of == {126000: "2025-10-01", 15000: "2025-10-09"}


def test_comparison_figure_refers_to_the_year_before() -> None:
    text = "This year 80 investor visas were issued, compared to 95 in 2022 and 60 last year."
    result = extract_text(text, RULES, published="2024-05-02")
    as_of = {f.value: f.as_of for f in result.figures}
    assert as_of == {80: "2024", 95: "2022", 60: "2023"}


def test_bounds_reach_the_output() -> None:
    text = (
        "Шетелде 126 мыңнан астам отандасымыз жұмыс істейді. "
        "Около 2 тыс. казахстанцев работают в Великобритании."
    )
    result = extract_text(text, RULES)
    assert {f.value: f.bound for f in result.figures} == {126000: "at_least", 2000: "approx"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Labour talks with South Korea were paused in 2024. Negotiations resumed this autumn.",
            {"KR": "resumed"},
        ),
        (
            "Переговоры с Южной Кореей о трудовой миграции продолжаются. "
            "Документ направлен корейской стороне.",
            {"KR": "draft_submitted"},
        ),
        (
            "Оңтүстік Кореямен еңбек келісіміне қол қойылды. Келісім әлі ратификацияланған жоқ.",
            {"KR": "signed"},
        ),
        ("The labour agreement with the UK entered into force on 1 March.", {"GB": "in_force"}),
        (
            "Соглашение о трудовой миграции с Германией ратифицировано Мажилисом.",
            {"DE": "ratified"},
        ),
        ("Kazakhstan and the UAE plan to sign a labour migration agreement.", {"AE": "proposed"}),
        ("The labour agreement with South Korea has not yet been signed.", {}),
        ("Соглашение о трудовой миграции с Кореей может быть подписано в ближайшее время.", {}),
        ("Кореямен еңбек келісіміне жақын арада қол қойылуы мүмкін.", {}),
        ("Кореямен еңбек көші-қоны туралы келісімге қол қойылмады.", {}),
        ("Kazakhstan and China signed an agreement on visa-free travel for tourists.", {}),
    ],
)
def test_current_status(text: str, expected: dict[str, str]) -> None:
    assert statuses(text, published="2025-11-01") == expected


def test_a_dated_past_status_gives_way_to_the_present_one() -> None:
    text = (
        "В 2019 году стороны подписали меморандум о трудовой миграции с Кореей. "
        "Сейчас переговоры по соглашению с Кореей приостановлены."
    )
    assert statuses(text, published="2025-11-01") == {"KR": "paused"}


def test_exactly_one_current_status_per_counterparty() -> None:
    text = (
        "Переговоры с Кореей о трудовой миграции ведутся два года. Летом они были приостановлены. "
        "Осенью переговоры возобновились, проект соглашения направлен корейской стороне."
    )
    result = extract_text(text, RULES, published="2025-10-09")
    current = [s for s in result.statuses if s.current]
    assert [(s.counterparty, s.status) for s in current] == [("KR", "draft_submitted")]


@pytest.mark.parametrize(
    "text",
    [
        "As of June 1, 2024, 16,000 foreign citizens worked legally in Kazakhstan.\n"
        "Where they work\n"
        "Construction - 6,300\n"
        "Mining - 2,400",
        "На 1 июня 2024 года в Казахстане легально работали 16 тыс. иностранных работников.\n"
        "Где работают\n"
        "Строительство - 6,3 тыс.\n"
        "Горнодобывающая промышленность - 2,4 тыс.",
        "2024 жылғы 1 маусымда Қазақстанда 16 мың шетелдік жұмысшы заңды түрде жұмыс істеді.\n"
        "Қай салада\n"
        "Құрылыс - 6,3 мың\n"
        "Тау-кен өндіру өнеркәсібі - 2,4 мың",
    ],
)
def test_a_subheading_does_not_cut_a_breakdown_from_its_total(text: str) -> None:
    result = extract_text(text, RULES, published="2024-07-01")
    got = {(f.metric, tuple(f.dims.items()), f.value, f.as_of) for f in result.figures}
    assert got == {
        (FW, (), 16000, "2024-06-01"),
        (FW, (("sector", "construction"),), 6300, "2024-06-01"),
        (FW, (("sector", "mining"),), 2400, "2024-06-01"),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "As of June 1, 2024, 16,000 foreign citizens worked legally in the country, "
            "and 6,300 of the foreigners worked in construction. By sector, mining employed "
            "2,400 foreign workers.",
            "en",
        ),
        (
            "На 1 июня 2024 года в стране легально работали 16 тыс. иностранных работников. "
            "В строительстве заняты 6,3 тыс. иностранных работников, в горнодобывающей "
            "промышленности - 2,4 тыс.",
            "ru",
        ),
        (
            "2024 жылғы 1 маусымдағы жағдай бойынша елде 16 мың шетел азаматы заңды түрде "
            "жұмыс істеді. Шетелдіктердің ең көбі құрылыста: 6,3 мың адам, тау-кен өндіру "
            "өнеркәсібінде - 2,4 мың.",
            "kk",
        ),
    ],
)
def test_a_breakdown_in_the_paragraph_of_its_total_shares_its_date(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang, published="2024-07-01")
    assert {f.value: f.as_of for f in result.figures} == {
        16000: "2024-06-01",
        6300: "2024-06-01",
        2400: "2024-06-01",
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Kazakh citizens working abroad sent home $1.1 billion. The largest sums came from "
            "Russia (640 million) and South Korea (210 million).",
            "en",
        ),
        (
            "Казахстанцы, работающие за рубежом, перевели домой 1,1 млрд долларов. Больше всего "
            "прислали из России (640 млн) и Южной Кореи (210 млн).",
            "ru",
        ),
        (
            "Шетелде жұмыс істейтін қазақстандықтар елге 1,1 млрд доллар жіберді. Ең көп ақша "
            "Ресейден (640 млн) және Оңтүстік Кореядан (210 млн) түсті.",
            "kk",
        ),
    ],
)
def test_sums_written_without_their_currency_take_it_from_the_sums_beside(
    text: str, lang: str
) -> None:
    result = extract_text(text, RULES, lang=lang, published="2025-03-01")
    got = {(tuple(sorted(f.dims.items())), f.value, f.unit) for f in result.figures}
    assert got == {
        ((("direction", "in"),), 1_100_000_000, "USD"),
        ((("country", "RU"), ("direction", "in")), 640_000_000, "USD"),
        ((("country", "KR"), ("direction", "in")), 210_000_000, "USD"),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Migrants sent $2.1 billion abroad from Kazakhstan. They made 1.6 million transfers.",
            "en",
        ),
        ("Мигранты отправили из Казахстана 2,1 млрд долларов. Совершено 1,6 млн переводов.", "ru"),
        ("Мигранттар Қазақстаннан 2,1 млрд доллар жіберді. Аударымдар саны 1,6 млн болды.", "kk"),
    ],
)
def test_a_count_of_transfers_is_not_a_sum(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang, published="2025-03-01")
    assert [f.value for f in result.figures] == [2_100_000_000]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "In 2023 migrants sent $2.96 billion abroad from Kazakhstan. "
            "A year earlier the outflow "
            "was $3.8 billion.",
            "en",
        ),
        (
            "В 2023 году мигранты перевели из Казахстана 2,96 млрд долларов. Годом ранее отток "
            "составил 3,8 млрд долларов.",
            "ru",
        ),
        (
            "2023 жылы мигранттар Қазақстаннан 2,96 млрд доллар аударды. Алдыңғы жылы бұл "
            "көрсеткіш 3,8 млрд доллар болған.",
            "kk",
        ),
    ],
)
def test_a_year_earlier_counts_from_the_year_the_article_spoke_of(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang, published="2025-03-01")
    assert {f.value: f.as_of for f in result.figures} == {
        2_960_000_000: "2023",
        3_800_000_000: "2022",
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Kazakh citizens working abroad sent $1.3bn home to Kazakhstan in 2024.\n"
            "Outgoing transfers by country:\n"
            "Uzbekistan - $1.12bn\n"
            "Kyrgyzstan - $312m",
            "en",
        ),
        (
            "Казахстанцы, работающие за рубежом, перевели в Казахстан 1,3 млрд долларов.\n"
            "Исходящие переводы по странам:\n"
            "Узбекистан - 1,12 млрд долларов\n"
            "Кыргызстан - 312 млн долларов",
            "ru",
        ),
        (
            "Шетелде жұмыс істейтін қазақстандықтар елге 1,3 млрд доллар жіберді.\n"
            "Шығыс аударымдар елдер бойынша:\n"
            "Өзбекстан - 1,12 млрд доллар\n"
            "Қырғызстан - 312 млн доллар",
            "kk",
        ),
    ],
)
def test_a_list_header_restates_the_direction_of_the_list(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang, published="2025-03-01")
    got = {(tuple(sorted(f.dims.items())), f.value) for f in result.figures}
    assert got == {
        ((("direction", "in"),), 1_300_000_000),
        ((("country", "UZ"), ("direction", "out")), 1_120_000_000),
        ((("country", "KG"), ("direction", "out")), 312_000_000),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Remittances sent by labour migrants from Kazakhstan dropped to $1.9bn in 2024, "
            "from $2.3bn a year earlier.",
            "en",
        ),
        (
            "Переводы трудовых мигрантов из Казахстана в 2024 году снизились до 1,9 млрд "
            "долларов по сравнению с 2,3 млрд долларов годом ранее.",
            "ru",
        ),
        (
            "2024 жылы Қазақстаннан еңбек мигранттарының аударымдары 1,9 млрд долларға дейін "
            "азайды, бұл алдыңғы жылмен салыстырғанда 2,3 млрд доллар болған.",
            "kk",
        ),
    ],
)
def test_a_comparison_baseline_keeps_the_series_of_its_figure(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang, published="2025-03-01")
    got = {(tuple(sorted(f.dims.items())), f.value, f.as_of) for f in result.figures}
    assert got == {
        ((("direction", "out"),), 1_900_000_000, "2024"),
        ((("direction", "out"),), 2_300_000_000, "2023"),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Kazakhstan and South Korea resume labour talks as the UK seasonal work "
            "memorandum is cancelled.",
            "en",
        ),
        (
            "Казахстан и Южная Корея возобновили переговоры по трудовой миграции, тогда как "
            "меморандум о сезонной работе с Великобританией расторгнут.",
            "ru",
        ),
        (
            "Қазақстан мен Оңтүстік Корея еңбек көші-қоны бойынша келіссөздерді қайта бастады, "
            "ал Ұлыбританиямен маусымдық жұмыс туралы меморандумның күші жойылды.",
            "kk",
        ),
    ],
)
def test_each_country_gets_the_status_of_its_own_clause(text: str, lang: str) -> None:
    result = extract_text(text, RULES, lang=lang)
    assert {(s.counterparty, s.status) for s in result.statuses} == {
        ("KR", "resumed"),
        ("GB", "terminated"),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "The situation of Kazakh citizens in South Korea is a special concern. There, "
            "9,000 of the 13,600 Kazakh citizens work illegally.",
            "en",
        ),
        (
            "Особое внимание - положению казахстанцев в Южной Корее. Там из 13,6 тыс. "
            "казахстанцев 9 тыс. работают нелегально.",
            "ru",
        ),
        (
            "Оңтүстік Кореядағы азаматтардың жағдайы ерекше назарда. Ондағы 13,6 мың "
            "қазақстандықтың 9 мыңы заңсыз жұмыс істейді.",
            "kk",
        ),
    ],
)
def test_there_names_the_country_of_the_sentence_before(text: str, lang: str) -> None:
    assert figures(text, lang) == {
        (CA, (("country", "KR"),), 13600),
        (CA, (("country", "KR"), ("legal", "undocumented")), 9000),
    }


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Also, 2,140 foreigners were deported. Most of them were citizens of Uzbekistan "
            "(1,150) and Tajikistan (430).",
            "en",
        ),
        (
            "Также из страны выдворены 2 140 иностранцев. Большинство из них - граждане "
            "Узбекистана (1 150) и Таджикистана (430).",
            "ru",
        ),
        (
            "Сондай-ақ 2 140 шетелдік елден шығарылды. Олардың басым бөлігі - Өзбекстан "
            "(1 150) мен Тәжікстан (430) азаматтары.",
            "kk",
        ),
    ],
)
def test_most_of_them_breaks_a_total_down_by_country(text: str, lang: str) -> None:
    assert figures(text, lang) == {
        ("deportations", (), 2140),
        ("deportations", (("country", "UZ"),), 1150),
        ("deportations", (("country", "TJ"),), 430),
    }


@pytest.mark.parametrize(
    ("first", "second", "lang"),
    [
        (
            "Since the beginning of the year, 1,240 foreigners have been deported.",
            "Since the beginning of the year, 1,410 foreigners have been deported.",
            "en",
        ),
        (
            "С начала года из Казахстана выдворены 1 240 иностранцев.",
            "С начала года из Казахстана выдворены 1 410 иностранцев.",
            "ru",
        ),
        (
            "Жыл басынан бері Қазақстаннан 1 240 шетелдік шығарылды.",
            "Жыл басынан бері Қазақстаннан 1 410 шетелдік шығарылды.",
            "kk",
        ),
    ],
)
def test_a_running_total_since_january_refers_to_the_publication_date(
    first: str, second: str, lang: str, tmp_path: Path
) -> None:
    """Two running totals a month apart are two dates of one series, so the store records
    the second as a change instead of a second value of the year."""
    db = store.connect(tmp_path / "m.db")
    found = []
    for n, (text, published) in enumerate(((first, "2025-09-05"), (second, "2025-10-07"))):
        result = extract_text(text, RULES, lang=lang, published=published)
        found.append([(f.metric, f.value, f.as_of) for f in result.figures])
        changes = store.save_article(
            db,
            source="Outlet",
            url=f"https://outlet.example/{n}",
            guid=None,
            title=None,
            lang=lang,
            published=published,
            fetched_at=f"{published}T12:00:00+00:00",
            text=text,
            extraction=result,
        )
    assert found == [
        [("deportations", 1240, "2025-09-05")],
        [("deportations", 1410, "2025-10-07")],
    ]
    assert [(c["old"], c["new"], c["as_of"]) for c in changes] == [(1240, 1410, "2025-10-07")]
    db.close()
