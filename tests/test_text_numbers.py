"""Numbers match whichever way they were written (rep, recogniser and material differ)."""

import pytest

from bot.retrieval.query import QueryAnalyzer
from bot.retrieval.vocabulary import Vocabulary
from bot.text.numbers import chinese_to_int, int_to_chinese, other_spellings
from bot.text.words import tokeniser_for


@pytest.mark.parametrize(
    ("run", "value"),
    [("九十二", 92), ("十五", 15), ("三百", 300), ("三百五", 350), ("一千零五", 1005), ("一万二", 12000), ("二零二四", 2024), ("两百", 200)],
)
def test_chinese_numerals_are_read(run: str, value: int) -> None:
    assert chinese_to_int(run) == value


def test_round_trip_below_ten_thousand() -> None:
    for n in (1, 10, 12, 20, 98, 101, 300, 1005, 6500, 9999):
        assert chinese_to_int(int_to_chinese(n)) == n


def test_other_spellings_cover_percent_units_and_leave_words_alone() -> None:
    assert other_spellings("推销百分之九十八靠感情") == ["98%"]
    assert other_spellings("涨了5%") == ["百分之五"]
    assert other_spellings("一次订满300吨") == ["三百"]
    assert other_spellings("统一一下，一定要注意第1步") == []  # words with 一, one-digit numbers


def test_a_spelled_out_percentage_reaches_the_lexical_side_as_a_word() -> None:
    analysed = QueryAnalyzer(Vocabulary()).analyse("推销百分之九十八靠感情？")
    words = tokeniser_for().words(analysed.lexical_text)
    assert "98%" in words
    assert "98%" in tokeniser_for().words("推销,98%是感情,2%是对产品知识的掌握")
