"""`monitor check-playbooks`: validate the policy files; errors name file, key and fix."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.common import Context
from monitor.config import resolve_org_file
from monitor.policy import load_org


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("check-playbooks", help="validate playbooks and the org directory")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    org_file = resolve_org_file(ctx.settings)
    org = load_org(org_file)
    print(f"{org_file}: ok ({len(org.units)} units, {len(org.people)} people, {len(org.robots)} robots)")
    return 0
