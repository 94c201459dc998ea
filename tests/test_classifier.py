"""Datasets, crop normalisation, training, calibration, safe model loading, classify/read."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kuzushi_core.crops import to_glyph
from kuzushi_core.data.datasets import (
    DatasetError,
    GlyphSet,
    assert_disjoint,
    content_hashes,
    kfold,
    load_class_folders,
    load_kmnist,
    load_seed_npz,
    load_source,
    load_workspace,
    save_seed_npz,
    stratified_split,
)
from kuzushi_core.evaluation.metrics import classification_report, expected_calibration_error
from kuzushi_core.predict import classifier
from kuzushi_core.predict.classifier import ModelFileError, classify_crops, load_model, shift_pixels, shifted_views
from kuzushi_core.train.fit import TrainConfig, fit_temperature, save, softmax, train

ROOT = Path(__file__).resolve().parent.parent

from .glyphs import bars  # noqa: E402


def test_to_glyph_unifies_polarity_and_keeps_aspect():
    crop = np.full((40, 20), 230, np.uint8)  # dark ink on light paper, tall
    crop[5:35, 8:12] = 20
    g = to_glyph(crop, 28)
    inv = to_glyph(255 - crop, 28)
    assert g.shape == (28, 28) and g.dtype == np.uint8
    assert np.abs(g.astype(int) - inv).max() <= 1  # either polarity → the same glyph
    assert g[14, 14] > 200 and g[0, 0] == 0  # white ink on black
    cols = np.flatnonzero(g.max(0) > 0)
    assert len(cols) < 10  # a thin tall stroke stays thin: aspect ratio kept
    assert to_glyph(crop, 64).shape == (64, 64)
    assert to_glyph(np.full((10, 10), 128, np.uint8)).max() == 0  # blank crop


def test_histogram_percentiles_are_numpys():
    """to_glyph's percentiles come from a histogram; they equal np.percentile's (linear interpolation) exactly."""
    from kuzushi_core.crops import percentiles_u8

    rng = np.random.default_rng(3)
    for _ in range(300):
        img = rng.integers(0, 256, (int(rng.integers(1, 60)), int(rng.integers(1, 60)))).astype(np.uint8)
        if rng.random() < 0.5:
            img = (img // 85 * 85).astype(np.uint8)  # few grey levels: many ties
        qs = (5.0, 99.5, float(rng.uniform(0, 100)))
        assert percentiles_u8(img, qs) == tuple(np.percentile(img.astype(np.float32), q) for q in qs)


def test_idx_npz_and_folders(tmp_path):
    imgs = (np.arange(4 * 28 * 28) % 256).astype(np.uint8).reshape(4, 28, 28)
    labels = np.array([0, 1, 2, 3], np.uint8)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">IIII", 0x0803, 4, 28, 28) + imgs.tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">II", 0x0801, 4) + labels.tobytes())
    test = load_kmnist(tmp_path, "test")
    assert np.array_equal(test.images, imgs) and list(test.labels) == [0, 1, 2, 3]
    with pytest.raises(DatasetError):
        load_kmnist(tmp_path, "train")

    data = bars(5)
    save_seed_npz(tmp_path / "seed.npz", data)
    back = load_seed_npz(tmp_path / "seed.npz")
    assert back.classes == data.classes and list(back.labels) == list(data.labels)
    assert np.abs(back.images.astype(int) - data.images).max() <= 2

    for i, ch in enumerate(["〇", "田"]):
        (tmp_path / "folders" / ch).mkdir(parents=True)
        for k in range(3):
            arr = np.full((50, 40), 235, np.uint8)
            arr[10:40, 10 + 5 * i : 15 + 5 * i + 10 * k] = 30
            img = arr if k != 1 else 255 - arr  # one crop in KMNIST polarity
            Image.fromarray(img).save(tmp_path / "folders" / ch / f"{k}.png")
    f = load_class_folders(tmp_path / "folders")
    assert f.classes == ("〇", "田") and f.counts() == {"〇": 3, "田": 3}
    assert load_source(tmp_path / "folders").classes == f.classes
    assert f.images[:, 0, 0].max() == 0  # background black whatever the polarity


def test_splits_are_stratified_deterministic_and_disjoint():
    y = np.repeat(np.arange(4), [100, 50, 20, 10])
    a = stratified_split(y, [0.7, 0.15, 0.15], seed=1)
    b = stratified_split(y, [0.7, 0.15, 0.15], seed=1)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert sum(len(p) for p in a) == len(y) and len(np.intersect1d(a[0], a[2])) == 0
    assert np.bincount(y[a[2]]).tolist() == [15, 8, 3, 2]
    folds = kfold(y, 5, seed=0)
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(len(y)))
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0


def test_content_hash_guard():
    rng = np.random.default_rng(0)
    d = GlyphSet(rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), np.arange(12) % 3, ("a", "b", "c"))
    with pytest.raises(DatasetError, match="test images also appear"):
        assert_disjoint(d, d.subset(np.array([0, 5])))
    assert_disjoint(d.subset(np.arange(6)), d.subset(np.arange(6, 12)))


@pytest.mark.data
def test_kmnist_protocol_never_trains_on_test(data_dir):
    train_set = load_kmnist(data_dir / "kmnist", "train")
    test_set = load_kmnist(data_dir / "kmnist", "test")
    assert len(train_set) == 7011 and len(test_set) == 10000
    assert_disjoint(train_set, test_set)
    idx_test = load_kmnist(data_dir / "kmnist", "test")
    assert np.array_equal(np.bincount(idx_test.labels), [1000] * 10)
    assert len(set(content_hashes(test_set.images))) > 9900


def test_evaluation_report_numbers():
    rep = classification_report(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), ["a", "b", "c"])
    assert rep["accuracy"] == pytest.approx(0.6)
    assert rep["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert rep["per_class"]["a"]["recall"] == pytest.approx(0.5)
    assert rep["per_class"]["c"]["f1"] == 0.0
    assert rep["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert rep["macro"]["recall"] == pytest.approx((0.5 + 1 + 0) / 3)


def test_temperature_scaling_cools_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 2000)
    logits = rng.normal(0, 1, (2000, 5))
    right = rng.random(2000) < 0.7
    logits[np.arange(2000), np.where(right, y, (y + 1) % 5)] += 3.0
    logits *= 4  # overconfident
    t = fit_temperature(logits, y)
    assert t > 2
    assert expected_calibration_error(softmax(logits / t), y) < expected_calibration_error(softmax(logits), y)


def test_temperature_is_the_minimum_of_the_validation_nll():
    from kuzushi_core.evaluation.metrics import nll

    rng = np.random.default_rng(1)
    y = rng.integers(0, 300, 400)
    logits = rng.normal(0, 1, (400, 300)).astype(np.float32)
    logits[np.arange(400), y] += 2.5
    logits *= 0.5  # underconfident: the temperature is below 1
    t = fit_temperature(logits, y)
    assert t < 1
    at = nll(softmax(logits / t), y)
    for other in (t * 0.95, t * 1.05, 1.0):
        assert at <= nll(softmax(logits / other), y)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    data = bars(60)
    res = train(data, TrainConfig(arch="baseline", epochs=6, batch_size=32, learning_rate=3e-3, patience=6))
    assert res.val_metrics["accuracy"] >= 0.9
    assert len(res.history) >= 1 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(res.history[0])
    out = tmp_path_factory.mktemp("m") / "bars.keras"
    save(res, out)
    return out, data


def test_saved_model_is_self_contained_and_classifies(tiny_model):
    path, data = tiny_model
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["classes"] == ["一", "丨", "口"] and card["input"]["height"] == 28
    lm = load_model(path)
    # dark-on-light crops of other sizes, as cut from a page
    crops = [255 - np.kron(data.images[i], np.ones((3, 3), np.uint8)) for i in (0, 70, 150)]
    preds = classify_crops(lm, crops)
    assert [p.label for p in preds] == ["一", "丨", "口"]
    for p in preds:
        assert len(p.candidates) == 3 and 0 <= p.confidence <= 1
        assert [c for c, _ in p.candidates][0] == p.label
        assert all(a[1] >= b[1] for a, b in zip(p.candidates, p.candidates[1:]))


def test_shifted_views_move_the_ink_and_keep_the_background():
    g = np.zeros((1, 28, 28), np.uint8)
    g[0, 10:14, 12:16] = 200
    right, left, down, up = shifted_views(g, 2)
    for view, (dy, dx) in zip((right, left, down, up), ((0, 2), (0, -2), (2, 0), (-2, 0))):
        ys, xs = np.nonzero(view[0])
        assert (ys.min(), xs.min()) == (10 + dy, 12 + dx) and view.sum() == g.sum()
    edge = np.zeros((1, 28, 28), np.uint8)
    edge[0, :, 27] = 255  # ink moved off the canvas is gone, background 0 comes in
    assert shifted_views(edge, 2)[0].sum() == 0 and shifted_views(edge, 2)[1][0, :, 25].all()


def test_an_unsure_glyph_is_read_in_five_views_and_a_sure_one_alone(tiny_model, monkeypatch):
    path, data = tiny_model
    lm = load_model(path)
    glyphs = data.images[[0, 70, 150]]
    alone = lm.predict_glyphs(glyphs)
    views = [glyphs, *shifted_views(glyphs, shift_pixels(lm.size, classifier.READ_SHIFT))]
    logp = np.mean([np.log(lm.predict_glyphs(v) + 1e-12) for v in views], 0)
    mean = np.exp(logp) / np.exp(logp).sum(1, keepdims=True)
    monkeypatch.setattr(classifier, "READ_SURE", 1.01)  # every glyph unsure: the geometric mean of five views
    np.testing.assert_allclose(lm.read_glyphs(glyphs), mean, rtol=1e-4, atol=1e-6)
    monkeypatch.setattr(classifier, "READ_SURE", 0.0)  # every glyph sure: read once
    np.testing.assert_array_equal(lm.read_glyphs(glyphs), alone)
    np.testing.assert_array_equal(lm.read_glyphs(glyphs, shift=0.0), alone)
    # a clear 一 and a glyph half 一, half 丨: only the second is read again
    pair = np.stack([glyphs[0], (glyphs[0] // 2 + glyphs[1] // 2)])
    alone = lm.predict_glyphs(pair)
    assert alone[1].max() < alone[0].max()
    monkeypatch.setattr(classifier, "READ_SURE", float(alone[1].max() + alone[0].max()) / 2)
    got = lm.read_glyphs(pair)
    np.testing.assert_array_equal(got[0], alone[0])
    views = [pair[1:], *shifted_views(pair[1:], shift_pixels(lm.size, classifier.READ_SHIFT))]
    logp = np.mean([np.log(lm.predict_glyphs(v) + 1e-12) for v in views], 0)
    np.testing.assert_allclose(got[1:], np.exp(logp) / np.exp(logp).sum(1, keepdims=True), rtol=1e-4, atol=1e-6)
    assert not np.allclose(got[1], alone[1])
    # a blank glyph (an archive batch's padding) reads the same moved: it is not read again
    calls = []
    real = type(lm).predict_glyphs
    monkeypatch.setattr(type(lm), "predict_glyphs", lambda self, g, batch=256: calls.append(len(g)) or real(self, g, batch))
    monkeypatch.setattr(classifier, "READ_SURE", 1.01)
    lm.read_glyphs(np.zeros((3, lm.size, lm.size), np.uint8))
    assert calls == [3]


def test_model_files_from_elsewhere_are_refused(tmp_path, tiny_model):
    import keras

    path, _ = tiny_model
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(path.read_bytes()[:500])
    (tmp_path / "corrupt.json").write_text(path.with_suffix(".json").read_text())
    with pytest.raises(ModelFileError, match="not a Keras model file|cannot be loaded"):
        load_model(bad)

    nocard = tmp_path / "nocard.keras"
    nocard.write_bytes(path.read_bytes())
    with pytest.raises(ModelFileError, match="model card"):
        load_model(nocard)

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    lam = tmp_path / "lambda.keras"
    keras.Model(inp, out).save(lam)
    (tmp_path / "lambda.json").write_text(json.dumps({"classes": ["a", "b", "c"]}))
    with pytest.raises(ModelFileError, match="safely"):
        load_model(lam)

    inp = keras.Input((32, 32, 3))
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inp))
    wrong = tmp_path / "wrong.keras"
    keras.Model(inp, out).save(wrong)
    (tmp_path / "wrong.json").write_text(json.dumps({"classes": ["a", "b", "c"]}))
    with pytest.raises(ModelFileError, match="expects input"):
        load_model(wrong)


def test_classify_cli(tmp_path, tiny_model):
    path, data = tiny_model
    files = []
    for i in (0, 150):
        f = tmp_path / f"c{i}.png"
        Image.fromarray(255 - data.images[i]).save(f)
        files.append(f)
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "classify", *map(str, files), "--json", str(out),
                        "--model", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(out.read_text())
    assert [r["image"] for r in rows] == [str(f) for f in files]
    assert rows[0]["label"] == "一" and rows[1]["label"] == "口"
    assert isinstance(rows[0]["candidates"][0], list) and rows[0]["candidates"][0][0] == "一"


def test_workspace_labels_become_a_dataset(tmp_path):
    from kuzushi_core.data.intake import import_bytes
    from kuzushi_core.store import Store

    from . import imagegen as g

    s = Store(tmp_path / "ws")
    doc = s.ensure_document("L")
    scan = import_bytes(s, g.rgb("PNG", 120, 80), "p.png", doc.id).scans[0]
    boxes = s.add_boxes(scan.id, [dict(x=5, y=10, w=20, h=20), dict(x=40, y=10, w=20, h=20), dict(x=5, y=60, w=10, h=10)])
    s.add_label(boxes[0].id, "お")
    s.add_label(boxes[1].id, "〇")
    s.add_label(boxes[0].id, "を")  # a correction: the latest label counts
    ds = load_workspace(tmp_path / "ws")
    assert ds.classes == ("〇", "を") and sorted(ds.labels.tolist()) == [0, 1] and ds.images.shape == (2, 28, 28)


def test_k49_from_small_generated_files(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("test", 6)):
        np.savez(tmp_path / f"k49-{split}-imgs.npz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        np.savez(tmp_path / f"k49-{split}-labels.npz", np.arange(n) % 3)
    (tmp_path / "k49_classmap.csv").write_text("index,codepoint,char\n0,U+3042,あ\n1,U+3044,い\n2,U+3046,う\n")
    tr = load_source(tmp_path, split="train")
    te = load_source(tmp_path, split="test")
    assert tr.classes == ("あ", "い", "う") and len(tr) == 12 and len(te) == 6


@pytest.mark.data
def test_codh_page_crops(data_dir):
    from kuzushi_core.data.datasets import load_codh_pages

    folder = data_dir / "pages" / "100241706"
    crops = load_codh_pages(folder)
    assert len(crops) == 225 and crops.images.shape == (225, 28, 28)
    assert "の" in crops.classes and "し" in crops.classes
    assert crops.counts()["の"] >= 5
    assert set(crops.pages) == {"100241706_00004_2", "100241706_00005_1", "100241706_00005_2"}
    one = load_codh_pages(folder, pages={"100241706_00004_2"})
    assert len(one) == 67
    assert crops.images[:, 0, :].mean() < 40  # background black after normalisation


def test_default_architecture_saves_and_reloads_in_safe_mode(tmp_path):
    """Every layer of the default model (augmentation included) must survive save → safe load."""
    from kuzushi_core.train.architectures import FEATURES, build, conv_blocks

    for size in (28, 64):
        m = build("default", 4, size)
        assert m.get_layer(FEATURES) is not None and len(conv_blocks(m)) == 3
        path = tmp_path / f"d{size}.keras"
        m.save(path)
        (tmp_path / f"d{size}.json").write_text(json.dumps({"classes": ["a", "b", "c", "d"]}))
        lm = load_model(path)
        x = np.zeros((2, size, size), np.uint8)
        assert np.allclose(lm.predict_glyphs(x), m.predict(x[..., None], verbose=0), atol=1e-5)


def test_read_page_shows_a_broken_model_as_a_message(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kuzushi_core.data.intake import import_bytes
    from kuzushi_core.store import Store

    from . import imagegen as g

    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    s = Store(tmp_path / "ws")
    doc = s.ensure_document("L")
    import_bytes(s, g.rgb("PNG", 400, 300), "p.png", doc.id)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "broken.json").write_text(json.dumps({"classes": ["a"]}))
    s.register_model("broken", str(broken), ["a"], activate=True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/read.py").run()
    at.button(key="read_run").click().run()
    assert not at.exception
    assert any("broken.keras" in e.value for e in at.error)
    assert len(s.list_scans()) == 1


def test_stroke_jitter_thickens_thins_or_keeps():
    from kuzushi_core.train.fit import dataset

    x = np.zeros((64, 28, 28), np.uint8)
    x[:, 10:18, 13:15] = 255  # an 8×2 stroke
    out, _ = next(iter(dataset(x, np.zeros(64, int), 64, shuffle=False, jitter=True)))
    ink = [(np.asarray(out)[i] > 0).sum() for i in range(64)]
    assert set(ink) == {7, 16, 27}  # eroded (7×1), unchanged (8×2), dilated (9×3)
    assert np.asarray(out).dtype == np.uint8


def test_ood_centroids_of_classes_without_crops_are_finite(tiny_model):
    from kuzushi_core.predict.classifier import fit_ood, load_model, ood_factor

    path, data = tiny_model
    lm = load_model(path)
    only_two = data.subset(np.flatnonzero(data.labels < 2))
    ood = fit_ood(lm.model, only_two.images, only_two.labels, 3)
    cents = np.asarray(ood["centroids"])
    assert np.isfinite(cents).all() and not cents[2].any()
    lm.card = {**lm.card, "ood": ood}
    f = ood_factor(lm, data.images[:10])
    assert np.isfinite(f).all() and ((f >= 0) & (f <= 1)).all()


def test_repeated_training_pipeline_is_whole_reshuffled_passes():
    """fit() runs on one endless iterator (steps_per_epoch = one pass): each pass holds every glyph exactly once,
    batches never straddle two passes, and the order changes from pass to pass."""
    from kuzushi_core.train.fit import dataset

    n, batch = 50, 16
    x = np.zeros((n, 28, 28), np.uint8)
    y = np.arange(n) % 5
    x[:, 0, 0] = np.arange(n)  # each glyph carries its index
    it = iter(dataset(x, y, batch, shuffle=True, seed=3, repeat=True))
    steps = int(np.ceil(n / batch))
    passes = []
    for _ in range(3):
        ids = np.concatenate([np.asarray(next(it)[0])[:, 0, 0, 0] for _ in range(steps)])
        assert sorted(ids.tolist()) == list(range(n))
        passes.append(ids.tolist())
    assert passes[0] != passes[1] or passes[1] != passes[2]
