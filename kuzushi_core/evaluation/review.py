"""Error review: a model against the workspace's labels (or any labelled glyph set), and the
uncertainty queue ("label these next").

An :class:`Evaluation` keeps every sample (glyph, truth, prediction, top-3,
loss) so that the Evaluate page can show the cell of the confusion matrix a
user clicked, the misclassified crops ordered by loss, and what changed between
two model versions.  Characters outside the model's classes (common on real
ledgers) are kept as their own rows: they are errors the model cannot avoid,
and the page says so instead of hiding them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kuzushi_core.containers import CharBox, Prediction
from kuzushi_core.data.datasets import workspace_items
from kuzushi_core.evaluation.metrics import (
    classification_report,
    compare_versions,
    expected_calibration_error,
    most_confused_pairs,
    reliability_curve,
    sample_losses,
    top_losses,
)
from kuzushi_core.predict.classifier import LoadedModel
from kuzushi_core.store import Store


@dataclass(frozen=True)
class ReviewItem:
    """One evaluated sample: where it is (box and scan, when it comes from the workspace) and what the model said."""

    index: int
    truth: str
    predicted: str
    confidence: float
    top3: tuple[tuple[str, float], ...]
    loss: float
    box_id: int | None = None
    scan_id: int | None = None

    @property
    def correct(self) -> bool:
        return self.truth == self.predicted


@dataclass
class Evaluation:
    """A model on a labelled set: report (accuracy, per-class P/R/F1, confusion), items, calibration."""

    model_classes: tuple[str, ...]
    classes: tuple[str, ...]  # model classes, then the set's characters the model does not know
    items: list[ReviewItem]
    glyphs: np.ndarray
    report: dict
    pairs: list[tuple[str, str, int]]
    reliability: list[dict]
    ece: float
    out_of_vocabulary: int
    predicted_index: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))

    def cell(self, truth: str, predicted: str) -> list[ReviewItem]:
        return [it for it in self.items if it.truth == truth and it.predicted == predicted]

    def misclassified(self) -> list[ReviewItem]:
        return [self.items[i] for i in self._order]

    _order: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))


def evaluate_glyphs(lm: LoadedModel, glyphs: np.ndarray, truths: list[str], box_ids: list[int] | None = None,
                    scan_ids: list[int] | None = None, as_read: bool = False) -> Evaluation:
    """The model on glyphs with their true characters; ``as_read``: each glyph read as a page's crop is
    (:meth:`LoadedModel.read_glyphs`, the shifted views averaged), so that the scores are those of the Read page."""
    predict = lm.read_glyphs if as_read else lm.predict_glyphs
    probs = predict(glyphs) if len(glyphs) else np.zeros((0, len(lm.classes)), np.float32)
    return evaluation_from_probs(lm.classes, probs, glyphs, truths, box_ids, scan_ids)


def evaluation_from_probs(model_classes: tuple[str, ...], probs: np.ndarray, glyphs: np.ndarray, truths: list[str],
                          box_ids: list[int] | None = None, scan_ids: list[int] | None = None) -> Evaluation:
    index = {c: i for i, c in enumerate(model_classes)}
    extra = sorted(set(truths) - set(model_classes))
    pred = probs.argmax(1) if len(probs) else np.zeros(0, np.int64)
    # the report's classes: the model's classes that occur (as truth or prediction) in their output order — a model
    # of thousands of classes would otherwise make a confusion matrix of millions of empty cells — then the
    # characters the model does not know
    used = set(truths) | {model_classes[j] for j in pred}
    classes = tuple(c for c in model_classes if c in used) + tuple(extra)
    all_index = {c: i for i, c in enumerate(classes)}
    y_model = np.array([index.get(c, -1) for c in truths], np.int64)
    y_all = np.array([all_index[c] for c in truths], np.int64)
    pred_all = np.array([all_index[model_classes[j]] for j in pred], np.int64)
    losses = sample_losses(probs, y_model) if len(probs) else np.zeros(0)
    items = []
    for i in range(len(truths)):
        order = np.argsort(-probs[i])[:3]
        items.append(ReviewItem(i, truths[i], model_classes[pred[i]], float(probs[i, pred[i]]),
                                tuple((model_classes[j], float(probs[i, j])) for j in order), float(losses[i]),
                                box_ids[i] if box_ids else None, scan_ids[i] if scan_ids else None))
    report = classification_report(y_all, pred_all, classes)
    known = y_model >= 0
    ev = Evaluation(
        model_classes=tuple(model_classes), classes=classes, items=items, glyphs=glyphs, report=report,
        pairs=most_confused_pairs(np.array(report["confusion"]), classes),
        reliability=reliability_curve(probs[known], y_model[known]) if known.any() else [],
        ece=expected_calibration_error(probs[known], y_model[known]) if known.any() else 0.0,
        out_of_vocabulary=int((~known).sum()), predicted_index=pred_all,
    )
    ev._order = top_losses(probs, y_model) if len(probs) else np.zeros(0, int)
    report["accuracy_in_vocabulary"] = float((pred[known] == y_model[known]).mean()) if known.any() else 0.0
    report["n_in_vocabulary"] = int(known.sum())
    return ev


def evaluate_workspace(store: Store, lm: LoadedModel, scan_ids: set[int] | None = None,
                       labelled_by: str | None = None) -> Evaluation:
    """The model on every labelled (not excluded) box of the workspace — with ``labelled_by``, on the labels that
    person gave: the domain-shift measurement."""
    glyphs, chars, box_ids, scans = workspace_items(store, lm.size, scan_ids, labelled_by)
    return evaluate_glyphs(lm, glyphs, chars, box_ids, scans, as_read=True)


def to_confirm(ev: Evaluation, people: dict[int, tuple[str, tuple[str, ...]]], author: str,
               reviewer: str) -> list[ReviewItem]:
    """A review of one person's labels by another: the items whose current label ``author`` gave and ``reviewer``
    has not confirmed, the ones the model disagrees with most first (highest loss). ``people`` is
    :meth:`Store.label_people`."""
    if not reviewer or reviewer == author:
        return []
    items = [it for it in ev.items if it.box_id is not None and it.box_id in people
             and people[it.box_id][0] == author and reviewer not in people[it.box_id][1]]
    return sorted(items, key=lambda it: -it.loss)


def label_kinds(store: Store, box_ids: list[int]) -> dict[int, str]:
    """For each labelled box: ``correction`` when the label differs from the reading shown when it was given (the
    earliest stored prediction made before the label), ``confirmation`` when it agrees, ``unread`` when no reading
    preceded it (imported transcriptions, boxes labelled before any model read them)."""
    labels = store.current_labels()
    out: dict[int, str] = {}
    with store.read() as con:
        for b in box_ids:
            lab = labels.get(b)
            if lab is None:
                continue
            row = con.execute("SELECT label FROM predictions WHERE box_id = ? AND created_at <= ? "
                              "ORDER BY created_at, model_id LIMIT 1", (b, lab.created_at)).fetchone()
            out[b] = "unread" if row is None else ("confirmation" if row["label"] == lab.char else "correction")
    return out


def accuracy_by_kind(ev: Evaluation, kinds: dict[int, str]) -> dict[str, tuple[float, int]]:
    """The evaluation's accuracy over corrections, confirmations and unread labels apart: (accuracy, n)."""
    out = {}
    for kind in ("correction", "confirmation", "unread"):
        items = [it for it in ev.items if it.box_id is not None and kinds.get(it.box_id) == kind]
        if items:
            out[kind] = (float(np.mean([it.truth == it.predicted for it in items])), len(items))
    return out


def compare(ev_a: Evaluation, ev_b: Evaluation) -> dict[str, list[int]]:
    """Item indices model B fixed / broke against model A on the same set (same order of samples)."""
    if [it.truth for it in ev_a.items] != [it.truth for it in ev_b.items]:
        raise ValueError("the two evaluations are not on the same samples")
    truth = np.array([it.truth for it in ev_a.items], object)
    pa = np.array([it.predicted for it in ev_a.items], object)
    pb = np.array([it.predicted for it in ev_b.items], object)
    return {k: v.tolist() for k, v in compare_versions(truth, pa, pb).items()}


QUEUE_ORDERS = ("gain", "uncertainty", "random")


def expected_gain(pred: Prediction, counts: dict[str, int]) -> float:
    """How much labelling a box is expected to teach: its uncertainty (1 − confidence) × how often its candidates
    occur in the document (Σ p(candidate) · readings of that character in the document).  A doubt about a
    character the book uses everywhere is worth more than one about a character seen once."""
    freq = sum(p * counts.get(c, 0) for c, p in pred.candidates)
    return (1.0 - pred.confidence) * (1.0 + freq)


def uncertainty_queue(store: Store, model_id: int, limit: int = 100, scan_ids: set[int] | None = None,
                      order: str = "gain", seed: int = 0) -> list[tuple[CharBox, Prediction]]:
    """Unlabelled, read boxes across the workspace (or ``scan_ids``) in the order to label them next: by expected
    gain (:func:`expected_gain`, the default), least confident first, or at random (the benchmark's baseline)."""
    if order not in QUEUE_ORDERS:
        raise ValueError(f"order must be one of {', '.join(QUEUE_ORDERS)}")
    preds = store.all_predictions(model_id)
    labels = store.current_labels()
    out = []
    counts: dict[str, int] = {}
    for scan in store.list_scans():
        if scan_ids is not None and scan.id not in scan_ids:
            continue
        for b in store.list_boxes(scan.id):
            if b.has_flag("excluded"):
                continue
            seen = labels[b.id].char if b.id in labels else (preds[b.id].label if b.id in preds else None)
            if seen is not None:
                counts[seen] = counts.get(seen, 0) + 1
            if b.id in preds and b.id not in labels:
                out.append((b, preds[b.id]))
    if order == "uncertainty":
        out.sort(key=lambda bp: (bp[1].confidence, bp[0].id))
    elif order == "gain":
        out.sort(key=lambda bp: (-expected_gain(bp[1], counts), bp[0].id))
    else:
        rng = np.random.default_rng(seed)
        out = [out[i] for i in rng.permutation(len(out))]
    return out[:limit]
