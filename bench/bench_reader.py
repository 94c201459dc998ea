"""The reader benchmark (issue #12): leave-one-page-out over the three shared pages.

For every held-out page, stage 2 of the reader (``kuzushi_core.train.reader.train_pages``) is run from the
stage-1 model (fonts + KMNIST, no page crop) on the *other two* pages only; the held-out page's crops are
never trained on.  Measured on the held-out page:

* classification of its true boxes: top-1 / top-5, kana and kanji apart, the share inside the vocabulary,
  beside the stage-1 model alone (fonts + KMNIST) and stage 2 without the variant kana forms;
* end-to-end reading (our segmenter + the fold model) by the Kaggle Kuzushiji rule (a character counts when
  its box centre lies in a true box of the same character), and in the same run Tesseract 5 with Debian's
  ``jpn_vert`` (character boxes from its word boxes), F1 and seconds per page;
* open set: AUROC of the held-out in-vocabulary crops against crops that are no vocabulary character
  (segmenter boxes on the page that hit no true box: ruby, fragments; ruling fragments and stains; JIS
  level-2 kanji rendered by the fonts), for each score of :mod:`kuzushi_core.predict.openset`.

And on the shipped ``models/default.keras``: KMNIST test accuracy (argmax over all classes), ``read`` time of
a 2404×3874 page, crops per second, file size.  The open-set choice is compared with the recipe's
(``ReaderConfig.open_set_*``, which ``train-reader`` writes into the card).

    python bench/bench_reader.py [--ablation]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from _report import write_section  # noqa: E402
from bench_segprotocol import describe  # noqa: E402

from kuzushi_core.crops import crop_box, to_glyph  # noqa: E402
from kuzushi_core.data.datasets import load_kmnist  # noqa: E402
from kuzushi_core.evaluation.scoring import read_codh_csv, score_reading  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import MODELS_DIR, PROJECT_ROOT, data_dir  # noqa: E402
from kuzushi_core.predict import openset  # noqa: E402
from kuzushi_core.predict.classifier import classify_crops, load_model, read_page  # noqa: E402
from kuzushi_core.synth.vocabulary import jis_level2_kanji, kind  # noqa: E402
from kuzushi_core.train.reader import (  # noqa: E402
    ReaderConfig,
    adjust_saved,
    page_names,
    specialise_saved,
    train_pages,
    with_specialist_logits,
)

BUILD = PROJECT_ROOT / "build"
BASE = BUILD / "reader-base.keras"


#: stage-2 recipes of the ablation, by the suffix of their fold models' names ("": the shipped recipe)
RECIPES = {"": ReaderConfig(), "-novariants": ReaderConfig(variants=False),
           "-sourcevariants": ReaderConfig(variant_sources=True)}


def fold_model(held: str, names: list[str], data: Path, recipe: str = "") -> Path:
    out = BUILD / f"reader-lopo-{held}{recipe}.keras"
    if not out.exists():
        t0 = time.process_time()
        train_pages(BASE, data, out, set(names) - {held}, RECIPES[recipe])
        card = json.loads(out.with_suffix(".json").read_text())
        card["cpu_seconds"] = time.process_time() - t0
        out.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False))
    adjust_saved(out, data)  # a fold trained before the prior adjustment or the specialist: the recipe's last
    specialise_saved(out, data, RECIPES[recipe])  # steps, no refit
    return out


TAUS = (0.0, 0.25, 0.5, 0.75, 1.0)


def parts(lm, glyphs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A shipped-recipe model's two experts: (the reader's logits, calibrated after the prior adjustment — the
    last temperature, fitted with the specialist, undone; the specialist's logits)."""
    import keras

    x = glyphs[..., None].astype(np.float32)
    r = keras.Model(lm.model.inputs, lm.model.get_layer("reader_logits").output).predict(x, batch_size=512, verbose=0)
    s = lm.model.get_layer("specialist").predict(x, batch_size=512, verbose=0)  # a model of its own
    return lm.card["specialist"]["temperature_after"] * np.asarray(r, np.float64), np.asarray(s, np.float64)


def with_other_tau(lm, glyphs: np.ndarray):
    """→ scores(tau): the model's ranking had stage 2's prior adjustment used ``tau`` (same fit, same specialist)."""
    pa, sp = lm.card["prior_adjustment"], lm.card["specialist"]
    c = np.asarray(pa["counts"], np.float64) + 1.0
    lp = np.log(c / c.sum()) / pa["temperature_after"]
    r, s = parts(lm, glyphs)
    index = np.array([lm.classes.index(ch) for ch in sp["classes"]])
    return lambda tau: with_specialist_logits(r + (pa["tau"] - tau) * lp, s, index, sp["weight"])


def topk(lm, glyphs: np.ndarray, chars: list[str], probs: np.ndarray | None = None) -> dict:
    probs = lm.predict_glyphs(glyphs) if probs is None else probs
    order = np.argsort(-probs, axis=1)[:, :5]
    idx = {c: i for i, c in enumerate(lm.classes)}
    truth = np.array([idx.get(c, -1) for c in chars])
    top1 = order[:, 0] == truth
    top5 = (order == truth[:, None]).any(1)
    kinds = np.array([kind(c) for c in chars])
    out = {"n": len(chars), "in_vocab": int((truth >= 0).sum()), "top1": int(top1.sum()), "top5": int(top5.sum())}
    for k in ("kana", "kanji"):
        m = kinds == k
        out[k] = {"n": int(m.sum()), "top1": int(top1[m].sum()), "top5": int(top5[m].sum())}
    return out


PSMS = (3, 5)  # automatic page layout; one block of vertical text


def lopo_segment_params(gt_pages: dict) -> dict:
    """For each page, the segmentation parameters that ``bench_segprotocol``'s grid and objective choose on the
    *other* pages: the end-to-end reading of a held-out page uses nothing chosen on it."""
    from bench_segprotocol import grid, objective, page_score, run  # a bench script beside this one

    combos = grid()
    imgs = {n: read_image(p) for n, (p, _gt) in gt_pages.items()}
    table = {n: [objective(page_score(gt, run(imgs[n], c)[0])) for c in combos] for n, (_p, gt) in gt_pages.items()}
    return {n: combos[max(range(len(combos)), key=lambda i: sum(table[o][i] for o in table if o != n))]
            for n in table}


def features(lm, glyphs: np.ndarray) -> np.ndarray:
    import keras

    sub = keras.Model(lm.model.inputs, lm.model.get_layer("head_dense").output)
    f = np.asarray(sub.predict(glyphs[..., None].astype(np.float32), batch_size=512, verbose=0))
    return f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-8)


def knn_blend(lm, train_glyphs: np.ndarray, train_chars: list[str], glyphs: np.ndarray, chars: list[str],
              alpha: float = 0.5, tau: float = 0.05) -> dict:
    """The fold model's probabilities blended with a nearest-exemplar vote over the training pages' crops
    (fixed alpha and tau, not tuned on the held-out page)."""
    idx = {c: i for i, c in enumerate(lm.classes)}
    ft, fq = features(lm, train_glyphs), features(lm, glyphs)
    sim = fq @ ft.T
    lab = np.array([idx[c] for c in train_chars])
    best = np.full((len(glyphs), len(lm.classes)), -np.inf)
    for j in np.unique(lab):
        best[:, j] = sim[:, lab == j].max(1)
    e = np.exp((best - best.max(1, keepdims=True)) / tau)
    p_knn = e / e.sum(1, keepdims=True)
    return topk(lm, glyphs, chars, (1 - alpha) * lm.predict_glyphs(glyphs) + alpha * p_knn)


def tesseract_page(path: Path, psm: int) -> tuple[list[dict], float]:
    t0 = time.time()
    tsv = subprocess.run(["tesseract", str(path), "stdout", "-l", "jpn_vert", "--psm", str(psm), "tsv"],
                         capture_output=True, text=True, check=True).stdout
    secs = time.time() - t0
    boxes = []
    for line in tsv.splitlines()[1:]:
        f = line.split("\t")
        if len(f) < 12 or f[0] != "5":
            continue
        text = "".join(ch for ch in f[11] if not ch.isspace())
        if not text:
            continue
        x, y, w, h = (int(v) for v in f[6:10])
        step = h / len(text)  # vertical text: the word's box cut into equal character boxes top to bottom
        for i, ch in enumerate(text):
            boxes.append({"x": x, "y": int(y + i * step), "w": w, "h": max(1, int(step)), "label": ch})
    return boxes, secs


def ruling_and_stains(n: int, seed: int) -> np.ndarray:
    """Crops of printed ruling fragments and paper stains, as a segmenter may cut them."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = int(rng.integers(40, 120)), int(rng.integers(40, 120))
        img = np.full((h, w), rng.uniform(150, 230), np.float32)
        img += rng.standard_normal((h, w)).astype(np.float32) * rng.uniform(2, 10)
        if i % 2 == 0:  # ruling: one or two straight lines, maybe crossing
            for _ in range(int(rng.integers(1, 3))):
                t = int(rng.integers(2, 6))
                if rng.random() < 0.5:
                    y = int(rng.integers(0, h - t))
                    img[y : y + t, :] = rng.uniform(20, 90)
                else:
                    x = int(rng.integers(0, w - t))
                    img[:, x : x + t] = rng.uniform(20, 90)
        else:  # a stain or speckles
            for _ in range(int(rng.integers(1, 6))):
                cv2.circle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(3, 18)),
                           float(rng.uniform(60, 140)), -1)
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 4))
        out.append(to_glyph(np.clip(img, 0, 255).astype(np.uint8), 28))
    return np.stack(out)


def oov_kanji(classes: set[str], n: int, seed: int) -> np.ndarray:
    from kuzushi_core.synth import dataset as sd

    chars = [c for c in jis_level2_kanji() if c not in classes]
    rng = np.random.default_rng(seed)
    pick = [chars[i] for i in rng.choice(len(chars), n, replace=False)]
    g = sd.make(sd.plain_jobs(pick, 1, seed + 99), processes=1)
    return g.images


def unmatched_boxes(page: np.ndarray, gt, seg_boxes) -> np.ndarray:
    crops = []
    for b in seg_boxes:
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        if not any(t.x <= cx <= t.x + t.w and t.y <= cy <= t.y + t.h for t in gt):
            crops.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), 28))
    return np.stack(crops) if crops else np.zeros((0, 28, 28), np.uint8)


def pct(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ablation", action="store_true", help="also stage 2 without the variant kana forms")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    data = data_dir()
    names = page_names(data)
    gt_pages = {}
    for csv_path in sorted((data / "pages").glob("*/*_coordinate.csv")):
        for name, boxes in read_codh_csv(csv_path).items():
            gt_pages[name] = (csv_path.parent / "images" / f"{name}.jpg", boxes)
    base = load_model(BASE)
    rows, e2e, tess, os_pos, os_neg = [], [], [], {m: [] for m in openset.METHODS}, {}
    oov_sets: dict[str, list[np.ndarray]] = {"page boxes on no character": [], "ruling and stains": [],
                                             "out-of-vocabulary kanji": []}
    cpu, tau_rows = [], {}
    seg_choice = lopo_segment_params(gt_pages)
    for k, held in enumerate(names):
        path, gt = gt_pages[held]
        page = read_image(path, gray=True)
        glyphs = np.stack([to_glyph(crop_box(page, b.x, b.y, b.w, b.h), 28) for b in gt])
        chars = [b.char for b in gt]
        variants = {"fonts + KMNIST (stage 1 only)": base}
        if args.ablation:
            variants["+ pages, no variant kana (prior-adjusted)"] = load_model(fold_model(held, names, data, "-novariants"))
            variants["+ pages + variant kana, also the source kanji (字母) in the cursive faces (the previous recipe)"] \
                = load_model(fold_model(held, names, data, "-sourcevariants"))
        fm_path = fold_model(held, names, data)
        fm = load_model(fm_path)
        fcard = json.loads(fm_path.with_suffix(".json").read_text())
        cpu.append(fcard.get("cpu_seconds") or fcard.get("fit_seconds", 0))
        shipped_label = "+ pages + variant kana (shipped recipe: Unicode hentaigana, prior-adjusted, KMNIST specialist)"
        variants[shipped_label] = fm
        for label, lm in variants.items():
            rows.append((held, label, topk(lm, glyphs, chars)))
            if label == shipped_label:
                scores = with_other_tau(lm, glyphs)
                rows.insert(-1, (held, "shipped recipe, no prior adjustment", topk(lm, glyphs, chars, scores(0.0))))
                rows.insert(-1, (held, "shipped recipe without the KMNIST specialist",
                                 topk(lm, glyphs, chars, parts(lm, glyphs)[0])))
                tau_rows[held] = {t: topk(lm, glyphs, chars, scores(t)) for t in TAUS}
        others = [n for n in names if n != held]
        tr_glyphs, tr_chars = [], []
        for n in others:
            p2, gt2 = gt_pages[n]
            pg2 = read_image(p2, gray=True)
            tr_glyphs += [to_glyph(crop_box(pg2, b.x, b.y, b.w, b.h), 28) for b in gt2]
            tr_chars += [b.char for b in gt2]
        rows.append((held, "shipped recipe + nearest training-page crops (k-NN blend, not shipped)",
                     knn_blend(fm, np.stack(tr_glyphs), tr_chars, glyphs, chars)))
        # end to end, with the segmentation parameters chosen on the two other pages (as bench_segprotocol does)
        rgb = read_image(path)
        params = seg_choice[held]
        t0 = time.time()
        seg, preds = read_page(fm, rgb, params)
        secs = time.time() - t0
        pred = [b.as_dict() | {"label": p.label} for b, p in zip(seg.boxes, preds)]
        e2e.append((held, score_reading(gt, pred), secs))
        tess.append({psm: (score_reading(gt, tb), ts) for psm, (tb, ts) in
                     ((psm, tesseract_page(path, psm)) for psm in PSMS)})
        # open set
        z_in = openset.logits(fm, glyphs)
        for m, s in openset.scores(z_in).items():
            os_pos[m].append(s)
        negs = {"page boxes on no character": unmatched_boxes(page, gt, seg.boxes),
                "ruling and stains": ruling_and_stains(60, k),
                "out-of-vocabulary kanji": oov_kanji(set(fm.classes), 100, k)}
        for src, g in negs.items():
            oov_sets[src].append(g)
            sc = openset.scores(openset.logits(fm, g))
            for m, s in sc.items():
                os_neg.setdefault((src, m), []).append(s)
        print(held, rows[-1][2]["top1"], "/", rows[-1][2]["n"], file=sys.stderr, flush=True)

    # ---- report
    lines = ["Leave-one-page-out over the three shared pages of 『虚南留別志』: stage 2 of the reader learns from the "
             "two other pages; the held-out page's crops are never trained on. Classification of the held-out "
             "page's true boxes:", "",
             "| held-out page | model | chars | in vocabulary | top-1 | top-5 | kana top-1 / top-5 | kanji top-1 / top-5 |",
             "|---|---|---|---|---|---|---|---|"]
    pooled: dict[str, dict] = {}
    for held, label, r in rows:
        lines.append(f"| {held} | {label} | {r['n']} | {pct(r['in_vocab'], r['n'])} | {pct(r['top1'], r['n'])} | "
                     f"{pct(r['top5'], r['n'])} | {pct(r['kana']['top1'], r['kana']['n'])} / "
                     f"{pct(r['kana']['top5'], r['kana']['n'])} | {pct(r['kanji']['top1'], r['kanji']['n'])} / "
                     f"{pct(r['kanji']['top5'], r['kanji']['n'])} |")
        p = pooled.setdefault(label, {"n": 0, "in_vocab": 0, "top1": 0, "top5": 0, "kana": [0, 0, 0], "kanji": [0, 0, 0]})
        for key in ("n", "in_vocab", "top1", "top5"):
            p[key] += r[key]
        for kk in ("kana", "kanji"):
            p[kk][0] += r[kk]["n"]
            p[kk][1] += r[kk]["top1"]
            p[kk][2] += r[kk]["top5"]
    for label, p in pooled.items():
        lines.append(f"| **all three** | {label} | {p['n']} | {pct(p['in_vocab'], p['n'])} | **{pct(p['top1'], p['n'])}** | "
                     f"**{pct(p['top5'], p['n'])}** | {pct(p['kana'][1], p['kana'][0])} / {pct(p['kana'][2], p['kana'][0])} | "
                     f"{pct(p['kanji'][1], p['kanji'][0])} / {pct(p['kanji'][2], p['kanji'][0])} |")
    lines += ["", f"The prior adjustment (`reader.adjust_for_prior`: logits lowered by τ·log of stage 2's class prior; "
              f"the recipe's τ = {ReaderConfig().prior_tau}), scored for each τ on the same fold fits, and τ chosen "
              "for each held-out page on the two other pages (their own fold models) by top-1 + top-5:", "",
              "| held-out page | " + " | ".join(f"τ {t} top-1 / top-5" for t in TAUS) + " | τ chosen on the other two |",
              "|---|" + "---|" * (len(TAUS) + 1)]
    chosen_sum = [0, 0, 0]
    for held in names:
        others = [n for n in names if n != held]
        pick = max(TAUS, key=lambda t: (sum(tau_rows[o][t]["top1"] + tau_rows[o][t]["top5"] for o in others), -abs(t - 1)))
        r = tau_rows[held][pick]
        chosen_sum = [chosen_sum[0] + r["n"], chosen_sum[1] + r["top1"], chosen_sum[2] + r["top5"]]
        lines.append(f"| {held} | " + " | ".join(f"{pct(tau_rows[held][t]['top1'], tau_rows[held][t]['n'])} / "
                                                 f"{pct(tau_rows[held][t]['top5'], tau_rows[held][t]['n'])}" for t in TAUS)
                     + f" | {pick}: {pct(r['top1'], r['n'])} / {pct(r['top5'], r['n'])} |")
    lines.append("| **all three** | " + " | ".join(
        f"{pct(sum(tau_rows[h][t]['top1'] for h in names), sum(tau_rows[h][t]['n'] for h in names))} / "
        f"{pct(sum(tau_rows[h][t]['top5'] for h in names), sum(tau_rows[h][t]['n'] for h in names))}" for t in TAUS)
        + f" | **{pct(chosen_sum[1], chosen_sum[0])} / {pct(chosen_sum[2], chosen_sum[0])}** |")
    from kuzushi_core.synth.vocabulary import HIRAGANA, KATAKANA, MARKS, jis_level1_kanji, ledger_characters

    general = set(HIRAGANA + KATAKANA + MARKS + jis_level1_kanji() + "".join(ledger_characters(data).values()))
    allc = [b.char for _, (_, gt) in gt_pages.items() for b in gt]
    lines += ["", f"The vocabulary holds every character of the shared pages by construction (issue #12); without "
              f"that rule (kana, marks, JIS level 1, the ledger list) {sum(c in general for c in allc)} of "
              f"{len(allc)} = {sum(c in general for c in allc) / len(allc):.3f} of their characters would be in it. "
              f"Stage-2 time per fold (CPU process time, both cores, where recorded, else the fit's wall time): "
              f"{max(cpu):.0f} s at most.", ""]
    lines += ["End-to-end reading of each held-out page (Kaggle Kuzushiji rule), beside Tesseract 5 `jpn_vert` "
              "(character boxes cut from its word boxes; `--psm 3` automatic layout and `--psm 5` one vertical block) "
              "in the same run. Ours: `read_page` with the segmentation parameters that `bench_segprotocol`'s grid "
              "chooses on the two other pages (nothing chosen on the held-out page), no refining by reading:", "",
              "| page | ours P / R / F1 | ours s | segmentation chosen on the other two | "
              + " | ".join(f"Tesseract psm {p} P / R / F1 | s" for p in PSMS) + " |",
              "|---|---|---|---|" + "---|---|" * len(PSMS)]
    agg = {key: [0, 0, 0] for key in ("ours", *PSMS)}
    for (held, s, secs), t in zip(e2e, tess):
        cells = " | ".join(f"{t[p][0]['precision']:.3f} / {t[p][0]['recall']:.3f} / {t[p][0]['f1']:.3f} | {t[p][1]:.2f}"
                           for p in PSMS)
        lines.append(f"| {held} | {s['precision']:.3f} / {s['recall']:.3f} / **{s['f1']:.3f}** | {secs:.2f} | "
                     f"{describe(seg_choice[held])} | {cells} |")
        for key, v in (("ours", s), *((p, t[p][0]) for p in PSMS)):
            agg[key][0] += v["tp"]
            agg[key][1] += v["gt"]
            agg[key][2] += v["pred"]

    def f1(a):
        p, r = a[0] / max(a[2], 1), a[0] / max(a[1], 1)
        return 2 * p * r / (p + r) if p + r else 0.0

    lines += [f"| **all three** | F1 **{f1(agg['ours']):.3f}** | | | " + " | ".join(f"F1 {f1(agg[p]):.3f} | " for p in PSMS)
              + " |", ""]
    lines += ["Open set: AUROC of the held-out pages' in-vocabulary crops against crops that are no vocabulary "
              "character (fold models, pooled over the three folds):", "",
              "| score | " + " | ".join(f"{src} ({sum(len(g) for g in oov_sets[src])})" for src in oov_sets) + " | all |",
              "|---|" + "---|" * (len(oov_sets) + 1)]
    best, best_auc = None, -1.0
    for m in openset.METHODS:
        pos = np.concatenate(os_pos[m])
        cells, negs = [], []
        for src in oov_sets:
            neg = np.concatenate(os_neg[(src, m)])
            negs.append(neg)
            cells.append(f"{openset.auroc(pos, neg):.3f}")
        a = openset.auroc(pos, np.concatenate(negs))
        lines.append(f"| {m} | " + " | ".join(cells) + f" | **{a:.3f}** |")
        if a > best_auc:
            best, best_auc = m, a
    entry = openset.fit(best, np.concatenate(os_pos[best]))
    lines += ["", f"Chosen: **{best}** (AUROC {best_auc:.3f}); threshold {entry['threshold']:.3f} = the score 95 % of "
              "the held-out in-vocabulary crops stay above.", ""]

    # ---- the shipped model
    shipped = load_model(MODELS_DIR / "default.keras")
    km = load_kmnist(data / "kmnist", "test")
    km_idx = np.array([shipped.classes.index(c) for c in km.classes])
    acc = float((shipped.predict_glyphs(km.images).argmax(1) == km_idx[km.labels]).mean())
    big_path, _ = gt_pages[names[0]]
    big = read_image(big_path)
    read_page(shipped, big)
    times = []
    for _ in range(5):
        t0 = time.time()
        seg, _p = read_page(shipped, big)
        times.append(time.time() - t0)
    crops = [crop_box(big, b.x, b.y, b.w, b.h) for b in seg.boxes] * 4
    t0 = time.time()
    classify_crops(shipped, crops)
    cps = len(crops) / (time.time() - t0)
    size = (MODELS_DIR / "default.keras").stat().st_size / 1e6
    card = json.loads((MODELS_DIR / "default.json").read_text())
    lines += ["The shipped model `models/default.keras` (stage 2 on all three pages):", "",
              "| measure | value |", "|---|---|",
              f"| classes | {len(shipped.classes)} |",
              f"| KMNIST official test accuracy (10,000 images, argmax over all {len(shipped.classes)} classes) | **{acc:.4f}** |",
              f"| `read` of a {big.shape[1]}×{big.shape[0]} page (segment + classify), median of 5 | **{np.median(times):.3f} s** |",
              f"| crops per second (normalisation + model, batched) | {cps:.0f} |",
              f"| model file size | {size:.2f} MB |",
              f"| stage 1 time on this CPU: all (rendering + fit) / fit | {card.get('parent', {}).get('training_seconds') or '—'} s"
              f" / {card.get('parent', {}).get('fit_seconds') or '—'} s |",
              f"| stage 2 fit time (this CPU) | {card.get('fit_seconds')} s |", ""]
    body = "\n".join(lines)
    print(body)
    recipe = ReaderConfig()
    same = (best == recipe.open_set_method and abs(entry["threshold"] - recipe.open_set_threshold) < 0.02)
    body += ("\n\n" + ("The recipe's open-set choice (`ReaderConfig.open_set_*`, written into the card by "
                         "`train-reader`) is this measurement's." if same else
                         f"**The recipe's open-set choice differs** (ReaderConfig: {recipe.open_set_method}, threshold "
                         f"{recipe.open_set_threshold:.3f}; measured: {best}, {entry['threshold']:.3f}, scale "
                         f"{entry['scale']:.3f}, AUROC {best_auc:.3f}): update `ReaderConfig.open_set_*` and "
                         "rebuild with `train-reader`."))
    print(body.split("\n\n")[-1])
    if not args.no_write:
        write_section("reader", "Command: `python bench/bench_reader.py --ablation`.\n\n" + body)


if __name__ == "__main__":
    main()
