"""The model registry's file side: import a model from elsewhere (checked), export one, roll back.

An imported ``.keras`` file is untrusted: it is written to a scratch folder,
opened with Keras safe mode on (no Lambda layers, no arbitrary code) and its
input shape and class list checked against its card; only then is it copied
into the workspace and registered.  A refusal leaves the registry unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from kuzushi_core.containers import ModelRecord
from kuzushi_core.errors import KuzushiError
from kuzushi_core.predict.classifier import ModelFileError, load_model
from kuzushi_core.store import Store

MAX_MODEL_BYTES = 200 * 1024 * 1024


def import_model(store: Store, keras_bytes: bytes, card_bytes: bytes | None, name: str,
                 activate: bool = False, filename: str = "model.keras") -> ModelRecord:
    """Check and register a model file (``card_bytes``: its ``.json`` card with the class list).

    ``filename`` (the uploaded file's name) only names the file in messages.
    """
    if not keras_bytes:
        raise ModelFileError("The model file is empty.")
    if len(keras_bytes) > MAX_MODEL_BYTES:
        raise ModelFileError(f"The model file is larger than {MAX_MODEL_BYTES // 2**20} MB.")
    if card_bytes is None:
        raise ModelFileError("A model needs its model card (the .json file beside the .keras file, listing the classes).")
    try:
        card = json.loads(card_bytes.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"The model card is not valid JSON: {exc}") from exc
    if not isinstance(card, dict):
        raise ModelFileError("The model card must be a JSON object with a \"classes\" list.")
    digest = hashlib.sha256(keras_bytes).hexdigest()[:16]
    with tempfile.TemporaryDirectory() as tmp:
        stem = "".join(ch for ch in Path(filename).stem if ch.isalnum() or ch in "-_ ") or "model"
        probe = Path(tmp) / f"{stem}.keras"
        probe.write_bytes(keras_bytes)
        probe.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False))
        lm = load_model(probe)  # raises ModelFileError with the reason
        classes = lm.classes
        size = lm.size
    dest = store.files / "models" / f"imported-{digest}.keras"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dest = dest.with_name(dest.stem + ".tmp.keras")
    tmp_dest.write_bytes(keras_bytes)
    dest.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=1))
    shutil.move(tmp_dest, dest)
    metrics = {}
    test = card.get("test") or {}
    if isinstance(test, dict) and isinstance(test.get("accuracy"), (int, float)):
        metrics["test_accuracy"] = float(test["accuracy"])
    keep = {k: card[k] for k in ("architecture", "data", "protocol", "licence", "command") if k in card}
    keep["imported"] = {"sha256_16": digest, "input": size}
    return store.register_model(name.strip() or f"imported {digest[:8]}", str(dest), classes, metrics=metrics,
                                card=keep, activate=activate)


def export_model_zip(record: ModelRecord) -> bytes:
    """The model file and its card, as one zip to download."""
    path = Path(record.path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.write(path, path.name)
        card = path.with_suffix(".json")
        if card.exists():
            z.write(card, card.name)
    return buf.getvalue()


def rollback(store: Store) -> ModelRecord:
    """Make the active model's parent (else the previous version) active again."""
    active = store.active_model()
    models = store.list_models()
    if active is None or len(models) < 2:
        raise ModelFileError("There is no earlier model version to roll back to.")
    target = active.parent_id
    if target is None or target not in {m.id for m in models}:
        earlier = [m.id for m in models if m.id < active.id]
        if not earlier:
            raise ModelFileError("There is no earlier model version to roll back to.")
        target = earlier[-1]
    store.set_active_model(target)
    return store.get_model(target)


#: figures a model's record may carry, in the order a summary shows them (others follow under their own names)
KNOWN_FIGURES = ("kmnist_test_accuracy", "val_accuracy", "parent_accuracy", "val_macro_f1", "cv_accuracy_mean",
                 "cv_accuracy_std", "test_accuracy", "n_train", "seconds", "best_epoch", "not_worse")


def card_summary(store: Store, record: ModelRecord) -> dict:
    """What a person reads first about a version, from its record and card: classes (count and a sample), the data
    it learned from, its measured figures, its parent, who trained it (the run that made it) and when, licence and
    the command that rebuilds it. Values are plain (numbers, strings); the words around them are the UI's."""
    card = record.card or {}
    data = card.get("data") or {}
    parent = None
    if record.parent_id is not None:
        try:
            p = store.get_model(record.parent_id)
            parent = f"#{p.id} {p.name}"
        except KuzushiError:
            parent = f"#{record.parent_id}"
    trained_by = next((r.started_by for r in store.list_runs() if r.model_id == record.id and r.started_by), "")
    figures = {k: record.metrics[k] for k in KNOWN_FIGURES if record.metrics.get(k) is not None}
    figures.update({k: v for k, v in record.metrics.items()
                    if k not in figures and v is not None and isinstance(v, (int, float, str))})
    counts = data.get("counts") or {}
    return {
        "classes": len(record.classes),
        "sample": "".join(record.classes[:40]),
        "data_source": str(data.get("source", "")),
        "n_train": data.get("n_train_total") or record.metrics.get("n_train"),
        "per_class": (min(counts.values()), max(counts.values())) if counts else None,
        "figures": figures,
        "parent": parent,
        "mode": card.get("mode") or card.get("architecture") or "",
        "trained_by": trained_by,
        "created": record.created_at[:16].replace("T", " "),
        "licence": card.get("licence", ""),
        "command": card.get("command", ""),
    }
