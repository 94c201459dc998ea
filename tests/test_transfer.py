"""Transfer learning (feature extraction, fine-tuning, scratch), its CLI, and background jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kuzushi_core.data.datasets import load_class_folders, merge
from kuzushi_core.predict.classifier import load_model
from kuzushi_core.store import Store
from kuzushi_core.train import jobs
from kuzushi_core.train.fit import TrainConfig, save, train
from kuzushi_core.train.transfer import TransferError, count_warnings, output_classes, plan, prepare

from .glyphs import bars, crosses, write_class_folders

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    """A small default-architecture model (batch norm, 3 conv blocks) trained on three bar shapes."""
    data = bars(60)
    res = train(data, TrainConfig(arch="default", epochs=4, batch_size=32, learning_rate=3e-3, patience=4))
    out = tmp_path_factory.mktemp("base") / "bars.keras"
    save(res, out)
    return out, data


def _weights(model, name):
    return [np.array(w) for w in model.get_layer(name).get_weights()]


def test_feature_extraction_freezes_the_base_keeps_old_classes_and_learns_a_new_one(base_model):
    path, old = base_model
    lm = load_model(path)
    new = crosses(40)
    data = merge([old, new], lm.classes)
    classes = output_classes(lm.classes, data.classes)
    assert classes == ("一", "丨", "口", "十")  # old classes first, in the base's order
    model = prepare(lm.model, lm.classes, classes, "feature-extraction")
    before = np.asarray(model.predict(old.images[..., None], verbose=0))
    base_probs = lm.predict_glyphs(old.images)
    # the head starts as the base's head: old classes are predicted as before
    assert (before[:, :3].argmax(1) == base_probs.argmax(1)).mean() == 1.0
    conv_before = {n: _weights(model, n) for n in ("block1_conv", "block3_conv", "block3_bn")}
    p = plan(model, "feature-extraction", lm.classes, classes)
    assert p.new_classes == ("十",) and p.trainable_params < p.total_params
    res = train(data, TrainConfig(epochs=6, batch_size=32, learning_rate=3e-3, patience=6), model=model)
    for name, ws in conv_before.items():  # the frozen base did not move (batch norm statistics included)
        for a, b in zip(ws, _weights(res.model, name)):
            np.testing.assert_array_equal(a, b)
    probs = np.asarray(res.model.predict(new.images[..., None], verbose=0))
    assert (probs.argmax(1) == 3).mean() >= 0.9
    probs_old = np.asarray(res.model.predict(old.images[..., None], verbose=0))
    assert (probs_old.argmax(1) == old.labels).mean() >= 0.9


def test_fine_tune_trains_only_the_top_conv_blocks_and_keeps_batch_norm_frozen(base_model):
    path, old = base_model
    lm = load_model(path)
    data = merge([old, crosses(30)], lm.classes)
    model = prepare(lm.model, lm.classes, data.classes, "fine-tune", unfreeze=1)
    low, top, bn = _weights(model, "block2_conv"), _weights(model, "block3_conv"), _weights(model, "block3_bn")
    res = train(data, TrainConfig(epochs=2, batch_size=32, learning_rate=1e-3, patience=2), model=model)
    assert all(np.array_equal(a, b) for a, b in zip(low, _weights(res.model, "block2_conv")))
    assert not all(np.array_equal(a, b) for a, b in zip(top, _weights(res.model, "block3_conv")))
    assert all(np.array_equal(a, b) for a, b in zip(bn, _weights(res.model, "block3_bn")))
    with pytest.raises(TransferError, match="cannot unfreeze 9"):
        prepare(lm.model, lm.classes, data.classes, "fine-tune", unfreeze=9)
    with pytest.raises(TransferError, match="unknown mode"):
        prepare(lm.model, lm.classes, data.classes, "everything")


def test_scratch_builds_a_fresh_network_and_small_classes_are_warned(base_model):
    _, old = base_model
    model = prepare(None, (), ("a", "b"), "scratch", arch="baseline")
    assert model.output_shape[-1] == 2
    with pytest.raises(TransferError, match="needs a base"):
        prepare(None, (), ("a",), "feature-extraction")
    warn = count_warnings(merge([old, crosses(4)]))
    assert len(warn) == 1 and warn[0].startswith("十: 4 crops")
    # the classes of a base kept beside the run's data have no crops in it: not warned about (the big reader has 3,172)
    assert count_warnings(merge([old, crosses(4)], (*old.classes, "十", "〇", "田"))) == warn


def test_train_cli_with_base_and_folders_in_either_polarity(base_model, tmp_path):
    path, _ = base_model
    folders = tmp_path / "crops"
    write_class_folders(folders, crosses(20), dark_on_light=True)  # dark ink on light paper, as cut from a scan
    write_class_folders(folders, bars(8), dark_on_light=False)  # white on black, as KMNIST
    assert load_class_folders(folders).counts() == {"一": 8, "丨": 8, "口": 8, "十": 20}
    out = tmp_path / "new.keras"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "train", "--base", str(path), "--mode",
                        "feature-extraction", "--data", str(folders), "--out", str(out), "--epochs", "3", "--patience", "7",
                        "--learning-rate=2e-3"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["classes"] == ["一", "丨", "口", "十"] and card["new_classes"] == ["十"]
    assert card["mode"] == "feature-extraction" and card["parent"]["classes"] == ["一", "丨", "口"]
    assert card["adaptation"]["config"]["patience"] == 7 and card["adaptation"]["config"]["epochs"] == 3
    assert card["adaptation"]["config"]["learning_rate"] == 0.002  # given as --learning-rate=…, it is taken
    assert card["adaptation"]["cut"] == "features" and card["adaptation"]["counts"]["rehearsal"] > 0  # cached features
    assert load_model(out).classes == ("一", "丨", "口", "十")
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "train", "--mode", "fine-tune", "--data", str(folders),
                        "--out", str(tmp_path / "x.keras")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "needs --base" in r.stderr and "Traceback" not in r.stderr


# -- jobs ------------------------------------------------------------------------
def _workspace_with_labels(tmp_path: Path, base_path: Path) -> tuple[Store, Path]:
    """A workspace whose model registry holds the bars model, plus a class-folder source."""
    store = Store(tmp_path / "ws")
    store.register_model("bars", str(base_path), ["一", "丨", "口"], activate=True)
    folders = tmp_path / "crops"
    write_class_folders(folders, merge([bars(20), crosses(20)]))
    return store, folders


def _add_labels(store: Store, n: int = 30) -> None:
    doc = store.ensure_document()
    (scan,), _ = store.add_scans(doc.id, [dict(content_hash="h", page_index=0, source_name="p.png", byte_size=1,
                                               width=100, height=100, format="PNG", image_path="x.png")])
    for b in store.add_boxes(scan.id, [dict(x=i, y=i, w=5, h=5) for i in range(n)]):
        store.add_label(b.id, "あ")


def test_a_job_runs_in_the_worker_and_registers_a_new_version(base_model, tmp_path):
    path, _ = base_model
    store, folders = _workspace_with_labels(tmp_path, path)
    run = jobs.submit(store, {"base_model_id": 1, "workspace_labels": False, "folders": [str(folders)],
                              "epochs": 2, "name": "with 十"}, start_worker=False)
    assert store.get_run(run.id).status == "queued"
    assert jobs.work(store) == 1
    done = store.get_run(run.id)
    assert done.status == "completed", done.error
    assert done.progress == 1.0 and done.metrics["counts"]["十"] == 20
    epochs = store.run_epochs(run.id)
    assert [e["epoch"] for e in epochs] == [0, 1] and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(epochs[0])
    model = store.active_model()
    assert model.id == done.model_id and model.parent_id == 1 and model.name == "with 十"
    assert model.classes == ("一", "丨", "口", "十") and load_model(model.path).classes == model.classes
    with pytest.raises(jobs.JobError, match="needs a base model"):
        jobs.submit(store, {"mode": "fine-tune", "folders": [str(folders)]}, start_worker=False)


def test_a_failed_job_is_recorded_and_the_next_one_still_runs(base_model, tmp_path):
    path, _ = base_model
    store, folders = _workspace_with_labels(tmp_path, path)
    bad = jobs.submit(store, {"base_model_id": 1, "workspace_labels": False, "folders": [str(tmp_path / "nowhere")]},
                      start_worker=False)
    good = jobs.submit(store, {"base_model_id": 1, "workspace_labels": False, "folders": [str(folders)],
                               "epochs": 1}, start_worker=False)
    assert jobs.work(store) == 2
    assert store.get_run(bad.id).status == "failed" and store.get_run(bad.id).error
    assert store.get_run(good.id).status == "completed"


def _wait(pred, timeout=120.0, step=0.2):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return True
        time.sleep(step)
    return False


def test_worker_process_cancel_queue_and_sigkill(base_model, tmp_path):
    """Real worker processes: one job at a time, cancel from outside, SIGKILL → failed, labels intact."""
    path, _ = base_model
    store, folders = _workspace_with_labels(tmp_path, path)
    _add_labels(store, 30)
    cfg = {"base_model_id": 1, "workspace_labels": False, "folders": [str(folders)], "epochs": 300, "patience": 300}
    first = jobs.submit(store, cfg)
    second = jobs.submit(store, cfg)  # queued behind the first: one job at a time per workspace
    assert _wait(lambda: store.get_run(first.id).status == "running" and store.run_epochs(first.id))
    assert store.get_run(second.id).status == "queued"
    assert jobs.worker_running(store)
    store.request_cancel(first.id)
    assert _wait(lambda: store.get_run(first.id).status == "cancelled", 30)
    assert _wait(lambda: store.get_run(second.id).status == "running" and store.run_epochs(second.id))
    pid = store.get_run(second.id).pid
    labels_before = {k: v.char for k, v in store.current_labels().items()}
    os.kill(pid, signal.SIGKILL)
    assert _wait(lambda: not jobs.pid_alive(pid), 10)
    t = time.time()
    assert jobs.reap(store) == [second.id]
    killed = store.get_run(second.id)
    assert killed.status == "failed" and "ended unexpectedly" in killed.error and time.time() - t < 5
    assert {k: v.char for k, v in store.current_labels().items()} == labels_before and len(labels_before) == 30
    assert store.integrity_ok()
    assert [m.name for m in store.list_models()] == ["bars"]  # neither run registered a model


def test_pipeline_augmentation_and_mixup_train_on_one_hot_targets():
    from kuzushi_core.train.augment import PRESETS, to_dict
    from kuzushi_core.train.fit import dataset

    data = bars(30)
    cfg_aug = {**to_dict(PRESETS["none"]), "mixup_alpha": 0.4}
    xb, yb = next(iter(dataset(data.images, data.labels, 16, True, 0, augment=cfg_aug, n_classes=3)))
    yb = yb.numpy()
    assert yb.shape == (16, 3) and np.allclose(yb.sum(1), 1.0)
    assert ((yb > 0.01) & (yb < 0.99)).any()  # some targets are mixed
    res = train(data, TrainConfig(arch="baseline", epochs=3, batch_size=16, augment=cfg_aug, patience=3))
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(res.history[-1])
    assert res.val_metrics["accuracy"] >= 0.6
