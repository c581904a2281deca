"""`monitor simulate`: the acceptance interface, restarts, and crashes at random points."""

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from monitor.cli import main
from monitor.clock import FakeClock
from monitor.engine.simulate import SimServices, Simulation, output
from monitor.policy.scenario import load_scenario
from monitor.storage.db import Database
from monitor.storage.migrate import migrate

from .conftest import PG_ENV, PgServer
from .engine_support import ORG, POLICY

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "playbooks" / "scenarios"


def run_cli(tmp_path, scenario: Path) -> list[dict]:
    out = tmp_path / "events.jsonl"
    assert main(["simulate", "--scenario", str(scenario), "--output", str(out)]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def obligations(lines):
    return {(x["incident"], x["rule"], x["t0"]): x for x in lines if x["type"] == "obligation"}


def test_chemical_explosion_scenario(tmp_path):
    lines = run_cli(tmp_path, SCENARIOS / "chemical-explosion.yaml")
    obs = {(k[1], k[2]): v for k, v in obligations(lines).items()}
    t0 = "2026-09-24T08:10:00+08:00"
    assert obs[("GB80-AUTH-RELEASE-5H", t0)] | {} == {
        "type": "obligation", "incident": "A", "rule": "GB80-AUTH-RELEASE-5H", "t0": t0,
        "due_at": "2026-09-24T13:10:00+08:00", "status": "met", "met_at": "2026-09-24T12:30:00+08:00",
    }  # fmt: skip
    assert obs[("GB61-PRESSCONF-24H", t0)]["status"] == "breached"
    assert obs[("YJB2015-PHONE-30MIN", t0)]["status"] == "late"
    continuous = obs[("GB61-CONTINUOUS", "2026-09-24T12:30:00+08:00")]
    assert continuous["due_at"] == "2026-09-26T12:30:00+08:00"  # 24 h + the approved 24 h pause
    notes = [x for x in lines if x["type"] == "notify"]
    assert [x["at"] for x in notes] == sorted(x["at"] for x in notes)
    assert len({x["key"] for x in notes}) == len(notes)
    assert all(set(x) == {"type", "at", "incident", "rule", "step", "roles", "people", "key"} for x in notes)
    after_close = {x["rule"] for x in notes if x["at"] > "2026-09-30T10:00:00+08:00"}
    assert after_close == {"YJB2015-FINAL-REPORT"}  # closed: only the 终报 is still chased
    press = [x["step"] for x in notes if x["rule"] == "GB61-PRESSCONF-24H"]
    assert press[:3] == ["assigned", "breach", "supervise"]  # the 16:00 ack silenced the pre-breach warnings only


def test_a_restart_changes_nothing(tmp_path):
    with_restart = run_cli(tmp_path, SCENARIOS / "chemical-explosion.yaml")
    text = (SCENARIOS / "chemical-explosion.yaml").read_text(encoding="utf-8")
    plain = tmp_path / "plain.yaml"
    plain.write_text(text.replace("restart_at: [2026-09-24T13:00:00+08:00]", ""), encoding="utf-8")
    assert run_cli(tmp_path, plain) == with_restart


def test_ordinary_opinion_scenario_counts_working_days_over_national_day(tmp_path):
    obs = obligations(run_cli(tmp_path, SCENARIOS / "ordinary-opinion.yaml"))
    web = obs[("B", "GB2014-WEB-SUGGESTION-7WD", "2026-09-30T16:00:00+08:00")]
    assert web["due_at"] == "2026-10-16T00:00:00+08:00" and web["status"] == "met"
    respond = obs[("B", "GB61-RESPOND-48H", "2026-09-28T01:30:00+08:00")]
    assert respond["status"] == "met"
    assert obs[("C", "PRJ-TRIAGE-1H", "2026-09-28T10:00:00+08:00")]["status"] == "late"


def test_bad_scenario_names_line_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "start: 2026-09-24T09:00:00+08:00\nrun_until: 2026-09-25T09:00:00+08:00\nincidents:\n"
        "  - id: A\n    title: x\n    detected_at: 2026-09-24T09:00:00+08:00\n    event_level: V\n",
        encoding="utf-8",
    )
    assert main(["simulate", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:7" in err and "incidents[0].event_level" in err and "fix:" in err


async def _simulate(path: Path, tmp: Path, crashes: list[int], pg: PgServer | None = None) -> list[dict]:
    scenario = load_scenario(path, ORG)
    url = pg.url_for(await pg.create(template=pg.template)) if pg else f"sqlite+aiosqlite:///{tmp / 'sim.db'}"
    db = Database.open(url)
    await migrate(db)
    sim = Simulation(scenario, SimServices(db, FakeClock(scenario.start), ORG, POLICY.playbook, POLICY.calendar), url)
    pending = sorted(crashes)
    for _ in range(len(crashes) + 5):
        counter = {"n": 0}
        limit = pending.pop(0) if pending else None

        def crash(*_args, counter=counter, limit=limit):
            counter["n"] += 1
            if limit is not None and counter["n"] == limit:
                raise RuntimeError("simulated crash")

        watched = sim.services.db.engine.sync_engine
        event.listen(watched, "before_cursor_execute", crash)
        try:
            await sim.run()
            break
        except Exception as exc:  # the process dies: all in-memory state goes, the database stays
            assert "simulated crash" in str(exc)
            await sim.restart()
        finally:  # crashes are the simulated process's, never the test's own reading of the result
            event.remove(watched, "before_cursor_execute", crash)
    lines = await output(sim.services.db, scenario)
    await sim.services.db.close()
    return lines


@pytest.fixture(scope="module")
def crash_file() -> Path:
    return REPO / "tests" / "data" / "engine-crash.yaml"


@pytest.fixture(scope="module")
def baseline(crash_file, tmp_path_factory) -> list[dict]:
    return asyncio.run(_simulate(crash_file, tmp_path_factory.mktemp("base"), []))


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_db(request, pg_server) -> PgServer | None:
    """Where the crash runs go: SQLite files, or fresh PostgreSQL databases (when configured)."""
    if request.param == "postgresql" and pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return pg_server if request.param == "postgresql" else None


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crashes=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=3))
def test_random_crashes_never_lose_or_duplicate_a_notification(
    crash_file, baseline, crash_db, tmp_path_factory, crashes
):
    """A crash at any SQL statement, then a restart: the same alerts (keys, times, people) as the SQLite
    run without crashes, on both databases (the PostgreSQL run writes multi-row INSERTs)."""
    lines = asyncio.run(_simulate(crash_file, tmp_path_factory.mktemp("run"), crashes, crash_db))
    notes = [x for x in lines if x["type"] == "notify"]
    assert len({x["key"] for x in notes}) == len(notes)
    assert _canonical(lines) == _canonical(baseline)
    assert len([x for x in baseline if x["type"] == "notify"]) > 10


def _canonical(lines: list[dict]) -> list[str]:
    """The lines in a fixed order, keys without database ids.

    Two alerts written in the same instant may come in either order, and PostgreSQL does not
    give back the sequence values of rolled-back inserts (a crash leaves gaps in the ids): the
    key's incident and obligation ids are replaced by the scenario's incident id and the rule.
    """
    out = []
    for x in lines:
        if x["type"] == "notify":
            _incident, _obligation, step, generation = x["key"].split(":")
            x = {**x, "key": f"{x['incident']}:{x['rule']}:{step}:{generation}"}
        out.append(json.dumps(x, sort_keys=True, ensure_ascii=False))
    return sorted(out)


def test_baseline_exercises_every_kind_of_alert(baseline):
    steps = {x["step"] for x in baseline if x["type"] == "notify"}
    assert {"assigned", "breach", "new"} <= steps


def test_the_issue_example_runs_verbatim(tmp_path):
    lines = run_cli(tmp_path, SCENARIOS / "issue-example.yaml")
    got = {(x["rule"], x["status"]) for x in lines if x["type"] == "obligation"}
    assert {
        ("GB80-AUTH-RELEASE-5H", "met"),
        ("GB61-PRESSCONF-24H", "breached"),
        ("GB61-CONTINUOUS", "breached"),
        ("YJB2015-PHONE-30MIN", "breached"),
    } <= got
    assert not any(x["rule"] == "GB61-RESPOND-48H" for x in lines)  # I–II: the 5 h / 24 h rules instead
    notes = [x for x in lines if x["type"] == "notify"]
    assert notes and all(x["incident"] == "A" and x["people"] and x["roles"] for x in notes)


def test_a_scenario_can_supervise_and_the_unit_is_told_once(tmp_path, capsys):
    scenario = tmp_path / "supervise.yaml"
    scenario.write_text(
        """start: 2026-10-12T09:00:00+08:00
run_until: 2026-10-16T00:00:00+08:00
restart_at: [2026-10-14T12:00:00+08:00]
incidents:
  - id: S
    title: 城北停水两天
    detected_at: 2026-10-12T09:00:00+08:00
    event_level: III
    opinion_level: L2
    department: 应急管理局
    actions:
      - {at: 2026-10-14T10:00:00+08:00, do: supervise, level: urge, reason: 未回应, signed_by: 督查科, by: gov}
""",
        encoding="utf-8",
    )
    notes = [x for x in run_cli(tmp_path, scenario) if x["type"] == "notify" and x["rule"] is None]
    [urged] = [x for x in notes if str(x["step"]).startswith("supervised-")]
    assert urged["at"] == "2026-10-14T10:00:00+08:00" and set(urged["roles"]) == {"liaison", "deputy_leader"}
    bad = tmp_path / "bad-level.yaml"
    bad.write_text(scenario.read_text(encoding="utf-8").replace("level: urge", "level: scold"), encoding="utf-8")
    out = tmp_path / "bad.jsonl"
    assert main(["simulate", "--scenario", str(bad), "--output", str(out)]) != 0
    err = capsys.readouterr().err
    assert "bad-level.yaml:" in err and "'scold' is not allowed" in err and "urge" in err
