"""A column read in context: the reader's candidates for each glyph, weighed with the language model.

The score of a reading ``c_1 … c_n`` of a column is

    Σ_i  log p_reader(c_i | crop_i)  +  lm_weight · log [P_LM(c_i | c_{i-2}, c_{i-1}) / P(c_i)]  +  prior_weight · log P(c_i)

(plus the model's end-of-column term), where ``P(c)`` is the corpus' character frequency (the model's unigram).
The language model speaks through the ratio: what the context adds to a character's own frequency; the corpus prior
has its own weight (the two together, prior = lm, are the plain ``lm · log P_LM``).  Where the corpus never wrote a
character the model gives it the small share Kneser-Ney keeps for the unknown: a candidate no book uses is
argued against — that is most of what the context is worth (abstaining on such characters cost 2–4 points of
top-1 in ``bench/bench_context.py``).  Forward-backward over
the lattice of candidate pairs gives each glyph's probability in context; the reading is each glyph's most
probable character, its confidence that probability.  The weights are chosen leave-one-page-out
(``bench/bench_context.py``) and carried by the model's card.

A glyph the reader itself does not trust to be any character of its vocabulary (top probability under the open-set
threshold, e.g. a stain or a cut-off stroke) stays out of the sequence: it keeps its own reading and the column's
context runs past it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kuzushi_core.containers import Prediction
from kuzushi_core.context.lm import BOS, EOS, CharLM


@dataclass(frozen=True)
class ContextWeights:
    # chosen by bench/bench_context.py on the three shared pages read by the fold readers (each trained on the other
    # two pages, as the shipped reader learned the book's pages; leave-one-page-out every fold chose 1.0 / 0.5):
    # top-1 0.502 -> 0.609 pooled.  A reader that never saw the book (reader-nopages) chose 0.5-1.5 / 1.5-2.0: a
    # weaker reader leans more on the corpus prior
    lm: float = 1.0
    prior: float = 0.5  # (lm = prior: the plain lm · log P_LM)
    open_set: float = 0.0  # a glyph whose own top probability is below this stays out of the sequence
    floor: float = 1e-4    # the reader's probability given to a candidate it ranks below its top k
    temperature: float = 2.0  # the whole score divided by this for the confidence: fitted by bench_context
    #                            (log loss of each reading's confidence; fold readers: ECE 0.15–0.28 crop by crop
    #                            → 0.11–0.21 in context)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def lm_term(c: str, history: str, lm: CharLM) -> float:
    """log P(c | history) / P(c): what the context adds to the character's own frequency."""
    return lm.logprob(c, history) - lm.logunigram(c)


def prior_term(c: str, lm: CharLM) -> float:
    return lm.logunigram(c)


def decode_column(cands: Sequence[Sequence[tuple[str, float]]], lm: CharLM, w: ContextWeights) -> list[list[float]]:
    """Each glyph's in-context probability of each of its candidates (same order as given).

    ``cands[i]`` is glyph i's top-k ``(character, reader probability)``.  A trigram lattice: the state at glyph i
    is the pair (candidate of i-1, candidate of i)."""
    n = len(cands)
    if n == 0:
        return []
    if lm.order != 3:
        raise ValueError("decode_column works on a trigram model")
    chars = [[c for c, _ in cs] for cs in cands]
    inv = 1.0 / w.temperature
    emit = [inv * (np.log(np.maximum(np.array([p for _, p in cs], float), w.floor))
                   + (w.prior * np.array([prior_term(c, lm) for c in chars[i]]) if w.prior else 0.0))
            for i, cs in enumerate(cands)]
    # position 0: previous = BOS; alpha0[a=BOS (1), b]
    prev_chars = [BOS]
    alpha = inv * np.array([[w.lm * lm_term(b, BOS + BOS, lm) for b in chars[0]]]) + emit[0][None, :]
    alphas = [alpha]
    trans_mats = []
    for i in range(1, n):
        a_chars, b_chars, c_chars = prev_chars, chars[i - 1], chars[i]
        t = np.empty((len(a_chars), len(b_chars), len(c_chars)))
        for ai, a in enumerate(a_chars):
            for bi, b in enumerate(b_chars):
                h = a + b
                for ci, c in enumerate(c_chars):
                    t[ai, bi, ci] = inv * w.lm * lm_term(c, h, lm)
        trans_mats.append(t)
        # alpha_i[b, c] = logsumexp_a(alpha_{i-1}[a, b] + t[a, b, c]) + emit_i[c]
        alpha = _logsumexp(alphas[-1][:, :, None] + t, axis=0) + emit[i][None, :]
        alphas.append(alpha)
        prev_chars = chars[i - 1]
    # end of column
    last_prev = prev_chars
    end = inv * np.array([[w.lm * lm_term(EOS, a + b, lm) for b in chars[n - 1]] for a in last_prev])
    beta = end
    betas = [beta]
    for i in range(n - 1, 0, -1):
        t = trans_mats[i - 1]
        # beta_{i-1}[a, b] = logsumexp_c(t[a, b, c] + emit_i[c] + beta_i[b, c])
        beta = _logsumexp(t + emit[i][None, None, :] + betas[-1][None, :, :], axis=2)
        betas.append(beta)
    betas.reverse()
    out = []
    for i in range(n):
        post = _logsumexp(alphas[i] + betas[i], axis=0)  # over the previous glyph's candidate
        post = np.exp(post - _logsumexp(post, axis=0))
        out.append([float(x) for x in post])
    return out


def in_context(preds: Sequence[Prediction], columns: Sequence[int | None], lm: CharLM,
               w: ContextWeights = ContextWeights()) -> list[Prediction]:
    """The predictions of one page's boxes (in reading order, ``columns[i]`` the column of box i) read in context.

    Each prediction keeps its own candidates (the glyph's top k, as the reader ranked them); its ``label`` becomes
    the in-context reading and its ``confidence`` that reading's calibrated probability (``w.temperature``)."""
    out = list(preds)
    by_col: dict[int, list[int]] = {}
    for i, c in enumerate(columns):
        if c is not None:  # None: a box read alone (a register's cell: a book's language model is not its grammar)
            by_col.setdefault(c, []).append(i)
    for members in by_col.values():
        seq = [i for i in members if preds[i].candidates and preds[i].candidates[0][1] >= w.open_set]
        if not seq:
            continue
        cands = [preds[i].candidates for i in seq]
        # the reading: each glyph's most probable character under the weights; its confidence: that character's
        # probability with the whole score tempered (the weights sharpen the distribution; T calibrates it back)
        picks = decode_column(cands, lm, replace(w, temperature=1.0))
        confs = decode_column(cands, lm, w) if w.temperature != 1.0 else picks
        for i, pick, conf in zip(seq, picks, confs):
            j = int(np.argmax(pick))
            scale = preds[i].confidence / preds[i].candidates[0][1] if preds[i].candidates[0][1] else 1.0
            out[i] = replace(preds[i], label=preds[i].candidates[j][0],
                             confidence=round(min(1.0, conf[j] * min(scale, 1.0)), 4))
    return out


def lm_score(text: str, lm: CharLM) -> float:
    """log P of a whole column under the model (with its end), for comparing readings."""
    return sum(lm.logprob(c, text[:i]) for i, c in enumerate(text + EOS)) / math.log(10)
