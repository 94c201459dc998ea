"""Generated handwritten pages (the segmentation protocol's second test set)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kuzushi_core.evaluation.scoring import score
from kuzushi_core.segment.columns import segment
from kuzushi_core.synth.handwritten import HANDWRITTEN, HIRAGANA, handwriting_glyphs, handwritten_page
from kuzushi_core.synth.kanapages import generate_page


def stray_marks(page) -> int:
    """Small marks of ink outside every true box (and away from the ruling)."""
    import cv2

    ink = (page.image.min(axis=2) < 110).astype(np.uint8)
    for b in page.boxes:
        ink[max(0, b.y - 3) : b.y + b.h + 3, max(0, b.x - 3) : b.x + b.w + 3] = 0
    n, _, st, _ = cv2.connectedComponentsWithStats(ink)
    return int(sum(1 for i in range(1, n) if 15 <= st[i, cv2.CC_STAT_AREA] and st[i, cv2.CC_STAT_WIDTH] < 60
                   and st[i, cv2.CC_STAT_HEIGHT] < 60))


def test_handwriting_glyphs_come_from_several_hands():
    g = handwriting_glyphs(n_kanji=10, size=48)
    assert g.images.shape[1:] == (48, 48) and g.images.dtype == np.uint8
    assert g.classes[: len(HIRAGANA)] == tuple(HIRAGANA)
    counts = np.bincount(g.labels, minlength=len(g.classes))
    assert (counts[: len(HIRAGANA)] >= 2).mean() > 0.9  # most kana in two hands or more
    assert all(img.max() > 128 for img in g.images)  # white ink on black, none empty


def test_handwritten_page_truth_fits_the_ink_and_leaves_ruby_out():
    g = handwriting_glyphs(n_kanji=40, size=48)
    small = replace(HANDWRITTEN, width=1200, height=1800, rotation_deg=0.0, seals=(0, 0), bleed_through=0.0)
    page = handwritten_page(g, 3, small)
    assert len(page.boxes) > 30
    ink = page.image.min(axis=2) < 128
    for b in page.boxes:
        assert 0 <= b.x and b.x + b.w <= 1200 and 0 <= b.y and b.y + b.h <= 1800
        assert ink[b.y : b.y + b.h, b.x : b.x + b.w].any()
    # ruby adds ink beside the characters, not characters to transcribe
    assert stray_marks(generate_page(g, seed=3, params=replace(small, ruby=1.0))) > 40
    assert stray_marks(generate_page(g, seed=3, params=replace(small, ruby=0.0))) < 5
    # the segmenter finds most characters on a clean page of the set (a smoke test: the bench scores it)
    s = score({"p": page.boxes}, {"p": [b.as_dict() for b in segment(page.image).boxes]})["overall"]
    assert s["centre"]["f1"] > 0.7


def test_warichu_two_lines_of_small_writing_are_two_sub_columns_right_then_left():
    """A note in two lines of small characters inside a column (割注): the segmenter reads the right line, then the
    left, each character a box of its own — where one box used to span both lines."""
    from kuzushi_core.segment.columns import SegmentParams

    g = handwriting_glyphs(n_kanji=120, size=64)
    params = replace(HANDWRITTEN, warichu=0.08, touching=0.0, overlap=0.0, ruby=0.0)
    page = generate_page(g, seed=3, params=params)
    on = segment(page.image, SegmentParams(forms=False))
    off = segment(page.image, SegmentParams(forms=False, warichu=0.0))
    f1 = {k: score({"p": page.boxes}, {"p": [b.as_dict() for b in s.boxes]})["overall"]["iou50"]["f1"]
          for k, s in (("on", on), ("off", off))}
    assert f1["on"] > f1["off"] + 0.03, f1
    notes = [b for b in on.boxes if "warichu" in b.flags]
    assert len(notes) >= 8
    # within each run of a note's boxes (consecutive in reading order): the right line's boxes before the left's
    runs, cur = [], [notes[0]]
    for a, b in zip(notes, notes[1:]):
        if b.order == a.order + 1:
            cur.append(b)
        else:
            runs.append(cur)
            cur = [b]
    runs.append(cur)
    for run in runs:
        xs = [b.x + b.w / 2 for b in run]
        mid = (min(xs) + max(xs)) / 2
        sides = ["R" if x > mid else "L" for x in xs]
        assert "".join(sides) == "R" * sides.count("R") + "L" * sides.count("L"), sides
        ys_right = [b.y for b, s in zip(run, sides) if s == "R"]
        assert ys_right == sorted(ys_right)  # top to bottom in each line
    assert not any("warichu" in b.flags for b in segment(handwritten_page(g, 60005).image,
                                                          SegmentParams(forms=False)).boxes)  # none where there is none
