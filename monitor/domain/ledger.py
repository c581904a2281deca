"""An incident imported from an existing ledger (舆情台账 / 留言板导出), with its history (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain.events import IncidentEvent
from monitor.domain.incidents import Incident
from monitor.domain.obligations import Obligation


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """What one ledger row becomes. `incident_id` of the events and obligations is filled on insert."""

    row: int  # the row of the source file (header = row 1)
    incident: Incident  # external_ref = "import:<mapping name>:<id in the ledger>"
    events: tuple[IncidentEvent, ...]  # after the DETECTED event the repository writes
    obligations: tuple[Obligation, ...]  # as the clock engine plans them at the import time
    live: bool = False  # a deadline still runs at the import: the engine must take it over at once
