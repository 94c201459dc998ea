"""What a register says, written the way a Meiji clerk writes it: numbers, areas, money, dates, names, and values
that make sense together (地租 = 地価 × 2.5 %).  The drawing of the page is :mod:`kuzushi_core.synth.registers`.
"""

from __future__ import annotations

import numpy as np

DIGIT_CHARS = "〇一二三四五六七八九"
LAND_CATEGORIES = ("田", "田", "田", "畑", "畑", "宅地", "宅地", "山林", "原野", "池沼", "溜池", "墳墓地", "雑種地",
                   "用悪水路", "井溝", "堤塘", "保安林", "社寺境内", "牧場", "塩田", "鉱泉地")
EVENTS = ("売買", "売買", "相続", "家督相続", "譲渡", "質入", "書入", "抵当", "分筆", "合筆", "地目変換", "開墾")
AZA = ("中島", "北田", "大道", "宮前", "川原", "東谷", "西野", "南畑", "上村", "下河原", "松本", "寺前", "石橋", "高田",
       "新田", "池田", "小山", "大谷", "竹内", "前田")
SURNAMES = ("田中", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐藤", "鈴木", "高橋", "伊藤", "渡辺", "松本", "井上",
            "木村", "林", "清水", "山口", "森", "池田", "橋本", "石川", "前田", "藤田", "岡田", "後藤", "長谷川", "村上")
GIVEN = ("太郎", "次郎", "三郎", "吉兵衛", "与三郎", "善右衛門", "久助", "清七", "伝八", "長吉", "文蔵", "平助", "源太郎",
         "きく", "とら", "まつ", "庄兵衛", "金之助", "孫七", "市郎", "利八", "喜三郎", "作右衛門", "仁平")
TAX_RATE = 0.025  # 地租 = 地価 × 2.5 % (from 1877)
HEADINGS = {"aza": "字", "lot_no": "地番", "category": "地目", "area": "反別", "value": "地価", "tax": "地租",
            "owner": "所有主", "date": "年月日", "event": "事由", "new_owner": "所有主", "total": "計"}
KINDS = {"aza": "text", "lot_no": "number", "category": "text", "area": "area", "value": "money", "tax": "money",
         "owner": "text", "date": "date", "event": "text", "new_owner": "text"}


# -- writing numbers the way a clerk does ----------------------------------------------------------
def kanji_number(n: int, rng: np.random.Generator, style: str | None = None) -> str:
    """``n`` written with 十百千 (千八百九十), positionally with 〇 (一八九〇), with 廿/卅 for 20–39, or formally
    (壱弐参拾); the style is drawn when not given."""
    if n < 0:
        raise ValueError(n)
    style = style or rng.choice(["units", "units", "positional", "tens", "formal"])
    if n == 0:
        return "〇"
    if style == "positional":
        return "".join(DIGIT_CHARS[int(d)] for d in str(n))
    out = []
    if n >= 10_000:
        out.append(kanji_number(n // 10_000, rng, "units" if style == "tens" else style) + "万")
        n %= 10_000
        if n == 0:
            return "".join(out)
    digits = "〇壱弐参四五六七八九" if style == "formal" else DIGIT_CHARS
    ten = "拾" if style == "formal" else "十"
    for unit, ch in ((1000, "千"), (100, "百"), (10, ten)):
        d, n = divmod(n, unit)
        if not d:
            continue
        if unit == 10 and style == "tens" and d in (2, 3):
            out.append("廿" if d == 2 else "卅")
        elif d == 1 and style != "formal":
            out.append(ch)  # 十, 百, 千 (not 一十)
        else:
            out.append(digits[d] + ch)  # 二十, 壱拾
    if n:
        out.append(digits[n])
    return "".join(out)


def area_text(bu: float, rng: np.random.Generator, tsubo: bool) -> str:
    """An area (in 歩) as a clerk writes it: 町反畝歩 (with 歩 closing a round figure, 五畝歩), or 坪合勺."""
    tenths = int(round(bu * 100))  # in 勺 (1/100 歩)
    whole, frac = divmod(tenths, 100)
    go, shaku = divmod(frac, 10)
    parts = []
    if tsubo:
        parts.append(kanji_number(whole, rng) + "坪")
    else:
        cho, rest = divmod(whole, 3000)
        tan, rest = divmod(rest, 300)
        se, bu_ = divmod(rest, 30)
        for v, u in ((cho, "町"), (tan, rng.choice(["反", "反", "反", "段"])), (se, "畝"), (bu_, "歩")):
            if v or (u == "歩" and frac):  # 合 and 勺 follow a written 歩 (〇歩 when there is none)
                parts.append(kanji_number(v, rng) + u)
        if not bu_ and not frac:
            parts.append("歩")  # 五畝歩: no smaller part
    if go:
        parts.append(kanji_number(go, rng) + "合")
    if shaku:
        parts.append(kanji_number(shaku, rng) + "勺")
    return "".join(parts)


def money_text(rin: float, rng: np.random.Generator, prefix: bool = False) -> str:
    """An amount (in 厘, 毛 as a tenth) in 円銭厘毛, as often as not with 金 … and the old forms 圓錢."""
    mo_total = int(round(rin * 10))
    rin_i, mo = divmod(mo_total, 10)
    yen, rest = divmod(rin_i, 1000)
    sen, rin_ = divmod(rest, 10)
    old = rng.random() < 0.3
    parts = ["金"] if prefix else []
    for v, u in ((yen, "圓" if old else "円"), (sen, "錢" if old else "銭"), (rin_, "厘"), (mo, "毛")):
        if v:
            parts.append(kanji_number(v, rng) + u)
    if len(parts) == (1 if prefix else 0):
        parts.append("〇厘")
    return "".join(parts)


def date_text(year: int, month: int, day: int, rng: np.random.Generator) -> tuple[str, str]:
    """A 明治 date written with 廿/卅 where a clerk would; returns (text, ISO value)."""
    era_year = year - 1867
    y = "元" if era_year == 1 else kanji_number(era_year, rng, rng.choice(["units", "tens"]))
    d = kanji_number(day, rng, rng.choice(["units", "tens", "tens"]))
    m = kanji_number(month, rng, "units")
    return f"明治{y}年{m}月{d}日", f"{year:04d}-{month:02d}-{day:02d}"


# -- values that make sense ------------------------------------------------------------------------
def person(rng) -> str:
    return str(rng.choice(SURNAMES)) + str(rng.choice(GIVEN))


def lot_values(rng: np.random.Generator, lot_no: int) -> dict:
    cat = str(rng.choice(LAND_CATEGORIES))
    tsubo = cat == "宅地"
    if tsubo:
        bu = float(rng.integers(30, 600)) + (float(rng.integers(0, 10)) / 10 if rng.random() < 0.4 else 0.0)
        rate = rng.uniform(150, 400)  # 厘 per 坪
    elif cat in ("田", "畑"):
        bu = float(rng.integers(20, 4500))
        rate = rng.uniform(60, 220)
    else:
        bu = float(rng.integers(30, 9000))
        rate = rng.uniform(2, 40)
    value = int(round(bu * rate))  # 地価 in 厘
    tax = np.floor(value * TAX_RATE * 10) / 10  # 地租 in 厘, to the 毛
    return {"aza": str(rng.choice(AZA)), "lot_no": lot_no, "category": cat, "area": bu, "tsubo": tsubo,
            "value": value, "tax": float(tax)}


def field_text(name: str, v: dict, rng) -> tuple[str, object]:
    """(text, value) of one field."""
    if name == "lot_no":
        return kanji_number(v["lot_no"], rng), v["lot_no"]
    if name == "area":
        return area_text(v["area"], rng, v["tsubo"]), (int(v["area"]) if v["area"] == int(v["area"]) else v["area"])
    if name in ("value", "tax"):
        amount = v[name]
        return money_text(amount, rng, prefix=rng.random() < 0.3), (int(amount) if amount == int(amount)
                                                                     else round(amount, 6))
    return v[name], v[name]


def num(x: float):
    return int(x) if float(x) == int(x) else round(float(x), 6)


def misreading(text: str, rng) -> str:
    """The figure a clerk wrote first and struck: one numeral changed."""
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if c in "一二三四五六七八九"]
    if spots:
        i = spots[int(rng.integers(len(spots)))]
        chars[i] = str(rng.choice([d for d in "一二三四五六七八九" if d != chars[i]]))
    return "".join(chars)
