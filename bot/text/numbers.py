"""Numbers written two ways: Chinese numerals and Arabic digits.

Why: the material writes "98%", "300吨", "92#"; a rep types "百分之九十八" or "三百吨"; the speech
recogniser writes whichever it likes ("九十二号" or "92号"). Matching words must not depend on
which way a number was written, so the lexical side of a query gets the other spelling too.
Only unmistakable numbers are converted: a run with a unit (十/百/千/万), a run of three or more
digits, or anything after 百分之 — a lone 一 is usually part of a word (一下、一定、统一);
Arabic numbers of one digit stay as they are.
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_DIGIT_VALUE = {c: i for i, c in enumerate(DIGITS)} | {"两": 2, "〇": 0}
_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_CHARS = "".join(_DIGIT_VALUE) + "十百千万"
_CHINESE_RUN = re.compile(f"(百分之)?([{_NUMERAL_CHARS}]+(?:点[{''.join(_DIGIT_VALUE)}]+)?)")
_ARABIC = re.compile(r"(\d+(?:\.\d+)?)(%?)")


def chinese_to_int(run: str) -> int | None:
    """九十二 → 92, 三百 → 300, 一万二 → 12000, 二零二四 → 2024; None when it is not a plain number."""
    if not run or any(c not in _NUMERAL_CHARS for c in run):
        return None
    if all(c in _DIGIT_VALUE for c in run):  # read digit by digit: 二零二四
        return int("".join(str(_DIGIT_VALUE[c]) for c in run))
    total = section = digit = 0
    last_unit = 1
    for c in run:
        if c in _DIGIT_VALUE:
            digit = _DIGIT_VALUE[c]
        elif c == "万":
            total += (section + digit) * 10000
            section = digit = 0
            last_unit = 10000
        else:
            unit = _UNIT_VALUE[c]
            section += (digit or 1) * unit
            digit = 0
            last_unit = unit
    if digit and last_unit >= 100 and run[-2] in "十百千万":  # 一万二 = 12000, 三百五 = 350
        digit *= last_unit // 10
    return total + section + digit


def int_to_chinese(n: int) -> str:
    """92 → 九十二, 300 → 三百, 1005 → 一千零五 (below 10 000; larger numbers are left as digits)."""
    if n == 0:
        return "零"
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            out += ("零" if zero else "") + ("" if (value == 10 and d == 1 and not out) else DIGITS[d]) + unit
            zero = False
        elif out:
            zero = True
    return out


def _chinese_spelling(match: re.Match[str]) -> str | None:
    percent, run = match.group(1), match.group(2)
    whole, _, fraction = run.partition("点")
    has_unit = any(c in "十百千万" for c in whole)
    if not percent and not has_unit and len(whole) < 3:  # 一一、二三 are words more often than numbers
        return None
    value = chinese_to_int(whole)
    if value is None:
        return None
    text = str(value) + ("." + "".join(str(_DIGIT_VALUE[c]) for c in fraction) if fraction else "")
    return text + ("%" if percent else "")


def other_spellings(text: str) -> list[str]:
    """The numbers in `text` written the other way: 百分之九十八 → 98%, 300吨 → 三百 (for lexical matching)."""
    out: list[str] = []
    for match in _CHINESE_RUN.finditer(text):
        spelled = _chinese_spelling(match)
        if spelled:
            out.append(spelled)
    for match in _ARABIC.finditer(text):
        number, percent = match.groups()
        if "." in number or len(number) > 4 or (len(number) < 2 and not percent):
            continue
        spelled = int_to_chinese(int(number))
        out.append(("百分之" + spelled) if percent else spelled)
    return [s for s in dict.fromkeys(out) if s not in text]
