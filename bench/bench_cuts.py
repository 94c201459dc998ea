"""Boxes chosen by reading: a page's unsure boxes merged or split where reader × language model × the corpus'
character geometry says so (``kuzushi_core.context.cuts``), against the segmenter's boxes read in context and
against the older confidence-only refinement (``columns+reading``).

    python bench/bench_cuts.py [--reader build/reader-nopages.keras]    # writes the "cuts" section

- The reader must not have seen the shared pages (``build/reader-nopages.keras``: ``train-reader --pages none``);
  the shipped reader trained on all three and reads their true boxes with a confidence no unseen page gets, so the
  script refuses it unless ``--shipped`` is given (then the section says so).
- Leave one page out over the book's three annotated pages: for the held-out page the language model and the
  geometry prior are built from the corpus without that page's row; the context weights (language model, corpus
  prior) are chosen on the other two pages' true boxes as ``bench_context.py`` does, the cut weights (geometry
  weight, bonus a glyph, unsure threshold; or no cutting) on the other two pages' end-to-end F1; then the held-out
  page is scored: end-to-end F1 (Kaggle centre rule with labels) and its boxes' F1@IoU0.5 / centre.
- What ``build-lm --cuts`` should carry: the choice on all three pages with the whole corpus, or ``off`` when no
  cutting beats none there.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _readers import in_reading_order, reader_args, readers_for, shared_pages  # noqa: E402
from _report import write_section  # noqa: E402

from kuzushi_core.context.corpus import columns_of, corpus_path, page_texts  # noqa: E402
from kuzushi_core.context.cuts import CutWeights, choose_cuts, cut_weights_of  # noqa: E402
from kuzushi_core.context.decode import ContextWeights, in_context  # noqa: E402
from kuzushi_core.context.geometry import fit_geometry  # noqa: E402
from kuzushi_core.context.lm import CharLM  # noqa: E402
from kuzushi_core.context.model import load_lm  # noqa: E402
from kuzushi_core.crops import crop_box  # noqa: E402
from kuzushi_core.evaluation.scoring import read_kaggle_csv, score, score_reading  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import data_dir  # noqa: E402
from kuzushi_core.predict.classifier import classify_crops, read_page  # noqa: E402
from kuzushi_core.segment.refine import refine_by_reading  # noqa: E402

LM_WEIGHTS = (0.5, 1.0, 1.5, 2.0)
PRIOR_WEIGHTS = (0.5, 1.0, 1.5, 2.0)
GRID = {"geometry": (0.0, 0.5, 1.0), "bonus": (0.0, 3.0, 6.0), "unsure": (0.3, 0.5, 0.7)}
OFF = None


def configs() -> list[CutWeights | None]:
    keys = list(GRID)
    return [OFF] + [CutWeights(**dict(zip(keys, vals))) for vals in itertools.product(*GRID.values())]


def label(cw: CutWeights | None) -> str:
    return "off" if cw is None else f"geometry {cw.geometry}, bonus {cw.bonus}, unsure {cw.unsure}"


def top1(preds, truth) -> float:
    return sum(p.label == t for p, t in zip(preds, truth)) / max(len(truth), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    reader_args(ap)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    data = data_dir()
    corpus = page_texts()
    corpus_boxes = read_kaggle_csv(corpus_path())
    gt, names, images = shared_pages(data)
    readers, which = readers_for(names, args.reader, args.shipped, args.lopo)
    pages = {}
    for n in names:
        img = read_image(images[n], gray=True)
        boxes = gt[n]
        idx, cols_ = in_reading_order(boxes)
        own = classify_crops(readers[n], [crop_box(img, boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h) for i in idx])
        t0 = time.perf_counter()
        seg, preds = read_page(readers[n], img)
        pages[n] = {"img": img, "own": own, "truth": [boxes[i].char for i in idx], "cols": cols_,
                    "seg": seg, "preds": preds, "read_s": time.perf_counter() - t0}

    def e2e(n, lm, w, cw, geo) -> dict:
        pg = pages[n]
        t0 = time.perf_counter()
        if cw is None:
            boxes, preds, done = pg["seg"].boxes, pg["preds"], {"merged": 0, "split": 0}
        else:
            boxes, preds, done = choose_cuts(pg["img"], pg["seg"].boxes, pg["seg"].char_size, readers[n], lm, w, cw, geo,
                                             read=pg["preds"])
        cut_s = time.perf_counter() - t0
        ctx = in_context(preds, [b.column for b in boxes], lm, w)
        rows = [b.as_dict() | {"label": p.label} for b, p in zip(boxes, ctx)]
        seg_score = score({"p": gt[n]}, {"p": [b.as_dict() for b in boxes]})["overall"]
        return {"f1": score_reading(gt[n], rows)["f1"], "iou": seg_score["iou50"]["f1"],
                "centre": seg_score["centre"]["f1"], "n": len(boxes), "s": cut_s, **done}

    def fold(held: str | None):
        """The fold's language model, geometry prior and context weights (held None: the whole corpus, all pages)."""
        others = [n for n in names if n != held]
        lm = CharLM.fit([c for p, cs in corpus.items() if p != held for c in cs], 3)
        geo = fit_geometry(col for p, bs in corpus_boxes.items() if p != held for col in columns_of(bs))
        w = max((ContextWeights(lm=a, prior=b) for a, b in itertools.product(LM_WEIGHTS, PRIOR_WEIGHTS)),
                key=lambda w: statistics.mean(top1(in_context(pages[o]["own"], pages[o]["cols"], lm, w),
                                                   pages[o]["truth"]) for o in others))
        return others, lm, geo, replace(w, temperature=1.0)

    results = {}
    for held in names:
        others, lm, geo, w = fold(held)
        table = {label(cw): (cw, {n: e2e(n, lm, w, cw, geo) for n in others}) for cw in configs()}
        chosen = max(table.values(), key=lambda t: statistics.mean(r["f1"] for r in t[1].values()))[0]
        seg = pages[held]["seg"]
        refined, _ = refine_by_reading(pages[held]["img"], seg, readers[held])
        ref_preds = classify_crops(readers[held], [crop_box(pages[held]["img"], b.x, b.y, b.w, b.h) for b in refined])
        ref_ctx = in_context(ref_preds, [b.column for b in refined], lm, w)
        ref_seg = score({"p": gt[held]}, {"p": [b.as_dict() for b in refined]})["overall"]
        results[held] = {
            "w": w, "chosen": chosen,
            "crop": score_reading(gt[held], [b.as_dict() | {"label": p.label}
                                             for b, p in zip(seg.boxes, pages[held]["preds"])])["f1"],
            "off": e2e(held, lm, w, OFF, geo), "cuts": e2e(held, lm, w, chosen, geo),
            "fixed": e2e(held, lm, w, CutWeights(), geo),
            "refine": {"f1": score_reading(gt[held], [b.as_dict() | {"label": p.label}
                                                      for b, p in zip(refined, ref_ctx)])["f1"],
                       "iou": ref_seg["iou50"]["f1"], "centre": ref_seg["centre"]["f1"]},
        }
        print(held, label(chosen), results[held]["off"], results[held]["cuts"], flush=True)

    _, lm, geo, w = fold(None)
    whole = {label(cw): (cw, {n: e2e(n, lm, w, cw, geo) for n in names}) for cw in configs()}
    ship, ship_scores = max(whole.values(), key=lambda t: statistics.mean(r["f1"] for r in t[1].values()))
    off_mean = statistics.mean(r["f1"] for r in whole["off"][1].values())
    ship_mean = statistics.mean(r["f1"] for r in ship_scores.values())

    lines = [which
             + "; language model and geometry prior from the corpus without the held-out page's row; context weights "
             "chosen on the other two pages' true boxes, cut weights (grid: "
             + ", ".join(f"{k} ∈ {v}" for k, v in GRID.items()) + ", or off) on their end-to-end F1. "
             "Segmentation: the defaults. Each page read in context in every column; \"refine\" is the older "
             "confidence-only joining and splitting (`columns+reading`), read in context the same way.", "",
             "| held-out page | end to end F1: crop by crop | in context | + refine | **+ cuts (chosen)** "
             "| + cuts (defaults) | boxes F1@IoU0.5 / centre: segmenter | refine | cuts | merged / split | cut s "
             "| chosen on the other two |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in results.items():
        o, c, f, rf = r["off"], r["cuts"], r["fixed"], r["refine"]
        lines.append(f"| {n} | {r['crop']:.3f} | {o['f1']:.3f} | {rf['f1']:.3f} | **{c['f1']:.3f}** | {f['f1']:.3f} | "
                     f"{o['iou']:.3f} / {o['centre']:.3f} | {rf['iou']:.3f} / {rf['centre']:.3f} | "
                     f"{c['iou']:.3f} / {c['centre']:.3f} | {c['merged']} / {c['split']} | {c['s']:.2f} | "
                     f"{label(r['chosen'])} |")
    mean = lambda key, sub="f1": statistics.mean(r[key][sub] for r in results.values())  # noqa: E731
    lines.append(f"| **mean** | {statistics.mean(r['crop'] for r in results.values()):.3f} | {mean('off'):.3f} | "
                 f"{mean('refine'):.3f} | **{mean('cuts'):.3f}** | {mean('fixed'):.3f} | "
                 f"{mean('off', 'iou'):.3f} / {mean('off', 'centre'):.3f} | {mean('refine', 'iou'):.3f} / "
                 f"{mean('refine', 'centre'):.3f} | {mean('cuts', 'iou'):.3f} / {mean('cuts', 'centre'):.3f} | | | |")
    lines += ["", f"Chosen on all three pages with the whole corpus: {label(ship)} (mean end-to-end F1 "
              f"{ship_mean:.3f}; off {off_mean:.3f}), i.e. `build-lm --cuts "
              + ("off" if ship is None else f"{ship.geometry},{ship.bonus},{ship.unsure}") + "`. The shipped card "
              f"has `{label(cut_weights_of(load_lm()) if load_lm() else None)}`: it turns cutting on only for a gain "
              "that holds with the fold readers and with the reader that never saw the book (README, \"Boxes chosen "
              "by reading\")."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("cuts" + (", fold readers" if args.lopo else ""), body)


if __name__ == "__main__":
    main()
