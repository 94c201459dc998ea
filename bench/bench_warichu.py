"""Notes in two lines of small writing inside a column (割注): the column segmenter's two sub-columns against one
box spanning both lines.

    python bench/bench_warichu.py    # writes the "warichu" section

No page of the shared data has 割注 (the book's page that has several, 100241706_00007_2, is not in it), so the
pages with notes are generated: the handwriting fonts in the protocol's form (`synth.handwritten.HANDWRITTEN`) with
a two-line note of 2–5 small characters a line after some characters (`LedgerParams.warichu`).  Seeds 0–4 were
looked at while the detector's thresholds were set; seeds 100–109 were not.  False notes: boxes flagged
``warichu`` on pages that have none — the shared book's three pages and 32 generated pages without notes.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.evaluation.scoring import read_codh_csv, score  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import data_dir  # noqa: E402
from kuzushi_core.segment.columns import SegmentParams, segment  # noqa: E402
from kuzushi_core.synth.handwritten import HANDWRITTEN, handwriting_glyphs, handwritten_page  # noqa: E402
from kuzushi_core.synth.kanapages import generate_page  # noqa: E402

NOTES = replace(HANDWRITTEN, warichu=0.08, touching=0.0, overlap=0.0, ruby=0.0)
DEV, TEST = range(0, 5), range(100, 110)


def f1(truth, boxes) -> float:
    return score({"p": truth}, {"p": [b.as_dict() for b in boxes]})["overall"]["iou50"]["f1"]


def main() -> None:
    glyphs = handwriting_glyphs()
    on, off = SegmentParams(forms=False), SegmentParams(forms=False, warichu=0.0)
    rows = []
    for split, seeds in (("development", DEV), ("test", TEST)):
        for seed in seeds:
            page = generate_page(glyphs, seed, NOTES)
            t0 = time.perf_counter()
            a = segment(page.image, on)
            dt = time.perf_counter() - t0
            b = segment(page.image, off)
            rows.append((split, seed, len(page.boxes), f1(page.boxes, b.boxes), f1(page.boxes, a.boxes),
                         sum("warichu" in x.flags for x in a.boxes), dt))
    false = {}
    data = data_dir()
    for path in sorted((data / "pages").glob("*/images/*.jpg")):
        false[path.stem] = sum("warichu" in x.flags for x in segment(read_image(path), on).boxes)
    gsets = {"default glyphs": glyphs, "120 kanji": handwriting_glyphs(n_kanji=120, size=64)}
    gen_false = {name: sum(sum("warichu" in x.flags for x in segment(handwritten_page(g, s).image, on).boxes)
                           for s in [*range(0, 6), *range(60000, 60010)]) for name, g in gsets.items()}
    gt = {}
    for csv_path in sorted((data / "pages").glob("*/*_coordinate.csv")):
        gt.update(read_codh_csv(csv_path))
    shared = {n: (f1(gt[n], segment(read_image(next((data / "pages").glob(f"*/images/{n}.jpg")))).boxes),
                  f1(gt[n], segment(read_image(next((data / "pages").glob(f"*/images/{n}.jpg"))),
                                    SegmentParams(warichu=0.0)).boxes)) for n in sorted(gt)}
    lines = ["Generated pages with notes (2400×3600, the protocol's handwriting form, column segmenter): boxes "
             "F1@IoU0.5 with one box across both lines (`warichu` 0) and with two sub-columns (the default, "
             f"{SegmentParams().warichu} character heights of two-line writing at least).", "",
             "| pages | seed | true boxes | F1 one box | **F1 two sub-columns** | boxes flagged 割注 | segment s |",
             "|---|---|---|---|---|---|---|"]
    for split, seed, n, b, a, k, dt in rows:
        lines.append(f"| {split} | {seed} | {n} | {b:.3f} | **{a:.3f}** | {k} | {dt:.2f} |")
    for split in ("development", "test"):
        sel = [r for r in rows if r[0] == split]
        lines.append(f"| **{split} mean** | | | {statistics.mean(r[3] for r in sel):.3f} | "
                     f"**{statistics.mean(r[4] for r in sel):.3f}** | | |")
    lines += ["", "False notes (boxes flagged 割注 on pages that have none): the shared book's pages "
              + ", ".join(f"{n}: {k}" for n, k in false.items()) + "; generated pages without notes (seeds 0–5, "
              "60000–60009) " + ", ".join(f"{name}: {k}" for name, k in gen_false.items()) + ".",
              "The shared pages' boxes F1@IoU0.5 with and without the detector (page defaults): "
              + ", ".join(f"{n} {a:.3f} / {b:.3f}" for n, (a, b) in shared.items()) + "."]
    body = "\n".join(lines)
    print(body)
    write_section("warichu", body)


if __name__ == "__main__":
    main()
