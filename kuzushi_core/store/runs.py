"""Training runs (queued, running, finished, cancelled) with their epochs, and named augmentation configs."""

from __future__ import annotations

import json
import sqlite3

from kuzushi_core.containers import TrainingRun
from kuzushi_core.errors import NotFoundError, StoreError
from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.schema import now, person_name


class RunsMixin(StoreBase):
    # -- training runs -----------------------------------------------------
    def create_run(self, config: dict, started_by: str = "") -> TrainingRun:
        with self.write() as con:
            cur = con.execute(
                "INSERT INTO runs(config, created_at, started_by) VALUES (?, ?, ?)",
                (json.dumps(config, ensure_ascii=False), now(), person_name(started_by)),
            )
            row = con.execute("SELECT * FROM runs WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _run(row)

    def update_run(self, run_id: int, **fields) -> None:
        allowed = {"status", "started_at", "finished_at", "pid", "error", "progress", "metrics", "model_id"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"Unknown run fields: {sorted(bad)}")
        if "metrics" in fields:
            fields["metrics"] = json.dumps(fields["metrics"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.write() as con:
            con.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def add_epoch(self, run_id: int, epoch: int, metrics: dict, fold: int = 0) -> None:
        with self.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO run_epochs(run_id, fold, epoch, metrics, created_at) VALUES (?, ?, ?, ?, ?)",
                (run_id, fold, epoch, json.dumps(metrics), now()),
            )

    def get_run(self, run_id: int) -> TrainingRun:
        with self.read() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no training run #{run_id} in this workspace.")
        return _run(row)

    def list_runs(self) -> list[TrainingRun]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        return [_run(r) for r in rows]

    def request_cancel(self, run_id: int) -> None:
        """Ask a queued or running job to stop (it checks between batches); a queued one is cancelled at once."""
        with self.write() as con:
            con.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
            con.execute("UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'",
                        (now(), run_id))

    def cancel_requested(self, run_id: int) -> bool:
        with self.read() as con:
            row = con.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def claim_next_run(self, pid: int) -> TrainingRun | None:
        """Take the oldest queued run for this worker (one transaction: two workers never take the same run)."""
        with self.write() as con:
            row = con.execute("SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            con.execute("UPDATE runs SET status = 'running', pid = ?, started_at = ? WHERE id = ?",
                        (pid, now(), row["id"]))
            row = con.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
        return _run(row)

    def run_epochs(self, run_id: int) -> list[dict]:
        with self.read() as con:
            rows = con.execute(
                "SELECT fold, epoch, metrics FROM run_epochs WHERE run_id = ? ORDER BY fold, epoch", (run_id,)
            ).fetchall()
        return [{"fold": r["fold"], "epoch": r["epoch"], **json.loads(r["metrics"])} for r in rows]

    # -- augmentation configs ----------------------------------------------
    def save_augment_config(self, name: str, config: dict) -> None:
        name = name.strip()
        if not name:
            raise StoreError("An augmentation config needs a name.")
        with self.write() as con:
            con.execute("INSERT OR REPLACE INTO augment_configs(name, config, created_at) VALUES (?, ?, ?)",
                        (name, json.dumps(config), now()))

    def augment_configs(self) -> dict[str, dict]:
        with self.read() as con:
            rows = con.execute("SELECT name, config FROM augment_configs ORDER BY name").fetchall()
        return {r["name"]: json.loads(r["config"]) for r in rows}


def _run(r: sqlite3.Row) -> TrainingRun:
    return TrainingRun(
        id=r["id"],
        config=json.loads(r["config"]),
        status=r["status"],
        created_at=r["created_at"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        pid=r["pid"],
        error=r["error"],
        progress=r["progress"],
        metrics=json.loads(r["metrics"]),
        model_id=r["model_id"],
        started_by=r["started_by"],
    )
