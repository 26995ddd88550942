"""The local stack keeps what it made: on stop, every item of the template's tables (DynamoDB JSON) and
the Checkout.com simulator's payments are saved under the state folder; on the next start they are put
back, so a storefront's stored ``qpp_…`` ids keep answering. ``make run ARGS="--fresh"`` starts clean.

The same on both backends (moto, and DynamoDB Local run in memory): a snapshot restored into fresh
tables, so no old stream records are replayed into the handlers (the restore's INSERT records pass no
consumer's filter). Expired timers restored are reaped by the TTL sweeper and expire their payments as
they would have. Not kept: refund workflows in flight (the product's refund sweep restarts an open
refund), queued order events, idempotency keys of the simulator. Never kept: the national ID (the
product never stores it; the simulator's snapshot drops it).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from pathlib import Path
from typing import Any

from qpay_local.state import write_private

log = logging.getLogger("qpay_local.persistence")

TABLES_FILE = "tables.json"
SIM_FILE = "simulator.pickle"
FORMAT = 1
BATCH = 25  # BatchWriteItem's limit


class Persistence:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.restored_items = 0
        self.restored_payments = 0

    @property
    def tables_path(self) -> Path:
        return self.directory / TABLES_FILE

    @property
    def sim_path(self) -> Path:
        return self.directory / SIM_FILE

    def clear(self) -> None:
        """``--fresh``: forget what was saved."""
        for path in (self.tables_path, self.sim_path):
            path.unlink(missing_ok=True)

    # -- tables --------------------------------------------------------------------------------

    def save_tables(self, ddb: Any, tables: dict[str, str]) -> int:
        """Every item of each table (logical id → name), as DynamoDB JSON; returns how many."""
        doc: dict[str, Any] = {"format": FORMAT, "tables": {}}
        count = 0
        for logical_id, name in tables.items():
            items: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
            while True:
                page = ddb.scan(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            doc["tables"][logical_id] = items
            count += len(items)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.tables_path.with_suffix(".tmp")
        write_private(tmp, json.dumps(doc, separators=(",", ":")))
        os.replace(tmp, self.tables_path)
        return count

    def restore_tables(self, ddb: Any, tables: dict[str, str]) -> int:
        if not self.tables_path.exists():
            return 0
        try:
            doc = json.loads(self.tables_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("not restoring the tables: %s is unreadable (%s)", self.tables_path, exc)
            return 0
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            log.warning("not restoring the tables: %s has another format", self.tables_path)
            return 0
        count = 0
        for logical_id, items in (doc.get("tables") or {}).items():
            name = tables.get(logical_id)
            if name is None:
                continue  # a table the template no longer has
            for start in range(0, len(items), BATCH):
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
                pending: dict[str, Any] = {name: requests}
                for _ in range(10):  # unprocessed items are retried, a bounded number of times
                    answer = ddb.batch_write_item(RequestItems=pending)
                    pending = answer.get("UnprocessedItems") or {}
                    if not pending:
                        break
            count += len(items)
        self.restored_items = count
        return count

    # -- the simulator ---------------------------------------------------------------------------

    def save_sim(self, sim: Any) -> int:
        snapshot = sim.snapshot()
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.sim_path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(snapshot))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.sim_path)
        return len(snapshot["payments"])

    def restore_sim(self, sim: Any) -> int:
        if not self.sim_path.exists():
            return 0
        try:
            snapshot = pickle.loads(self.sim_path.read_bytes())  # noqa: S301 - written by save_sim, 0600
            count = int(sim.restore(snapshot))
        except Exception as exc:  # an older or damaged snapshot: start without it, say so
            log.warning("not restoring the simulator's payments: %s (%s)", self.sim_path, exc)
            return 0
        self.restored_payments = count
        return count
