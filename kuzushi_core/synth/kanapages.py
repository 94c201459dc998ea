"""Generated ledger pages: real KMNIST glyphs composed into ledger-like forms.

No labelled Meiji land-ledger scans are public, so these pages stand in for
them in tests, the benchmark and the app's demo.  Each page has ruled columns
and cells, a header band, a frame, red seals, paper texture, uneven light, a
slight rotation, bleed-through from the back of the sheet, touching glyphs,
blank cells and varied glyph sizes — and exact ground truth (boxes, labels,
reading order), written as a CODH coordinate CSV.

Pages built from KMNIST glyphs carry KMNIST's licence: CC BY-SA 4.0, "KMNIST
Dataset" (created by CODH), adapted from "Kuzushiji Dataset" (created by NIJL
and others), doi:10.20676/00000341.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kuzushi_core.data.datasets import GlyphSet, load_kmnist
from kuzushi_core.evaluation.scoring import TrueBox, write_codh_csv
from kuzushi_core.paths import PROJECT_ROOT, data_dir
from kuzushi_core.synth.paper import ink, paper


@dataclass(frozen=True)
class LedgerParams:
    width: int = 1600
    height: int = 2400
    columns: tuple[int, int] = (6, 9)
    cells_per_column: tuple[int, int] = (2, 3)
    glyph_scale: tuple[float, float] = (0.62, 0.85)  # glyph size / column width
    blank_cell: float = 0.12
    touching: float = 0.15  # chance that a glyph touches the one above
    rotation_deg: float = 1.0
    seals: tuple[int, int] = (1, 3)
    bleed_through: float = 0.12
    ink: tuple[int, int] = (25, 70)
    overlap: float = 0.0  # chance that a glyph reaches into the one above (up to 15 % of its height)
    ruby: float = 0.0  # chance that a glyph has a small reading (ruby, 1–2 kana) at its right; not in the truth
    warichu: float = 0.0  # chance that a note in two lines of small characters (割注) follows a glyph; in the truth,
    #                       the right line before the left


@dataclass
class LedgerPage:
    image: np.ndarray  # uint8 RGB
    boxes: list[TrueBox]  # in reading order






def generate_page(glyphs: GlyphSet, seed: int = 0, params: LedgerParams | None = None) -> LedgerPage:
    p = params or LedgerParams()
    rng = np.random.default_rng(seed)
    H, W = p.height, p.width
    page = paper(H, W, rng)
    margin_x, top, bottom = int(0.06 * W), int(0.14 * H), int(0.05 * H)
    n_cols = int(rng.integers(p.columns[0], p.columns[1] + 1))
    col_w = (W - 2 * margin_x) / n_cols
    line = np.zeros((H, W), np.float32)
    thick = max(2, W // 500)
    # frame, header band and ruling, printed in one colour (black or red, as forms are)
    rule_colour = (150, 30, 30) if rng.random() < 0.5 else (40, 40, 40)
    cv2.rectangle(line, (margin_x, int(0.08 * H)), (W - margin_x, H - bottom), 1.0, thick * 2)
    cv2.line(line, (margin_x, top), (W - margin_x, top), 1.0, thick)
    for c in range(1, n_cols):
        x = int(margin_x + c * col_w)
        cv2.line(line, (x, int(0.08 * H)), (x, H - bottom), 1.0, thick)
    n_cells = int(rng.integers(p.cells_per_column[0], p.cells_per_column[1] + 1))
    cell_h = (H - bottom - top) / n_cells
    for r in range(1, n_cells):
        y = int(top + r * cell_h)
        cv2.line(line, (margin_x, y), (W - margin_x, y), 1.0, thick)
    ink(page, line, 0, 0, 0.8, rule_colour)

    # bleed-through: mirrored faint glyphs from the back of the sheet
    back = np.zeros((H, W), np.float32)
    for _ in range(int(40 * p.bleed_through / 0.12)):
        g = glyphs.images[rng.integers(len(glyphs))]
        s = int(col_w * rng.uniform(0.5, 0.8))
        gl = cv2.resize(g, (s, s)).astype(np.float32)[:, ::-1] / 255.0
        x, y = int(rng.uniform(0, W - s)), int(rng.uniform(top, H - bottom - s))
        back[y : y + s, x : x + s] = np.maximum(back[y : y + s, x : x + s], gl)
    ink(page, cv2.GaussianBlur(back, (0, 0), 2.0), 0, 0, p.bleed_through, (90, 80, 70))

    boxes: list[TrueBox] = []
    for c in range(n_cols):  # right to left
        cx0 = margin_x + (n_cols - 1 - c) * col_w
        for r in range(n_cells):
            if rng.random() < p.blank_cell:
                continue
            y = top + r * cell_h + rng.uniform(0.03, 0.08) * cell_h
            y_end = top + (r + 1) * cell_h - 0.03 * cell_h
            prev_bottom = None
            while True:
                s = int(col_w * rng.uniform(*p.glyph_scale))
                idx = int(rng.integers(len(glyphs)))
                g = cv2.resize(glyphs.images[idx], (s, s), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
                ys, xs = np.nonzero(g > 0.25)
                if len(ys) == 0:
                    continue
                gy0, gy1, gx0, gx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
                if prev_bottom is not None and p.overlap and rng.random() < p.overlap:
                    gy = int(prev_bottom - gy0 - s * rng.uniform(0.04, 0.15))  # running into the glyph above
                elif prev_bottom is not None and rng.random() < p.touching:
                    gy = int(prev_bottom - gy0 - s * 0.02)  # touching the glyph above
                else:
                    gy = int(y - gy0)
                if gy + gy1 > y_end:
                    break
                gx = int(cx0 + (col_w - (gx1 - gx0)) / 2 - gx0 + rng.normal(0, col_w * 0.03))
                ink(page, g, gx, gy, rng.uniform(0.75, 0.95), (rng.integers(*p.ink),) * 3)
                boxes.append(TrueBox(int(gx + gx0), int(gy + gy0), int(gx1 - gx0), int(gy1 - gy0),
                                     glyphs.classes[glyphs.labels[idx]], len(boxes)))
                if p.ruby and rng.random() < p.ruby:  # a reading beside the character, at the column's right
                    rs = max(8, int(s * 0.32))
                    for k in range(int(rng.integers(1, 3))):
                        rg = cv2.resize(glyphs.images[int(rng.integers(len(glyphs)))], (rs, rs)).astype(np.float32)
                        ink(page, rg / 255.0, int(gx + gx1 + rs * 0.1), int(gy + gy0 + k * rs * 1.05),
                             rng.uniform(0.7, 0.9), (rng.integers(*p.ink),) * 3)
                prev_bottom = gy + gy1
                y = prev_bottom + rng.uniform(0.06, 0.25) * s
                if p.warichu and rng.random() < p.warichu:  # a note in two lines of small characters
                    ss = int(col_w * rng.uniform(0.3, 0.38))
                    k = int(rng.integers(2, 6))
                    if y + k * ss * 1.15 > y_end:
                        continue
                    for centre in (0.73, 0.27):  # the right line, then the left
                        yy = y
                        for _ in range(k):
                            j = int(rng.integers(len(glyphs)))
                            sg = cv2.resize(glyphs.images[j], (ss, ss), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
                            ys, xs = np.nonzero(sg > 0.25)
                            if len(ys) == 0:
                                continue
                            sx = int(cx0 + col_w * centre - (xs.min() + xs.max()) / 2)
                            sy = int(yy - ys.min())
                            ink(page, sg, sx, sy, rng.uniform(0.75, 0.95), (rng.integers(*p.ink),) * 3)
                            boxes.append(TrueBox(int(sx + xs.min()), int(sy + ys.min()), int(xs.max() - xs.min() + 1),
                                                 int(ys.max() - ys.min() + 1), glyphs.classes[glyphs.labels[j]],
                                                 len(boxes)))
                            yy = sy + ys.max() + 1 + ss * rng.uniform(0.12, 0.25)
                    prev_bottom = int(y + k * ss * 1.15)
                    y = prev_bottom + rng.uniform(0.1, 0.25) * s

    # red seals over the text
    for _ in range(int(rng.integers(p.seals[0], p.seals[1] + 1))):
        r = int(col_w * rng.uniform(0.35, 0.6))
        seal = np.zeros((2 * r + 4, 2 * r + 4), np.float32)
        cv2.circle(seal, (r + 2, r + 2), r, 1.0, max(3, r // 8))
        for _ in range(4):
            a, b = rng.integers(r // 2, 3 * r // 2, 2), rng.integers(r // 2, 3 * r // 2, 2)
            cv2.line(seal, tuple(int(v) for v in a), tuple(int(v) for v in b), 1.0, max(2, r // 10))
        ink(page, seal, int(rng.uniform(margin_x, W - margin_x - 2 * r)), int(rng.uniform(top, H - 2 * r)), 0.8,
             (200, 30, 30))

    img = np.clip(page, 0, 255).astype(np.uint8)
    angle = float(rng.uniform(-p.rotation_deg, p.rotation_deg))
    if angle:
        M = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 1.0)
        img = cv2.warpAffine(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        rotated = []
        for tb in boxes:
            pts = np.array([[tb.x, tb.y, 1], [tb.x + tb.w, tb.y, 1], [tb.x, tb.y + tb.h, 1], [tb.x + tb.w, tb.y + tb.h, 1]],
                           float)
            q = pts @ M.T
            x0, y0 = q.min(0)
            x1, y1 = q.max(0)
            # the axis-aligned box of a rotated glyph box grows by ~w·sin(a); shrink back by half of that
            dx, dy = abs(np.sin(np.radians(angle))) * tb.h / 2, abs(np.sin(np.radians(angle))) * tb.w / 2
            rotated.append(TrueBox(int(round(x0 + dx / 2)), int(round(y0 + dy / 2)), int(round(x1 - x0 - dx)),
                                   int(round(y1 - y0 - dy)), tb.char, tb.order))
        boxes = rotated
    return LedgerPage(img, boxes)


def write_demo(folder=None, seed: int = 2026) -> None:
    """Re-create the shipped demo page (needs the KMNIST test set, see ``paths.data_dir``)."""
    from pathlib import Path

    folder = Path(folder or PROJECT_ROOT / "demo")
    page = generate_page(load_kmnist(data_dir() / "kmnist", "test"), seed=seed, params=LedgerParams(width=1600, height=2400))
    cv2.imwrite(str(folder / "ledger_demo.jpg"), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    write_codh_csv(folder / "ledger_demo_coordinate.csv", {"ledger_demo": page.boxes})


def write_pages(folder, n: int, glyphs: GlyphSet, seed: int = 0, params: LedgerParams | None = None) -> list:
    """``n`` generated pages as JPEG files ``page-00000.jpg``… in ``folder`` (seeds ``seed``…``seed + n - 1``):
    an archive to read in tests and benchmarks.  Returns the paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = params or LedgerParams(width=800, height=1200)
    out = []
    for i in range(n):
        page = generate_page(glyphs, seed=seed + i, params=params)
        path = folder / f"page-{seed + i:05d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        out.append(path)
    return out
