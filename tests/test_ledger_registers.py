"""Generated registers (printed form, handwritten entries, ground truth), ruled cells found on them, and the
lots read from their cells with checks that catch misreads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kuzushi_core.ledger.lots import Field, Lot, check_lot, check_totals, make_field
from kuzushi_core.ledger.values import parse_value
from kuzushi_core.segment.cells import RuledCell, find_cells, match_cells, number_cells
from kuzushi_core.synth.register_text import area_text, kanji_number, money_text
from kuzushi_core.synth.registers import LAYOUTS, generate_register, save

from .conftest import need_fonts

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def fonts_installed():
    need_fonts()


@pytest.fixture(scope="module")
def pages():
    # seeds the benchmark does not use; both layouts
    return [generate_register(500 + i, LAYOUTS[i % 2]) for i in range(6)]


def true_reader(reg):
    return lambda cell: ("".join(g.char for g in reg.written(cell)), 1.0)


def test_the_clerks_writing_parses_back_to_the_values():
    rng = np.random.default_rng(0)
    for n in list(range(0, 130)) + [190, 999, 1000, 1890, 2405, 10_000, 20_005, 123_456]:
        for style in ("units", "positional", "tens", "formal"):
            text = kanji_number(n, rng, style)
            assert parse_value(text, "number").value == n, (n, style, text)
    for bu in (1, 29, 30, 300, 3000, 3705, 150, 120.5, 20.3, 4499):
        for tsubo in (False, True):
            text = area_text(bu, rng, tsubo)
            assert parse_value(text, "area").value == pytest.approx(bu), text
    for rin in (5, 1005, 15305, 12500, 902.2, 0.3, 1_000_000):
        text = money_text(rin, rng, prefix=True)
        assert parse_value(text, "money").value == pytest.approx(rin), text


def test_a_page_is_the_same_for_the_same_seed_and_holds_its_ground_truth(pages, tmp_path):
    again = generate_register(pages[0].seed, pages[0].layout)
    assert np.array_equal(again.image, pages[0].image)
    for reg in pages:
        h, w = reg.image.shape[:2]
        assert reg.image.dtype == np.uint8 and reg.image.ndim == 3 and (w, h) == (1800, 2500)
        assert all(0 <= c.x and c.x + c.w <= w + 2 and 0 <= c.y and c.y + c.h <= h + 2 for c in reg.cells)
        written = [g for g in reg.glyphs if not g.printed]
        assert len(written) > 30 and any(g.printed for g in reg.glyphs)  # handwriting and printed headings
        headings = {c.heading for c in reg.cells}
        assert {"字", "地番", "地目", "反別", "地価", "地租"} <= headings
        for lot in reg.lots:
            assert lot["category"]["value"] in ("田", "畑", "宅地", "山林", "原野", "池沼", "溜池", "墳墓地", "雑種地",
                                                "用悪水路", "井溝", "堤塘", "保安林", "社寺境内", "牧場", "塩田", "鉱泉地")
            # 地租 = 地価 × 2.5 % (to the 毛)
            assert abs(lot["tax"]["value"] - lot["value"]["value"] * 0.025) < 0.11
    assert {r.layout for r in pages} == set(LAYOUTS)
    nayose = next(r for r in pages if r.layout == "nayose")
    assert len(nayose.lots) >= 6 and {"area", "value", "tax"} <= set(nayose.totals)
    image, gt = save(pages[0], tmp_path)
    data = json.loads(gt.read_text(encoding="utf-8"))
    assert image.stat().st_size > 50_000 and len(data["cells"]) == len(pages[0].cells) and data["lots"]


def test_a_volume_in_one_hand_writes_the_same_entries_in_that_hand():
    from kuzushi_core.synth.registers import HANDS

    a = generate_register(600, "lot", form_seed=9, hand=HANDS[0])
    b = generate_register(600, "lot", form_seed=9, hand=HANDS[1])
    free = generate_register(600, "lot", form_seed=9)
    # the hand changes the writing, not what is written (nor the lots, the form or the ruling)
    assert [g.char for g in a.glyphs] == [g.char for g in b.glyphs] == [g.char for g in free.glyphs]
    assert a.lots == b.lots == free.lots and [c.as_dict() for c in a.cells] == [c.as_dict() for c in b.cells]
    assert not np.array_equal(a.image, b.image)
    assert np.array_equal(generate_register(600, "lot", form_seed=9, hand=HANDS[0]).image, a.image)
    with pytest.raises(ValueError, match="not an installed hand"):
        generate_register(600, "lot", hand="no-such-hand")


def test_with_the_true_characters_every_field_value_is_right_and_nothing_is_flagged(pages):
    n = 0
    for reg in pages:
        lots, page = reg.read_lots(true_reader(reg))
        for k, lot in enumerate(lots):
            for name, f in lot.fields.items():
                assert f.value == reg.lots[k][name]["value"], (reg.seed, name, f.text, f.error)
                n += 1
            assert lot.flags == []
        assert page["flags"] == []
    assert n > 100


def test_checks_flag_a_misread_tax_value_and_total():
    def lot(value, tax, area="三反歩"):
        return Lot({"value": make_field("value", value, "money"), "tax": make_field("tax", tax, "money"),
                    "area": make_field("area", area, "area")})

    assert check_lot(lot("四十円", "一円")) == []  # 2.5 %
    assert check_lot(lot("四十円", "一円二十銭")) == []  # 3 %, before 1877
    flags = check_lot(lot("四十円", "一円五銭"))
    assert [f.field for f in flags] == ["tax"] and "2.5 %" in flags[0].reason
    flags = check_lot(lot("四十円x", "一円", "三反五"))
    assert {f.field for f in flags} == {"value", "area"}
    lots = [lot("四十円", "一円"), lot("二十円", "五十銭")]
    for L in lots:
        L.flags = check_lot(L)
    assert check_totals(lots, {"value": make_field("total_value", "六十円", "money")}) == []
    flags = check_totals(lots, {"value": make_field("total_value", "六十一円", "money")})
    assert flags and flags[0].field == "total_value"
    assert isinstance(lots[0].fields["value"], Field) and lots[0].fields["value"].as_dict()["unit"] == "厘"


def test_cells_are_found_on_registers_it_was_not_tuned_on(pages):
    scores = []
    for reg in pages:
        truth = [RuledCell(c.x, c.y, c.w, c.h, c.row, c.col) for c in reg.cells]
        found = find_cells(reg.image)
        s = match_cells(truth, found)
        assert s["f1"] >= 0.85, (reg.seed, s)
        scores.append(s)
    tp = sum(s["matched"] for s in scores)
    p = tp / sum(s["found"] for s in scores)
    r = tp / sum(s["truth"] for s in scores)
    assert 2 * p * r / (p + r) >= 0.95


def test_cells_numbering_and_a_blank_page():
    cells = [RuledCell(200, 0, 100, 50), RuledCell(100, 2, 100, 48), RuledCell(200, 52, 100, 50),
             RuledCell(0, 0, 100, 100)]
    got = number_cells(cells)
    assert [(c.row, c.col) for c in got] == [(0, 0), (0, 1), (1, 0), (0, 2)]  # columns from the right
    assert find_cells(np.full((400, 300), 230, np.uint8)) == []


def test_cells_cli_contract(pages, tmp_path):
    image, _ = save(pages[1], tmp_path)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    out = tmp_path / "cells.json"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "cells", str(image), "--json", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    (page,) = doc["pages"]
    assert page["image"] == str(image) and (page["width"], page["height"]) == (1800, 2500)
    assert len(page["cells"]) >= 0.9 * len(pages[1].cells)
    assert set(page["cells"][0]) == {"x", "y", "w", "h", "row", "col"}
    right = [c for c in page["cells"] if c["col"] == 0]
    assert right and min(c["x"] for c in right) > 1200  # column 0 is the rightmost
    assert [c["row"] for c in right] == sorted(c["row"] for c in right)
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "cells", str(bad), "--json", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_a_value_cell_is_read_within_its_alphabet_and_a_category_from_the_list():
    from kuzushi_core.ledger.lots import CATEGORIES, read_field, read_word

    classes = ("ー", "一", "三", "反", "ミ", "宅", "地", "也", "池")
    # the long-vowel mark wins over 一, and katakana ミ over 三, glyph by glyph
    cands = [[("ー", 0.6), ("一", 0.3)], [("ミ", 0.5), ("三", 0.4)], [("反", 0.9)]]
    assert read_field("aza", "text", cands).text == "ーミ反"
    got = read_field("area", "area", cands)  # in a 反別 cell only numerals and units
    assert got.text == "一三反" and got.value == 13 * 300 and got.confidence == pytest.approx(0.3)
    cat = np.full((2, len(classes)), 0.01)
    cat[0, 8], cat[0, 5] = 0.5, 0.4  # 池 a little ahead of 宅
    cat[1, 6] = 0.9
    word, p = read_word(cat, classes, CATEGORIES)
    assert word == "宅地" and 0 < p < 1  # 池地 is no category; 宅地 is
    assert read_word(cat[:1], ("x",) * len(classes), CATEGORIES) is None
