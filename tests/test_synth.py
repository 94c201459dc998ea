"""Synthetic glyphs: vocabulary, fonts and their coverage, seeded brush-and-paper renders, variant kana."""

from __future__ import annotations

import numpy as np
import pytest

from kuzushi_core.synth import dataset as sd
from kuzushi_core.synth import fonts, render, variants, vocabulary

from .conftest import require_data_enabled


@pytest.fixture(scope="module")
def faces():
    have = fonts.available()
    if not have:
        msg = f"no reader fonts installed (missing {', '.join(fonts.missing_packages())}; scripts/install_fonts.sh)"
        if require_data_enabled():
            pytest.fail(msg)
        pytest.skip(msg)
    return have


def test_jis_level1_has_2965_kanji():
    k = vocabulary.jis_level1_kanji()
    assert len(k) == 2965 and len(set(k)) == 2965
    assert k[0] == "亜" and "地" in k and "畑" in k
    assert not set(k) & set(vocabulary.jis_level2_kanji())


def test_vocabulary_holds_what_a_register_needs(faces, data_dir):
    voc = vocabulary.build(data_dir)
    assert len(voc) >= 3000 and len(set(voc)) == len(voc)
    assert voc[:10] == tuple(vocabulary.KMNIST)
    for ch in "圓錢壹貳參萬〇々ゝ〆廿卅畝歩町反坪地租価":
        assert ch in voc, ch
    assert set(vocabulary.page_characters(data_dir)) <= set(voc)
    assert {vocabulary.kind(c) for c in "あア地〇"} == {"kana", "kanji", "other"}


def test_fonts_coverage_is_read_from_the_font(faces):
    names = {f.name for f in faces}
    assert names & {"kouzan-gyosho", "kouzan-sosho", "aoyagi-soseki"}, "no brush face found"
    for f in faces:
        cov = fonts.coverage(f)
        assert len(cov) > 1000
        assert "\U0001F600" not in cov  # no font here draws an emoji
    assert all(isinstance(p, str) for p in fonts.missing_packages())


def test_render_is_seeded_and_looks_like_a_crop(faces):
    f = fonts.faces_for("地", faces)
    a = render.samples_for("地", f, 16, seed=5, others=tuple("のし"))
    b = render.samples_for("地", f, 16, seed=5, others=tuple("のし"))
    c = render.samples_for("地", f, 16, seed=6, others=tuple("のし"))
    assert a.shape == (16, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # white ink on black, like every crop after to_glyph: a dark border, bright strokes
    assert a[:, 0, :].mean() < a.mean() < 200 and a.max() >= 250


def test_clean_render_and_specimen(faces):
    face = fonts.faces_for("畑", faces)[0]
    img = render.clean("畑", face, 48)
    assert img.shape == (48, 48) and img[0].min() == 255 and img.min() < 64  # dark ink on white
    sheet = render.specimen("畑", size=48)
    assert sheet is not None and sheet.shape[0] == 48 and sheet.shape[1] >= 48
    assert render.specimen("\U0001F600") is None


def test_jitter_crop_is_seeded():
    page = np.full((200, 200), 230, np.uint8)
    page[60:140, 90:110] = 20
    a = render.jitter_crop(page, 80, 50, 40, 100, np.random.default_rng(1))
    b = render.jitter_crop(page, 80, 50, 40, 100, np.random.default_rng(1))
    assert a.shape == (28, 28) and np.array_equal(a, b) and a.max() >= 250


def test_hentaigana_readings():
    assert variants.hentaigana_reading(chr(0x1B002)) == "あ"
    assert variants.hentaigana_reading(chr(0x1B00B)) == "う"
    assert variants.hentaigana_reading("あ") is None
    assert all(len(k) == 1 and v for k, v in variants.SOURCES.items())


def test_variant_jobs_label_kana(faces):
    jobs = sd.variant_jobs(2, seed=0, faces=faces, sources=True)
    assert jobs, "no variant forms drawn by the installed fonts"
    assert {j.label for j in jobs} <= set(vocabulary.HIRAGANA)
    assert any(j.draw != j.label for j in jobs)
    # without the source kanji only the Unicode hentaigana remain (a cursive 三 is no longer labelled み)
    unicode_only = sd.variant_jobs(2, seed=0, faces=faces)
    assert all(0x1B000 <= ord(j.draw) <= 0x1B16F for j in unicode_only)
    assert [j for j in jobs if 0x1B000 <= ord(j.draw) <= 0x1B16F] == unicode_only


def test_a_held_out_face_is_never_rendered_for_training(faces, monkeypatch):
    """$KUZUSHI_HOLD_OUT_FACES keeps a face out of every training render (stage 1 and 2, rehearsal, the
    vocabulary's count of faces), not out of the faces test pages are written in."""
    name = faces[0].name
    monkeypatch.delenv(fonts.HOLD_OUT_ENV, raising=False)
    assert any(name in j.faces for j in sd.plain_jobs("田地あ", 1, seed=0))
    monkeypatch.setenv(fonts.HOLD_OUT_ENV, f" {name} , no-such-face")
    assert fonts.held_out() == {name, "no-such-face"}
    assert name not in {f.name for f in fonts.training_faces()} and name in {f.name for f in fonts.available()}
    jobs = sd.plain_jobs("田地あ", 1, seed=0)
    assert jobs and not any(name in j.faces for j in jobs)
    assert not any(name in j.faces for j in sd.variant_jobs(1, seed=0))


def test_synthetic_set_is_the_same_whatever_the_processes(faces, tmp_path, monkeypatch):
    monkeypatch.setenv("KUZUSHI_CACHE", str(tmp_path))
    jobs = sd.plain_jobs("田畑地", 4, seed=3, faces=faces)
    one = sd.make(jobs, processes=1, cache=False)
    two = sd.make(jobs, processes=2, cache=False)
    assert one.classes == ("田", "畑", "地") and len(one) == 12
    assert np.array_equal(one.images, two.images) and np.array_equal(one.labels, two.labels)
    cached = sd.make(jobs, processes=1, cache=True)
    again = sd.make(jobs, processes=1, cache=True, classes=("地", "田", "畑"))  # from the cache, relabelled
    assert np.array_equal(cached.images, again.images)
    assert [again.classes[i] for i in again.labels] == [cached.classes[i] for i in cached.labels]
