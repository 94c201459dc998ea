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
