"""Evaluation: accuracy, per-class precision/recall/F1 (macro and weighted), confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict:
    """Rows of the confusion matrix are the true class, columns the predicted one."""
    n = len(classes)
    cm = confusion_matrix(y_true, y_pred, n)
    tp = np.diag(cm).astype(float)
    support = cm.sum(1).astype(float)
    predicted = cm.sum(0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = support > 0
    total = support.sum()
    per_class = {
        c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
        for i, c in enumerate(classes)
    }
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "n": int(total),
        "macro": {
            "precision": float(precision[present].mean()) if present.any() else 0.0,
            "recall": float(recall[present].mean()) if present.any() else 0.0,
            "f1": float(f1[present].mean()) if present.any() else 0.0,
        },
        "weighted": {
            "precision": float((precision * support).sum() / total) if total else 0.0,
            "recall": float((recall * support).sum() / total) if total else 0.0,
            "f1": float((f1 * support).sum() / total) if total else 0.0,
        },
        "per_class": per_class,
        "confusion": cm.tolist(),
    }


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0))))


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


# -- error analysis ------------------------------------------------------------------
def most_confused_pairs(cm: np.ndarray, classes: Sequence[str], k: int = 10) -> list[tuple[str, str, int]]:
    """``(true, predicted, count)`` of the largest off-diagonal cells, largest first."""
    cm = np.asarray(cm)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    idx = np.dstack(np.unravel_index(np.argsort(-off, axis=None), off.shape))[0]
    return [(classes[i], classes[j], int(off[i, j])) for i, j in idx[:k] if off[i, j] > 0]


def sample_losses(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cross-entropy of every sample; ``y`` = -1 (a character outside the model's classes) counts as maximal."""
    p = np.where(y >= 0, probs[np.arange(len(y)), np.clip(y, 0, None)], 0.0)
    return -np.log(np.clip(p, 1e-12, 1.0))


def top_losses(probs: np.ndarray, y: np.ndarray, k: int | None = None) -> np.ndarray:
    """Indices of the misclassified samples, highest loss first (the ones to look at first)."""
    wrong = np.flatnonzero(probs.argmax(1) != y)
    order = wrong[np.argsort(-sample_losses(probs, y)[wrong], kind="stable")]
    return order if k is None else order[:k]


def reliability_curve(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Per confidence bin: mean confidence, accuracy and count (a calibrated model sits on the diagonal)."""
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            out.append({"lo": float(lo), "hi": float(hi), "confidence": float(conf[m].mean()),
                        "accuracy": float(correct[m].mean()), "n": int(m.sum())})
    return out


def compare_versions(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict[str, np.ndarray]:
    """Which samples model B fixed (A wrong, B right) and which it broke (A right, B wrong)."""
    a_ok, b_ok = pred_a == y, pred_b == y
    return {"fixed": np.flatnonzero(~a_ok & b_ok), "broke": np.flatnonzero(a_ok & ~b_ok),
            "both_wrong": np.flatnonzero(~a_ok & ~b_ok)}


# -- learning curves -------------------------------------------------------------------
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


def mean_curves(rows: Sequence[dict]) -> list[dict]:
    """Per epoch: mean and std over folds of each curve (one fold: std 0)."""
    by_epoch: dict[int, list[dict]] = {}
    for r in rows:
        by_epoch.setdefault(int(r["epoch"]), []).append(r)
    out = []
    for e in sorted(by_epoch):
        rs = by_epoch[e]
        row: dict = {"epoch": e, "folds": len(rs)}
        for k in CURVE_KEYS:
            vals = [float(r[k]) for r in rs if k in r]
            if vals:
                row[k] = float(np.mean(vals))
                row[k + "_std"] = float(np.std(vals))
        out.append(row)
    return out


def overfitting_onset(rows: Sequence[dict], patience: int = 2) -> int | None:
    """The epoch after which validation loss rose for ``patience`` epochs while training loss kept falling.

    That is the picture the course teaches for overfitting; ``None`` when the curves do not show it.
    """
    curve = [r for r in mean_curves(rows) if "loss" in r and "val_loss" in r]
    if len(curve) < patience + 2:
        return None
    vals = [r["val_loss"] for r in curve]
    best = int(np.argmin(vals))
    after = curve[best:]
    if len(after) <= patience:
        return None
    rising = all(after[i + 1]["val_loss"] > after[i]["val_loss"] for i in range(patience))
    falling = after[patience]["loss"] < after[0]["loss"]
    return curve[best]["epoch"] if rising and falling else None
