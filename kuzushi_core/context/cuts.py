"""Boxes chosen by reading: a column's cuts decided by the reader, the language model and the geometry prior together.

The segmenter proposes a column's boxes; some are two characters taken as one (a box twice a character tall), some
one character cut in two (a kanji whose parts stand apart).  For every box of a column the decoder also considers
the box merged with the next one and the box split at its row projection's emptiest row
(:func:`kuzushi_core.segment.refine.split_box`), reads every variant, and keeps the path through the column with
the best joint score:

    Σ_glyphs [ log p_reader(c | crop) + prior · log P(c) + geometry · log g(box | column) + bonus ]
        + lm · Σ log [P_LM(c_i | c_{i-2} c_{i-1}) / P(c_i)]

— the reading-in-context score of :mod:`kuzushi_core.context.decode` with two more terms a glyph: the geometry
prior ``g`` (:mod:`kuzushi_core.context.geometry`: the box's height and width relative to its column, from the
corpus' real boxes) and a constant ``bonus`` a glyph (a path of more glyphs pays more terms; the bonus sets the
balance).  A beam search over (position in the column, the last two characters) finds the path; the boxes it goes
through are the page's boxes, read afterwards in context as any page is.  The weights are chosen
leave-one-page-out (``bench/bench_context.py``, "cuts") and carried by the language model's card.

Boxes of a ruled form's cells (flagged ``cell``: a register's grammar reads them) and of a note in two lines of
small writing (``warichu``: the segmenter found its sub-columns) are never recut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kuzushi_core.containers import Box, Prediction
from kuzushi_core.context.decode import ContextWeights, lm_term, prior_term
from kuzushi_core.context.geometry import Geometry, column_unit
from kuzushi_core.context.lm import BOS, EOS, CharLM
from kuzushi_core.crops import crop_box, to_gray
from kuzushi_core.predict.classifier import classify_crops
from kuzushi_core.segment.refine import split_box, union_box


@dataclass(frozen=True)
class CutWeights:
    geometry: float = 1.0   # weight of the geometry prior's log density
    bonus: float = 0.0      # added a glyph
    max_merged: float = 1.6  # a merged box is at most this × the character size tall and wide
    min_split: float = 1.0   # a box is tried split only when at least this × the character size tall
    min_part: float = 0.35   # ... into parts at least this × the character size tall
    unsure: float = 0.5  # only boxes read below this confidence (crop by crop) are tried merged or split
    beam: int = 16


def cut_weights_of(lm: CharLM) -> CutWeights | None:
    """The cut weights the language model's card carries (None: the card chose no cutting by reading)."""
    w = lm.meta.get("cuts")
    if not w:
        return None
    return CutWeights(**{k: type(getattr(CutWeights, k))(v) for k, v in w.items() if k in CutWeights.__dataclass_fields__})


def geometry_of(lm: CharLM) -> Geometry | None:
    doc = lm.meta.get("geometry")
    return Geometry.from_dict(doc) if doc else None


@dataclass
class _Edge:
    start: int
    end: int
    glyphs: list[int]  # indices into the column's variant list


def _recuttable(b: Box) -> bool:
    return not {"cell", "warichu"} & set((b.flags or "").split())


def column_edges(gray: np.ndarray, boxes: Sequence[Box], unsure: Sequence[bool], char: float, cw: CutWeights
                 ) -> tuple[list[Box], list[_Edge]]:
    """The variants of one column (its boxes; the unsure ones' merges with the next and their splits) and the
    lattice's edges."""
    variants: list[Box] = list(boxes)
    edges = [_Edge(i, i + 1, [i]) for i in range(len(boxes))]
    for i, b in enumerate(boxes):
        if not _recuttable(b):
            continue
        if i + 1 < len(boxes) and _recuttable(boxes[i + 1]) and (unsure[i] or unsure[i + 1]):
            u = union_box(b, boxes[i + 1])
            if u.h <= cw.max_merged * char and u.w <= cw.max_merged * char:
                variants.append(u)
                edges.append(_Edge(i, i + 2, [len(variants) - 1]))
        if unsure[i] and b.h >= cw.min_split * char:
            parts = split_box(gray, b, char)
            if parts and min(q.h for q in parts) >= cw.min_part * char:
                variants.extend(parts)
                edges.append(_Edge(i, i + 1, [len(variants) - 2, len(variants) - 1]))
    return variants, edges


def best_path(cands: Sequence[Sequence[tuple[str, float]]], geo: Sequence[float], n: int, edges: Sequence[_Edge],
              lm: CharLM, w: ContextWeights, cw: CutWeights) -> list[_Edge]:
    """The edges of the best-scoring path from 0 to ``n`` (``cands[v]``/``geo[v]``: variant v's top k and its
    geometry log density)."""
    local = [[float(np.log(max(p, w.floor))) + w.prior * prior_term(c, lm) + cw.geometry * geo[v] + cw.bonus
              for c, p in cs] for v, cs in enumerate(cands)]
    out_edges: dict[int, list[_Edge]] = {}
    for e in edges:
        out_edges.setdefault(e.start, []).append(e)
    # beams[pos]: {(c_{-2}, c_{-1}): (score, back)}; back = (previous pos, previous key, edge, chars)
    beams: list[dict] = [dict() for _ in range(n + 1)]
    beams[0][(BOS, BOS)] = (0.0, None)
    for pos in range(n):
        states = sorted(beams[pos].items(), key=lambda kv: -kv[1][0])[: cw.beam]
        for key, (score, _) in states:
            for e in out_edges.get(pos, []):
                paths = [(score, key, "")]
                for v in e.glyphs:
                    nxt = []
                    for s, (a, b), text in paths:
                        for (c, _p), loc in zip(cands[v], local[v]):
                            nxt.append((s + loc + w.lm * lm_term(c, a + b, lm), (b, c), text + c))
                    paths = sorted(nxt, key=lambda t: -t[0])[: cw.beam]
                for s, k2, text in paths:
                    if k2 not in beams[e.end] or beams[e.end][k2][0] < s:
                        beams[e.end][k2] = (s, (pos, key, e, text))
    if not beams[n]:
        return [e for e in edges if e.end == e.start + 1 and len(e.glyphs) == 1]
    end = max(beams[n].items(), key=lambda kv: kv[1][0] + w.lm * lm_term(EOS, kv[0][0] + kv[0][1], lm))
    path: list[_Edge] = []
    pos, key = n, end[0]
    while pos > 0:
        _, back = beams[pos][key]
        pos, key, e, _text = back
        path.append(e)
    return path[::-1]


def choose_cuts(img: np.ndarray, boxes: Sequence[Box], char: float, model, lm: CharLM,
                w: ContextWeights, cw: CutWeights, geometry: Geometry | None, k: int = 5,
                read: Sequence[Prediction] | None = None) -> tuple[list[Box], list[Prediction], dict]:
    """The page's boxes (in reading order) with each column's cuts chosen by reading, their crop-by-crop
    predictions, and counts (``merged``, ``split``).  ``read``: the boxes' predictions when already made."""
    gray = to_gray(img)
    keys = [(b.x, b.y, b.w, b.h) for b in boxes]
    if read is not None and len(read) == len(boxes):
        preds = dict(zip(keys, read))
    else:
        todo = list(dict.fromkeys(keys))
        preds = dict(zip(todo, classify_crops(model, [crop_box(img, *key) for key in todo]))) if todo else {}
    cols: dict[int, list[int]] = {}
    for i, b in enumerate(boxes):
        cols.setdefault(b.column, []).append(i)
    per_col: dict[int, tuple[list[Box], list[_Edge]]] = {}
    for c, members in cols.items():
        unsure = [preds[(boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h)].confidence < cw.unsure for i in members]
        per_col[c] = column_edges(gray, [boxes[i] for i in members], unsure, char, cw)
    more = list(dict.fromkeys((v.x, v.y, v.w, v.h) for vs, _ in per_col.values() for v in vs) - preds.keys())
    if more:
        preds.update(zip(more, classify_crops(model, [crop_box(img, *key) for key in more])))
    chosen: dict[int, list[Box]] = {}
    done = {"merged": 0, "split": 0}
    for c, (variants, edges) in per_col.items():
        n = len(cols[c])
        unit = column_unit(b.w for b in variants[:n])
        cands = [preds[(v.x, v.y, v.w, v.h)].candidates[:k] or [("〓", 1.0)] for v in variants]
        geo = [geometry.logp(v.w, v.h, unit) if geometry is not None else 0.0 for v in variants]
        if len(edges) == n:  # nothing to choose
            chosen[c] = variants[:n]
            continue
        path = best_path(cands, geo, n, edges, lm, replace(w, temperature=1.0), cw)
        out: list[Box] = []
        for e in path:
            if e.end == e.start + 2:
                done["merged"] += 1
            elif len(e.glyphs) == 2:
                done["split"] += 1
            out.extend(variants[v] for v in e.glyphs)
        chosen[c] = out
    # the page's order: columns as they came, each column's boxes as chosen
    result: list[Box] = []
    for c in dict.fromkeys(b.column for b in boxes):
        result.extend(chosen[c])
    result = [replace(b, order=i) for i, b in enumerate(result)]
    return result, [preds[(b.x, b.y, b.w, b.h)] for b in result], done
