"""The grading_schemes_file setting: a deployment's own 突发事件 grading schemes, validated at start
and by `monitor check-playbooks` (file, line, key and fix), and used by the classifier."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from classifiers import Doc, Pipeline
from classifiers.grading import default_schemes, load_schemes
from monitor.classify import ClassifierError, PipelineSpec
from monitor.classify.models import SHIPPED_MODELS_DIR
from monitor.classify.service import load_grading_config, read_grading_schemes
from monitor.cli import main
from monitor.config import load_settings
from monitor.policy import PolicyError

LOCAL = """\
# 某市群体性事件应急预案: 较大/一般 headcounts of our own
社会安全:
  source: 某市《群体性事件应急预案》(2023)
  floor: IV
  criteria:
    - {label: 参与人数, quantity: participants, at_least: {I: 3000, II: 500, III: 100, IV: 30}}
    - {label: 死亡, quantity: deaths, at_least: {I: 10, II: 3}}
"""


def _settings(path: Path | str):
    return load_settings(env={}, cli={"grading_schemes_file": str(path)}).settings


def test_no_file_means_the_shipped_schemes() -> None:
    assert load_grading_config(load_settings(env={}).settings) is None


def test_the_configured_file_is_read(tmp_path: Path) -> None:
    good = tmp_path / "grading.yaml"
    good.write_text(LOCAL, encoding="utf-8")
    config = load_grading_config(_settings(good))
    assert config is not None and list(config) == ["社会安全"]
    assert config["社会安全"]["source"] == "某市《群体性事件应急预案》(2023)"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        # a typo in a key: line 6, the key path, and the nearest right key
        (LOCAL.replace("at_least: {I: 3000", "at_lest: {I: 3000"), ":6 社会安全.criteria[0]", ["fix:"]),
        # thresholds that do not go down from I to IV
        (
            LOCAL.replace("III: 100, IV: 30", "III: 100, IV: 300"),
            ":6 社会安全.criteria[0].at_least.IV",
            ["never reached"],
        ),
        (LOCAL.replace("社会安全:", "社会安全事件:"), ":2 社会安全事件", ["not a graded event type", "社会安全"]),
        (LOCAL.replace("  floor: IV\n", ""), ":2 社会安全", ["floor: IV"]),  # the key's own line
        (LOCAL + "社会安全:\n  source: x\n", ":8 社会安全", ["duplicate key"]),
        ("", "grading.yaml", ["event type"]),
        ("社会安全: [\n", ":2", ["invalid YAML"]),
    ],
)
def test_a_bad_file_names_file_line_key_and_fix(tmp_path: Path, text: str, where: str, words: list[str]) -> None:
    bad = tmp_path / "grading.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ClassifierError) as exc:
        load_grading_config(_settings(bad))
    message = str(exc.value)
    assert message.startswith(f"grading_schemes_file {bad}"), message
    assert where in message and "fix:" in message, message
    for word in words:
        assert word in message, message


def test_a_copy_of_the_shipped_file_is_a_valid_deployment_file(tmp_path: Path) -> None:
    import classifiers

    copy = tmp_path / "grading.yaml"
    copy.write_text((Path(classifiers.__file__).parent / "grading_schemes.yaml").read_text("utf-8"), encoding="utf-8")
    config = load_grading_config(_settings(copy))
    assert load_schemes(config) == default_schemes()


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="cannot read the file"):
        load_grading_config(_settings(tmp_path / "none.yaml"))


def test_check_playbooks_validates_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "grading.yaml"
    good.write_text(LOCAL, encoding="utf-8")
    assert main(["--set", f"grading_schemes_file={good}", "check-playbooks"]) == 0
    assert f"{good}: ok — grading schemes for 社会安全 (others: shipped)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(LOCAL.replace("floor: IV", "floor: 5"), encoding="utf-8")
    assert main(["--set", f"grading_schemes_file={bad}", "check-playbooks"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4 社会安全.floor: 5 is not a grade" in err and "fix: use one of I, II, III, IV or null" in err


def test_read_raises_the_policy_error_check_playbooks_prints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(LOCAL.replace("quantity: deaths", "quantity: dead"), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        read_grading_schemes(bad)
    assert (exc.value.line, exc.value.key) == (7, "社会安全.criteria[1].quantity")
    assert "deaths" in exc.value.fix


def test_the_spec_carries_the_schemes_to_the_workers(tmp_path: Path) -> None:
    good = tmp_path / "grading.yaml"
    good.write_text(LOCAL, encoding="utf-8")
    config = load_grading_config(_settings(good))
    spec = PipelineSpec(SHIPPED_MODELS_DIR, Pipeline.load().gazetteer, None, config)
    assert spec.grading_config == config


@pytest.mark.skipif(
    "grading_config" not in inspect.signature(Pipeline.load).parameters,
    reason="classifiers.Pipeline.load(grading_config=…) is not there yet (classifiers/pipeline.py)",
)
def test_the_classifier_grades_with_the_deployments_schemes(tmp_path: Path) -> None:
    good = tmp_path / "grading.yaml"
    good.write_text(LOCAL, encoding="utf-8")
    spec = PipelineSpec(SHIPPED_MODELS_DIR, Pipeline.load().gazetteer, None, load_grading_config(_settings(good)))
    doc = Doc("1", "村民聚集堵路", "因征地补偿纠纷，城东村120余名村民聚集堵路，要求镇政府给个说法。")
    [local] = spec.load().classify([doc])
    [shipped] = PipelineSpec(SHIPPED_MODELS_DIR, spec.gazetteer).load().classify([doc])
    assert (shipped.event_type.value, shipped.event_level) == ("社会安全", "IV")
    assert local.event_level == "III"
    assert json.dumps(local.why["event_level"], ensure_ascii=False) == json.dumps(
        ["参与人数120 ≥ 100 → III级", "依据：某市《群体性事件应急预案》(2023)"], ensure_ascii=False
    )


def test_serve_refuses_to_start_on_a_bad_classifier_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(LOCAL.replace("floor: IV", "floor: 5"), encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    argv = ["--set", f"database_url={db}", "--set", f"grading_schemes_file={bad}", "serve", "--port", "0"]
    assert main(argv) == 2  # before any loop, database or listener starts
    err = capsys.readouterr().err
    assert "grading_schemes_file" in err and "5 is not a grade" in err and "clear the setting" in err
    assert not (tmp_path / "m.db").exists()


def test_check_playbooks_validates_the_opinion_levels_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "opinion.yaml"
    bad.write_text("- not a mapping\n", encoding="utf-8")
    assert main(["--set", f"opinion_levels_file={bad}", "check-playbooks"]) == 2
    assert "opinion_levels_file" in capsys.readouterr().err
