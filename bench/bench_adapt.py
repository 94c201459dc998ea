"""Adaptation benchmark (issue #24): how the reader gets better as a book is labelled, and what it costs.

The reader used must never have seen the book's pages: ``build/reader-nopages.keras`` is the shipped recipe with
no page in stage 2 (``python -m kuzushi_core train-reader --pages none --out build/reader-nopages.keras``: fonts,
KMNIST, variant kana, prior adjustment, KMNIST specialist). The shipped ``models/default.keras`` was trained on all
three shared pages, so any figure it gives on them is a figure on its own training data (it is reported only for
the few-shot timing, as the issue's check names it).

Sections (everything through the product's own code path, :func:`kuzushi_core.train.adapt.adapt` on a workspace, as
the CLI's ``adapt`` and the Read page's button run it):

* **pairs**: one labelled page and one unlabelled page of the book in a workspace (every ordered pair of the three
  pages): ``adapt`` → top-1 of the unlabelled page's characters (true boxes, each crop read as ``read`` reads it)
  before and after, crop by crop and in context (the language model without that page's corpus row), seconds, and
  the adapted model's KMNIST test accuracy (argmax over all classes);
* **curve**: the pages labelled one at a time in reading order; after each step (adapting from the same reader with
  all labels so far) the not-yet-labelled pages are read: top-1 on true boxes, end-to-end F1 (our segmenter, Kaggle
  rule), seconds; and the unlabelled pages alone (self-training with no label) and the labels alone (no
  self-training);
* **queue**: the Label-next order (expected gain) against least-sure-first and random order: 20 labels on a page,
  adapt, read the next page;
* **guard**: six corrections on a page (six boxes the reader got wrong, labelled right), the Train page's settings
  that decide what is forgotten (mode × rehearsal on/off, and KMNIST rehearsal images on/off), each run in the
  worker process as the page starts it, beside the page's time estimate: is a version made active that reads the
  page (its other characters) or KMNIST test worse than its parent?
* **threshold**: self-training's confidence threshold (0.5, 0.7, 0.9, none) in the onepage setting, same run.
* **registers**: generated register pages of one volume written in one hand (``HAND``) that the reader never saw
  (``build/reader-no-gyosho.keras``: the shipped recipe trained with ``KUZUSHI_HOLD_OUT_FACES=kouzan-gyosho``, so
  no render of that face is learned — nor in the runs here, which keep the same variable): label k pages, adapt,
  read the volume's last pages (top-1 on their handwritten characters' true boxes); k = 0 is what the unlabelled
  pages add on their own (self-training).
* **fewshot**: ``train --base READER --mode feature-extraction --data の/し crops`` (the crops of two pages) with
  200 KMNIST training images a class as rehearsal, default settings: wall time of the command, recall of の/し on
  the third page's crops, KMNIST test drop.

    python bench/bench_adapt.py [--reader build/reader-nopages.keras] [--sections pairs,curve,queue,guard,fewshot]
    python bench/bench_adapt.py --sections onepage --section-name "adaptation, one page learned"
    python bench/bench_adapt.py --sections threshold --section-name "adaptation, self-training threshold"
    python bench/bench_adapt.py --sections registers --section-name "adaptation, registers in an unseen hand"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _readers import in_reading_order  # noqa: E402
from _report import write_section  # noqa: E402

from kuzushi_core.containers import TrueBox  # noqa: E402
from kuzushi_core.context.corpus import page_texts  # noqa: E402
from kuzushi_core.context.decode import ContextWeights, in_context  # noqa: E402
from kuzushi_core.context.lm import CharLM  # noqa: E402
from kuzushi_core.context.model import load_lm  # noqa: E402
from kuzushi_core.crops import crop_box, to_glyph  # noqa: E402
from kuzushi_core.data.datasets import load_kmnist  # noqa: E402
from kuzushi_core.data.intake import apply_annotations, import_paths  # noqa: E402
from kuzushi_core.evaluation.scoring import read_codh_csv, score_reading  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import MODELS_DIR, PROJECT_ROOT, data_dir  # noqa: E402
from kuzushi_core.predict.classifier import classify_crops, load_model, read_page  # noqa: E402
from kuzushi_core.store import Store  # noqa: E402
from kuzushi_core.synth import fonts  # noqa: E402
from kuzushi_core.synth.registers import generate_register  # noqa: E402
from kuzushi_core.synth.registers import save as save_register  # noqa: E402
from kuzushi_core.train import jobs  # noqa: E402
from kuzushi_core.train.adapt import adapt  # noqa: E402
from kuzushi_core.train.features import rehearsal_ready  # noqa: E402
from kuzushi_core.train.retrain import AdaptConfig  # noqa: E402

BOOK = data_dir() / "pages" / "100241706"
CSV = BOOK / "100241706_coordinate.csv"
GT = read_codh_csv(CSV)
PAGES = sorted(GT)  # reading order of the book: 00004_2, 00005_1, 00005_2
KM_TEST = None


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


def glyphs_of(page: str, size: int = 28) -> tuple[np.ndarray, list[str]]:
    img = read_image(BOOK / "images" / f"{page}.jpg", gray=True)
    return np.stack([to_glyph(crop_box(img, b.x, b.y, b.w, b.h), size) for b in GT[page]]), [b.char for b in GT[page]]


def top1(lm, page: str) -> float:
    """Top-1 on the page's true boxes, each crop read as `read` reads it (the shifted views of an unsure glyph)."""
    g, chars = glyphs_of(page, lm.size)
    pred = lm.read_glyphs(g).argmax(1)
    return float(np.mean([lm.classes[i] == c for i, c in zip(pred, chars)]))


_LMS: dict[str, CharLM] = {}


def top1_in_context(lm, page: str) -> float:
    """Top-1 on the page's true boxes read in context as `read` reads them (the shipped decoding weights), with a
    language model counted from the corpus without this page's row."""
    if page not in _LMS:
        _LMS[page] = CharLM.fit([c for p, cols in page_texts().items() if p != page for c in cols], 3)
    img = read_image(BOOK / "images" / f"{page}.jpg", gray=True)
    boxes = GT[page]
    idx, cols = in_reading_order(boxes)
    preds = classify_crops(lm, [crop_box(img, boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h) for i in idx])
    read = in_context(preds, cols, _LMS[page], ContextWeights())
    return float(np.mean([p.label == boxes[i].char for p, i in zip(read, idx)]))


def e2e(lm, page: str) -> float:
    seg, preds = read_page(lm, read_image(BOOK / "images" / f"{page}.jpg"))
    pred = [b.as_dict() | {"label": p.label} for b, p in zip(seg.boxes, preds)]
    return score_reading(GT[page], pred)["f1"]


def kmnist_test(lm) -> float:
    global KM_TEST
    if KM_TEST is None:
        KM_TEST = load_kmnist(data_dir() / "kmnist", "test")
    idx = {c: i for i, c in enumerate(lm.classes)}
    want = np.array([idx[c] for c in KM_TEST.classes])[KM_TEST.labels]
    return float((lm.predict_glyphs(KM_TEST.images).argmax(1) == want).mean())


def workspace(root: Path, pages: list[str], labelled: list[str], reader: Path, images: dict | None = None,
              truth: dict | None = None, document: str = "book") -> Store:
    """A workspace of ``pages`` (the book's, or ``images``: {stem: path}) with ``labelled`` ones' true boxes
    (``truth``: {stem: true boxes}, default the book's) as a historian's labels, ``reader`` active."""
    images = images or {p: BOOK / "images" / f"{p}.jpg" for p in pages}
    truth = truth or GT
    s = Store(root)
    doc = s.ensure_document(document)
    import_paths(s, [images[p] for p in pages], doc.id)
    s.register_model("reader", str(reader), load_model(reader).classes, activate=True)
    for sc in s.list_scans():
        stem = Path(sc.source_name).stem
        if stem in labelled:
            apply_annotations(s, sc, truth[stem], source="user")
    return s


_HELD: dict[tuple[str, ...], CharLM] = {}


def held_lm(s: Store) -> CharLM:
    """The character model a run reads the workspace's pages with (in context: the readings it self-trains on),
    counted from the corpus without those pages' rows (the corpus holds one of the three, 00005_1), the shipped
    model's decoding, cut and geometry weights kept."""
    key = tuple(sorted(Path(sc.source_name).stem for sc in s.list_scans()))
    if key not in _HELD:
        lm = CharLM.fit([c for p, cols in page_texts().items() if p not in key for c in cols], 3)
        shipped = load_lm()
        lm.meta.update({k: v for k, v in (shipped.meta if shipped else {}).items()
                        if k in ("weights", "cuts", "geometry")})
        _HELD[key] = lm
    return _HELD[key]


def run_adapt(s: Store, cfg: AdaptConfig, out: Path):
    t0 = time.time()
    res = adapt(s, out, document="book", cfg=cfg, charlm=held_lm(s))
    return res, time.time() - t0


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def section_pairs(reader: Path, tmp: Path) -> str:
    base = load_model(reader)
    base_top = {p: top1(base, p) for p in PAGES}
    base_ctx = {p: top1_in_context(base, p) for p in PAGES}
    rows, gains = [], []
    for a in PAGES:
        for b in PAGES:
            if a == b:
                continue
            s = workspace(tmp / f"pair-{a}-{b}", [a, b], [a], reader)
            res, secs = run_adapt(s, AdaptConfig(), tmp / f"pair-{a}-{b}.keras")
            new = load_model(res.path)
            t = top1(new, b)
            gains.append(t - base_top[b])
            h = res.scores.get("holdout", {})
            rows.append(f"| {a[-7:]} | {b[-7:]} | {len(GT[a])} | {base_top[b]:.3f} | **{t:.3f}** | "
                        f"{base_ctx[b]:.3f} → **{top1_in_context(new, b):.3f}** | "
                        f"{pct(h.get('parent'))} → {pct(h.get('new'))} | {'yes' if res.activated else 'no'} | "
                        f"{kmnist_test(new):.4f} | {secs:.0f} |")
            print(rows[-1], flush=True)
    body = ["| labelled page | unlabelled page | labels | reader top-1 | adapted top-1 | in context: reader → adapted | "
            "held-out labels (parent → new) | made active | KMNIST test | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|", *rows,
            "", f"Mean change of the unlabelled page's top-1: **{np.mean(gains):+.3f}** "
                f"({sum(g > 0 for g in gains)} of {len(gains)} pairs better, {sum(g < 0 for g in gains)} worse). "
                f"Reader alone on KMNIST test: {kmnist_test(base):.4f}."]
    return "\n".join(body)


def one_page_reader(page: str) -> Path:
    return PROJECT_ROOT / "build" / f"reader-only-{page}.keras"


def one_page_triples():
    """(page the reader learned, the reader's file, the reader, labelled page, unlabelled page) for each reader
    `build/reader-only-PAGE.keras` there is, both ways round."""
    for r in PAGES:
        reader = one_page_reader(r)
        if not reader.exists():
            continue
        base = load_model(reader)
        others = [p for p in PAGES if p != r]
        for a, b in ((others[0], others[1]), (others[1], others[0])):
            yield r, reader, base, a, b


def section_onepage(tmp: Path) -> str:
    """The issue's own setting on the shared book: a reader that learned one page of the book (as the shipped one
    learned the three), one more page labelled, the next one unlabelled — adapt, read the unlabelled page."""
    rows, gains, after, ctx_after = [], [], [], []
    for r, reader, base, a, b in one_page_triples():
        s = workspace(tmp / f"one-{r}-{a}", [a, b], [a], reader)
        res, secs = run_adapt(s, AdaptConfig(), tmp / f"one-{r}-{a}.keras")
        new = load_model(res.path)
        t0, t = top1(base, b), top1(new, b)
        c0, c = top1_in_context(base, b), top1_in_context(new, b)
        gains.append(t - t0)
        after.append(t)
        ctx_after.append(c)
        h = res.scores.get("holdout", {})
        rows.append(f"| {r[-7:]} | {a[-7:]} | {b[-7:]} | {t0:.3f} | **{t:.3f}** | {c0:.3f} → **{c:.3f}** | "
                    f"{pct(h.get('parent'))} → {pct(h.get('new'))} | {'yes' if res.activated else 'no'} | "
                    f"{kmnist_test(base):.4f} → {kmnist_test(new):.4f} | {secs:.0f} |")
        print(rows[-1], flush=True)
    if not rows:
        return ("_Not run: no `build/reader-only-PAGE.keras` (python -m kuzushi_core train-reader --pages PAGE "
                "--base-out build/reader-base.keras --out build/reader-only-PAGE.keras)._")
    return "\n".join([
        "Readers `build/reader-only-PAGE.keras`: the shipped recipe with one page of the book in stage 2 (the shipped "
        "reader has all three); the other two pages are the labelled one and the unlabelled one.", "",
        "| reader learned | labelled page | unlabelled page | reader top-1 | adapted top-1 | in context: reader → "
        "adapted | held-out labels (parent → new) | made active | KMNIST test | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        f"Mean change of the unlabelled page's top-1: **{np.mean(gains):+.3f}** ({sum(g > 0 for g in gains)} of "
        f"{len(gains)} better); adapted top-1 {min(after):.3f}–{max(after):.3f} crop by crop, "
        f"{min(ctx_after):.3f}–{max(ctx_after):.3f} in context as `read` reads (mean {np.mean(ctx_after):.3f}; the "
        "issue's bar, on pages this project does not have: 0.72). In context: the shipped decoding weights, the "
        "language model counted without the unlabelled page's corpus row."])


def section_threshold(tmp: Path, thresholds=(0.5, 0.7, 0.9, None)) -> str:
    """Self-training's confidence threshold in the one-page setting (:func:`section_onepage`), every value in the
    same run on the same six (reader, labelled, unlabelled) triples; None: no self-training."""
    rows = []
    for thr in thresholds:
        crop, ctx, gains, taught, secs_all = [], [], [], [], []
        cfg = AdaptConfig(pseudo=False) if thr is None else AdaptConfig(pseudo_threshold=thr)
        for r, reader, base, a, b in one_page_triples():
            s = workspace(tmp / f"thr-{thr}-{r}-{a}", [a, b], [a], reader)
            res, secs = run_adapt(s, cfg, tmp / f"thr-{thr}-{r}-{a}.keras")
            new = load_model(res.path)
            t = top1(new, b)
            crop.append(t)
            gains.append(t - top1(base, b))
            ctx.append(top1_in_context(new, b))
            taught.append(res.sample["pseudo"])
            secs_all.append(secs)
        if not crop:
            return "_Not run: no `build/reader-only-PAGE.keras`._"
        rows.append(f"| {'none (no self-training)' if thr is None else thr} | {np.mean(taught):.0f} | "
                    f"{np.mean(crop):.3f} | {np.mean(gains):+.3f} | **{np.mean(ctx):.3f}** | "
                    f"{min(ctx):.3f}–{max(ctx):.3f} | {np.mean(secs_all):.0f} |")
        print(rows[-1], flush=True)
    return "\n".join([
        "The one-page setting above (readers that learned one page; one more labelled, the next unlabelled; six "
        "triples), each threshold in the same run. Self-training takes the unlabelled page's boxes read in context "
        "with confidence at least the threshold (read with a language model counted without the workspace's pages).",
        "", "| self-training threshold | boxes self-trained (mean) | adapted top-1 (mean) | change (mean) | "
        "in context (mean) | in context (range) | seconds a run |", "|---|---|---|---|---|---|---|", *rows])


HAND = "kouzan-gyosho"  # the clerk's hand of the generated volume, kept out of the hand reader's training
HAND_READER = PROJECT_ROOT / "build" / "reader-no-gyosho.keras"
VOLUME_SEED = 96000  # not the seeds of the other register benchmarks (90000–95000) nor of the tests
VOLUME_PAGES = 6
READ_PAGES = 3  # the volume's last pages, read after every step


def section_registers(tmp: Path, reader: Path = HAND_READER, layout: str = "lot") -> str:
    """Registers in one unseen hand: k pages of a generated volume labelled, the last pages read."""
    if not reader.exists():
        return (f"_Not run: no `{reader.relative_to(PROJECT_ROOT)}` (KUZUSHI_HOLD_OUT_FACES={HAND} python -m "
                f"kuzushi_core train-reader --pages all --base-out build/reader-base-no-gyosho.keras --out "
                f"{reader.relative_to(PROJECT_ROOT)})._")
    card = json.loads(reader.with_suffix(".json").read_text())
    held = card.get("fonts_held_out") or []
    if HAND not in held:
        raise SystemExit(f"{reader} learned the hand {HAND} (its card holds out {held or 'nothing'})")
    os.environ[fonts.HOLD_OUT_ENV] = ",".join(held)  # adapt's rehearsal renders never draw the hand either
    folder = tmp / "volume"
    pages = []
    for i in range(VOLUME_PAGES):
        reg = generate_register(VOLUME_SEED + i, layout, form_seed=VOLUME_SEED, hand=HAND)
        image, _ = save_register(reg, folder, f"vol_{i + 1:02d}")
        truth = [TrueBox(g.x, g.y, g.w, g.h, g.char, k)
                 for k, g in enumerate(x for x in reg.glyphs if not x.struck and not x.printed)]
        pages.append((image, truth, reg.image))
    read = pages[-READ_PAGES:]
    base = load_model(reader)
    shipped = load_model(MODELS_DIR / "default.keras")

    def top1_pages(lm) -> float:
        right = total = 0
        for _, truth, img in read:
            g = np.stack([to_glyph(crop_box(img, t.x, t.y, t.w, t.h), lm.size) for t in truth])
            pred = lm.read_glyphs(g).argmax(1)
            right += sum(lm.classes[i] == t.char for i, t in zip(pred, truth))
            total += len(truth)
        return right / total

    t_base, t_shipped = top1_pages(base), top1_pages(shipped)
    rows = []
    for label, k, cfg in (("unlabelled pages only (self-training)", 0, AdaptConfig()),
                          ("1 page labelled", 1, AdaptConfig()), ("2 pages labelled", 2, AdaptConfig()),
                          ("3 pages labelled", 3, AdaptConfig()),
                          ("1 page labelled, no self-training", 1, AdaptConfig(pseudo=False))):
        stems = [Path(p[0]).stem for p in pages]
        s = workspace(tmp / f"reg-{k}-{cfg.pseudo}", stems, stems[:k], reader, images={Path(p[0]).stem: p[0] for p in pages},
                      truth={Path(p[0]).stem: p[1] for p in pages}, document="volume")
        t0 = time.time()
        res = adapt(s, tmp / f"reg-{k}-{cfg.pseudo}.keras", document="volume", cfg=cfg, charlm=load_lm())
        secs = time.time() - t0
        new = load_model(res.path)
        line = (f"| {label} | {k} | {sum(len(p[1]) for p in pages[:k])} | {res.sample['pseudo']} | "
                f"{t_base:.3f} → **{top1_pages(new):.3f}** | {kmnist_test(base):.4f} → {kmnist_test(new):.4f} | "
                f"{'yes' if res.activated else 'no: ' + '; '.join(res.reasons)} | {secs:.0f} |")
        print(line, flush=True)
        rows.append(line)
    n_read = sum(len(p[1]) for p in read)
    return "\n".join([
        f"A volume of {VOLUME_PAGES} generated registers (layout `{layout}`, one printed form, seeds "
        f"{VOLUME_SEED}–{VOLUME_SEED + VOLUME_PAGES - 1}), every entry written in the hand `{HAND}`. Reader "
        f"`{reader.relative_to(PROJECT_ROOT)}` (card: {card.get('command', '?')}; fonts held out: {', '.join(held)}): "
        f"the shipped recipe without that hand. The first k pages are labelled (their handwritten characters' true "
        f"boxes, as a historian's labels); the workspace holds all {VOLUME_PAGES}; `adapt` (defaults); then the "
        f"last {READ_PAGES} pages' {n_read} handwritten characters are read on their true boxes (each crop as `read` "
        f"reads it). The shipped reader, which learned this hand from its renders, reads them {t_shipped:.3f}.",
        "", "| step | pages labelled | labels | boxes self-trained | top-1 of the last pages (reader → adapted) | "
        "KMNIST test | made active | seconds |", "|---|---|---|---|---|---|---|---|", *rows])


def section_curve(reader: Path, tmp: Path) -> str:
    base = load_model(reader)
    rows = []

    def row(label: str, k: int, cfg: AdaptConfig, labelled: list[str]):
        rest = [p for p in PAGES if p not in labelled]
        s = workspace(tmp / f"curve-{label}", PAGES, labelled, reader)
        res, secs = run_adapt(s, cfg, tmp / f"curve-{label}.keras")
        new = load_model(res.path)
        t_new = np.mean([top1(new, p) for p in rest])
        t_old = np.mean([top1(base, p) for p in rest])
        f_new = np.mean([e2e(new, p) for p in rest])
        f_old = np.mean([e2e(base, p) for p in rest])
        line = (f"| {label} | {k} | {sum(len(GT[p]) for p in labelled)} | {res.sample['pseudo']} | "
                f"{', '.join(p[-7:] for p in rest)} | {t_old:.3f} → **{t_new:.3f}** | {f_old:.3f} → **{f_new:.3f}** | "
                f"{'yes' if res.activated else 'no: ' + '; '.join(res.reasons)} | {secs:.0f} |")
        print(line, flush=True)
        rows.append(line)

    row("unlabelled pages only (self-training)", 0, AdaptConfig(), [])
    for k in (1, 2):
        row(f"{k} page(s) labelled", k, AdaptConfig(), PAGES[:k])
    row("1 page labelled, no self-training", 1, AdaptConfig(pseudo=False), PAGES[:1])
    return "\n".join(["| step | pages labelled | labels | boxes self-trained | pages read | top-1 (true boxes) | "
                      "end-to-end F1 | made active | seconds |", "|---|---|---|---|---|---|---|---|---|", *rows])


def section_queue(reader: Path, tmp: Path, n_labels: int = 20, pairs: int = 1) -> str:
    """Label next's order against random order: on page A, the first ``n_labels`` boxes of the queue (true boxes,
    read by the reader) are labelled; adapt; page B (unlabelled) is read."""
    from kuzushi_core.evaluation.review import uncertainty_queue
    from kuzushi_core.predict.reading import read_scan

    base = load_model(reader)
    rows = []
    for a, b in list(zip(PAGES, PAGES[1:]))[:pairs]:
        before = top1(base, b)
        for order, seed in (("gain", 0), ("uncertainty", 0), ("random", 0), ("random", 1)):
            root = tmp / f"queue-{a}-{order}-{seed}"
            s = workspace(root, [a, b], [], reader)
            sc = next(x for x in s.list_scans() if Path(x.source_name).stem == a)
            added = s.add_boxes(sc.id, [dict(x=g.x, y=g.y, w=g.w, h=g.h) for g in GT[a]])
            truth = {bx.id: g.char for bx, g in zip(added, GT[a])}
            read_scan(s, sc, s.active_model(), charlm=held_lm(s))
            q = uncertainty_queue(s, s.active_model().id, n_labels, {sc.id}, order=order, seed=seed)
            for bx, _ in q:
                s.add_label(bx.id, truth[bx.id], "user")
            res, secs = run_adapt(s, AdaptConfig(), root / "out.keras")
            t = top1(load_model(res.path), b)
            rows.append((a, b, order, seed, before, t))
            print(rows[-1], flush=True)
    lines = ["| labelled page | read page | order | reader top-1 | adapted top-1 |", "|---|---|---|---|---|"]
    for a, b, order, seed, before, t in rows:
        lines.append(f"| {a[-7:]} | {b[-7:]} | {order}{f' (seed {seed})' if order == 'random' else ''} | "
                     f"{before:.3f} | {t:.3f} |")
    mean = {o: np.mean([r[5] - r[4] for r in rows if r[2] == o]) for o in ("gain", "uncertainty", "random")}
    lines += ["", f"{n_labels} labels on one page, then the next page read. Mean change of its top-1: expected gain "
                  f"**{mean['gain']:+.3f}**, least sure first {mean['uncertainty']:+.3f}, random "
                  f"{mean['random']:+.3f} (two seeds)."]
    return "\n".join(lines)


def six_corrections(s: Store, base, page: str) -> list[int]:
    sc = s.list_scans()[0]
    img = read_image(s.scan_path(sc), gray=True)
    apply_annotations(s, sc, GT[page], source="import")  # the true boxes, as a scan read with them
    labels = s.current_labels(sc.id)
    boxes = s.list_boxes(sc.id)
    g = np.stack([to_glyph(crop_box(img, b.x, b.y, b.w, b.h), base.size) for b in boxes])
    pred = base.predict_glyphs(g).argmax(1)
    wrong = [b for b, p in zip(boxes, pred) if base.classes[p] != labels[b.id].char][:6]
    with s.write() as con:  # only the six corrections stay labelled (by a person)
        con.execute("DELETE FROM labels")
    for b in wrong:
        s.add_label(b.id, labels[b.id].char, "user")
    return [b.id for b in wrong]


def section_guard(reader: Path, tmp: Path) -> str:
    page = PAGES[1]
    base = load_model(reader)
    base_page, base_km = top1(base, page), kmnist_test(base)
    rows, bad = [], 0
    settings = [(m, r, 0) for m in ("feature-extraction", "fine-tune") for r in (2, 0)] + \
        [("feature-extraction", 2, 200), ("feature-extraction", 0, 200)]
    for mode, reh, km in settings:
        root = tmp / f"guard-{mode}-{reh}-{km}"
        s = workspace(root, [page], [], reader)
        six_corrections(s, base, page)
        cfg = {"mode": mode, "base_model_id": s.active_model().id, "synth_rehearsal": reh,
               "kmnist_per_class": km, "epochs": 10, "patience": 8}
        est = jobs.estimate_seconds(sum(jobs.planned_counts(s, jobs.normalise(cfg)).values()), 10, mode,
                                    base_classes=len(base.classes) if reh else 0,
                                    cache_ready=rehearsal_ready(reader), patience=8)
        t0 = time.time()
        run = jobs.submit(s, cfg)  # the worker process, as the Train page starts it
        while s.get_run(run.id).status in ("queued", "running"):
            time.sleep(0.5)
        secs = time.time() - t0
        run = s.get_run(run.id)
        if run.status != "completed":
            rows.append(f"| {mode} | {reh} | {km} | failed: {run.error} | | | | |")
            continue
        new = load_model(s.get_model(run.model_id).path)
        t_page, t_km = top1(new, page), kmnist_test(new)
        active = s.active_model().id == run.model_id
        worse = t_page < base_page or t_km < base_km - 0.005
        bad += int(active and worse)
        rows.append(f"| {mode} | {reh} | {km} | {t_page:.3f} | {t_km:.4f} | {'yes' if active else 'no'} | "
                    f"{'; '.join(run.metrics.get('reasons') or []) or '–'} | {secs:.0f} (estimate {est:.0f}) |")
        print(rows[-1], flush=True)
    return "\n".join([f"Page {page[-7:]}, six corrections; the reader alone: page top-1 {base_page:.3f}, KMNIST test "
                      f"{base_km:.4f}.", "",
                      "| mode | renders a class (rehearsal) | KMNIST a class | page top-1 | KMNIST test | made active | "
                      "why not (the parent check) | seconds (the Train page's estimate) |", "|---|---|---|---|---|---|---|---|", *rows, "",
                      f"Versions made active that read the page worse than the reader, or KMNIST test by more than "
                      f"half a point (the gate's tolerance on KMNIST's validation split; 50 of 10,000 images): "
                      f"**{bad}** of {len(rows)}."])


def section_fewshot(reader: Path, tmp: Path, label: str, held_out: tuple[str, ...] = tuple(PAGES)) -> str:
    import cv2

    from kuzushi_core.data.datasets import load_codh_pages

    pages = load_codh_pages(BOOK)
    page_of = np.array(pages.pages)
    chars = np.array([pages.classes[i] for i in pages.labels])
    rows = []
    base = load_model(reader)
    base_km = kmnist_test(base)
    for held in held_out:
        folder = tmp / f"fewshot-{label[:12]}-{held}"
        n = 0
        for i in np.flatnonzero((page_of != held) & np.isin(chars, ["の", "し"])):
            d = folder / chars[i]
            d.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(d / f"{i}.png"), pages.images[i])
            n += 1
        test = np.flatnonzero((page_of == held) & np.isin(chars, ["の", "し"]))
        out = tmp / f"fewshot-{label[:12]}-{held}.keras"
        t0 = time.time()
        r = subprocess.run([sys.executable, "-m", "kuzushi_core", "train", "--base", str(reader), "--mode",
                            "feature-extraction", "--data", str(folder), "--rehearsal", str(data_dir() / "kmnist"),
                            "--out", str(out)], cwd=PROJECT_ROOT, capture_output=True, text=True)
        wall = time.time() - t0
        if r.returncode:
            rows.append(f"| {held[-7:]} | {n} | failed: {r.stderr.strip().splitlines()[-1]} |")
            continue
        new = load_model(out)
        pred = new.predict_glyphs(pages.images[test]).argmax(1)
        rec = float(np.mean([new.classes[p] == c for p, c in zip(pred, chars[test])])) if len(test) else None
        pb = base.predict_glyphs(pages.images[test]).argmax(1)
        rec_b = float(np.mean([base.classes[p] == c for p, c in zip(pb, chars[test])])) if len(test) else None
        km = kmnist_test(new)
        rows.append(f"| {held[-7:]} | {n} | {len(test)} | {pct(rec_b)} → **{pct(rec)}** | {base_km:.4f} → {km:.4f} "
                    f"({(km - base_km) * 100:+.2f} pt) | {wall:.0f} |")
        print(rows[-1], flush=True)
    return "\n".join([f"Base: `{reader.relative_to(PROJECT_ROOT) if reader.is_relative_to(PROJECT_ROOT) else reader}`"
                      f" ({label}).", "",
                      "| held-out page | の/し crops trained | の/し crops tested | recall (base → new) | KMNIST test | "
                      "wall seconds (the whole command) |", "|---|---|---|---|---|---|", *rows])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", type=Path, default=PROJECT_ROOT / "build" / "reader-nopages.keras")
    ap.add_argument("--sections", default="pairs,curve,queue,guard,fewshot")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--section-name", default="adaptation", help="the BENCHMARKS.md section written")
    args = ap.parse_args()
    reader = args.reader.resolve()
    if not reader.exists():
        sys.exit(f"no reader at {reader}: python -m kuzushi_core train-reader --pages none --out {args.reader}")
    want = args.sections.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapt-"))
    t0 = time.time()
    book = [w for w in want if w not in ("onepage", "threshold", "registers")]  # the sections --reader reads
    parts = [f"`python bench/bench_adapt.py --sections {args.sections}` at commit `{commit()}`; "
             + (f"reader `{reader.name}` (card: {json.loads(reader.with_suffix('.json').read_text()).get('command', '?')}), "
                "never trained on a page of the book. " if book else "")
             + f"Defaults of `AdaptConfig`: {AdaptConfig()}."]
    try:
        if "pairs" in want:
            parts += ["", "### One labelled page, one unlabelled page", "", section_pairs(reader, tmp)]
        if "onepage" in want:
            parts += ["", "### A reader that learned one page of the book: one more labelled, the next unlabelled", "",
                      section_onepage(tmp)]
        if "threshold" in want:
            parts += ["", "### Self-training threshold (one page learned)", "", section_threshold(tmp)]
        if "registers" in want:
            parts += ["", "### Registers in one hand the reader never saw: k pages labelled, the last three read", "",
                      section_registers(tmp)]
        if "curve" in want:
            parts += ["", "### Adaptation curve (the book's pages labelled in reading order)", "",
                      section_curve(reader, tmp)]
        if "queue" in want:
            parts += ["", "### Label next: expected gain against random order", "", section_queue(reader, tmp)]
        if "guard" in want:
            parts += ["", "### Never worse by surprise: six corrections, every Train page setting", "",
                      section_guard(reader, tmp)]
        if "fewshot" in want:
            parts += ["", "### Few-shot の/し on the big reader (default settings)", "",
                      section_fewshot(reader, tmp, "never saw the book"),
                      "", section_fewshot(MODELS_DIR / "default.keras", tmp, "the shipped reader, trained on all "
                                                                             "three pages: its recall is on its own "
                                                                             "training crops", (PAGES[0],))]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    parts += ["", f"Whole run {time.time() - t0:.0f} s on this CPU (no GPU lent to this task)."]
    body = "\n".join(parts)
    print(body)
    if not args.no_write:
        write_section(args.section_name, body)


if __name__ == "__main__":
    main()
