"""Reading a stored scan: segment it if it has no boxes, classify every box with a
registered model, keep the predictions in the store; and the model registry's
default entry (the shipped model)."""

from __future__ import annotations

from kuzushi_core.containers import ModelRecord, Prediction, Scan
from kuzushi_core.context.model import segment_and_read
from kuzushi_core.crops import crop_box, to_gray
from kuzushi_core.imaging import read_image
from kuzushi_core.ledger.incontext import read_page_in_context
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.predict.classifier import LoadedModel, classify_crops, load_card, load_model
from kuzushi_core.segment.cells import find_cells
from kuzushi_core.segment.columns import SegmentParams
from kuzushi_core.store import Store

UNCERTAIN = 0.6  # predictions below this confidence are flagged for review

_cache: dict[str, LoadedModel] = {}


#: the shipped models, registered in this order; the last one becomes active in a new workspace
SHIPPED = (("kmnist10", "kmnist10.keras"), ("reader", "default.keras"))


def ensure_default_model(store: Store) -> ModelRecord | None:
    """Register the shipped models that the registry lacks (by path and class count): the 10-kana KMNIST model as
    the named version ``kmnist10`` and the reader (``models/default.keras``), which is made active when the registry
    was empty.  A workspace from before the reader keeps its active model; the reader is added beside it."""
    existing = store.list_models()
    known = {(m.path, len(m.classes)) for m in existing}
    added = None
    for name, file_name in SHIPPED:
        path = MODELS_DIR / file_name
        if not path.exists():
            continue
        full = load_card(path)  # the card only: the model itself is loaded (safely) when first used
        if (str(path), len(full["classes"])) in known:
            continue
        test = full.get("test", {})
        metrics = {"kmnist_test_accuracy": test["accuracy"]} if "accuracy" in test else {}
        metrics.update(full.get("metrics") or {})
        card = {k: v for k, v in full.items() if k in ("architecture", "data", "protocol", "licence", "command")}
        added = store.register_model(name, str(path), full["classes"], metrics=metrics, card=card,
                                     activate=not existing and file_name == "default.keras")
    return store.active_model() or added


def loaded(record: ModelRecord) -> LoadedModel:
    """Load a registered model once per process."""
    if record.path not in _cache:
        _cache[record.path] = load_model(record.path)
    return _cache[record.path]


def read_scan(store: Store, scan: Scan, record: ModelRecord, params: SegmentParams | None = None,
              context: bool = True, charlm=None) -> dict[int, Prediction]:
    """Segment (when the scan has no boxes yet), classify every box and, with ``context``, read the page in context
    (:func:`~kuzushi_core.ledger.incontext.read_page_in_context`: a book's columns with the language model over the
    reader's candidates, a register's fields with their grammar; the person's labels taken as certain);
    predictions are stored, each with the glyph's own top k as its candidates.  ``charlm``: the character model to
    read with (default: the shipped one; a benchmark passes one counted without the pages it reads)."""
    page = read_image(store.scan_path(scan))
    boxes = sorted(store.list_boxes(scan.id), key=lambda b: b.order)
    lm = loaded(record)
    preds: list[Prediction] | None = None
    if not boxes:  # segmented here: the unsure boxes' cuts chosen by reading where the language model's card says so
        seg, made = segment_and_read(lm, page, params, lm=charlm, cuts=None if context else False)
        boxes = store.replace_auto_boxes(scan.id, [b.as_dict() | {"flags": b.flags} for b in seg.boxes])
        if [(b.x, b.y, b.w, b.h) for b in boxes] == [(b.x, b.y, b.w, b.h) for b in seg.boxes]:
            preds = made
    if preds is None:
        preds = classify_crops(lm, [crop_box(page, b.x, b.y, b.w, b.h) for b in boxes])
    if context:
        labels = store.current_labels(scan.id)
        pinned = [Prediction(labels[b.id].char, 1.0, ((labels[b.id].char, 1.0),)) if b.id in labels else p
                  for b, p in zip(boxes, preds)]
        # a register's cells (the form segmenter flags its boxes ``cell``): its fields read with their grammar
        cells = find_cells(to_gray(page)) if any(b.has_flag("cell") for b in boxes) else []
        read = read_page_in_context(pinned, boxes, cells, lm=charlm)
        preds = [p if b.id in labels else r for b, p, r in zip(boxes, preds, read)]
    store.save_predictions(record.id, [(b.id, p) for b, p in zip(boxes, preds)])
    return {b.id: p for b, p in zip(boxes, preds)}


def transcription(store: Store, scan: Scan, record: ModelRecord | None, in_context: bool = True) -> list[str]:
    """One line per column (right to left), characters top to bottom: the user's label where there is one,
    else the model's reading (in context, or with ``in_context=False`` each glyph's own best candidate), else '〓'
    (geta mark, the conventional placeholder for an unread character)."""
    labels = store.current_labels(scan.id)
    preds = store.predictions(scan.id, record.id) if record else {}
    lines: dict[int, list[str]] = {}
    for b in store.list_boxes(scan.id):
        p = preds.get(b.id)
        reading = (p.label if in_context or not p.candidates else p.candidates[0][0]) if p else "〓"
        ch = labels[b.id].char if b.id in labels else reading
        lines.setdefault(b.column, []).append(ch)
    return ["".join(lines[c]) for c in sorted(lines)]
