"""Parsing of numbers as Chinese news writes them: 3 / 1,200 / 1.5 / 三 / 二十三 / 一百零五 / 两千.

Multipliers (十 百 千 万 亿) may follow either form (1.2万, 3千, 三千万). Vague counts
(数十, 上百, 十余) are parsed to their lower bound by the caller's qualifier logic.
"""

from __future__ import annotations

import re

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
MULTIPLIERS = {**CN_SMALL_UNITS, **CN_BIG_UNITS}

CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"
# A number as written: Arabic (with thousands separators / decimals) or Chinese numerals.
NUMBER_PATTERN = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千廿卅]+)"
# 廿 and 卅 (twenty, thirty) as headlines in Hong Kong and Taiwan write them (六死廿一伤).
_TENS = str.maketrans({"廿": "二十", "卅": "三十"})
_ARABIC = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def parse_number(text: str) -> float | None:
    """Value of an Arabic or Chinese numeral, optionally followed by 十/百/千/万/亿 multipliers.

    >>> parse_number("1.2万"), parse_number("二十三"), parse_number("一百零五"), parse_number("3千")
    (12000.0, 23.0, 105.0, 3000.0)
    """
    text = text.strip()
    if not text:
        return None
    match = _ARABIC.match(text)
    if match:
        base = float(match.group(0).replace(",", ""))
        return _apply_multipliers(base, text[match.end() :])
    return parse_chinese(text)


def _apply_multipliers(base: float, suffix: str) -> float | None:
    value = base
    for char in suffix:
        if char not in MULTIPLIERS:
            return None
        value *= MULTIPLIERS[char]
    return value


def parse_chinese(text: str) -> float | None:
    """Value of a Chinese numeral such as 三千五百 or 一亿二千万; None if it is not one."""
    text = text.translate(_TENS) if "廿" in text or "卅" in text else text
    if not text or any(c not in CN_DIGITS and c not in MULTIPLIERS for c in text):
        return None
    if all(c in CN_DIGITS for c in text):
        # 二〇一九 style digit strings; ranges such as 三四 are handled by the caller.
        return float("".join(str(CN_DIGITS[c]) for c in text)) if len(text) == 1 else None
    total = 0  # everything at or above 亿
    wan = 0  # the part between 万 and 亿
    section = 0  # the part below 万
    digit = 0
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        elif char in CN_SMALL_UNITS:
            section += (digit or 1) * CN_SMALL_UNITS[char]
            digit = 0
        elif char == "万":
            wan = (section + digit or 1) * 10_000
            section = digit = 0
        else:
            total = (total + wan + section + digit or 1) * 100_000_000
            wan = section = digit = 0
    return float(total + wan + section + digit)


def parse_adjacent_range(text: str) -> tuple[float, float] | None:
    """三四 → (3, 4); 七八 → (7, 8): two consecutive Chinese digits read as an estimate."""
    if len(text) == 2 and all(c in CN_DIGITS for c in text):
        low, high = CN_DIGITS[text[0]], CN_DIGITS[text[1]]
        if high == low + 1 and low > 0:
            return float(low), float(high)
    return None
