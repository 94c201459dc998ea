"""Ledger mode on a workspace: a template marked on one page of a volume placed on another, its fields read
with the shipped model, a flagged value fixed by labelling characters, a typed field, the lots exported
(``export --format lots``)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.ledger import workspace as lw
from kuzushi_core.ledger.templates import Template, TemplateError, make_template, place
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.segment.cells import iou
from kuzushi_core.store import Store
from kuzushi_core.synth.registers import generate_register, save

from .test_ledger_registers import fonts_installed  # noqa: F401 - the same skip/fail when fonts are missing

ROOT = Path(__file__).resolve().parent.parent
FORM, SEEDS = 7, (11, 12)
FIELDS = ("lot_no", "category", "area", "value", "tax")


def field_picks(cells, reg):
    """The cells of page ``reg`` that hold its fields, as a historian would click them."""
    out = []
    for name in FIELDS:
        true = reg.cells[reg.lots[0][name]["cell"]]
        out.append((max(range(len(cells)), key=lambda j: iou(cells[j], true)), name, 0))
    return out


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ledger")
    store = Store(tmp / "ws")
    ensure_default_model(store)
    doc = store.ensure_document("台帳 第一冊")
    regs = [generate_register(seed, "lot", form_seed=FORM) for seed in SEEDS]
    for reg in regs:
        image, _ = save(reg, tmp, f"page_{reg.seed}")
        import_paths(store, [image], doc.id)
    scans = store.list_scans(doc.id)
    cells, _ = lw.page_cells(store, scans[0])
    tpl = make_template("第一冊の様式", cells, field_picks(cells, regs[0]))
    tid = store.save_template(doc.id, tpl.name, tpl.to_json(), scans[0].id)
    return store, doc, regs, scans, tid, tmp


def test_a_template_is_placed_on_another_page_of_the_volume(volume):
    store, _, regs, scans, tid, _ = volume
    tpl = lw.template_of(store, tid)
    assert Template.from_json(tpl.to_json()) == tpl and [f.name for f in tpl.fields] == list(FIELDS)
    cells, _ = lw.page_cells(store, scans[1])
    for f, _box, cell in place(tpl, cells):
        true = regs[1].cells[regs[1].lots[0][f.name]["cell"]]
        assert cell >= 0 and iou(cells[cell], true) >= 0.8, f.name
    with pytest.raises(TemplateError):
        make_template("x", cells, [(0, "area", 0), (1, "area", 0)])
    with pytest.raises(TemplateError):
        Template.from_json("{}")


def test_read_fix_type_and_export(volume):
    store, doc, regs, scans, tid, tmp = volume
    model = store.active_model()
    scan, reg = scans[1], regs[1]
    n = lw.prepare(store, scan, tid, model)
    assert n >= sum(len(reg.lots[0][f]["text"]) for f in FIELDS) * 0.8
    assert all(b.has_flag("ledger") for b in store.list_boxes(scan.id))
    reading = lw.read_page(store, scan, tid, model)
    lot = reading.lots[0]
    assert set(lot.fields) == set(FIELDS)
    right = {k for k, f in lot.fields.items() if f.value == reg.lots[0][k]["value"]}
    assert len(right) >= 2, {k: f.text for k, f in lot.fields.items()}  # the reader gets most of it

    # the historian labels the characters of each field whose boxes match its characters one to one
    labelled = set()
    for name in FIELDS:
        truth = reg.lots[0][name]["text"]
        ids = reading.boxes[(0, name)]
        if len(ids) != len(truth):
            continue
        for bid, ch in zip(ids, truth):
            store.add_label(bid, ch)
        labelled.add(name)
    assert labelled, "no field's boxes match its characters one to one"
    reading = lw.read_page(store, scan, tid, model)
    fixed = {k for k, f in reading.lots[0].fields.items() if f.value == reg.lots[0][k]["value"]}
    assert right | labelled <= fixed
    assert all(reading.lots[0].fields[k].source == "user" for k in labelled)

    # a field typed as a whole wins over its characters
    store.add_field_edit(scan.id, tid, 0, "value", "金壱円也")
    reading = lw.read_page(store, scan, tid, model)
    value = reading.lots[0].fields["value"]
    assert (value.value, value.source) == (1000, "user")
    assert any(fl.field == "tax" for fl in reading.lots[0].flags) or reg.lots[0]["tax"]["value"] == 25

    # export: the lots of the document, CLI contract
    rows = lw.document_lots(store, doc.id)
    assert {r["scan_id"] for r in rows} == {scan.id}  # only pages read in ledger mode
    out = tmp / "lots.csv"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(store.root), "--format",
                        "lots", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    table = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(table[0]) == list(lw.LOT_COLUMNS)
    by_field = {row["field"]: row for row in table}
    assert by_field["value"]["value"] == "1000" and by_field["value"]["source"] == "user"
    assert by_field["area"]["unit"] == "歩" and by_field["value"]["unit"] == "厘"
    out = tmp / "lots.json"
    subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(store.root), "--format",
                    "lots", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.read_text(encoding="utf-8"))[0]["document"] == "台帳 第一冊"
    # one row a lot, one column a field (the form's headings), as CSV for Excel and in the workbook
    out = tmp / "lots-wide.csv"
    subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(store.root), "--format",
                    "lots", "--wide", "--excel", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                   timeout=300, check=True)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    wide = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    lots = {(row["scan_id"], row["lot"]) for row in rows if row["lot"]}
    assert len(wide) == len({(row["scan_id"], row["lot"]) for row in rows})
    first = next(w for w in wide if w["lot"] == "1")
    assert first["地価 value"] == "1000" and first["地価"] == by_field["value"]["text"] and lots
    out = tmp / "book.xlsx"
    subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(store.root), "--format",
                    "xlsx", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    import pandas as pd

    book = pd.read_excel(out, sheet_name=None, dtype=str, keep_default_na=False)
    assert {"characters", "transcription", "lots", "lot fields"} <= set(book)
    def norm(v):
        try:
            return float(v)
        except ValueError:
            return v
    assert [{k: norm(v) for k, v in r.items()} for r in book["lots"].to_dict("records")] == \
        [{k: norm(v) for k, v in w.items()} for w in wide]


def test_a_cell_two_fields_share_is_split_once(volume):
    """A template may name one cell for several lots (a 名寄帳's owner, written once for all): its characters are
    boxed once, not once a field (the owner read 森森森…利利利… before)."""
    store, doc, regs, scans, _, _ = volume
    model = store.active_model()
    cells, _ = lw.page_cells(store, scans[0])
    cell = field_picks(cells, regs[0])[0][0]  # the lot number's cell
    counts, readings = [], []
    for name, picks in (("twice", [(cell, "owner", 0), (cell, "owner", 1)]), ("once", [(cell, "owner", 0)])):
        tpl = make_template(name, cells, picks)
        tid = store.save_template(doc.id, name, tpl.to_json(), scans[0].id)
        counts.append(lw.prepare(store, scans[0], tid, model))
        readings.append(lw.read_page(store, scans[0], tid, model))
    assert counts[0] == counts[1] > 0
    twice = readings[0]
    assert len(twice.lots) == 2 and twice.lots[0].fields["owner"].text == twice.lots[1].fields["owner"].text
    assert twice.lots[0].fields["owner"].text == readings[1].lots[0].fields["owner"].text
    assert len(twice.boxes[(0, "owner")]) == len(readings[1].boxes[(0, "owner")]) > 0


def test_a_written_total_is_checked_against_the_lots(tmp_path):
    store = Store(tmp_path / "ws")
    doc = store.ensure_document("名寄帳")
    reg = generate_register(41, "nayose")
    image, _ = save(reg, tmp_path, "nayose")
    import_paths(store, [image], doc.id)
    (scan,) = store.list_scans()
    cells, _ = lw.page_cells(store, scan)

    def cell_of(true_index):
        return max(range(len(cells)), key=lambda j: iou(cells[j], reg.cells[true_index]))

    picks = [(cell_of(lot["value"]["cell"]), "value", k) for k, lot in enumerate(reg.lots)]
    picks.append((cell_of(reg.totals["value"]["cell"]), "total_value", 0))
    tpl = make_template("名寄帳", cells, picks)
    tid = store.save_template(doc.id, tpl.name, tpl.to_json(), scan.id)
    for k, lot in enumerate(reg.lots):  # the values as a historian typed them
        store.add_field_edit(scan.id, tid, k, "value", lot["value"]["text"])
    store.add_field_edit(scan.id, tid, 0, "total_value", reg.totals["value"]["text"])
    reading = lw.read_page(store, scan, tid, None)
    assert reading.totals["value"].value == reg.totals["value"]["value"] and reading.flags == []
    store.add_field_edit(scan.id, tid, 0, "value", "金壱円也")  # one lot misread
    reading = lw.read_page(store, scan, tid, None)
    assert [fl.field for fl in reading.flags] == ["total_value"]
    rows = lw.lot_rows(reading)
    total = next(r for r in rows if r["field"] == "total_value")
    assert total["lot"] == 0 and "sum" in total["flag"] and total["heading"] == "計 地価"
