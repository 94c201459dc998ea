"""Augmentation preview benchmark: time to make 32 augmented samples per preset (the Augment page's grid).

    python bench/bench_augment.py        # writes the "augmentation preview" section of BENCHMARKS.md
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.data.datasets import load_kmnist  # noqa: E402
from kuzushi_core.paths import data_dir  # noqa: E402
from kuzushi_core.train.augment import PRESETS, preview  # noqa: E402


def main() -> None:
    glyphs = load_kmnist(data_dir() / "kmnist", "train").images[:200]
    rows = []
    for name, cfg in PRESETS.items():
        preview(glyphs, cfg, 32)  # warm-up (graph tracing)
        times = []
        for seed in range(7):
            t = time.perf_counter()
            preview(glyphs, cfg, 32, seed=seed)
            times.append(time.perf_counter() - t)
        rows.append(f"| {name} | {statistics.median(times) * 1000:.0f} | {max(times) * 1000:.0f} |")
    body = (
        "Command: `python bench/bench_augment.py`. `augment.preview(glyphs, preset, n=32)` on KMNIST glyphs, "
        "7 runs after a warm-up; the pipeline is built anew on every call (as on a slider change).\n\n"
        "| preset | median ms | max ms |\n|---|---|---|\n" + "\n".join(rows) +
        "\n\nGoal for the Augment page: the grid follows a slider within 0.5 s in the browser."
    )
    write_section("augmentation preview", body)
    print(body)


if __name__ == "__main__":
    main()
