"""What the web needs from the composition root (monitor.app.Services satisfies it)."""

from __future__ import annotations

from typing import Protocol

from monitor.changes import ChangeFeed
from monitor.clock import Clock
from monitor.config import Settings
from monitor.domain import OrgDirectory
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.storage.db import Database


class WebServices(Protocol):
    settings: Settings
    clock: Clock
    db: Database
    org: OrgDirectory
    changes: ChangeFeed
    playbook: Playbook  # the current rules (the engine executes the web's commands with these services)
    calendar: WorkCalendar
