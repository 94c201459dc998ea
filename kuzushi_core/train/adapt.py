"""The reader learns the historian's book: a new model version from the workspace's labels and unlabelled pages.

:func:`adapt` gathers the workspace's labelled boxes (a hash-chosen 20 % held out of training, each box re-cut with
a segmenter's jitter) and the boxes of unlabelled pages the parent reads confidently (:func:`gather`), retrains the
parent's top on them (:func:`kuzushi_core.train.retrain.retrain`), scores parent and new version side by side, makes
the new one active only when it is not worse (:func:`kuzushi_core.train.retrain.verdict`), and re-reads the document
(:func:`reread`), reporting what changed.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kuzushi_core.containers import ModelRecord
from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.datasets import (
    GlyphSet,
)
from kuzushi_core.errors import AdaptError
from kuzushi_core.imaging import read_image
from kuzushi_core.predict.classifier import classify_crops, load_model
from kuzushi_core.predict.reading import ensure_default_model, loaded, read_scan
from kuzushi_core.synth.render import jitter_crop
from kuzushi_core.train.retrain import (
    AdaptConfig,
    Progress,
    Retrained,
    card_for,
    compare,
    retrain,
    save_version,
    verdict,
)


# -- the workspace ---------------------------------------------------------------------------------------------
@dataclass
class Sample:
    """The workspace's material for one adaptation run."""

    train: GlyphSet        # labelled boxes (re-cut ``jitter`` times)
    val: GlyphSet | None   # a few labelled boxes apart, to choose the epoch
    holdout: GlyphSet | None  # labelled boxes never trained on: parent and new version are scored on them
    pseudo: GlyphSet | None   # unlabelled boxes read confidently by the parent
    boxes: dict            # counts


def _bucket(box_id: int, seed: int) -> float:
    return (zlib.crc32(f"{seed}:{box_id}".encode()) % 10_000) / 10_000


def document_scans(store, document: str | None):
    if document is None:
        return store.list_scans()
    docs = {d.name: d.id for d in store.list_documents()}
    if document not in docs:
        raise AdaptError(f"there is no document named {document!r} (there are: {', '.join(docs) or 'none'})")
    return store.list_scans(docs[document])


def gather(store, lm, record, scans, cfg: AdaptConfig, progress: Progress | None = None, charlm=None) -> Sample:
    """Labelled boxes (split into train / val / holdout by a hash of the box id, so a box keeps its part from run
    to run), and the unlabelled boxes the parent reads, in context as `read` reads, with confidence ≥
    ``cfg.pseudo_threshold``; scans without boxes are segmented (and read) first."""
    say = progress or (lambda m, f: None)
    rng = np.random.default_rng(cfg.seed)
    size = lm.size
    tr_i, tr_c, va_i, va_c, ho_i, ho_c, ps_i, ps_c = ([] for _ in range(8))
    n_lab = n_unlab = n_conf = n_train = 0
    for k, scan in enumerate(scans):
        say(f"reading page {k + 1}/{len(scans)}", k / max(1, len(scans)))
        if not store.list_boxes(scan.id) and record is not None:
            read_scan(store, scan, record, charlm=charlm)  # segment and read it in context; the readings are kept
        boxes = [b for b in store.list_boxes(scan.id) if not b.has_flag("excluded")]
        if not boxes:
            continue
        labels = store.current_labels(scan.id)
        page = read_image(store.scan_path(scan), gray=True)
        unl = [b for b in boxes if b.id not in labels]
        for b in boxes:
            if b.id not in labels:
                continue
            n_lab += 1
            ch = labels[b.id].char
            u = _bucket(b.id, cfg.seed)
            plain = to_glyph(crop_box(page, b.x, b.y, b.w, b.h), size)
            if u < cfg.holdout:
                ho_i.append(plain)
                ho_c.append(ch)
            elif u < cfg.holdout + 0.1:
                va_i.append(plain)
                va_c.append(ch)
            else:
                n_train += 1
                tr_i.append(plain)
                tr_c.append(ch)
                for _ in range(cfg.jitter):
                    tr_i.append(jitter_crop(page, b.x, b.y, b.w, b.h, rng, size))
                    tr_c.append(ch)
        n_unlab += len(unl)
        if cfg.pseudo and unl:
            # the parent's stored readings (in context, as `read` reads) where it has them all; else the page is
            # read again that way (a base given as a file, with no record, reads its crops alone)
            stored = store.predictions(scan.id, record.id) if record is not None else {}
            if record is not None and any(b.id not in stored for b in unl):
                stored = read_scan(store, scan, record, charlm=charlm)
            todo = [b for b in unl if b.id not in stored]
            fresh = dict(zip((b.id for b in todo),
                             classify_crops(lm, [crop_box(page, b.x, b.y, b.w, b.h) for b in todo]) if todo else []))
            preds = [stored.get(b.id) or fresh[b.id] for b in unl]
            for b, p in zip(unl, preds):
                if p.confidence < cfg.pseudo_threshold:
                    continue
                n_conf += 1
                ps_i.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), size))
                ps_c.append(p.label)
                for _ in range(cfg.pseudo_jitter):
                    ps_i.append(jitter_crop(page, b.x, b.y, b.w, b.h, rng, size))
                    ps_c.append(p.label)
    if not tr_c and not ps_c:
        raise AdaptError("nothing to learn from: label some characters first (the Read or Label next page), "
                         "or import labels (python -m kuzushi_core import-labels)")

    def gs(imgs, chars, name):
        if not chars:
            return None
        classes = tuple(sorted(set(chars)))
        index = {c: i for i, c in enumerate(classes)}
        return GlyphSet(np.stack(imgs), np.array([index[c] for c in chars], np.int64), classes, name)

    train = gs(tr_i, tr_c, "workspace") or GlyphSet(np.zeros((0, size, size), np.uint8), np.zeros(0, np.int64),
                                                      (), "workspace")
    return Sample(train, gs(va_i, va_c, "workspace-val"), gs(ho_i, ho_c, "workspace-holdout"),
                  gs(ps_i, ps_c, "self-training"),
                  {"labelled": n_lab, "train": n_train,
                   "val": len(va_c), "holdout": len(ho_c), "unlabelled": n_unlab, "pseudo": n_conf})


@dataclass
class AdaptResult:
    record: ModelRecord      # the registered version
    parent: ModelRecord | None  # the parent (None for a base given as a file)
    path: Path
    scores: dict
    better: bool             # not worse than the parent (the verdict)
    reasons: list[str]
    activated: bool
    changes: dict
    seconds: float
    retrained: Retrained
    sample: dict


def base_for(store, base: str | os.PathLike[str] | None):
    """(LoadedModel, its record or None): a file given, else the active model, else the shipped reader."""
    if base is not None:
        path = Path(base).resolve()
        for m in store.list_models():
            if Path(m.path).resolve() == path:
                return loaded(m), m
        return load_model(path), None
    rec = store.active_model() or ensure_default_model(store)
    if rec is None:
        raise AdaptError("the workspace has no model and the shipped reader is missing (models/default.keras)")
    return loaded(rec), rec


def adapt(store, out: str | os.PathLike[str] | None = None, base=None, document: str | None = None,
          cfg: AdaptConfig = AdaptConfig(), activate: str = "auto", progress: Progress | None = None,
          callbacks: Sequence = (), name: str = "", command: str = "", charlm=None) -> AdaptResult:
    """Learn from the workspace (or one document of it): train, score against the parent, register (active when not
    worse and ``activate`` is "auto"; "never" leaves the parent active), re-read the document with the new version.
    ``charlm``: the character model a page not yet read is read with in context, whose confident readings are
    self-trained on (default: the shipped one; a benchmark passes one counted without the pages it reads).
    """
    say = progress or (lambda m, f: None)
    t0 = time.time()
    lm, parent_rec = base_for(store, base)
    scans = document_scans(store, document)
    if not scans:
        raise AdaptError("the workspace has no scans" + (f" in {document!r}" if document else ""))
    sample = gather(store, lm, parent_rec, scans, cfg, progress=lambda m, f: say(m, 0.05 * f), charlm=charlm)
    res = retrain(lm, sample.train, sample.val, cfg, sample.pseudo, callbacks=callbacks,
                  progress=lambda m, f: say(m, 0.05 + 0.8 * f))
    say("scoring against the parent", 0.86)
    scores = compare(lm, res.model, res.classes, sample.holdout, res.cut, seed=cfg.seed,
                     renders=cfg.rehearsal_renders)
    better, reasons = verdict(scores)
    if out is None:
        out = store.files / "models" / f"adapt-{int(time.time() * 1000)}.keras"
    out = Path(out)
    card = card_for(lm, parent_rec, res, cfg, scores, better, reasons, sample.boxes, document,
                    command or f"python -m kuzushi_core adapt --workspace {store.root} --out {out}")
    save_version(res, out, card)
    h = scores.get("holdout") or {}
    metrics = {"holdout_accuracy": h.get("new"), "parent_holdout_accuracy": h.get("parent"),
               "n_holdout": h.get("n", 0), "seconds": round(res.seconds, 1), "not_worse": better}
    for k in ("kmnist_val", "renders"):
        if k in scores:
            metrics[f"{k}_accuracy"] = scores[k]["new"]
    do_activate = activate == "always" or (activate == "auto" and better)
    rec = store.register_model(name or f"adapted #{len(store.list_models()) + 1}", str(out), res.classes,
                               metrics=metrics, card={k: card[k] for k in ("mode", "parent", "data", "licence",
                                                                           "command", "adaptation")},
                               parent_id=parent_rec.id if parent_rec else None, activate=do_activate)
    say("re-reading the document", 0.92)
    changes = reread(store, rec, parent_rec, scans, charlm=charlm)
    say("done", 1.0)
    return AdaptResult(rec, parent_rec, out, scores, better, reasons, do_activate, changes, time.time() - t0, res,
                       sample.boxes)






def reread(store, rec, parent_rec, scans, charlm=None) -> dict:
    """Read every box of ``scans`` with the new version as `read` reads (:func:`read_scan`: in context, the person's
    labels taken as certain; predictions kept), against the parent's readings made the same way: how many changed,
    and of the labelled ones how many now agree / no longer agree with the label."""
    changed = fixed = broken = total = 0
    examples = []
    for scan in scans:
        boxes = store.list_boxes(scan.id)
        if not boxes:
            continue
        new = read_scan(store, scan, rec, charlm=charlm)
        if parent_rec is None:
            continue
        old = store.predictions(scan.id, parent_rec.id)
        if any(b.id not in old for b in boxes):
            old = read_scan(store, scan, parent_rec, charlm=charlm)
        labels = store.current_labels(scan.id)
        for b in boxes:
            p = new[b.id]
            total += 1
            before = old[b.id].label
            if before == p.label:
                continue
            changed += 1
            lab = labels.get(b.id)
            if lab is not None and lab.char == p.label:
                fixed += 1
            elif lab is not None and lab.char == before:
                broken += 1
            if len(examples) < 20:
                examples.append({"box_id": b.id, "scan_id": scan.id, "before": before, "after": p.label,
                                 "label": lab.char if lab else None})
    return {"read": total, "changed": changed, "now_agree": fixed, "no_longer_agree": broken, "examples": examples}
