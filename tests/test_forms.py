"""Ruled forms segmented cell by cell (``kuzushi_core.segment.forms``): the form test, red printing against seals,
corrections struck through."""

from __future__ import annotations

import cv2
import numpy as np

from kuzushi_core.containers import RuledCell
from kuzushi_core.segment.cellseg import segment_cell
from kuzushi_core.segment.columns import SegmentParams, segment
from kuzushi_core.segment.forms import find_form, form_ink, looks_like_form


def _grid(rows: int, cols: int, h: int = 1200, w: int = 900) -> np.ndarray:
    page = np.full((h, w, 3), 235, np.uint8)
    ys = np.linspace(60, h - 60, rows + 1).astype(int)
    xs = np.linspace(60, w - 60, cols + 1).astype(int)
    for y in ys:
        cv2.line(page, (xs[0], y), (xs[-1], y), (40, 40, 40), 3)
    for x in xs:
        cv2.line(page, (x, ys[0]), (x, ys[-1]), (40, 40, 40), 3)
    return page


def _glyph(page, x, y, s, colour=(30, 30, 30)):
    """A character-like mark: a box with a stroke across (a 口 with a bar), s px."""
    cv2.rectangle(page, (x, y), (x + s, y + s), colour, 3)
    cv2.line(page, (x - 4, y + s // 2), (x + s + 4, y + s // 2), colour, 3)


def test_a_grid_is_a_form_and_a_book_page_is_not():
    page = _grid(4, 6)
    found = find_form(page)
    assert found is not None and len(found[0]) == 24
    # a book page's frame and column rules: one row of tall cells side by side
    book = np.full((1200, 900, 3), 235, np.uint8)
    cv2.rectangle(book, (60, 60), (840, 1140), (40, 40, 40), 3)
    for x in np.linspace(60, 840, 9).astype(int):
        cv2.line(book, (x, 60), (x, 1140), (40, 40, 40), 3)
    assert find_form(book) is None
    assert not looks_like_form([RuledCell(0, 0, 10, 10)] * 20, (1000, 1000))
    # the page segmenter takes the form path only where there is one
    assert segment(page).cells and not segment(book).cells
    assert not segment(page, SegmentParams(forms=False)).cells


def test_characters_are_found_cell_by_cell_in_the_forms_order():
    page = _grid(4, 4)  # cells 195 wide, 270 tall
    for k in range(2):  # two characters in the top right cell, two in the one below it, one in the top left
        _glyph(page, 720, 90 + k * 90, 50)
        _glyph(page, 720, 360 + k * 90, 50)
    _glyph(page, 130, 90, 50)
    seg = segment(page)
    assert len(seg.cells) == 16 and len(seg.boxes) == 5
    ys = [b.y for b in seg.boxes]
    assert ys[:4] == sorted(ys[:4])  # the right column of cells, top to bottom
    assert all(b.x > 650 for b in seg.boxes[:4]) and seg.boxes[4].x < 250
    assert [b.column for b in seg.boxes] == [0, 0, 1, 1, 2]  # a cell's line is a column


def test_red_printing_is_read_and_a_seal_over_writing_is_not():
    page = _grid(4, 4)
    red = (200, 60, 50)
    _glyph(page, 720, 90, 50, red)  # a heading printed in red, alone in its cell
    for k in range(2):  # writing in sumi with a red seal stamped over it, in the next cell to the left
        _glyph(page, 525, 90 + k * 90, 50)
    seal = np.zeros(page.shape[:2], np.uint8)  # vermilion over sumi: the writing stays black under it
    cv2.circle(seal, (550, 160), 45, 1, 4)
    page[seal > 0] = np.minimum(page[seal > 0], np.array(red, np.uint8))
    ink = form_ink(page, find_form(page)[0])
    assert ink[90 + 25, 720 + 1] < 120  # the printed heading kept
    assert ink[160, 550 - 45] > 200 and ink[160, 550 + 45] > 200  # the seal's ring beside the writing made paper
    boxes = segment(page).boxes
    assert sum(1 for b in boxes if b.x > 650) == 1  # the heading is read
    assert sum(1 for b in boxes if 450 < b.x < 640) == 2  # the writing, and no seal


def test_a_correction_struck_through_is_marked():
    cell = np.full((900, 200), 235, np.uint8)
    for k in range(5):  # the struck value (right) and the right one beside it (left)
        cv2.rectangle(cell, (125, 60 + k * 110), (165, 100 + k * 110), 30, 3)
        cv2.line(cell, (120, 80 + k * 110), (170, 80 + k * 110), 30, 3)
        cv2.rectangle(cell, (35, 60 + k * 110), (75, 100 + k * 110), 30, 3)
        cv2.line(cell, (30, 80 + k * 110), (80, 80 + k * 110), 30, 3)
    for dx in (-4, 4):  # 二重線 down the struck value
        cv2.line(cell, (145 + dx, 50), (147 + dx, 610), 30, 2)
    found = segment_cell(cell, RuledCell(0, 0, 200, 900))
    assert len(found) == 10
    assert found.struck and all(b[0] > 100 for b in found.struck) and len(found.struck) == 5
    # one line of writing with a long stroke down it but nothing beside it: no correction
    alone = np.full((900, 110), 235, np.uint8)
    alone[:, :] = cell[:, 90:210]
    assert not segment_cell(alone, RuledCell(0, 0, 110, 900)).struck


def test_a_forms_cells_are_read_alone_not_in_a_books_context():
    from kuzushi_core.containers import Prediction
    from kuzushi_core.context.decode import in_context
    from kuzushi_core.context.lm import CharLM
    from kuzushi_core.context.model import context_column

    page = _grid(4, 4)
    for k in range(2):
        _glyph(page, 720, 90 + k * 90, 50)
    boxes = segment(page).boxes
    assert boxes and all(b.flags.split()[0] == "cell" for b in boxes)
    assert [context_column(b.column, b.flags) for b in boxes] == [None, None]
    assert context_column(3, "") == 3 and context_column(3, "ruby") == 3
    # a language model that much prefers 二 after 一: a column is read in context, a box of a cell is not
    lm = CharLM.fit(["一二"] * 50 + ["三"], 3)
    weak = Prediction("三", 0.5, (("三", 0.5), ("二", 0.45)))
    first = Prediction("一", 0.99, (("一", 0.99),))
    assert in_context([first, weak], [0, 0], lm)[1].label == "二"
    assert in_context([first, weak], [None, None], lm)[1].label == "三"


def test_a_line_of_few_stroke_characters_is_not_split_at_every_second_character():
    """二町二反九 as the row profile sees it: 二's two strokes leave most of its rows blank, so the profile's strongest
    rhythm is every second character; the even grouping (one character every ~33 px) is kept instead."""
    from kuzushi_core.segment.cellseg import _split_line

    ink = np.zeros((190, 40), np.uint8)
    for a, b in ((14, 18), (32, 35), (44, 74), (82, 86), (100, 103), (112, 142), (147, 177)):
        ink[a:b, 5:35] = 1  # 30 px wide: the rhythm of every second character (56 px) lies within 1.9 widths
    boxes = _split_line(ink, 0, 0)
    assert [(y, y + h) for _, y, _, h in boxes] == [(14, 35), (44, 74), (82, 103), (112, 142), (147, 177)]


def test_the_struck_line_gate_never_hides_a_line_the_hough_transform_keeps():
    """``_may_hold_line`` spares most cells the Hough transform: it may let a cell through for nothing, but must
    never turn one away where ``_straight_lines`` finds a line (slanted to the limit, with 4-row gaps, at the
    margins), and it must turn away a cell of characters with no long line."""
    from kuzushi_core.segment.cellseg import _may_hold_line, _straight_lines

    rng = np.random.default_rng(7)
    lines_found = 0
    for _ in range(150):
        h, w = int(rng.integers(250, 700)), int(rng.integers(90, 260))
        ink = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(3, 12))):  # characters: short strokes
            x, y = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
            cv2.line(ink, (x, y), (x + int(rng.integers(-20, 20)), y + int(rng.integers(-30, 30))), 1, 2)
        length = int(rng.integers(100, max(101, h - 20)))
        margin = max(10, int(0.08 * w))
        if rng.random() < 0.7:  # a struck line, leaning up to a little beyond the limit, broken by gaps
            tall = int(rng.integers(int(0.8 * length), h))
            y0 = int(rng.integers(0, h - tall + 1))
            x0 = int(rng.integers(margin - 3, w - margin + 3))
            lean = float(rng.uniform(-0.1, 0.1)) * tall
            cv2.line(ink, (x0, y0), (int(round(x0 + lean)), y0 + tall - 1), 1, int(rng.integers(1, 3)))
            for _ in range(int(rng.integers(0, 8))):
                g = int(rng.integers(y0, y0 + tall))
                ink[g : g + int(rng.integers(1, 6))] = 0
        found = bool(_straight_lines(ink, length, margin))
        lines_found += found
        assert _may_hold_line(ink, length, margin) or not found
    assert lines_found >= 30  # the check saw lines, not only cells without
    # a cell of characters (squares with a bar, no stroke longer than a character) is turned away
    cell = np.zeros((900, 200), np.uint8)
    for k in range(7):
        cv2.rectangle(cell, (60, 40 + k * 120), (120, 100 + k * 120), 1, 3)
        cv2.line(cell, (90, 30 + k * 120), (90, 110 + k * 120), 1, 3)
    assert not _may_hold_line(cell, 300, 16)
