"""Labels → data, and data out: glyph sets, their sources and splits; scans and labels in; exports out.

- :mod:`.datasets` — KMNIST / Kuzushiji-49 (from a path, or downloaded), CODH page crops, class folders,
  deterministic stratified splits;
- :mod:`.classzip` — training crops uploaded as a zip of class folders;
- :mod:`.intake` — uploaded bytes → validated pages → workspace; label files (CODH CSV) onto stored scans;
- :mod:`.export` — transcriptions and per-character tables (CSV, JSON, text, PAGE XML, npz, crops, lots).
"""
