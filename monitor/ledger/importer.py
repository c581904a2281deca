"""`monitor import-ledger`: existing 舆情台账 / 留言 exports → historical incidents with their responses.

Rows are converted (pure), checked against each other and against what is already imported
(incidents.external_ref = import:<mapping>:<id>), and written in batches, one transaction per
batch, so an interrupted import can simply be run again. Rows that cannot be read are
reported with their row number and reason — and, with `rejects`, written to a CSV to fix and
import again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.domain import EventKind
from monitor.domain.ledger import ImportedIncident
from monitor.ledger.convert import convert_row, external_ref, written_as
from monitor.ledger.model import LedgerMapping, RowError
from monitor.ledger.plan import ImportRules
from monitor.ledger.read import read_rows
from monitor.storage.db import Database
from monitor.storage.repo.ledger import existing_refs, insert_imported

BATCH = 500


@dataclass
class ImportResult:
    rows: int = 0  # data rows read
    imported: int = 0
    already: int = 0  # imported before (same mapping name and id)
    errors: list[RowError] = field(default_factory=list)
    date_only: int = 0  # rows with a date-only received or reply time (read as the mapping says)
    responded: int = 0
    live: int = 0  # with a deadline still running at the import (handed to the clock engine)
    first_id: int | None = None
    last_id: int | None = None


async def import_ledger(
    db: Database,
    path: Path,
    mapping: LedgerMapping,
    now: datetime,
    rules: ImportRules,
    *,
    dry_run: bool = False,
    rejects: Path | None = None,
) -> ImportResult:
    result = ImportResult()
    seen: dict[str, int] = {}
    pending: list[ImportedIncident] = []
    rejected: list[tuple[RowError, dict[str, Any]]] = []
    for number, row in read_rows(path, mapping):
        result.rows += 1
        outcome = convert_row(mapping, number, row, now, rules)
        # the first row of an id claims it even when it cannot be read: a later row with the same id
        # imported in its place would make the corrected first row be skipped as "already imported"
        ref = _ref(mapping, outcome)
        if ref and ref in seen:
            ledger_id = ref.removeprefix(external_ref(mapping, ""))  # ids may contain ":"
            outcome = RowError(number, f"编号与第 {seen[ref]} 行重复，只导入第一行", ledger_id)
        elif ref:
            seen[ref] = number
        if isinstance(outcome, RowError):
            result.errors.append(outcome)
            rejected.append((outcome, row))
            continue
        pending.append(outcome)
        if len(pending) >= BATCH:
            await _write(db, pending, now, rules, result, dry_run)
            pending = []
    await _write(db, pending, now, rules, result, dry_run)
    if rejects is not None and rejected:
        _write_rejects(rejects, rejected, mapping)
    return result


def _ref(mapping: LedgerMapping, outcome: ImportedIncident | RowError) -> str:
    """The row's external ref, also for a row that cannot be imported but has an id."""
    if isinstance(outcome, ImportedIncident):
        return outcome.incident.external_ref or ""
    return external_ref(mapping, outcome.ledger_id) if outcome.ledger_id else ""


async def _write(
    db: Database, batch: list[ImportedIncident], now: datetime, rules: ImportRules, result: ImportResult, dry_run: bool
) -> None:
    if not batch:
        return
    async with db.write() as conn:
        known = await existing_refs(conn, [b.incident.external_ref or "" for b in batch])
        fresh = [b for b in batch if b.incident.external_ref not in known]
        ids = [] if dry_run else await insert_imported(conn, fresh, now, rules.playbook)
    result.already += len(batch) - len(fresh)
    result.imported += len(fresh)
    result.responded += sum(1 for b in fresh if any(e.kind == EventKind.RESPONSE_RECORDED for e in b.events))
    result.live += sum(1 for b in fresh if b.live)
    result.date_only += sum(1 for b in fresh if any(e.payload.get("date_only") for e in b.events))
    if ids:
        result.first_id = result.first_id or ids[0]
        result.last_id = ids[-1]


def _write_rejects(path: Path, rejected: list[tuple[RowError, dict[str, Any]]], mapping: LedgerMapping) -> None:
    """The rows as the clerk fixes and imports them again with the same mapping: its delimiter, and
    cells of an XLSX ledger (times, dates, numbers) written as text that mapping reads back the same.
    UTF-8 with a BOM (Excel shows the Chinese), which the reader takes for UTF-8 whatever the mapping says."""
    columns = list(dict.fromkeys(c for _, row in rejected for c in row))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=mapping.delimiter)
        writer.writerow(["行号", "原因", *columns])
        for error, row in rejected:
            writer.writerow([error.row, error.reason, *(written_as(mapping, row.get(c)) for c in columns)])
