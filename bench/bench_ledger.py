"""Ledger benchmark: ruled cells and lots on generated registers the reader never saw (new seeds, both layouts).

    python bench/bench_ledger.py [--pages N]     # writes the "ledger" section of BENCHMARKS.md

- cells: ``find_cells`` against the true cells, F1 at IoU ≥ 0.7, and how many matched cells get the true row
  and column; time per page;
- lots with the true characters in each cell: the share of field values right (the parser's bar: 100 %);
- lots with the shipped model reading each true character box: the share of lots whose 地番, 地目, 反別 and
  地価 are all right, per-field accuracy, and how many wrong values the checks flag.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.crops import crop_box, to_glyph  # noqa: E402
from kuzushi_core.data.intake import import_paths  # noqa: E402
from kuzushi_core.ledger.lots import KEY_FIELDS, read_field  # noqa: E402
from kuzushi_core.ledger.read import K  # noqa: E402
from kuzushi_core.ledger.templates import make_template  # noqa: E402
from kuzushi_core.ledger.workspace import page_cells, prepare, read_page  # noqa: E402
from kuzushi_core.paths import MODELS_DIR  # noqa: E402
from kuzushi_core.predict.classifier import load_model, top_k  # noqa: E402
from kuzushi_core.predict.reading import ensure_default_model  # noqa: E402
from kuzushi_core.segment.cells import RuledCell, find_cells, iou, match_cells  # noqa: E402
from kuzushi_core.store import Store  # noqa: E402
from kuzushi_core.synth.registers import LAYOUTS, generate_register  # noqa: E402

FIRST_SEED = 90_000  # far from the seeds the tests use


def field_of_cell(reg) -> dict[int, tuple[str, str]]:
    """Each field cell's (field name, kind); a page's written totals as ``total_*``."""
    out = {f["cell"]: (name, f["kind"]) for lot in reg.lots for name, f in lot.items()}
    out |= {t["cell"]: (f"total_{n}", "area" if n == "area" else "money") for n, t in reg.totals.items()
            if isinstance(t, dict)}
    return out


def model_reader(reg, lm, grammar: bool):
    """read_cell for Register.read_lots: the shipped model on each true character box, top-1 over all its
    classes, or (``grammar``) each field read as the product reads it (``ledger.lots.read_field``: a value as
    the most probable text that parses, a 地目 or an event as a word of its list) from the glyphs' top K."""
    boxes = [g for g in reg.glyphs if not g.struck and not g.printed and g.cell >= 0]
    glyphs = np.stack([to_glyph(crop_box(reg.image, g.x, g.y, g.w, g.h), lm.size) for g in boxes])
    preds = top_k(lm.predict_glyphs(glyphs), lm.classes, K)
    fields = field_of_cell(reg)
    by_cell: dict[int, list] = {}
    for i, g in enumerate(boxes):
        by_cell.setdefault(g.cell, []).append(i)

    def read(cell):
        ps = [preds[i] for i in by_cell.get(cell, [])]
        if not grammar:
            return "".join(p.candidates[0][0] for p in ps), min((p.candidates[0][1] for p in ps), default=1.0)
        name, kind = fields.get(cell, ("", "text"))
        f = read_field(name, kind, [p.candidates for p in ps], cell)
        return f.text, f.confidence

    return read


def ledger_page_lots(reg, tmp: Path):
    """The page read as the Ledger page reads it: a workspace, the scan's cells found, a template marked on them
    (each true field cell picked, as a historian marks them), the field cells split and read
    (``workspace.prepare``) and the lots made (``workspace.read_page``). Returns (lots, the page's flags)."""
    store = Store(tmp / f"ws{reg.seed}")
    record = ensure_default_model(store)
    assert record is not None
    image = tmp / f"register{reg.seed}.png"
    cv2.imwrite(str(image), cv2.cvtColor(reg.image, cv2.COLOR_RGB2BGR) if reg.image.ndim == 3 else reg.image)
    doc = store.ensure_document("bench")
    import_paths(store, [image], doc.id)
    scan = store.list_scans(doc.id)[0]
    cells, _ = page_cells(store, scan)
    picks = []
    shared = {name for name in reg.lots[0] if len({rec[name]["cell"] for rec in reg.lots}) == 1 and len(reg.lots) > 1}
    for lot_no, rec in enumerate(reg.lots):
        for name, f in rec.items():
            if name in shared and lot_no:
                continue  # one cell for every lot (a 名寄帳's owner): marked once, for all lots (lot -1)
            picks.append((max(range(len(cells)), key=lambda i: iou(cells[i], reg.cells[f["cell"]])), name,
                          -1 if name in shared else lot_no))
    for name, t in reg.totals.items():
        if isinstance(t, dict):
            picks.append((max(range(len(cells)), key=lambda i: iou(cells[i], reg.cells[t["cell"]])),
                          f"total_{name}", -1))
    template = make_template("marked", cells, picks)
    tid = store.save_template(doc.id, "marked", template.to_json(), scan.id)
    prepare(store, scan, tid, record)
    reading = read_page(store, scan, tid, record)
    return reading.lots, reading.flags


def score_reading(reg, read, acc: Counter) -> None:
    """Add one page's lots, read by ``read``, to the counts in ``acc``."""
    lots, page = reg.read_lots(read)
    score_lots(reg, lots, page["flags"], acc)


def score_lots(reg, lots, flags, acc: Counter) -> None:
    """Add one page's lots (and its page flags) to the counts in ``acc``."""
    page_flags = {fl.field.removeprefix("total_") for fl in flags}
    acc["page_flags"] += len(flags)
    for k, lot in enumerate(lots):
        truth = reg.lots[k]
        flagged = {fl.field for fl in lot.flags} | page_flags
        ok = True
        for name, f in lot.fields.items():
            if name not in truth:
                continue
            right = f.value == truth[name]["value"]
            base = name.split("#")[0]
            acc[f"n_{base}"] += 1
            acc[f"ok_{base}"] += right
            acc["chars"] += len(truth[name]["text"])
            acc["chars_ok"] += sum(a == b for a, b in zip(f.text, truth[name]["text"]))
            if name in KEY_FIELDS:
                ok &= right
            if truth[name]["kind"] in ("number", "area", "money", "date"):
                key = "right" if right else "wrong"
                acc[key] += 1
                acc[f"{key}_flagged"] += name in flagged
        acc["lots"] += 1
        acc["lots_ok"] += ok
        acc["lot_flags"] += len(lot.flags)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=24)
    ap.add_argument("--model", type=Path, default=MODELS_DIR / "default.keras",
                    help="another reader to compare (the section is then printed, not written)")
    args = ap.parse_args()
    lm = load_model(args.model)
    cell_scores = {lay: [] for lay in LAYOUTS}
    cell_times, gen_times = [], []
    acc = {"true": Counter(), "model": Counter(), "model, field grammar": Counter(),
           "Ledger page: cells found, characters split, field grammar": Counter()}
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    for i in range(args.pages):
        seed = FIRST_SEED + i
        layout = LAYOUTS[i % len(LAYOUTS)]
        t = time.perf_counter()
        reg = generate_register(seed, layout)
        gen_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        found = find_cells(reg.image)
        cell_times.append(time.perf_counter() - t)
        truth = [RuledCell(c.x, c.y, c.w, c.h, c.row, c.col) for c in reg.cells]
        cell_scores[layout].append(match_cells(truth, found))
        score_reading(reg, lambda c, r=reg: ("".join(g.char for g in r.written(c)), 1.0), acc["true"])
        score_reading(reg, model_reader(reg, lm, False), acc["model"])
        score_reading(reg, model_reader(reg, lm, True), acc["model, field grammar"])
        score_lots(reg, *ledger_page_lots(reg, tmp), acc["Ledger page: cells found, characters split, field grammar"])
        print(f"page {i + 1}/{args.pages} {layout}: cells F1 {cell_scores[layout][-1]['f1']:.3f}", flush=True)

    def pooled(scores):
        tp = sum(s["matched"] for s in scores)
        nt = sum(s["truth"] for s in scores)
        nf = sum(s["found"] for s in scores)
        p, r = tp / nf, tp / nt
        rc = sum(s["row_col_right"] * s["matched"] for s in scores) / tp
        return p, r, 2 * p * r / (p + r), rc, nt

    rows = []
    for lay in (*LAYOUTS, "all"):
        scores = [s for v in cell_scores.values() for s in v] if lay == "all" else cell_scores[lay]
        p, r, f1, rc, nt = pooled(scores)
        worst = min(s["f1"] for s in scores)
        rows.append(f"| {lay} | {len(scores)} | {nt} | {p:.3f} | {r:.3f} | **{f1:.3f}** | {worst:.3f} | {rc:.3f} |")
    names = ("lot_no", "category", "area", "value", "tax", "aza", "owner", "date", "event", "new_owner")
    lot_rows = []
    for mode, a in acc.items():
        fields = " | ".join(f"{a[f'ok_{n}'] / a[f'n_{n}']:.2f}" if a[f"n_{n}"] else "–" for n in names)
        lot_rows.append(
            f"| {mode} | {a['chars_ok'] / a['chars']:.3f} | **{a['lots_ok']}/{a['lots']} ({a['lots_ok'] / a['lots']:.0%})** "
            f"| {fields} | {a['wrong_flagged']}/{a['wrong']} | {a['right_flagged']}/{a['right']} |")
    t = acc["true"]
    body = f"""Generated registers (`kuzushi_core/synth/registers.py`), seeds {FIRST_SEED}–{FIRST_SEED + args.pages - 1},
layouts alternating `lot` (土地台帳, one lot with its 沿革) and `nayose` (名寄帳, 6–10 lots and a 計 column); skew up to
±1.2°, broken and faint ruling, red seals across the lines, corrections struck through, bleed-through, JPEG.

Cells (`python -m kuzushi_core cells`), IoU ≥ 0.7, pooled over pages (bar: F1 ≥ 0.95):

| layout | pages | true cells | precision | recall | F1 | worst page F1 | row & column right |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

`find_cells` {statistics.median(cell_times):.2f} s a page (median, 1800×2500 px, this 2-core CPU); generating a page
{statistics.median(gen_times):.2f} s. "Row & column right" counts matched cells whose row and column are the true
ones: a stray region (a correction's strike, a square seal) that is big enough to count as a cell shifts the
numbering of the columns to its left, which is why templates place fields by geometry, not by these numbers.

Lots. The first three rows are given every true character box; the last reads as the Ledger page does
(`ledger.workspace`: a workspace, the page's cells found, a template marked on them — each true field cell picked,
as a historian marks them — the field cells split into characters and read by `prepare`, the lots made by
`read_page`). Values right (`==` the true value) per field; "flagged": values the checks (does not parse, 地租 ≠
地価 × 2.5 % or 3 %, 計 ≠ the lots' sum) mark, of the wrong and of the right ones:

| reading | characters right | lots with 地番, 地目, 反別, 地価 all right | {" | ".join(names)} | wrong flagged | right flagged |
|---|---|---|{"---|" * len(names)}---|---|
{chr(10).join(lot_rows)}

- With the true characters every field value is right ({t['ok_lot_no'] + t['ok_area'] + t['ok_value'] + t['ok_tax']}
  numeric values and all the rest; bar 100 %) and the checks raise {t['lot_flags'] + t['page_flags']} flags.
- "model": the shipped reader's top-1 over its 3,172 classes. "model, field grammar": each field read as the
  product reads it (`ledger.lots.read_field`, `ledger/grammar.py`): a value cell (number, area, money, date) as
  the most probable text that parses, from each glyph's top {K} candidates within the kind's numerals and units; a
  地目 or an event as the word of its list that the model finds most probable. (Agreement across fields — 地租
  with 地価, 計 with the lots — is applied by the Ledger page's row, not by the true-box rows.)
- A right value flagged is a right 地租 next to a wrong 地価 (the check cannot tell which of the two is wrong), or a
  lot of a page whose 計 does not add up.
"""
    if args.model.resolve() == (MODELS_DIR / "default.keras").resolve():
        write_section("ledger", body)
    print(body)


if __name__ == "__main__":
    main()
