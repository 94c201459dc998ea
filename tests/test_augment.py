"""Augmentation: knobs mapped onto Keras layers, harm warnings, preview."""

from __future__ import annotations

import numpy as np
import pytest

from kuzushi_core.train.augment import PRESETS, AugmentConfig, from_dict, harms, mixup, preview, to_dict


def glyphs(n=8):
    g = np.zeros((n, 28, 28), np.uint8)
    g[:, 6:22, 12:15] = 255  # a vertical stroke
    g[:, 6:9, 15:22] = 255  # a hook to the right: flips are visible
    return g


def test_safe_default_and_harm_reasons():
    assert harms(PRESETS["characters (safe)"]) == []
    assert harms(AugmentConfig()) == []
    reasons = harms(AugmentConfig(horizontal_flip=True, rotation_range=30, fill_mode="wrap",
                                  width_shift_range=0.2, zoom_range=0.2))
    text = " ".join(reasons)
    assert "mirrored" in text and "20°" in text and "wrap" in text and "off the canvas" in text
    assert any("upside-down" in r for r in harms(AugmentConfig(vertical_flip=True)))
    assert harms(PRESETS["ledger (noisy paper)"]) == []


def test_every_knob_builds_and_keeps_shape_and_range():
    cfg = AugmentConfig(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
                        shear_range=8, brightness_range=0.2, contrast_range=0.2, cutout=0.5, elastic=0.5, blur=0.5,
                        ink_thickness=1, bleed_through=0.3, fill_mode="nearest")
    out = preview(glyphs(), cfg, n=16, seed=1)
    assert out.shape == (16, 28, 28) and out.min() >= -1e-3 and out.max() <= 255 + 1e-3
    assert not np.allclose(out[0], glyphs()[0])  # it did something


def test_preview_is_seeded_and_none_is_identity():
    a = preview(glyphs(), AugmentConfig(), n=8, seed=3)
    b = preview(glyphs(), AugmentConfig(), n=8, seed=3)
    assert np.allclose(a, b)
    ident = preview(glyphs(), PRESETS["none"], n=8, seed=3)
    assert np.allclose(ident, glyphs()[0].astype(np.float32))


def test_horizontal_flip_mirrors():
    out = preview(glyphs(), AugmentConfig(rotation_range=0, width_shift_range=0, height_shift_range=0, zoom_range=0,
                                          horizontal_flip=True), n=32, seed=0)
    mirrored = np.fliplr(glyphs()[0]).astype(np.float32)
    assert any(np.allclose(o, mirrored) for o in out) and any(np.allclose(o, glyphs()[0]) for o in out)


def test_rescale_and_fill_cval():
    out = preview(glyphs(), AugmentConfig(rescale=1 / 255, rotation_range=0, width_shift_range=0,
                                          height_shift_range=0, zoom_range=0), n=4)
    assert out.max() <= 1.0 + 1e-6
    shifted = preview(np.zeros((2, 28, 28), np.uint8), AugmentConfig(rotation_range=0, zoom_range=0,
                                                                    width_shift_range=0.3, height_shift_range=0,
                                                                    cval=200), n=8, seed=2)
    assert shifted.max() == pytest.approx(200, abs=1)  # the emptied border is filled with cval


def test_mixup_mixes_labels_with_the_images():
    x = np.stack([np.zeros((4, 4)), np.ones((4, 4)) * 100]).astype(np.float32)
    y = np.eye(2, dtype=np.float32)
    mx, my = mixup(x, y, alpha=0.4, seed=0)
    assert np.allclose(my.sum(1), 1)
    assert np.allclose(mx[:, 0, 0] / 100, my[:, 1])  # the share of the bright image = its label weight


def test_config_round_trip():
    cfg = AugmentConfig(rotation_range=5, cutout=0.2)
    assert from_dict(to_dict(cfg) | {"unknown": 1}) == cfg
