"""Background training jobs: queued in the store, run by a worker process, watched from any tab.

* :func:`submit` writes a ``queued`` run (its whole configuration) and starts a
  worker if none is running.  The Streamlit script never trains.
* The worker (``python -m kuzushi_core worker --workspace W``) holds a lock file
  so that one job runs at a time per workspace; it takes queued runs oldest
  first (:meth:`Store.claim_next_run`) until none is left.
* Progress goes into the store: every epoch a ``run_epochs`` row (loss,
  accuracy, val_loss, val_accuracy), every half second the fraction done.
  A page polls the store, so a reload or a second tab sees the same run.
* Cancel: :meth:`Store.request_cancel` sets a flag the job checks between
  batches.  A worker killed outright (SIGKILL, power cut) cannot say so itself:
  :func:`reap` marks a ``running`` run whose process is gone as ``failed``; it is
  called by every poll, so within a second or two.  Labels live in other rows
  and are never touched by a job.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from kuzushi_core.containers import TrainingRun
from kuzushi_core.data.classzip import IMAGE_SUFFIXES
from kuzushi_core.data.datasets import (
    KMNIST_CLASSES,
    DatasetError,
    GlyphSet,
    load_class_folders,
    load_kmnist,
    load_workspace,
    merge,
    per_class_sample,
)
from kuzushi_core.errors import Cancelled, JobError
from kuzushi_core.lazy import keras
from kuzushi_core.paths import PROJECT_ROOT, data_dir
from kuzushi_core.predict.classifier import load_model
from kuzushi_core.store import Store, now
from kuzushi_core.train.adapt import adapt
from kuzushi_core.train.fit import TrainConfig, model_card, save_weights_only_model, train
from kuzushi_core.train.retrain import AdaptConfig, card_for, expand_for, save_version, transfer_run
from kuzushi_core.train.transfer import DEFAULT_LEARNING_RATE, MODES, card_extra, count_warnings, setup, synth_glyphs

LOCK_NAME = "worker.lock"
LOG_NAME = "worker.log"
DEFAULTS = {
    "kind": "train",  # "train" (the Train page) or "adapt" (learn from my corrections: kuzushi_core.train.adapt)
    "document": None,  # adapt: learn from (and re-read) this document only
    "pseudo": True,    # adapt: self-training on the unlabelled boxes read confidently
    "mode": "feature-extraction",
    "base_model_id": None,
    "unfreeze": 1,
    "arch": "default",
    "keep_old": True,
    "workspace_labels": True,
    "kmnist_per_class": 0,  # rehearsal: KMNIST training images per class (0 = none)
    "folders": [],
    "synth_chars": "",      # characters to learn from brush-font renders (a new class with zero real crops)
    "synth_per_char": 300,  # renders per such character
    "synth_rehearsal": 2,   # renders per class of the base model (from its feature cache), so that its other
    #                         classes are not forgotten; 0 = none (warned, and the parent check still decides)
    "val_split": 0.15,
    "folds": 0,
    "augment": None,  # name of a saved augmentation config
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": None,  # None = the mode's default
    "seed": 0,
    "patience": 8,
    "balance": "oversample",  # "oversample" | "weights" | "none": how small classes are handled
    "activate": True,
    "name": "",
}


def normalise(config: dict) -> dict:
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise JobError(f"unknown training options: {', '.join(sorted(unknown))}")
    cfg = {**DEFAULTS, **config}

    if cfg["kind"] == "adapt":
        return cfg
    if cfg["kind"] != "train":
        raise JobError("a job is a training run or an adaptation")
    if cfg["mode"] not in MODES:
        raise JobError(f"mode must be one of {', '.join(MODES)}")
    if cfg["mode"] != "scratch" and cfg["base_model_id"] is None:
        raise JobError(f"{cfg['mode']} needs a base model")
    if not (cfg["workspace_labels"] or cfg["kmnist_per_class"] or cfg["folders"] or cfg["synth_chars"]):
        raise JobError("choose at least one source of training data")
    if int(cfg["epochs"]) < 1:
        raise JobError("at least one epoch")
    return cfg


def submit(store: Store, config: dict, start_worker: bool = True, started_by: str = "") -> TrainingRun:
    """Queue a run (with the name of the person who started it); start a worker unless one is already running for
    this workspace."""
    run = store.create_run(normalise(config), started_by=started_by)
    if start_worker:
        ensure_worker(store)
    return run


# -- the worker process ----------------------------------------------------------
def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live Kuzushi Lab process (not a zombie, not a reused pid)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            if proc.joinpath("stat").read_text().split(") ")[-1].startswith("Z"):
                return False
            return b"kuzushi_core" in proc.joinpath("cmdline").read_bytes() or pid == os.getpid()
        except OSError:
            return False
    return True


def reap(store: Store) -> list[int]:
    """Mark runs whose process died without a word as failed; returns their ids."""
    dead = []
    for run in store.list_runs():
        if run.status == "running" and not pid_alive(run.pid):
            store.update_run(run.id, status="failed", finished_at=now(),
                             error="the training process ended unexpectedly (killed or crashed); "
                                   "nothing else in the workspace was affected")
            dead.append(run.id)
    return dead


def worker_running(store: Store) -> bool:
    lock = store.root / LOCK_NAME
    try:
        with open(lock, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def ensure_worker(store: Store) -> subprocess.Popen | None:
    """Start a worker process when there is queued work and no worker holds the lock."""
    reap(store)
    if not any(r.status == "queued" for r in store.list_runs()) or worker_running(store):
        return None
    log = open(store.root / LOG_NAME, "ab")  # noqa: SIM115 - handed to the child
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kuzushi_core", "worker", "--workspace", str(store.root)],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, env=env,
    )
    log.close()
    return proc


def work(store: Store) -> int:
    """The worker's loop: run queued jobs one at a time until none is left; returns how many ran."""
    done = 0
    while True:
        with open(store.root / LOCK_NAME, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return done  # another worker has the workspace
            reap(store)
            while (run := store.claim_next_run(os.getpid())) is not None:
                execute(store, run)
                done += 1
            fcntl.flock(fh, fcntl.LOCK_UN)
        # a run queued between the last claim and the unlock would wait for the next worker: look once more
        if not any(r.status == "queued" for r in store.list_runs()):
            return done


# -- one job ---------------------------------------------------------------------
def _progress_callback(store: Store, run_id: int, epochs: int, folds: int):

    class StoreProgress(keras.callbacks.Callback):
        """Per-epoch rows and a throttled progress fraction into the store; stops on a cancel request."""

        def __init__(self):
            super().__init__()
            self.fold = -1
            self.last = 0.0
            self.epoch = 0

        def on_train_begin(self, logs=None):
            self.fold += 1

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            t = time.time()
            if t - self.last < 0.5:
                return
            self.last = t
            per_epoch = (self.params or {}).get("steps") or 1  # fit's steps_per_epoch (after oversampling)
            done = (self.fold * epochs + self.epoch + min((batch + 1) / per_epoch, 1.0)) / (epochs * folds)
            store.update_run(run_id, progress=min(done, 0.99))
            if store.cancel_requested(run_id):
                raise Cancelled()

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}
            store.add_epoch(run_id, epoch, logs, fold=self.fold)
            store.update_run(run_id, progress=min((self.fold * epochs + epoch + 1) / (epochs * folds), 0.99))
            if store.cancel_requested(run_id):
                raise Cancelled()

    return StoreProgress()


def build_data(store: Store, cfg: dict, base_classes: tuple[str, ...], size: int):
    """The training set of a job: workspace labels, KMNIST rehearsal, class folders; base classes first.  (The renders
    of every base class come from the base's feature cache, :func:`kuzushi_core.train.features.rehearsal`.)"""
    parts = []
    if cfg["workspace_labels"]:
        try:
            parts.append(load_workspace(store.root, size))
        except DatasetError:
            if not (cfg["kmnist_per_class"] or cfg["folders"]):
                raise
    if cfg["kmnist_per_class"]:
        km = load_kmnist(data_dir() / "kmnist", "train")
        if size != 28:
            import cv2
            import numpy as np

            km = GlyphSet(np.stack([cv2.resize(i, (size, size)) for i in km.images]), km.labels, km.classes, km.source)
        parts.append(per_class_sample(km, int(cfg["kmnist_per_class"]), cfg["seed"]))
    for folder in cfg["folders"]:
        parts.append(load_class_folders(folder, size))
    if cfg.get("synth_chars"):
        parts.append(synth_glyphs(cfg["synth_chars"], int(cfg["synth_per_char"]), int(cfg["seed"]), size))
    return merge(parts, base_classes if cfg["keep_old"] else None)


def execute(store: Store, run: TrainingRun) -> None:
    """Run one claimed job to its end: completed (model registered), cancelled, or failed (error kept)."""
    cfg = {**DEFAULTS, **run.config}
    try:
        model_id = _execute(store, run.id, cfg)
    except Cancelled:
        store.update_run(run.id, status="cancelled", finished_at=now())
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the worker goes on
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        store.update_run(run.id, status="failed", finished_at=now(), error=msg)
    else:
        store.update_run(run.id, status="completed", finished_at=now(), progress=1.0, model_id=model_id)


def _execute(store: Store, run_id: int, cfg: dict) -> int:
    if cfg["kind"] == "adapt":
        return _execute_adapt(store, run_id, cfg)
    if cfg["mode"] != "scratch":
        return _execute_cached(store, run_id, cfg)

    base_rec = store.get_model(cfg["base_model_id"]) if cfg["base_model_id"] is not None else None
    base = load_model(base_rec.path) if base_rec else None
    size = base.size if base else 28
    raw = build_data(store, cfg, base.classes if (base and cfg["keep_old"]) else (), size)
    augment = store.augment_configs().get(cfg["augment"]) if cfg["augment"] else None
    if cfg["augment"] and augment is None:
        raise JobError(f"there is no saved augmentation config {cfg['augment']!r}")
    lr = cfg["learning_rate"] or DEFAULT_LEARNING_RATE[cfg["mode"]]
    tcfg = TrainConfig(arch=cfg["arch"], size=size, epochs=int(cfg["epochs"]), batch_size=int(cfg["batch_size"]),
                       learning_rate=float(lr), val_split=float(cfg["val_split"]), folds=int(cfg["folds"] or 0),
                       seed=int(cfg["seed"]), patience=int(cfg["patience"]), augment=augment,
                       balance=cfg["balance"])
    model, p, data = setup(base, raw, cfg["mode"], int(cfg["unfreeze"]), bool(cfg["keep_old"]), cfg["arch"],
                           int(cfg["seed"]))
    classes = p.classes
    folds = tcfg.folds if tcfg.folds >= 2 else 1
    store.update_run(run_id, metrics={"n_train": len(data), "counts": data.counts(), "classes": list(classes),
                                      "plan": asdict(p)})
    cb = _progress_callback(store, run_id, tcfg.epochs, folds)
    result = train(data, tcfg, callbacks=[cb], model=model)
    out_rel = f"models/run-{run_id}.keras"
    out = store.files / out_rel
    out.parent.mkdir(parents=True, exist_ok=True)
    card = model_card(result, **card_extra(
        result, p, data,
        parent=None if base_rec is None else {"id": base_rec.id, "name": base_rec.name},
        licence="derived from the parent model and the workspace's own labels",
        command=f"training run #{run_id} (Train page); config {json.dumps(cfg, ensure_ascii=False)}",
    ))
    tmp = out.with_name(out.stem + ".tmp.keras")

    save_weights_only_model(result.model, tmp)
    out.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=1))
    os.replace(tmp, out)
    metrics = {"val_accuracy": result.val_metrics["accuracy"], "val_macro_f1": result.val_metrics["macro"]["f1"],
               "seconds": round(result.seconds, 1), "best_epoch": result.best_epoch, "n_train": len(data)}
    if result.folds:
        metrics.update(cv_accuracy_mean=result.val_metrics["cv_accuracy_mean"],
                       cv_accuracy_std=result.val_metrics["cv_accuracy_std"])
    name = cfg["name"] or f"{cfg['mode']} #{run_id}"
    rec = store.register_model(name, str(out), classes, metrics=metrics,
                               card={k: card[k] for k in ("mode", "parent", "new_classes", "data", "licence", "command")},
                               parent_id=base_rec.id if base_rec else None, activate=bool(cfg["activate"]))
    store.update_run(run_id, metrics={**metrics, "counts": data.counts(), "classes": list(classes), "plan": asdict(p)})
    return rec.id


def _store_progress(store: Store, run_id: int):
    """(progress callable for :mod:`kuzushi_core.train.adapt`, Keras callback for the epochs' rows and cancel)."""
    last = [0.0]

    def progress(msg: str, frac: float) -> None:
        t = time.time()
        if t - last[0] < 0.5 and frac < 1.0:
            return
        last[0] = t
        store.update_run(run_id, progress=min(max(frac, 0.0), 0.99), metrics={"stage": msg})
        if store.cancel_requested(run_id):
            raise Cancelled()

    class Epochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}
            store.add_epoch(run_id, epoch, logs, fold=0)
            if store.cancel_requested(run_id):
                raise Cancelled()

        def on_train_batch_end(self, batch, logs=None):
            if batch % 20 == 0 and store.cancel_requested(run_id):
                raise Cancelled()

    return progress, Epochs()


def _execute_adapt(store: Store, run_id: int, cfg: dict) -> int:
    """Learn from the workspace's labels (kuzushi_core.train.adapt): active only when not worse than the parent."""
    progress, epochs = _store_progress(store, run_id)
    base = store.get_model(cfg["base_model_id"]).path if cfg["base_model_id"] is not None else None
    acfg = AdaptConfig(mode=cfg["mode"] if cfg["mode"] != "scratch" else "feature-extraction",
                       unfreeze=int(cfg["unfreeze"]), pseudo=bool(cfg["pseudo"]),
                       rehearsal=int(cfg["synth_rehearsal"]) > 0, rehearsal_renders=int(cfg["synth_rehearsal"]) or 2,
                       seed=int(cfg["seed"]))
    res = adapt(store, store.files / "models" / f"run-{run_id}.keras", base=base, document=cfg["document"],
                cfg=acfg, activate="auto" if cfg["activate"] else "never", progress=progress, callbacks=[epochs],
                name=cfg["name"], command=f"adaptation run #{run_id} (Read page)")
    h = res.scores.get("holdout") or {}
    store.update_run(run_id, metrics={"val_accuracy": h.get("new"), "parent_accuracy": h.get("parent"),
                                      "n_holdout": h.get("n", 0), "scores": res.scores, "not_worse": res.better,
                                      "reasons": res.reasons, "activated": res.activated, "changes": res.changes,
                                      "seconds": round(res.seconds, 1), "boxes": res.sample,
                                      "parent_id": res.parent.id if res.parent else None})
    return res.record.id


def _execute_cached(store: Store, run_id: int, cfg: dict) -> int:
    """Feature extraction / fine-tuning from the Train page: the head (and top blocks) on cached features
    (kuzushi_core.train.retrain.transfer_run); the new version is active only when not worse than its parent."""
    if not cfg["keep_old"]:
        raise JobError("feature extraction and fine-tuning keep the base's classes; choose 'from scratch' to drop "
                       "them")
    base_rec = store.get_model(cfg["base_model_id"])
    base = load_model(base_rec.path)
    raw = build_data(store, cfg, base.classes, base.size)
    augment = store.augment_configs().get(cfg["augment"]) if cfg["augment"] else None
    if cfg["augment"] and augment is None:
        raise JobError(f"there is no saved augmentation config {cfg['augment']!r}")
    acfg = AdaptConfig(mode=cfg["mode"], unfreeze=int(cfg["unfreeze"]), epochs=int(cfg["epochs"]),
                       batch_size=max(int(cfg["batch_size"]), 128),
                       learning_rate=float(cfg["learning_rate"] or DEFAULT_LEARNING_RATE[cfg["mode"]]),
                       patience=int(cfg["patience"]), rehearsal=int(cfg["synth_rehearsal"]) > 0,
                       rehearsal_renders=int(cfg["synth_rehearsal"]) or 2, pseudo=False, seed=int(cfg["seed"]))
    progress, epochs = _store_progress(store, run_id)
    store.update_run(run_id, metrics={"n_train": len(raw), "counts": raw.counts()})
    run = transfer_run(base, raw, acfg, float(cfg["val_split"]), augment, callbacks=[epochs], progress=progress,
                       balance=cfg["balance"])
    res = run.retrained
    out = store.files / f"models/run-{run_id}.keras"
    card = card_for(base, base_rec, res, acfg, run.scores, run.better, run.reasons, {}, None,
                    f"training run #{run_id} (Train page); config {json.dumps(cfg, ensure_ascii=False)}",
                    data={"source": raw.source, "n_train_total": len(raw), "counts": raw.counts()},
                    licence="derived from the parent model and the workspace's own labels")
    if run.ood:
        card["ood"] = run.ood
    save_version(res, out, card)
    v = run.scores.get("validation") or {}
    metrics = {"val_accuracy": v.get("new"), "parent_accuracy": v.get("parent"), "seconds": round(res.seconds, 1),
               "n_train": run.n_crops, "not_worse": run.better, "reasons": run.reasons, "scores": run.scores,
               "warnings": count_warnings(raw) + res.warnings}
    activate = bool(cfg["activate"]) and run.better
    name = cfg["name"] or f"{cfg['mode']} #{run_id}"
    rec = store.register_model(name, str(out), res.classes, metrics={k: metrics[k] for k in
                                                                    ("val_accuracy", "parent_accuracy", "seconds",
                                                                     "n_train", "not_worse")},
                               card={k: card[k] for k in ("mode", "parent", "data", "licence", "command",
                                                          "adaptation")},
                               parent_id=base_rec.id, activate=activate)
    store.update_run(run_id, metrics={**metrics, "activated": activate, "counts": raw.counts(),
                                      "classes": list(res.classes)})
    return rec.id


def eta_seconds(run: TrainingRun, at: float | None = None) -> float | None:
    """Seconds left, from the time since the run started and the fraction done (None until there is progress)."""
    from datetime import datetime

    if run.status != "running" or not run.started_at or run.progress <= 0.01:
        return None
    started = datetime.fromisoformat(run.started_at).timestamp()
    elapsed = (at if at is not None else time.time()) - started
    return max(0.0, elapsed / run.progress * (1.0 - run.progress))


def folder_counts(folder: str | os.PathLike[str]) -> dict[str, int]:
    """Images per class folder, without decoding them (for the Train page's counts before a run)."""
    root = Path(folder)
    if not root.is_dir():
        return {}
    return {d.name: sum(1 for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")}


def planned_counts(store: Store, cfg: dict) -> dict[str, int]:
    """Training crops per character that a configuration would use (before the validation split)."""
    counts: dict[str, int] = {}
    if cfg.get("workspace_labels"):
        for c, n in store.label_counts().items():
            counts[c] = counts.get(c, 0) + n
    if cfg.get("kmnist_per_class"):
        for c in KMNIST_CLASSES:
            counts[c] = counts.get(c, 0) + int(cfg["kmnist_per_class"])
    for folder in cfg.get("folders") or []:
        for c, n in folder_counts(folder).items():
            counts[c] = counts.get(c, 0) + n
    for c in dict.fromkeys(ch for ch in cfg.get("synth_chars") or "" if not ch.isspace()):
        counts[c] = counts.get(c, 0) + int(cfg.get("synth_per_char") or 0)
    return counts


# least squares over the six runs of bench/bench_adapt.py's guard section on this project's 2-core CPU (each run in
# the worker process; that section prints the estimate beside every run): every estimate within 17 % of its run
START_SECONDS = 18.0           # worker start, TensorFlow, loading the base, the parent check
PER_SAMPLE_EPOCH = 0.0003      # the head on cached features, one sample one epoch
CACHE_BUILD_SECONDS = 150.0    # renders of every class of a 3,172-class reader + their features, once per base


def estimate_seconds(n_images: int, epochs: int, mode: str, folds: int = 1, base_classes: int = 0,
                     cache_ready: bool = True, patience: int | None = None) -> float:
    """A CPU-time estimate before starting.  Feature extraction and fine-tuning train on cached features: the
    crops are expanded to about 4,000 augmented copies, the rehearsal set holds 2 renders of every base class and
    1,500 KMNIST images, and early stopping usually ends the run ``patience`` + 2 epochs after the best one (taken
    as the middle of the schedule).  Scratch: the whole network on every image."""
    if mode == "scratch":
        return 6.0 + n_images * epochs * max(folds, 1) * 0.0021

    n_own = n_images * (expand_for(n_images) + 1)
    n_total = n_own + 2 * base_classes + (1500 if base_classes else 0)
    run_epochs = epochs if patience is None else min(epochs, max(1, epochs // 2) + patience + 2)
    per = PER_SAMPLE_EPOCH * (1.6 if mode == "fine-tune" else 1.0)
    build = 0.0 if cache_ready else CACHE_BUILD_SECONDS * max(base_classes, 10) / 3172
    return START_SECONDS + build + n_total * run_epochs * per
