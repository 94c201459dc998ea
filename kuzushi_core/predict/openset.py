"""Open set: saying that a crop is none of the model's characters.

A page holds much that is no character of the vocabulary — a name's rare kanji, ruby,
fragments of the printed ruling, stains.  Several scores of how much a crop looks like one
of the classes are measured (``bench/bench_reader.py``) as the AUROC of in-vocabulary real
crops against such crops, and the best one is written into the model card
(``open_set: {method, threshold, scale}``):

* ``msp`` — the largest softmax probability (calibrated by the folded temperature);
* ``maxlogit`` — the largest logit;
* ``energy`` — log Σ exp(logits), the free energy (Liu et al. 2020);
* ``margin`` — top-1 minus top-2 probability.

At inference the confidence of a crop is its top probability times a factor that falls from 1
to 0 as the chosen score drops below its threshold (the score at which 95 % of the
in-vocabulary validation crops stay above it).
"""

from __future__ import annotations

import numpy as np

from kuzushi_core.lazy import keras

METHODS = ("msp", "maxlogit", "energy", "margin")


def logits(lm, glyphs: np.ndarray, batch: int = 512) -> np.ndarray:

    sub = getattr(lm, "_logits", None)
    if sub is None:
        sub = keras.Model(lm.model.inputs, lm.model.get_layer("logits").output)
        lm._logits = sub
    x = glyphs[..., None].astype(np.float32)
    return np.concatenate([np.asarray(sub(x[i : i + batch], training=False)) for i in range(0, len(x), batch)]) \
        if len(x) else np.zeros((0, len(lm.classes)), np.float32)


def scores(z: np.ndarray) -> dict[str, np.ndarray]:
    """Every method's score from logits (higher = more like a known character)."""
    zm = z.max(1, keepdims=True)
    e = np.exp(z - zm)
    p = e / e.sum(1, keepdims=True)
    top2 = -np.sort(-p, axis=1)[:, :2]
    return {
        "msp": top2[:, 0],
        "maxlogit": zm[:, 0],
        "energy": (zm[:, 0] + np.log(e.sum(1))),
        "margin": top2[:, 0] - top2[:, 1],
    }


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random negative (ties half)."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    # average ranks of ties
    vals = allv[order]
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[i]:
            j += 1
        if j > i:
            ranks[order[i : j + 1]] = (i + j + 2) / 2
        i = j + 1
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit(method: str, in_vocab_scores: np.ndarray, quantile: float = 0.05) -> dict:
    """The card entry for ``method``: threshold at the ``quantile`` of in-vocabulary scores, scale = their spread."""
    s = np.asarray(in_vocab_scores, float)
    thr = float(np.quantile(s, quantile))
    scale = float(max(np.quantile(s, 0.5) - thr, 1e-3))
    return {"method": method, "threshold": thr, "scale": scale}


def factor(score: np.ndarray, entry: dict) -> np.ndarray:
    """1 above the threshold, falling smoothly to 0 one scale below it."""
    d = (np.asarray(score, float) - entry["threshold"]) / entry["scale"]
    return np.clip(1.0 + d, 0.0, 1.0) if entry["method"] != "msp" else np.ones_like(d)


def confidence_factor(lm, glyphs: np.ndarray) -> np.ndarray | None:
    entry = lm.card.get("open_set")
    if not entry or len(glyphs) == 0 or entry.get("method") == "msp":
        return None  # the calibrated top probability is the confidence itself
    return factor(scores(logits(lm, glyphs))[entry["method"]], entry)
