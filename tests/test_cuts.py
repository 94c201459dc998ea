"""Boxes chosen by reading: the corpus' character-geometry prior and the decoder that chooses a column's cuts with
the reader, the language model and the prior together (kuzushi_core.context.geometry, kuzushi_core.context.cuts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kuzushi_core.containers import Box
from kuzushi_core.context.cuts import CutWeights, _Edge, best_path, column_edges, cut_weights_of, geometry_of
from kuzushi_core.context.decode import ContextWeights
from kuzushi_core.context.geometry import Geometry, column_unit, fit_geometry
from kuzushi_core.context.lm import CharLM
from kuzushi_core.context.model import load_lm

from .conftest import need

ROOT = Path(__file__).resolve().parent.parent
TOY = ["木の下に人", "木の上に人", "十八の人", "人の木"] * 5


def square_columns(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [[SimpleNamespace(w=int(w), h=int(h)) for w, h in zip(rng.normal(40, 3, 8), rng.normal(40, 4, 8))]
            for _ in range(n)]


def test_geometry_prior_prefers_a_characters_proportions():
    geo = fit_geometry(square_columns())
    assert geo.boxes == 320
    one = geo.logp(40, 40, 40)
    assert one > geo.logp(40, 82, 40) + 2  # two characters taken as one
    assert one > geo.logp(8, 6, 40) + 2    # a sliver of a stroke
    assert np.isfinite(geo.logp(1, 5000, 40)) and np.isfinite(geo.logp(0, 10, 40))  # nothing impossible
    again = Geometry.from_dict(geo.as_dict())  # the card's round trip
    assert again.logp(40, 40, 40) == pytest.approx(one, abs=1e-3)
    with pytest.raises(ValueError):
        Geometry.from_dict(geo.as_dict() | {"bins": 8})
    assert column_unit([10, 40, 42, 39]) == pytest.approx(39.5)


def two_atoms_lattice():
    """A column of two boxes (0, 1), their merge (2) and nothing else: edges single/single or merged."""
    return [_Edge(0, 1, [0]), _Edge(1, 2, [1]), _Edge(0, 2, [2])], 2


def test_the_path_merges_where_the_merged_box_reads_as_a_character_and_not_otherwise():
    lm = CharLM.fit(TOY, 3)
    w = ContextWeights(lm=0.0, prior=0.0, temperature=1.0)  # the reader and the geometry alone
    cw = CutWeights(geometry=1.0, bonus=0.0)
    edges, n = two_atoms_lattice()
    flat = [0.0, 0.0, 0.0]
    # halves read as nothing in particular, the whole read confidently: merged
    unsure_halves = [[("十", 0.3), ("八", 0.3)], [("八", 0.3), ("人", 0.3)], [("木", 0.95), ("十", 0.02)]]
    path = best_path(unsure_halves, flat, n, edges, lm, w, cw)
    assert [e.glyphs for e in path] == [[2]]
    # halves read confidently, the whole not: kept apart
    sure_halves = [[("木", 0.97), ("十", 0.01)], [("人", 0.97), ("八", 0.01)], [("木", 0.2), ("十", 0.2)]]
    path = best_path(sure_halves, flat, n, edges, lm, w, cw)
    assert [e.glyphs for e in path] == [[0], [1]]
    # the geometry prior decides between equal readings: the merged box is two characters tall
    even = [[("木", 0.6)], [("人", 0.6)], [("木", 0.36)]]
    assert [e.glyphs for e in best_path(even, [0.0, 0.0, -6.0], n, edges, lm, w, cw)] == [[0], [1]]
    assert [e.glyphs for e in best_path(even, [-6.0, -6.0, 0.0], n, edges, lm, w, cw)] == [[2]]
    # the language model tips a close call: 十八 is a word of the toy corpus
    close = [[("十", 0.5)], [("八", 0.5)], [("木", 0.3)]]
    assert [e.glyphs for e in best_path(close, flat, n, edges, lm, w, cw)] == [[2]]
    with_lm = ContextWeights(lm=1.0, prior=0.0, temperature=1.0)
    assert [e.glyphs for e in best_path(close, flat, n, edges, lm, with_lm, cw)] == [[0], [1]]


def test_the_bonus_a_glyph_sets_how_readily_a_box_is_split():
    lm = CharLM.fit(TOY, 3)
    w = ContextWeights(lm=0.0, prior=0.0, temperature=1.0)
    edges = [_Edge(0, 1, [0]), _Edge(0, 1, [1, 2])]  # one box, or its two halves
    cands = [[("木", 0.5)], [("十", 0.5)], [("八", 0.5)]]
    keep = best_path(cands, [0.0] * 3, 1, edges, lm, w, CutWeights(bonus=0.0))
    split = best_path(cands, [0.0] * 3, 1, edges, lm, w, CutWeights(bonus=2.0))
    assert [e.glyphs for e in keep] == [[0]] and [e.glyphs for e in split] == [[1, 2]]


def test_only_unsure_boxes_are_offered_merges_and_splits_and_cells_never():
    gray = np.full((400, 100), 255, np.uint8)
    gray[10:50, 30:70] = 0
    gray[60:100, 30:70] = 0     # a box holding two characters one above the other (10..100)
    gray[130:148, 30:70] = 0    # a character whose two parts the segmenter took apart (130..170)
    gray[152:170, 30:70] = 0
    boxes = [Box(30, 10, 40, 90, column=0, order=0), Box(30, 130, 40, 18, column=0, order=1),
             Box(30, 152, 40, 18, column=0, order=2)]
    variants, edges = column_edges(gray, boxes, [False, False, False], 40.0, CutWeights())
    assert len(variants) == 3 and len(edges) == 3  # all sure: nothing else considered
    variants, edges = column_edges(gray, boxes, [True, True, False], 40.0, CutWeights())
    kinds = sorted((e.start, e.end - e.start, len(e.glyphs)) for e in edges)
    # the singles, the split of box 0, the merge 1+2 (0+1 would be three characters tall)
    assert kinds == [(0, 1, 1), (0, 1, 2), (1, 1, 1), (1, 2, 1), (2, 1, 1)]
    halves = [variants[v] for e in edges if len(e.glyphs) == 2 for v in e.glyphs]
    assert halves[0].y + halves[0].h <= 60 and halves[1].y >= 50  # cut between the two characters
    merged = next(variants[e.glyphs[0]] for e in edges if e.end - e.start == 2)
    assert (merged.y, merged.h) == (130, 40)
    cells = [Box(b.x, b.y, b.w, b.h, column=0, order=b.order, flags="cell") for b in boxes]
    _, edges = column_edges(gray, cells, [True, True, True], 40.0, CutWeights())
    assert len(edges) == 3  # a register's cells are read by their grammar, never recut


def test_the_shipped_language_model_carries_the_corpus_geometry(data_dir):
    need(data_dir / "corpus", "the corpus")
    lm = load_lm()
    assert lm is not None
    geo = geometry_of(lm)
    assert geo is not None and geo.boxes > 100_000
    assert geo.logp(40, 44, 40) > geo.logp(40, 100, 40) + 1
    cut_weights_of(lm)  # readable whatever the card chose (None: no cutting by reading)


def test_read_with_cuts_on_keeps_or_merges_or_splits_the_segmenters_boxes(tmp_path, data_dir):
    need(data_dir / "pages", "the shared book's pages")
    image = next((data_dir / "pages").glob("*/images/100241706_00005_2.jpg"))
    outs = {}
    for how in ("off", "on"):
        out = tmp_path / f"{how}.json"
        res = run("read", image, "--json", out, "--cuts", how)
        assert res.returncode == 0, res.stderr
        outs[how] = json.loads(out.read_text())["pages"][0]["boxes"]
    off = [(b["x"], b["y"], b["w"], b["h"]) for b in outs["off"]]
    on = [(b["x"], b["y"], b["w"], b["h"]) for b in outs["on"]]
    assert [b["order"] for b in outs["on"]] == list(range(len(on)))

    def inside(a, b):
        return b[0] <= a[0] and b[1] <= a[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]

    def union(a, b):
        x0, y0 = min(a[0], b[0]), min(a[1], b[1])
        return (x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0)

    assert on != off  # the shipped reader is unsure of a few boxes of this page: reading recuts some
    merges = {union(a, b) for a, b in zip(off, off[1:])}
    for box in on:  # a box of the segmenter's, two consecutive ones merged, or a part of one split
        assert box in off or box in merges or any(inside(box, b) for b in off), box
    assert all(b["candidates"] for b in outs["on"])


def run(*args):
    return subprocess.run([sys.executable, "-m", "kuzushi_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
