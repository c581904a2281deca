from __future__ import annotations

from classifiers import DepartmentInfo, Gazetteer
from classifiers.units import UnitResolver


def resolver() -> UnitResolver:
    gazetteer = Gazetteer.default().with_regions({"城东街道": ["城东"], "西湖镇": ["西湖"]})
    return UnitResolver(gazetteer)


def test_default_gazetteer_has_the_domain_departments() -> None:
    departments = Gazetteer.default().departments
    for name in (
        "住房和城乡建设局",
        "应急管理局",
        "公安局",
        "税务局",
        "信访局",
        "政务服务和数据管理局",
        "司法局",
        "财政局",
        "商务局",
        "气象局",
        "消防救援支队",
    ):
        assert name in departments
    assert departments["税务局"].vertical_managed
    assert not departments["教育局"].vertical_managed
    assert Gazetteer.default().regions == {}


def test_event_type_names_the_lead_unit() -> None:
    decision = resolver().resolve("城东一仓库发生火灾", "火灾", {})
    assert decision.unit.department == "消防救援支队"
    assert decision.unit.region == "城东街道"
    assert [u.department for u in decision.co_units] == ["应急管理局"]


def test_keywords_choose_within_the_routing_class() -> None:
    decision = resolver().resolve("街边占道经营和流动摊贩严重影响市容", "民生诉求", {"城乡建设": 0.9, "环境保护": 0.1})
    assert decision.unit.department == "城市管理局"


def test_routing_class_default_when_no_keyword() -> None:
    decision = resolver().resolve("希望尽快解决这个问题", "民生诉求", {"劳动和社会保障": 0.8, "教育文体": 0.2})
    assert decision.unit.department == "人力资源和社会保障局"


def test_multi_region_escalates_to_higher_authority() -> None:
    decision = resolver().resolve("城东和西湖两地河道出现大面积污染", "环境污染", {})
    assert decision.multi_region
    assert decision.unit.region is None
    assert {u.region for u in decision.co_units} >= {"城东街道", "西湖镇"}
    assert any("上级政府主管部门" in line for line in decision.why)


def test_vertical_management_is_flagged() -> None:
    decision = resolver().resolve("个税退税迟迟不到账，税务局电话打不通", "民生诉求", {"劳动和社会保障": 0.3})
    assert decision.unit.department == "税务局"
    assert decision.vertical_managed


def test_custom_directory() -> None:
    gazetteer = Gazetteer(regions={}, departments={"轨道交通局": DepartmentInfo(aliases=["轨道局"], keywords=["地铁"])})
    decision = UnitResolver(gazetteer).resolve("地铁站台太挤", "民生诉求", {})
    assert decision.unit.department == "轨道交通局"


def place_resolver() -> UnitResolver:
    gazetteer = Gazetteer.default().with_regions(
        {"东港镇": ["东港"], "城东街道": ["城东"], "南山镇": ["南山"]},
        places={"东港镇": ["东港化工园区", "海塘村"], "城东街道": ["市人民医院"], "南山镇": ["竹林桥"]},
    )
    return UnitResolver(gazetteer)


def test_a_place_in_another_district_does_not_move_the_event() -> None:
    text = "东港化工园区一企业发生爆炸，东港镇海塘村群众已疏散，伤员送往市人民医院救治"
    decision = place_resolver().resolve(text, "生产安全", {})
    assert decision.unit.region == "东港镇" and not decision.multi_region
    assert any("属地：东港镇（另提及 城东街道）" in line for line in decision.why)


def test_the_most_mentioned_region_leads_and_ties_go_to_the_first() -> None:
    assert place_resolver().resolve("竹林桥附近塌方，竹林桥封闭，城东方向绕行", "民生诉求", {}).unit.region == "南山镇"
    assert place_resolver().resolve("城东和东港", "民生诉求", {}).multi_region


def test_two_named_regions_with_unequal_weight_are_not_multi_region() -> None:
    text = "东港镇东港化工园区海塘村发生泄漏，东港镇正在处置，城东有居民闻到异味"
    decision = place_resolver().resolve(text, "环境污染", {})
    assert decision.unit.region == "东港镇" and not decision.multi_region


def test_a_named_unit_is_not_hidden_by_another_units_keyword_flood() -> None:
    # 住建局: five topic keywords (capped at four points) on top of the routing class (0.3 + 1.0);
    # 信访局: named twice (four points) and two keywords (1.5; with one cap for both it was 1.0).
    text = "信访局通报：商品房延期交付、物业费、维修基金、烂尾楼等信访、上访事项办理超期，信访办将督办"
    decision = resolver().resolve(text, "民生诉求", {"城乡建设": 0.3})
    assert decision.unit.department == "信访局"
    assert "住房和城乡建设局" in [u.department for u in decision.co_units]


def test_keyword_points_are_capped() -> None:
    scores, matched = resolver().keyword_scores("商品房延期交付，物业费、维修基金、烂尾楼、公租房、棚改都有问题")
    assert len(matched["住房和城乡建设局"]) >= 6
    assert scores["住房和城乡建设局"] == 4


def test_why_names_every_co_unit_the_event_type_adds() -> None:
    # 自然灾害: 应急管理局 leads; 气象局, 自然资源和规划局 and 水务局 join (units.yaml). Each
    # output needs its reason: a co-unit that why does not mention is unexplained.
    for text, event_type in [("城东暴雨致多处内涝", "自然灾害"), ("城东一仓库发生火灾", "火灾")]:
        decision = resolver().resolve(text, event_type, {})
        assert decision.co_units
        for unit in decision.co_units:
            assert any(unit.department in line for line in decision.why[1:]), (unit, decision.why)


def test_a_hospital_named_by_its_district_does_not_make_the_event_multi_regional() -> None:
    # The README's promise for places (市人民医院) holds as well when the report names the
    # hospital's district: the explosion is 东港镇's, not an event of two localities.
    for text in [
        "东港镇一化工企业发生爆炸，造成3人死亡，伤员已被送往城东的市人民医院救治。",
        "东港镇东港化工园区一企业发生爆炸，12名伤员被紧急送往城东街道一家医院抢救",
        "南山镇一民房起火，1人被烧伤，已转至城东医院治疗",
    ]:
        decision = place_resolver().resolve(text, "生产安全", {})
        assert not decision.multi_region, decision.why
        assert decision.unit.region in ("东港镇", "南山镇")
        assert any(line.startswith(f"属地：{decision.unit.region}（另提及 城东街道）") for line in decision.why)


def test_two_localities_named_outside_a_hospital_clause_still_escalate() -> None:
    text = "暴雨致城东和东港多处内涝，东港镇2人死亡，城东街道3人被困，伤者已送医院救治"
    assert place_resolver().resolve(text, "自然灾害", {}).multi_region
