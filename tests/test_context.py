"""Reading in context: the character language model, the column decoder, the corpus' reading order, and the
``read`` command's ``--boxes`` / ``--no-context`` (kuzushi_core.context)."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kuzushi_core.containers import Prediction, TrueBox
from kuzushi_core.context.corpus import columns_of, page_texts
from kuzushi_core.context.decode import ContextWeights, decode_column, in_context, lm_term, prior_term
from kuzushi_core.context.lm import BOS, EOS, CharLM
from kuzushi_core.context.model import load_lm
from kuzushi_core.paths import MODELS_DIR

from .conftest import need

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
TOY = ["あいう", "あいえ", "かいう", "あいう", "さしす", "あかさ", "いうえお"]


def test_kneser_ney_is_a_distribution_and_prefers_what_it_saw():
    lm = CharLM.fit(TOY, 3)
    for history in ("", "あ", "あい", "さし", "ぬぬ"):
        total = sum(lm.prob(w, history) for w in sorted(lm.vocab) + [EOS, "\u9fff"])  # + one unknown character
        assert total == pytest.approx(1.0, abs=1e-9), history
    assert lm.prob("う", "あい") > lm.prob("え", "あい") > lm.prob("し", "あい") > 0
    assert lm.prob("\u9fff", "あい") > 0  # a character never seen keeps a small probability
    assert lm.perplexity(["あいう"]) < lm.perplexity(["うあい"])


def test_model_file_round_trip_and_bad_file(tmp_path):
    lm = CharLM.fit(TOY, 3, {"note": "toy"})
    back = CharLM.load(lm.save(tmp_path / "lm.json.gz"))
    assert back.meta == {"note": "toy"} and back.vocab == lm.vocab
    assert all(back.prob(w, h) == pytest.approx(lm.prob(w, h)) for w in "あいうえ" for h in ("", "あ", "かい"))
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    from kuzushi_core.errors import ModelFileError

    with pytest.raises(ModelFileError):
        CharLM.load(tmp_path / "bad.json.gz")


def brute_force(cands, lm, w):
    """Each glyph's posterior by enumerating every reading of the column."""
    n = len(cands)
    post = [np.zeros(len(c)) for c in cands]
    for choice in itertools.product(*[range(len(c)) for c in cands]):
        text = "".join(cands[i][j][0] for i, j in enumerate(choice))
        s = sum(math.log(max(cands[i][j][1], w.floor)) for i, j in enumerate(choice))
        s += w.prior * sum(prior_term(c, lm) for c in text)
        s += w.lm * sum(lm_term(c, BOS * 2 + text[:i], lm) for i, c in enumerate(text + EOS))
        for i, j in enumerate(choice):
            post[i][j] += math.exp(s / w.temperature)
    return [p / p.sum() for p in post][:n]


def test_forward_backward_matches_enumeration():
    lm = CharLM.fit(TOY, 3)
    cands = [[("あ", 0.5), ("か", 0.4), ("さ", 0.1)], [("い", 0.3), ("し", 0.7)], [("う", 0.45), ("え", 0.55)],
             [("お", 0.9), ("あ", 0.1)]]
    w = ContextWeights(lm=1.3, prior=0.4, temperature=2.5)
    got = decode_column(cands, lm, w)
    want = brute_force(cands, lm, w)
    for g, e in zip(got, want):
        assert np.allclose(g, e, atol=1e-9)


def test_context_overrules_a_look_alike_and_weights_zero_are_crop_by_crop():
    lm = CharLM.fit(TOY * 5, 3)
    preds = [Prediction("あ", 0.9, (("あ", 0.9), ("お", 0.1))), Prediction("し", 0.55, (("し", 0.55), ("い", 0.45))),
             Prediction("う", 0.8, (("う", 0.8), ("ら", 0.2)))]
    read = in_context(preds, [0, 0, 0], lm, ContextWeights(lm=1.5))
    assert [p.label for p in read] == ["あ", "い", "う"]  # あ?う: the model has only ever seen あいう
    assert read[1].candidates == preds[1].candidates  # the glyph's own top k stays as it was
    assert 0.5 < read[1].confidence <= 1.0
    plain = in_context(preds, [0, 0, 0], lm, ContextWeights(lm=0.0, prior=0.0))
    assert [p.label for p in plain] == ["あ", "し", "う"]
    # columns are read apart: the same glyph in a column of its own keeps its own reading
    apart = in_context(preds, [0, 1, 2], lm, ContextWeights(lm=1.5))
    assert apart[1].label in ("し", "い") and apart[0].label == "あ"


def test_corpus_columns_right_to_left_top_to_bottom_without_ruby():
    boxes = [TrueBox(100, 10, 40, 40, "か"), TrueBox(100, 60, 40, 40, "き"),   # left column
             TrueBox(200, 60, 40, 40, "い"), TrueBox(200, 10, 40, 40, "あ"),   # right column, given out of order
             TrueBox(235, 15, 12, 12, "ル")]                                    # ruby beside the right column
    cols = columns_of(boxes)
    assert ["".join(b.char for b in c) for c in cols] == ["あい", "かき"]


def test_the_corpus_reads_as_text_in_order(data_dir):
    need(data_dir / "corpus", "the corpus")
    pages = page_texts()
    assert len(pages) >= 700
    text = "".join(pages["100241706_00005_1"])
    assert "心を使ふか手足をつかふか" in text  # a phrase of the page, in reading order


def test_the_shipped_model_and_its_card(data_dir):
    lm = load_lm()
    assert lm is not None, "models/charlm.json.gz is missing (python -m kuzushi_core build-lm --out models/charlm.json.gz)"
    assert lm.order == 3 and len(lm.vocab) > 2500
    meta = lm.meta
    assert meta["corpus"]["characters"] > 100_000 and "CC BY-SA" in meta["licence"] and "build-lm" in meta["command"]
    assert 50 < meta["perplexity_held_out_books"]["mean"] < 400
    assert meta["weights"]["lm"] > 0
    assert (MODELS_DIR / "charlm.json.gz").stat().st_size < 5_000_000


def run(*args):
    return subprocess.run([sys.executable, "-m", "kuzushi_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_read_given_boxes_in_context_and_crop_by_crop(tmp_path):
    csv_path = DEMO / "ledger_demo_coordinate.csv"
    n_rows = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    outs = {}
    for flag in ("", "--no-context"):
        out = tmp_path / f"read{flag}.json"
        r = run("read", DEMO / "ledger_demo.jpg", "--boxes", csv_path, "--json", out, *([flag] if flag else []))
        assert r.returncode == 0, r.stderr
        outs[flag] = json.loads(out.read_text(encoding="utf-8"))["pages"][0]["boxes"]
        assert len(outs[flag]) == n_rows
    crop, ctx = outs["--no-context"], outs[""]
    assert all(b["label"] == b["candidates"][0][0] for b in crop)
    assert all(b["label"] in [c for c, _ in b["candidates"]] for b in ctx)
    assert [b["candidates"] for b in crop] == [b["candidates"] for b in ctx]
    # the boxes are the given ones, in reading order (columns right to left)
    assert sorted((b["x"], b["y"]) for b in ctx) == sorted(
        (int(r.split(",")[2]), int(r.split(",")[3])) for r in csv_path.read_text(encoding="utf-8").splitlines()[1:])
    cols = [b["column"] for b in ctx]
    assert cols == sorted(cols)


def test_read_boxes_for_another_image_is_one_error_line(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("Unicode,Image,X,Y,Block ID,Char ID,Width,Height\nU+3042,elsewhere,1,1,B,C,5,5\n", encoding="utf-8")
    r = run("read", DEMO / "ledger_demo.jpg", "--boxes", other, "--json", tmp_path / "o.json")
    assert r.returncode == 1 and r.stderr.strip().startswith("error: ") and "ledger_demo" in r.stderr
    assert not (tmp_path / "o.json").exists()


def test_temperature_tempers_the_confidence_not_the_reading():
    lm = CharLM.fit(TOY * 5, 3)
    preds = [Prediction("あ", 0.9, (("あ", 0.9), ("お", 0.1))), Prediction("し", 0.55, (("し", 0.55), ("い", 0.45))),
             Prediction("う", 0.8, (("う", 0.8), ("ら", 0.2)))]
    sharp = in_context(preds, [0, 0, 0], lm, ContextWeights(lm=1.5, prior=1.5, temperature=1.0))
    soft = in_context(preds, [0, 0, 0], lm, ContextWeights(lm=1.5, prior=1.5, temperature=4.0))
    assert [p.label for p in sharp] == [p.label for p in soft]
    assert all(s.confidence < h.confidence for s, h in zip(soft, sharp) if h.confidence < 1.0)
    assert all(0.0 < p.confidence <= 1.0 for p in soft)


def test_read_given_boxes_on_a_register_reads_its_fields_with_their_grammar(tmp_path):
    """``read --boxes`` on a ruled form: the boxes in its cells are read as ``read`` reads a register (its fields'
    grammar where the printed headings propose a template), not with the book's language model."""
    import cv2

    from kuzushi_core.synth.registers import generate_register

    reg = generate_register(93702, "nayose")  # a seed of no benchmark
    img = tmp_path / "reg93702.png"
    cv2.imwrite(str(img), cv2.cvtColor(reg.image, cv2.COLOR_RGB2BGR) if reg.image.ndim == 3 else reg.image)
    glyphs = [g for g in reg.glyphs if not g.struck]
    rows = ["Unicode,Image,X,Y,Block ID,Char ID,Width,Height"]
    rows += [f"U+{ord(g.char):04X},reg93702,{g.x},{g.y},B,C{k},{g.w},{g.h}" for k, g in enumerate(glyphs)]
    csv_path = tmp_path / "reg93702_coordinate.csv"
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    truth = {(g.x, g.y): g.char for g in glyphs}
    right = {}
    for flag in ("", "--no-context"):
        out = tmp_path / f"r{flag}.json"
        r = run("read", img, "--boxes", csv_path, "--json", out, *([flag] if flag else []))
        assert r.returncode == 0, r.stderr
        boxes = json.loads(out.read_text(encoding="utf-8"))["pages"][0]["boxes"]
        right[flag] = sum(truth[(b["x"], b["y"])] == b["label"] for b in boxes)
    assert right[""] > right["--no-context"], right
