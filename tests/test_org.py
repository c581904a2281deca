from pathlib import Path

import pytest

from monitor.config import load_settings, resolve_org_file
from monitor.domain import ChannelKind, Role, UnitKind
from monitor.policy import PolicyError, load_org, parse_yaml

DEMO_ORG = resolve_org_file(load_settings(env={}).settings)
REQUIRED_LOCALITIES = ["城东街道", "城西街道", "城南街道", "城北街道", "南山镇", "北湖镇", "西岭镇", "东港镇"]


@pytest.fixture(scope="module")
def org():
    return load_org(DEMO_ORG)


def test_demo_org_has_the_required_shape(org):
    departments = org.departments()
    assert len(departments) >= 20
    for name in ("住房和城乡建设局", "应急管理局", "交通运输局", "生态环境局", "市场监督管理局", "公安局"):
        assert org.find_unit(name) is not None, name
    localities = {u.short_name for u in org.localities()}
    assert set(REQUIRED_LOCALITIES) <= localities
    for kind in (UnitKind.GOVERNMENT, UnitKind.GOV_OFFICE, UnitKind.PROPAGANDA):
        assert org.first_of_kind(kind) is not None
    assert any(u.vertical_managed for u in departments)


def test_every_role_is_staffed_and_resolves(org):
    for role in Role:
        assert org.people_with(role), role
    emergency = org.find_unit("应急管理局")
    assert emergency is not None
    for role in (Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL):
        people = org.resolve(role, emergency.id)
        assert people and all(p.has_role(role, emergency.id) for p in people)
    assert org.resolve(Role.GOV_OFFICE, emergency.id) == org.people_with(Role.GOV_OFFICE)


def test_people_have_addresses_for_their_channels(org):
    for person in org.people.values():
        assert person.channels, person.id
        if ChannelKind.EMAIL in person.channels:
            assert person.email
        if {ChannelKind.DINGTALK, ChannelKind.WECOM} & set(person.channels):
            assert person.mobile


def _load_text(tmp_path: Path, text: str):
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return load_org(path)


GOOD = """\
version: 1
city: {name: 测试市}
units:
  - {id: government, name: 测试市人民政府, kind: government}
  - {id: emergency, name: 测试市应急管理局, short_name: 应急管理局, kind: department, parent: government}
people:
  - id: a
    name: 张三
    email: a@example.gov
    roles: [{role: liaison, unit: emergency}]
    channels: [email]
"""


def test_minimal_file_loads(tmp_path):
    org = _load_text(tmp_path, GOOD)
    assert org.resolve(Role.LIAISON, "emergency")[0].name == "张三"
    # a unit without its own principal falls back to the government's
    assert org.resolve(Role.PRINCIPAL, "emergency") == []


@pytest.mark.parametrize(
    ("change", "line", "key", "fix"),
    [
        (("kind: department", "kind: departmnt"), 5, "units[1].kind", "use one of government"),
        (("parent: government", "parent: goverment"), 5, "units[1].parent", "did you mean 'government'"),
        (("unit: emergency", "unit: nowhere"), 10, "people[0].roles[0].unit", "use the id of an entry"),
        (("role: liaison", "role: boss"), 10, "people[0].roles[0].role", "use one of duty_officer"),
        (("channels: [email]", "channels: [pager]"), 11, "people[0].channels[0]", "use one of console"),
        (("    email: a@example.gov\n", ""), 10, "people[0].channels", "add email"),
        (("    name: 张三", "    name: 张三\n    nmae: x"), 9, "people[0].nmae", "did you mean 'name'"),
        (("city: {name: 测试市}", "city: {name: 测试市"), None, "", "check indentation"),
    ],
)
def test_errors_name_file_line_key_and_fix(tmp_path, change, line, key, fix):
    with pytest.raises(PolicyError) as exc:
        _load_text(tmp_path, GOOD.replace(*change))
    err = exc.value
    assert err.file.endswith("org.yaml")
    if line is not None:
        assert err.line == line, str(err)
    assert err.key == key
    assert fix in err.fix
    assert str(err).startswith(str(tmp_path / "org.yaml"))


def test_duplicate_keys_are_errors():
    with pytest.raises(PolicyError, match="duplicate key"):
        parse_yaml("a: 1\na: 2\n", "x.yaml")


def test_an_incident_without_an_owner_reaches_the_duty_officers_not_every_liaison(org):
    duty = org.people_with(Role.DUTY_OFFICER)
    for role in (Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL):
        assert org.resolve(role, None) == duty
        assert org.resolve(role, "no-such-unit") == duty
    assert len(org.people_with(Role.LIAISON)) > len(duty)
