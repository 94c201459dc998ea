"""Register values parsed into numbers: a table of written forms from the registers' conventions
(../shared/data/ledger/README.md), bad text answered with value null and an error, and the CLI contract
``parse-value --kind … TEXT… --json OUT.json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuzushi_core.ledger.values import parse_value

from .conftest import need

ROOT = Path(__file__).resolve().parent.parent

NUMBERS = [
    # positional with 〇
    ("一九〇", 190), ("二〇五", 205), ("一〇〇〇", 1000), ("三", 3), ("〇", 0), ("一二三四", 1234),
    ("二〇〇八", 2008), ("七〇", 70),
    # with 十百千
    ("十", 10), ("拾", 10), ("十五", 15), ("二十", 20), ("二十五", 25), ("百", 100), ("百五", 105),
    ("百〇五", 105), ("百十", 110), ("三百廿", 320), ("千八百九拾", 1890), ("千八百九十五", 1895),
    ("一千〇五十", 1050), ("二千", 2000), ("九千九百九十九", 9999), ("五百五十五", 555),
    # formal and old forms
    ("壱", 1), ("弐拾", 20), ("参拾五", 35), ("壹萬貳千參百", 12300), ("肆拾", 40), ("伍佰", 500),
    ("陸阡", 6000), ("漆拾捌", 78), ("玖拾玖", 99), ("貳拾壹", 21), ("參百參拾參", 333), ("壱万", 10000),
    # 廿 and 卅
    ("廿", 20), ("廿五", 25), ("卅", 30), ("卅一", 31), ("百廿三", 123), ("千卅", 1030),
    # 万 / 萬
    ("一万", 10000), ("十二万三千四百五十六", 123456), ("三萬五千", 35000), ("一九〇万", 1900000),
    ("百万", 1000000), ("二万〇五", 20005),
    # digits a reader may give
    ("１２", 12), ("190", 190),
]
AREAS = [
    ("一町二反三畝十五歩", 3705), ("三反歩", 900), ("五畝歩", 150), ("二反五畝歩", 750), ("一町歩", 3000),
    ("一段", 300), ("二段三畝", 690), ("十五歩", 15), ("廿四歩", 24), ("一反二畝廿五歩", 385),
    ("壱町弐反参畝拾五歩", 3705), ("一町〇三畝", 3090), ("九反九畝廿九歩", 2999), ("一畝", 30),
    ("百二十坪五合", 120.5), ("二十坪三合五勺", 20.35), ("五十坪", 50), ("三坪五勺", 3.05),
    ("一反二畝十歩五合", 370.5), ("反別一反歩", 300), ("地積三畝歩", 90), ("二町", 6000),
    ("七合", 0.7), ("一二坪", 12), ("四十五坪", 45),
]
MONEY = [
    ("十五円三十銭五厘", 15305), ("金拾五円三拾銭", 15300), ("金五円也", 5000), ("一円五厘", 1005),
    ("三十銭", 300), ("五厘", 5), ("五厘三毛", 5.3), ("一二円五〇銭", 12500), ("壹圓", 1000),
    ("貳拾錢", 200), ("百廿円", 120000), ("金壱円弐拾銭参厘也", 1203), ("千八百九拾円", 1890000),
    ("二円", 2000), ("七銭八厘", 78), ("三毛", 0.3), ("十円〇五銭", 10050), ("金参拾七銭五厘", 375),
    ("一万二千円", 12000000), ("九円九十九銭九厘", 9999),
]
DATES = [
    ("明治十五年三月廿日", "1882-03-20", None), ("明治元年", "1868", None), ("明治二十年", "1887", None),
    ("明治廿三年十月", "1890-10", None), ("大正元年八月一日", "1912-08-01", None),
    ("大正二年一月卅一日", "1913-01-31", None), ("昭和二年四月十日", "1927-04-10", None),
    ("明治六年一月一日", "1873-01-01", None), ("明治四十五年七月三十日", "1912-07-30", None),
    ("明治三十年正月", "1897-01", None), ("明治十年十二月朔日", "1877-12-01", None),
    ("明治拾五年参月弐拾日", "1882-03-20", None), ("明治五年三月卅日", "1872-03-30", "lunar"),
    ("明治二年閏十月", "1869-10", "intercalary"), ("明治元年九月八日", "1868-09-08", "lunar"),
    ("明治 十五 年 三月 廿日", "1882-03-20", None), ("昭和元年十二月廿五日", "1926-12-25", None),
    ("明治三十二年二月廿八日", "1899-02-28", None), ("明治三十三年二月廿八日", "1900-02-28", None),
    ("明治二十九年二月廿九日", "1896-02-29", None),
]
BAD = [
    ("number", "十百"), ("number", "二三十"), ("number", "五x"), ("number", "万"), ("number", "〇十"),
    ("number", "百二三四"), ("number", "廿十"), ("number", "一万二万"), ("number", ""), ("number", "田"),
    ("area", "三反五"), ("area", "畝三反"), ("area", "反"), ("area", "三反三反"), ("area", "歩"),
    ("area", "三畝五合"), ("area", "五円"), ("area", "三町x歩"),
    ("money", "五"), ("money", "銭五円"), ("money", "円"), ("money", "五円五"), ("money", "三反"),
    ("date", "十五年三月"), ("date", "明治"), ("date", "明治五十年"), ("date", "明治十五年十三月"),
    ("date", "明治十五年二月卅日"), ("date", "明治三十三年二月廿九日"), ("date", "明治五年十二月十日"),
    ("date", "明治十五年閏三月"), ("date", "大正元年三月"), ("date", "明治四十五年八月"), ("date", "慶応三年"),
    ("date", "明治五年三月卅一日"), ("date", "昭和元年一月一日"), ("date", "明治十五年三月廿日朝"),
    ("weight", "五貫"),
]


# -- the units and numerals of ../shared/data/ledger/README.md, written by a writer of this test's own ----------
PLAIN = "〇一二三四五六七八九"
FORMAL = "〇壱弐参肆伍陸漆捌玖"  # the formal numerals account books were required to use
OLD_FORMAL = "〇壹貳參肆伍陸漆捌玖"


def write_number(n: int, style: str) -> str:
    """``n`` as a clerk writes it: positionally with 〇, with 十百千(万), or formally (壱拾, 壹拾; 拾 for 十)."""
    if style == "positional":
        return "".join(PLAIN[int(d)] for d in str(n))
    digits = {"plain": PLAIN, "formal": FORMAL, "old": OLD_FORMAL}[style]
    ten = "十" if style == "plain" else "拾"

    def below_10k(m: int) -> str:
        out = ""
        for unit, ch in ((1000, "千"), (100, "百"), (10, ten)):
            d, m = divmod(m, unit)
            if d:
                out += (ch if d == 1 and style == "plain" else digits[d] + ch)
        return out + (digits[m] if m else "")

    if n == 0:
        return "〇"
    high, low = divmod(n, 10_000)
    return (below_10k(high) + "万" if high else "") + below_10k(low)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 99_999_999), st.sampled_from(["positional", "plain", "formal", "old"]))
def test_any_number_written_any_way_reads_back(n, style):
    text = write_number(n, style)
    r = parse_value(text, "number")
    assert r.ok and r.value == n, (n, style, text, r.error)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9), st.integers(0, 29), st.sampled_from(["反", "段"]))
def test_areas_follow_the_registers_units(cho, tan, se, bu, tan_char):
    """1 町 = 10 反 (段), 1 反 = 10 畝, 1 畝 = 30 歩: the README's units, whatever parts a clerk leaves out."""
    parts = [(cho, "町"), (tan, tan_char), (se, "畝"), (bu, "歩")]
    text = "".join(write_number(v, "plain") + u for v, u in parts if v)
    if not text:
        return
    if not bu:
        text += "歩"  # 五畝歩: a round figure closes with 歩
    r = parse_value(text, "area")
    assert r.ok and r.value == 3000 * cho + 300 * tan + 30 * se + bu and r.unit == "歩", (text, r.error)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 99_999), st.integers(0, 99), st.integers(0, 9), st.booleans(), st.booleans())
def test_money_follows_the_registers_units_and_the_tax_check_holds(yen, sen, rin, old, prefix):
    """1 円 = 100 銭, 1 銭 = 10 厘 (圓錢 the old forms, 金 … 也 around it); 地租 = 地価 × 2.5 % read back from text."""
    parts = [(yen, "圓" if old else "円"), (sen, "錢" if old else "銭"), (rin, "厘")]
    body = "".join(write_number(v, "formal" if old else "plain") + u for v, u in parts if v)
    if not body:
        return
    value = 1000 * yen + 10 * sen + rin
    r = parse_value(("金" if prefix else "") + body + ("也" if prefix else ""), "money")
    assert r.ok and r.value == value and r.unit == "厘", (body, r.error)
    tax = value * 25 // 1000  # in 厘, rounded down to the 厘 as the registers do
    if tax:
        t_yen, rest = divmod(tax, 1000)
        t_sen, t_rin = divmod(rest, 10)
        tax_text = "".join(write_number(v, "plain") + u for v, u in ((t_yen, "円"), (t_sen, "銭"), (t_rin, "厘")) if v)
        assert parse_value(tax_text, "money").value == tax


def test_every_numeral_of_the_register_vocabulary_is_read(data_dir):
    """Each numeral the register vocabulary lists reads as a number, alone or as a unit after 一."""
    rows = dict(line.split("\t", 1) for line in need(data_dir / "ledger" / "vocabulary.tsv", "the register vocabulary")
                .read_text(encoding="utf-8").splitlines() if line and not line.startswith("#"))
    for ch in (rows["numerals"] + rows["numerals_formal"]).strip():
        alone, after_one = parse_value(ch, "number"), parse_value("一" + ch, "number")
        assert alone.ok or after_one.ok, (ch, alone.error, after_one.error)
        if ch in "万萬":
            assert after_one.value == 10_000


@pytest.mark.parametrize("text, value", NUMBERS)
def test_numbers(text, value):
    r = parse_value(text, "number")
    assert r.ok, r.error
    assert r.value == value and isinstance(r.value, int) and r.unit is None


@pytest.mark.parametrize("text, value", AREAS)
def test_areas_in_bu(text, value):
    r = parse_value(text, "area")
    assert r.ok, r.error
    assert r.value == pytest.approx(value) and r.unit == "歩"
    assert isinstance(r.value, int) == (value == int(value))


@pytest.mark.parametrize("text, value", MONEY)
def test_money_in_rin(text, value):
    r = parse_value(text, "money")
    assert r.ok, r.error
    assert r.value == pytest.approx(value) and r.unit == "厘"
    assert isinstance(r.value, int) == (value == int(value))


@pytest.mark.parametrize("text, value, note", DATES)
def test_era_dates(text, value, note):
    r = parse_value(text, "date")
    assert r.ok, r.error
    assert r.value == value
    if note:
        assert note in r.note and "as written" in r.note
    else:
        assert r.note is None


@pytest.mark.parametrize("kind, text", BAD)
def test_bad_text_is_null_with_an_error(kind, text):
    r = parse_value(text, kind)
    assert r.value is None and r.error, (kind, text, r.value)


def test_cli_contract(tmp_path):
    out = tmp_path / "values.json"
    texts = ["一町二反三畝十五歩", "五畝歩", "三反五", "百二十坪五合"]
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "parse-value", "--kind", "area", *texts,
                        "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [x["text"] for x in rows] == texts and {x["kind"] for x in rows} == {"area"}
    assert [x["value"] for x in rows] == [3705, 150, None, 120.5]
    assert all(x["unit"] == "歩" for x in rows)
    assert set(rows[0]) == {"text", "kind", "value", "unit"} and "error" in rows[2]

    out = tmp_path / "dates.json"
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "parse-value", "--kind", "date", "明治五年三月卅日",
                        "明治十五年", "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows[0]["value"] == "1872-03-30" and "lunar" in rows[0]["note"] and rows[1]["value"] == "1882"
    assert rows[0]["unit"] is None

    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "parse-value", "--kind", "weight", "五",
                        "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "invalid choice" in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
