"""End-to-end behaviour of the shipped models through the public API."""

from __future__ import annotations

import json

from classifiers import Doc, EventLevel, EventType, Gazetteer, OpinionLevel, Pipeline

EXPECTED_KEYS = {
    "id",
    "relevant",
    "relevance_score",
    "event_type",
    "event_category",
    "facts",
    "event_level",
    "opinion_level",
    "unit",
    "co_units",
    "vertical_managed",
    "multi_region",
    "flags",
    "incident",
    "why",
}


def test_result_json_has_the_contract_fields(pipeline: Pipeline) -> None:
    result = pipeline.classify([Doc("a", "小区物业乱收费", "物业公司乱收物业费，业主多次反映未果，希望住建局处理。")])[
        0
    ]
    data = result.to_dict()
    assert set(data) == EXPECTED_KEYS
    assert set(data["facts"]) == {
        "deaths",
        "missing",
        "injured",
        "serious_injured",
        "economic_loss_cny",
        "people_involved",
        "spans",
    }
    json.dumps(data, ensure_ascii=False)
    assert data["relevant"] is True
    assert data["unit"]["department"] == "住房和城乡建设局"


def test_emergency_is_graded_and_explained(pipeline: Pipeline) -> None:
    doc = Doc("b", "化工厂发生爆炸", "今日凌晨某化工厂发生爆炸，造成12人死亡、3人重伤，直接经济损失约6000万元。")
    result = pipeline.classify([doc])[0]
    assert result.relevant
    assert result.event_type == EventType.WORK_SAFETY
    assert result.event_level == EventLevel.II
    assert result.opinion_level == OpinionLevel.L1
    assert result.unit.department == "应急管理局"
    assert result.why["relevance"]["top_terms"]
    assert any(f["text"] == "12人死亡" for f in result.why["facts"])


def test_ordinary_news_is_not_relevant(pipeline: Pipeline) -> None:
    result = pipeline.classify(
        [Doc("c", "湖人队击败勇士", "湖人队在昨晚的比赛中以120比110击败勇士队，詹姆斯砍下35分。")]
    )[0]
    assert not result.relevant
    assert result.event_type == EventType.NOT_GOV
    assert result.unit.department is None


def test_traditional_script_input_gives_the_same_decision(pipeline: Pipeline) -> None:
    simplified = Doc("s", "学校食堂发生食物中毒", "某中学食堂发生疑似食物中毒，共有58名学生出现呕吐症状，已送医治疗。")
    traditional = Doc("t", "學校食堂發生食物中毒", "某中學食堂發生疑似食物中毒，共有58名學生出現嘔吐症狀，已送醫治療。")
    a, b = pipeline.classify([simplified, traditional])
    assert a.event_type == b.event_type == EventType.FOOD_POISONING
    assert a.event_level == b.event_level == EventLevel.III
    assert a.facts.value("injured") == b.facts.value("injured") == 58


def test_rumour_rule_makes_an_item_relevant(pipeline: Pipeline) -> None:
    result = pipeline.classify([Doc("r", "网传某镇发生疫情系谣言", "网传某镇出现新冠确诊病例，经核实系谣言。")])[0]
    assert result.relevant
    assert result.event_type == EventType.RUMOR
    assert result.why["event_type"]["by"] in ("rule:rumor", "rule:rumor_title")


def test_media_tier_raises_the_document_opinion_level(pipeline: Pipeline) -> None:
    text = "我们小区物业公司乱收物业费，业主多次反映未果。"
    low, high = pipeline.classify([Doc("1", "", text), Doc("2", "", text, media_tier="central")])
    assert low.opinion_level == OpinionLevel.L4
    assert high.opinion_level == OpinionLevel.L1


def test_classify_is_deterministic_and_batch_independent(pipeline: Pipeline) -> None:
    docs = [
        Doc(str(i), "", t) for i, t in enumerate(["道路塌陷致2人受伤", "欠薪讨薪无门，希望人社局处理", "新款手机发布"])
    ]
    together = [r.to_dict() for r in pipeline.classify(docs)]
    alone = [pipeline.classify([d])[0].to_dict() for d in docs]
    assert together == alone
    assert pipeline.classify([]) == []


def test_gazetteer_regions_reach_the_output() -> None:
    gazetteer = Gazetteer.default().with_regions({"城东街道": ["城东"]})
    pipeline = Pipeline.load(gazetteer=gazetteer)
    result = pipeline.classify(
        [Doc("g", "城东街道积水", "城东街道多处道路积水严重，下水道堵塞，希望水务局尽快处理。")]
    )[0]
    assert result.unit.region == "城东街道"


def test_a_crowd_over_unpaid_wages_is_owned_by_the_unit_in_charge_of_wages(pipeline: Pipeline) -> None:
    # units.yaml rule_units.collective_action: the 人社局 owns it, 公安局 and 信访局 join. The
    # model reads these as ordinary news (relevance < 0.5); the broader 群体性事件 rule (公安局
    # alone) must not take them first.
    texts = ["两百多工人聚集在公司门口讨薪，拉横幅", "城东工业园三百余名农民工聚集厂门口堵门讨要被拖欠的三个月工资。"]
    for result in pipeline.classify([Doc(str(i), "", t) for i, t in enumerate(texts)]):
        assert result.event_type == EventType.SOCIAL_SECURITY
        assert result.why["event_type"]["by"] == "rule:collective_action"
        assert result.unit.department == "人力资源和社会保障局", result.why["unit"]
        assert {u.department for u in result.co_units} >= {"公安局", "信访局"}


def test_an_incident_is_relevant_even_where_the_relevance_head_never_saw_its_kind(pipeline: Pipeline) -> None:
    # The relevance head scores these low: DuEE files drownings and sinkings under 人生, not disasters.
    texts = ["4名学生在南山水库游泳时溺亡", "一艘渔船在近海沉没，3人失踪"]
    for result in pipeline.classify([Doc(str(i), t, "") for i, t in enumerate(texts)]):
        assert result.relevance_score < 0.5
        assert result.incident and result.relevant
        assert result.event_category is not None and result.event_level is not None
        assert result.why["relevance"]["by"] == "rule:incident"
        assert result.unit.department is not None


def test_an_accident_kind_the_words_contradict_is_corrected(pipeline: Pipeline) -> None:
    mine, lift = pipeline.classify(
        [Doc("m", "山西某煤矿发生透水事故，12名矿工被困", ""), Doc("l", "小区电梯突然坠落，3人受伤", "")]
    )
    for result in (mine, lift):
        assert result.event_type == EventType.WORK_SAFETY
        assert result.why["event_type"]["by"] == "rule:accident_kind"
        assert result.unit.department == "应急管理局"


def test_a_debunked_disaster_is_a_rumour_without_a_grade(pipeline: Pipeline) -> None:
    result = pipeline.classify([Doc("d", "网传明湖化工厂爆炸致50人死亡，经核实系谣言，实际无人员伤亡", "")])[0]
    assert result.relevant and result.event_type == EventType.RUMOR
    assert result.event_level is None and not result.incident
    assert result.facts.value("deaths") == 0  # the 50 is the rumour's figure, not a toll
    assert result.why["event_type"]["by"] == "rule:debunked"


def test_a_corrected_toll_grades_the_real_event_not_the_rumour(pipeline: Pipeline) -> None:
    result = pipeline.classify([Doc("t", "网传化工厂爆炸死亡50人不实，实际死亡12人", "")])[0]
    assert result.incident and result.event_type == EventType.WORK_SAFETY
    assert result.facts.value("deaths") == 12
    assert result.event_level == EventLevel.II  # 10–29 deaths; 50 would have been I


def test_accident_kind_rule_changes_a_kind_only_when_the_words_point_to_one_other() -> None:
    from classifiers.rules import accident_kind_rule

    traffic = EventType.TRAFFIC
    assert accident_kind_rule("煤矿透水，12人被困", traffic) == (EventType.WORK_SAFETY, "rule:accident_kind")
    assert accident_kind_rule("暴雨引发山体滑坡", EventType.WORK_SAFETY) == (
        EventType.NATURAL_DISASTER,
        "rule:accident_kind",
    )
    assert accident_kind_rule("货车撞上化工厂围墙", traffic) == (traffic, None)  # its own words: kept
    assert accident_kind_rule("暴雨致煤矿透水", traffic) == (traffic, None)  # two other kinds: undecided
    assert accident_kind_rule("一男子在家中身亡", traffic) == (traffic, None)  # no kind's words at all
    assert accident_kind_rule("煤矿透水", EventType.LIVELIHOOD) == (EventType.LIVELIHOOD, None)  # not an accident


def test_cases_of_a_disease_are_a_public_health_item_the_head_never_saw(pipeline: Pipeline) -> None:
    cases, markets = pipeline.classify(
        [Doc("c", "城北街道发现3例新冠确诊病例", ""), Doc("m", "美股因疫情担忧下跌", "")]
    )
    assert cases.relevant and cases.event_type == EventType.PUBLIC_HEALTH
    assert cases.relevance_score < 0.1 and cases.why["relevance"]["by"] == "rule:public_health"
    assert not markets.relevant  # 疫情 alone, in market news, is no outbreak to handle
