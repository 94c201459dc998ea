"""Stage 1 of the pipeline, scan → boxes: character boxes in reading order (vertical columns, right to left).

- :mod:`.columns` — the classical page segmentation (binarise, remove the printed ruling, find columns, split them
  into characters), every step a function over numpy arrays; a ruled form goes to :mod:`.forms`;
- :mod:`.cells` — the printed ruling of a form found as cells; :mod:`.cellseg` — the characters of one cell;
- :mod:`.forms` — a ruled form (a register) segmented cell by cell, red printing read and seals left out;
- :mod:`.order` — reading order of boxes (columns right to left, top to bottom);
- :mod:`.refine` — joining and splitting boxes where the classifier reads them better so;
- :mod:`.overlay` — boxes drawn over a page for display.
"""
