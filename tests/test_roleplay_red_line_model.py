"""Red lines read by their wording: the model trained on red_line_examples.yaml, next to the rules."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.coach.practice.acts import Polarity, find_red_lines
from bot.coach.practice.red_line_model import RedLineModel, red_line_model_of
from bot.coach.practice.scenarios import RED_LINE_EXAMPLES_FILE, load_catalog
from bot.settings import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "knowledge" / "scenarios"
SOURCES = PROJECT_ROOT / "knowledge" / "sources"
# Written for this test, not taken from any example or script: the favour is told and the order asked
# without 人情/还/欠, the words the rules look for.
UNSPOKEN_PRESSURE = "上回您孩子上学的事是我跑下来的，这回的单子您心里该有数。"


@functools.cache
def catalog():
    return load_catalog(SCENARIOS, SOURCES)


@functools.cache
def model() -> RedLineModel:
    found = red_line_model_of(catalog())
    assert found is not None
    return found


def found(text: str, with_model: RedLineModel | None) -> list[str]:
    return [h.id for h in find_red_lines(text, catalog().red_lines, Polarity(catalog().acts), model=with_model)]


def test_the_model_reads_a_wording_the_rules_miss() -> None:
    assert found(UNSPOKEN_PRESSURE, None) == []
    assert found(UNSPOKEN_PRESSURE, model()) == ["favour_pressure"]


@pytest.mark.parametrize(
    "text",
    [
        # proper versions of each topic, written for this test
        "发票按实际吨数开，日期就是提货那天。",
        "货款请打到合同上写的对公账户，别转给任何个人。",
        "过节公司给每位客户寄一盒月饼，不贵，是个心意。",
        "上回您帮我们协调卸油场地，这个忙我一直记着。",
        "他们家价格是低一点，我们的长处在保供和质量追溯。",
        "这批油要是化验不合格，我们整车拉回，损失我们担。",
    ],
)
def test_the_model_leaves_proper_versions_of_the_same_topics_alone(text: str) -> None:
    assert found(text, model()) == []


def test_the_model_leaves_questions_and_refusals_to_the_rules() -> None:
    """A question or a sentence holding a verdict reads like the offer it is about; only the rules judge those."""
    offer = "单独给您个人留两个点，您看着办就行。"
    assert found(offer, model()) == ["personal_benefit"]
    assert found("单独给您个人留两个点，这个我真办不到。", model()) == []
    assert found("上回您孩子上学的事是我跑下来的，这回的单子您心里该有数吧？", model()) == []


def test_the_threshold_in_the_file_decides_how_sure_the_model_must_be() -> None:
    sure = model().verdicts([UNSPOKEN_PRESSURE])[0]
    assert sure[0] == "favour_pressure"
    stricter = RedLineModel(replace(model().examples, threshold=min(0.95, sure[1] + 0.01)), model().also_harmless)
    assert stricter.verdicts([UNSPOKEN_PRESSURE])[0][0] == ""


def test_a_practice_turn_reports_a_red_line_the_model_found(services) -> None:
    """End to end: `salescoach practice ID --offline --json` caps the score and names the line."""
    from bot.commands.practice import _run

    args = argparse.Namespace(scenario="small-favour", json=True, offline=True)
    stdin = io.StringIO(UNSPOKEN_PRESSURE + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert asyncio.run(_run(args, services.settings, services, stdin, out, err)) == 0
    data = json.loads(out.getvalue())
    assert data["compliance_failed"] and data["total"] <= 20
    assert [r["id"] for t in data["acts"] for r in t["red_lines"]] == ["favour_pressure"]


def _scenarios_with(tmp_path: Path, examples: str) -> Path:
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, folder)
    (folder / RED_LINE_EXAMPLES_FILE).write_text(examples, encoding="utf-8")
    return folder


def test_an_unknown_red_line_in_the_examples_is_reported_in_chinese(tmp_path: Path) -> None:
    folder = _scenarios_with(tmp_path, "crossing:\n  kickbacks:\n    - 每吨返您十块\nharmless:\n  - 发票按实际开\n")
    loaded = load_catalog(folder, SOURCES)
    assert any("crossing.kickbacks" in str(e) and "red_lines.yaml 里没有这条红线" in str(e) for e in loaded.errors)
    assert loaded.red_lines and loaded.red_line_examples is None  # the rules still stand
    assert len(loaded.scenarios) == len(catalog().scenarios)  # and no scenario is lost


def test_without_the_examples_file_only_the_rules_read_red_lines(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, folder)
    (folder / RED_LINE_EXAMPLES_FILE).unlink()
    loaded = load_catalog(folder, SOURCES)
    assert not loaded.errors and red_line_model_of(loaded) is None
