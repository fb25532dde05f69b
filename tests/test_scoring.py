"""Offline scoring against the hand-written calibration set, score card content, evaluator JSON validation."""

from __future__ import annotations

import itertools
import json

import pytest
import yaml

from bot.coach.practice.cues import find_cues, has_cue
from bot.coach.practice.session import PracticeService
from bot.coach.practice.scenarios import knowledge_resolver, load_catalog
from bot.coach.practice.scoring import EvaluationError, parse_evaluation
from bot.coach.practice.semantic import TextVectors, strip_address
from bot.settings import PROJECT_ROOT

CALIBRATION = PROJECT_ROOT / "tests" / "data" / "calibration"
LEVELS = {"poor": 0, "mediocre": 1, "good": 2}


def load_calibration() -> list[dict]:
    items: list[dict] = []
    for path in sorted(CALIBRATION.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items += [{"scenario": data["scenario"], **t} for t in data["transcripts"]]
    return items


@pytest.fixture(scope="module")
def practice(knowledge_base) -> PracticeService:
    catalog = load_catalog(PROJECT_ROOT / "knowledge" / "scenarios", PROJECT_ROOT / "knowledge" / "sources")
    vectors = TextVectors(knowledge_base.embedder)
    # One batch for every rep line of the calibration set (the embedder is the slow part).
    lines = [line for item in load_calibration() for line in item["turns"]]
    vectors.queries([strip_address(t) for t in lines])
    return PracticeService(catalog, vectors, resolver=knowledge_resolver(knowledge_base))


@pytest.fixture(scope="module")
def played(practice: PracticeService) -> list[dict]:
    out = []
    for item in load_calibration():
        session, card = practice.play(item["scenario"], item["turns"])
        out.append({**item, "card": card, "session": session})
    return out


def test_calibration_set_is_big_enough_and_spans_every_scenario_and_level(practice: PracticeService) -> None:
    items = load_calibration()
    assert len(items) >= 30
    assert {i["scenario"] for i in items} == set(practice.catalog.scenarios)
    for scenario in practice.catalog.scenarios:
        assert {i["level"] for i in items if i["scenario"] == scenario} == set(LEVELS), scenario


def test_in_every_scenario_a_good_script_beats_a_poor_one_by_25_points(played: list[dict]) -> None:
    gaps = {}
    for scenario in {p["scenario"] for p in played}:
        good = min(p["card"].total for p in played if p["scenario"] == scenario and p["level"] == "good")
        poor = max(p["card"].total for p in played if p["scenario"] == scenario and p["level"] == "poor")
        gaps[scenario] = good - poor
    assert all(gap >= 25 for gap in gaps.values()), gaps


def test_pairs_of_different_levels_are_ordered_correctly_at_least_90_percent(played: list[dict]) -> None:
    correct = total = 0
    for a, b in itertools.combinations(played, 2):
        if a["scenario"] != b["scenario"] or a["level"] == b["level"]:
            continue
        total += 1
        hi, lo = (a, b) if LEVELS[a["level"]] > LEVELS[b["level"]] else (b, a)
        correct += hi["card"].total > lo["card"].total
    assert total >= 36 and correct / total >= 0.9


def test_score_card_gives_feedback_per_criterion_and_two_improvements_with_citations(played: list[dict]) -> None:
    item = next(p for p in played if p["scenario"] == "abnormal-loss" and p["level"] == "mediocre")
    card = item["card"]
    assert 0 <= card.total <= 100 and card.mode == "offline"
    assert [c.criterion_id for c in card.criteria] == ["acknowledge", "evidence_check", "own_responsibility", "next_step"]
    assert round(sum(c.points for c in card.criteria)) == card.total
    acknowledge = next(c for c in card.criteria if c.criterion_id == "acknowledge")
    assert acknowledge.done_well and acknowledge.evidence
    assert all(any(e in turn for turn in item["turns"]) for e in acknowledge.evidence), "evidence is the rep's own words"
    improvements = card.improvements
    assert len(improvements) == 2
    assert {i.criterion_id for i in improvements} <= {"evidence_check", "own_responsibility", "next_step"}
    for imp in improvements:
        assert imp.missing and imp.better_reply and imp.citations
        assert all(c.title and c.location and c.text for c in imp.citations)
    data = json.loads(json.dumps(card.as_dict(), ensure_ascii=False))
    assert len(data["improvements"]) == 2 and data["improvements"][0]["citations"][0]["location"]


def test_penalties_name_what_the_rep_said(played: list[dict]) -> None:
    item = next(p for p in played if p["scenario"] == "kickback-purchaser" and p["level"] == "poor" and "返" in "".join(p["turns"]))
    compliance = next(c for c in item["card"].criteria if c.criterion_id == "compliance")
    assert compliance.pct == 0
    said = item["session"].rep_turns  # the customer may leave before the rep's later lines
    assert any("要避免" in m and any(turn in m for turn in said) for m in compliance.missing)
    assert item["session"].state.outcome == "walked_away"


def test_only_the_reps_words_count(practice: PracticeService) -> None:
    scenario = practice.scenario("oil-quality-dispute")
    empty = practice.scorer.score(scenario, [])
    assert empty.total == 0
    parroting = practice.scorer.score(scenario, ["嗯。", "好的。"])
    assert parroting.total < 10


# ---------------------------------------------------------------- cue negation


@pytest.mark.parametrize(
    "text, risky, expected",
    [
        ("我们严禁打到个人账户", True, False),
        ("返点、购物卡这些我做不了", True, False),
        ("给个人返点是违规的", True, False),
        ("您打到我个人账户也行", True, True),
        ("别人给多少我们也给，每吨返您二十", True, True),
        ("没问题，私下给您返点", True, True),
        ("我理解您的难处", False, True),
        ("我不理解您为什么这么说", False, False),
    ],
)
def test_cue_detection_understands_negation(text: str, risky: bool, expected: bool) -> None:
    cues = ["个人账户", "返点", "每吨返", "理解"]
    assert has_cue(text, cues, risky=risky) is expected


def test_cue_hits_carry_the_clause_as_evidence() -> None:
    [hit] = find_cues(["周经理您别急。我马上安排专人查一遍，三天给您结果"], ["专人"])
    assert hit.clause == "我马上安排专人查一遍" and hit.turn == 0


# ---------------------------------------------------------------- evaluator JSON


def _evaluation(scenario, **override) -> dict:
    items = [
        {"id": c.id, "score": 60, "evidence": ["这事我们认真对待"], "done_well": "表态积极", "missing": "缺少具体办法",
         "better_reply": c.example, "sources": [1]}
        for c in scenario.rubric
    ]
    items[0].update(override)
    return {"criteria": items}


def test_evaluator_json_is_validated_against_rubric_and_the_reps_words(practice: PracticeService) -> None:
    scenario = practice.scenario("abnormal-loss")
    rep = ["周经理，这事我们认真对待，一定给您一个说法。"]
    assert len(parse_evaluation(json.dumps(_evaluation(scenario)), scenario, rep)) == 4
    bad_cases = [
        ("{not json", "JSON"),
        (json.dumps(_evaluation(scenario, evidence=["我们全额赔偿"])), "原话"),
        (json.dumps(_evaluation(scenario, id="charm")), "charm"),
        (json.dumps(_evaluation(scenario, score=140)), "score"),
        (json.dumps(_evaluation(scenario, evidence=[])), "证据"),
        (json.dumps(_evaluation(scenario, sources=[9])), "sources"),
        (json.dumps({"criteria": _evaluation(scenario)["criteria"][:3]}), "缺少"),
    ]
    for text, needle in bad_cases:
        with pytest.raises(EvaluationError, match=needle):
            parse_evaluation(text, scenario, rep)


def test_an_english_readers_scored_card_names_every_criterion_in_english(played: list[dict]) -> None:
    from bot.coach.practice.text import card_text

    card = played[0]["card"]
    english = card_text(card, "en")
    for result in card.criteria:
        assert result.info is not None and result.info.en and result.info.en in english
        assert result.name not in english  # the Chinese name is for Chinese readers
