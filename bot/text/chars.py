"""Which characters count as Chinese: the one definition every text rule builds on.

Why one place: "is this Chinese?" was answered with three different ranges
(ideographs only; ideographs plus CJK punctuation; plus full-width forms), so a
rule that worked in one module silently missed characters in another. Each
range below is named for what it covers; regexes embed them inside `[...]`.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs: the Chinese characters themselves (汉字).
HAN = "\u4e00-\u9fff"
# CJK Symbols and Punctuation: 、。〈〉《》「」【】 and the ideographic space U+3000.
CJK_PUNCT = "\u3000-\u303f"
# Halfwidth and Fullwidth Forms: ，！？：；（） and full-width letters and digits.
FULLWIDTH = "\uff00-\uffef"
# Punctuation Chinese text borrows from general typography.
CJK_QUOTES = "“”‘’…—"
# Everything that may stand in running Chinese text (no ASCII).
CJK_TEXT = HAN + CJK_PUNCT + FULLWIDTH + CJK_QUOTES

HAN_RUN = re.compile(f"[{HAN}]+")
_HAN_CHAR = re.compile(f"[{HAN}]")
_NOT_PLAIN = re.compile(f"[^\x00-\x7f{HAN}{CJK_PUNCT}{FULLWIDTH}]")

# ASCII punctuation and its Chinese (full-width) form, for text written with the wrong keyboard.
ASCII_TO_CHINESE_PUNCT = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"}


def is_han(ch: str) -> bool:
    """True for one Chinese character (汉字), not for Chinese punctuation."""
    return bool(_HAN_CHAR.fullmatch(ch))


def han_count(text: str) -> int:
    """How many Chinese characters `text` holds (punctuation, letters and digits not counted)."""
    return len(_HAN_CHAR.findall(text))


def plain_chinese_share(text: str) -> float:
    """Share of `text` that is ASCII, Chinese characters, Chinese punctuation or full-width forms.

    What a Chinese file should hold: a legacy decoding that yields much else is the wrong one.
    """
    if not text:
        return 0.0
    return (len(text) - len(_NOT_PLAIN.findall(text))) / len(text)


def han_runs(text: str) -> list[str]:
    """The unbroken runs of Chinese characters in `text`."""
    return HAN_RUN.findall(text)
