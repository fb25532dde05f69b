"""The one definition of Chinese character ranges (bot.text.chars)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.text.chars import CJK_TEXT, HAN, han_count, han_runs, is_han, plain_chinese_share

BOT = Path(__file__).resolve().parent.parent / "bot"


def test_han_is_characters_not_punctuation() -> None:
    assert is_han("客") and not is_han("，") and not is_han("a") and not is_han("１")
    assert han_count("客情关系，CRM 2017年！") == 5
    assert han_runs("客情, 关系ab磅差") == ["客情", "关系", "磅差"]


def test_running_chinese_text_includes_its_punctuation() -> None:
    assert re.fullmatch(f"[{CJK_TEXT}]+", "“客情”——【关系】，（２０１７）…　")
    assert not re.search(f"[{CJK_TEXT}]", "plain ASCII, (2017)")


def test_plain_chinese_share_tells_a_wrong_decoding() -> None:
    assert plain_chinese_share("客情关系 CRM，２０１７。") == 1.0
    assert plain_chinese_share("ÄÖÜß客") == 0.2
    assert plain_chinese_share("") == 0.0


def test_the_ranges_are_defined_once() -> None:
    """No module spells the ideograph range itself: they all import it from bot.text.chars."""
    spelled = [
        str(path.relative_to(BOT))
        for path in BOT.rglob("*.py")
        if path.name != "chars.py" and re.search(r"\\u4e00|\\u9fff|\u4e00-\u9fff", path.read_text(encoding="utf-8"))
    ]
    assert spelled == []
    assert HAN == "\u4e00-\u9fff"
