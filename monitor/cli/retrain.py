"""`monitor retrain`: fold duty officers' corrections into a new classifier model version."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from classifiers.corpora import default_data_dir
from monitor.app import Services, open_services
from monitor.classify import org_mapping
from monitor.classify.models import SHIPPED, activate, is_shipped, models_root, resolve_models_dir
from monitor.classify.retrain import CorrectionSet, RetrainReport, load_corrections, retrain
from monitor.cli.common import CliError, Context
from monitor.clock import SystemClock
from monitor.storage.db import DatabaseError
from monitor.storage.repo.classify import mark_corrections_used


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "retrain",
        help="train a new classifier model with the duty officers' corrections and report the change",
        description="Trains on the shared corpora plus the corrections table, writes the model to "
        "<data_dir>/models/<version>/ (never over the shipped models) and activates it unless a held-out "
        "metric drops by more than retrain_max_drop. Takes minutes on the full corpora.",
    )
    parser.add_argument(
        "--data", type=Path, help="the shared corpora (default: $CLASSIFIERS_DATA_DIR or ../shared/data)"
    )
    parser.add_argument("--force", action="store_true", help="activate the new model even if a metric dropped")
    parser.add_argument("--dry-run", action="store_true", help="only report the corrections that would be used")
    parser.add_argument(
        "--activate",
        metavar="VERSION",
        help=f"do not train: make VERSION (a directory under <data_dir>/models) or '{SHIPPED}' the active model",
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    if ctx.args.activate:
        return _activate(ctx, ctx.args.activate)
    data_dir = ctx.args.data or default_data_dir()
    if not ctx.args.dry_run and not (data_dir / "routing").is_dir():
        raise CliError(f"{data_dir}: the shared corpora are not there; pass --data DIR or set CLASSIFIERS_DATA_DIR")
    if is_shipped(models_root(ctx.settings)):
        raise CliError(
            f"data_dir {ctx.settings.data_dir} would put retrained models inside the shipped classifiers/models; "
            "choose another data_dir"
        )
    return asyncio.run(_retrain(ctx, data_dir))


def _activate(ctx: Context, version: str) -> int:
    try:
        path = activate(ctx.settings, None if version == SHIPPED else version)
    except FileNotFoundError as exc:
        raise CliError(f"{exc}; list the versions in {models_root(ctx.settings)}") from None
    print(f"active classifier model: {path}")
    _warn_if_pinned(ctx)
    return 0


def _warn_if_pinned(ctx: Context) -> None:
    pinned = ctx.settings.models_dir
    if pinned:
        print(f"note: models_dir is set to {pinned}, which the service loads instead; clear it to use this model")


async def _retrain(ctx: Context, data_dir: Path) -> int:
    try:
        services = await open_services(ctx.settings, clock=SystemClock())
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    try:
        return await _run(ctx, services, data_dir)
    finally:
        await services.db.close()


async def _run(ctx: Context, services: Services, data_dir: Path) -> int:
    settings = services.settings
    mapping = org_mapping(services.org)
    corrections = await load_corrections(services.db, mapping)
    _print_corrections(corrections)
    if ctx.args.dry_run:
        return 0
    current = resolve_models_dir(settings)
    print(f"training on {data_dir} (+{len(corrections.train)} corrected items); current model: {current}")
    report = await asyncio.to_thread(
        retrain, data_dir, models_root(settings), current, corrections, mapping, settings.retrain_max_drop
    )
    async with services.db.write() as conn:
        await mark_corrections_used(conn, sorted(corrections.correction_ids), report.version)
    _print_report(report)
    if report.acceptable or ctx.args.force:
        activate(settings, report.version)
        print(f"activated {report.version}" + ("" if report.acceptable else " (--force)") + "; restart the service")
        _warn_if_pinned(ctx)
        return 0
    print(
        f"NOT activated: a held-out metric dropped by more than retrain_max_drop={settings.retrain_max_drop}. "
        f"The model stays in {report.out_dir}; activate it anyway with: monitor retrain --activate {report.version}"
    )
    return 1


def _print_corrections(corrections: CorrectionSet) -> None:
    print(
        f"corrections: {len(corrections.correction_ids)} folded into {len(corrections.train)} training items, "
        f"{len(corrections.held_out)} items held out for measurement"
    )
    for name, count in sorted(corrections.ignored.items()):
        print(f"  {count} '{name}' corrections are decided by rules, not learned (not used)")


def _print_report(report: RetrainReport) -> None:
    print(f"\nnew model {report.version} in {report.out_dir}\n")
    print("| held-out data | before | after | change |\n|---|---|---|---|")
    for task, (before, after) in report.corpus.items():
        print(f"| {task} (corpus test split) | {before:.4f} | {after:.4f} | {after - before:+.4f} |")
    for label, (before, after, n) in report.corrections.items():
        print(
            f"| {label} agreement, {n} held-out corrected items | {before:.4f} | {after:.4f} | {after - before:+.4f} |"
        )
    print()
