"""Inference: load a registered ``.keras`` model safely, classify glyphs in batches.

Confidence is the temperature-scaled softmax probability (the temperature is
folded into the model when it is trained).  Characters outside the model's
classes are common on real pages; an out-of-vocabulary score from the feature
space (distance to the nearest class centroid, stored in the model card) lowers
the confidence of crops unlike anything the model was trained on.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kuzushi_core.containers import Prediction
from kuzushi_core.crops import (
    crop_box,
    to_glyph,
)
from kuzushi_core.errors import ModelFileError
from kuzushi_core.lazy import keras, tf
from kuzushi_core.predict.openset import confidence_factor
from kuzushi_core.segment.columns import segment


@dataclass
class LoadedModel:
    model: Any  # a keras.Model
    classes: tuple[str, ...]
    size: int
    card: dict
    path: Path

    def predict_glyphs(self, glyphs: np.ndarray, batch: int = 256) -> np.ndarray:
        """uint8 N×S×S glyphs → N×C probabilities."""
        if len(glyphs) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        x = glyphs[..., None].astype(np.float32)
        forward = self._forward()
        return np.concatenate([np.asarray(forward(x[i : i + batch])) for i in range(0, len(x), batch)])

    def read_glyphs(self, glyphs: np.ndarray, batch: int = 256, shift: float | None = None) -> np.ndarray:
        """How a page's crops are read: a glyph the reader is not sure of (top probability under :data:`READ_SURE`)
        is also read moved by :data:`READ_SHIFT` of its side left, right, up and down, and the five readings'
        log-probabilities are averaged (test-time augmentation: a segmenter's box is never centred exactly as the
        training crops were). ``shift=0``: the glyph alone (:meth:`predict_glyphs`)."""
        probs = self.predict_glyphs(glyphs, batch)
        px = shift_pixels(self.size, READ_SHIFT if shift is None else shift)
        # (a blank glyph, e.g. the padding of a fixed-size batch, reads the same moved: it is not read again)
        if px == 0 or len(glyphs) == 0:
            return probs
        unsure = np.flatnonzero((probs.max(1) < READ_SURE) & glyphs.reshape(len(glyphs), -1).any(1))
        if len(unsure) == 0:
            return probs
        # the four views of every unsure glyph in one call (one pass of the graph instead of four)
        views = np.concatenate(shifted_views(glyphs[unsure], px))
        logp = np.log(probs[unsure] + 1e-12)
        logp += np.log(self.predict_glyphs(views, batch) + 1e-12).reshape(4, len(unsure), -1).sum(0)
        logp /= 5.0
        p = np.exp(logp - logp.max(1, keepdims=True))
        probs[unsure] = p / p.sum(1, keepdims=True)
        return probs

    def _forward(self):
        """The model's inference as one compiled TensorFlow graph (half the time of calling the Keras model layer by
        layer for a page's few hundred crops), traced once for any batch size."""
        fn = getattr(self, "_compiled", None)
        if fn is None:

            model = self.model
            # the input in the structure the model was built with (a list for some, a bare tensor for others: the
            # other works, but Keras warns at every call)
            listed = isinstance(getattr(model, "_inputs_struct", None), list)

            @tf.function(input_signature=[tf.TensorSpec([None, self.size, self.size, 1], tf.float32)])
            def fn(t):
                return model([t] if listed else t, training=False)

            self._compiled = fn
        return fn


#: test-time shift, as a fraction of the glyph's side (2 of 28 pixels: the middle of the 1–3 tried). Measured on the
#: shared pages read by readers that never saw them (bench/bench_context.py, README "A crop read five times"): top-1
#: on true boxes 0.502 → 0.538 with the fold readers (shifts of 1, 2, 3 pixels: all +3.6 to +4.9 points), 0.347 →
#: 0.360 with reader-nopages; in context 0.609 → 0.622 with the fold readers (reader-nopages: 0.391 → 0.373, the
#: same weights); KMNIST test unchanged (±0.1 point)
READ_SHIFT = 2 / 28
#: a glyph read at least this sure alone is not read again (on the shared pages the shifted views change no reading
#: above 0.9; they are computed for 60–73 % of a book page's crops and far fewer of a register's)
READ_SURE = 0.9


def shift_pixels(size: int, fraction: float) -> int:
    return int(round(fraction * size)) if fraction > 0 else 0


def shifted_views(glyphs: np.ndarray, px: int) -> list[np.ndarray]:
    """N×S×S glyphs moved by ``px`` pixels right, left, down and up (background 0 comes in at the edge)."""
    views = []
    for axis, step in ((2, px), (2, -px), (1, px), (1, -px)):
        v = np.zeros_like(glyphs)
        src = [slice(None)] * 3
        dst = [slice(None)] * 3
        src[axis] = slice(0, -step) if step > 0 else slice(-step, None)
        dst[axis] = slice(step, None) if step > 0 else slice(0, step)
        v[tuple(dst)] = glyphs[tuple(src)]
        views.append(v)
    return views


def load_card(path: Path) -> dict:
    card_path = path.with_suffix(".json")
    if not card_path.exists():
        raise ModelFileError(f"{path.name}: its model card {card_path.name} is missing (it lists the classes).")
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{card_path.name} is not a readable model card: {exc}") from exc


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Load with Keras safe mode on and check input shape and class list against the card."""

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"There is no model file at {path}.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not a Keras model file (.keras is a zip archive).")
    card = load_card(path)
    classes = tuple(card.get("classes") or ())
    if not classes or not all(isinstance(c, str) and c for c in classes):
        raise ModelFileError(f"{path.name}: the model card has no list of classes.")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - anything from an untrusted file is a refusal
        raise ModelFileError(f"{path.name} cannot be loaded safely: {str(exc).splitlines()[0][:200]}") from exc
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 1 or shape[1] not in (28, 64):
        raise ModelFileError(f"{path.name} expects input {shape[1:]}; Kuzushi Lab models take 28×28×1 or 64×64×1.")
    n_out = model.output_shape[-1]
    if n_out != len(classes):
        raise ModelFileError(f"{path.name} has {n_out} outputs but its card lists {len(classes)} classes.")
    return LoadedModel(model, classes, int(shape[1]), card, path)


def top_k(probs: np.ndarray, classes: tuple[str, ...], k: int = 5, ood: np.ndarray | None = None) -> list[Prediction]:
    out = []
    k = min(k, probs.shape[1])
    for i, p in enumerate(probs):
        order = np.argsort(-p)[:k]
        conf = float(p[order[0]])
        if ood is not None:
            conf *= float(ood[i])
        out.append(
            Prediction(
                label=classes[order[0]],
                confidence=round(conf, 4),
                candidates=tuple((classes[j], round(float(p[j]), 4)) for j in order),
            )
        )
    return out


def classify_crops(lm: LoadedModel, crops: list[np.ndarray], k: int = 5, shift: float | None = None
                   ) -> list[Prediction]:
    """Crops of either polarity, any size → predictions (batched); an unsure glyph read in shifted views too
    (:meth:`LoadedModel.read_glyphs`; ``shift=0``: each crop once)."""
    glyphs = np.stack([to_glyph(c, lm.size) for c in crops]) if crops else np.zeros((0, lm.size, lm.size), np.uint8)
    probs = lm.read_glyphs(glyphs, shift=shift)
    return top_k(probs, lm.classes, k, ood_factor(lm, glyphs))


def ood_factor(lm: LoadedModel, glyphs: np.ndarray) -> np.ndarray | None:
    """1 for crops near a class centroid in feature space, falling towards 0 far from all of them."""
    if lm.card.get("open_set") and not lm.card.get("ood"):
        return confidence_factor(lm, glyphs)
    ood = lm.card.get("ood")
    if not ood or len(glyphs) == 0:
        return None

    feats_model = getattr(lm, "_feats", None)
    if feats_model is None:
        feats_model = keras.Model(lm.model.inputs, lm.model.get_layer(ood["layer"]).output)
        lm._feats = feats_model  # type: ignore[attr-defined]
    f = np.asarray(feats_model([glyphs[..., None].astype(np.float32)], training=False))
    f = f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-8)
    centroids = np.asarray(ood["centroids"], np.float32)
    d = 1.0 - (f @ centroids.T).max(1)  # cosine distance to the nearest class centroid
    scale = float(ood["threshold"])
    return np.clip(np.exp(-np.maximum(d - scale, 0.0) / max(scale, 1e-6) * 3.0), 0.0, 1.0)


MAX_CENTROID_CLASSES = 500


def fit_ood(model, glyphs: np.ndarray, labels: np.ndarray, n_classes: int, layer: str = "head_dense",
            quantile: float = 0.95) -> dict | None:
    """Class centroids (unit-normalised features) and the distance most training crops stay within.

    None for a model of more than :data:`MAX_CENTROID_CLASSES` classes: the centroids would make the card tens of
    megabytes, and for the reader the open-set score is chosen by measurement instead (``card["open_set"]``).
    """

    if n_classes > MAX_CENTROID_CLASSES:
        return None

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    f = np.asarray(sub.predict(glyphs[..., None], batch_size=512, verbose=0))
    f = f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-8)
    # a class without training crops here (e.g. an old class kept by transfer learning without rehearsal) gets a
    # zero centroid: cosine similarity 0 to everything, so it is never the nearest and never a NaN
    cents = np.stack([f[labels == c].mean(0) if (labels == c).any() else np.zeros(f.shape[1], f.dtype)
                      for c in range(n_classes)])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-8
    d = 1.0 - (f @ cents.T).max(1)
    return {"layer": layer, "centroids": np.round(cents, 5).tolist(), "threshold": float(np.quantile(d, quantile))}


def read_page(lm: LoadedModel, img: np.ndarray, params=None):
    """Segment a page and classify every box: (Segmentation, [Prediction, ...]) in reading order."""
    seg = segment(img, params)
    crops = [crop_box(img, b.x, b.y, b.w, b.h) for b in seg.boxes]
    return seg, classify_crops(lm, crops)
