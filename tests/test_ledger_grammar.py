"""A register field's grammar as its language model (ledger.grammar, ledger.lots.read_field / cross_read)."""

from __future__ import annotations

import itertools
import math

from kuzushi_core.ledger import grammar
from kuzushi_core.ledger.lots import Fix, Lot, assemble, check_page, fixes, make_field, read_field


def test_kbest_enumerates_every_combination_once_best_first():
    options = [[("a", 0.5), ("b", 0.3), ("c", 0.2)], [("x", 0.7), ("y", 0.3)], [("p", 0.4), ("q", 0.35), ("r", 0.25)]]
    got = list(grammar.kbest(options, 100))
    assert len(got) == 18 and len({t for _, t in got}) == 18
    scores = [s for s, _ in got]
    assert scores == sorted(scores, reverse=True)
    want = {"".join(c for c, _ in combo): sum(math.log(p) for _, p in combo) for combo in itertools.product(*options)}
    assert all(abs(want[t] - s) < 1e-9 for s, t in got)
    assert [t for _, t in grammar.kbest(options, 3)] == ["axp", "axq", "axr"]  # .0875 > .084 (bxp)


def test_a_value_cell_reads_as_the_most_probable_text_that_parses():
    # glyph by glyph the third glyph is 反 (三反反畝: a unit twice, no value); the grammar reads 三反二畝
    cands = [[("三", 0.8), ("ミ", 0.1)], [("反", 0.9)], [("反", 0.5), ("二", 0.4), ("こ", 0.05)], [("畝", 0.9)]]
    f = read_field("area", "area", cands)
    assert f.text == "三反二畝" and f.error is None
    assert f.value == 3 * 300 + 2 * 30  # in 歩
    assert f.confidence == 0.4  # the least probability the reader gave a character of the reading
    assert [a[0] for a in f.alternatives][0] == "三反二畝"


def test_a_cell_that_cannot_parse_falls_back_to_the_glyphs_and_is_flagged():
    cands = [[("山", 0.9)], [("反", 0.9)]]  # 山 has no candidate among the numerals
    f = read_field("area", "area", cands)
    assert f.text == "山反" and f.error is not None and f.alternatives == ()


def test_tax_and_value_are_read_to_agree_when_the_readings_allow():
    value = [[("壱", 0.9)], [("円", 0.9)]]                                      # 1 円 = 1000 厘
    tax = [[("三", 0.5), ("二", 0.45)], [("銭", 0.9)], [("五", 0.9)], [("厘", 0.9)]]  # 三銭五厘 read first; 2.5 % is 二銭五厘
    lots, _ = assemble([(0, read_field("value", "money", value)), (0, read_field("tax", "money", tax))])
    assert lots[0].fields["tax"].text == "二銭五厘" and lots[0].fields["tax"].value == 25
    assert lots[0].fields["tax"].note
    check_page(lots)
    assert not lots[0].flags


def test_agreement_is_not_bought_with_an_improbable_reading():
    value = [[("壱", 0.9)], [("円", 0.9)]]
    tax = [[("三", 0.999), ("二", 0.0005)], [("銭", 0.9)], [("五", 0.9)], [("厘", 0.9)]]
    lots, _ = assemble([(0, read_field("value", "money", value)), (0, read_field("tax", "money", tax))])
    assert lots[0].fields["tax"].text == "三銭五厘"  # 二 is 2,000 times less probable: the misread stays flagged
    check_page(lots)
    assert [fl.code for fl in lots[0].flags] == ["tax"]


def test_a_written_total_is_read_to_agree_with_the_lots_sum():
    def money(text, p=0.9):
        return [[(c, p)] for c in text]
    total = [[("三", 0.6), ("二", 0.35)], [("円", 0.9)]]
    fields = [(0, read_field("value", "money", money("壱円"))), (1, read_field("value", "money", money("壱円"))),
              (-1, read_field("total_value", "money", total))]
    lots, totals = assemble(fields)
    assert totals["value"].text == "二円" and totals["value"].value == 2000
    assert not check_page(lots, totals)


def test_a_category_or_event_is_a_word_of_its_list_unless_the_user_labelled_it():
    cands = [[("売", 0.6), ("壳", 0.3)], [("賣", 0.4), ("買", 0.35)]]
    assert read_field("event", "text", cands).text == "売買"
    # a user's label is kept as typed: no list word replaces it
    mine = [[("萱", 1.0)], [("生", 1.0)]]
    f = read_field("category", "text", mine, source="user", lexicon=False)
    assert f.text == "萱生" and f.source == "user"


def _boxes_in(cells, glyphs):
    """A box for every glyph, stacked top to bottom inside its cell, flagged as the form segmenter flags them."""
    boxes = {}
    for c, members in zip(cells, glyphs):
        step = min(20, (c.h - 10) // max(1, len(members)))  # a long value in a short cell: small writing
        for k, i in enumerate(members):
            boxes[i] = {"x": c.x + 10, "y": c.y + 5 + step * k, "w": 20, "h": step - 2, "column": 0, "order": i,
                        "flags": "cell"}
    return [boxes[i] for i in sorted(boxes)]


def test_read_puts_a_registers_fields_in_context_with_their_grammar():
    from kuzushi_core.containers import Prediction
    from kuzushi_core.ledger.incontext import read_page_in_context
    from tests.test_ledger_read import form

    cells, glyphs, preds = form(["地番", "地目", "反別", "地価"], [["一", "田", "一反", "三円"], ["二", "畑", "二反", "四円"]],
                                "column")
    boxes = _boxes_in(cells, glyphs)
    # lot 1's 反別 cell: its second glyph read 及 first (反 second), 地目 read 細 first (畑 second)
    area = glyphs[[i for i, c in enumerate(cells) if c.x == 700 and c.y == 200][0]]
    cat = glyphs[[i for i, c in enumerate(cells) if c.x == 700 and c.y == 100][0]]
    preds[area[1]] = Prediction("及", 0.6, (("及", 0.6), ("反", 0.3)))
    preds[cat[0]] = Prediction("細", 0.5, (("細", 0.5), ("畑", 0.4)))
    got = read_page_in_context(preds, boxes, cells, lm=None)
    assert got[area[1]].label == "反" and got[area[1]].confidence == 0.3
    assert got[cat[0]].label == "畑"
    assert got[area[1]].candidates == preds[area[1]].candidates  # the glyph's own top k kept
    # a book page (no cells) and a form whose headings propose nothing are read as before
    assert [p.label for p in read_page_in_context(preds, boxes, [], lm=None)] == [p.label for p in preds]
    heads = {i for c, g in zip(cells, glyphs) if c.x == 900 for i in g}
    blank = [Prediction("〓", 0.9, (("〓", 0.9),)) if i in heads else p for i, p in enumerate(preds)]
    assert [p.label for p in read_page_in_context(blank, boxes, cells, lm=None)] == [p.label for p in blank]


def test_agreement_is_to_the_unit_and_never_bought_from_a_users_label():
    # 地価 壱百六拾参円三十二銭六厘 (163,326 厘) read right, 三十一 a close second; 地租 written to the 毛
    value = [[(c, 0.9)] for c in "壱百六拾参円三十"] + [[("二", 0.6), ("一", 0.35)]] + [[(c, 0.9)] for c in "銭六厘"]
    right_tax = [[(c, 0.9)] for c in "四円八銭三厘壱毛"]   # 4,083.1 厘 = 163,326 × 2.5 % rounded down
    slipped = [[(c, 0.9)] for c in "四円八銭"] + [[("二", 1.0)]] + [[(c, 0.9)] for c in "厘壱毛"]  # a user's slip: 二
    lots, _ = assemble([(0, read_field("value", "money", value)), (0, read_field("tax", "money", right_tax))])
    assert lots[0].fields["value"].value == 163326 and not lots[0].fields["value"].note
    # 三十一 (163,316 × 2.5 % = 4,082.9) is within 1 厘 of the slipped 4,082.1 but not within its 毛: kept as read
    lots, _ = assemble([(0, read_field("value", "money", value)),
                        (0, read_field("tax", "money", slipped, source="user", lexicon=False))])
    assert lots[0].fields["value"].text.endswith("三十二銭六厘") and not lots[0].fields["value"].note
    check_page(lots)
    assert [fl.field for fl in lots[0].flags] == ["tax"]  # the slip is flagged, not hidden


def test_in_context_a_users_label_does_not_read_its_partner_field_again():
    """On the Read page a label is a certain candidate; a slip in a 地租 must not turn a right 地価 into another."""
    from kuzushi_core.containers import Prediction
    from kuzushi_core.ledger.incontext import read_page_in_context
    from tests.test_ledger_read import form

    cells, glyphs, preds = form(["地番", "地目", "反別", "地価", "地租"],
                                [["一", "田", "一反", "壱百六拾参円三十二銭六厘", "四円八銭二厘"],  # 地租 to the 厘
                                 ["二", "畑", "二反", "四円", "一銭"]], "column")
    boxes = _boxes_in(cells, glyphs)
    value = glyphs[[i for i, c in enumerate(cells) if c.x == 800 and c.y == 300][0]]
    tax = glyphs[[i for i, c in enumerate(cells) if c.x == 800 and c.y == 400][0]]
    assert len(value) == 12 and len(tax) == 6
    k = "壱百六拾参円三十二銭六厘".index("二")
    preds[value[k]] = Prediction("二", 0.6, (("二", 0.6), ("一", 0.35)))
    preds[tax[4]] = Prediction("二", 1.0, (("二", 1.0),))  # the user's label (a slip: 三 is right)
    got = read_page_in_context(preds, boxes, cells, lm=None)
    assert got[value[k]].label == "二"  # 一 would make 163,316 × 2.5 % = 4,082.9 "agree" with the slipped 4,082


def test_a_flagged_lot_offers_the_readings_that_parse_agreeing_ones_first():
    # the misread stays flagged (the agreeing 二 is too improbable to choose alone): the page offers it as a fix
    value = [[("壱", 0.9)], [("円", 0.9)]]
    tax = [[("三", 0.999), ("八", 0.0008), ("二", 0.0005)], [("銭", 0.9)], [("五", 0.9)], [("厘", 0.9)]]
    lots, _ = assemble([(0, read_field("value", "money", value)), (0, read_field("tax", "money", tax))])
    check_page(lots)
    assert [fl.code for fl in lots[0].flags] == ["tax"]
    got = fixes(lots[0], ["tax", "value"])
    tax_fixes = [f for f in got if f.field == "tax"]
    assert tax_fixes[0] == Fix("tax", "二銭五厘", 25, True)  # agrees: first, though less probable than 八銭五厘
    assert Fix("tax", "八銭五厘", 85, False) in tax_fixes
    assert all(f.text != "三銭五厘" for f in got)  # never the reading it already has
    assert all(f.agrees is False for f in got if f.field == "value")  # none of 壱円's few readings fixes it
    # a field the user typed offers none; a lot without a partner value says nothing of agreement
    typed = make_field("tax", "二銭五厘", "money", source="user")
    assert fixes(Lot({"tax": typed}), ["tax"]) == []
    alone, _ = assemble([(0, read_field("tax", "money", tax))])
    assert {f.agrees for f in fixes(alone[0], ["tax"])} == {None}
