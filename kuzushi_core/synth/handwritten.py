"""Generated handwritten pages: the brush and handwriting fonts written into ruled columns, with exact boxes.

The segmentation protocol's second test set (the first is the shared book's pages, left out one at a time).
Characters are kana and common kanji drawn by the hands of :mod:`.fonts` (each face only where it really draws
the character); the page is :func:`kuzushi_core.synth.kanapages.generate_page`'s form — ruled columns and
cells, a frame and header band, red seals, bleed-through, uneven light, skew — with characters that touch or run
into the one above and ruby readings beside some of them (not in the truth: a reader transcribes the text).
"""

from __future__ import annotations

import numpy as np

from kuzushi_core.data.datasets import GlyphSet
from kuzushi_core.synth import fonts
from kuzushi_core.synth.kanapages import LedgerPage, LedgerParams, generate_page
from kuzushi_core.synth.render import master
from kuzushi_core.synth.vocabulary import jis_level1_kanji

HIRAGANA = "".join(chr(c) for c in range(0x3042, 0x3094) if chr(c) not in "ぁぃぅぇぉっゃゅょゎ")

#: the page form of the protocol: denser and messier than the KMNIST pages of the segmentation benchmark
HANDWRITTEN = LedgerParams(width=2400, height=3600, columns=(7, 11), cells_per_column=(1, 2),
                           glyph_scale=(0.55, 0.85), blank_cell=0.05, touching=0.3, overlap=0.15, ruby=0.06,
                           rotation_deg=1.5, seals=(1, 3), bleed_through=0.12)


def _square(g: np.ndarray, size: int) -> np.ndarray:
    """A cropped float glyph → uint8 size×size, white ink on black, aspect kept, a small margin."""
    import cv2

    h, w = g.shape
    scale = (size * 0.92) / max(h, w)
    r = cv2.resize(g, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size), np.float32)
    y, x = (size - r.shape[0]) // 2, (size - r.shape[1]) // 2
    out[y:y + r.shape[0], x:x + r.shape[1]] = r
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


def handwriting_glyphs(n_kanji: int = 300, size: int = 64, faces=None) -> GlyphSet:
    """Hiragana and the first ``n_kanji`` JIS level-1 kanji in every installed hand that draws them."""
    hands = ("kouzan-gyosho", "kouzan-sosho", "aoyagi-soseki", "kouzan-kaisho", "aoyagi-kouzan", "kiloji", "seto")
    have = {f.name: f for f in (faces or fonts.available())}
    faces = [have[n] for n in hands if n in have] or list(have.values())
    if not faces:
        raise fonts.FontError("no Japanese font is installed (bash scripts/install_fonts.sh)")
    chars = HIRAGANA + jis_level1_kanji()[:n_kanji]
    images, labels = [], []
    for face in faces:
        cover = fonts.coverage(face)
        for i, ch in enumerate(chars):
            if ch not in cover:
                continue
            m = master(ch, face, size * 2)
            if m.size == 0:
                continue
            images.append(_square(m, size))
            labels.append(i)
    return GlyphSet(np.stack(images), np.array(labels), tuple(chars), "handwriting fonts")


def handwritten_page(glyphs: GlyphSet, seed: int, params: LedgerParams = HANDWRITTEN) -> LedgerPage:
    return generate_page(glyphs, seed=seed, params=params)
