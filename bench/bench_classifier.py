"""Classifier benchmark: the shipped 10-kana model (models/kmnist10.keras, the default before the reader) on the full KMNIST test set, crops per second,
whole-page read time, the domain-shift number on real page crops, and the lecture's baseline CNN
trained with a plain ``model.fit`` on the same 7,011 images.

    python bench/bench_classifier.py            # writes the "classifier" section of BENCHMARKS.md
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _report import write_section  # noqa: E402

from kuzushi_core.crops import crop_box  # noqa: E402
from kuzushi_core.data.datasets import KMNIST_CLASSES, load_kmnist  # noqa: E402
from kuzushi_core.evaluation.metrics import classification_report, expected_calibration_error  # noqa: E402
from kuzushi_core.evaluation.scoring import read_codh_csv  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import MODELS_DIR, data_dir  # noqa: E402
from kuzushi_core.predict.classifier import classify_crops, load_model, read_page  # noqa: E402
from kuzushi_core.train.architectures import baseline_cnn  # noqa: E402


def main() -> None:
    d = data_dir()
    lm = load_model(MODELS_DIR / "kmnist10.keras")
    card = lm.card
    train_set, test_set = load_kmnist(d / "kmnist", "train"), load_kmnist(d / "kmnist", "test")

    t = time.perf_counter()
    probs = lm.predict_glyphs(test_set.images)
    glyph_rate = len(test_set) / (time.perf_counter() - t)
    rep = classification_report(test_set.labels, probs.argmax(1), KMNIST_CLASSES)
    ece = expected_calibration_error(probs, test_set.labels)

    # crops per second through the full path (normalisation + model), from a real page
    folder = d / "pages" / "100241706"
    gt = read_codh_csv(folder / "100241706_coordinate.csv")
    crops, chars = [], []
    for name, boxes in gt.items():
        page = read_image(folder / "images" / f"{name}.jpg")
        for b in boxes:
            crops.append(crop_box(page, b.x, b.y, b.w, b.h))
            chars.append(b.char)
    t = time.perf_counter()
    preds = classify_crops(lm, crops)
    crop_rate = len(crops) / (time.perf_counter() - t)
    inv = [i for i, c in enumerate(chars) if c in KMNIST_CLASSES]
    shift_acc = float(np.mean([preds[i].label == chars[i] for i in inv])) if inv else float("nan")
    conf_in = float(np.mean([preds[i].confidence for i in inv]))
    oov = [i for i, c in enumerate(chars) if c not in KMNIST_CLASSES]
    conf_out = float(np.mean([preds[i].confidence for i in oov]))

    # whole-page read (segment + classify), median of 5 on the first real page
    page = read_image(folder / "images" / f"{next(iter(gt))}.jpg")
    times = []
    for _ in range(5):
        t = time.perf_counter()
        read_page(lm, page)
        times.append(time.perf_counter() - t)

    # the lecture's baseline: plain model.fit, same 7,011 images, 10% validation
    import keras

    keras.utils.set_random_seed(0)
    base = baseline_cnn(10)
    base.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t = time.perf_counter()
    base.fit(train_set.images[..., None], train_set.labels, epochs=10, batch_size=64, validation_split=0.1, verbose=0)
    base_time = time.perf_counter() - t
    base_acc = float((base.predict(test_set.images[..., None], verbose=0).argmax(1) == test_set.labels).mean())
    default_time = float(card["training"]["seconds"])

    per_class = "\n".join(
        f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for c, v in rep["per_class"].items()
    )
    cm = "\n".join("| " + c + " | " + " | ".join(str(x) for x in row) + " |" for c, row in zip(KMNIST_CLASSES, rep["confusion"]))
    body = f"""
Command: `python bench/bench_classifier.py` (the model itself: `{card.get('command', '')}`).

| measure | value |
|---|---|
| kmnist10 model, KMNIST test accuracy (10,000 official test images) | **{rep['accuracy']:.4f}** |
| macro F1 / weighted F1 | {rep['macro']['f1']:.4f} / {rep['weighted']['f1']:.4f} |
| expected calibration error (test, after temperature scaling T = {card.get('temperature', 1):.2f}) | {ece:.4f} |
| training time of the kmnist10 model (7,011 images, this CPU) | {default_time:.0f} s |
| model file size | {(MODELS_DIR / 'kmnist10.keras').stat().st_size / 1e6:.2f} MB |
| glyphs per second (batched, 28×28) | {glyph_rate:.0f} |
| crops per second from a real page (normalisation + model) | {crop_rate:.0f} |
| `read` of a 2404×3874 page (segment + classify), median of 5 | **{statistics.median(times):.3f} s** |
| **domain shift**: accuracy on the {len(inv)} real-page crops whose character is a KMNIST class | **{shift_acc:.3f}** |
| mean confidence on those in-vocabulary crops / on the {len(oov)} out-of-vocabulary crops | {conf_in:.3f} / {conf_out:.3f} |
| lecture baseline CNN, plain `model.fit`, 10 epochs: KMNIST test accuracy | {base_acc:.4f} |
| baseline training time; default / baseline time ratio | {base_time:.0f} s; {default_time / base_time:.1f}× |

Per class on the KMNIST test set:

| class | precision | recall | F1 | support |
|---|---|---|---|---|
{per_class}

Confusion matrix (rows true, columns predicted, in class order {' '.join(KMNIST_CLASSES)}):

| | {' | '.join(KMNIST_CLASSES)} |
|---|{'---|' * len(KMNIST_CLASSES)}
{cm}
"""
    write_section("classifier", body)
    print(body)


if __name__ == "__main__":
    main()
