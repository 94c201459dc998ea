"""Retraining a base model's top on cached features: one code path for every run from a base.

:func:`retrain` serves ``adapt`` (:mod:`kuzushi_core.train.adapt`: the CLI and the Read and Label-next pages),
``train --base`` (CLI) and the Train page's feature extraction and fine-tuning runs (:func:`transfer_run`):

1. the model is cut where it stops being trainable and everything below the cut runs **once** per glyph
   (:mod:`kuzushi_core.train.features`);
2. the run's own crops are expanded before the cut (re-cuts of each page box with a segmenter's jitter, or the
   model's rotation/shift/zoom for crops without a page), the unlabelled boxes the base reads with confidence
   ≥ ``pseudo_threshold`` are added as self-training targets (weight ``pseudo_weight``);
3. **rehearsal** of what the base already reads — renders of every class and KMNIST training images — comes from a
   feature cache made once per base (:func:`kuzushi_core.train.features.rehearsal`);
4. the top is trained on the arrays (best epoch on val_loss kept), calibrated (temperature), and
5. **scored against its parent** (:func:`compare`) on a slice of the labels held out of training, on KMNIST's
   validation split and on a fresh render of every class (neither ever trained on).  :func:`verdict` says whether
   the new version is not worse.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kuzushi_core.data.datasets import (
    GlyphSet,
    stratified_split,
)
from kuzushi_core.errors import AdaptError, KuzushiError
from kuzushi_core.lazy import keras
from kuzushi_core.predict.classifier import LoadedModel, fit_ood, load_model
from kuzushi_core.train import features as ft
from kuzushi_core.train.architectures import augmentation_block, with_specialist, without_specialist
from kuzushi_core.train.augment import build as build_augment
from kuzushi_core.train.augment import from_dict
from kuzushi_core.train.fit import fit_temperature, fold_temperature, oversample, save_weights_only_model
from kuzushi_core.train.transfer import TransferError, count_warnings, load_parts, output_classes, prepare

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class AdaptConfig:
    mode: str = "feature-extraction"  # or "fine-tune" (the top ``unfreeze`` conv blocks train too)
    unfreeze: int = 1
    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 1e-3
    patience: int = 4
    jitter: int = 16            # re-cuts of every labelled box (augmented copies of a crop without a page)
    rehearsal: bool = True      # renders of every class + KMNIST from the base's feature cache
    rehearsal_renders: int = ft.REHEARSAL_RENDERS  # renders of every class in that cache
    pseudo: bool = True         # self-training on the unlabelled boxes read with confidence ≥ pseudo_threshold
    pseudo_threshold: float = 0.7
    pseudo_jitter: int = 2
    pseudo_weight: float = 0.5
    holdout: float = 0.2        # share of the labelled boxes held out to score parent and new version
    seed: int = 0


# "not worse": the tolerances of the parent comparison (one image of KMNIST's 701-image validation split is 0.14
# points, one render of 3,172 classes 0.03 points)
TOLERANCE = {"kmnist_val": 0.005, "renders": 0.01}


@dataclass
class Retrained:
    model: Any
    classes: tuple[str, ...]
    cut: str
    history: list[dict]
    temperature: float
    seconds: float
    timings: dict
    counts: dict
    rehearsal: dict
    warnings: list[str] = field(default_factory=list)


# -- the model to train ----------------------------------------------------------------------------------------
def derive(base, base_classes: Sequence[str], classes: Sequence[str]):
    """A trainable copy of ``base`` for ``classes`` (the base's first, new ones after; their rows start near zero).
    A reader's KMNIST specialist is kept (transfer used to leave it behind)."""

    if tuple(classes) == tuple(base_classes):
        model = keras.Model.from_config(base.get_config())
        model.set_weights(base.get_weights())
        return model
    if not ft.has_specialist(base):
        return prepare(base, base_classes, classes, "feature-extraction")
    kernel = np.asarray(base.get_layer("specialist_logits").get_weights()[0])  # k × n: weight at each kana's class
    index, weight = kernel.argmax(1), float(kernel.max())
    grown = prepare(without_specialist(base), base_classes, classes, "feature-extraction")
    return with_specialist(grown, base.get_layer("specialist"), index, weight)


def expand(data: GlyphSet, copies: int, seed: int = 0) -> GlyphSet:
    """Each crop and ``copies`` copies under the model's own rotation/shift/zoom (for crops without a page box)."""
    if copies <= 0 or len(data) == 0:
        return data

    keras.utils.set_random_seed(seed)
    aug = augmentation_block(rotation=6.0, shift=0.06, zoom=0.08, seed=seed)
    x = data.images[..., None].astype(np.float32)
    out = [data.images]
    for _ in range(copies):
        out.append(np.clip(np.asarray(aug(x, training=True))[..., 0], 0, 255).astype(np.uint8))
    return GlyphSet(np.concatenate(out), np.tile(data.labels, copies + 1), data.classes, data.source)


def retrain(lm, train_own: GlyphSet, val_own: GlyphSet | None, cfg: AdaptConfig, pseudo: GlyphSet | None = None,
            callbacks: Sequence = (), progress: Progress | None = None, data_dir: Path | None = None,
            keep_old: bool = True) -> Retrained:
    """Train a new version of ``lm`` (a loaded base) on cached features.  ``train_own`` is already expanded
    (re-cuts); ``val_own`` chooses the best epoch with a slice of the rehearsal set."""

    if not keep_old:
        raise AdaptError("cached-feature training keeps the base's classes; train from scratch to drop them")
    say = progress or (lambda msg, frac: None)
    t0 = time.time()
    timings: dict[str, float] = {}
    own_classes = set(train_own.classes) | (set(pseudo.classes) if pseudo is not None else set())
    if val_own is not None:
        own_classes |= set(val_own.classes)
    classes = output_classes(lm.classes, sorted(own_classes), keep_old)
    model = derive(lm.model, lm.classes, classes)
    cut = ft.cut_layer(model, cfg.mode, cfg.unfreeze)
    warnings = []
    reh_info: dict = {"used": False}
    parts, weights = [], []
    if cfg.rehearsal:
        t = time.time()
        reh = ft.rehearsal(lm, cut, data_dir, renders=cfg.rehearsal_renders, seed=cfg.seed,
                           progress=lambda m, f: say(m, 0.05 + 0.35 * f))
        timings["rehearsal_cache"] = time.time() - t
        reh_info = {"used": True, "n": len(reh.train), "built": reh.built, "seconds": round(timings["rehearsal_cache"], 1),
                    "path": str(reh.path)}
        rtrain = reh.train
    else:
        warnings.append("rehearsal is off: the new version may forget characters that are not in this run's "
                        "crops (the check against the parent still decides whether it becomes active)")
        rtrain = None
    say("features of the crops", 0.4)
    t = time.time()
    own_f = ft.of(model, cut, train_own)
    pseudo_f = ft.of(model, cut, pseudo) if pseudo is not None and len(pseudo) else None
    val_f = ft.of(model, cut, val_own) if val_own is not None and len(val_own) else None
    timings["crop_features"] = time.time() - t
    parts.append(own_f)
    weights.append(np.ones(len(own_f), np.float32))
    if pseudo_f is not None:
        parts.append(pseudo_f)
        weights.append(np.full(len(pseudo_f), cfg.pseudo_weight, np.float32))
    vparts = [val_f] if val_f is not None else []
    vweights = [np.ones(len(val_f), np.float32)] if val_f is not None else []
    if rtrain is not None and len(rtrain):
        rng = np.random.default_rng(cfg.seed)
        order = rng.permutation(len(rtrain))
        n_val = max(1, len(rtrain) // 10)
        parts.append(rtrain.subset(order[n_val:]))
        weights.append(np.ones(len(rtrain) - n_val, np.float32))
        vparts.append(rtrain.subset(order[:n_val]))
        # the epoch is chosen by the run's own crops and the rehearsal in equal parts (a few own crops would
        # otherwise not count beside hundreds of renders)
        vweights.append(np.full(n_val, len(val_f) / n_val if val_f is not None else 1.0, np.float32))
    if not vparts:  # nothing apart to choose the epoch with: a tenth of the own crops
        rng = np.random.default_rng(cfg.seed)
        order = rng.permutation(len(own_f))
        k = max(1, len(own_f) // 10)
        vparts.append(own_f.subset(order[:k]))
        vweights.append(np.ones(k, np.float32))
    train_f = ft.concat(parts, classes)
    val_f_all = ft.concat(vparts, classes)
    w = np.concatenate(weights)
    top = ft.top(model, cut)
    epochs = cfg.epochs

    class _Say(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            say(f"epoch {epoch + 1}/{epochs}", 0.45 + 0.5 * (epoch + 1) / epochs)

    say("training", 0.45)
    t = time.time()
    history = ft.fit_top(top, train_f, val_f_all, ft.TopConfig(cfg.epochs, cfg.batch_size, cfg.learning_rate,
                                                               cfg.patience, cfg.seed),
                         sample_weight=w, val_weight=np.concatenate(vweights), callbacks=[_Say(), *callbacks])
    timings["fit"] = time.time() - t

    logits = ft.top_logits(top, val_f_all)
    temp = fit_temperature(logits, val_f_all.labels) if len(val_f_all) else 1.0
    fold_temperature(model, temp)
    counts = {"own": int(len(own_f)), "pseudo": int(len(pseudo_f) if pseudo_f is not None else 0),
              "rehearsal": int(len(rtrain) if rtrain is not None else 0), "val": int(len(val_f_all)),
              "new_classes": [c for c in classes if c not in lm.classes]}
    return Retrained(model, classes, cut, history, temp, time.time() - t0, timings, counts, reh_info, warnings)


# -- parent against new version ------------------------------------------------------------------------------
def _acc(probs: np.ndarray, labels: np.ndarray) -> float | None:
    return float((probs.argmax(1) == labels).mean()) if len(labels) else None


def compare(parent, child, child_classes: Sequence[str], holdout: GlyphSet | None, cut: str,
            data_dir: Path | None = None, seed: int = 0, renders: int = ft.REHEARSAL_RENDERS) -> dict:
    """Top-1 of parent and new version on the held-out labels, KMNIST's validation split and one fresh render of
    every class; and on the held-out boxes the parent read right, the share the new version still reads right."""
    out: dict = {}
    child_lm = child if isinstance(child, LoadedModel) else LoadedModel(child, tuple(child_classes), parent.size,
                                                                       {}, Path("."))
    if holdout is not None and len(holdout):
        pi = {c: i for i, c in enumerate(parent.classes)}
        ci = {c: i for i, c in enumerate(child_lm.classes)}
        truth = [holdout.classes[k] for k in holdout.labels]
        pp = parent.predict_glyphs(holdout.images).argmax(1)
        cp = child_lm.predict_glyphs(holdout.images).argmax(1)
        p_ok = np.array([pi.get(t, -1) == p for t, p in zip(truth, pp)])
        c_ok = np.array([ci.get(t, -1) == c for t, c in zip(truth, cp)])
        out["holdout"] = {"n": len(truth), "parent": float(p_ok.mean()), "new": float(c_ok.mean()),
                          "kept": float(c_ok[p_ok].mean()) if p_ok.any() else None}
    try:
        reh = ft.rehearsal(parent, cut, data_dir, renders=renders, seed=seed)
    except KuzushiError:
        reh = None
    if reh is not None:
        ptop, ctop = ft.top(parent.model, cut), ft.top(child_lm.model, cut)
        for name in ("kmnist_val", "renders"):
            f: ft.Features = getattr(reh, name)
            if len(f):
                out[name] = {"n": len(f), "parent": _acc(ft.top_logits(ptop, f), f.labels),
                             "new": _acc(ft.top_logits(ctop, f)[:, :len(parent.classes)], f.labels)}
    return out


def verdict(scores: dict) -> tuple[bool, list[str]]:
    """(not worse than the parent, the reasons why not — or what was left unmeasured)."""
    reasons, ok = [], True
    h = scores.get("holdout")
    if h:
        if h["new"] + 1e-9 < h["parent"]:
            ok = False
            reasons.append(f"held-out labels: {h['new']:.3f} against the parent's {h['parent']:.3f}")
    else:  # unmeasured is not "not worse": self-training alone can read the book worse (measured, BENCHMARKS.md)
        ok = False
        reasons.append("no labels were held out (too few): the gain on this book is not measured, so the new "
                       "version is not made active on its own")
    for name, label in (("kmnist_val", "KMNIST validation"), ("renders", "renders of every character")):
        s = scores.get(name)
        if s and s["new"] is not None and s["parent"] is not None and s["new"] < s["parent"] - TOLERANCE[name]:
            ok = False
            reasons.append(f"{label}: {s['new']:.3f} against the parent's {s['parent']:.3f}")
    return ok, reasons


def card_for(lm, parent_rec, res: Retrained, cfg: AdaptConfig, scores: dict, better: bool, reasons: list[str],
             boxes: dict, document: str | None, command: str, data: dict | None = None,
             licence: str = "derived from the parent model (see its card) and the workspace's own labels") -> dict:
    """The new version's card: the parent's, with what this run did and measured."""
    card = {k: v for k, v in lm.card.items() if k not in ("classes", "temperature", "training", "validation", "ood",
                                                           "adaptation", "open_set")}
    if lm.card.get("open_set"):
        card["open_set"] = lm.card["open_set"]  # the same confidence scale: calibrated again below
    card.update({
        "classes": list(res.classes),
        "temperature": res.temperature,
        "mode": cfg.mode,
        "parent": ({"id": parent_rec.id, "name": parent_rec.name, "path": parent_rec.path} if parent_rec
                   else {"path": str(lm.path), "classes": list(lm.classes)}),
        "data": data or {"source": f"workspace labels{' of ' + document if document else ''}", **boxes},
        "licence": licence,
        "command": command,
        "new_classes": list(res.counts.get("new_classes", [])),
        "unfrozen_blocks": _unfrozen(res),
        "adaptation": {"config": asdict(cfg), "cut": res.cut, "counts": res.counts, "timings": res.timings,
                       "rehearsal": res.rehearsal, "history": res.history, "scores": scores,
                       "not_worse": better, "reasons": reasons, "seconds": round(res.seconds, 1),
                       "warnings": res.warnings},
    })
    return card


def _unfrozen(res: Retrained) -> list[str]:
    layers = keras.layers

    return sorted({layer.name.split("_")[0] for layer in ft._chain(res.model, res.cut)
                   if isinstance(layer, layers.Conv2D)})


# -- the Train page's and ``train --base``'s transfer runs ----------------------------------------------------
def expand_for(n: int, target: int = 4000, most: int = 16) -> int:
    """How many augmented copies of each crop a run of ``n`` crops gets (about ``target`` in all)."""
    return int(np.clip(round(target / max(1, n)) - 1, 0, most))


def augmented(data: GlyphSet, copies: int, seed: int = 0, augment: dict | None = None) -> GlyphSet:
    """``expand`` with a saved augmentation config of the Augment page instead of the model's own layers."""
    if augment is None or copies <= 0 or len(data) == 0:
        return expand(data, copies, seed)
    from dataclasses import replace

    aug = build_augment(replace(from_dict(augment), rescale=1.0), seed=seed)
    x = data.images[..., None].astype(np.float32)
    out = [data.images] + [np.clip(np.asarray(aug(x, training=True))[..., 0], 0, 255).astype(np.uint8)
                           for _ in range(copies)]
    return GlyphSet(np.concatenate(out), np.tile(data.labels, copies + 1), data.classes, data.source)


@dataclass
class TransferRun:
    retrained: Retrained
    scores: dict
    better: bool
    reasons: list[str]
    n_crops: int
    ood: dict | None = None


def transfer_run(lm, data: GlyphSet, cfg: AdaptConfig, val_split: float = 0.15, augment: dict | None = None,
                 callbacks: Sequence = (), progress: Progress | None = None,
                 balance: str = "oversample") -> TransferRun:
    """Feature extraction or fine-tuning of ``lm`` on ``data`` (crops without page boxes: folders, KMNIST, the
    workspace's labels as glyphs): a stratified ``val_split`` apart chooses the epoch and is where parent and new
    version are compared, beside KMNIST's validation split and the renders."""
    if len(data) == 0:
        raise AdaptError("no training crops")
    tr, va = stratified_split(data.labels, [1 - val_split, val_split], cfg.seed)
    if len(va) == 0:  # tiny data: one crop of every class with two or more
        va = np.array([np.flatnonzero(data.labels == c)[-1] for c in np.unique(data.labels)
                       if (data.labels == c).sum() >= 2], np.int64)
        tr = np.setdiff1d(np.arange(len(data)), va)
    train, val = data.subset(tr), (data.subset(va) if len(va) else None)
    if balance == "oversample":  # a few crops of a character beside hundreds of KMNIST images: repeated (each

        train = oversample(train, cfg.seed)
    train = augmented(train, expand_for(len(train), most=cfg.jitter), cfg.seed, augment)
    res = retrain(lm, train, val, cfg, callbacks=callbacks, progress=progress)
    scores = compare(lm, res.model, res.classes, val, res.cut, seed=cfg.seed, renders=cfg.rehearsal_renders)
    if "holdout" in scores:
        scores["validation"] = scores.pop("holdout")
    better, reasons = verdict({**scores, "holdout": scores.get("validation")})

    index = {c: i for i, c in enumerate(res.classes)}
    remap = np.array([index[c] for c in data.classes], np.int64)
    ood = fit_ood(res.model, data.images, remap[data.labels], len(res.classes))
    return TransferRun(res, scores, better, reasons, len(tr), ood)


def save_version(res: Retrained, out: Path, card: dict) -> Path:
    """The model without optimizer state and its card beside it; the file appears whole or not at all."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.keras")
    save_weights_only_model(res.model, tmp)
    out.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out)
    if res.rehearsal.get("used") and not res.counts.get("new_classes"):
        # below the cut nothing was trained and the classes are the parent's: a run from this version at the same
        # cut finds the parent's rehearsal features (the Train page's estimate asks, without loading the model)
        ft.remember_rehearsal(out, Path(res.rehearsal["path"]).name)
    return out


def transfer_cli(base_path, mode: str, data_src, out, cfg, unfreeze: int = 1, keep_old: bool = True,
                 rehearsal=None, per_class: int = 200, command: str | None = None, synth: str = "",
                 synth_per_char: int = 300, synth_rehearsal: int | None = None) -> str:
    """What ``python -m kuzushi_core train --base PATH --mode feature-extraction|fine-tune`` does, on cached
    features (the same path as the Train page and ``adapt``)."""
    import sys

    base = load_model(base_path)
    data = load_parts(base, data_src, cfg, rehearsal, per_class, synth, synth_per_char)
    command = command or (f"python -m kuzushi_core train --base {base_path} --mode {mode} --data {data_src} "
                          f"--out {out}")
    if not keep_old:
        raise TransferError("--no-keep-old needs --mode scratch (feature extraction and fine-tuning keep the base's "
                            "classes and add the new ones)")
    acfg = AdaptConfig(mode=mode, unfreeze=unfreeze, epochs=cfg.epochs, batch_size=max(cfg.batch_size, 128),
                       learning_rate=cfg.learning_rate, patience=cfg.patience, seed=cfg.seed,
                       rehearsal=synth_rehearsal is None or synth_rehearsal > 0,
                       rehearsal_renders=synth_rehearsal or 2, pseudo=False)
    t0 = time.time()

    def progress(msg: str, frac: float) -> None:
        t = time.time() - t0
        eta = f", about {t / frac * (1 - frac):.0f} s left" if 0.05 < frac < 1 else ""
        print(f"[{frac:4.0%}] {msg} ({t:.0f} s{eta})", file=sys.stderr, flush=True)

    run = transfer_run(base, data, acfg, cfg.val_split or 0.15, cfg.augment, progress=progress, balance=cfg.balance)
    res = run.retrained
    card = card_for(base, None, res, acfg, run.scores, run.better, run.reasons, {}, None, command,
                    data={"source": data.source, "n_train_total": len(data), "counts": data.counts()},
                    licence="derived from the base model (see its card) and the given data")
    if run.ood:
        card["ood"] = run.ood
    save_version(res, Path(out), card)
    v = run.scores.get("validation") or {}
    new = [c for c in res.classes if c not in base.classes]
    lines = [f"{mode} on cached features: {len(res.classes)} classes ({len(new)} new: {''.join(new)}), "
             f"{len(data)} crops ({run.n_crops} trained, {res.counts['own']} with augmented copies, "
             f"{res.counts['rehearsal']} rehearsal features), {res.seconds:.0f} s"]
    if v:
        lines.append(f"validation accuracy {v['new']:.4f} (base {v['parent']:.4f}, {v['n']} crops)")
    for key, label in (("kmnist_val", "KMNIST validation"), ("renders", "renders of every character")):
        if key in run.scores:
            lines.append(f"{label}: base {run.scores[key]['parent']:.4f} → new {run.scores[key]['new']:.4f}")
    lines += [f"warning: {w}" for w in count_warnings(data) + res.warnings]
    lines += [f"note: {r}" for r in run.reasons]
    lines.append(f"saved {out} and {Path(out).with_suffix('.json')}")
    return "\n".join(lines)
