"""Open-set scores and their AUROC; the reading score by the Kaggle rule."""

from __future__ import annotations

import numpy as np

from kuzushi_core.evaluation.scoring import TrueBox, score_reading
from kuzushi_core.predict import openset


def brute_auroc(pos, neg):
    return np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])


def test_auroc_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    pos = rng.normal(1, 1, 40).round(1)
    neg = rng.normal(0, 1, 30).round(1)  # rounded: ties occur
    assert abs(openset.auroc(pos, neg) - brute_auroc(pos, neg)) < 1e-12
    assert openset.auroc([2, 3], [0, 1]) == 1.0 and openset.auroc([0, 1], [2, 3]) == 0.0
    assert openset.auroc([1, 1], [1, 1]) == 0.5


def test_scores_rank_a_peaked_logit_vector_above_a_flat_one():
    z = np.array([[8.0, 0, 0, 0], [1.0, 0.9, 0.8, 0.7]])
    for name, s in openset.scores(z).items():
        assert s[0] > s[1], name


def test_fit_and_factor():
    entry = openset.fit("energy", np.linspace(0, 10, 101))
    assert abs(entry["threshold"] - 0.5) < 1e-9 and entry["scale"] > 0
    f = openset.factor(np.array([10.0, entry["threshold"], entry["threshold"] - 2 * entry["scale"]]), entry)
    assert f.tolist() == [1.0, 1.0, 0.0]


def test_reading_counts_only_the_right_character_in_the_right_box():
    gt = [TrueBox(0, 0, 10, 10, "地"), TrueBox(0, 20, 10, 10, "番")]
    pred = [{"x": 2, "y": 2, "w": 6, "h": 6, "label": "地"},    # hit
            {"x": 2, "y": 22, "w": 6, "h": 6, "label": "地"},   # right place, wrong character
            {"x": 1, "y": 1, "w": 6, "h": 6, "label": "地"}]    # the same true box twice
    s = score_reading(gt, pred)
    assert s["tp"] == 1 and s["precision"] == 1 / 3 and s["recall"] == 0.5
