"""The shared rubric criteria: one strict parser, read once per file version, one name lookup."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.coach.criteria import Criteria, CriterionInfo, criteria_or_none, load_criteria
from bot.coach.practice.scenarios import load_catalog
from bot.coach.practice.scoring import CriterionResult, ScoreCard
from bot.coach.practice.text import card_text
from bot.coach.team.summary import criterion_names
from bot.datafiles import DataFileError
from bot.settings import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"
SCENARIOS = KNOWLEDGE / "scenarios"


def write_criteria(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "criteria.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_criteria_have_both_names() -> None:
    criteria = load_criteria(SCENARIOS)
    assert len(criteria) >= 10 and "listen_first" in criteria
    assert all(info.zh and info.en for info in criteria.values())
    assert criteria.name("listen_first", "zh") == "先倾听、问清楚"
    assert criteria.name("listen_first", "en") == "Listen and ask first"


def test_the_lookup_falls_back_to_chinese_then_to_the_id() -> None:
    criteria = Criteria({"a": CriterionInfo("a", "甲", "Alpha"), "b": CriterionInfo("b", "乙")})
    assert criteria.name("a", "en") == "Alpha" and criteria.name("a", "zh") == "甲"
    assert criteria.name("b", "en") == "乙"  # no English name written
    assert criteria.name("gone", "en") == "gone"  # removed from the file: still shows something
    assert criteria.names("en") == {"a": "Alpha", "b": "乙"}


def test_read_once_per_version_of_the_file(tmp_path: Path) -> None:
    path = write_criteria(tmp_path, "criteria:\n  listen_first: {zh: 先倾听, en: Listen}\n")
    first = load_criteria(tmp_path)
    assert load_criteria(tmp_path) is first  # every caller shares one parse
    path.write_text("criteria:\n  listen_first: {zh: 先倾听, en: Listen first}\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = load_criteria(tmp_path)
    assert again is not first and again.name("listen_first", "en") == "Listen first"


@pytest.mark.parametrize(
    "body, where, line",
    [
        ("criteria:\n  listen_first: {zh: 先倾听}\n  Bad Id: {zh: 坏}\n", "criteria.Bad Id", 3),
        ("criteria:\n  listen_first:\n    en: Listen\n", "criteria.listen_first.zh", 3),
        ("criteria:\n  listen_first: 先倾听\n", "criteria.listen_first", 2),
        ("criteria: [listen_first]\n", "criteria", 1),
    ],
)
def test_one_strict_parser_names_entry_and_line(tmp_path: Path, body: str, where: str, line: int) -> None:
    write_criteria(tmp_path, body)
    with pytest.raises(DataFileError) as info:
        load_criteria(tmp_path)
    assert info.value.file == "criteria.yaml" and info.value.where == where and info.value.line == line
    assert criteria_or_none(tmp_path) is None  # features that only label or check ids carry on without


def test_a_missing_file_is_an_error_for_role_play_and_nothing_for_the_rest(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="^criteria.yaml: 找不到这个文件"):
        load_criteria(tmp_path)
    assert criteria_or_none(tmp_path) is None


def test_every_caller_gets_the_names_from_the_one_lookup(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(SCENARIOS, knowledge / "scenarios")
    criteria = load_criteria(knowledge / "scenarios")
    assert criterion_names(knowledge, "en") == criteria.names("en")
    assert criterion_names(knowledge, "en")["compliance"] == "Hold the compliance line"
    catalog = load_catalog(knowledge / "scenarios", KNOWLEDGE / "sources")
    assert catalog.criterion_name("compliance", "en") == "Hold the compliance line"
    rubric = catalog.get("abnormal-loss").rubric[0]
    assert rubric.name == criteria.name(rubric.id, "zh") and rubric.name_in("en") == criteria.name(rubric.id, "en")


def _card(info: CriterionInfo | None) -> ScoreCard:
    result = CriterionResult(
        "listen_first", "先倾听、问清楚", 40, 50, ("问了原因",), ("没有复述",), (), "您先说说情况？", "先问清楚", (), info
    )
    return ScoreCard("demo", "演示场景", 20, (result,), "goal", "offline", 3)


def test_an_english_readers_score_card_shows_the_english_criterion_name() -> None:
    info = load_criteria(SCENARIOS)["listen_first"]
    english = card_text(_card(info), "en")
    assert "Listen and ask first" in english and "先倾听、问清楚" not in english
    chinese = card_text(_card(info), "zh")
    assert "先倾听、问清楚" in chinese and "Listen and ask first" not in chinese
    assert "先倾听、问清楚" in card_text(_card(None), "en")  # a card stored without names keeps its Chinese one
