"""Segmentation benchmark: scores and time per page on the shared real pages and 20 generated ledger pages.

    python bench/bench_segmentation.py          # writes the "segmentation" section of BENCHMARKS.md
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.data.datasets import load_kmnist  # noqa: E402
from kuzushi_core.evaluation.scoring import read_codh_csv, score  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import data_dir  # noqa: E402
from kuzushi_core.segment.columns import segment  # noqa: E402
from kuzushi_core.synth.kanapages import LedgerParams, generate_page  # noqa: E402

REPEATS = 5


def timed(img):
    times, seg = [], None
    for _ in range(REPEATS):
        t = time.perf_counter()
        seg = segment(img)
        times.append(time.perf_counter() - t)
    return seg, times


def fmt(s: dict) -> str:
    return f"{s['f1']:.3f} (P {s['precision']:.3f}, R {s['recall']:.3f})"


def main() -> None:
    d = data_dir()
    folder = d / "pages" / "100241706"
    gt = read_codh_csv(folder / "100241706_coordinate.csv")
    pred, rows, all_times = {}, [], []
    for name in gt:
        img = read_image(folder / "images" / f"{name}.jpg")
        seg, times = timed(img)
        pred[name] = [b.as_dict() for b in seg.boxes]
        all_times += times
        s = score({name: gt[name]}, {name: pred[name]})["overall"]
        rows.append(f"| {name} | {img.shape[1]}×{img.shape[0]} | {len(gt[name])} | {len(seg.boxes)} | "
                    f"{s['iou50']['f1']:.3f} | {s['centre']['f1']:.3f} | {s['order']['agreement']:.3f} | "
                    f"{statistics.median(times):.3f} |")
    real = score(gt, pred)["overall"]

    glyphs = load_kmnist(d / "kmnist", "test")
    ggt, gpred, gtimes = {}, {}, []
    for i in range(20):
        page = generate_page(glyphs, seed=1000 + i, params=LedgerParams(width=2400, height=3600))
        t = time.perf_counter()
        seg = segment(page.image)
        gtimes.append(time.perf_counter() - t)
        ggt[f"ledger{i}"], gpred[f"ledger{i}"] = page.boxes, [b.as_dict() for b in seg.boxes]
    gen = score(ggt, gpred)["overall"]

    body = f"""
Command: `python bench/bench_segmentation.py`. Scores: F1 at IoU ≥ 0.5 with one-to-one matching, F1 by the
Kaggle centre rule, reading-order agreement (consecutive true characters whose matched boxes keep their order).
Time: wall-clock of `segment()` on the decoded page, median of {REPEATS} runs per page.

### Real pages (`../shared/data/pages/100241706`, {sum(len(v) for v in gt.values())} characters)

| page | size | true | found | F1@IoU0.5 | F1 centre | order | median s |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
| **overall** | | {real['iou50']['gt']} | {real['iou50']['pred']} | **{real['iou50']['f1']:.3f}** | **{real['centre']['f1']:.3f}** | {real['order']['agreement']:.3f} | **{statistics.median(all_times):.3f}** |

F1@IoU0.5 {fmt(real['iou50'])}; centre rule {fmt(real['centre'])}. Bar: centre ≥ 0.90, IoU ≥ 0.80, ≤ 0.7 s a page.

### Generated ledger pages (20 pages, 2400×3600, KMNIST test glyphs, seeds 1000–1019)

| pages | true | found | F1@IoU0.5 | F1 centre | order | median s |
|---|---|---|---|---|---|---|
| 20 | {gen['iou50']['gt']} | {gen['iou50']['pred']} | **{gen['iou50']['f1']:.3f}** | {gen['centre']['f1']:.3f} | **{gen['order']['agreement']:.3f}** | {statistics.median(gtimes):.3f} |

Bar: F1@IoU0.5 ≥ 0.95, reading order ≥ 0.95. These pages are a ruled form (cells in rows and columns): since the
form path they are segmented cell by cell, each cell taking the column segmenter's boxes where those are sound
(0.971 by the column segmenter alone before, 0.25 s a page; the form path costs the cells and both segmenters).
The real pages above are no form (the form test, on the page scaled down, says so in about 35 ms) and are segmented
as before. Registers: "register pages".
"""
    write_section("segmentation", body)
    print(body)


if __name__ == "__main__":
    main()
