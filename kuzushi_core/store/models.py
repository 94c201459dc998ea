"""Model versions (registered ``.keras`` files with parent, data and metrics) and their predictions per box."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from kuzushi_core.containers import ModelRecord, Prediction
from kuzushi_core.errors import NotFoundError
from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.schema import now


class ModelsMixin(StoreBase):
    # -- models ------------------------------------------------------------
    def register_model(
        self,
        name: str,
        path: str,
        classes: Sequence[str],
        *,
        metrics: dict | None = None,
        card: dict | None = None,
        parent_id: int | None = None,
        activate: bool = False,
    ) -> ModelRecord:
        with self.write() as con:
            if activate:
                con.execute("UPDATE models SET active = 0")
            cur = con.execute(
                "INSERT INTO models(name, path, classes, metrics, card, parent_id, active, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    path,
                    json.dumps(list(classes), ensure_ascii=False),
                    json.dumps(metrics or {}),
                    json.dumps(card or {}, ensure_ascii=False),
                    parent_id,
                    int(activate),
                    now(),
                ),
            )
            row = con.execute("SELECT * FROM models WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _model(row)

    def get_model(self, model_id: int) -> ModelRecord:
        with self.read() as con:
            row = con.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no model #{model_id} in this workspace.")
        return _model(row)

    def list_models(self) -> list[ModelRecord]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM models ORDER BY id").fetchall()
        return [_model(r) for r in rows]

    def active_model(self) -> ModelRecord | None:
        with self.read() as con:
            row = con.execute("SELECT * FROM models WHERE active = 1 ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else _model(row)

    def set_active_model(self, model_id: int) -> None:
        with self.write() as con:
            if con.execute("SELECT 1 FROM models WHERE id = ?", (model_id,)).fetchone() is None:
                raise NotFoundError(f"There is no model #{model_id} in this workspace.")
            con.execute("UPDATE models SET active = (id = ?)", (model_id,))

    # -- predictions -------------------------------------------------------
    def save_predictions(self, model_id: int, items: Iterable[tuple[int, Prediction]]) -> None:
        with self.write() as con:
            stamp = now()
            con.executemany(
                "INSERT OR REPLACE INTO predictions(box_id, model_id, label, confidence, candidates, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(box_id, model_id, p.label, float(p.confidence), json.dumps([list(c) for c in p.candidates],
                                                                                ensure_ascii=False), stamp)
                 for box_id, p in items],
            )

    def predictions(self, scan_id: int, model_id: int) -> dict[int, Prediction]:
        with self.read() as con:
            rows = con.execute(
                "SELECT p.* FROM predictions p JOIN boxes b ON b.id = p.box_id WHERE b.scan_id = ? AND p.model_id = ?",
                (scan_id, model_id),
            ).fetchall()
        return {
            r["box_id"]: Prediction(r["label"], r["confidence"], tuple((c, s) for c, s in json.loads(r["candidates"])))
            for r in rows
        }

    def all_predictions(self, model_id: int) -> dict[int, Prediction]:
        """The stored predictions of one model over the whole workspace, by box id."""
        with self.read() as con:
            rows = con.execute("SELECT * FROM predictions WHERE model_id = ?", (model_id,)).fetchall()
        return {
            r["box_id"]: Prediction(r["label"], r["confidence"], tuple((c, s) for c, s in json.loads(r["candidates"])))
            for r in rows
        }


def _model(r: sqlite3.Row) -> ModelRecord:
    return ModelRecord(
        id=r["id"],
        name=r["name"],
        path=r["path"],
        classes=tuple(json.loads(r["classes"])),
        metrics=json.loads(r["metrics"]),
        parent_id=r["parent_id"],
        active=bool(r["active"]),
        created_at=r["created_at"],
        card=json.loads(r["card"]),
    )
