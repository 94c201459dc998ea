"""Measuring: a model against labels, a segmentation against ground truth, and what to label next.

- :mod:`.metrics` — accuracy, per-class precision/recall/F1, confusion matrix;
- :mod:`.scoring` — boxes against ground truth (CODH CSV, Kaggle train.csv), end-to-end reading scores;
- :mod:`.review` — error review over the workspace's labels and the uncertainty queue.
"""
