"""Training: tf.data pipelines, Adam with a cosine schedule, early stopping, the
best checkpoint on val_loss, class weights, temperature scaling, k-fold.

:func:`train` is what the CLI, the background jobs and the benchmark call.  It
reports through Keras callbacks, so a job can write progress into the store
and stop on a cancel request without this module knowing about either.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kuzushi_core.data.datasets import (
    DatasetError,
    GlyphSet,
    assert_disjoint,
    kfold,
    load_source,
    stratified_split,
)
from kuzushi_core.evaluation.metrics import classification_report, expected_calibration_error, nll
from kuzushi_core.lazy import keras, tf
from kuzushi_core.predict.classifier import fit_ood
from kuzushi_core.train.architectures import (
    build,
    logit_denses,
)
from kuzushi_core.train.augment import build as build_augment
from kuzushi_core.train.augment import from_dict, ink_thickness_layer


@dataclass
class TrainConfig:
    arch: str = "default"
    size: int = 28
    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 3e-3
    val_split: float = 0.1
    folds: int = 0
    seed: int = 0
    patience: int = 15
    class_weights: bool = True
    # training only: strokes randomly 1 px thicker or thinner (writer variation). Off by default: on the
    # KMNIST protocol (50 epochs) it measured 0.9388 test accuracy against 0.9514 without (same seed and budget).
    stroke_jitter: bool = False
    # a saved augmentation config (augment.AugmentConfig as a dict), applied in the tf.data pipeline on top of the
    # model's own augmentation layers; its mixup trains on mixed one-hot targets. None = the model's own only.
    # (Mixup α 0.2 on the KMNIST protocol, 50 epochs: validation 0.986 but test 0.9413, against 0.9514 without.)
    augment: dict | None = None
    # imbalance: "weights" = balanced class weights; "oversample" = repeat the crops of small classes (each seen
    # under new random augmentation) until every class is as large as the largest; "none"
    balance: str = "weights"
    # "default": one device; "mirrored": tf.distribute.MirroredStrategy over this host's GPUs (its CPUs' logical
    # devices where it has none), batch_size then being the global batch split across the replicas
    strategy: str = "default"


STRATEGIES = ("default", "mirrored")


def distribution(name: str):
    """The tf.distribute strategy a run trains under (Keras 3 on TensorFlow builds and fits inside its scope).

    Multi-worker training (MultiWorkerMirroredStrategy over several hosts) is not offered: Keras 3 documents it
    as experimental on the TensorFlow backend, it needs TF_CONFIG on every host, and its checkpoints are per
    worker, which the run's single best-on-val_loss checkpoint file does not fit.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name != "mirrored":
        raise ValueError(f"unknown strategy {name!r} (one of {', '.join(STRATEGIES)})")
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


@dataclass
class TrainResult:
    model: keras.Model
    classes: tuple[str, ...]
    history: list[dict]
    temperature: float
    val_metrics: dict
    seconds: float
    best_epoch: int
    config: TrainConfig
    folds: list[dict] = field(default_factory=list)
    replicas: int = 1  # devices the run trained on in sync


def dataset(x: np.ndarray, y: np.ndarray, batch: int, shuffle: bool, seed: int = 0, jitter: bool = False,
            augment: dict | None = None, n_classes: int = 0, repeat: bool = False) -> tf.data.Dataset:
    """images uint8 N×S×S → a cached, (shuffled,) batched, prefetched tf.data pipeline.

    ``repeat`` makes it endless (one reshuffled pass after another, batches never straddle two passes), for
    ``fit(steps_per_epoch=ceil(N / batch))``: one iterator for the whole run.  A new iterator every epoch
    stalled the first step of every other epoch by ~10 s on a 2-core CPU (measured: 20.5 s epochs against 11 s).

    ``augment`` (an :class:`~kuzushi_core.train.augment.AugmentConfig` dict) runs the Augment page's layers on each
    training batch; with mixup the targets become mixed one-hot vectors of ``n_classes``.
    """
    mix = bool(augment and augment.get("mixup_alpha"))
    targets = np.eye(n_classes, dtype=np.float32)[y] if mix else y.astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x[..., None] if x.ndim == 3 else x, targets))
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(y), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch)
    if jitter:  # the Augment page's ink-thickness layer, applied in the pipeline so the model stays plain Keras

        layer = ink_thickness_layer(1, seed=seed)
        ds = ds.map(lambda a, b: (tf.cast(layer(tf.cast(a, tf.float32), training=True), a.dtype), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        from dataclasses import replace

        cfg = replace(from_dict(augment), rescale=1.0)  # the model rescales itself: the pipeline stays 0–255
        aug = build_augment(cfg, seed=seed)
        ds = ds.map(lambda a, b: (tf.clip_by_value(aug(tf.cast(a, tf.float32), training=True), 0.0, 255.0), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
        if mix:
            alpha = float(augment["mixup_alpha"])

            def _mix(a, b):
                g1 = tf.random.gamma(tf.shape(a)[:1], alpha)
                g2 = tf.random.gamma(tf.shape(a)[:1], alpha)
                lam = g1 / (g1 + g2)
                perm = tf.random.shuffle(tf.range(tf.shape(a)[0]))
                la = tf.reshape(lam, (-1, 1, 1, 1))
                lb = tf.reshape(lam, (-1, 1))
                return la * a + (1 - la) * tf.gather(a, perm), lb * b + (1 - lb) * tf.gather(b, perm)

            ds = ds.map(_mix, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE)


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = counts[present].sum() / (present.sum() * counts[present])
    return {i: float(w[i]) for i in range(n_classes)}


def oversample(data: GlyphSet, seed: int = 0) -> GlyphSet:
    """Every present class repeated (with replacement beyond whole copies) up to the largest class's count."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(data.labels, minlength=len(data.classes))
    target = counts.max()
    idx = []
    for c in np.flatnonzero(counts):
        own = np.flatnonzero(data.labels == c)
        reps = np.tile(own, target // len(own))
        extra = rng.choice(own, target - len(reps), replace=False) if target > len(reps) else np.zeros(0, int)
        idx.append(np.concatenate([reps, extra]))
    return data.subset(np.concatenate(idx))


def logits_of(model: keras.Model, x: np.ndarray, batch: int = 512) -> np.ndarray:
    sub = keras.Model(model.inputs, model.get_layer("logits").output)
    return sub.predict(x[..., None] if x.ndim == 3 else x, batch_size=batch, verbose=0)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray, iters: int = 40) -> float:
    """The temperature T minimising validation NLL of softmax(logits / T) (golden-section on log T).

    The NLL is computed as mean(logsumexp(z / T) - z_y / T) in float32, and each step of the search reuses one of
    the two previous evaluations (one NLL a step): 3,172 classes × ~1,000 crops take well under a second."""
    z = np.asarray(logits, np.float32)
    z = z - z.max(1, keepdims=True)  # a row shifted by m: logsumexp(z/T) and z_y/T both move by m/T (no overflow)
    zy = z[np.arange(len(y)), y]

    def f(lt: float) -> float:
        inv = np.float32(np.exp(-lt))
        return float(np.mean(np.log(np.exp(z * inv).sum(1)) - zy * inv))

    a, b = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return float(np.exp((a + b) / 2))


def fold_temperature(model: keras.Model, temperature: float) -> None:
    """Divide the ``logits`` layer (or the layers adding up to it) by T so that the model's softmax is calibrated."""
    for layer in logit_denses(model):
        layer.set_weights([w / temperature for w in layer.get_weights()])


def history_callback():
    """A Keras callback that keeps every epoch's logs (and the seconds since the start) in ``.rows``."""

    class HistoryToList(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rows: list[dict] = []
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            self.rows.append({"epoch": epoch, "seconds": time.time() - self.t0,
                              **{k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}})

    return HistoryToList()


def print_progress(epochs: int):
    """A Keras callback printing one line per epoch on stderr (the CLI's progress)."""

    class PrintProgress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            print(f"epoch {epoch + 1}/{epochs}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}  "
                  f"val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.4f}  "
                  f"{time.time() - self.t0:.0f} s", file=sys.stderr, flush=True)

    return PrintProgress()


def compile_model(model: keras.Model, lr, steps: int | None = None, epochs: int | None = None,
                  onehot: bool = False) -> None:
    if steps and epochs:
        total = steps * epochs
        lr = keras.optimizers.schedules.CosineDecay(
            0.0, total, alpha=0.01, warmup_target=lr, warmup_steps=max(1, total // 20)
        )
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="categorical_crossentropy" if onehot else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def fit_once(
    model: keras.Model,
    train: GlyphSet,
    val: GlyphSet,
    cfg: TrainConfig,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    compile: bool = True,
) -> tuple[list[dict], int]:
    """Fit with early stopping; the weights of the best epoch on val_loss are kept."""
    mix = bool(cfg.augment and cfg.augment.get("mixup_alpha"))
    n = len(train.classes)
    cw = balanced_class_weights(train.labels, n) if cfg.class_weights else None
    if cfg.balance == "oversample":
        train = oversample(train, cfg.seed)
        cw = None
    elif cfg.balance == "none":
        cw = None
    steps = int(np.ceil(len(train) / cfg.batch_size))  # after oversampling: the schedule spans the real run
    if compile:
        compile_model(model, cfg.learning_rate, steps, cfg.epochs, onehot=mix)
    hist = history_callback()
    with tempfile.TemporaryDirectory() as tmp:
        best = Path(tmp) / "best.weights.h5"
        cbs = [
            hist,
            keras.callbacks.ModelCheckpoint(str(best), monitor="val_loss", save_best_only=True, save_weights_only=True),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience),
            *callbacks,
        ]
        # validation targets in the training targets' form; with class weights the validation loss is class-balanced
        # too, so that the best checkpoint is not chosen by the big classes alone (a new class with 2 validation crops
        # would otherwise not count)
        vt = np.eye(n, dtype=np.float32)[val.labels] if mix else val.labels.astype(np.int32)
        if cw:
            vw = balanced_class_weights(val.labels, n)
            sw = np.array([vw[int(c)] for c in val.labels], np.float32)
            val_ds = tf.data.Dataset.from_tensor_slices((val.images[..., None], vt, sw)).batch(512)
        else:
            val_ds = tf.data.Dataset.from_tensor_slices((val.images[..., None], vt)).batch(512)
        model.fit(
            dataset(train.images, train.labels, cfg.batch_size, True, cfg.seed, jitter=cfg.stroke_jitter,
                    augment=cfg.augment, n_classes=n, repeat=True),
            validation_data=val_ds,
            epochs=cfg.epochs,
            steps_per_epoch=steps,
            shuffle=False,  # the pipeline shuffles itself
            class_weight=cw,
            callbacks=cbs,
            verbose=0,
        )
        if best.exists():
            model.load_weights(str(best))
    best_epoch = int(np.argmin([r["val_loss"] for r in hist.rows])) if hist.rows else 0
    return hist.rows, best_epoch


def calibrate_and_report(model: keras.Model, val: GlyphSet) -> tuple[float, dict]:
    logits = logits_of(model, val.images)
    t = fit_temperature(logits, val.labels)
    before = softmax(logits)
    fold_temperature(model, t)
    probs = softmax(logits / t)
    report = classification_report(val.labels, probs.argmax(1), val.classes)
    report["nll"] = nll(probs, val.labels)
    report["ece"] = expected_calibration_error(probs, val.labels)
    report["ece_uncalibrated"] = expected_calibration_error(before, val.labels)
    return t, report


def train(
    data: GlyphSet,
    cfg: TrainConfig,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    model: keras.Model | None = None,
) -> TrainResult:
    """Train ``cfg.arch`` (or the given, already built ``model``) on ``data``.

    Holdout (``cfg.val_split``) or stratified k-fold (``cfg.folds`` ≥ 2): with
    k-fold every fold is trained and reported (mean ± std), and the fold model
    with the lowest validation loss is returned.
    """
    keras.utils.set_random_seed(cfg.seed)
    t0 = time.time()
    if cfg.folds and cfg.folds >= 2:
        splits = kfold(data.labels, cfg.folds, cfg.seed)
    else:
        tr, va = stratified_split(data.labels, [1 - cfg.val_split, cfg.val_split], cfg.seed)
        if len(va) == 0:  # tiny data: hold out one crop of every class that has two or more
            va = np.array([np.flatnonzero(data.labels == c)[-1] for c in np.unique(data.labels)
                           if (data.labels == c).sum() >= 2], np.int64)
            tr = np.setdiff1d(np.arange(len(data)), va)
            if len(va) == 0:
                raise DatasetError("too few labelled crops to hold out a validation set (a class needs two or more)")
        splits = [(tr, va)]
    best: tuple[float, TrainResult] | None = None
    fold_rows = []
    all_history: list[dict] = []
    strategy = distribution(cfg.strategy)
    for k, (tr, va) in enumerate(splits):
        with strategy.scope():  # variables, optimizer and fit on the strategy's devices
            if model is None:
                m = build(cfg.arch, len(data.classes), cfg.size, seed=cfg.seed + k)
            elif k == 0 and cfg.strategy == "default":
                m = model
            else:  # a given model is copied into the scope (and for every further fold)
                m = keras.models.clone_model(model)
                m.set_weights(model.get_weights())
            hist, best_epoch = fit_once(m, data.subset(tr), data.subset(va), cfg, callbacks, compile=True)
        for row in hist:
            row["fold"] = k
        all_history.extend(hist)
        t, report = calibrate_and_report(m, data.subset(va))
        val_loss = min(r["val_loss"] for r in hist)
        fold_rows.append({"fold": k, "val_accuracy": report["accuracy"], "val_loss": val_loss, "best_epoch": best_epoch})
        result = TrainResult(m, data.classes, hist, t, report, 0.0, best_epoch, cfg)
        if best is None or val_loss < best[0]:
            best = (val_loss, result)
    assert best is not None
    res = best[1]
    res.seconds = time.time() - t0
    res.replicas = int(strategy.num_replicas_in_sync)
    if len(splits) > 1:
        accs = np.array([f["val_accuracy"] for f in fold_rows])
        res.folds = fold_rows
        res.val_metrics = {**res.val_metrics, "cv_accuracy_mean": float(accs.mean()), "cv_accuracy_std": float(accs.std())}
        res.history = all_history
    return res


def model_card(result: TrainResult, **extra) -> dict:
    card = {
        "classes": list(result.classes),
        "input": {"height": result.config.size, "width": result.config.size, "channels": 1,
                  "range": "0-255", "polarity": "white ink on black"},
        "architecture": result.config.arch,
        "temperature": result.temperature,
        "training": {"config": asdict(result.config), "seconds": round(result.seconds, 1),
                     "best_epoch": result.best_epoch, "history": result.history, "folds": result.folds,
                     "replicas": result.replicas},
        "validation": {k: v for k, v in result.val_metrics.items() if k != "confusion"},
    }
    card.update(extra)
    return card


def save_weights_only_model(model: keras.Model, out: Path) -> None:
    """Save the model without its optimizer state (Adam's two moments would triple the file): an uncompiled copy."""
    bare = keras.Model.from_config(model.get_config())  # clone_model would copy the compiled optimizer along
    bare.set_weights(model.get_weights())
    bare.save(out)


def save(result: TrainResult, out: str | os.PathLike[str], card_extra: dict | None = None) -> tuple[Path, Path]:
    """Write ``NAME.keras`` and its model card ``NAME.json`` beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_weights_only_model(result.model, out)
    card_path = out.with_suffix(".json")
    card_path.write_text(json.dumps(model_card(result, **(card_extra or {})), ensure_ascii=False, indent=1))
    return out, card_path


def train_cli(data_src, out, cfg: TrainConfig, test=None, command: str | None = None) -> str:
    """What ``python -m kuzushi_core train`` does: train, calibrate, test, write model + card."""
    data = load_source(data_src, cfg.size, "train")
    test_set = None
    if test is not None:
        test_set = load_source(test, cfg.size, "test")
    elif Path(data_src).is_dir() and data.source.startswith("kmnist"):
        test_set = load_source(data_src, cfg.size, "test")
    if test_set is not None:
        assert_disjoint(data, test_set)  # never train on a test image
    result = train(data, cfg, callbacks=[print_progress(cfg.epochs)])
    extra: dict = {
        "data": {"source": data.source, "n_train_total": len(data), "counts": data.counts()},
        "protocol": (f"stratified holdout {cfg.val_split:.0%} of the training data for validation"
                     if not cfg.folds else f"stratified {cfg.folds}-fold cross-validation"),
        "licence": "CC BY-SA 4.0 (trained on data from the Kuzushiji datasets, CODH/NIJL); see README",
        "command": command or f"python -m kuzushi_core train --data {data_src} --out {out}",
    }
    extra["ood"] = fit_ood(result.model, data.images, data.labels, len(data.classes))
    summary = [f"trained {cfg.arch} on {len(data)} glyphs, {len(data.classes)} classes in {result.seconds:.0f} s",
               f"validation accuracy {result.val_metrics['accuracy']:.4f} (T = {result.temperature:.2f})"]
    if test_set is not None:
        probs = result.model.predict(test_set.images[..., None], batch_size=512, verbose=0)
        rep = classification_report(test_set.labels, probs.argmax(1), test_set.classes)
        rep["ece"] = expected_calibration_error(probs, test_set.labels)
        extra["test"] = {"source": test_set.source, **rep}
        summary.append(f"test accuracy {rep['accuracy']:.4f} on {len(test_set)} images ({test_set.source})")
    path, card = save(result, out, extra)
    summary.append(f"saved {path} and {card}")
    return "\n".join(summary)
