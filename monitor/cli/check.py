"""`monitor check-playbooks`: validate the policy files; errors name file, key and fix."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from monitor.classify import ClassifierError
from monitor.classify.service import load_opinion_config, read_grading_schemes
from monitor.cli.common import CliError, Context
from monitor.clock import SHANGHAI, SystemClock
from monitor.config import resolve_org_file, resolve_playbook_file, resolve_playbooks_dir
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy

CALENDAR_HORIZON = timedelta(days=90)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "check-playbooks",
        help="validate the rules, ladders, calendar, jurisdictions, the org directory and the grading schemes file",
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    org_file = resolve_org_file(ctx.settings)
    org = load_org(org_file)
    print(f"{org_file}: ok ({len(org.units)} units, {len(org.people)} people, {len(org.robots)} robots)")
    active = resolve_playbook_file(ctx.settings)
    others = sorted((resolve_playbooks_dir(ctx.settings) / "jurisdictions").glob("*.yaml"))
    for path in [active, *(p for p in others if p.resolve() != active.resolve())]:
        policy = load_policy(path)
        book = policy.playbook
        marker = " (in use)" if path == active else ""
        print(f"{path}: ok{marker} — {book.jurisdiction}: {len(book.rules)} rules, {len(book.ladders)} ladders")
    if ctx.settings.opinion_levels_file:
        try:
            load_opinion_config(ctx.settings)
        except ClassifierError as exc:
            raise CliError(str(exc)) from exc
        print(f"{ctx.settings.opinion_levels_file}: ok — 舆情 level thresholds")
    if ctx.settings.grading_schemes_file:
        schemes = read_grading_schemes(ctx.settings.grading_schemes_file)
        print(f"{ctx.settings.grading_schemes_file}: ok — grading schemes for {'、'.join(schemes)} (others: shipped)")
    policy = load_policy(active)
    covered = policy.calendar.covered_until()
    today = SystemClock().now().astimezone(SHANGHAI).date()
    print(f"{policy.calendar_file}: ok — working days known until {covered}")
    if covered - today < CALENDAR_HORIZON:
        print(
            f"warning: working-day data ends {covered}; deadlines after that FAIL (recorded as unschedulable, "
            f"duty officers alerted). Add the next year's 国务院办公厅 schedule to {policy.calendar_file}."
        )
    return 0
