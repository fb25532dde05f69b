"""The one prompt syntax and the one loader (bot/llm/prompts.py): placeholders, reload on edit, UI texts."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.llm import prompts as prompts_module
from bot.llm.prompts import (
    MissingText,
    PromptFileError,
    PromptLibrary,
    configure_prompts,
    fill,
    library_for,
    parse_ui_yaml,
    placeholders,
    prompt_library,
    t,
)
from bot.services import Services
from bot.settings import PROJECT_ROOT, Settings


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fresh_warnings() -> None:
    """Each test sees its own 'logged once' warnings."""
    prompts_module._warned.clear()


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    """A copy of the project's prompts directory a test may edit."""
    target = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


def write(path: Path, text: str, *, mtime_ns: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


# ---------------------------------------------------------------- the syntax


def test_placeholders_and_format_specs_are_filled() -> None:
    text = fill("{name}：{average:.0f} 分，{id:<6}|{n:>4}", {"name": "开场", "average": 81.6, "id": "ab", "n": 7})
    assert text == "开场：82 分，ab    |   7"


def test_every_other_brace_is_literal_text() -> None:
    template = '只输出 JSON：{"reply": "…", "items": [{"id": 1}]}，{花括号} 是中文，{ 单独 } 也行，{x}'
    assert fill(template, {"x": "好"}) == template.replace("{x}", "好")


def test_a_placeholder_without_a_value_stays_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.llm.prompts")
    for _ in range(3):
        assert fill("你好，{name}！今天 {day}。", {"day": "周一"}, source="greeting.md") == "你好，{name}！今天 周一。"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "greeting.md" in warnings[0] and "{name}" in warnings[0]


def test_a_spec_that_does_not_fit_the_value_stays_as_written(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.llm.prompts")
    assert fill("{score:.0f} 分", {"score": "很高"}) == "{score:.0f} 分"
    assert len(caplog.records) == 1


def test_values_are_not_scanned_again() -> None:
    """Material that contains a placeholder cannot pull another value into the prompt."""
    template = "<m>{materials}</m><q>{question}</q>"
    filled = fill(template, {"materials": "资料里写着 {question}", "question": "怎么回访？"})
    assert filled == "<m>资料里写着 {question}</m><q>怎么回访？</q>"


def test_the_old_double_brace_syntax_is_flagged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.llm.prompts")
    assert fill("{{materials}}", {"materials": "M"}, source="old.md") == "{M}"
    assert any("old syntax" in r.getMessage() and "old.md" in r.getMessage() for r in caplog.records)


def test_placeholders_lists_the_names_in_order() -> None:
    assert placeholders('{b} {a:>3} {b} {"json": 1} {中文}') == ["b", "a"]


def test_no_shipped_prompt_or_text_uses_the_old_syntax() -> None:
    files = [*(PROJECT_ROOT / "prompts").glob("*.md"), *(PROJECT_ROOT / "prompts" / "ui").glob("*.yaml")]
    assert files
    for path in files:
        assert "{{" not in path.read_text(encoding="utf-8"), path.name


# ---------------------------------------------------------------- the loader


def test_an_edit_is_picked_up_without_a_restart_but_files_are_checked_at_most_once_a_second(tmp_path: Path) -> None:
    clock = FakeClock()
    library = PromptLibrary(tmp_path, clock=clock)
    write(tmp_path / "p.md", "第一版 {x}", mtime_ns=1_000_000_000)
    assert library.render("p.md", x=1) == "第一版 1"

    write(tmp_path / "p.md", "第二版 {x}", mtime_ns=2_000_000_000)
    clock.now += 0.5
    assert library.read("p.md") == "第一版 {x}", "within a second the cached text is trusted"
    clock.now += 0.6
    assert library.render("p.md", x=2) == "第二版 2"


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    library = PromptLibrary(tmp_path, clock=clock)
    write(tmp_path / "p.md", "内容")
    library.read("p.md")
    reads: list[Path] = []
    original = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: reads.append(self) or original(self, *a, **k))
    clock.now += 5
    assert library.read("p.md") == "内容"
    assert reads == []


def test_missing_and_garbled_files_raise_one_error_naming_the_file(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path)
    with pytest.raises(PromptFileError, match="nope.md"):
        library.read("nope.md")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(PromptFileError, match="bad.md.*UTF-8"):
        library.read("bad.md")


def test_a_deleted_file_stops_being_served_from_the_cache(tmp_path: Path) -> None:
    clock = FakeClock()
    library = PromptLibrary(tmp_path, clock=clock)
    write(tmp_path / "p.md", "内容")
    assert library.read("p.md") == "内容"
    (tmp_path / "p.md").unlink()
    clock.now += 2
    with pytest.raises(PromptFileError):
        library.read("p.md")


def test_one_library_per_directory() -> None:
    assert library_for(PROJECT_ROOT / "prompts") is library_for(PROJECT_ROOT / "bot" / ".." / "prompts")


# ---------------------------------------------------------------- UI texts


def test_ui_texts_are_keyed_by_file_and_fall_back_to_chinese(tmp_path: Path) -> None:
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 你好，{name}\n  en: Hello, {name}\nonly_zh:\n  zh: 只有中文\n")
    library = PromptLibrary(tmp_path)
    assert library.text("demo.hello", "zh", name="王经理") == "你好，王经理"
    assert library.text("demo.hello", "en", name="Wang") == "Hello, Wang"
    assert library.text("demo.only_zh", "en") == "只有中文"
    assert library.text("demo.hello", "fr", name="x") == "你好，x"


def test_ui_texts_are_re_read_on_edit_and_new_files_are_found(tmp_path: Path) -> None:
    clock = FakeClock()
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 旧的\n", mtime_ns=1_000_000_000)
    library = PromptLibrary(tmp_path, clock=clock)
    assert library.text("demo.hello") == "旧的"
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 新的\n", mtime_ns=2_000_000_000)
    write(tmp_path / "ui" / "extra.yaml", "bye:\n  zh: 再见\n")
    assert library.text("demo.hello") == "旧的"
    clock.now += 1.5
    assert library.text("demo.hello") == "新的"
    assert library.text("extra.bye") == "再见"


def test_a_ui_file_broken_by_a_live_edit_keeps_its_last_good_texts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 你好\n", mtime_ns=1_000_000_000)
    library = PromptLibrary(tmp_path, clock=clock)
    assert library.text("demo.hello") == "你好"
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: [没写完\n", mtime_ns=2_000_000_000)
    clock.now += 2
    caplog.set_level(logging.WARNING, logger="bot.llm.prompts")
    assert library.text("demo.hello") == "你好"
    assert any("demo.yaml" in r.getMessage() and "第 " in r.getMessage() for r in caplog.records)
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 您好\n", mtime_ns=3_000_000_000)
    clock.now += 2
    assert library.text("demo.hello") == "您好"


def test_a_broken_ui_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "ui" / "demo.yaml", "hello: [\n")
    with pytest.raises(PromptFileError, match="demo.yaml"):
        PromptLibrary(tmp_path).text("demo.hello")


def test_a_deleted_ui_file_drops_its_texts_without_an_error(tmp_path: Path) -> None:
    clock = FakeClock()
    write(tmp_path / "ui" / "demo.yaml", "hello:\n  zh: 你好\n")
    write(tmp_path / "ui" / "gone.yaml", "bye:\n  zh: 再见\n")
    library = PromptLibrary(tmp_path, clock=clock)
    assert library.text("gone.bye") == "再见"
    (tmp_path / "ui" / "gone.yaml").unlink()
    clock.now += 2
    assert library.text("demo.hello") == "你好"
    with pytest.raises(MissingText):
        library.text("gone.bye")


def test_a_malformed_ui_file_names_the_file_the_key_and_the_line() -> None:
    with pytest.raises(PromptFileError) as info:
        parse_ui_yaml("bot.yaml", "ok:\n  zh: 好\nbroken: [\n")
    assert str(info.value).startswith("bot.yaml: ") and "第 " in str(info.value)
    with pytest.raises(PromptFileError, match="^bot.yaml: greeting: 至少需要 zh"):
        parse_ui_yaml("bot.yaml", "greeting:\n  en: hi\n")
    with pytest.raises(PromptFileError, match="^bot.yaml: 顶层"):
        parse_ui_yaml("bot.yaml", "- a\n- b\n")


def test_an_unknown_key_is_missing_text() -> None:
    with pytest.raises(MissingText):
        t("answer.no_such_text")


def test_a_customised_directory_without_a_new_text_gets_the_shipped_one(tmp_path: Path) -> None:
    write(tmp_path / "ui" / "answer.yaml", "not_covered:\n  zh: 这个资料里没有。\n")
    library = PromptLibrary(tmp_path)
    assert library.text("answer.not_covered") == "这个资料里没有。"
    shipped = library_for(PROJECT_ROOT / "prompts").text("llm.error_timeout")
    assert library.text("llm.error_timeout") == shipped == "模型响应超时。"


def test_t_reads_the_configured_prompts_directory(prompts_copy: Path) -> None:
    """UI texts used to come from the project root whatever SALESCOACH_PROMPTS_DIR said."""
    shipped = t("llm.error_timeout")
    path = prompts_copy / "ui" / "llm.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("模型响应超时。", "模型想太久了。"), encoding="utf-8")
    settings = Settings.load(env={"SALESCOACH_PROMPTS_DIR": str(prompts_copy)})
    services = Services.build(settings)
    try:
        assert prompt_library().root == prompts_copy.resolve()
        assert t("llm.error_timeout") == "模型想太久了。" != shipped
    finally:
        services.close()
    configure_prompts(PROJECT_ROOT / "prompts")
    assert t("llm.error_timeout") == shipped


def test_every_shipped_ui_text_has_chinese_and_loads() -> None:
    texts = library_for(PROJECT_ROOT / "prompts").ui_texts()
    assert len(texts) > 100
    assert all(value["zh"].strip() for value in texts.values())


def test_answer_prompts_come_from_the_settings_directory(prompts_copy: Path) -> None:
    from bot.coach.answers.prompt import build_answer_prompt

    (prompts_copy / "answer_system.md").write_text("系统：用{answer_language}，不懂就说 {not_covered}。", encoding="utf-8")
    (prompts_copy / "answer_user.md").write_text('资料：{materials}\n问题：{question}\n示例 {"a": 1}', encoding="utf-8")
    settings = replace(Settings(), prompts_dir=prompts_copy)
    prompt = build_answer_prompt("客户不回消息怎么办？", [], settings)
    assert prompt.messages[0]["content"] == "系统：用中文，不懂就说 NOT_COVERED。"
    assert prompt.messages[-1]["content"] == '资料：\n问题：客户不回消息怎么办？\n示例 {"a": 1}'


def test_a_ui_file_is_read_by_the_shared_data_file_reader() -> None:
    with pytest.raises(PromptFileError) as info:
        parse_ui_yaml("bot.yaml", "ok:\n  zh: 好\ngreeting:\n  en: hi\n")
    assert str(info.value) == "bot.yaml: greeting: 至少需要 zh 一项（第 3 行）"
    with pytest.raises(PromptFileError, match="写了两次"):
        parse_ui_yaml("bot.yaml", "ok:\n  zh: 好\nok:\n  zh: 行\n")
