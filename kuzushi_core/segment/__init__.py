"""Stage 1 of the pipeline, scan → boxes: character boxes in reading order (vertical columns, right to left).

- :mod:`.columns` — the classical page segmentation (binarise, remove the printed ruling, find columns, split them
  into characters), every step a function over numpy arrays;
- :mod:`.refine` — joining and splitting boxes where the classifier reads them better so;
- :mod:`.overlay` — boxes drawn over a page for display.
"""
