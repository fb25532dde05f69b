"""The one reader of hand-edited YAML files: one error shape, lines from the file, typed reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.datafiles import DataFileError, Fields, parse_yaml, problem_text, read_yaml
from bot.settings import PROJECT_ROOT

SCENARIO = """\
id: demo
persona:
  name: 周经理
  resistance: 120
rubric:
  - id: listen_first
    weight: thirty
  - id: acknowledge
    weight: 30
cues: [先问清楚, "", 核实]
"""


def fields(text: str, name: str = "demo.yaml") -> tuple[Fields, dict]:
    doc = parse_yaml(text, name)
    return doc.fields(), doc.data


def test_the_one_shape_names_file_place_problem_and_line() -> None:
    assert problem_text("a.yaml", "rubric[2].weight", "应该是整数", 41) == "a.yaml: rubric[2].weight: 应该是整数（第 41 行）"
    assert problem_text("a.yaml", "", "YAML 格式错误：x", 3) == "a.yaml: 第 3 行: YAML 格式错误：x"
    assert problem_text("a.yaml", "", "找不到这个文件") == "a.yaml: 找不到这个文件"
    error = DataFileError("a.yaml", "id", "不能为空", 1)
    assert isinstance(error, ValueError) and (error.file, error.where, error.what, error.line) == ("a.yaml", "id", "不能为空", 1)


def test_a_syntax_error_carries_the_line_of_the_yaml_mark() -> None:
    with pytest.raises(DataFileError) as info:
        parse_yaml("id: typo\ntitle: [unclosed\n", "typo.yaml")
    assert str(info.value).startswith("typo.yaml: 第 3 行: YAML 格式错误")
    assert "第 2 行起" in str(info.value)  # where the unclosed bracket opened
    assert info.value.line == 3
    with pytest.raises(DataFileError, match=r"^bad.yaml: 第 2 行: YAML 格式错误"):
        parse_yaml("a: 1\n b: 2\n", "bad.yaml")


def test_a_key_written_twice_is_an_error_not_a_silent_overwrite() -> None:
    with pytest.raises(DataFileError) as info:
        parse_yaml("reply: 好的\ngoal: true\nreply: 不行\n", "twice.yaml")
    assert info.value.line == 3 and "'reply'" in str(info.value) and "第 1 行" in str(info.value)
    # A merged (<<) key may be overridden: that is what merging is for.
    data = parse_yaml("base: &b {k: 1, j: 2}\nm:\n  <<: *b\n  k: 3\n", "merge.yaml").data
    assert data["m"] == {"k": 3, "j": 2}


def test_field_errors_point_at_the_line_of_the_field() -> None:
    f, data = fields(SCENARIO)
    persona = f.section(data, "persona", "")
    with pytest.raises(DataFileError) as info:
        f.integer(persona, "resistance", "persona", lo=0, hi=100)
    assert str(info.value) == "demo.yaml: persona.resistance: 应该在 0 到 100 之间，收到 120（第 4 行）"
    rubric = f.items(data, "rubric", "")
    with pytest.raises(DataFileError) as info:
        f.integer(rubric[0], "weight", "rubric[0]", lo=1, hi=100)
    assert str(info.value).startswith("demo.yaml: rubric[0].weight: 应该是整数") and info.value.line == 7
    with pytest.raises(DataFileError) as info:
        f.texts(data, "cues", "")
    assert info.value.where == "cues[1]" and info.value.line == 10
    with pytest.raises(DataFileError) as info:
        f.text(persona, "company", "persona")
    assert str(info.value) == "demo.yaml: persona.company: 缺少这一项（第 3 行）"  # the mapping that lacks it


def test_typed_reads_return_the_values() -> None:
    f, data = fields("title: 2024\nflag: true\nratio: 0.5\none: 一句\nmany: [甲, 乙]\nn: 7\n")
    assert f.text(data, "title", "") == "2024"  # YAML made it a number; a title is text
    assert f.flag(data, "flag", "") is True and f.flag(data, "absent", "") is False
    assert f.number(data, "ratio", "", lo=0, hi=1, default=0.4) == 0.5
    assert f.number(data, "absent", "", lo=0, hi=1, default=0.4) == 0.4
    assert f.texts(data, "one", "", one_or_list=True) == ("一句",)
    assert f.texts(data, "many", "") == ("甲", "乙")
    assert f.integer(data, "n", "", lo=1, hi=9) == 7 and f.integer(data, "absent", "", lo=1, hi=9, default=3) == 3
    assert f.section(data, "absent", "", required=False) == {} and f.items(data, "absent", "") == []
    assert f.text(data, "absent", "", required=False, default="默认") == "默认"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f, d: f.flag(d, "n", ""), "只能是 true 或 false"),
        (lambda f, d: f.text(d, "many", ""), "应该是一段文字"),
        (lambda f, d: f.texts(d, "n", ""), "应该是一个列表"),
        (lambda f, d: f.section(d, "one", ""), "应该是一个映射"),
        (lambda f, d: f.items(d, "many", ""), "应该是一个映射"),
        (lambda f, d: f.items(d, "absent", "", min_items=1), "至少需要 1 项"),
        (lambda f, d: f.integer(d, "flag", "", lo=0, hi=1), "应该是整数"),
        (lambda f, d: f.text(d, "blank", ""), "不能为空"),
    ],
)
def test_each_typed_read_rejects_the_wrong_shape(call, message: str) -> None:
    f, data = fields("flag: true\none: 一句\nmany: [甲, 乙]\nn: 7\nblank: '  '\n")
    with pytest.raises(DataFileError, match=message) as info:
        call(f, data)
    assert info.value.line is not None


def test_the_top_level_is_named_and_an_empty_file_is_an_empty_mapping() -> None:
    f, data = fields("- a\n- b\n", "list.yaml")
    with pytest.raises(DataFileError, match=r"^list.yaml: 顶层: 应该是一个映射"):
        f.root(data)
    f, data = fields("", "empty.yaml")
    assert data is None and f.root(data) == {}
    with pytest.raises(DataFileError, match="顶层"):
        f.root(data, empty_ok=False)


def test_clean_tidies_text_unless_verbatim() -> None:
    doc = parse_yaml("a: '  先 问 清楚  '\n", "x.yaml")
    f = doc.fields(clean=lambda s: s.replace(" ", ""))
    assert f.text(doc.data, "a", "") == "先问清楚"
    assert f.text(doc.data, "a", "", verbatim=True) == "先 问 清楚"


def test_a_loader_keeps_its_own_error_type(tmp_path: Path) -> None:
    class ManifestLikeError(DataFileError):
        pass

    (tmp_path / "m.yaml").write_text("sources: [\n", encoding="utf-8")
    with pytest.raises(ManifestLikeError, match=r"^m.yaml: 第 2 行"):
        read_yaml(tmp_path / "m.yaml", error=ManifestLikeError)
    (tmp_path / "ok.yaml").write_text("sources: 3\n", encoding="utf-8")
    doc = read_yaml(tmp_path / "ok.yaml", error=ManifestLikeError)
    with pytest.raises(ManifestLikeError, match=r"^ok.yaml: sources: 应该是一个列表（第 1 行）"):
        doc.fields().entries(doc.data, "sources", "")


def test_unreadable_files_are_reported_not_raised_raw(tmp_path: Path) -> None:
    (tmp_path / "gbk.yaml").write_bytes("名称: 客情".encode("gb18030"))
    with pytest.raises(DataFileError, match=r"^gbk.yaml: 读不了这个文件（需要 UTF-8 文本）"):
        read_yaml(tmp_path / "gbk.yaml")
    with pytest.raises(DataFileError, match=r"^gone.yaml: 读不了这个文件"):
        read_yaml(tmp_path / "gone.yaml")


def test_data_built_in_code_has_no_lines_but_the_same_shape() -> None:
    f = Fields("code.yaml")
    with pytest.raises(DataFileError) as info:
        f.integer({"n": "x"}, "n", "end", lo=0, hi=1)
    assert str(info.value) == "code.yaml: end.n: 应该是整数，收到 'x'" and info.value.line is None


def test_every_shipped_data_file_reads() -> None:
    files = sorted((PROJECT_ROOT / "knowledge").rglob("*.yaml")) + sorted((PROJECT_ROOT / "prompts").rglob("*.yaml"))
    assert len(files) > 20
    for path in files:
        assert read_yaml(path).data is not None, path
