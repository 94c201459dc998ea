"""A register page to lots, without a workspace: what ``read-ledger`` and ``read-archive --ledger`` run.

The page's ruled cells are found, every cell is split into characters and read once; the fields come from a
template (a hand-marked one given, or the one its printed headings propose: :mod:`.headings`), each field
is read from its cell's characters (a value cell as the most probable text that parses, a 地目 or an event as a word
of its list: :mod:`.grammar`), and
the lots are assembled and checked as on the Ledger page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from kuzushi_core.containers import Prediction, RuledCell
from kuzushi_core.crops import crop_box
from kuzushi_core.ledger.headings import propose_template
from kuzushi_core.ledger.lots import Field, Lot, assemble, check_page, read_field
from kuzushi_core.ledger.templates import Template, frame_of, place
from kuzushi_core.predict.classifier import LoadedModel, classify_crops
from kuzushi_core.segment.cells import estimate_skew, find_cells
from kuzushi_core.segment.columns import SegmentParams, segment, speck_floor
from kuzushi_core.segment.forms import cell_order, form_boxes, form_ink, segment_form

K = 20  # candidates kept per glyph: enough for a value cell's alphabet to find its numeral


@dataclass
class RegisterReading:
    """One register page read: its cells, the template used (and whether it was proposed from the headings),
    the lots (checked), the page's written totals and its own flags, and each field's printed heading."""

    cells: list[RuledCell]
    template: Template
    proposed: bool
    lots: list[Lot]
    totals: dict[str, Field]
    flags: list = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)  # field name -> the heading as printed


def _share_inside(a, b) -> float:
    """How much of box a's area lies inside box b."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) / max(1e-9, a[2] * a[3])


def read_cells(rgb: np.ndarray, cells, angle: float, lm: LoadedModel, page_boxes: list | None = None,
               ink: np.ndarray | None = None):
    """Every cell split into characters (as ``segment`` splits a form: :func:`~kuzushi_core.segment.forms.form_boxes`,
    choosing ``page_boxes`` where they are sound in a cell) and read once, from the page with its seals made paper
    and its printing kept: (character boxes, each cell's box indices in reading order, each box's prediction)."""
    if ink is None:
        ink = form_ink(rgb, cells) if rgb.ndim == 3 else rgb
    per_cell = form_boxes(rgb, cells, angle, page_boxes, ink)
    # specks are no characters, as `segment` leaves them out of a form's boxes
    least = speck_floor([max(b[2], b[3]) for boxes in per_cell for b in boxes], SegmentParams().min_char)
    flat: list[tuple[int, int, int, int]] = []
    glyphs: list[list[int]] = []
    for boxes in per_cell:
        # a correction struck through is not the value
        kept = [b for b in boxes if b not in boxes.struck and max(b[2], b[3]) >= least]
        glyphs.append([len(flat) + k for k in range(len(kept))])
        flat.extend(kept)
    preds: list[Prediction] = classify_crops(lm, [crop_box(ink, *b) for b in flat], k=K)
    return flat, glyphs, preds


def propose_from(cells, read) -> Template:
    """The template the page's printed headings propose, from its cells read by :func:`read_cells` (a form printed
    in red has its headings in red: they are read as printing, not left out as seals)."""
    _, glyphs, preds = read
    return propose_template(cells, glyphs, preds)


def read_register(rgb: np.ndarray, lm: LoadedModel, template: Template | None = None) -> RegisterReading:
    """Read a register page (RGB, or grey) into lots with ``template``, else with the template its headings
    propose (:class:`~kuzushi_core.errors.TemplateError` when the page has no ruling or no headings)."""
    plain = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    cells = find_cells(plain)  # the ruling in any colour (a vermilion form's too)
    angle = estimate_skew(plain)
    ink = form_ink(rgb, cells) if rgb.ndim == 3 else rgb  # seals made paper, printing kept
    # the page's columns, specks and all as `segment` weighs them for a form: a cell takes them where sound
    columns = segment(rgb, SegmentParams(forms=False, min_char=0.0)).boxes
    flat, glyphs, preds = read_cells(rgb, cells, angle, lm, columns, ink)
    proposed = template is None
    if template is None:
        template = propose_from(cells, (flat, glyphs, preds))
    made: list[tuple[int, Field]] = []
    headings: dict[str, str] = {}
    fx, fy, fw, fh = frame_of(cells)
    for f, box, index in place(template, cells):
        bx, by, bw, bh = f.box
        mapped = (fx + bx * fw, fy + by * fh, bw * fw, bh * fh)
        # the cells that lie inside the field's box: one, or the parts of a cell a stray line or a seal split
        parts = [i for i, c in enumerate(cells) if _share_inside((c.x, c.y, c.w, c.h), mapped) >= 0.6]
        if index >= 0 and index not in parts:
            parts = [index]
        if parts:
            members = [g for i in parts for g in glyphs[i]]
            order = cell_order([flat[g] for g in members], box)
            if len(parts) > 1:  # the pieces of a split cell, each read on its own: put back top to bottom
                order = sorted(order, key=lambda k: flat[members[k]][1])
            ps = [preds[members[k]] for k in order]
        else:  # a field where the ruling was not found: its mapped box split and read on its own
            found = segment_form(rgb, [RuledCell(*box)], angle, ink)[0]
            boxes = [b for b in found if b not in found.struck]
            ps = classify_crops(lm, [crop_box(ink, *b) for b in boxes], k=K) if boxes else []
        made.append((f.lot, read_field(f.name, f.kind, [p.candidates for p in ps], index)))
        headings.setdefault(f.name, f.heading)
    lots, totals = assemble(made)
    flags = check_page(lots, totals)
    return RegisterReading(cells, template, proposed, lots, totals, flags, headings)


def output_keys(names: list[str], headings: dict[str, str]) -> dict[str, str]:
    """Each field's key in the output: its heading as printed, numbered from the second time a heading repeats."""
    out, seen = {}, {}
    for n in names:
        h = headings.get(n, n)
        seen[h] = seen.get(h, 0) + 1
        out[n] = h if seen[h] == 1 else f"{h}#{seen[h]}"
    return out


def flag_of(f: Field, flags) -> str | None:
    """The first check's reason about field ``f`` among ``flags`` (None when nothing flags it)."""
    said = [fl.reason for fl in flags if fl.field == f.name]
    return said[0] if said else None


def reading_json(image: str, r: RegisterReading) -> dict:
    """The ``read-ledger`` contract for one page: ``{"image", "lots": [{"lot", "fields": {HEADING: {"text",
    "value", "unit", "flag"}}}], "totals"}`` (plus how the template was made and the cells found)."""
    order = [f.name for f in r.template.fields if not f.name.startswith("total_")]
    keys = output_keys(list(dict.fromkeys(order)), r.headings)

    def one(f: Field, flags) -> dict:
        value = f.value if f.value is None or isinstance(f.value, (int, float, str)) else str(f.value)
        out = {"text": f.text, "value": value, "unit": f.unit, "flag": flag_of(f, flags) or f.error}
        if f.note:  # e.g. a 地租 read as its second-best reading, which agrees with the 地価
            out["note"] = f.note
        return out

    lots = []
    for k, lot in enumerate(r.lots):
        fields = {keys.get(n, n): one(lot.fields[n], lot.flags) for n in dict.fromkeys(order) if n in lot.fields}
        lots.append({"lot": k + 1, "fields": fields})
    totals = {r.headings.get(f"total_{n}", f"計 {n}"): one(f, r.flags) for n, f in r.totals.items()}
    return {"image": image, "template": "proposed from the printed headings" if r.proposed else r.template.name,
            "cells": len(r.cells), "lots": lots, "totals": totals}
