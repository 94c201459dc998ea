"""A character in a font, then brush-and-paper augmentation that imitates a segmenter's crop.

:func:`master` renders a clean glyph (ink = 1.0 on 0.0, cropped to its ink).  :func:`sample`
turns a master into what the segmenter would cut from a scan: the glyph scaled with a
random aspect, rotated and sheared, elastically distorted, strokes thickened or thinned,
blurred, with uneven ink, laid on tinted and noisy paper with bleed-through from the other
side and the neighbours of its column above and below, cut by a box whose margins jitter as
a segmenter's do, and finally normalised by :func:`kuzushi_core.crops.to_glyph` — the same
function every real crop goes through.  Every sample is a pure function of its seed.
:func:`jitter_crop` gives real crops the same box jitter.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.synth import fonts
from kuzushi_core.synth.fonts import FontFace


@dataclass(frozen=True)
class SynthConfig:
    """The ranges of the brush-and-paper augmentation (each drawn uniformly per sample)."""

    size: int = 28            # output glyph size
    height: int = 56          # working height of the character in pixels
    aspect: float = 0.15      # width/height scaled by 1 ± aspect
    rotation: float = 5.0     # degrees, ±
    shear: float = 0.15       # ±
    elastic: float = 2.5      # displacement in px (at ``height``), smoothed over ~height/8
    stroke_p: float = 0.6     # probability of a stroke-width change
    blur: float = 1.2         # max Gaussian sigma in px
    ink: tuple[float, float] = (0.55, 1.0)    # ink density
    paper: tuple[float, float] = (0.55, 0.95)  # paper brightness
    noise: float = 0.05       # max paper noise (sd)
    bleed_p: float = 0.3      # probability of bleed-through from the other side
    neighbour_p: float = 0.6  # probability of a neighbour's strokes above / below
    margin: tuple[float, float] = (-0.06, 0.16)  # box margin jitter per side, share of the glyph's size

    def to_dict(self) -> dict:
        return asdict(self)


CLEAN = SynthConfig(aspect=0, rotation=0, shear=0, elastic=0, stroke_p=0, blur=0, ink=(1, 1), paper=(1, 1), noise=0,
                    bleed_p=0, neighbour_p=0, margin=(0.02, 0.02))


@functools.lru_cache(maxsize=8)
def _pil_font(path: str, index: int, px: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, px, index=index)


@functools.lru_cache(maxsize=4096)
def master(char: str, face: FontFace, px: int = 64) -> np.ndarray:
    """The clean glyph: float32 ink (1.0) on 0.0, cropped to the ink; 0×0 when the face draws nothing."""
    from PIL import Image, ImageDraw

    font = _pil_font(str(face.path), face.index, px)
    canvas = Image.new("L", (px * 2, px * 2), 0)
    ImageDraw.Draw(canvas).text((px // 2, px // 2), char, fill=255, font=font)
    a = np.asarray(canvas, np.float32) / 255.0
    ys, xs = np.nonzero(a > 0.08)
    if len(ys) == 0:
        return np.zeros((0, 0), np.float32)
    out = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    out.setflags(write=False)
    return out


def clean(char: str, face: FontFace, size: int = 64) -> np.ndarray:
    """A render for people (the Read page's candidates): uint8 size×size, dark ink on white."""
    m = master(char, face, max(64, size))
    if m.size == 0:
        return np.full((size, size), 255, np.uint8)
    g = to_glyph((m * 255).astype(np.uint8), size, pad=0.06)  # white ink on black, as to_glyph expects
    return 255 - g


def _scaled(m: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    h = cfg.height * rng.uniform(0.85, 1.05)
    s = h / max(m.shape)
    ar = 1.0 + rng.uniform(-cfg.aspect, cfg.aspect)
    nh = max(2, int(round(m.shape[0] * s)))
    nw = max(2, int(round(m.shape[1] * s * ar)))
    return cv2.resize(m, (nw, nh), interpolation=cv2.INTER_AREA)


def _affine(g: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    pad = int(0.25 * max(g.shape)) + 2
    g = cv2.copyMakeBorder(g, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    h, w = g.shape
    a = np.deg2rad(rng.uniform(-cfg.rotation, cfg.rotation))
    sh = rng.uniform(-cfg.shear, cfg.shear)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[1, sh], [0, 1]])
    c = np.array([w / 2, h / 2])
    M = np.hstack([rot, (c - rot @ c)[:, None]])
    g = cv2.warpAffine(g, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    if cfg.elastic > 0:
        sigma = max(2.0, cfg.height / 8)
        amp = rng.uniform(0, cfg.elastic)
        dx = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
        dy = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
        norm = amp / (np.abs(np.concatenate([dx, dy])).max() + 1e-6)
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        g = cv2.remap(g, gx + dx * norm, gy + dy * norm, cv2.INTER_LINEAR, borderValue=0)
    return g


def _strokes(g: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    if rng.random() < cfg.stroke_p:
        r = int(rng.choice([-1, 1, 1, 2]))  # thicker more often: woodblock and brush strokes are heavy
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(r) + 1, 2 * abs(r) + 1))
        g = cv2.dilate(g, k) if r > 0 else cv2.erode(g, k)
    if cfg.blur > 0:
        s = rng.uniform(0, cfg.blur)
        if s > 0.3:
            g = cv2.GaussianBlur(g, (0, 0), s)
    return g


def _bbox(g: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(g > 0.25)
    if len(ys) == 0:
        return 0, 0, g.shape[1], g.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def sample(m: np.ndarray, rng: np.random.Generator, cfg: SynthConfig = SynthConfig(),
           neighbours: tuple[np.ndarray, ...] = ()) -> np.ndarray:
    """One augmented crop of master ``m`` → uint8 cfg.size² glyph (white ink on black), as a real crop becomes."""
    g = _strokes(_affine(_scaled(m, rng, cfg), rng, cfg), rng, cfg)
    x, y, w, h = _bbox(g)
    g = g[y : y + h, x : x + w]
    lo, hi = cfg.ink
    ink = np.clip(g, 0, 1) * rng.uniform(lo, hi)
    if lo < 1:  # uneven ink: a smooth field over the glyph
        field = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), max(2.0, max(h, w) / 6))
        ink *= np.clip(0.75 + (field - field.mean()) * 3.0, 0.45, 1.0)
    # a page patch: the glyph in the middle, room above and below for the column's neighbours
    room = int(0.6 * max(h, w))
    H, W = h + 2 * room, w + 2 * room
    layer = np.zeros((H, W), np.float32)
    layer[room : room + h, room : room + w] = ink
    for i, nb in enumerate(neighbours[:2]):
        if rng.random() >= cfg.neighbour_p or nb.size == 0:
            continue
        ng = _scaled(nb, rng, cfg)
        ng = ng[:, : W] * rng.uniform(lo, hi)
        gap = int(rng.uniform(0.02, 0.2) * h)
        nh, nw = ng.shape
        x0 = max(0, min(W - nw, room + (w - nw) // 2 + int(rng.integers(-w // 6 - 1, w // 6 + 1))))
        if i == 0:  # above
            y1 = room - gap
            y0 = y1 - nh
            src = ng[max(0, -y0) :, :]
            y0 = max(0, y0)
        else:       # below
            y0 = room + h + gap
            src = ng[: max(0, H - y0), :]
        if y0 < H and src.size:
            sl = layer[y0 : y0 + src.shape[0], x0 : x0 + src.shape[1]]
            np.maximum(sl, src[: sl.shape[0], : sl.shape[1]], out=sl)
    paper = rng.uniform(*cfg.paper)
    ink_tone = rng.uniform(0.0, 0.3) * paper
    img = np.full((H, W), paper, np.float32)
    if rng.random() < cfg.bleed_p:  # the other side's ink, mirrored and blurred
        other = neighbours[-1] if neighbours else m
        b = cv2.resize(np.ascontiguousarray(other[:, ::-1]), (W, H), interpolation=cv2.INTER_AREA)
        img -= cv2.GaussianBlur(b, (0, 0), 2.0) * rng.uniform(0.05, 0.18) * paper
    grad = np.linspace(-1, 1, W, dtype=np.float32)[None, :] * rng.uniform(-0.06, 0.06)
    img = img + grad
    img = img - (img - ink_tone) * np.clip(layer, 0, 1)
    if cfg.noise > 0:
        img += rng.standard_normal((H, W)).astype(np.float32) * rng.uniform(0, cfg.noise)
    page = np.clip(img * 255, 0, 255).astype(np.uint8)
    # the box a segmenter would draw around the glyph, with jittered margins
    s = max(h, w)
    mlo, mhi = cfg.margin
    l, r, t, b = (int(round(rng.uniform(mlo, mhi) * s)) for _ in range(4))
    x0, x1 = max(0, room - l), min(W, room + w + r)
    y0, y1 = max(0, room - t), min(H, room + h + b)
    return to_glyph(crop_box(page, x0, y0, x1 - x0, y1 - y0, margin=0.0), cfg.size)


def jitter_crop(page: np.ndarray, x: int, y: int, w: int, h: int, rng: np.random.Generator, size: int = 28,
                shift: float = 0.06, margin: tuple[float, float] = (-0.05, 0.12)) -> np.ndarray:
    """A real character box cut again with the box jitter of a segmenter (shift and per-side margins)."""
    s = max(w, h)
    dx, dy = (int(round(rng.uniform(-shift, shift) * s)) for _ in range(2))
    l, r, t, b = (int(round(rng.uniform(*margin) * s)) for _ in range(4))
    x0, y0 = x + dx - l, y + dy - t
    return to_glyph(crop_box(page, x0, y0, max(2, w + l + r), max(2, h + t + b)), size)


def samples_for(char: str, faces: tuple[FontFace, ...], n: int, seed: int, cfg: SynthConfig = SynthConfig(),
                others: tuple[str, ...] = ()) -> np.ndarray:
    """``n`` augmented glyphs of ``char``, the fonts taken in turn; reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    masters = [(f, master(char, f)) for f in faces]
    masters = [(f, mm) for f, mm in masters if mm.size]
    out = np.zeros((n, cfg.size, cfg.size), np.uint8)
    if not masters:
        return out[:0]
    for i in range(n):
        face, mm = masters[i % len(masters)]
        nbs = []
        for _ in range(2):
            if others:
                o = others[int(rng.integers(len(others)))]
                om = master(o, face)
                nbs.append(om if om.size else mm)
        out[i] = sample(mm, rng, cfg, tuple(nbs))
    return out


def specimen(char: str, face_names: tuple[str, ...] | None = None, size: int = 56) -> np.ndarray | None:
    """``char`` drawn in each display face that has it, side by side (uint8, dark ink on white), for people who
    compare a crop with the candidates' brush forms.  None when no installed face writes it."""
    names = fonts.DISPLAY_FACES if face_names is None else face_names
    tiles = []
    for face in fonts.available():
        if face.name in names and char in fonts.coverage(face):
            tiles.append(clean(char, face, size))
            tiles.append(np.full((size, 4), 255, np.uint8))
    if not tiles:
        return None
    return np.hstack(tiles[:-1])
