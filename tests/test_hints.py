"""Situation hints files (`knowledge/hints/<doc>.yaml`): read through the one data-file reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus.hints import Hint, HintsError, load_hints
from bot.datafiles import DataFileError

SOURCE = "以给采购商“好处”的办法来促成销售是存在风险的。客户记不住你，有需求的时候自然就想不到你。"


def write_hints(knowledge: Path, body: str) -> None:
    (knowledge / "hints").mkdir(parents=True, exist_ok=True)
    (knowledge / "hints" / "doc.yaml").write_text(body, encoding="utf-8")


def test_hints_load_and_a_single_ask_is_one_ask_not_its_characters(tmp_path: Path) -> None:
    write_hints(tmp_path, "hints:\n  - quote: 客户记不住你\n    asks: 客户总是忘了我怎么办？\n"
                          "  - quote: 存在风险\n    asks: [采购要好处怎么办？, 回扣给不给？]\n")
    assert load_hints(tmp_path, "doc", SOURCE) == [
        Hint("客户记不住你", ("客户总是忘了我怎么办？",)),
        Hint("存在风险", ("采购要好处怎么办？", "回扣给不给？")),
    ]
    assert load_hints(tmp_path, "other", SOURCE) == []


@pytest.mark.parametrize(
    "body, where, line",
    [
        ("hints:\n  - quote: 客户记不住你\n    asks: [忘了我]\n  - quote: 资料里没有这句话\n    asks: [问法]\n", "hints[1].quote", 4),
        ("hints:\n  - quote: 客户记不住你\n    asks: []\n", "hints[0].asks", 3),
        ("hints:\n  - 客户记不住你\n", "hints[0]", 2),
        ("doc: x\n", "hints", 1),
        ("hints:\n  - quote: [unclosed\n", "", 3),
    ],
)
def test_a_bad_hints_file_names_the_entry_and_the_line(tmp_path: Path, body: str, where: str, line: int) -> None:
    write_hints(tmp_path, body)
    with pytest.raises(HintsError) as info:
        load_hints(tmp_path, "doc", SOURCE)
    assert isinstance(info.value, DataFileError)
    assert info.value.file == "doc.yaml" and info.value.where == where and info.value.line == line
