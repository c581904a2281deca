"""Grading at every threshold boundary of DOMAIN.md §3 ("以上"包括本数)."""

from __future__ import annotations

import pytest

from classifiers import EventCategory, EventLevel, EventType, grade
from classifiers.facts import Fact, Facts


def facts(**values: float | tuple[float, str]) -> Facts:
    made = {}
    mentions = []
    for name, value in values.items():
        number, kind = value if isinstance(value, tuple) else (value, "total")
        fact = Fact(name, float(number), 0, 1, "x", kind=kind)
        made[name] = fact
        mentions.append(fact)
    return Facts(mentions=tuple(mentions), **made)


ACCIDENT_BOUNDARIES = [
    ("deaths", [(2, "IV"), (3, "III"), (9, "III"), (10, "II"), (29, "II"), (30, "I")]),
    ("serious_injured", [(9, "IV"), (10, "III"), (49, "III"), (50, "II"), (99, "II"), (100, "I")]),
    (
        "economic_loss_cny",
        [
            (9_999_999, "IV"),
            (10_000_000, "III"),
            (49_999_999, "III"),
            (50_000_000, "II"),
            (99_999_999, "II"),
            (100_000_000, "I"),
        ],
    ),
]


@pytest.mark.parametrize("event_type", [EventType.WORK_SAFETY, EventType.TRAFFIC, EventType.FIRE])
@pytest.mark.parametrize(("field", "cases"), ACCIDENT_BOUNDARIES)
def test_accident_thresholds(event_type: EventType, field: str, cases: list[tuple[float, str]]) -> None:
    for value, level in cases:
        assert grade(event_type, facts(**{field: value}))[0] == EventLevel(level), (field, value)


def test_accident_without_numbers_is_general() -> None:
    assert grade(EventType.FIRE, Facts())[0] == EventLevel.IV


def test_any_one_criterion_suffices_and_the_highest_wins() -> None:
    level, why = grade("生产安全", facts(deaths=3, economic_loss_cny=120_000_000))
    assert level == EventLevel.I
    assert any("直接经济损失" in line for line in why)


POLLUTION_BOUNDARIES = [
    ("deaths", [(2, "IV"), (3, "III"), (10, "II"), (30, "I")]),
    ("serious_injured", [(9, "IV"), (10, "III"), (50, "II"), (100, "I")]),
    (
        "people_involved",
        [
            ((4_999, "evacuated"), "IV"),
            ((5_000, "evacuated"), "III"),
            ((10_000, "evacuated"), "II"),
            ((50_000, "evacuated"), "I"),
        ],
    ),
    ("economic_loss_cny", [(4_999_999, "IV"), (5_000_000, "III"), (20_000_000, "II"), (100_000_000, "I")]),
]


@pytest.mark.parametrize(("field", "cases"), POLLUTION_BOUNDARIES)
def test_pollution_thresholds(field: str, cases: list[tuple[object, str]]) -> None:
    for value, level in cases:
        assert grade(EventType.POLLUTION, facts(**{field: value}))[0] == EventLevel(level), (field, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dead", "missing", "level"),
    [
        (0, 0, "IV"),  # below every national threshold: handled as 一般 (IV) by local plans
        (19, 0, "IV"),
        (20, 0, "IV"),
        (15, 5, "IV"),
        (49, 0, "IV"),
        (50, 0, "III"),
        (100, 0, "II"),
        (199, 0, "II"),
        (200, 0, "I"),
    ],
)
def test_natural_disaster_counts_dead_and_missing(dead: int, missing: int, level: str | None) -> None:
    got = grade(EventType.NATURAL_DISASTER, facts(deaths=dead, missing=missing))[0]
    assert got == (None if level is None else EventLevel(level))


@pytest.mark.parametrize(
    ("evacuated", "level"), [(99_999, "IV"), (100_000, "IV"), (500_000, "III"), (1_000_000, "II"), (2_000_000, "I")]
)
def test_natural_disaster_relocation(evacuated: int, level: str | None) -> None:
    got = grade(EventCategory.NATURAL_DISASTER, facts(people_involved=(evacuated, "evacuated")))[0]
    assert got == (None if level is None else EventLevel(level))


def test_affected_population_is_not_relocation() -> None:
    assert grade(EventType.NATURAL_DISASTER, facts(people_involved=(3_000_000, "affected")))[0] == EventLevel.IV


@pytest.mark.parametrize(
    ("kwargs", "level"),
    [
        ({"people_involved": (999, "participants")}, "IV"),
        ({"people_involved": (1000, "participants")}, "II"),
        ({"people_involved": (5000, "participants")}, "I"),
        ({"deaths": 2}, "IV"),
        ({"deaths": 3}, "II"),
        ({"deaths": 10}, "I"),
        ({"injured": 9}, "IV"),
        ({"injured": 10}, "II"),
        ({"injured": 30}, "I"),
    ],
)
def test_social_security(kwargs: dict[str, object], level: str | None) -> None:
    got = grade(EventType.SOCIAL_SECURITY, facts(**kwargs))[0]  # type: ignore[arg-type]
    assert got == (None if level is None else EventLevel(level))


@pytest.mark.parametrize(
    ("ill", "dead", "collective", "level"),
    [
        (29, 0, False, "IV"),
        (30, 0, False, "IV"),
        (99, 0, False, "IV"),
        (101, 0, False, "III"),
        (5, 0, True, "III"),
        (4, 0, True, "IV"),
        (10, 1, False, "III"),
        (101, 1, False, "II"),
        (0, 10, False, "II"),
        # the dead are among the poisoned: 100 still ill and 1 dead is 101 poisoned
        (100, 1, False, "II"),
        (99, 1, False, "III"),
    ],
)
def test_food_poisoning(ill: int, dead: int, collective: bool, level: str | None) -> None:
    """``ill`` is the injured figure: those poisoned who are alive (each victim is counted once)."""
    got = grade(EventType.FOOD_POISONING, facts(injured=(ill, "poisoned"), deaths=dead), collective_unit=collective)[0]
    assert got == (None if level is None else EventLevel(level))


def test_non_emergency_is_not_graded() -> None:
    assert grade(EventType.LIVELIHOOD, facts(deaths=50))[0] is None


def test_grade_from_extracted_text_never_below_facts() -> None:
    from classifiers import extract_facts

    assert grade("火灾", extract_facts("火灾造成30余人死亡"))[0] == EventLevel.I
    assert grade("火灾", extract_facts("火灾造成近30人死亡"))[0] == EventLevel.II


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        grade("台风来了", Facts())


@pytest.mark.parametrize(("poisoned", "level"), [(9, "IV"), (10, "III"), (49, "III"), (50, "II"), (100, "I")])
def test_pollution_counts_the_poisoned(poisoned: int, level: str) -> None:
    # §3.8: the column is 中毒或重伤 — people poisoned by a leak count as well as the seriously injured.
    assert grade(EventType.POLLUTION, facts(injured=(poisoned, "poisoned")))[0] == EventLevel(level)


def test_pollution_grade_from_text_counts_the_poisoned_once() -> None:
    from classifiers import extract_facts

    level, why = grade("环境污染", extract_facts("一化工企业发生氯气泄漏，造成12人中毒"))
    assert level == EventLevel.III and any("中毒或重伤12" in line for line in why)
    # the same 15 people are poisoned and (acute poisoning) seriously injured: 15, not 30
    level, why = grade("环境污染", extract_facts("某化工厂发生泄漏事故，导致15名工人急性中毒"))
    assert level == EventLevel.III and any("中毒或重伤15" in line for line in why)
    # an injury that is not poisoning is not 中毒或重伤
    assert grade("环境污染", extract_facts("泄漏事故造成12人受伤"))[0] == EventLevel.IV
    # people sent to hospital whose words say they were poisoned count as poisoned
    level, why = grade("环境污染", extract_facts("化工园区氯气泄漏，60余人中毒送医"))
    assert level == EventLevel.II and any("中毒或重伤60" in line for line in why)


# --- the schemes as data (classifiers/grading_schemes.yaml) ------------------------------------

import _grading_reference as reference  # noqa: E402 - the grading code before the schemes were data
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from classifiers import normalize  # noqa: E402
from classifiers.facts import Fact as _Fact  # noqa: E402
from classifiers.grading import (  # noqa: E402
    GradingConfigError,
    default_schemes,
    load_schemes,
)

GRADED_KINDS = [
    *(t for t in EventType),
    *(c for c in EventCategory),
]
# Every threshold of the old code, one below and one above: where a wrong number or a wrong
# comparison (≥ against >) shows.
_EDGES = sorted(
    {
        v + d
        for v in (1, 3, 5, 10, 20, 29, 30, 50, 99, 100, 101, 200, 500, 1000, 5000, 10_000, 50_000, 100_000,
                  500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000)
        for d in (-1, 0, 1)
    }
)  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(_EDGES),
    st.integers(0, 120),
    st.integers(0, 3_000_000),
    st.floats(0, 1e9).map(lambda x: round(x, 1)),
)
_KINDS = {
    "deaths": ["total"],
    "missing": ["total"],
    "injured": ["total", "serious", "light", "minor", "poisoned", "sum"],
    "serious_injured": ["total", "serious"],
    "economic_loss_cny": ["total"],
    "people_involved": ["evacuated", "affected", "participants"],
}


@st.composite
def random_facts(draw: st.DrawFn) -> Facts:
    """Facts with several statements per field (kinds, qualifiers, 中毒 in the words) and one of
    them resolved, as extract_facts leaves them."""
    mentions: list[_Fact] = []
    resolved: dict[str, _Fact] = {}
    for name, kinds in _KINDS.items():
        found = [
            _Fact(
                name,
                float(draw(_VALUES)),
                0,
                1,
                draw(st.sampled_from(["x", "中毒", "急性中毒", "受伤"])),
                kind=draw(st.sampled_from(kinds)),
                qualifier=draw(st.sampled_from(["exact", "approx", "more_than", "nearly", "vague", "range"])),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        mentions += found
        if found:
            resolved[name] = draw(st.sampled_from(found))
    return Facts(mentions=tuple(mentions), **resolved)


@settings(max_examples=800, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_facts(), st.sampled_from(GRADED_KINDS), st.booleans())
def test_shipped_schemes_grade_exactly_as_the_old_code(facts: Facts, kind: object, collective: bool) -> None:
    old_level, old_why = reference.grade(kind, facts, collective_unit=collective)  # type: ignore[arg-type]
    level, why = grade(kind, facts, collective_unit=collective)  # type: ignore[arg-type]
    assert level == old_level, (kind, facts.to_dict(), why)
    if isinstance(kind, EventType) and kind in reference.SCHEMES:
        assert why == old_why  # the reasons people already read (web, alerts) are unchanged
    # a text that shows no qualitative case changes nothing
    assert grade(kind, facts, collective_unit=collective, text="某地发生一起事件，有关部门正在处置。")[0] == level  # type: ignore[arg-type]


def test_every_boundary_of_the_old_tables_against_the_reference() -> None:
    """The table form of the proof: each field alone at each edge, then every pair of fields at
    the small edges (food poisoning adds the dead to the sick; 100 sick and 1 dead is not 101)."""
    cases: list[Facts] = []
    for name, kinds in _KINDS.items():
        for fact_kind in kinds:
            for value in _EDGES:
                for qualifier in ("exact", "nearly"):
                    fact = _Fact(name, float(value), 0, 1, "中毒", kind=fact_kind, qualifier=qualifier)
                    cases.append(Facts(mentions=(fact,), **{name: fact}))
    small = [0, 1, 2, 3, 4, 5, 9, 10, 11, 29, 30, 31, 99, 100, 101]
    fields = [("deaths", "total"), ("missing", "total"), ("injured", "poisoned"), ("injured", "total"),
              ("serious_injured", "serious"), ("people_involved", "participants")]  # fmt: skip
    for i, (a, kind_a) in enumerate(fields):
        for b, kind_b in fields[i + 1 :]:
            if a == b:
                continue
            for x in small:
                for y in small:
                    fa, fb = _Fact(a, x, 0, 1, "x", kind=kind_a), _Fact(b, y, 0, 1, "x", kind=kind_b)
                    cases.append(Facts(mentions=(fa, fb), **{a: fa, b: fb}))
    for kind in GRADED_KINDS:
        for f in cases:
            for collective in (False, True):
                got = grade(kind, f, collective_unit=collective)[0]  # type: ignore[arg-type]
                assert got == reference.grade(kind, f, collective_unit=collective)[0], (kind, f.to_dict())


def test_why_cites_the_scheme_source() -> None:
    level, why = grade(EventType.TRAFFIC, facts(deaths=3))
    assert level == EventLevel.III
    assert why == ["死亡3 ≥ 3 → III级", "依据：国务院令第493号 第三条(道路交通事故按省级预案参照)"]


def test_food_poisoning_reasons_name_the_criteria() -> None:
    level, why = grade(EventType.FOOD_POISONING, facts(injured=(100, "poisoned"), deaths=1))
    assert level == EventLevel.II
    source = "江苏省2006年突发公共卫生事件分级(食物中毒)，地方标准，可配置"
    assert f"一次中毒超过100人并出现死亡：中毒(含死亡)101、死亡1 → II级（依据：{source}）" in why
    level, why = grade(EventType.FOOD_POISONING, facts(injured=(6, "poisoned")), collective_unit=True)
    assert level == EventLevel.III and any("集体单位" in w and "发生在集体单位" in w for w in why)
    level, why = grade(EventType.FOOD_POISONING, facts(injured=(12, "poisoned")))
    assert level == EventLevel.IV and why[0] == "未达更高等级标准 → IV级"


# --- keyword criteria (DOMAIN.md §3.6, §3.8, §3.9) ----------------------------------------------


def graded(kind: EventType, text: str, **values: float | tuple[float, str]) -> tuple[EventLevel | None, list[str]]:
    return grade(kind, facts(**values), text=normalize(text))


@pytest.mark.parametrize(
    "text",
    [
        "某市发现肺鼠疫病例，疫情有扩散趋势。",
        "肺炭疽疫情波及2个以上省份，并有进一步扩散趋势",
        "我省出现人感染高致病性禽流感病例，疫情呈扩散态势。",
        "A省、B省等多个省份报告群体性不明原因疾病病例，并有扩散趋势。",
        "实验室烈性病菌株丢失，警方已介入。",
        "邻国发生特大传染病疫情。我市口岸发现2例输入性病例。",
        "已消灭的传染病重新流行，引发关注。",
    ],
)
def test_public_health_cases_the_text_shows_are_grade_one(text: str) -> None:
    level, why = graded(EventType.PUBLIC_HEALTH, text)
    assert level == EventLevel.I, why
    assert any("依据：《国家突发公共卫生事件应急预案》特别重大突发公共卫生事件(Ⅰ级)" in w for w in why), why


@pytest.mark.parametrize(
    "text",
    [
        "某县报告1例肺鼠疫病例，经流调，目前无扩散趋势。",  # negated
        "某县报告1例肺鼠疫病例，已隔离治疗。",  # a case, no spread
        "专家介绍禽流感的传播途径。防控形势总体平稳，疫情扩散趋势明显的地区另行研判。",  # not one sentence
        "我市新增3例确诊病例，均在隔离点发现。",
        "实验室菌株管理严格，未丢失。",
        "肺鼠疫疫情扩散趋势不明显。",
        "要防止出现扩散趋势，肺鼠疫防控不可松懈。",
    ],
)
def test_public_health_without_a_matching_case_stays_for_a_person(text: str) -> None:
    level, why = graded(EventType.PUBLIC_HEALTH, text)
    assert level is None, why
    assert "未达可判定的分级标准，需人工研判" in why


def test_public_health_without_text_is_todays_behaviour() -> None:
    assert grade(EventType.PUBLIC_HEALTH, Facts())[0] is None
    assert grade(EventType.PUBLIC_HEALTH, Facts(), text=None)[0] is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("上游化工厂泄漏致河水污染，县城集中式饮用水水源地取水中断。", "II"),
        ("受污染影响，某地级市饮用水水源地暂停取水，城区居民排队接水。", "I"),
        ("该镇集中式饮用水水源地停止取水，镇区临时送水。", "III"),
        ("化工厂泄漏，县城饮用水水源地未中断取水。", "IV"),  # negated
        ("化工厂泄漏，造成跨省界水体污染。", "II"),
        ("事故造成国家重点保护野生植物受到破坏。", "III"),
    ],
)
def test_environment_qualitative_cases(text: str, level: str) -> None:
    got, why = graded(EventType.POLLUTION, text)
    assert got == EventLevel(level), why
    if level != "IV":
        assert any("依据：《国家突发环境事件应急预案》(2014) 附件1" in w for w in why), why


def test_a_keyword_criterion_only_raises_the_grade() -> None:
    # 12 deaths is II by the table; a county-level water source (II) and a town's (III) leave it II
    level, why = graded(EventType.POLLUTION, "城区饮用水水源地停止取水。", deaths=12)
    assert level == EventLevel.II
    assert "死亡12 ≥ 10 → II级" in why and any(w.startswith("县级城市集中式饮用水水源地取水中断") for w in why)
    level, _ = graded(EventType.POLLUTION, "地级市饮用水水源地停止取水。", deaths=12)
    assert level == EventLevel.I


@pytest.mark.parametrize(
    ("text", "values", "level"),
    [
        ("数百名村民冲击县政府大院，砸毁车辆。", {}, "I"),
        ("部分群众围攻市委办公楼。", {}, "I"),
        ("村民围堵镇政府大门。", {}, "IV"),  # a township is below 县级
        ("爆炸冲击波震碎了县政府的玻璃。", {}, "IV"),  # 冲击波 is not 冲击
        ("数百人聚集阻断高速公路，交通中断长达9小时。", {}, "I"),
        ("村民聚集堵塞国道约2小时后散去。", {}, "IV"),  # shorter than 8 hours
        ("村民阻断国道近8小时。", {}, "IV"),  # 近8小时 is less than 8
        ("两村约300人参与械斗，造成5人受伤。", {"people_involved": (300, "participants")}, "II"),
        ("两村600余人参与械斗。", {"people_involved": (600, "participants")}, "I"),
        ("两村村民发生械斗。", {"people_involved": (150, "participants")}, "IV"),
        ("阻挠国家重点工程施工，致工地停工两天。", {}, "I"),
        ("县政府大门遭冲击。", {}, "I"),  # the words in either order
        ("经济下行，企业受到冲击，县政府出台帮扶措施。", {}, "IV"),  # 冲击 as a figure of speech
        ("村民聚集，第三天仍有人在高速公路收费站附近中断交通。", {}, "IV"),  # 第三天 is not 3 days
    ],
)
def test_social_security_qualitative_cases(text: str, values: dict[str, object], level: str) -> None:
    got, why = graded(EventType.SOCIAL_SECURITY, text, **values)  # type: ignore[arg-type]
    assert got == EventLevel(level), why


def test_matched_criterion_reason_names_the_words_and_source() -> None:
    _, why = graded(EventType.SOCIAL_SECURITY, "数百人聚集阻断高速公路，交通中断长达9小时。")
    assert why[0] == (
        "阻断铁路繁忙干线、国道、高速公路、重要交通枢纽或城市交通8小时以上停运：文中“阻断”“高速公路”、持续9小时"
        " → I级（依据：《特别重大、重大突发公共事件分级标准（试行）》特别重大群体性事件）"
    )
    assert why[-1].startswith("依据：《特别重大、重大突发公共事件分级标准（试行）》")


def test_keywords_need_the_text() -> None:
    assert grade(EventType.SOCIAL_SECURITY, Facts())[0] == EventLevel.IV
    assert grade(EventType.SOCIAL_SECURITY, Facts(), text=normalize("群众冲击县政府"))[0] == EventLevel.I


def test_keywords_match_the_normalised_text() -> None:
    # traditional characters and full-width digits, as collectors store them after normalize()
    level, _ = graded(EventType.SOCIAL_SECURITY, "村民阻斷高速公路，交通中斷９小時。")
    assert level == EventLevel.I


@pytest.mark.parametrize(
    ("text", "values", "level"),
    [
        ("重要会议期间，参会人员发生食物中毒，8人送医。", {"injured": (8, "poisoned")}, "II"),
        ("重大活动期间发生食物中毒，1人死亡。", {"injured": (3, "poisoned"), "deaths": 1}, "II"),
        ("周末聚餐后8人食物中毒。", {"injured": (8, "poisoned")}, "IV"),
    ],
)
def test_food_poisoning_during_an_important_event(text: str, values: dict[str, object], level: str) -> None:
    got, why = graded(EventType.FOOD_POISONING, text, **values)  # type: ignore[arg-type]
    assert got == EventLevel(level), why


# --- a deployment's own schemes ------------------------------------------------------------------


LOCAL_SOCIAL = {
    "社会安全": {
        "source": "某市《群体性事件应急预案》(2023)",
        "floor": "IV",
        "criteria": [
            {"label": "参与人数", "quantity": "participants", "at_least": {"I": 3000, "II": 500, "III": 100, "IV": 30}},
        ],
    }
}


def test_a_deployment_replaces_one_scheme_and_keeps_the_others() -> None:
    schemes = load_schemes(LOCAL_SOCIAL)
    level, why = grade(EventType.SOCIAL_SECURITY, facts(people_involved=(120, "participants")), schemes=schemes)
    assert level == EventLevel.III
    assert why == ["参与人数120 ≥ 100 → III级", "依据：某市《群体性事件应急预案》(2023)"]
    # the shipped scheme says 一般 for 120 participants
    assert grade(EventType.SOCIAL_SECURITY, facts(people_involved=(120, "participants")))[0] == EventLevel.IV
    # other types keep the shipped schemes
    assert schemes.schemes[EventType.FIRE] == default_schemes().schemes[EventType.FIRE]
    assert grade(EventType.FIRE, facts(deaths=10), schemes=schemes)[0] == EventLevel.II


def test_a_provinces_road_traffic_scheme() -> None:
    local = {
        "交通事故": {
            "source": "某省道路交通事故应急预案",
            "floor": "IV",
            "criteria": [{"label": "死亡", "quantity": "deaths", "at_least": {"I": 30, "II": 10, "III": 3, "IV": 1}}],
        }
    }
    level, why = grade("交通事故", facts(deaths=5), schemes=load_schemes(local))
    assert level == EventLevel.III and why[-1] == "依据：某省道路交通事故应急预案"
    assert grade("生产安全", facts(deaths=5), schemes=load_schemes(local))[1][-1] == "依据：国务院令第493号 第三条"


def test_a_deployment_can_add_a_keyword_rule_with_its_own_source() -> None:
    local = {
        "公共卫生": {
            "source": "某省突发公共卫生事件应急预案",
            "floor": None,
            "criteria": [
                {
                    "label": "1个县1个平均潜伏期内发生5例以上肺鼠疫",
                    "source": "某省鼠疫控制应急预案 Ⅱ级",
                    "level": "II",
                    "keywords": [["肺鼠疫"], ["5例", "6例", "7例"]],
                },
            ],
        }
    }
    level, why = grade("公共卫生", Facts(), text="某县6天内报告5例肺鼠疫病例", schemes=load_schemes(local))
    assert level == EventLevel.II
    assert why[0] == "1个县1个平均潜伏期内发生5例以上肺鼠疫：文中“肺鼠疫”“5例” → II级（依据：某省鼠疫控制应急预案 Ⅱ级）"


def _bad(change: dict[str, object]) -> GradingConfigError:
    with pytest.raises(GradingConfigError) as exc:
        load_schemes(change)
    return exc.value


@pytest.mark.parametrize(
    ("config", "path", "words"),
    [
        ({"台风": {}}, ("台风",), ["not a graded event type", "生产安全"]),
        ({"民生诉求": LOCAL_SOCIAL["社会安全"]}, ("民生诉求",), ["not a graded event type"]),
        ({"火灾": {"source": "x", "criteria": []}}, ("火灾",), ["'floor'", "floor: IV"]),
        ({"火灾": {"source": "x", "floor": "V", "criteria": []}}, ("火灾", "floor"), ["'V' is not a grade", "null"]),
        ({"火灾": {"floor": "IV", "criteria": []}}, ("火灾",), ["'source'"]),
        ({"火灾": {"source": "x", "floor": "IV", "criterias": []}}, ("火灾", "criterias"), ["unknown key"]),
        (
            {
                "火灾": {
                    "source": "x",
                    "floor": "IV",
                    "criteria": [{"label": "死亡", "quantity": "death", "at_least": {"I": 3}}],
                }
            },
            ("火灾", "criteria", 0, "quantity"),
            ["unknown quantity 'death'", "deaths"],
        ),
        (
            {
                "火灾": {
                    "source": "x",
                    "floor": "IV",
                    "criteria": [{"label": "死亡", "quantity": "deaths", "at_least": {"I": 3, "II": 10}}],
                }
            },
            ("火灾", "criteria", 0, "at_least", "II"),
            ["never reached", "go down from I to IV"],
        ),
        (
            {
                "火灾": {
                    "source": "x",
                    "floor": "IV",
                    "criteria": [{"label": "死亡", "quantity": "deaths", "at_least": {"I": "三十"}}],
                }
            },
            ("火灾", "criteria", 0, "at_least", "I"),
            ["expected a number", "write digits"],
        ),
        (
            {"火灾": {"source": "x", "floor": "IV", "criteria": [{"label": "x", "level": "I"}]}},
            ("火灾", "criteria", 0),
            ["at least one condition"],
        ),
        (
            {"火灾": {"source": "x", "floor": "IV", "criteria": [{"label": "x", "level": "I", "keywords": "烧毁"}]}},
            ("火灾", "criteria", 0, "keywords"),
            ["expected a list"],
        ),
        (
            {"火灾": {"source": "x", "floor": "IV", "criteria": [{"label": "x", "level": "I", "keyword": ["烧毁"]}]}},
            ("火灾", "criteria", 0, "keyword"),
            ["unknown key", "keywords"],
        ),
        (
            {
                "火灾": {
                    "source": "x",
                    "floor": "IV",
                    "criteria": [{"label": "x", "level": "I", "counts": [{"quantity": "deaths"}]}],
                }
            },
            ("火灾", "criteria", 0, "counts", 0),
            ["at_least, more_than"],
        ),
    ],
)
def test_a_bad_scheme_names_the_key_and_the_fix(
    config: dict[str, object], path: tuple[object, ...], words: list[str]
) -> None:
    error = _bad(config)
    assert error.path == path, str(error)
    for word in words:
        assert word in str(error), str(error)
    assert "fix:" in str(error)


def test_the_shipped_file_is_valid_and_covers_every_emergency_type() -> None:
    from classifiers.types import EMERGENCY_CATEGORY

    assert set(default_schemes().schemes) == set(EMERGENCY_CATEGORY)


def test_a_mass_fight_or_storming_a_government_counts_its_participants() -> None:
    from classifiers import extract_facts

    assert extract_facts("两村500余人发生群体性械斗").value("people_involved") == 500
    assert extract_facts("千余名村民冲击县政府").value("people_involved") == 1000
    assert extract_facts("洪水冲击堤坝").value("people_involved") is None  # not people storming anything
    level, why = grade("社会安全", extract_facts("千余名村民冲击县政府"), text="千余名村民冲击县政府")
    assert level == EventLevel.I  # 冲击县级以上党政机关 (§3.9), with 1,000 participants (II) as well
    assert any("参与人数1000" in line for line in why)
