"""The written values of a Meiji land register, parsed: numbers, areas, money and era dates.

Pure functions, no I/O. Each parser takes the text of one field as the register writes it and returns
a :class:`ParsedValue`; text that does not follow the conventions gives ``value=None`` and an ``error``
that says why — never a guess and never an exception (a misread character must show up as a flag,
not as a plausible wrong number).

Conventions (``../shared/data/ledger/README.md``):

- numbers are positional with 〇 (一九〇 = 190) or written with 十百千 and 万/萬 (千八百九拾 = 1890);
  formal and old forms (壱弐参拾, 壹貳參, 肆伍陸漆捌玖, 佰阡) mean the same digits; 廿 = 20, 卅 = 30;
- areas (反別, 地積) in 町反畝歩 — 1 町 = 10 反 (also 段), 1 反 = 10 畝, 1 畝 = 30 歩 — or, for 宅地, in
  坪合勺 — 1 坪 = 1 歩 = 10 合, 1 合 = 10 勺; a unit followed directly by 歩 (五畝歩) has no smaller part;
- money (地価, 地租) in 円/圓, 銭/錢, 厘, 毛: 1 円 = 100 銭, 1 銭 = 10 厘, 1 厘 = 10 毛; an amount may open
  with 金 and close with 也;
- dates in the eras 明治 (1868 = 元年), 大正 (1912), 昭和 (1926); before 明治6 the months are lunar.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass
from fractions import Fraction

from kuzushi_core.errors import ValueSyntaxError

KINDS = ("number", "area", "money", "date")
UNITS = {"number": None, "area": "歩", "money": "厘", "date": None}

#: digit characters → value (plain, formal 大字, old, and the zero forms a scribe or a reader may give)
DIGITS: dict[str, int] = {}
for _value, _chars in enumerate(("〇零○０0", "一壱壹弌１1", "二弐貳弍２2", "三参參弎３3", "四肆４4",
                                  "五伍５5", "六陸６6", "七漆柒７7", "八捌８8", "九玖９9")):
    for _c in _chars:
        DIGITS[_c] = _value
#: the multipliers below 万, and the tens written as one character
SMALL_UNITS = {"十": 10, "拾": 10, "什": 10, "百": 100, "佰": 100, "陌": 100, "千": 1000, "阡": 1000, "仟": 1000}
TENS = {"廿": 20, "卄": 20, "念": 20, "卅": 30, "丗": 30, "卌": 40}
MAN = {"万": 10_000, "萬": 10_000, "億": 100_000_000}

ERAS = {"明治": (1868, 45), "大正": (1912, 15), "昭和": (1926, 64)}
GREGORIAN_FROM = (1873, 1)  # 明治6年1月1日: the solar calendar replaces the lunar one

_SPACES = re.compile(r"[\s\u3000・]+")


@dataclass(frozen=True)
class ParsedValue:
    """One field's text and what it means: ``value`` (int, float, or ``"YYYY[-MM[-DD]]"``) or an ``error``."""

    text: str
    kind: str
    value: int | float | str | None
    unit: str | None
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        """The CLI's record: ``text, kind, value, unit`` always; ``error`` or ``note`` when there is one."""
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None or k in ("value", "unit")}


def _clean(text: str) -> str:
    return _SPACES.sub("", text or "")


def _number(s: str) -> int:
    """An integer written in any of the register's ways (the text is already cleaned)."""
    if not s:
        raise ValueSyntaxError("no digits")
    bad = [c for c in s if c not in DIGITS and c not in SMALL_UNITS and c not in TENS and c not in MAN]
    if bad:
        raise ValueSyntaxError(f"“{bad[0]}” is not a numeral")
    total, section = 0, ""
    last_man = None
    for c in s:
        if c in MAN:
            if not section:
                raise ValueSyntaxError(f"{c} without a number before it")
            if last_man is not None and MAN[c] >= last_man:
                raise ValueSyntaxError(f"{c} after a smaller or equal 万/億")
            total += _section(section) * MAN[c]
            last_man, section = MAN[c], ""
        else:
            section += c
    if section:
        total += _section(section)
    return total


def _section(s: str) -> int:
    """A number below 10,000: positional digits (一九〇), or digits with 十百千 and 廿卅 (千八百九拾)."""
    if all(c in DIGITS for c in s):
        return int("".join(str(DIGITS[c]) for c in s))
    value, pending, last_unit = 0, "", None
    for c in s:
        if c in DIGITS:
            pending += c
            continue
        unit = SMALL_UNITS.get(c) or TENS.get(c)
        if unit is None:
            raise ValueSyntaxError(f"{c} is neither a digit nor a unit")
        if last_unit is not None and unit >= last_unit:
            raise ValueSyntaxError(f"{c} after a smaller or equal unit")
        if c in TENS:
            if pending:
                raise ValueSyntaxError(f"a digit before {c}")
            value += unit
            last_unit = 10
        else:
            digit = pending.lstrip("〇零○０0")  # 一千〇五十: the 〇 holds the empty hundreds' place
            if len(digit) > 1 or (pending and not digit):
                raise ValueSyntaxError(f"“{pending}” before {c}")
            value += (DIGITS[digit] if digit else 1) * unit
            last_unit = unit
        pending = ""
    if pending:
        # digits after the last unit fill the places below it: 百〇五 = 105, 千八百九拾五 = 1895
        places = len(str(last_unit)) - 1
        if len(pending) > places:
            raise ValueSyntaxError(f"“{pending}” has more digits than the places after the unit")
        value += int("".join(str(DIGITS[c]) for c in pending))
    return value


def _units(s: str, order: list[tuple[str, ...]], what: str) -> list[tuple[str, str]]:
    """Split ``s`` into (number text, unit) pairs, the units in the given descending ``order``
    (each entry a set of synonyms), each at most once."""
    pairs, number, last_rank = [], "", -1
    rank = {u: i for i, group in enumerate(order) for u in group}
    for c in s:
        if c in rank:
            if rank[c] <= last_rank:
                raise ValueSyntaxError(f"{c} out of order in {what}")
            pairs.append((number, c))
            last_rank, number = rank[c], ""
        else:
            number += c
    if number:
        raise ValueSyntaxError(f"“{number}” has no unit")
    if not pairs:
        raise ValueSyntaxError(f"no unit of {what}")
    return pairs


def _as_number(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else round(float(x), 6)


AREA_ORDER = [("町",), ("反", "段"), ("畝",), ("歩", "坪"), ("合",), ("勺",)]
AREA_BU: dict[str, int | Fraction] = {"町": 3000, "反": 300, "段": 300, "畝": 30, "歩": 1, "坪": 1, "合": Fraction(1, 10), "勺": Fraction(1, 100)}


def _area(s: str) -> tuple[int | float, str | None]:
    s = s.removeprefix("反別").removeprefix("地積")
    pairs = _units(s, AREA_ORDER, "area")
    total = Fraction(0)
    for i, (num, unit) in enumerate(pairs):
        if not num:
            # 五畝歩: 歩 right after a unit says there is no smaller part, and ends the area
            if unit == "歩" and i > 0 and i == len(pairs) - 1:
                continue
            raise ValueSyntaxError(f"{unit} without a number")
        if unit in ("合", "勺") and any(u in ("町", "反", "段", "畝") for _, u in pairs) and \
                not any(u in ("歩", "坪") for _, u in pairs):
            raise ValueSyntaxError(f"{unit} without 歩 or 坪 before it")
        total += _number(num) * AREA_BU[unit]
    note = None
    if any(u == "坪" for _, u in pairs) and any(u in ("町", "反", "段", "畝") for _, u in pairs):
        note = "坪 read as 歩 (1 坪 = 1 歩)"
    return _as_number(total), note


MONEY_ORDER = [("円", "圓"), ("銭", "錢"), ("厘",), ("毛",)]
MONEY_RIN: dict[str, int | Fraction] = {"円": 1000, "圓": 1000, "銭": 10, "錢": 10, "厘": 1, "毛": Fraction(1, 10)}


def _money(s: str) -> int | float:
    s = s.removeprefix("金").removesuffix("也")
    pairs = _units(s, MONEY_ORDER, "money")
    total = Fraction(0)
    for num, unit in pairs:
        if not num:
            raise ValueSyntaxError(f"{unit} without a number")
        total += _number(num) * MONEY_RIN[unit]
    return _as_number(total)


_DATE = re.compile(r"^(?P<era>明治|大正|昭和)(?P<year>[^年]+)年(?:(?P<leap>閏)?(?P<month>[^月]+)月(?:(?P<day>[^日]+)日)?)?$")


def _date(s: str) -> tuple[str, str | None]:
    m = _DATE.match(s)
    if not m:
        if not any(s.startswith(e) for e in ERAS):
            raise ValueSyntaxError("no era (明治, 大正, 昭和) at the start")
        raise ValueSyntaxError("not of the form 〈era〉〈year〉年〈month〉月〈day〉日")
    start, last = ERAS[m["era"]]
    year = 1 if m["year"] in ("元", "元年") else _number(m["year"])
    if not 1 <= year <= last:
        raise ValueSyntaxError(f"{m['era']} has no year {year} (it has 1–{last})")
    ad = start + year - 1
    if m["month"] is None:
        return f"{ad:04d}", None
    month = 1 if m["month"] == "正" else _number(m["month"])
    day = None if m["day"] is None else (1 if m["day"] == "朔" else _number(m["day"]))
    if not 1 <= month <= 12:
        raise ValueSyntaxError(f"no month {month}")
    lunar = (ad, month) < GREGORIAN_FROM and m["era"] == "明治"
    note = None
    if lunar:
        note = ("lunar calendar (before 明治6): the month and day are kept as written, not converted to the "
                "solar calendar")
        if m["leap"]:
            note = "intercalary (閏) month; " + note
        if day is not None and not 1 <= day <= 30:
            raise ValueSyntaxError(f"a lunar month has no day {day}")
        if (ad, month) == (1872, 12) and day is not None and day >= 3:
            raise ValueSyntaxError("明治5年12月3日 became 明治6年1月1日: this day never was")
    else:
        if m["leap"]:
            raise ValueSyntaxError("閏 (an intercalary month) after 明治5: the solar calendar has none")
        if day is not None:
            try:
                _dt.date(ad, month, day)
            except ValueError:
                raise ValueSyntaxError(f"{ad}-{month:02d} has no day {day}") from None
    if m["era"] == "大正" and year == 1 and (month, day or 30) < (7, 30):
        raise ValueSyntaxError("大正 began on 1912-07-30")
    if m["era"] == "明治" and year == 45 and (month, day or 1) > (7, 30):
        raise ValueSyntaxError("明治 ended on 1912-07-30")
    if m["era"] == "昭和" and year == 1 and (month, day or 31) < (12, 25):
        raise ValueSyntaxError("昭和 began on 1926-12-25")
    if m["era"] == "大正" and year == 15 and (month, day or 1) > (12, 25):
        raise ValueSyntaxError("大正 ended on 1926-12-25")
    value = f"{ad:04d}-{month:02d}" + ("" if day is None else f"-{day:02d}")
    return value, note


def parse_value(text: str, kind: str) -> ParsedValue:
    """Parse one field's text as ``kind`` (``number``, ``area``, ``money`` or ``date``)."""
    if kind not in KINDS:
        return ParsedValue(text, kind, None, None, f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    unit = UNITS[kind]
    s = _clean(text)
    if not s:
        return ParsedValue(text, kind, None, unit, "empty text")
    note = None
    try:
        if kind == "number":
            value: int | float | str = _number(s)
        elif kind == "area":
            value, note = _area(s)
        elif kind == "money":
            value = _money(s)
        else:
            value, note = _date(s)
    except ValueSyntaxError as exc:
        return ParsedValue(text, kind, None, unit, str(exc))
    except (KeyError, TypeError, ValueError) as exc:  # a path the rules above did not foresee: still no guess
        return ParsedValue(text, kind, None, unit, f"cannot parse ({exc})")
    return ParsedValue(text, kind, value, unit, None, note)


def parse_number(text: str) -> ParsedValue:
    return parse_value(text, "number")


def parse_area(text: str) -> ParsedValue:
    return parse_value(text, "area")


def parse_money(text: str) -> ParsedValue:
    return parse_value(text, "money")


def parse_date(text: str) -> ParsedValue:
    return parse_value(text, "date")
