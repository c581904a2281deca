"""The incident decision: the head's probability, stated casualties, and the war / crime overrides;
and the corrected training labels."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest

from classifiers import Doc, Pipeline, extract_facts, incident
from classifiers.corpora import Example
from classifiers.evaluate import cohen_kappa, evaluate_incident_agreement, incident_gold_label
from classifiers.incident import CASUALTY_FLOOR, decide, training_label

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_a_confident_model_decides() -> None:
    assert decide(0.9, extract_facts("化工厂发生爆炸"), "化工厂发生爆炸")[0]
    assert not decide(0.1, extract_facts("新款手机发布"), "新款手机发布")[0]


def test_stated_casualties_lower_the_bar_but_not_to_zero() -> None:
    text = "一辆货车与客车相撞，造成3人死亡"
    facts = extract_facts(text)
    incident, why = decide(CASUALTY_FLOOR + 0.01, facts, text)
    assert incident and "伤亡" in why
    assert not decide(CASUALTY_FLOOR - 0.01, facts, text)[0]
    assert not decide(0.4, extract_facts("一辆货车与客车相撞"), "一辆货车与客车相撞")[0]


def test_war_and_individual_crimes_are_not_incidents() -> None:
    strike = "土耳其空袭库尔德车队致11人死亡"
    incident, why = decide(0.99, extract_facts(strike), strike)
    assert not incident and "战事" in why
    murder = "德江县发生一起命案，死亡4人"
    assert not decide(0.99, extract_facts(murder), murder)[0]
    crash = "一架美制战机在中东坠毁，美军飞行员遇难"  # a crash stays an accident
    assert decide(0.99, extract_facts(crash), crash)[0]
    hit_and_run = "交通肇事致人死亡，潜逃3日的犯罪嫌疑人王某被抓获"  # an accident and a suspect
    assert decide(0.99, extract_facts(hit_and_run), hit_and_run)[0]


def test_training_labels_correct_duee_to_the_definition() -> None:
    def duee(text: str, disaster: bool, tops: tuple[str, ...]) -> Example:
        return Example("duee", "x", text, incident=disaster, tags=tops)

    assert training_label(duee("中铁七局一处工地发生高处坠落事故，造成三人死亡", False, ("人生",))) is True
    assert training_label(duee("男子持刀杀死邻居", False, ("人生",))) is False
    assert training_label(duee("也门胡塞武装对沙特机场发动无人机攻击", True, ("灾害/意外",))) is False
    assert training_label(duee("小型飞机在夏威夷坠毁致9人死亡", True, ("灾害/意外",))) is True
    assert training_label(duee("某球队夺冠", False, ("竞赛行为",))) is False
    assert training_label(Example("tnews", "1", "青海玉树发生5.3级地震", incident=False)) is None
    assert training_label(Example("tnews", "2", "新款手机发布", incident=False)) is False
    assert training_label(Example("cec", "3", "火灾", incident=True)) is True


def test_pipeline_reports_the_decision_and_why(pipeline: Pipeline) -> None:
    fire, product = pipeline.classify(
        [
            Doc("a", "化工厂爆炸", "城东一化工厂发生爆炸，造成3人死亡、12人重伤。"),
            Doc("b", "新品发布", "某品牌今日发布新款手机，售价2999元。"),
        ]
    )
    assert fire.incident and fire.to_dict()["incident"] is True
    assert not product.incident
    assert set(fire.why["incident"]) == {"value", "score", "because"}


def test_attacks_on_the_public_and_soldiers_accidents_escape_the_overrides() -> None:
    stabbing = "川崎市发生持刀行凶案，造成2人死亡、17人受伤"  # a knife attack on the public
    assert decide(0.99, extract_facts(stabbing), stabbing)[0]
    arson = "京都动画工作室遭纵火，33人遇难"
    assert decide(0.99, extract_facts(arson), arson)[0]
    training = "美国陆军基地发生一起训练事故，造成3名美军士兵死亡"
    assert decide(0.99, extract_facts(training), training)[0]
    personal = "男子因感情纠纷持刀杀害前妻"  # still an individual crime
    assert not decide(0.99, extract_facts(personal), personal)[0]
    shelling = "土军炮击美军基地"  # still war
    assert not decide(0.99, extract_facts(shelling), shelling)[0]


def test_a_hand_label_wins_over_the_rules_only_for_the_text_it_was_read_on(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "中铁七局一处工地发生高处坠落事故，造成三人死亡"
    row = Example("duee", "read", text, incident=False, tags=("人生",))
    assert training_label(row) is True  # the rule
    sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()
    monkeypatch.setattr(incident, "hand_labels", lambda: {("duee", "read"): (sha1, False)})
    assert training_label(row) is False
    changed = Example("duee", "read", text + "。", incident=False, tags=("人生",))
    assert training_label(changed) is True  # the corpus text changed: the label is not applied


LABELS = Path(incident.LABELS_DIR)


def _rows(name: str) -> list[dict[str, str]]:
    folder = LABELS if (LABELS / name).exists() else BENCHMARKS
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_label_files_are_well_formed_and_never_touch_the_test_sample() -> None:
    train, full, sample, band, band6 = (
        _rows("incident_train_labels.csv"),
        _rows("incident_gold_validation_full.csv"),
        _rows("incident_gold_validation.csv"),
        _rows("incident_train_labels_band.csv"),
        _rows("incident_train_labels_band6.csv"),
    )
    test_ids = {(r["source"], r["doc_id"]) for r in _rows("incident_gold.csv")}
    for rows in (train, full, band, band6):
        keys = [(r["source"], r["doc_id"]) for r in rows]
        assert len(keys) == len(set(keys))
        assert not set(keys) & test_ids
        assert all(r["incident"] in ("0", "1") and re.fullmatch(r"[0-9a-f]{40}", r["text_sha1"]) for r in rows)
    assert not {(r["source"], r["doc_id"]) for r in train} & {(r["source"], r["doc_id"]) for r in full}
    # the phase-5 band labels are kept apart: distinct rows, and training does not read them
    band_keys = {(r["source"], r["doc_id"]) for r in band}
    assert not band_keys & {(r["source"], r["doc_id"]) for r in train + full}
    assert {r["selected_by"] for r in band} == {"band5"}
    assert BENCHMARKS / "incident_train_labels_band.csv" not in incident.HAND_LABEL_FILES
    assert not band_keys & set(incident.hand_labels())
    # phase 6 read the wider band [0.05, 0.95) and keeps the band5 rows with their labels; not adopted
    # either (no gain beyond noise), so training does not read this file
    band6_keys = {(r["source"], r["doc_id"]) for r in band6}
    assert not band6_keys & {(r["source"], r["doc_id"]) for r in train + full}
    assert {r["selected_by"] for r in band6} == {"band5", "band6"}
    assert [r for r in band6 if r["selected_by"] == "band5"] == sorted(band, key=lambda r: (r["source"], r["doc_id"]))
    assert all(r["stratum"] in ("duee_life", "duee_other", "tnews") for r in band6)
    assert LABELS / "incident_train_labels_band6.csv" not in incident.HAND_LABEL_FILES
    assert not band6_keys & set(incident.hand_labels())
    # the validation file covers whole strata (weight 1) and keeps the phase-3 sample's labels
    for stratum in ("duee_disaster", "duee_life", "duee_other", "tnews"):
        rows = [r for r in full if r["stratum"] == stratum]
        assert all(int(r["stratum_size"]) == int(r["sample_size"]) == len(rows) for r in rows)
    by_key = {(r["source"], r["doc_id"]): r for r in full}
    for r in sample:
        kept = by_key[(r["source"], r["doc_id"])]
        assert kept["read"] == "phase3" and kept["incident"] == r["incident"] and kept["text_sha1"] == r["text_sha1"]
    assert {r["read"] for r in full} == {"phase3", "phase4", "no"}
    assert all(r["incident"] == "0" and r["stratum"] in ("duee_other", "tnews") for r in full if r["read"] == "no")


def test_the_test_sample_has_two_readings_and_an_adjudication_exactly_where_they_disagree() -> None:
    rows = _rows("incident_gold.csv")
    assert len(rows) == 440
    for r in rows:
        assert r["incident"] in ("0", "1") and r["incident_second"] in ("0", "1")
        if r["incident"] == r["incident_second"]:
            assert r["incident_adjudicated"] == r["adjudication_note"] == ""
            assert incident_gold_label(r) == int(r["incident"])
        else:
            assert r["incident_adjudicated"] in ("0", "1") and r["adjudication_note"].strip()
            assert incident_gold_label(r) == int(r["incident_adjudicated"])
    # a file without the second reading (the validation samples) scores against its only label
    assert incident_gold_label({"incident": "1"}) == 1


def test_cohen_kappa_matches_scikit_learn_with_and_without_weights() -> None:
    from sklearn.metrics import cohen_kappa_score

    first = [1, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    second = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
    weights = [1.0, 2.7, 18.1, 18.1, 1.7, 9.8, 9.8, 2.7, 1.0, 1.0]
    plain = cohen_kappa(first, second)
    assert plain["agreement"] == pytest.approx(0.8)
    assert plain["kappa"] == pytest.approx(cohen_kappa_score(first, second))
    weighted = cohen_kappa(first, second, weights)
    assert weighted["kappa"] == pytest.approx(cohen_kappa_score(first, second, sample_weight=weights))
    assert weighted["agreement"] == pytest.approx(1 - (2.7 + 9.8) / sum(weights))
    assert cohen_kappa(first, first)["kappa"] == pytest.approx(1.0)


def test_inter_annotator_agreement_rows_are_read_from_the_gold_file() -> None:
    plain, weighted = evaluate_incident_agreement()
    assert plain["n"] == weighted["n"] == 440
    rows = _rows("incident_gold.csv")
    disagree = sum(r["incident"] != r["incident_second"] for r in rows)
    assert plain["agreement"] == pytest.approx(1 - disagree / 440)
    # measured 2026-11-22: 3 disagreements, kappa 0.983 (stratum-weighted 0.986), F1 0.988 (0.987)
    assert plain["kappa"] >= 0.95 and weighted["kappa"] >= 0.95
    assert weighted["f1"] >= 0.95


def test_the_labels_training_reads_ship_inside_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = Path(incident.__file__).resolve().parent
    for path in incident.HAND_LABEL_FILES:
        assert path.is_file() and package in path.parents  # the wheel and the image carry classifiers/
    incident.hand_labels.cache_clear()
    monkeypatch.setattr(incident, "HAND_LABEL_FILES", (tmp_path / "missing.csv",))
    try:
        with pytest.raises(FileNotFoundError, match="training needs them"):
            incident.hand_labels()
    finally:
        incident.hand_labels.cache_clear()
