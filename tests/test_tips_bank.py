"""The tip bank as shipped, and validation of hand-edited tip files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.coach.tips.sources import SourceResolver
from bot.coach.tips.bank import (
    MAX_TEXT_CHARS,
    load_bank,
    load_bank_for,
    load_criteria_ids,
    load_references,
    load_scenario_ids,
    text_length,
)
from bot.settings import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"


def _source_files() -> dict[str, str]:
    """doc id → raw file text, read straight from the manifest (independent of the loader)."""
    manifest = yaml.safe_load((KNOWLEDGE / "sources" / "manifest.yaml").read_text(encoding="utf-8"))
    return {e["id"]: (KNOWLEDGE / "sources" / e["file"]).read_text(encoding="utf-8") for e in manifest["sources"]}


def _raw_tips() -> list[tuple[str, dict]]:
    out = []
    for path in sorted((KNOWLEDGE / "tips").glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        for tip in yaml.safe_load(path.read_text(encoding="utf-8"))["tips"]:
            out.append((path.name, tip))
    return out


# ---- the shipped bank ----------------------------------------------------------------------


def test_shipped_bank_is_valid_and_large_enough():
    bank = load_bank_for(KNOWLEDGE)
    assert [str(i) for i in bank.issues] == []
    assert len(bank.tips) >= 60
    assert len(bank.tips) == len(_raw_tips())  # nothing silently dropped
    assert len({t.id for t in bank.tips}) == len(bank.tips)


def test_every_quote_is_verbatim_in_its_source_file():
    files = _source_files()
    for file_name, tip in _raw_tips():
        source = tip["source"]
        assert source["doc"] in files, f"{file_name} {tip['id']}: unknown doc {source['doc']}"
        assert 10 <= len(source["quote"]) <= 60, f"{tip['id']}: quote length {len(source['quote'])}"
        assert source["quote"] in files[source["doc"]], f"{file_name} {tip['id']}: quote not verbatim"


def test_tips_are_short_chinese_and_tagged():
    criteria = load_criteria_ids(KNOWLEDGE / "scenarios")
    scenarios = load_scenario_ids(KNOWLEDGE / "scenarios")
    bank = load_bank_for(KNOWLEDGE)
    for tip in bank.tips:
        assert text_length(tip.text) <= MAX_TEXT_CHARS, tip.id
        assert len(re.findall(r"[\u4e00-\u9fff]", tip.text)) >= 0.6 * text_length(tip.text), tip.id
        assert tip.criteria, f"{tip.id} trains no criterion"
        if criteria is not None:
            assert set(tip.criteria) <= criteria, tip.id
        if scenarios is not None and tip.scenario:
            assert tip.scenario in scenarios, tip.id
    assert any(t.quiz for t in bank.tips)
    # Every topic has tips; every rubric criterion has at least two tips to space out.
    coverage = bank.coverage()
    assert all(coverage["topic"][topic] >= 5 for topic in bank.topics)
    if criteria is not None:
        assert all(coverage["criteria"][c] >= 2 for c in criteria), coverage["criteria"]


def test_every_source_resolves_to_a_title_and_location(knowledge_base):
    bank = load_bank_for(KNOWLEDGE)
    resolver = SourceResolver(knowledge_base, KNOWLEDGE / "sources")
    titles = {e["id"]: e["title"] for e in yaml.safe_load((KNOWLEDGE / "sources" / "manifest.yaml").read_text("utf-8"))["sources"]}
    for tip in bank.tips:
        resolved = resolver.resolve(tip.source)
        assert resolved.title == titles[tip.source.doc]
        assert resolved.location, f"{tip.id}: quote not found in any chunk"
    # A page-structured deck resolves to its page (the chunker may merge neighbouring pages).
    tip = bank.get("loss-weighbridge")
    location = resolver.resolve(tip.source).location
    assert location.startswith("第 ") and "67" in location


# ---- validation of edited files ----------------------------------------------------------------


def _knowledge_copy(tmp_path: Path) -> Path:
    """A knowledge dir with the real sources, topics and scenarios, and an empty tips folder."""
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE / "sources", root / "sources")
    shutil.copytree(KNOWLEDGE / "scenarios", root / "scenarios")
    (root / "tips").mkdir(parents=True)
    shutil.copy(KNOWLEDGE / "tips" / "_topics.yaml", root / "tips" / "_topics.yaml")
    shutil.copy(KNOWLEDGE / "tips" / "_cities.yaml", root / "tips" / "_cities.yaml")
    return root


GOOD = """
topic: gifts
tips:
  - id: good-one
    text: 礼品寄出两三天后打个电话回访，问收到没有，再给一个实用提醒。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
    tags: {criteria: [follow_up], scenario: gift-no-warmth}
  - id: good-two
    text: 每周给客户发一句周末问候，让他有需求时第一个想起你。
    source: {doc: kqing-qa, quote: "客户记不住你,有需求的时候自然就想不到你"}
    tags: {topic: relationship, criteria: [follow_up]}
    quiz: {question: 为什么要发周末问候？, answer: 让客户记住你。}
"""


def test_malformed_file_is_reported_and_the_rest_still_loads(tmp_path):
    root = _knowledge_copy(tmp_path)
    (root / "tips" / "a_good.yaml").write_text(GOOD, encoding="utf-8")
    (root / "tips" / "b_broken.yaml").write_text("tips:\n  - id: x\n    text: [unclosed\n", encoding="utf-8")
    (root / "tips" / "c_wrong_shape.yaml").write_text("- just a list\n", encoding="utf-8")
    bank = load_bank_for(root)
    assert {t.id for t in bank.tips} == {"good-one", "good-two"}
    messages = [str(i) for i in bank.errors]
    assert any("b_broken.yaml" in m and "YAML" in m for m in messages)
    assert any("c_wrong_shape.yaml" in m and "tips" in m for m in messages)
    assert bank.get("good-two").topic == "relationship"  # tag overrides the file's default topic
    assert bank.get("good-two").quiz.answer == "让客户记住你。"


def test_field_errors_name_the_file_and_field(tmp_path):
    root = _knowledge_copy(tmp_path)
    bad = """
topic: gifts
tips:
  - id: not-verbatim
    text: 一条引文对不上的提示。
    source: {doc: gift-story, quote: 这句话在原文里根本就不存在的}
  - id: too-long
    text: "%s"
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
  - id: unknown-doc
    text: 资料 id 写错了。
    source: {doc: no-such-doc, quote: 送之后呢，要回访一下客户的收礼感受啊}
  - id: Bad ID
    text: id 不合规。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
  - id: bad-topic
    text: 主题不存在。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
    tags: {topic: astrology}
  - id: short-quote
    text: 引文太短。
    source: {doc: gift-story, quote: 回访}
  - id: half-quiz
    text: 测验只有问题。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
    quiz: {question: 只有问题？}
  - id: soft-warnings
    text: 维度和场景不存在只是提醒，提示照常使用。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
    tags: {criteria: [mind_reading], scenario: no-such-scenario, colour: red}
  - id: soft-warnings
    text: 重复的 id。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
""" % ("太" * (MAX_TEXT_CHARS + 1))
    (root / "tips" / "bad.yaml").write_text(bad, encoding="utf-8")
    bank = load_bank_for(root)
    assert [t.id for t in bank.tips] == ["soft-warnings"]
    errors = "\n".join(str(i) for i in bank.errors)
    assert "bad.yaml: tips[0] (not-verbatim).source.quote" in errors and "找不到" in errors
    assert "tips[1] (too-long).text" in errors and f"上限 {MAX_TEXT_CHARS}" in errors
    assert "tips[2] (unknown-doc).source.doc" in errors
    assert "tips[3] (Bad ID).id" in errors
    assert "tips[4] (bad-topic).tags.topic" in errors
    assert "tips[5] (short-quote).source.quote" in errors
    assert "tips[6] (half-quiz).quiz.answer" in errors
    assert "重复" in errors
    warnings = "\n".join(str(i) for i in bank.warnings)
    assert "tags.criteria" in warnings and "mind_reading" in warnings
    assert "tags.scenario" in warnings and "tags.colour" in warnings


def test_bank_loads_without_reference_data(tmp_path):
    """Without a manifest or topics file the tips still load (nothing to check them against)."""
    tips_dir = tmp_path / "tips"
    tips_dir.mkdir()
    (tips_dir / "x.yaml").write_text(GOOD, encoding="utf-8")
    bank = load_bank(tips_dir)
    assert len(bank.tips) == 2 and not bank.errors
    refs, issues = load_references(tmp_path / "nothing-here", tips_dir)
    assert refs.source_texts is None and refs.criteria is None and issues == []


# ---- the terminal commands ---------------------------------------------------------------


def test_tips_check_command_reports_coverage(capsys, monkeypatch, tmp_path, knowledge_base):
    monkeypatch.chdir(tmp_path)  # no .env from the repo
    monkeypatch.setenv("SALESCOACH_KNOWLEDGE_DIR", str(KNOWLEDGE))
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))  # quotes are located in the index
    assert main(["tips", "check", "--strict"]) == 0
    out = capsys.readouterr().out
    assert "错误 0 个" in out and "gifts" in out and "送礼有道" in out and "listen_first" in out


def test_tips_check_fails_on_a_broken_bank(capsys, monkeypatch, tmp_path):
    root = _knowledge_copy(tmp_path)
    (root / "tips" / "oops.yaml").write_text("tips:\n  - id: oops\n    text: 没有出处。\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESCOACH_KNOWLEDGE_DIR", str(root))
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(tmp_path / "data"))
    assert main(["tips", "check"]) == 1
    out = capsys.readouterr().out
    assert "oops.yaml: tips[0] (oops).source" in out


def test_tip_command_prints_the_next_tip(capsys, monkeypatch, tmp_path, knowledge_base):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESCOACH_KNOWLEDGE_DIR", str(KNOWLEDGE))
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))  # quotes are located in the index
    assert main(["tip", "--user", "7", "--json"]) == 0
    import json

    printed = json.loads(capsys.readouterr().out)
    assert printed["source"]["title"] and printed["source"]["location"]
    assert printed["reason"] == "rotation"
    # Peeking does not record anything: asking again gives the same tip.
    assert main(["tip", "--user", "7"]) == 0
    assert printed["id"] in capsys.readouterr().out


@pytest.mark.parametrize("name", ["_cities.yaml"])
def test_city_table_is_valid(name):
    from bot.coach.tips.timezones import load_city_zones

    cities, problems = load_city_zones(KNOWLEDGE / "tips" / name)
    assert problems == []
    for city in ("北京", "上海", "深圳", "广州", "香港", "台北", "东京", "新加坡", "伦敦", "纽约", "洛杉矶", "悉尼", "迪拜", "莫斯科"):
        assert city in cities


def test_issues_carry_the_line_and_every_problem_of_a_tip_is_reported(tmp_path):
    root = _knowledge_copy(tmp_path)
    body = (
        "topic: gifts\n"
        "tips:\n"
        "  - id: Two Problems\n"
        "    text: \"%s\"\n"
        "    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}\n"
        "    tags: {criteria: [follow_up], mood: calm}\n"
    ) % ("太" * (MAX_TEXT_CHARS + 1))
    (root / "tips" / "lines.yaml").write_text(body, encoding="utf-8")
    bank = load_bank_for(root)
    errors = {i.where: i for i in bank.errors}
    assert set(errors) == {"tips[0] (Two Problems).id", "tips[0] (Two Problems).text"}
    assert errors["tips[0] (Two Problems).id"].line == 3 and errors["tips[0] (Two Problems).text"].line == 4
    assert str(errors["tips[0] (Two Problems).text"]).startswith("[错误] lines.yaml: tips[0] (Two Problems).text: 太长")
    assert str(errors["tips[0] (Two Problems).text"]).endswith("（第 4 行）")
    [warning] = bank.warnings
    assert warning.where == "tips[0] (Two Problems).tags.mood" and warning.line == 6


def test_a_broken_topics_file_is_reported_with_its_line(tmp_path):
    root = _knowledge_copy(tmp_path)
    (root / "tips" / "_topics.yaml").write_text("topics:\n  gifts: {zh: 送礼有道}\n  relationship: {en: Relationship}\n", encoding="utf-8")
    bank = load_bank_for(root)
    assert bank.topic_label("gifts") == "送礼有道"
    assert [str(i) for i in bank.errors] == ["[错误] _topics.yaml: topics.relationship.zh: 至少需要 zh 名称（第 3 行）"]

