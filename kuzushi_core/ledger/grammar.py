"""A register field's grammar as its language model: a value cell is read as the most probable text that parses.

A historian reading a 反別 cell does not read each glyph alone: 「三反二畝十五歩」 is numerals and units in their order
(町 反 畝 歩, or 坪 合 勺), a 地価 is 円 銭 厘 in theirs, a date an era, a year, a month and a day.  The reader gives
each glyph's candidates; here the readings of the whole cell are enumerated best first (the product of the glyphs'
candidates within the kind's alphabet, k-best by the sum of log-probabilities) and the first that
:func:`~kuzushi_core.ledger.values.parse_value` accepts is the field's text.  The grammar is the parser's: one
definition of what a well-formed value is, for reading and for checking.

Across fields a lot's numbers must agree: 地租 = 地価 × 2.5 % (3 % before 1877).  :func:`agreeing` takes each
field's few best readings that parse and keeps the best pair that agrees, when it is not much less probable than
the best pair that does not — a misread digit rarely lands on another agreeing pair, so agreement is evidence;
the same for a page's written total (計) and the sum of its lots.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

from kuzushi_core.ledger.values import parse_value

FLOOR = 1e-6     # the probability of a candidate the reader gave none
PER_GLYPH = 6    # a glyph's candidates within the alphabet that are tried
TRIES = 4000     # readings of a cell enumerated before giving up on the grammar
NBEST = 6        # parsing readings kept for the checks across fields
MARGIN = 6.0     # nats: how much less probable an agreeing reading may be than the best one (a glyph p 0.5 → 0.001)
OFFER_MARGIN = 12.0  # nats: readings kept to offer the user as fixes (they choose; agreement alone keeps to MARGIN)

Candidates = Sequence[Sequence[tuple[str, float]]]


def kbest(options: Sequence[Sequence[tuple[str, float]]], limit: int):
    """The combinations of one option a position, best first by the sum of log-probabilities: ``(log p, chars)``.

    Each position's options must be sorted, most probable first.  Lazy: a heap over index vectors, each combination
    reached from one parent only (the successor raises one index at or after the last one raised)."""
    if not options or any(not o for o in options):
        return
    logs = [[math.log(max(p, FLOOR)) for _, p in o] for o in options]
    start = tuple(0 for _ in options)
    heap = [(-sum(lg[0] for lg in logs), start, 0)]
    for _ in range(limit):
        if not heap:
            return
        neg, idx, last = heapq.heappop(heap)
        yield -neg, "".join(options[i][k][0] for i, k in enumerate(idx))
        for i in range(last, len(idx)):
            if idx[i] + 1 < len(options[i]):
                nxt = idx[:i] + (idx[i] + 1,) + idx[i + 1:]
                heapq.heappush(heap, (neg - logs[i][idx[i] + 1] + logs[i][idx[i]], nxt, i))


def options_for(cands: Candidates, alphabet: str) -> list[list[tuple[str, float]]]:
    """Each glyph's candidates within ``alphabet``, most probable first (at most :data:`PER_GLYPH`)."""
    out = []
    for cs in cands:
        inside = sorted(((c, p) for c, p in cs if c in alphabet), key=lambda t: -t[1])[:PER_GLYPH]
        out.append(inside)
    return out


def readings(cands: Candidates, kind: str, alphabet: str, n: int = NBEST, tries: int = TRIES,
             margin: float = MARGIN) -> list[tuple[str, float, object]]:
    """Up to ``n`` readings of a cell that parse as ``kind``: ``(text, log-probability, value)``, best first,
    each a different value, none more than ``margin`` nats below the first.  Empty when no glyph-by-glyph choice
    within ``alphabet`` parses (a glyph with no candidate in it, or ``tries`` readings all malformed)."""
    out: list[tuple[str, float, object]] = []
    seen = set()
    for score, text in kbest(options_for(cands, alphabet), tries):
        if out and score < out[0][1] - margin:
            break
        p = parse_value(text, kind)
        if p.error is None and p.value not in seen:
            seen.add(p.value)
            out.append((text, score, p.value))
            if len(out) >= n:
                break
    return out


def agreeing(a: list[tuple[str, float, object]], b: list[tuple[str, float, object]],
             agree: Callable[[tuple, tuple], bool]) -> tuple[int, int] | None:
    """The indices of the most probable pair of readings (one of ``a``, one of ``b``; ``agree`` is given the two
    ``(text, log-probability, value)``) that agree, when it lies within :data:`MARGIN` of the best pair; None when
    no pair agrees or agreement costs more."""
    if not a or not b:
        return None
    best = a[0][1] + b[0][1]
    pairs = [(x[1] + y[1], i, j) for i, x in enumerate(a) for j, y in enumerate(b) if agree(x, y)]
    if not pairs:
        return None
    s, i, j = max(pairs)
    return (i, j) if s >= best - MARGIN else None


def agreeing_total(total: list[tuple[str, float, object]], value: float) -> int | None:
    """The index of the most probable reading of a written total that equals ``value`` (within 1 厘), if any lies
    within :data:`MARGIN` of the best."""
    for i, r in enumerate(total):
        if isinstance(r[2], (int, float)) and abs(r[2] - value) <= 1.0:
            return i if r[1] >= total[0][1] - MARGIN else None
    return None


def glyph_confidence(cands: Candidates, text: str) -> float:
    """The least probability the reader gave a character of ``text`` at its glyph (the field's confidence)."""
    probs = []
    for cs, ch in zip(cands, text):
        probs.append(max((p for c, p in cs if c == ch), default=0.0))
    return min(probs, default=0.0)
