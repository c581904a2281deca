"""Demo history: a small synthetic 留言板 ledger, imported when the demo starts, so the reports page
has earlier months to show and compare with (the demo's live incidents are only minutes old).

`ledger.csv` was written for the project — it is not real data and not the licensed corpus. Its
times are relative (days before the demo's start, time of day, hours until the reply), so the
history always ends just before "now"; `write_ledger` turns it into an ordinary 留言板 export and
`import_demo_ledger` imports that file with the real `monitor import-ledger` code. Every incident
is marked as demo data: the title starts with 【演示】, the ref is import:demo-ledger:<id>.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from pathlib import Path

from monitor.app import Services
from monitor.clock import to_local
from monitor.ledger.importer import ImportResult, import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.ledger.plan import ImportRules

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "ledger.csv"
MAPPING = HERE / "ledger-mapping.yaml"
MARK = "【演示】"
HEADER = ["msg_id", "title", "time", "detail", "dept", "region", "reply", "reply_time"]


def write_ledger(now: datetime, out: Path) -> Path:
    """The template as a 留言板 export with Beijing times ending before `now`; returns `out`."""
    today = to_local(now).date()
    with TEMPLATE.open(encoding="utf-8") as source, out.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(HEADER)
        for row in csv.DictReader(source):
            day = today - timedelta(days=int(row["days_ago"]))
            received = datetime.combine(day, time.fromisoformat(row["at"]))
            replied = received + timedelta(hours=float(row["reply_after_h"])) if row["reply_after_h"] else None
            reply, reply_time = (row["reply"], f"{replied:%Y-%m-%d %H:%M}") if replied else ("", "")
            detail = row["detail"] + "（演示数据，非真实留言）"
            writer.writerow([row["msg_id"], MARK + row["title"], f"{received:%Y-%m-%d %H:%M}", detail, row["dept"],
                             row["region"], reply, reply_time])  # fmt: skip
    return out


async def import_demo_ledger(services: Services) -> ImportResult:
    """Write the demo ledger under data_dir and import it as historical incidents."""
    now = services.clock.now()
    path = write_ledger(now, Path(services.settings.data_dir) / "demo-ledger.csv")
    rules = ImportRules(services.playbook, services.calendar, services.org)
    return await import_ledger(services.db, path, load_mapping(MAPPING), now, rules)
