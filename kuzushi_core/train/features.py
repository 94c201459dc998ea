"""Training on cached features: the frozen part of a model runs once per glyph, the trainable top on arrays.

The lecture notes' recipe for feature extraction (base → feature array → a small head), generalised:

* a model is cut at a layer (:func:`cut_layer`): ``features`` for feature extraction, the input of the top
  ``unfreeze`` conv blocks for fine-tuning.  :func:`bottom` is everything below the cut (plus the
  specialist's log-probabilities of a reader with a KMNIST specialist, which read the glyph itself);
  :func:`top` is the rest up to the logits, built from the *same layer objects*, so training the top trains
  the model.  Batch normalisation in the top stays frozen (inference mode), as before.
* The bottom's output for a glyph never changes while the top trains, so it is computed once: a run's own
  crops once per run, and the rehearsal set of a base model of thousands of classes (renders of every class
  and KMNIST's training split) once per base, kept on disk under :func:`cache_root` by a hash of the
  bottom's weights (:func:`rehearsal`).  A model trained from that base keeps the same bottom, so its runs
  reuse the same cache.

Augmentation cannot run inside the model on cached features; a run's own crops are expanded before the cut
instead (re-cuts of the page box, and the model's own rotation/shift/zoom: :func:`augmented`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kuzushi_core.data.datasets import (
    KMNIST_CLASSES,
    GlyphSet,
    kmnist_split,
    per_class_sample,
)
from kuzushi_core.errors import FeatureError
from kuzushi_core.lazy import keras, tf
from kuzushi_core.paths import data_dir as default_data
from kuzushi_core.synth import dataset as sd
from kuzushi_core.synth.fonts import cache_dir, held_out
from kuzushi_core.train.architectures import FEATURES, class_logits, conv_blocks
from kuzushi_core.train.fit import history_callback

SPECIALIST_PARTS = ("specialist", "specialist_log_probs", "specialist_logits")
CACHE_VERSION = 1


def cache_root() -> Path:
    """Where feature caches live: ``$KUZUSHI_CACHE/features`` (default ``~/.cache/kuzushi-lab/features``)."""
    return cache_dir() / "features"


def has_specialist(model) -> bool:
    return any(layer.name == "specialist" for layer in model.layers)


def cut_layer(model, mode: str, unfreeze: int = 1) -> str:
    """The layer whose output is cached: ``features`` (feature extraction), or the layer feeding the first conv of
    the top ``unfreeze`` blocks (fine-tuning)."""
    names = [layer.name for layer in model.layers]
    if FEATURES not in names:
        raise FeatureError(f"the model has no layer named {FEATURES!r} (its feature extractor's end)")
    if mode == "feature-extraction":
        return FEATURES
    if mode != "fine-tune":
        raise FeatureError(f"cached features serve feature extraction and fine-tuning, not {mode!r}")
    blocks = conv_blocks(model)
    if unfreeze < 1:
        raise FeatureError("fine-tuning unfreezes at least one conv block")
    if unfreeze > len(blocks):
        raise FeatureError(f"the base has {len(blocks)} conv blocks; cannot unfreeze {unfreeze}")
    first = f"{blocks[-unfreeze]}_conv"
    i = names.index(first)
    return names[i - 1]


def _chain(model, cut: str) -> list:
    """The layers after ``cut`` up to the class logits, in order (the specialist's branch left out)."""
    names = [layer.name for layer in model.layers]
    last = class_logits(model)
    out = []
    for layer in model.layers[names.index(cut) + 1:]:
        if layer.name in SPECIALIST_PARTS:
            continue
        out.append(layer)
        if layer is last:
            return out
    raise FeatureError("the model's layers after the cut do not end in its class logits")


def top(model, cut: str):
    """The trainable top: (cut output[, specialist log-probs]) → logits, sharing ``model``'s layers."""
    layers = keras.layers

    shape = tuple(int(d) for d in model.get_layer(cut).output.shape[1:])
    inp = keras.Input((int(np.prod(shape)),), name="cut")  # the cache holds each glyph's output flattened
    x = layers.Reshape(shape, name="cut_shape")(inp) if len(shape) > 1 else inp
    for layer in _chain(model, cut):
        # everything above the cut trains but batch normalisation, which stays in inference mode (the big data
        # set's statistics are kept: a few dozen crops would ruin them)
        layer.trainable = not isinstance(layer, layers.BatchNormalization)
        x = layer(x)
    if not has_specialist(model):
        return keras.Model(inp, x, name="top")
    k = int(model.get_layer("specialist_log_probs").output.shape[-1])
    s = keras.Input((k,), name="specialist_log_probs_in")
    proj = model.get_layer("specialist_logits")
    proj.trainable = False
    x = layers.Add(name="top_logits")([x, proj(s)])
    return keras.Model([inp, s], x, name="top")


def bottom(model, cut: str):
    """glyph → [cut output, specialist log-probs] (the second only for a reader with a specialist)."""

    outs = [model.get_layer(cut).output]
    if has_specialist(model):
        outs.append(model.get_layer("specialist_log_probs").output)
    return keras.Model(model.inputs, outs, name="bottom")


def compute(model, cut: str, glyphs: np.ndarray, batch: int = 512,
            progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """The bottom's outputs for uint8 N×S×S glyphs (inference mode), as float16 arrays."""

    b = bottom(model, cut)
    size = int(model.input_shape[1])
    listed = isinstance(getattr(b, "_inputs_struct", None), list)

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 1], tf.float32)])
    def fn(t):
        out = b([t] if listed else t, training=False)
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        return [tf.reshape(o, (tf.shape(o)[0], -1)) for o in out]

    parts: list[list[np.ndarray]] = []
    for i in range(0, len(glyphs), batch):
        out = fn(tf.constant(glyphs[i: i + batch, ..., None], tf.float32))
        parts.append([np.asarray(o, np.float16) for o in out])
        if progress:
            progress(min(i + batch, len(glyphs)), len(glyphs))
    n_out = 2 if has_specialist(model) else 1
    if not parts:
        dims = [int(np.prod(model.get_layer(cut).output.shape[1:]))]
        if n_out == 2:
            dims.append(int(model.get_layer("specialist_log_probs").output.shape[-1]))
        return [np.zeros((0, d), np.float16) for d in dims]
    return [np.concatenate([p[j] for p in parts]) for j in range(n_out)]


def bottom_key(model, cut: str) -> str:
    """A hash of every weight the bottom uses (the layers up to ``cut`` and the specialist): a model trained above
    the cut of another shares its key."""
    h = hashlib.sha256(f"v{CACHE_VERSION}:{cut}:{model.input_shape}".encode())
    names = [layer.name for layer in model.layers]
    for layer in model.layers[: names.index(cut) + 1] + [layer for layer in model.layers
                                                         if layer.name in SPECIALIST_PARTS[:1]]:
        for w in layer.weights:
            h.update(layer.name.encode())
            h.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    return h.hexdigest()[:20]


@dataclass
class Features:
    """Cached bottom outputs of a labelled set: ``x`` (one array per top input), labels as class indices into
    ``classes``."""

    x: list[np.ndarray]
    labels: np.ndarray
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> Features:
        return Features([a[idx] for a in self.x], self.labels[idx], self.classes)


def of(model, cut: str, data: GlyphSet) -> Features:
    return Features(compute(model, cut, data.images), data.labels.copy(), data.classes)


def concat(parts: Sequence[Features], classes: Sequence[str]) -> Features:
    """Features of several sets, relabelled to ``classes`` (every part's classes must be among them)."""
    index = {c: i for i, c in enumerate(classes)}
    ys = []
    for p in parts:
        remap = np.array([index[c] for c in p.classes], np.int64) if p.classes else np.zeros(0, np.int64)
        ys.append(remap[p.labels] if len(p.labels) else np.zeros(0, np.int64))
    n_in = len(parts[0].x)
    x = [np.concatenate([p.x[j] for p in parts]) for j in range(n_in)]
    return Features(x, np.concatenate(ys), tuple(classes))


# -- the rehearsal cache of a base model -------------------------------------------------------------------
REHEARSAL_RENDERS = 2      # renders of every class (fonts × brush-and-paper augmentation)
REHEARSAL_KMNIST = 150     # KMNIST training-split images of each of its 10 kana
CHECK_RENDER_SEED = 7_777  # one further render of every class, never trained on: the old classes' check


@dataclass
class Rehearsal:
    """What a base model already reads, as cached features: ``train`` (rehearsal), and two checks never trained on:
    ``kmnist_val`` (KMNIST's validation split, as the reader's recipe keeps it apart) and ``renders`` (one fresh
    render of every class)."""

    train: Features
    kmnist_val: Features
    renders: Features
    key: str
    seconds: float
    path: Path
    built: bool


def rehearsal(lm, cut: str, data_dir: Path | None = None, renders: int = REHEARSAL_RENDERS,
              kmnist: int = REHEARSAL_KMNIST, seed: int = 0,
              progress: Callable[[str, float], None] | None = None) -> Rehearsal:
    """The rehearsal set of ``lm`` (a :class:`~kuzushi_core.predict.classifier.LoadedModel`) cut at ``cut``: loaded from the
    cache, else made (renders from :mod:`kuzushi_core.synth`, themselves cached) and written there.

    Renders of every class only where the fonts draw it; the KMNIST parts only for the kana a model knows and only
    when the KMNIST files are there.
    """
    key = bottom_key(lm.model, cut)
    classes_key = hashlib.sha256("\x1f".join(lm.classes).encode()).hexdigest()[:10]
    held = sorted(held_out())  # renders without a held-out hand are another rehearsal set (bench_adapt, registers)
    held_key = "-h" + hashlib.sha256(",".join(held).encode()).hexdigest()[:6] if held else ""
    path = cache_root() / f"{key}-{classes_key}-r{renders}-k{kmnist}-s{seed}{held_key}.npz"
    t0 = time.time()
    if path.exists():
        try:
            out = _load_rehearsal(path, lm.classes, time.time() - t0)
            remember_rehearsal(lm.path, path.name)
            return out
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a broken cache is made again
    say = progress or (lambda msg, frac: None)

    say("rendering every class", 0.0)
    known = set(lm.classes)
    tr = sd.make(sd.plain_jobs(lm.classes, renders, seed + 31), processes=1, classes=lm.classes,
                 progress=lambda k, n, s: say(f"rendering every class ({k}/{n})", 0.6 * k / n)) \
        if renders else GlyphSet(np.zeros((0, lm.size, lm.size), np.uint8), np.zeros(0, np.int64), lm.classes)
    check = sd.make(sd.plain_jobs(lm.classes, 1, seed + CHECK_RENDER_SEED), processes=1, classes=lm.classes)
    km_tr = km_va = GlyphSet(np.zeros((0, lm.size, lm.size), np.uint8), np.zeros(0, np.int64), lm.classes)
    kdir = Path(data_dir or default_data()) / "kmnist"
    if kmnist and kdir.is_dir():
        if set(KMNIST_CLASSES) <= known:
            a, b = kmnist_split(kdir.parent, seed)
            km_tr = _resized(per_class_sample(a, kmnist, seed), lm.size)
            km_va = _resized(b, lm.size)
    say("computing features", 0.7)
    f_tr = [of(lm.model, cut, tr), of(lm.model, cut, km_tr)]
    train = concat(f_tr, lm.classes)
    out = Rehearsal(train, concat([of(lm.model, cut, km_va)], lm.classes), concat([of(lm.model, cut, check)],
                                                                                  lm.classes),
                    key, 0.0, path, True)
    path.parent.mkdir(parents=True, exist_ok=True)
    remember_rehearsal(lm.path, path.name)
    tmp = path.with_name(path.stem + ".tmp.npz")
    arrays: dict[str, np.ndarray] = {}
    for name in ("train", "kmnist_val", "renders"):
        f: Features = getattr(out, name)
        for j, part in enumerate(f.x):
            arrays[f"{name}_x{j}"] = part
        arrays[f"{name}_y"] = f.labels
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its own keywords
    os.replace(tmp, path)
    out.seconds = time.time() - t0
    say("rehearsal features ready", 1.0)
    return out


def _file_id(model_path: Path) -> str:
    st = Path(model_path).stat()
    return f"{Path(model_path).resolve()}|{st.st_size}|{int(st.st_mtime)}"


def remember_rehearsal(model_path: Path, cache_name: str) -> None:
    """Note which cache file a model file's rehearsal went to (so a page can tell, without loading the model,
    whether a run will have to build it first)."""
    import json

    index = cache_root() / "index.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8")) if index.exists() else {}
        data[_file_id(model_path)] = cache_name
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    except (OSError, ValueError):
        pass  # only an estimate depends on it


def rehearsal_ready(model_path: str | os.PathLike[str]) -> bool:
    """Whether a run from this model file finds its rehearsal features already cached (for the time estimate)."""
    import json

    index = cache_root() / "index.json"
    try:
        name = json.loads(index.read_text(encoding="utf-8")).get(_file_id(Path(model_path)))
    except (OSError, ValueError):
        return False
    return bool(name) and (cache_root() / name).exists()


def _resized(g: GlyphSet, size: int) -> GlyphSet:
    if g.images.shape[1] == size:
        return g
    import cv2

    return GlyphSet(np.stack([cv2.resize(i, (size, size)) for i in g.images]), g.labels, g.classes, g.source)


def _load_rehearsal(path: Path, classes: tuple[str, ...], seconds: float) -> Rehearsal:
    with np.load(path) as z:
        parts = {}
        for name in ("train", "kmnist_val", "renders"):
            xs = [z[k] for k in sorted(k for k in z.files if k.startswith(f"{name}_x"))]
            parts[name] = Features(xs, z[f"{name}_y"], classes)
    return Rehearsal(parts["train"], parts["kmnist_val"], parts["renders"], path.name.split("-")[0], seconds,
                     path, False)


# -- training the top ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopConfig:
    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 1e-3
    patience: int = 4
    seed: int = 0


def fit_top(t, train: Features, val: Features, cfg: TopConfig, sample_weight: np.ndarray | None = None,
            callbacks: Sequence = (), val_weight: np.ndarray | None = None) -> list[dict]:
    """Fit the top on cached features; the weights of the epoch with the lowest val_loss are kept.  Returns one row
    per epoch (loss, accuracy, val_loss, val_accuracy, seconds)."""
    import tempfile



    keras.utils.set_random_seed(cfg.seed)
    steps = max(1, int(np.ceil(len(train) / cfg.batch_size)))
    total = steps * cfg.epochs
    lr = keras.optimizers.schedules.CosineDecay(0.0, total, alpha=0.05, warmup_target=cfg.learning_rate,
                                                warmup_steps=max(1, total // 20))
    t.compile(optimizer=keras.optimizers.Adam(lr),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = history_callback()
    x = [a.astype(np.float32) for a in train.x]
    vx = [a.astype(np.float32) for a in val.x]
    with tempfile.TemporaryDirectory() as tmp:
        best = Path(tmp) / "best.weights.h5"
        t.fit(x if len(x) > 1 else x[0], train.labels, sample_weight=sample_weight, batch_size=cfg.batch_size,
              epochs=cfg.epochs, shuffle=True, verbose=0,
              validation_data=(vx if len(vx) > 1 else vx[0], val.labels, val_weight)
              if val_weight is not None else (vx if len(vx) > 1 else vx[0], val.labels),
              callbacks=[hist,
                         keras.callbacks.ModelCheckpoint(str(best), monitor="val_loss", save_best_only=True,
                                                         save_weights_only=True),
                         keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience),
                         *callbacks])
        if best.exists():
            t.load_weights(str(best))
    return hist.rows


def top_logits(t, f: Features, batch: int = 1024) -> np.ndarray:
    if len(f) == 0:
        return np.zeros((0, int(t.output_shape[-1])), np.float32)
    x = [a.astype(np.float32) for a in f.x]
    return np.asarray(t.predict(x if len(x) > 1 else x[0], batch_size=batch, verbose=0))
