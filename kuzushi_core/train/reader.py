"""The reader: a base model for thousands of characters, trained in two stages.

1. **Base** (:func:`train_base`): brush-and-paper renders of every vocabulary character in
   every installed font that writes it (:mod:`kuzushi_core.synth`) + KMNIST's training
   images, on the ``reader`` CNN whose first three blocks start from the 10-class KMNIST
   model.  No real page crop is used here, so the leave-one-page-out benchmark can measure the
   second stage on pages it never saw.
2. **Pages** (:func:`train_pages`): fine-tuning of the top conv blocks and the head on the
   real crops of the annotated pages (each crop cut again many times with a segmenter's box
   jitter), with rehearsal of renders and KMNIST so that nothing else is forgotten, and the
   variant kana forms (変体仮名) drawn by the fonts (see :mod:`kuzushi_core.synth.variants`).
   Then the head's bias is corrected for the training set's class prior (:func:`adjust_for_prior`): stage 2
   sees ~3,000 images of each KMNIST kana and 6 renders of most kanji, so without the correction a simple
   kanji cut from a page is read as the kana it resembles.

``python -m kuzushi_core train-reader`` runs both; ``bench/bench_reader.py`` measures them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.datasets import (
    DatasetError,
    GlyphSet,
    assert_disjoint,
    kmnist_split,
    load_kmnist,
    merge,
    per_class_sample,
)
from kuzushi_core.evaluation.scoring import read_codh_csv
from kuzushi_core.imaging import read_image
from kuzushi_core.lazy import keras
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.predict.classifier import ModelFileError, load_model
from kuzushi_core.synth import dataset as sd
from kuzushi_core.synth import vocabulary as vocab
from kuzushi_core.synth.dataset import print_progress
from kuzushi_core.synth.fonts import LICENCES as FONT_LICENCES
from kuzushi_core.synth.fonts import held_out
from kuzushi_core.synth.fonts import training_faces as available_faces
from kuzushi_core.synth.render import jitter_crop
from kuzushi_core.train.architectures import build, class_logits, warm_start, with_specialist
from kuzushi_core.train.fit import (
    TrainConfig,
    TrainResult,
    calibrate_and_report,
    fit_once,
    fit_temperature,
    logits_of,
    save,
    save_weights_only_model,
)
from kuzushi_core.train.transfer import prepare


@dataclass(frozen=True)
class ReaderConfig:
    synth_per_class: int = 120
    kmnist_repeats: int = 5
    epochs: int = 3
    batch_size: int = 256
    learning_rate: float = 2e-3
    seed: int = 0
    min_fonts: int = 3
    # stage 2
    page_jitter: int = 60          # re-cuts of every real crop
    page_epochs: int = 3
    page_lr: float = 5e-4
    page_unfreeze: int = 4
    rehearsal_per_class: int = 6   # fresh renders of every class during stage 2
    kmnist_rehearsal: int = 31550  # KMNIST images in stage 2 (the 6,310 training-split images five times)
    variants: bool = True          # variant kana forms in stage 2
    variant_per_form: int = 12
    variant_sources: bool = False  # also the source kanji (字母) drawn in the cursive faces, labelled as the kana
    #                                (off: they include numerals 三 八 九 千 万 四; bench_reader's ablation)
    prior_tau: float = 0.75        # logit adjustment of stage 2 (0: none); chosen leave-one-page-out, bench_reader
    specialist: str = "kmnist10"   # a model in models/ that re-ranks its classes beside the reader ("": none)
    # the open-set score and its threshold, chosen leave-one-page-out by bench/bench_reader.py (fold models that
    # never saw the held-out page; AUROC 0.754 of msp against crops that are no vocabulary character): stage 2
    # trains on every page, so it has no held-out real crop to fit them on itself
    open_set_method: str = "msp"
    open_set_threshold: float = 0.19095768928527834
    open_set_scale: float = 0.5949688911437988
    open_set_auroc: float = 0.754
    processes: int = 2


def vocabulary(data: Path, cfg: ReaderConfig = ReaderConfig()) -> tuple[str, ...]:
    return vocab.build(data, cfg.min_fonts)


def shuffled(g: GlyphSet, seed: int) -> GlyphSet:
    """The same glyphs in a random order (the tf.data shuffle buffer is far smaller than a class-ordered set)."""
    return g.subset(np.random.default_rng(seed).permutation(len(g)))


def repeat(g: GlyphSet, k: int) -> GlyphSet:
    return g.subset(np.tile(np.arange(len(g)), k))


def base_data(data: Path, classes: tuple[str, ...], cfg: ReaderConfig, progress=None) -> tuple[GlyphSet, GlyphSet]:
    synth = sd.make(sd.plain_jobs(classes, cfg.synth_per_class, cfg.seed), processes=cfg.processes,
                    progress=progress, classes=classes)
    synth_val = sd.make(sd.plain_jobs(classes, 2, cfg.seed + 7919), processes=cfg.processes, progress=progress,
                        classes=classes)
    km_tr, km_va = kmnist_split(data, cfg.seed)
    train = merge([synth, repeat(km_tr, cfg.kmnist_repeats)], classes)
    val = merge([synth_val, km_va], classes)
    return shuffled(train, cfg.seed), val


class EpochETA:
    """Keras callback: progress lines with an ETA on stderr (batches within an epoch, and epochs)."""

    def __new__(cls, epochs: int, steps: int, every: int = 200):

        class _CB(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.t0 = time.time()
                self.done = 0

            def on_train_batch_end(self, batch, logs=None):
                self.done += 1
                if self.done % every == 0:
                    total = epochs * steps
                    el = time.time() - self.t0
                    print(f"  step {self.done}/{total}  loss {(logs or {}).get('loss', 0):.3f}  {el:.0f} s  "
                          f"ETA {el / self.done * (total - self.done):.0f} s", file=sys.stderr, flush=True)

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                print(f"epoch {epoch + 1}/{epochs}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}  "
                      f"val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.4f}  "
                      f"{time.time() - self.t0:.0f} s", file=sys.stderr, flush=True)

        return _CB()


def _train_config(cfg: ReaderConfig, epochs: int, lr: float):
    """One stage's schedule as a :class:`~kuzushi_core.train.fit.TrainConfig`: no class weights (KMNIST's classes are the
    big ones on purpose), no early stopping (the cosine schedule runs to its end; the best epoch on val_loss is kept)."""
    return TrainConfig(arch="reader", epochs=epochs, batch_size=cfg.batch_size, learning_rate=lr, seed=cfg.seed,
                       patience=max(99, epochs), class_weights=False, balance="none")


def _run_stage(model, classes: tuple[str, ...], train: GlyphSet, val: GlyphSet, cfg: ReaderConfig, epochs: int,
               lr: float, t0: float):
    """Fit one stage (progress with ETA on stderr), calibrate on ``val`` → (TrainResult, fit seconds)."""
    tcfg = _train_config(cfg, epochs, lr)
    t1 = time.time()
    steps = int(np.ceil(len(train) / tcfg.batch_size))
    hist, best = fit_once(model, train, val, tcfg, callbacks=[EpochETA(tcfg.epochs, steps)])
    fit_s = time.time() - t1
    t, report = calibrate_and_report(model, val)
    return TrainResult(model, classes, hist, t, report, time.time() - t0, best, tcfg), fit_s


def train_base(data: Path, out: Path, cfg: ReaderConfig = ReaderConfig(), warm: Path | None = None) -> dict:
    """Stage 1 → ``out`` (.keras + card)."""
    t0 = time.time()
    keras.utils.set_random_seed(cfg.seed)
    classes = vocabulary(data, cfg)
    print(f"vocabulary: {len(classes)} classes", file=sys.stderr, flush=True)
    train, val = base_data(data, classes, cfg, progress=print_progress)
    print(f"training glyphs {len(train)}, validation {len(val)}  ({time.time() - t0:.0f} s)", file=sys.stderr)
    model = build("reader", len(classes), 28, seed=cfg.seed)
    copied = []
    if warm is not None and Path(warm).exists():
        copied = warm_start(model, keras.saving.load_model(warm, compile=False, safe_mode=True))
    res, fit_s = _run_stage(model, classes, train, val, cfg, cfg.epochs, cfg.learning_rate, t0)
    extra = {"stage": "base", "reader": cfg.__dict__, "fonts_held_out": sorted(held_out()), "warm_start": {"from": str(warm), "layers": copied},
             "data": {"n_train_total": len(train), "source": train.source}, "fit_seconds": round(fit_s, 1)}
    save(res, out, extra)
    return {"classes": len(classes), "seconds": time.time() - t0, "fit_seconds": fit_s,
            "val_accuracy": res.val_metrics["accuracy"]}


def page_crops(data: Path, pages: set[str] | None, jitter: int, seed: int, size: int = 28,
               plain: bool = True) -> GlyphSet:
    """The annotated pages' characters: each box cut as is (``plain``) and ``jitter`` times with a segmenter's
    box jitter.  ``pages`` limits them to some pages (None: all)."""
    folder = Path(data) / "pages"
    csvs = sorted(folder.glob("*/*_coordinate.csv"))
    if not csvs:
        raise DatasetError(f"no annotated pages (*_coordinate.csv) under {folder}")
    rng = np.random.default_rng(seed)
    imgs, chars = [], []
    for csv_path in csvs:
        for name, boxes in read_codh_csv(csv_path).items():
            if pages is not None and name not in pages:
                continue
            page = read_image(csv_path.parent / "images" / f"{name}.jpg", gray=True)
            for b in boxes:
                if plain:
                    imgs.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), size))
                    chars.append(b.char)
                for _ in range(jitter):
                    imgs.append(jitter_crop(page, b.x, b.y, b.w, b.h, rng, size))
                    chars.append(b.char)
    classes = tuple(sorted(set(chars)))
    index = {c: i for i, c in enumerate(classes)}
    return GlyphSet(np.stack(imgs) if imgs else np.zeros((0, size, size), np.uint8),
                    np.array([index[c] for c in chars], np.int64), classes, f"pages:{','.join(sorted(pages or ['all']))}")


def page_names(data: Path) -> list[str]:
    names = []
    for csv_path in sorted((Path(data) / "pages").glob("*/*_coordinate.csv")):
        names.extend(read_codh_csv(csv_path))
    return sorted(names)


def pages_data(data: Path, classes: tuple[str, ...], pages: set[str] | None, cfg: ReaderConfig,
               progress=None) -> tuple[GlyphSet, GlyphSet]:
    """Stage 2's training and validation sets (the pages' crops, renders and KMNIST for rehearsal, variants)."""
    parts = []
    if pages is None or pages:
        parts.append(page_crops(data, pages, cfg.page_jitter, cfg.seed + 1))
    parts.append(sd.make(sd.plain_jobs(classes, cfg.rehearsal_per_class, cfg.seed + 31), processes=cfg.processes,
                         progress=progress, classes=classes))
    km_tr, km_va = kmnist_split(data, cfg.seed)
    if cfg.kmnist_rehearsal >= len(km_tr):  # the whole split, repeated (in-model augmentation varies each copy)
        parts.append(repeat(km_tr, -(-cfg.kmnist_rehearsal // len(km_tr))))
    else:
        parts.append(per_class_sample(km_tr, cfg.kmnist_rehearsal // len(km_tr.classes), cfg.seed))
    if cfg.variants:
        parts.append(sd.make(sd.variant_jobs(cfg.variant_per_form, cfg.seed + 57, sources=cfg.variant_sources), processes=cfg.processes,
                             progress=progress))
    train = merge(parts, classes)
    return shuffled(train, cfg.seed), pages_val(data, classes, pages, cfg, km_va)


def pages_val(data: Path, classes: tuple[str, ...], pages: set[str] | None, cfg: ReaderConfig,
              km_va: GlyphSet | None = None) -> GlyphSet:
    """Stage 2's validation set: a render of every class, KMNIST's validation split, re-cuts of the pages' crops."""
    km_va = kmnist_split(data, cfg.seed)[1] if km_va is None else km_va
    vparts = [sd.make(sd.plain_jobs(classes, 1, cfg.seed + 7919), processes=cfg.processes, classes=classes), km_va]
    if pages is None or pages:
        vparts.append(page_crops(data, pages, 2, cfg.seed + 2, plain=False))
    return merge(vparts, classes)


def stage2_counts(data: Path, classes: tuple[str, ...], pages: set[str] | None, cfg: ReaderConfig) -> np.ndarray:
    """How many images of each class :func:`pages_data` trains on, counted from its recipe without rendering."""
    from collections import Counter

    n: Counter = Counter()
    if pages is None or pages:
        for csv_path in sorted((Path(data) / "pages").glob("*/*_coordinate.csv")):
            for name, boxes in read_codh_csv(csv_path).items():
                if pages is None or name in pages:
                    n.update([b.char for b in boxes] * (cfg.page_jitter + 1))
    for job in sd.plain_jobs(classes, cfg.rehearsal_per_class, cfg.seed + 31):
        n[job.label] += job.n
    km_tr, _ = kmnist_split(data, cfg.seed)
    per = np.bincount(km_tr.labels, minlength=len(km_tr.classes))
    if cfg.kmnist_rehearsal >= len(km_tr):
        per = per * -(-cfg.kmnist_rehearsal // len(km_tr))
    else:
        per = np.minimum(per, cfg.kmnist_rehearsal // len(km_tr.classes))
    for c, k in zip(km_tr.classes, per):
        n[c] += int(k)
    if cfg.variants:
        for job in sd.variant_jobs(cfg.variant_per_form, cfg.seed + 57, sources=cfg.variant_sources):
            n[job.label] += job.n
    return np.array([n.get(c, 0) for c in classes], np.int64)


def adjust_for_prior(model, counts: np.ndarray, tau: float) -> None:
    """Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021): the
    ``logits`` bias lowered by ``tau`` · log of the training prior (counts + 1, so a class never trained on is
    not raised to infinity).  The model's argmax moves from the training mix towards balanced classes."""
    layer = class_logits(model)
    kernel, bias = layer.get_weights()
    c = np.asarray(counts, np.float64) + 1.0
    layer.set_weights([kernel, (bias - tau * np.log(c / c.sum())).astype(bias.dtype)])


def finish(model, counts: np.ndarray, val: GlyphSet, cfg: ReaderConfig) -> tuple[float, dict, dict]:
    """After stage 2's fit and calibration: the prior adjustment, then calibration again on ``val`` (the ranking
    is that of the adjusted logits; the temperature only makes the confidences honest again).
    → (temperature, validation report, the card's ``prior_adjustment`` entry)."""
    adjust_for_prior(model, counts, cfg.prior_tau)
    t, report = calibrate_and_report(model, val)
    entry = {"tau": cfg.prior_tau, "method": "logit adjustment by the stage-2 training prior (counts + 1)",
             "counts": [int(k) for k in counts], "temperature_after": t}  # the card's "temperature": before it
    return t, report, entry


def _saved_stage2(path: Path, cfg: ReaderConfig, own: tuple[str, ...]):
    """A stage-2 model file and its card, with the recipe its card records (except the fields ``own``, which the
    caller's ``cfg`` decides) → (card, LoadedModel, pages or None for all, cfg)."""
    import json

    card = json.loads(Path(path).with_suffix(".json").read_text())
    if card.get("stage") != "pages":
        raise ValueError(f"{path} is not a stage-2 reader model")
    cfg = replace(cfg, **{k: v for k, v in card.get("reader", {}).items() if k in ReaderConfig.__dataclass_fields__
                          and k not in (*own, "processes")})
    return card, load_model(path), None if card["pages"] == "all" else set(card["pages"]), cfg


def _save_stage2(path: Path, model, card: dict) -> dict:
    import json

    save_weights_only_model(model, Path(path))
    Path(path).with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=1))
    return card


def adjust_saved(path: Path, data: Path, cfg: ReaderConfig = ReaderConfig()) -> dict:
    """The prior adjustment (:func:`finish`) applied to a stage-2 model file trained before it existed, for the
    pages its card names: what :func:`train_pages` now does after its fit, without fitting again."""
    card, lm, pages, cfg = _saved_stage2(path, cfg, own=("prior_tau",))
    if card.get("prior_adjustment"):
        return card
    counts = stage2_counts(data, lm.classes, pages, cfg)
    _t, report, entry = finish(lm.model, counts, pages_val(data, lm.classes, pages, cfg), cfg)
    card["validation"] = {k: v for k, v in report.items() if k != "confusion"}
    card["prior_adjustment"] = entry | {"applied": "after the fit, by reader.adjust_saved"}
    card["reader"] = {**card.get("reader", {}), "prior_tau": cfg.prior_tau}
    card["test"] = kmnist_test(lm.model, lm.classes, data)
    return _save_stage2(path, lm.model, card)


SPECIALIST_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def specialist_path(cfg: ReaderConfig) -> Path | None:
    return MODELS_DIR / f"{cfg.specialist}.keras" if cfg.specialist else None


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def with_specialist_logits(z: np.ndarray, s: np.ndarray, index: np.ndarray, weight: float) -> np.ndarray:
    """What :func:`~kuzushi_core.train.architectures.with_specialist` computes, in numpy: the reader's logits ``z`` with
    its classes ``index`` raised by ``weight`` · the specialist's log-probabilities (from its logits ``s``)."""
    z = np.asarray(z, np.float64).copy()
    z[:, index] += weight * _log_softmax(np.asarray(s, np.float64))
    return z


def choose_specialist_weight(z: np.ndarray, s: np.ndarray, index: np.ndarray, y: np.ndarray,
                             grid=SPECIALIST_WEIGHTS) -> tuple[float, dict]:
    """The weight of the specialist (logits ``s``, N×k, its classes at ``index`` of the reader's logits ``z``) with
    the lowest negative log-likelihood of labels ``y`` (reader class indices), each weight's product calibrated by
    its own temperature first (the model's is fitted again after): a proper score of the ranking — on KMNIST's
    validation split both models err on a dozen of 701 images, so accuracy ties or turns on one image.
    → (weight, {weight: {"nll", "temperature", "accuracy"}})."""
    table = {}
    for w in grid:
        zz = with_specialist_logits(z, s, index, w)
        t = fit_temperature(zz, y)
        lp = _log_softmax(zz / t)
        table[float(w)] = {"nll": float(-lp[np.arange(len(y)), y].mean()), "temperature": t,
                           "accuracy": float((lp.argmax(1) == y).mean())}
    return min(table, key=lambda w: (round(table[w]["nll"], 6), w)), table


def attach_specialist(model, classes: tuple[str, ...], data: Path, val: GlyphSet, cfg: ReaderConfig,
                      path: Path | None = None):
    """Stage 2's last step: the specialist model beside the reader (:func:`~kuzushi_core.train.architectures.
    with_specialist`), its weight chosen on KMNIST's validation split, which neither model trained on, then the
    temperature fitted again on ``val``.  → (model, its report on ``val``, the card's ``specialist`` entry)."""
    path = Path(path) if path is not None else specialist_path(cfg)
    assert path is not None, "no specialist configured"
    sp = load_model(path)
    missing = [c for c in sp.classes if c not in classes]
    if missing:
        raise ModelFileError(f"the specialist {path.name} has classes the reader lacks: {''.join(missing)}")
    conf = sp.card.get("training", {}).get("config", {})
    if (conf.get("val_split"), conf.get("seed"), conf.get("folds") or 0) != (0.1, cfg.seed, 0):
        raise ModelFileError(f"{path.name} was not trained with KMNIST's 10 % holdout of seed {cfg.seed}: its "
                         "weight could not be chosen on images it never saw")
    _, km_va = kmnist_split(data, cfg.seed)
    index = np.array([classes.index(c) for c in sp.classes])
    lookup = np.array([classes.index(c) for c in km_va.classes])
    w, table = choose_specialist_weight(logits_of(model, km_va.images), logits_of(sp.model, km_va.images), index,
                                        lookup[km_va.labels])
    combined = with_specialist(model, sp.model, index, w, seed=cfg.seed)
    t, report = calibrate_and_report(combined, val)
    entry = {"model": path.name, "classes": list(sp.classes), "weight": w, "temperature_after": t,
             "method": "product of experts: the reader's logits of the specialist's classes raised by weight x its "
                       "log-probabilities (architectures.with_specialist)",
             "chosen_on": f"lowest NLL on KMNIST training images' 10 % validation split (seed {cfg.seed}, "
                          f"{len(km_va)} images)", "validation_by_weight": table}
    return combined, report, entry


def specialise_saved(path: Path, data: Path, cfg: ReaderConfig = ReaderConfig()) -> dict:
    """:func:`attach_specialist` applied to a stage-2 model file trained before it existed (for its card's pages),
    without fitting again."""
    card, lm, pages, cfg = _saved_stage2(path, cfg, own=("specialist",))
    if card.get("specialist") or not cfg.specialist:
        return card
    combined, report, entry = attach_specialist(lm.model, lm.classes, data, pages_val(data, lm.classes, pages, cfg),
                                                cfg)
    card["validation"] = {k: v for k, v in report.items() if k != "confusion"}
    card["test_without_specialist"] = card.get("test")
    card["test"] = kmnist_test(combined, lm.classes, data)
    card["specialist"] = entry | {"applied": "after the fit, by reader.specialise_saved"}
    card["reader"] = {**card.get("reader", {}), "specialist": cfg.specialist}
    return _save_stage2(path, combined, card)


def train_pages(base: Path, data: Path, out: Path, pages: set[str] | None, cfg: ReaderConfig = ReaderConfig(),
                command: str = "") -> dict:
    """Stage 2 from a stage-1 model → ``out``.  ``pages``: the annotated pages to learn from (None: all)."""

    t0 = time.time()
    keras.utils.set_random_seed(cfg.seed)
    lm = load_model(base)
    classes = lm.classes
    train, val = pages_data(data, classes, pages, cfg, progress=print_progress)
    model = prepare(lm.model, classes, classes, "fine-tune", cfg.page_unfreeze, arch="reader", seed=cfg.seed)
    res, fit_s = _run_stage(model, classes, train, val, cfg, cfg.page_epochs, cfg.page_lr, t0)
    prior = {}
    if cfg.prior_tau:
        counts = stage2_counts(data, classes, pages, cfg)
        _t, report, prior = finish(model, counts, val, cfg)
        res = replace(res, val_metrics=report)
    specialist, alone = {}, None
    if cfg.specialist:
        alone = kmnist_test(model, classes, data, train)
        model, report, specialist = attach_specialist(model, classes, data, val, cfg)
        res = replace(res, model=model, val_metrics=report)
    base_card = lm.card
    test = kmnist_test(model, classes, data, train)
    extra = {
        "test": test, "prior_adjustment": prior, "specialist": specialist, "test_without_specialist": alone,
        "stage": "pages", "reader": cfg.__dict__, "mode": "fine-tune",
        "parent": {"path": str(base), "stage": "base", "fit_seconds": base_card.get("fit_seconds"),
                   "training_seconds": base_card.get("training", {}).get("seconds")},
        "pages": sorted(pages) if pages is not None else "all",
        "data": {"n_train_total": len(train), "source": train.source},
        "fit_seconds": round(fit_s, 1),
        "open_set": open_set_entry(cfg),
        "fonts": [{"face": f.name, "package": f.package, "licence": FONT_LICENCES.get(f.package, "")}
                  for f in available_faces()],
        "fonts_held_out": sorted(held_out()),
        "licence": "CC BY-SA 4.0 (KMNIST and the Kuzushiji page crops, CODH/NIJL); font renders from Debian's "
                   "fonts (their own free licences; see README)",
        "command": command,
    }
    save(res, out, extra)
    return {"seconds": time.time() - t0, "fit_seconds": fit_s, "n_train": len(train),
            "val_accuracy": res.val_metrics["accuracy"], "kmnist_test_accuracy": test["accuracy"]}


def open_set_entry(cfg: ReaderConfig) -> dict:
    """The card's ``open_set`` entry (see :mod:`kuzushi_core.predict.openset`) from the recipe's measured choice."""
    return {"method": cfg.open_set_method, "threshold": cfg.open_set_threshold, "scale": cfg.open_set_scale,
            "measured": {"auroc": cfg.open_set_auroc, "by": "bench/bench_reader.py (leave-one-page-out fold models)"}}


def kmnist_test(model, classes: tuple[str, ...], data: Path, train: GlyphSet | None = None) -> dict:
    """Accuracy on the official KMNIST test set, the argmax taken over all the model's classes (checked by content
    hash never to be in ``train``)."""
    km = load_kmnist(Path(data) / "kmnist", "test")
    if train is not None:
        assert_disjoint(train, km)
    idx = np.array([classes.index(c) for c in km.classes])
    probs = model.predict(km.images[..., None], batch_size=512, verbose=0)
    acc = float((probs.argmax(1) == idx[km.labels]).mean())
    return {"source": "kmnist test (10,000 official images)", "accuracy": acc, "argmax_over": len(classes)}
