"""Augmentation: the familiar ``ImageDataGenerator`` knobs on Keras 3 preprocessing layers.

Keras 3 has no ``ImageDataGenerator``; :class:`AugmentConfig` keeps its knob
names (``rotation_range`` in degrees, ``width_shift_range``, ``zoom_range``,
``shear_range`` in degrees, flips, ``fill_mode`` with ``cval``, ``rescale``)
and :func:`build` maps them onto Keras layers — ``RandomRotation``,
``RandomTranslation``, ``RandomZoom``, ``RandomShear``, ``RandomFlip``,
``RandomBrightness``, ``RandomContrast``, ``RandomErasing`` (cutout),
``RandomGaussianBlur``, ``RandomElasticTransform``, ``MixUp`` — with small
custom layers only where Keras has none (ink thickness, bleed-through).  The
same pipeline serves training and the preview grid.

Images are glyphs in KMNIST polarity (white ink on black, 0–255).  A
configuration harmful to characters is reported by :func:`harms` with the
reason: a flipped character is another character (or none).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from kuzushi_core.i18n import t
from kuzushi_core.lazy import keras, tf

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


@dataclass(frozen=True)
class AugmentConfig:
    rotation_range: float = 8.0  # degrees, ±
    width_shift_range: float = 0.06  # fraction of the width, ±
    height_shift_range: float = 0.06
    zoom_range: float = 0.08  # ±
    shear_range: float = 0.0  # degrees, ±
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: str = "constant"
    cval: float = 0.0  # fill value for fill_mode="constant" (0 = the black background of a glyph)
    rescale: float = 1.0  # multiplies the output, as ImageDataGenerator's rescale (1/255 → 0..1)
    brightness_range: float = 0.0  # ±fraction
    contrast_range: float = 0.0  # ±fraction
    cutout: float = 0.0  # probability of erasing a random patch (random erasing)
    mixup_alpha: float = 0.0  # Beta(α, α) mixing of pairs (labels mixed too); 0 = off
    elastic: float = 0.0  # strength of elastic distortion, 0 = off
    blur: float = 0.0  # probability of a Gaussian blur
    ink_thickness: int = 0  # strokes randomly up to this many px thicker or thinner
    bleed_through: float = 0.0  # opacity of a mirrored ghost of another glyph (ink from the back of the sheet)


PRESETS: dict[str, AugmentConfig] = {
    "characters (safe)": AugmentConfig(),
    "none": AugmentConfig(rotation_range=0, width_shift_range=0, height_shift_range=0, zoom_range=0),
    "ledger (noisy paper)": AugmentConfig(rotation_range=8, zoom_range=0.1, brightness_range=0.2, contrast_range=0.2,
                                          blur=0.3, ink_thickness=1, bleed_through=0.25, cutout=0.2),
    "strong": AugmentConfig(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.15,
                            shear_range=10, elastic=0.5, ink_thickness=1, cutout=0.3),
}
DEFAULT_PRESET = "characters (safe)"


def harm_codes(cfg: AugmentConfig) -> list[tuple[str, dict]]:
    """Why a configuration hurts characters, as (code, figures) pairs — the words are in the UI catalogue
    (``aug.harm.<code>``), in each language."""
    out: list[tuple[str, dict]] = []
    if cfg.horizontal_flip:
        out.append(("horizontal_flip", {}))
    if cfg.vertical_flip:
        out.append(("vertical_flip", {}))
    if cfg.rotation_range > 20:
        out.append(("rotation", {"deg": cfg.rotation_range}))
    shift = max(cfg.width_shift_range, cfg.height_shift_range)
    if shift + cfg.zoom_range / 2 > 0.2:
        out.append(("reach", {"shift": shift, "zoom": cfg.zoom_range}))
    if cfg.zoom_range > 0.3:
        out.append(("zoom", {"zoom": cfg.zoom_range}))
    if cfg.shear_range > 20:
        out.append(("shear", {"deg": cfg.shear_range}))
    if cfg.fill_mode in ("reflect", "wrap") and (cfg.rotation_range or cfg.width_shift_range or cfg.height_shift_range
                                                 or cfg.zoom_range or cfg.shear_range):
        out.append(("fill", {"mode": cfg.fill_mode}))
    if cfg.fill_mode == "constant" and cfg.cval > 64:
        out.append(("cval", {"cval": cfg.cval}))
    return out


def harms(cfg: AugmentConfig, lang: str = "en") -> list[str]:
    """Reasons why a configuration hurts characters, in words (empty when it is safe)."""
    return [t(f"aug.harm.{code}", lang, **figures) for code, figures in harm_codes(cfg)]


def _custom_layers():

    @keras.saving.register_keras_serializable(package="kuzushi")
    class RandomInkThickness(keras.layers.Layer):
        """Strokes made up to ``pixels`` thicker (grey dilation) or thinner (erosion), per image."""

        def __init__(self, pixels: int = 1, seed: int | None = None, **kw):
            super().__init__(**kw)
            self.pixels, self.seed = int(pixels), seed

        def call(self, x, training=True):
            if not training or self.pixels <= 0:
                return x
            k = 2 * self.pixels if self.pixels > 0 else 1
            thick = tf.nn.max_pool2d(x, k, 1, "SAME")
            thin = -tf.nn.max_pool2d(-x, k, 1, "SAME")
            choice = tf.random.uniform((tf.shape(x)[0], 1, 1, 1), 0, 3, dtype=tf.int32, seed=self.seed)
            return tf.where(choice == 0, thick, tf.where(choice == 1, thin, x))

        def get_config(self):
            return {**super().get_config(), "pixels": self.pixels, "seed": self.seed}

    @keras.saving.register_keras_serializable(package="kuzushi")
    class RandomBleedThrough(keras.layers.Layer):
        """A faint mirrored ghost of another glyph of the batch, as ink seen through thin paper."""

        def __init__(self, opacity: float = 0.2, seed: int | None = None, **kw):
            super().__init__(**kw)
            self.opacity, self.seed = float(opacity), seed

        def call(self, x, training=True):
            if not training or self.opacity <= 0:
                return x
            ghost = tf.reverse(tf.roll(x, shift=1, axis=0), axis=[2])
            a = tf.random.uniform((tf.shape(x)[0], 1, 1, 1), 0, self.opacity, seed=self.seed)
            return tf.maximum(x, ghost * a)

        def get_config(self):
            return {**super().get_config(), "opacity": self.opacity, "seed": self.seed}

    return RandomInkThickness, RandomBleedThrough


def ink_thickness_layer(pixels: int = 1, seed: int | None = None):
    """The layer that makes strokes randomly thicker or thinner (also used by the training pipeline)."""
    return _custom_layers()[0](pixels, seed=seed)


def build(cfg: AugmentConfig, seed: int = 0):
    """The augmentation as a ``keras.Sequential`` of preprocessing layers (image-level; mixup is separate)."""
    layers = keras.layers

    if cfg.fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}")
    ink_layer, bleed_layer = _custom_layers()
    fill = dict(fill_mode=cfg.fill_mode, fill_value=float(cfg.cval))
    steps = []
    if cfg.bleed_through:
        steps.append(bleed_layer(cfg.bleed_through, seed=seed + 9))
    if cfg.ink_thickness:
        steps.append(ink_layer(cfg.ink_thickness, seed=seed + 8))
    if cfg.rotation_range:
        steps.append(layers.RandomRotation(cfg.rotation_range / 360.0, seed=seed, **fill))
    if cfg.shear_range:
        s = math.tan(math.radians(cfg.shear_range))
        steps.append(layers.RandomShear(s, s, seed=seed + 1, **fill))
    if cfg.width_shift_range or cfg.height_shift_range:
        steps.append(layers.RandomTranslation(cfg.height_shift_range, cfg.width_shift_range, seed=seed + 2, **fill))
    if cfg.zoom_range:
        steps.append(layers.RandomZoom((-cfg.zoom_range, cfg.zoom_range), seed=seed + 3, **fill))
    if cfg.elastic:
        steps.append(layers.RandomElasticTransform(factor=1.0, scale=cfg.elastic, value_range=(0, 255),
                                                   fill_mode="constant", fill_value=float(cfg.cval), seed=seed + 4))
    flip = {(True, False): "horizontal", (False, True): "vertical", (True, True): "horizontal_and_vertical"}
    if cfg.horizontal_flip or cfg.vertical_flip:
        steps.append(layers.RandomFlip(flip[(cfg.horizontal_flip, cfg.vertical_flip)], seed=seed + 5))
    if cfg.brightness_range:
        steps.append(layers.RandomBrightness(cfg.brightness_range, value_range=(0, 255), seed=seed + 6))
    if cfg.contrast_range:
        steps.append(layers.RandomContrast(cfg.contrast_range, value_range=(0, 255), seed=seed + 7))
    if cfg.blur:
        steps.append(layers.RandomGaussianBlur(factor=cfg.blur, kernel_size=3, sigma=1.0, value_range=(0, 255),
                                               seed=seed + 10))
    if cfg.cutout:
        steps.append(layers.RandomErasing(factor=cfg.cutout, scale=(0.02, 0.15), fill_value=0.0,
                                          value_range=(0, 255), seed=seed + 11))
    if cfg.rescale != 1.0:
        steps.append(layers.Rescaling(cfg.rescale))
    return keras.Sequential(steps or [layers.Identity()], name="augment")


def mixup(images: np.ndarray, onehot: np.ndarray, alpha: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mix each image with a random partner: λ·a + (1−λ)·b, labels likewise, λ ~ Beta(α, α)."""
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha, size=len(images)).astype(np.float32)
    perm = rng.permutation(len(images))
    li = lam.reshape(-1, *([1] * (images.ndim - 1)))
    return li * images + (1 - li) * images[perm], lam[:, None] * onehot + (1 - lam[:, None]) * onehot[perm]


def preview(glyphs: np.ndarray, cfg: AugmentConfig, n: int = 32, seed: int = 0) -> np.ndarray:
    """``n`` augmented samples of the given glyphs (uint8 N×S×S) → float32 n×S×S, through the training layers."""

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    pick = glyphs[rng.integers(0, len(glyphs), n)].astype(np.float32)[..., None]
    # built anew every time (13 ms): a cached pipeline's random layers keep their generator state, and the same
    # seed must give the same grid
    out = np.asarray(build(cfg, seed)(pick, training=True))[..., 0]
    if cfg.mixup_alpha:
        out, _ = mixup(out, np.eye(1, dtype=np.float32)[np.zeros(n, int)], cfg.mixup_alpha, seed)
    return out


def to_dict(cfg: AugmentConfig) -> dict:
    return asdict(cfg)


def from_dict(d: dict) -> AugmentConfig:
    known = {k: v for k, v in d.items() if k in AugmentConfig.__dataclass_fields__}
    return replace(AugmentConfig(), **known)


def montage(images: np.ndarray, cols: int = 8, scale: int = 2, rescale: float = 1.0) -> np.ndarray:
    """A grid of glyphs as one uint8 image (one picture for the page instead of 32), 1 px grey gutters."""
    imgs = np.asarray(images, np.float32)
    if rescale and rescale != 1.0:
        imgs = imgs / rescale  # back to 0–255 for display
    imgs = np.clip(imgs, 0, 255).astype(np.uint8)
    n, h, w = imgs.shape
    rows = -(-n // cols)
    out = np.full((rows * (h * scale + 1) + 1, cols * (w * scale + 1) + 1), 96, np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        big = np.kron(im, np.ones((scale, scale), np.uint8))
        out[1 + r * (h * scale + 1): 1 + r * (h * scale + 1) + h * scale,
            1 + c * (w * scale + 1): 1 + c * (w * scale + 1) + w * scale] = big
    return out
