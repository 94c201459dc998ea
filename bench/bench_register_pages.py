"""Register pages through `segment` and `read`: a ruled form segmented cell by cell (the default) beside the column
segmenter alone (`SegmentParams(forms=False)`, what every page got before), on generated registers of the two
development layouts and of the family kept out of the reader's development (`rows`).

    python bench/bench_register_pages.py [--pages 6]

Writes the "register pages" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.containers import TrueBox  # noqa: E402
from kuzushi_core.context.model import context_column, load_lm, read_in_context  # noqa: E402
from kuzushi_core.crops import crop_box  # noqa: E402
from kuzushi_core.evaluation.scoring import match_centre_labels, prf, score  # noqa: E402
from kuzushi_core.ledger.incontext import read_page_in_context  # noqa: E402
from kuzushi_core.paths import MODELS_DIR  # noqa: E402
from kuzushi_core.predict.classifier import classify_crops, load_model  # noqa: E402
from kuzushi_core.segment.cells import find_cells, match_cells  # noqa: E402
from kuzushi_core.segment.columns import SegmentParams, segment  # noqa: E402
from kuzushi_core.synth.registers import HELD_OUT, LAYOUTS, generate_register  # noqa: E402

FIRST_SEED = 94000  # not the seeds of bench_ledger (90000–), bench_read_ledger (93000–) nor of the tests
MODES = {"cell by cell (default)": SegmentParams(), "columns only (before)": SegmentParams(forms=False)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=6, help="pages of each layout family")
    args = ap.parse_args()
    lm = load_model(MODELS_DIR / "default.keras")
    charlm = load_lm()
    seg_acc: dict = defaultdict(lambda: defaultdict(int))
    read_acc: dict = defaultdict(lambda: defaultdict(int))
    cells_acc: dict = defaultdict(lambda: defaultdict(int))
    times: dict = defaultdict(list)
    families = [*LAYOUTS, *HELD_OUT]
    plan = [(FIRST_SEED + 100 * f + i, lay) for f, lay in enumerate(families) for i in range(args.pages)]
    for n, (seed, layout) in enumerate(plan):
        reg = generate_register(seed, layout)
        truth = [TrueBox(g.x, g.y, g.w, g.h, g.char, k) for k, g in enumerate(reg.glyphs)]
        unstruck = [t for t, g in zip(truth, reg.glyphs) if not g.struck]
        m = match_cells(reg.cells, find_cells(reg.image))
        c = cells_acc[layout]
        c["truth"] += m["truth"]
        c["found"] += m["found"]
        c["matched"] += m["matched"]
        for mode, params in MODES.items():
            t = time.perf_counter()
            seg = segment(reg.image, params)
            times[mode].append(time.perf_counter() - t)
            boxes = [b.as_dict() for b in seg.boxes]
            s = score({"p": truth}, {"p": boxes})["overall"]
            a = seg_acc[(layout, mode)]
            a["true"] += s["iou50"]["gt"]
            a["found"] += s["iou50"]["pred"]
            a["iou"] += s["iou50"]["tp"]
            a["centre"] += s["centre"]["tp"]
            # the struck corrections apart (what the reader is asked to read)
            s2 = score({"p": unstruck}, {"p": [b for b, x in zip(boxes, seg.boxes) if "struck" not in x.flags.split()]})
            a["u_true"] += s2["overall"]["iou50"]["gt"]
            a["u_found"] += s2["overall"]["iou50"]["pred"]
            a["u_iou"] += s2["overall"]["iou50"]["tp"]
            # `read`: every box classified, crop by crop and in context, scored by the Kaggle centre rule
            t = time.perf_counter()
            preds = classify_crops(lm, [crop_box(reg.image, b.x, b.y, b.w, b.h) for b in seg.boxes])
            times[f"read, {mode}"].append(time.perf_counter() - t + times[mode][-1])
            columns = [context_column(b.column, b.flags) for b in seg.boxes]  # a form's cells out of the book model
            t = time.perf_counter()
            read = read_page_in_context(preds, seg.boxes, seg.cells, charlm)  # what `read` does
            times[f"read, {mode}"][-1] += time.perf_counter() - t
            for how, ps in (("crop by crop", preds), ("cells alone", read_in_context(preds, columns, charlm)),
                            ("in context", read)):
                rows = [b | {"label": p.label} for b, p in zip(boxes, ps)]
                r = read_acc[(layout, mode, how)]
                r["true"] += len(truth)
                r["found"] += len(rows)
                r["hits"] += match_centre_labels(truth, rows)
        print(f"page {n + 1}/{len(plan)} {layout}", flush=True)

    def f1(tp, gt, pred):
        return prf(tp, gt, pred)["f1"]

    seg_rows, read_rows, cell_rows = [], [], []
    for layout in families:
        tag = {"rows": "rows (see the note)", "dense": "**dense** (held out)"}.get(layout, layout)
        c = cells_acc[layout]
        cell_rows.append(f"| {tag} | {c['truth']} | {c['found']} | **{f1(c['matched'], c['truth'], c['found']):.3f}** |")
        for mode in MODES:
            a = seg_acc[(layout, mode)]
            seg_rows.append(f"| {tag} | {mode} | {a['true']} | {a['found']} | **{f1(a['iou'], a['true'], a['found']):.3f}** | "
                            f"{f1(a['centre'], a['true'], a['found']):.3f} | "
                            f"{f1(a['u_iou'], a['u_true'], a['u_found']):.3f} |")
            r1, r2, r3 = (read_acc[(layout, mode, how)] for how in ("crop by crop", "cells alone", "in context"))
            read_rows.append(f"| {tag} | {mode} | {f1(r1['hits'], r1['true'], r1['found']):.3f} | "
                             f"{f1(r2['hits'], r2['true'], r2['found']):.3f} | "
                             f"**{f1(r3['hits'], r3['true'], r3['found']):.3f}** |")
    timing = "; ".join(f"{k}: median {statistics.median(v):.2f} s" for k, v in times.items())
    body = f"""`python bench/bench_register_pages.py --pages {args.pages}`: generated registers
(`kuzushi_core/synth/registers.py`, 1800×2500), {args.pages} pages of each family, seeds {FIRST_SEED}– (a hundred
apart per family; never used in development: the other benches and the tests use other seeds). `lot` and `nayose`
are the development layouts; `rows` was kept out of the reader's and the template proposal's development, but its
pages (other seeds) were looked at while the form path was built: read it as a third development family. `dense` is
the held-out family: added to the generator after the form path was finished, never used to develop anything
(scored after each change since: the form path, the segmentation defaults, the fields' grammar; nothing chosen on it) (a 名寄帳 of 12–16 narrow lot columns, long values in two lines of small writing). Truth: every
character box of the page (entries, printed headings, page number, and the characters of corrections struck
through).

Segmentation (`segment`): F1 at IoU ≥ 0.5 (one-to-one), F1 by the centre rule, and F1@IoU0.5 leaving the struck
corrections out of both sides.

| family | segmentation | true | found | F1@IoU0.5 | F1 centre | F1@IoU0.5, struck apart |
|---|---|---|---|---|---|---|
{chr(10).join(seg_rows)}

`read` end to end (segmentation, then every box read by the shipped reader; the Kaggle centre rule with labels).
"In context" is what `read` does (`ledger.incontext.read_page_in_context`): a book page's columns with the
language model; on a form, where its printed headings propose a template, each field's glyphs read with the field's
grammar (a value as the most probable text that parses, a 地目 or an event as a word of its list, 地価/地租 read to
agree), the other cells as read. "Cells alone" is the step before: a form's cells kept out of the book model
(`context.model.context_column`; decoding a cell's line with the book model cost F1 on every development family:
lot 0.918 → 0.894, nayose 0.840 → 0.791, rows 0.883 → 0.849, measured at 6 pages each before that switch):

| family | segmentation | F1 crop by crop | F1 cells alone | F1 in context |
|---|---|---|---|---|
{chr(10).join(read_rows)}

Ruled cells (`cells`, F1 at IoU ≥ 0.7):

| family | true | found | F1 |
|---|---|---|---|
{chr(10).join(cell_rows)}

Time a page on this 2-core CPU ({timing}). The form path runs the column segmenter too (a cell takes its boxes where
they are sound), so a register page costs about three times a book page; a book page pays only the form test
(35 ms on the page scaled to 1,400 px).
"""
    write_section("register pages", body)


if __name__ == "__main__":
    main()
