"""A character language model of classical Japanese: an interpolated Kneser-Ney n-gram over the corpus' columns.

Each column of a page is one sequence, padded with ``BOS`` before it and closed by ``EOS``.  The probability of a
character after a history is the modified-Kneser-Ney interpolation of every order (Chen & Goodman 1998: three
discounts per order from the counts of counts; continuation counts below the top order; the unigram interpolated
with a uniform share over the vocabulary plus one unknown character, so a character the corpus never wrote keeps
a small, honest probability).

Why the counting is written here: the Python n-gram libraries either score far too slowly for decoding a page
inside the 1 s ``read`` budget (NLTK's ``KneserNeyInterpolated`` recomputes its recursion on every call, ~1 ms
each, and a page needs ~40,000 calls), or need a C++ toolchain to build a model (KenLM's ``lmplz``; its pip
package only queries).  Counting n-grams of 136,000 characters is a few dictionaries; the saved model is a
gzipped JSON of those counts (the card beside it says corpus, order, size and perplexity).
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kuzushi_core.context.corpus import book_of, columns_of, corpus_path, largest_books, page_texts
from kuzushi_core.context.geometry import fit_geometry
from kuzushi_core.errors import ModelFileError
from kuzushi_core.evaluation.scoring import read_kaggle_csv

BOS, EOS = "\x02", "\x03"


def _discounts(counts: Iterable[int]) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts (Chen & Goodman's estimates)."""
    n = Counter(min(c, 4) for c in counts)
    n1, n2, n3, n4 = (n.get(i, 0) for i in (1, 2, 3, 4))
    if not n1 or not n2:
        return 0.5, 0.75, 0.9
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2 if n2 else 1.0
    d3 = 3 - 4 * y * n4 / n3 if n3 else 1.5
    return max(d1, 0.05), max(d2, 0.05), max(d3, 0.05)


#: entries of the probability memo (~200 bytes each: ~50 MB); a page asks ~40,000, a batch of pages repeats many
CACHE_ENTRIES = 250_000


@dataclass
class CharLM:
    """An order-``order`` character model; ``counts[k]`` maps a history of ``k`` characters to the (raw for the top
    order, continuation below it) counts of the characters after it."""

    order: int
    counts: list[dict[str, dict[str, int]]]
    vocab: set[str]
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._totals = [{h: sum(ws.values()) for h, ws in level.items()} for level in self.counts]
        self._types = [{h: [0, 0, 0] for h in level} for level in self.counts]
        for level, types in zip(self.counts, self._types):
            for h, ws in level.items():
                t = types[h]
                for c in ws.values():
                    t[min(c, 3) - 1] += 1
        self._d = [_discounts(c for ws in level.values() for c in ws.values()) for level in self.counts]
        self._uniform = 1.0 / (len(self.vocab) + 2)  # + EOS + the unknown character: a proper distribution
        self._cache: dict[tuple[str, str], float] = {}
        self._freq: Counter = Counter()
        for ws in self.counts[-1].values():  # the top order's raw counts: every position of the corpus once
            self._freq.update(ws)
        self._freq_total = sum(self._freq.values()) + 0.5 * (len(self.vocab) + 2)

    # -- building -----------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, sequences: Iterable[str], order: int = 3, meta: dict | None = None) -> CharLM:
        top: dict[str, Counter] = defaultdict(Counter)
        for seq in sequences:
            s = BOS * (order - 1) + seq + EOS
            for i in range(order - 1, len(s)):
                top[s[i - order + 1:i]][s[i]] += 1
        levels: list[dict[str, Counter]] = [defaultdict(Counter) for _ in range(order)]
        levels[order - 1] = top
        # continuation counts: how many distinct characters precede (history, w) one order up
        for k in range(order - 1, 0, -1):
            for h, ws in levels[k].items():
                for w in ws:
                    levels[k - 1][h[1:]][w] += 1
        vocab = {w for ws in top.values() for w in ws} - {EOS}
        return cls(order, [{h: dict(ws) for h, ws in level.items()} for level in levels], vocab, dict(meta or {}))

    # -- scoring ------------------------------------------------------------------------------------------------
    def prob(self, w: str, history: str) -> float:
        """P(w | the last order-1 characters of ``history``), history padded with BOS."""
        h = (BOS * (self.order - 1) + history)[-(self.order - 1):] if self.order > 1 else ""
        key = (h, w)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        p = self._uniform
        for k in range(self.order):
            ctx = h[len(h) - k:] if k else ""
            total = self._totals[k].get(ctx)
            if not total:
                continue
            c = self.counts[k][ctx].get(w, 0)
            d1, d2, d3 = self._d[k]
            d = 0.0 if c == 0 else (d1 if c == 1 else d2 if c == 2 else d3)
            n1, n2, n3 = self._types[k][ctx]
            gamma = (d1 * n1 + d2 * n2 + d3 * n3) / total
            p = max(c - d, 0.0) / total + gamma * p
        if len(self._cache) >= CACHE_ENTRIES:  # a memo of a pure function: start again rather than grow
            self._cache.clear()
        self._cache[key] = p
        return p

    def logprob(self, w: str, history: str) -> float:
        return math.log(self.prob(w, history))

    def unigram(self, w: str) -> float:
        """The character's frequency in the corpus (raw counts, add-half smoothed over the vocabulary, EOS and one
        unknown character): the prior of reading in context."""
        return (self._freq.get(w, 0) + 0.5) / self._freq_total

    def logunigram(self, w: str) -> float:
        return math.log(self.unigram(w))

    def perplexity(self, sequences: Sequence[str]) -> float:
        """Per character (EOS counted) on ``sequences``."""
        logp, n = 0.0, 0
        for seq in sequences:
            for i, w in enumerate(seq + EOS):
                logp += self.logprob(w, seq[:i])
                n += 1
        return math.exp(-logp / max(n, 1))

    # -- files --------------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"format": "kuzushi-charlm-1", "order": self.order, "vocab": "".join(sorted(self.vocab)),
               "counts": self.counts, "meta": self.meta}
        tmp = path.with_name(path.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> CharLM:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
            if doc.get("format") != "kuzushi-charlm-1":
                raise ValueError("not a Kuzushi Lab character model")
            return cls(int(doc["order"]), doc["counts"], set(doc["vocab"]), doc.get("meta") or {})
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise ModelFileError(f"{Path(path).name} is not a readable character language model: {exc}") from exc


def build_shipped(data: Path | None, out: Path, order: int = 3, weights: dict | None = None,
                  drop: Sequence[str] = (), command: str = "", books_for_perplexity: int = 8,
                  cuts: dict | None = None) -> CharLM:
    """The corpus' model with its card in ``meta``: corpus, order, size, perplexity on books held out of it (each of
    the largest ``books_for_perplexity`` books left out in turn), the decoding weights, the character-geometry prior
    of the corpus' boxes (:mod:`~kuzushi_core.context.geometry`) and the weights of choosing cuts by reading
    (``cuts``: none, no cutting), licence, command."""
    path = corpus_path(data)
    pages = page_texts(path, drop)
    dropped = set(drop)
    geometry = fit_geometry(col for page, boxes in read_kaggle_csv(path).items() if page not in dropped
                            for col in columns_of(boxes))
    columns = [c for cs in pages.values() for c in cs]
    books = largest_books(pages, books_for_perplexity)
    held_out = {}
    for b in books:
        m = CharLM.fit([c for p, cs in pages.items() if book_of(p) != b for c in cs], order)
        held_out[b] = round(m.perplexity([c for p, cs in pages.items() if book_of(p) == b for c in cs]), 2)
    meta = {
        "corpus": {"file": f"corpus/{path.name}", "pages": len(pages), "columns": len(columns),
                   "characters": sum(map(len, columns)), "books": len({book_of(p) for p in pages}),
                   "dropped": sorted(drop)},
        "order": order, "smoothing": "interpolated modified Kneser-Ney (Chen & Goodman 1998)",
        "perplexity_held_out_books": {"per_book": held_out,
                                      "mean": round(sum(held_out.values()) / max(len(held_out), 1), 2)},
        "weights": dict(weights or {}),
        "geometry": geometry.as_dict(),
        "cuts": dict(cuts or {}),
        "licence": "CC BY-SA 4.0, derived from 『日本古典籍くずし字データセット』（国文研ほか所蔵／CODH加工） "
                   "doi:10.20676/00000340 (the Kaggle Kuzushiji Recognition training labels)",
        "command": command,
    }
    lm = CharLM.fit(columns, order, meta)
    lm.meta["size"] = {"vocabulary": len(lm.vocab), "ngrams": sum(len(ws) for lvl in lm.counts for ws in lvl.values())}
    lm.save(out)
    return lm
