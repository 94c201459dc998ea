"""Ledger mode on a workspace: a scan's ruled cells, its fields placed by the volume's template, the
characters of each field cell read and joined, the lots parsed and checked, and their export.

The characters are ordinary boxes of the scan (flag ``ledger``) with the model's predictions and the
historian's labels, so a label typed on the Ledger page, the Read page or the Label-next queue is one and
the same: fixing a character fixes the value it is part of.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kuzushi_core.containers import ModelRecord, Scan
from kuzushi_core.crops import crop_box
from kuzushi_core.imaging import read_image
from kuzushi_core.ledger.lots import Field, Lot, assemble, check_page, make_field, read_field
from kuzushi_core.ledger.read import K, propose_from, read_cells
from kuzushi_core.ledger.templates import FIELDS, Template, place
from kuzushi_core.predict.classifier import classify_crops
from kuzushi_core.predict.reading import loaded
from kuzushi_core.segment.cells import RuledCell, estimate_skew, find_cells
from kuzushi_core.segment.columns import SegmentParams, segment
from kuzushi_core.segment.forms import cell_order, form_ink, segment_form
from kuzushi_core.store import Store


@dataclass
class PageReading:
    """A scan read with a template: its lots (checked), the page's own flags, and where each field is."""

    scan: Scan
    template_id: int
    lots: list[Lot]
    flags: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)  # "area" / "value" / "tax" -> Field: the page's written 計
    boxes: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # (lot, field) -> char box ids
    places: dict[tuple[int, str], tuple[int, int, int, int]] = field(default_factory=dict)  # (lot, field) -> box
    headings: dict[str, str] = field(default_factory=dict)  # field -> its heading as the form prints it


def page_cells(store: Store, scan: Scan, *, redo: bool = False) -> tuple[list[RuledCell], float]:
    """The scan's ruled cells (found once, then kept in the workspace) and its skew."""
    kept = None if redo else store.ledger_cells(scan.id)
    if kept is not None:
        cells_json, angle = kept
        return [RuledCell(**c) for c in json.loads(cells_json)], angle
    gray = read_image(store.scan_path(scan), gray=True)
    cells = find_cells(gray)
    angle = estimate_skew(gray)
    store.save_ledger_cells(scan.id, json.dumps([c.as_dict() for c in cells]), angle)
    return cells, angle


def template_of(store: Store, template_id: int) -> Template:
    return Template.from_json(store.get_template(template_id)["spec"])


PROPOSED = "proposed from the headings"  # the name a proposed template is saved under (with its page)


def propose(store: Store, scan: Scan, record: ModelRecord) -> Template:
    """The template the scan's printed headings propose (:mod:`kuzushi_core.ledger.headings`), read with the
    model; :class:`~kuzushi_core.errors.TemplateError` when none can be proposed."""
    cells, angle = page_cells(store, scan)
    rgb = read_image(store.scan_path(scan))
    lm = loaded(record)
    columns = segment(rgb, SegmentParams(forms=False)).boxes
    made = propose_from(cells, read_cells(rgb, cells, angle, lm, columns))
    return Template(f"{PROPOSED} (p.{scan.page_no})", made.fields)


def preferred_template(templates: list[dict]) -> int | None:
    """The template a page opens with: a hand-marked one (they win), else a proposed one, newest first."""
    marked = [t["id"] for t in templates if not t["name"].startswith(PROPOSED)]
    return (marked or [t["id"] for t in templates] or [None])[0]


def prepare(store: Store, scan: Scan, template_id: int, record: ModelRecord) -> int:
    """Segment each field cell of the scan into character boxes and read them with the model; returns the
    number of character boxes. Labelled and hand-drawn boxes are kept (a re-run never loses a label)."""
    cells, angle = page_cells(store, scan)
    placed = place(template_of(store, template_id), cells)
    page = read_image(store.scan_path(scan))
    fields = [RuledCell(*box) for box in dict.fromkeys(box for _, box, _ in placed)]  # a cell two fields share: once
    ink = form_ink(page, fields) if page.ndim == 3 else page  # seals made paper, printing kept
    per_field = segment_form(page, fields, angle, ink)
    # a correction struck through is kept as boxes (it is on the page) and left out of the field's text
    new = [{"x": x, "y": y, "w": w, "h": h, "flags": "ledger struck" if (x, y, w, h) in chars.struck else "ledger"}
           for chars in per_field for x, y, w, h in chars]
    boxes = store.replace_auto_boxes(scan.id, new)
    preds = classify_crops(loaded(record), [crop_box(ink, b.x, b.y, b.w, b.h) for b in boxes], k=K)
    store.save_predictions(record.id, [(b.id, p) for b, p in zip(boxes, preds)])
    return len(boxes)


def _inside(b, box) -> bool:
    cx, cy = b.x + b.w / 2, b.y + b.h / 2
    return box[0] <= cx < box[0] + box[2] and box[1] <= cy < box[1] + box[3]


def read_page(store: Store, scan: Scan, template_id: int, record: ModelRecord | None) -> PageReading:
    """The scan's lots under a template, from the boxes' labels (first) and the model's predictions."""
    cells, _ = page_cells(store, scan)
    placed = place(template_of(store, template_id), cells)
    boxes = store.list_boxes(scan.id)
    labels = store.current_labels(scan.id)
    preds = store.predictions(scan.id, record.id) if record is not None else {}
    edits = store.field_edits(scan.id, template_id)
    made_fields: list[tuple[int, Field]] = []
    reading = PageReading(scan, template_id, [])
    for f, box, _cell in placed:
        inside = [b for b in boxes if _inside(b, box) and not b.has_flag("excluded") and not b.has_flag("struck")]
        # the cell's reading order: top to bottom, the right line first where it holds two; a name written across
        # a top band right to left
        members = [inside[i] for i in cell_order([(b.x, b.y, b.w, b.h) for b in inside], box, by_lines=True)]
        reading.boxes[(f.lot, f.name)] = [b.id for b in members]
        reading.places[(f.lot, f.name)] = box
        reading.headings.setdefault(f.name, f.heading)
        # each glyph's candidates: a label the user gave is certain; a glyph neither labelled nor read is left out
        cands = [[(labels[b.id].char, 1.0)] if b.id in labels else list(preds[b.id].candidates)
                 for b in members if b.id in labels or b.id in preds]
        labelled = any(b.id in labels for b in members)
        if (f.lot, f.name) in edits:
            made = make_field(f.name, edits[(f.lot, f.name)], f.kind, source="user", cell=_cell)
        else:
            made = read_field(f.name, f.kind, cands, _cell, source="user" if labelled else "auto",
                              lexicon=not labelled)
        made_fields.append((f.lot, made))
    reading.lots, reading.totals = assemble(made_fields)
    reading.flags = check_page(reading.lots, reading.totals)
    return reading


LOT_COLUMNS = ("document", "page_no", "scan_id", "source_name", "lot", "field", "heading", "text", "value", "unit",
               "kind", "confidence", "source", "flag")


def lot_rows(reading: PageReading, document: str = "") -> list[dict]:
    """One row per field of each lot: text, parsed value, unit, confidence, source (user/auto), flag."""
    rows = []
    for k, lot in enumerate(reading.lots):
        flags = {}
        for fl in lot.flags:
            flags.setdefault(fl.field, fl.reason)
        for name, f in lot.fields.items():
            rows.append({"document": document, "page_no": reading.scan.page_no, "scan_id": reading.scan.id,
                         "source_name": reading.scan.source_name, "lot": k + 1, "field": name,
                         "heading": reading.headings.get(name) or FIELDS.get(name, (name,))[0], "text": f.text, "value": f.value, "unit": f.unit,
                         "kind": f.kind, "confidence": round(f.confidence, 4), "source": f.source,
                         "flag": flags.get(name, f.error or "")})
    page_flags = {fl.field.removeprefix("total_"): fl.reason for fl in reading.flags}
    for name, f in reading.totals.items():  # the page's written totals: lot 0
        rows.append({"document": document, "page_no": reading.scan.page_no, "scan_id": reading.scan.id,
                     "source_name": reading.scan.source_name, "lot": 0, "field": f"total_{name}",
                     "heading": reading.headings.get(f"total_{name}") or FIELDS[f"total_{name}"][0], "text": f.text, "value": f.value, "unit": f.unit,
                     "kind": f.kind, "confidence": round(f.confidence, 4), "source": f.source,
                     "flag": page_flags.get(name, f.error or "")})
    return rows


def document_lots(store: Store, document_id: int | None = None) -> list[dict]:
    """The lot rows of every scan read in ledger mode (:func:`prepare`), each with its document's preferred
    template (:func:`preferred_template`)."""
    docs = {d.id: d.name for d in store.list_documents()}
    record = store.active_model()
    rows = []
    for scan in store.list_scans(document_id):
        if not any(b.has_flag("ledger") for b in store.list_boxes(scan.id)):
            continue  # not read in ledger mode
        templates = store.list_templates(scan.document_id)
        if not templates:
            continue
        chosen = preferred_template(templates)
        assert chosen is not None
        rows += lot_rows(read_page(store, scan, chosen, record), docs.get(scan.document_id, ""))
    return rows
