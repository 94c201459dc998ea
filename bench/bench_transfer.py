"""Few-shot transfer benchmark: teach the shipped model two new characters (の, し) from real page crops.

Protocol (issue #5): start from ``models/kmnist10.keras`` (the 10-kana model); training data = the の and し crops of the
shared book pages except one (leave-one-page-out) + 200 KMNIST training images per old class; feature
extraction (frozen base, head retrained with the old classes kept).  Measured on the held-out page:
recall of の and し; on the full KMNIST test set: accuracy of the old classes (drop against the base);
CPU time of the training.  Also reported: how many *other* characters of the held-out page the new
model calls の or し (precision), since real pages are full of characters it has never seen.

    python bench/bench_transfer.py        # writes the "transfer" section of BENCHMARKS.md

This measures the *full-network* transfer path (every epoch through the whole model), kept for comparison: the
product's feature extraction and fine-tuning now train on cached features, and their few-shot figures on the big
reader are ``bench/bench_adapt.py``'s.  Its learning rate stays the one this path was tuned with (5e-4).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _report import write_section  # noqa: E402

from kuzushi_core.data.datasets import GlyphSet, load_codh_pages, load_kmnist, merge, per_class_sample  # noqa: E402
from kuzushi_core.paths import MODELS_DIR, data_dir  # noqa: E402
from kuzushi_core.predict.classifier import load_model  # noqa: E402
from kuzushi_core.train.augment import PRESETS, to_dict  # noqa: E402
from kuzushi_core.train.fit import TrainConfig, train  # noqa: E402
from kuzushi_core.train.transfer import output_classes, prepare  # noqa: E402

FULL_NETWORK_LR = {"feature-extraction": 5e-4, "fine-tune": 5e-4}  # tuned for this path (README, "Retraining")

NEW = ("の", "し")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--mode", default="feature-extraction", choices=["feature-extraction", "fine-tune"])
    ap.add_argument("--augment", default=None, help="an augmentation preset applied in the pipeline")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--patience", type=int, default=8)
    ap.add_argument("--balance", default="oversample", choices=["weights", "oversample", "none"])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    d = data_dir()
    base = load_model(MODELS_DIR / "kmnist10.keras")
    km_train, km_test = load_kmnist(d / "kmnist", "train"), load_kmnist(d / "kmnist", "test")
    rehearsal = per_class_sample(km_train, args.per_class, seed=0)
    pages = load_codh_pages(d / "pages" / "100241706")
    page_of = np.array(pages.pages)
    chars = np.array([pages.classes[i] for i in pages.labels])
    base_acc = float((base.predict_glyphs(km_test.images).argmax(1) == km_test.labels).mean())

    rows = []
    for held in sorted(set(page_of)):
        tr = np.flatnonzero((page_of != held) & np.isin(chars, NEW))
        te_all = np.flatnonzero(page_of == held)
        new_set = GlyphSet(pages.images[tr], np.array([NEW.index(c) for c in chars[tr]]), NEW, "codh")
        data = merge([rehearsal, new_set], base.classes)
        classes = output_classes(base.classes, data.classes)
        t0 = time.process_time()
        w0 = time.perf_counter()
        model = prepare(base.model, base.classes, classes, args.mode, unfreeze=1, seed=0)
        cfg = TrainConfig(epochs=args.epochs, learning_rate=args.lr or FULL_NETWORK_LR[args.mode],
                          val_split=0.15, patience=args.patience, seed=0, balance=args.balance,
                          augment=to_dict(PRESETS[args.augment]) if args.augment else None)
        res = train(data, cfg, model=model)
        cpu = time.process_time() - t0
        wall = time.perf_counter() - w0
        probs = np.asarray(res.model.predict(pages.images[te_all][..., None], verbose=0))
        pred = np.array([classes[i] for i in probs.argmax(1)])
        truth = chars[te_all]
        km_pred = np.asarray(res.model.predict(km_test.images[..., None], batch_size=512, verbose=0)).argmax(1)
        km_acc = float((km_pred == km_test.labels).mean())  # old classes keep their indices (base classes first)
        row = {"held_out": held, "n_train_new": {c: int((chars[tr] == c).sum()) for c in NEW},
               "cpu_s": cpu, "wall_s": wall, "kmnist_old": km_acc}
        for c in NEW:
            sel = truth == c
            row[f"hit_{c}"] = int((pred[sel] == c).sum())
            row[f"n_{c}"] = int(sel.sum())
            row[f"false_{c}"] = int(((pred == c) & ~sel).sum())
        row["n_page"] = len(te_all)
        # which crops were missed: their rank among the page's crops of that character (1 = first in the CSV)
        row["missed"] = [f"{c} #{int(np.flatnonzero(truth == c).tolist().index(k)) + 1}"
                         for c in NEW for k in np.flatnonzero((truth == c) & (pred != c))]
        rows.append(row)
        print(row, flush=True)

    hits = sum(r[f"hit_{c}"] for r in rows for c in NEW)
    n = sum(r[f"n_{c}"] for r in rows for c in NEW)
    falses = sum(r[f"false_{c}"] for r in rows for c in NEW)
    worst_drop = max(base_acc - r["kmnist_old"] for r in rows)
    aug_name = args.augment or "none, the model's own layers only"
    argv = "".join(f' "{a}"' if " " in a else f" {a}" for a in sys.argv[1:])
    lines = [
        f"{args.mode} from `models/kmnist10.keras` adding の and し (leave-one-page-out over the three shared "
        f"pages; {args.per_class} KMNIST training images per old class as rehearsal; {args.epochs} epochs max, "
        f"early stopping on class-balanced val_loss, imbalance: {args.balance}, "
        f"pipeline augmentation: {aug_name}). Command: `python bench/bench_transfer.py{argv}`.",
        "",
        "| held-out page | train crops の/し | recall の | recall し | missed | other chars called の/し "
        "| KMNIST test (old classes) | CPU s | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['held_out']} | {r['n_train_new']['の']}/{r['n_train_new']['し']} | "
                     f"{r['hit_の']}/{r['n_の']} | {r['hit_し']}/{r['n_し']} | {', '.join(r['missed']) or '—'} | "
                     f"{r['false_の'] + r['false_し']} of "
                     f"{r['n_page'] - r['n_の'] - r['n_し']} | {r['kmnist_old']:.4f} | {r['cpu_s']:.0f} | "
                     f"{r['wall_s']:.0f} |")
    lines += [
        "",
        f"- **Recall on the new classes (pooled over held-out pages): {hits}/{n} = {hits / max(n, 1):.3f}** (bar 0.90).",
        f"- KMNIST test accuracy of the base model {base_acc:.4f}; largest drop after transfer "
        f"**{worst_drop * 100:.2f} points** (bar ≤ 1).",
        f"- CPU time per run (process time, both cores): max {max(r['cpu_s'] for r in rows):.0f} s; wall max "
        f"{max(r['wall_s'] for r in rows):.0f} s (bar 60 s CPU).",
        f"- Precision side: {falses} other characters of the held-out pages were called の or し.",
        "- What the crops look like (looked at, in CSV order): の on 00004_2 = 乃-shaped, a second variant form "
        "(変体仮名, seen nowhere else in the book), の, の, 乃-shaped; on 00005_2 = 乃-shaped, の. し on 00004_2 = し, "
        "し; on 00005_1 = し, し, し, a 志-shaped variant (seen nowhere else), し. A variant that occurs once in the "
        "book cannot be in the training data of the page it is on.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("transfer", body)


if __name__ == "__main__":
    main()
