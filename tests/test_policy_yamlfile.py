"""Every error of a policy file names the line a person must edit: the key's own line, also when
its value is a block (a mapping or list on the lines below it), read from real files on disk."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.ledger.mapping import load_mapping
from monitor.policy import PolicyError, load_org
from monitor.policy.playbooks import load_policy
from monitor.policy.yamlfile import Section, load_yaml

REPO = Path(__file__).resolve().parent.parent

DOC = """\
# a comment first, so that line numbers are not row indexes
version: 1
city:
  name: 测试市
limits:
  warn_h: 5
  breach_h:
    - 1
    - {x: y}
when:
  at: "2026-09-24 09:00"
owners:
  - id: a
    kind: department
  - 7
labels: >
  folded
  text
"""


def _line(text: str, needle: str) -> int:
    """The 1-based line of the first line of `text` that contains `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _root(tmp_path: Path) -> Section:
    path = tmp_path / "policy.yaml"
    path.write_text(DOC, encoding="utf-8")
    return load_yaml(path).root()


CASES: list[tuple[str, Callable[[Section], object], str, str]] = [
    # a key whose value is a block mapping: the error is on the key's line, not its first child's
    ("missing key in a block mapping", lambda r: r.section("city").text("code"), "city:", "city"),
    ("unknown key in a block mapping", lambda r: r.section("limits").only("warn_h"), "breach_h:", "limits.breach_h"),
    ("block mapping where a list is due", lambda r: r.sections("city"), "city:", "city"),
    ("block list where text is due", lambda r: r.section("limits").text("breach_h"), "breach_h:", "limits.breach_h"),
    ("block list where a mapping is due", lambda r: r.section("owners"), "owners:", "owners"),
    ("folded text where a list is due", lambda r: r.strings("labels"), "labels:", "labels"),
    ("an unknown top-level key", lambda r: r.only("version", "city"), "limits:", "limits"),
    ("a scalar of the wrong type", lambda r: r.section("limits").get("warn_h", str), "warn_h:", "limits.warn_h"),
    ("a list entry of the wrong type", lambda r: list(r.sections("owners")), "- 7", "owners[1]"),
    ("a missing key of a list entry", lambda r: next(r.sections("owners")).text("name"), "- id: a", "owners[0]"),
    ("an entry of a list of text", lambda r: r.section("limits").strings("breach_h"), "- {x", "limits.breach_h[1]"),
    ("a time without an offset", lambda r: r.section("when").instant("at"), "at:", "when.at"),
]


@pytest.mark.parametrize(("case", "trigger", "needle", "key"), CASES, ids=[c[0] for c in CASES])
def test_each_error_names_the_line_to_edit(tmp_path, case, trigger, needle, key):
    root = _root(tmp_path)
    with pytest.raises(PolicyError) as exc:
        result = trigger(root)
        list(result) if hasattr(result, "__next__") else result  # generators raise when read
    err = exc.value
    assert (err.line, err.key) == (_line(DOC, needle), key), str(err)
    assert str(err).startswith(f"{tmp_path / 'policy.yaml'}:{err.line} {key}: ") and "\n  fix: " in str(err)


def test_yaml_syntax_and_duplicate_key_errors_name_their_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\ncity:\n  name: 甲\n  name: 乙\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_yaml(path)
    assert (exc.value.line, exc.value.key, exc.value.problem) == (4, "city.name", "duplicate key")
    path.write_text("version: 1\ncity:\n  name: 甲\n  code: [1, 2\nunits: []\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_yaml(path)
    assert exc.value.line == 5 and "invalid YAML" in exc.value.problem, str(exc.value)


def test_an_org_file_with_a_block_city_names_the_city_line(tmp_path):
    path = tmp_path / "org.yaml"
    text = "version: 1\ncity:\n  nme: 测试市\nunits:\n  - {id: g, name: 测试市人民政府, kind: government}\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_org(path)
    assert (exc.value.line, exc.value.key) == (3, "city.nme"), str(exc.value)
    path.write_text(text.replace("  nme: 测试市\n", "  - 测试市\n"), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_org(path)
    assert (exc.value.line, exc.value.key) == (2, "city"), str(exc.value)


def test_a_shipped_ladder_with_a_bad_block_names_the_ladder_line(tmp_path):
    """playbooks/ladders.yaml: `steps:` given as a mapping is reported on the `steps:` line."""
    dest = tmp_path / "playbooks"
    shutil.copytree(REPO / "playbooks", dest, ignore=shutil.ignore_patterns("org", "scenarios"))
    ladders = dest / "ladders.yaml"
    text = ladders.read_text(encoding="utf-8")
    bad = text.replace("    steps:\n      - {id: new,", "    steps:\n      new: {id: new,", 1).replace(
        "roles: [duty_officer]}\n      - {id: breach", "roles: [duty_officer]}\n      breach: {id: breach", 1
    )
    bad = bad.replace("      - {id: remind,", "      remind: {id: remind,", 1)
    assert bad != text
    ladders.write_text(bad, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(dest / "rules.yaml")
    assert exc.value.file.endswith("ladders.yaml") and exc.value.line == _line(bad, "    steps:"), str(exc.value)


def test_a_ledger_mapping_with_a_missing_column_names_the_columns_line(tmp_path):
    text = (REPO / "playbooks/import/message-board.yaml").read_text(encoding="utf-8")
    bad = text.replace("  received_at: time\n", "", 1)
    path = tmp_path / "mapping.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_mapping(path)
    assert (exc.value.line, exc.value.key) == (_line(bad, "columns:"), "columns"), str(exc.value)
    assert "received_at" in exc.value.problem
