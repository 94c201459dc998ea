"""Stage 3b, predictions → predictions in context: the characters around a glyph decide between look-alikes.

- :mod:`.corpus` — the corpus' pages (character labels of real pages) in reading order: columns right to left,
  characters top to bottom, ruby apart;
- :mod:`.lm` — a character language model of classical Japanese (interpolated Kneser-Ney n-gram);
- :mod:`.decode` — each column decoded over the reader's candidates with the language model and the corpus'
  character prior (forward-backward: each glyph's in-context probability).
"""
