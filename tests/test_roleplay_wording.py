"""Reading by wording: the red-line and polarity models trained on the example files, next to the rules."""

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
from bot.coach.practice.wording import WordingModel, wording_models_of
from bot.coach.practice.scenarios import POLARITY_EXAMPLES_FILE, RED_LINE_EXAMPLES_FILE, load_catalog
from bot.coach.practice.semantic import TextVectors
from bot.coach.practice.session import PracticeService
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
def model() -> WordingModel:
    found = wording_models_of(catalog()).red_lines
    assert found is not None
    return found


def found(text: str, with_model: WordingModel | None) -> list[str]:
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
    # a tag after an offer is the offer (the rules read it so too): written for this test
    tagged = "嫂子的小超市逢年过节我让朋友去多订点货，跟公司账不沾边，您看成不？"
    assert found(tagged, None) == [] and found(tagged, model()) == ["personal_benefit"]


def test_a_refusal_naming_the_lines_words_is_not_the_offer_the_model_reads() -> None:
    """Written for this test: every word of the line it holds is said no to, however much it reads like the offer."""
    refusal = "现金、支付宝这些我们不收，都走公司账户。"
    assert model().verdicts([refusal])[0][0] == "private_account"  # the premise: by wording alone, it looks crossing
    assert found(refusal, model()) == []
    assert found("现金、支付宝都行，您转我就行。", model()) == ["private_account"]


def test_the_threshold_in_the_file_decides_how_sure_the_model_must_be() -> None:
    sure = model().verdicts([UNSPOKEN_PRESSURE])[0]
    assert sure[0] == "favour_pressure"
    stricter = WordingModel(replace(model().examples, threshold=min(0.95, sure[1] + 0.01)))
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
    assert not loaded.errors and wording_models_of(loaded).red_lines is None


# ---------------------------------------------------------------- how a move was made


@functools.cache
def practice_pair(embedder) -> tuple[PracticeService, PracticeService]:
    """The shipped files with the polarity model, and the same files read by the rules alone."""
    with_model = load_catalog(SCENARIOS, SOURCES)
    rules_only = load_catalog(SCENARIOS, SOURCES)
    rules_only.polarity_examples = None
    return PracticeService(with_model, TextVectors(embedder)), PracticeService(rules_only, TextVectors(embedder))


def acts_of(service: PracticeService, scenario_id: str, text: str) -> list[tuple[str, str]]:
    (turn,) = service.scorer.acts(service.scenario(scenario_id), [text])
    return [(a.move, a.polarity) for a in turn.acts]


def test_the_polarity_model_reads_a_refusal_the_rules_miss(knowledge_base) -> None:
    """"一般不管" holds no negator of acts.yaml: the rules credit the test as done, the model reads the refusal."""
    with_model, rules_only = practice_pair(knowledge_base.embedder)
    brush_off = "取样这种事我们一般不管，您自己找检测站吧。"  # written for this test
    assert acts_of(rules_only, "oil-quality-dispute", brush_off) == [("test", "did")]
    assert acts_of(with_model, "oil-quality-dispute", brush_off) == [("test", "refused")]
    offer = "周四上午九点，我带化验员到您罐区取样，当着您的面封存。"
    assert acts_of(with_model, "oil-quality-dispute", offer) == [("test", "did")]


def test_a_move_that_is_itself_a_refusal_keeps_the_rules_reading(knowledge_base) -> None:
    """Saying no to a kickback is the rep's move done ("refusal: true"): the model's "refused" must not undo it."""
    with_model, _ = practice_pair(knowledge_base.embedder)
    refusal = "返点这种事我们做不了，也不会去做。"  # the model alone reads it as "refused", surely
    assert with_model.models.polarity is not None and with_model.models.polarity.verdicts([refusal])[0][0] == "refused"
    assert acts_of(with_model, "kickback-purchaser", refusal) == [("rules", "did")]


def test_a_proposal_put_as_a_question_is_not_read_as_only_asking(knowledge_base) -> None:
    """"要不先……？" proposes: the rules read the question's form, and the model may not turn it into asking."""
    with_model, _ = practice_pair(knowledge_base.embedder)
    assert acts_of(with_model, "abnormal-loss", "周经理，要不先把您那边的地磅复核一下？") == [("weighbridge", "did")]


def test_an_unknown_polarity_in_the_examples_is_reported_in_chinese(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, folder)
    (folder / POLARITY_EXAMPLES_FILE).write_text("did:\n  - 周四我带方案过来\ndone:\n  - 好的\n", encoding="utf-8")
    loaded = load_catalog(folder, SOURCES)
    assert any("done" in str(e) and "只能是 threshold 或 did / refused / asked / vague" in str(e) for e in loaded.errors)
    assert loaded.polarity_examples is None and loaded.red_line_examples is not None


def test_trained_models_are_shared_and_old_ones_are_let_go() -> None:
    """One model per set of examples, shared by every catalog that has them; a manager editing the
    examples many times in a running bot does not keep every old model in memory."""
    from bot.coach.practice import wording
    from bot.coach.practice.scenario_types import LabelledSentences

    def examples(n: int) -> LabelledSentences:
        crossing = tuple(f"每吨我私下给您返{n}块钱，第{i}回" for i in range(3))
        harmless = tuple(f"按公司规定开票，对公转账，第{i}回说{n}" for i in range(3))
        return LabelledSentences((("kickback", crossing), ("harmless", harmless)), threshold=0.5, strength=1.0)

    first = WordingModel(examples(0))
    first.prepare()
    again = WordingModel(examples(0))
    again.prepare()
    assert again._pipeline is first._pipeline  # the same examples: trained once
    for n in range(1, wording.KEPT_MODELS + 3):
        WordingModel(examples(n)).prepare()
    assert len(wording._models) <= wording.KEPT_MODELS
    assert examples(0) not in wording._models  # the oldest went
    assert examples(wording.KEPT_MODELS + 2) in wording._models
