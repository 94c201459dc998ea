"""Land registers (土地台帳, 名寄帳): from a page to a table of lots.

- :mod:`.values` — the written values of a register (numbers, areas, money, era dates) parsed into numbers;
- the printed ruling found as cells and the characters of a cell are segmentation (:mod:`kuzushi_core.segment.cells`,
  :mod:`kuzushi_core.segment.cellseg`, :mod:`kuzushi_core.segment.forms`);
- :mod:`.headings` — templates without clicks, from the printed headings; :mod:`.read` — a register image to lots;
- :mod:`.templates` — a volume's form: the fields marked once, placed on its other pages;
- :mod:`.lots` — a page's lots: each field's text parsed and cross-checked;
- :mod:`.workspace` — ledger mode on a workspace (cells, fields, readings, lots of a stored scan).

Generated register pages (with ground truth) live with the other generators in :mod:`kuzushi_core.synth`.
"""
