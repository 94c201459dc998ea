"""An archive run brought into a workspace: its pages become scans, its characters boxes with predictions.

The page images are imported from the run's source files (through the same intake as an upload, so the same
checks and the same content hashes); a source that moved or changed since the run is reported, not guessed at.
Importing twice adds nothing: a scan that already has boxes keeps them (and any labels on them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from kuzushi_core.archive.sink import SCHEMA, part_files, to_pandas
from kuzushi_core.archive.stages import model_version
from kuzushi_core.containers import ModelRecord, Prediction
from kuzushi_core.data.intake import import_bytes
from kuzushi_core.errors import KuzushiError
from kuzushi_core.predict.classifier import load_card
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.store import Store, sha256_bytes


@dataclass
class ImportSummary:
    scans: int = 0  # pages imported as new scans
    boxes: int = 0
    kept: int = 0  # pages whose scan already had boxes
    failed: list[str] = field(default_factory=list)  # error rows of the run, and sources that could not be imported

    def as_dict(self) -> dict:
        return {"scans": self.scans, "boxes": self.boxes, "kept": self.kept, "failed": self.failed}


def _model_record(store: Store, version: str, model: Path) -> ModelRecord:
    """The registry entry of the run's model (the shipped ones are registered as the app would); it becomes the
    active model of a workspace that has none, so that the Read page shows the run's predictions."""
    if model_version(model) != version:
        raise KuzushiError(f"The run was read by {version}, not by {model}; pass that model with --model.")
    ensure_default_model(store)
    for rec in store.list_models():
        if Path(rec.path).resolve() == model.resolve():
            return rec
    card = load_card(model)
    return store.register_model(version, str(model.resolve()), card["classes"],
                                card={k: v for k, v in card.items() if k in ("architecture", "data", "licence")},
                                activate=store.active_model() is None)


def import_results(folder: str | os.PathLike[str], store: Store, document: str, model: str | os.PathLike[str]
                   ) -> ImportSummary:
    parts = part_files(Path(folder))
    if not parts:
        raise KuzushiError(f"{folder} holds no archive results (part-*.parquet).")
    doc = store.ensure_document(document)
    summary = ImportSummary()
    records: dict[str, ModelRecord] = {}
    imported_files: set[str] = set()
    for part in parts:  # a part at a time: pages are whole within a part
        df = to_pandas(pq.read_table(part, schema=SCHEMA))
        for (digest, index), rows in df.groupby(["content_hash", "page_index"], sort=False):
            rows = rows.sort_values("order", kind="stable")
            first = rows.iloc[0]
            if first["error"] is not None and isinstance(first["error"], str):
                summary.failed.append(f"{first['source']} page {int(index) + 1}: {first['error']}")
                continue
            scan = store.find_scan(digest, int(index))
            if scan is None and digest not in imported_files:
                try:
                    data = Path(first["source"]).read_bytes()
                except OSError as exc:
                    summary.failed.append(f"{first['source']}: cannot be read ({exc.strerror or exc})")
                    continue
                if sha256_bytes(data) != digest:
                    summary.failed.append(f"{first['source']}: changed since the run; not imported")
                    continue
                result = import_bytes(store, data, Path(first["source"]).name, doc.id)
                if result.error:
                    summary.failed.append(result.error)
                    continue
                imported_files.add(digest)
                summary.scans += len(result.scans)
                scan = store.find_scan(digest, int(index))
            if scan is None:
                summary.failed.append(f"{first['source']} page {int(index) + 1}: not in the workspace")
                continue
            if store.list_boxes(scan.id):
                summary.kept += 1
                continue
            chars = rows[rows["label"].notna()]
            boxes = store.add_boxes(scan.id, [
                {"x": r.x, "y": r.y, "w": r.w, "h": r.h, "column": r.column, "order": r.order}
                for r in chars.itertuples()])
            version = str(first["model_version"])
            if version not in records:
                records[version] = _model_record(store, version, Path(model))
            store.save_predictions(records[version].id, [
                (b.id, Prediction(r.label, float(r.confidence), tuple((c["label"], float(c["score"]))
                                                                       for c in r.candidates)))
                for b, r in zip(boxes, chars.itertuples())])
            summary.boxes += len(boxes)
    return summary
