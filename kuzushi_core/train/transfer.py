"""Transfer learning from a registered model: feature extraction, fine-tuning, or from scratch.

Every Kuzushi Lab model is a convolutional base up to the layer named
:data:`~kuzushi_core.train.architectures.FEATURES` plus a classifier head
(``head_dense`` → ``logits`` → ``probs``).  :func:`prepare` turns a trained
base model into the model to train on a new class set:

* ``feature-extraction`` — the base is frozen; the head is trained for the new
  classes.  The head starts from the base model's head: ``head_dense`` keeps its
  weights and the ``logits`` rows of classes the base already knows are copied,
  so the old classes are not forgotten while the new ones (e.g. 〇) are learned.
* ``fine-tune`` — as above, and the convolutions of the top ``unfreeze`` conv
  blocks are trained too, at a lower learning rate.  Batch normalisation stays
  frozen, i.e. in inference mode (its statistics from the big data set are kept:
  a few hundred ledger crops would ruin them).
* ``scratch`` — a fresh network of the chosen architecture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kuzushi_core.data.datasets import (
    GlyphSet,
    load_source,
    merge,
    per_class_sample,
)
from kuzushi_core.errors import TransferError
from kuzushi_core.lazy import keras
from kuzushi_core.predict.classifier import fit_ood, load_model
from kuzushi_core.synth import dataset as sd
from kuzushi_core.synth import fonts
from kuzushi_core.synth.render import SynthConfig
from kuzushi_core.train.architectures import FEATURES, build, class_logits, conv_blocks
from kuzushi_core.train.fit import print_progress, save, train

# Keras is imported inside the functions: the Train page reads this module's constants without paying for
# TensorFlow's start-up in the Streamlit process.

MODES = ("feature-extraction", "fine-tune", "scratch")
MIN_PER_CLASS = 10  # fewer training crops than this for a class: the page warns
# learning rates that worked on the few-shot benchmark (bench/bench_transfer.py)
# (feature extraction and fine-tuning: the head on cached features, kuzushi_core.train.retrain; bench/bench_adapt.py)
DEFAULT_LEARNING_RATE = {"feature-extraction": 1e-3, "fine-tune": 5e-4, "scratch": 3e-3}
BIG_BASE_REHEARSAL = 2  # renders per base class as rehearsal (from the base's feature cache)
DEFAULT_BALANCE = "oversample"  # few-shot classes: repeat their crops (each time newly augmented), see BENCHMARKS.md


@dataclass(frozen=True)
class TransferPlan:
    """What a transfer run will do, for the Train page and the model card."""

    mode: str
    classes: tuple[str, ...]
    new_classes: tuple[str, ...]
    kept_classes: tuple[str, ...]
    unfrozen_blocks: tuple[str, ...]
    trainable_params: int
    total_params: int


def output_classes(base_classes: Sequence[str], data_classes: Sequence[str], keep_old: bool = True) -> tuple[str, ...]:
    """The new model's classes in output order: the base model's first (when kept), then new ones, sorted."""
    if not keep_old:
        return tuple(sorted(set(data_classes)))
    base = list(base_classes)
    return tuple(base + sorted(set(data_classes) - set(base)))


def prepare(
    base,
    base_classes: Sequence[str],
    classes: Sequence[str],
    mode: str,
    unfreeze: int = 1,
    arch: str = "default",
    size: int = 28,
    seed: int = 0,
):
    """The model to train for ``classes`` (see the module docstring for the modes)."""
    layers = keras.layers

    if mode not in MODES:
        raise TransferError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    keras.utils.set_random_seed(seed)
    if mode == "scratch" or base is None:
        if mode != "scratch":
            raise TransferError(f"{mode} needs a base model")
        return build(arch, len(classes), size, seed=seed)
    try:
        feats = base.get_layer(FEATURES).output
    except ValueError as exc:
        raise TransferError(f"the base model has no layer named {FEATURES!r} (its feature extractor's end)") from exc
    old_dense = _layer(base, "head_dense")
    old_logits = class_logits(base) if _layer(base, "logits") is not None else None
    x = layers.Dropout(0.4, name="head_dropout")(feats)
    dense = None
    if old_dense is not None:
        dense = layers.Dense(old_dense.units, activation="relu", name="head_dense")
        x = layers.Dropout(0.4, name="head_dropout2")(dense(x))
    logits = layers.Dense(len(classes), name="logits")
    out = layers.Activation("softmax", name="probs")(logits(x))
    model = keras.Model(base.inputs, out, name=f"{base.name}_{mode.replace('-', '_')}")
    if dense is not None:
        dense.set_weights(old_dense.get_weights())
    if old_logits is not None and logits.kernel.shape[0] == old_logits.kernel.shape[0]:
        k_old, b_old = old_logits.get_weights()
        k_new, b_new = logits.get_weights()
        k_new *= 0.1  # new classes start near zero: no confident guesses before they are trained
        b_new[:] = float(np.median(b_old)) if len(b_old) else 0.0
        where = {c: i for i, c in enumerate(base_classes)}
        for j, c in enumerate(classes):
            if c in where:
                k_new[:, j] = k_old[:, where[c]]
                b_new[j] = b_old[where[c]]
        logits.set_weights([k_new, b_new])
    freeze_base(model, mode, unfreeze)
    return model


def _layer(model, name: str):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def freeze_base(model, mode: str, unfreeze: int = 0) -> tuple[str, ...]:
    """Freeze every layer up to ``features``; for fine-tuning unfreeze the convolutions of the top blocks."""
    layers = keras.layers

    blocks = conv_blocks(model)
    top: tuple[str, ...] = ()
    if mode == "fine-tune":
        if unfreeze < 1:
            raise TransferError("fine-tuning unfreezes at least one conv block")
        if unfreeze > len(blocks):
            raise TransferError(f"the base has {len(blocks)} conv blocks; cannot unfreeze {unfreeze}")
        top = tuple(blocks[-unfreeze:])
    seen_features = False
    for layer in model.layers:
        if seen_features:
            layer.trainable = True
            continue
        block = layer.name.split("_")[0]
        layer.trainable = (block in top and isinstance(layer, layers.Conv2D))
        if layer.name == FEATURES:
            seen_features = True
    return top


def plan(model, mode: str, base_classes: Sequence[str], classes: Sequence[str], unfreeze: int = 0
         ) -> TransferPlan:
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(sum(np.prod(w.shape) for w in model.weights))
    top = tuple(conv_blocks(model)[-unfreeze:]) if mode == "fine-tune" and unfreeze else ()
    return TransferPlan(mode, tuple(classes), tuple(c for c in classes if c not in base_classes),
                        tuple(c for c in classes if c in base_classes), top, trainable, total)


def count_warnings(data: GlyphSet, minimum: int = MIN_PER_CLASS) -> list[str]:
    """Classes with some, but fewer than ``minimum``, training crops (the page shows these before a run).  A class
    with none is not this run's to learn (a base class kept beside the run's data: thousands for the big reader)."""
    return [f"{c}: {n} crops (fewer than {minimum}; expect it to be learned poorly)"
            for c, n in data.counts().items() if 0 < n < minimum]


def setup(base, data: GlyphSet, mode: str, unfreeze: int = 1, keep_old: bool = True, arch: str = "default",
          seed: int = 0):
    """The model to train, its :class:`TransferPlan`, and the data relabelled to the model's output order.

    ``base`` is a loaded model (:class:`~kuzushi_core.predict.classifier.LoadedModel`) or None for scratch.  The CLI and the
    background jobs both start here.
    """
    base_classes = base.classes if base else ()
    classes = output_classes(base_classes, data.classes, keep_old)
    data = merge([data], classes)
    size = base.size if base else int(data.images.shape[1])
    model = prepare(base.model if base else None, base_classes, classes, mode, unfreeze, arch, size, seed)
    return model, plan(model, mode, base_classes, classes, unfreeze), data


def card_extra(result, p: TransferPlan, data: GlyphSet, parent: dict | None, licence: str, command: str) -> dict:
    """What a transfer model's card holds beside :func:`kuzushi_core.train.fit.model_card`'s fields."""
    return {
        "mode": p.mode,
        "parent": parent,
        "new_classes": list(p.new_classes),
        "unfrozen_blocks": list(p.unfrozen_blocks),
        "data": {"source": data.source, "n_train_total": len(data), "counts": data.counts()},
        "ood": fit_ood(result.model, data.images, data.labels, len(p.classes)),
        "licence": licence,
        "command": command,
    }


def synth_glyphs(chars: str, per_char: int = 300, seed: int = 0, size: int = 28, progress=None) -> GlyphSet:
    """Brush-font renders of ``chars`` (a class the model lacks, learned with zero real crops)."""
    chars = "".join(dict.fromkeys(c for c in chars if not c.isspace()))
    jobs = sd.plain_jobs(chars, per_char, seed)
    missing = sorted(set(chars) - {j.label for j in jobs})
    if missing:
        hint = "; missing font packages: " + ", ".join(fonts.missing_packages()) if fonts.missing_packages() else ""
        raise TransferError(f"no installed font writes {''.join(missing)}{hint}")
    return sd.make(jobs, SynthConfig(size=size), processes=1, progress=progress)


def rehearsal_glyphs(classes, per_class: int, seed: int = 0, size: int = 28) -> GlyphSet:
    """``per_class`` font renders of every class of a base model, so that a run on a few classes' crops does not make
    it forget the others (the CLI's and the Train page's rehearsal for a base of thousands of classes)."""
    return sd.make(sd.plain_jobs(classes, per_class, seed + 31), SynthConfig(size=size), processes=1)


def load_parts(base, data_src, cfg, rehearsal=None, per_class: int = 200, synth: str = "",
               synth_per_char: int = 300) -> GlyphSet:
    """The training crops of ``train --base``: the data source, font renders of ``synth``, KMNIST-like rehearsal."""
    size = base.size if base else cfg.size
    parts = [load_source(data_src, size, "train")] if data_src is not None else []
    if synth:
        parts.append(synth_glyphs(synth, synth_per_char, cfg.seed, size))
    if rehearsal is not None:
        parts.append(per_class_sample(load_source(rehearsal, size, "train"), per_class, cfg.seed))
    return merge(parts)


def transfer_cli(base_path, mode: str, data_src, out, cfg, unfreeze: int = 1, keep_old: bool = True,
                 rehearsal=None, per_class: int = 200, command: str | None = None, synth: str = "",
                 synth_per_char: int = 300, synth_rehearsal: int | None = None) -> str:
    """What ``python -m kuzushi_core train --base PATH --mode scratch`` does: prepare, train, calibrate, save + card.
    (Feature extraction and fine-tuning: :func:`kuzushi_core.train.retrain.transfer_cli`, on cached features.)"""
    from dataclasses import replace

    base = load_model(base_path) if base_path else None
    size = base.size if base else cfg.size
    parts = [load_parts(base, data_src, cfg, rehearsal, per_class, synth, synth_per_char)]
    if synth_rehearsal and base is not None and keep_old:
        parts.append(rehearsal_glyphs(base.classes, synth_rehearsal, cfg.seed, size))
    model, p, data = setup(base, merge(parts), mode, unfreeze, keep_old, cfg.arch, cfg.seed)
    cfg = replace(cfg, size=size)
    result = train(data, cfg, callbacks=[print_progress(cfg.epochs)], model=model)
    extra = card_extra(
        result, p, data,
        parent=None if base is None else {"path": str(base_path), "classes": list(base.classes)},
        licence="derived from the base model (see its card) and the given data",
        command=command or f"python -m kuzushi_core train --base {base_path} --mode {mode} --data {data_src} "
                           f"--out {out}",
    )
    path, card = save(result, out, extra)
    warn = count_warnings(data)
    return "\n".join([f"{mode}: {len(p.classes)} classes ({len(p.new_classes)} new: {''.join(p.new_classes)}), "
                      f"{p.trainable_params} of {p.total_params} parameters trained, {len(data)} glyphs, "
                      f"{result.seconds:.0f} s",
                      f"validation accuracy {result.val_metrics['accuracy']:.4f}",
                      *[f"warning: {w}" for w in warn],
                      f"saved {path} and {card}"])
