"""`monitor simulate --scenario FILE.yaml [--output events.jsonl]`: the engine on a FakeClock."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.config import resolve_org_file, resolve_playbook_file, resolve_playbooks_dir
from monitor.engine.simulate import simulate
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy
from monitor.policy.scenario import load_scenario, scenario_org_path


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="run the clock engine over a scenario on a fake clock; print JSON lines"
    )
    parser.add_argument("--scenario", required=True, metavar="FILE.yaml", help="scenario file")
    parser.add_argument("--output", metavar="FILE.jsonl", help="write the JSON lines here instead of stdout")
    parser.set_defaults(handler=handle)


def _resolve(ref: str | None, scenario: Path, default: Path, playbooks_dir: Path) -> Path:
    if ref is None:
        return default
    for candidate in (Path(ref), scenario.parent / ref, playbooks_dir / ref, playbooks_dir.parent / ref):
        if candidate.is_file():
            return candidate
    raise CliError(f"{scenario}: cannot find {ref!r} (looked next to the scenario and in {playbooks_dir})")


def handle(ctx: Context) -> int:
    path = Path(ctx.args.scenario)
    if not path.is_file():
        raise CliError(f"scenario file {path} does not exist")
    playbooks_dir = resolve_playbooks_dir(ctx.settings)
    org = load_org(_resolve(scenario_org_path(path), path, resolve_org_file(ctx.settings), playbooks_dir))
    scenario = load_scenario(path, org)
    policy = load_policy(_resolve(scenario.playbook, path, resolve_playbook_file(ctx.settings), playbooks_dir))
    lines = asyncio.run(simulate(scenario, policy.playbook, policy.calendar, org))
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if ctx.args.output:
        Path(ctx.args.output).write_text(text, encoding="utf-8")
        counts = sum(1 for x in lines if x["type"] == "notify"), sum(1 for x in lines if x["type"] == "obligation")
        print(f"wrote {ctx.args.output}: {counts[0]} notifications, {counts[1]} obligations", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
