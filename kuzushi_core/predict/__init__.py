"""Stage 3, crops → predictions: a registered model loaded safely, top-k readings with a confidence.

- :mod:`.classifier` — load a ``.keras`` model with its card, classify glyphs in batches, read a page;
- :mod:`.openset` — saying that a crop is none of the model's characters;
- :mod:`.reading` — a stored scan read with a registered model, its predictions kept in the store.
"""
