"""The reader: its architecture, the warm start from the KMNIST model, a class learned from fonts alone,
and the shipped model of thousands of characters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kuzushi_core.paths import MODELS_DIR

from .test_synth import faces  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


def test_reader_architecture_saves_without_optimizer_and_reloads_safely(tmp_path):
    import keras

    from kuzushi_core.train.architectures import build
    from kuzushi_core.train.fit import save_weights_only_model

    m = build("reader", 50)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 255, (8, 28, 28, 1)).astype("float32")
    m.fit(x, np.arange(8), epochs=1, verbose=0)
    path = tmp_path / "r.keras"
    save_weights_only_model(m, path)
    back = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(back(x, training=False), m(x, training=False), atol=1e-5)
    n = m.count_params()
    assert path.stat().st_size < n * 4 * 1.5, "the optimizer state was saved too"


def test_warm_start_copies_the_kmnist_model_blocks():
    import keras

    from kuzushi_core.train.architectures import build, warm_start

    donor = keras.saving.load_model(MODELS_DIR / "kmnist10.keras", safe_mode=True, compile=False)
    m = build("reader", 20)
    copied = warm_start(m, donor)
    assert {"block1_conv", "block2_conv", "block3_conv", "block3_bn"} <= set(copied)
    assert "block4_conv" not in copied
    for name in copied:
        for a, b in zip(m.get_layer(name).get_weights(), donor.get_layer(name).get_weights()):
            assert np.array_equal(a, b)


def test_a_new_class_from_font_renders_alone(tmp_path, faces, data_dir):  # noqa: F811
    """train --base … --synth CHARS: a character the model lacks is learned from zero real crops."""
    from kuzushi_core.predict.classifier import classify_crops, load_model
    from kuzushi_core.synth.fonts import faces_for
    from kuzushi_core.synth.render import samples_for

    out = tmp_path / "plus.keras"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "train", "--base", str(MODELS_DIR / "kmnist10.keras"),
                        "--mode", "feature-extraction", "--synth", "畑", "--synth-per-char", "120", "--epochs", "10",
                        "--rehearsal", str(data_dir / "kmnist"), "--per-class", "60",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["classes"][:10] == list("おきすつなはまやれを") and card["classes"][10:] == ["畑"]
    assert card["new_classes"] == ["畑"]
    lm = load_model(out)
    fresh = samples_for("畑", faces_for("畑", faces), 30, seed=991, others=tuple("のし"))  # renders never trained on
    preds = classify_crops(lm, list(255 - fresh))  # as dark-ink crops, the way a page gives them
    assert sum(p.label == "畑" for p in preds) >= 24


def test_synth_needs_a_base_and_a_font(tmp_path):
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "train", "--synth", "畑", "--out", str(tmp_path / "x.keras")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error:") and "--base" in r.stderr


@pytest.fixture(scope="module")
def shipped():
    from kuzushi_core.predict.classifier import load_model

    return load_model(MODELS_DIR / "default.keras")


def test_shipped_reader_knows_thousands_of_characters(shipped):
    classes = shipped.classes
    assert len(classes) >= 3000 and len(set(classes)) == len(classes)
    for ch in "おきすつなはまやれを〇々ゝ〆圓錢壹貳參萬地番田畑宅反畝歩円銭厘":
        assert ch in classes, ch
    assert shipped.card["open_set"]["method"] in ("msp", "maxlogit", "energy", "margin")
    assert (MODELS_DIR / "default.keras").stat().st_size < 25e6


def test_shipped_reader_on_the_kmnist_test_set(shipped, data_dir):
    """Argmax over all the reader's classes, on the 10,000 official test images (never trained on)."""
    from kuzushi_core.data.datasets import load_kmnist

    km = load_kmnist(data_dir / "kmnist", "test")
    idx = np.array([shipped.classes.index(c) for c in km.classes])
    acc = float((shipped.predict_glyphs(km.images).argmax(1) == idx[km.labels]).mean())
    assert acc >= KMNIST_FLOOR, acc


# issue #12 asks for 0.95 (argmax over all classes); the shipped reader with its KMNIST specialist measures 0.957
# (BENCHMARKS.md, reader), without it 0.938.
KMNIST_FLOOR = 0.95


def test_classify_gives_five_candidates_from_the_vocabulary(tmp_path, page_images, shipped):
    from kuzushi_core.imaging import read_image

    page = read_image(page_images[0], gray=True)
    crops = []
    for i, (x, y) in enumerate([(1852, 1736), (1816, 2096)]):
        p = tmp_path / f"c{i}.png"
        import cv2

        cv2.imwrite(str(p), page[y : y + 200, x : x + 120])
        crops.append(p)
    out = tmp_path / "c.json"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "classify", *map(str, crops), "--json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 2
    for row in rows:
        assert len(row["candidates"]) == 5 and all(c in shipped.classes for c, _ in row["candidates"])
        assert row["label"] == row["candidates"][0][0] and 0 <= row["confidence"] <= 1


def test_a_training_job_can_take_a_class_from_fonts(store, faces):  # noqa: F811
    """The Train page's "new characters from brush fonts": the job's data holds renders of them, no crop needed."""
    from kuzushi_core.train import jobs

    cfg = jobs.normalise({"mode": "feature-extraction", "base_model_id": 1, "workspace_labels": False,
                          "synth_chars": "畑 田", "synth_per_char": 20})
    data = jobs.build_data(store, cfg, ("お", "き"), 28)
    assert data.classes == ("お", "き", "田", "畑") and data.counts() == {"お": 0, "き": 0, "田": 20, "畑": 20}
    assert jobs.planned_counts(store, cfg) == {"畑": 20, "田": 20}
    with pytest.raises(jobs.JobError):
        jobs.normalise({"mode": "feature-extraction", "base_model_id": 1, "workspace_labels": False})


def test_stage_two_recipe_on_a_small_base(tmp_path, faces, data_dir):  # noqa: F811
    """train_pages end to end on a small base (the pages' characters, KMNIST's, hiragana): model, card, KMNIST test."""
    from kuzushi_core.predict.classifier import load_model
    from kuzushi_core.synth.vocabulary import HIRAGANA, KMNIST, page_characters
    from kuzushi_core.train.architectures import build
    from kuzushi_core.train.fit import save_weights_only_model
    from kuzushi_core.train.reader import ReaderConfig, page_names, pages_data, train_pages

    classes = tuple(dict.fromkeys(KMNIST + HIRAGANA + page_characters(data_dir)))
    base = tmp_path / "base.keras"
    save_weights_only_model(build("reader", len(classes)), base)
    base.with_suffix(".json").write_text(json.dumps({"classes": list(classes)}, ensure_ascii=False))
    held = page_names(data_dir)[0]
    cfg = ReaderConfig(page_jitter=2, rehearsal_per_class=1, kmnist_rehearsal=200, variant_per_form=1, page_epochs=1,
                       processes=1)
    out = tmp_path / "reader.keras"
    res = train_pages(base, data_dir, out, set(page_names(data_dir)) - {held}, cfg)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["classes"] == list(classes) and card["pages"] == sorted(set(page_names(data_dir)) - {held})
    assert card["test"]["argmax_over"] == len(classes) and 0 <= card["test"]["accuracy"] <= 1
    assert {f["package"] for f in card["fonts"]} <= {"fonts-kouzan-mouhitsu", "fonts-aoyagi-kouzan-t",
                                                    "fonts-aoyagi-soseki", "fonts-kiloji", "fonts-seto",
                                                    "fonts-oradano-mincho-gsrr", "fonts-ipamj-mincho", "fonts-noto-cjk"}
    assert res["n_train"] > 0 and load_model(out).classes == classes
    # the prior adjustment counted exactly what stage 2 trained on (the recipe, counted without rendering)
    train, _val = pages_data(data_dir, classes, set(page_names(data_dir)) - {held}, cfg)
    assert card["prior_adjustment"]["tau"] == cfg.prior_tau > 0
    assert card["prior_adjustment"]["counts"] == np.bincount(train.labels, minlength=len(classes)).tolist()
    # the KMNIST specialist beside it, its weight chosen on KMNIST's validation split
    sp = card["specialist"]
    by = sp["validation_by_weight"]
    assert sp["model"] == "kmnist10.keras" and by[str(sp["weight"])]["nll"] <= min(v["nll"] for v in by.values()) + 1e-6
    assert 0 <= card["test_without_specialist"]["accuracy"] <= 1
    assert load_model(out).model.get_layer("specialist_logits") is not None


def test_prior_adjustment_moves_the_argmax_off_the_big_classes():
    """adjust_for_prior lowers each logit by tau * log(prior): a class trained on 1,000 times more often loses
    exactly tau * log(1000) against a rare one, and the argmax of an ambiguous input changes to the rare class."""
    import keras

    from kuzushi_core.train.reader import adjust_for_prior

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(2, name="logits")(inp))
    model.get_layer("logits").set_weights([np.eye(2, dtype=np.float32), np.array([1.0, 0.0], np.float32)])
    x = np.array([[0.0, 0.5]], np.float32)  # logits 1.0 / 0.5: the big class wins
    assert model.predict(x, verbose=0).argmax() == 0
    adjust_for_prior(model, np.array([999, 0]), 0.5)
    z = model.predict(x, verbose=0)[0]
    assert z.argmax() == 1 and np.isclose((z[0] - z[1]) - 0.5, -0.5 * np.log(1000), atol=1e-4)


def _reader_and_specialist():
    import keras

    from kuzushi_core.train.architectures import build

    keras.utils.set_random_seed(3)
    reader, spec = build("reader", 20), build("default", 3)
    rng = np.random.default_rng(1)
    for m in (reader, spec):  # random heads, so that the outputs differ from class to class
        layer = m.get_layer("logits")
        layer.set_weights([w + rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in layer.get_weights()])
    x = rng.integers(0, 255, (6, 28, 28, 1)).astype("float32")
    return reader, spec, x


def test_a_specialist_reranks_only_its_classes(tmp_path):
    """with_specialist: log p(c) = log p_reader(c) + w log p_specialist(c) + const for the specialist's classes,
    log p_reader(c) + the same const for all others; the numpy twin gives the same; saved and reloaded safely; its
    temperature folds into both terms; transfer learning starts from it (the specialist stays behind)."""
    from kuzushi_core.predict.classifier import load_model
    from kuzushi_core.train.architectures import with_specialist, without_specialist
    from kuzushi_core.train.fit import fold_temperature, logits_of, save_weights_only_model, softmax
    from kuzushi_core.train.reader import with_specialist_logits
    from kuzushi_core.train.transfer import prepare

    reader, spec, x = _reader_and_specialist()
    index, w = [5, 7, 9], 1.5
    both = with_specialist(reader, spec, index, w)
    lp_r = np.log(np.asarray(reader(x, training=False), np.float64))
    lp_s = np.log(np.asarray(spec(x, training=False), np.float64))
    lp = np.log(np.asarray(both(x, training=False), np.float64))
    d = lp - lp_r
    d[:, index] -= w * lp_s
    assert np.allclose(d, d[:, :1], atol=1e-4), "one constant per glyph"
    assert not np.allclose(lp[:, index], lp_r[:, index] + d[:, :1], atol=1e-3), "the specialist changed nothing"
    twin = softmax(with_specialist_logits(logits_of(reader, x), logits_of(spec, x), np.array(index), w))
    assert np.allclose(twin, np.exp(lp), atol=1e-5)
    assert np.allclose(without_specialist(both)(x, training=False), np.exp(lp_r), atol=1e-6)

    path = tmp_path / "both.keras"
    save_weights_only_model(both, path)
    path.with_suffix(".json").write_text(json.dumps({"classes": [f"c{i}" for i in range(20)]}))
    back = load_model(path)
    g = x[..., 0].astype(np.uint8)
    assert np.allclose(back.predict_glyphs(g), both(g[..., None].astype("float32"), training=False), atol=1e-5)
    z = logits_of(both, x)
    fold_temperature(both, 2.0)
    assert np.allclose(logits_of(both, x), z / 2, atol=1e-4)

    new = prepare(both, tuple(f"c{i}" for i in range(20)), ("c5", "c7", "〇"), "fine-tune", 2, arch="reader")
    assert new.output_shape[-1] == 3 and new.get_layer("logits").kernel.shape[0] == 512
    k_old = both.get_layer("reader_logits").get_weights()[0]
    assert np.allclose(new.get_layer("logits").get_weights()[0][:, 0], k_old[:, 5])


def test_the_specialist_weight_has_the_lowest_calibrated_nll():
    """A specialist that is right where the reader hesitates gets a weight; one that is wrong gets none."""
    from kuzushi_core.train.reader import choose_specialist_weight

    rng = np.random.default_rng(0)
    y = np.tile([1, 2], 50)  # the reader's classes 1 and 2 (of 3); the specialist knows them as its 0 and 1
    z = np.zeros((100, 3))
    z[:, 1:] = 1.0 + rng.normal(0, 0.3, (100, 2))  # the reader hesitates between them
    right = np.where(y[:, None] == np.array([1, 2]), np.log(0.9), np.log(0.1))
    w, table = choose_specialist_weight(z, right, np.array([1, 2]), y)
    assert w > 0 and table[w]["nll"] == min(v["nll"] for v in table.values()) and table[w]["accuracy"] == 1.0
    w, table = choose_specialist_weight(z, right[:, ::-1], np.array([1, 2]), y)
    assert w == 0.0 and all(v["temperature"] > 0 for v in table.values())


def test_a_specialist_trained_on_another_split_is_refused(tmp_path):
    """Its weight is chosen on KMNIST's validation split: a specialist that may have trained on it is refused."""
    import shutil

    from kuzushi_core.predict.classifier import ModelFileError
    from kuzushi_core.train.reader import ReaderConfig, attach_specialist

    path = tmp_path / "other.keras"
    shutil.copy(MODELS_DIR / "kmnist10.keras", path)
    card = json.loads((MODELS_DIR / "kmnist10.json").read_text())
    card["training"]["config"]["seed"] = 7
    path.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False))
    classes = tuple(card["classes"]) + ("田",)
    with pytest.raises(ModelFileError, match="holdout of seed 0"):
        attach_specialist(None, classes, tmp_path, None, ReaderConfig(), path)
    with pytest.raises(ModelFileError, match="lacks"):
        attach_specialist(None, classes[1:], tmp_path, None, ReaderConfig(), path)
