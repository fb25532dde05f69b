"""A company's own material is first class: hints don't outvote it, the fast path agrees, coverage carries over.

These pin the rules of issue 10: a passage's hint questions count as one
signal (an unhinted passage that matches best still ranks first), the fast path
answers only when BM25 and the fast embedder pick the same passage, and whether
the material covers a question is judged against a yardstick measured on the
material in use — so another trade's documents are neither declined wholesale
nor answered for everything.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.retrieval.coverage import CoverageConfigError, load_coverage_config
from bot.retrieval.dense import HINT_MARK, DenseIndex
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.retrieval.routing import FastPathPolicy
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import make_settings

PHARMA = PROJECT_ROOT / "benchmarks" / "data" / "corpora" / "pharma" / "sources"


class _Vectors:
    """A store holding given vectors (the in-memory ranking reads nothing else)."""

    def __init__(self, entries: dict[str, list[float]]) -> None:
        self.entries = entries

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        return list(self.entries), np.asarray(list(self.entries.values()), dtype=np.float32)


class _Fixed:
    """An embedder whose question vector is given."""

    name = "fixed"
    dimensions = 3

    def __init__(self, question: list[float]) -> None:
        self.question = question

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [self.question for _ in texts]

    def embed_passages(self, texts: list[str]) -> list[list[float]]:  # pragma: no cover - not used here
        raise AssertionError


def _unit(*values: float) -> list[float]:
    v = np.asarray(values, dtype=np.float32)
    return list(v / np.linalg.norm(v))


def test_an_unhinted_passage_that_matches_best_ranks_first_next_to_a_passage_with_many_hints(settings: Settings) -> None:
    question = _unit(1.0, 0.0, 0.0)
    entries = {
        "faq:0": _unit(0.95, 0.3, 0.0),  # the company's unhinted rule: the best plain match
        "deck:0": _unit(0.80, 0.6, 0.0),  # sample material, hinted ten times
        "deck:1": _unit(0.0, 1.0, 0.2),
        "deck:2": _unit(0.1, 0.2, 1.0),
    }
    # Hint questions are question-to-question matches: each one closer to the question than any passage.
    entries.update({f"deck:0{HINT_MARK}{n}": _unit(0.97, 0.2 + n / 100, 0.05) for n in range(10)})
    dense = DenseIndex(settings, _Fixed(question))
    dense._store = _Vectors(entries)  # type: ignore[assignment]
    dense.load(["faq:0", "deck:0", "deck:1", "deck:2"])
    ranking = dense.rank("大客户账期最长多少天？", 4)
    assert [chunk_id for chunk_id, _ in ranking.order][:2] == ["faq:0", "deck:0"]
    assert ranking.best_similarity == pytest.approx(float(np.dot(question, entries["faq:0"])))


def test_hints_still_lift_a_passage_whose_own_words_miss_the_question(settings: Settings) -> None:
    rng = np.random.default_rng(7)
    question = _unit(*([1.0] + [0.0] * 15))

    def near(similarity: float) -> list[float]:  # a unit vector at this cosine to the question
        other = rng.normal(size=16)
        other[0] = 0.0
        other /= np.linalg.norm(other)
        return list(similarity * np.asarray(question) + np.sqrt(1 - similarity**2) * other)

    entries = {f"doc:{n}": near(rng.uniform(0.0, 0.5)) for n in range(20)}
    entries["a:0"] = near(0.55)  # its own words match only moderately...
    entries["b:0"] = near(0.65)  # ...less than this passage's
    entries.update({f"doc:{n % 20}{HINT_MARK}{n}": near(rng.uniform(0.1, 0.6)) for n in range(40)})
    entries[f"a:0{HINT_MARK}0"] = near(0.98)  # but a rep asked exactly this
    dense = DenseIndex(settings, _Fixed(question))
    dense._store = _Vectors(entries)  # type: ignore[assignment]
    dense.load([key for key in entries if HINT_MARK not in key])
    assert [chunk_id for chunk_id, _ in dense.rank("问题", 3).order][:2] == ["a:0", "b:0"]


def test_the_fast_path_needs_both_fast_retrievers_to_pick_the_same_passage() -> None:
    policy = FastPathPolicy()
    strong = (policy.lexical_min + 1, policy.similarity_min + 0.1)
    assert policy.confident(*strong, agree=True)
    assert not policy.confident(*strong, agree=False)


def test_a_listed_unrelated_question_is_declined_however_close_the_material_comes(knowledge_base) -> None:
    listed = load_coverage_config(knowledge_base.settings.knowledge_dir).off_topic
    for question in listed[:5]:
        assert not knowledge_base.search(question, 5).covered, question


@pytest.mark.parametrize("body, problem", [("covered: 1\npartial: 2\noff_topic: []\n", "partial"), ("covered: 2\n", "off_topic")])
def test_a_bad_coverage_file_names_the_field(tmp_path: Path, body: str, problem: str) -> None:
    (tmp_path / "coverage.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(CoverageConfigError, match=problem):
        load_coverage_config(tmp_path)


@pytest.fixture(scope="module")
def pharma_base(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A pharmaceutical distributor's material alone (another trade; no hints, the sample's vocabulary)."""
    root = tmp_path_factory.mktemp("pharma")
    knowledge = root / "knowledge"
    shutil.copytree(PHARMA, knowledge / "sources")
    shutil.copy(PROJECT_ROOT / "knowledge" / "vocabulary.yaml", knowledge / "vocabulary.yaml")
    kb = KnowledgeBase(replace(make_settings(root / "data"), knowledge_dir=knowledge))
    assert kb.ingest().added
    return kb


def test_on_another_trades_material_its_questions_are_answered_and_unrelated_ones_declined(pharma_base) -> None:
    answerable = ["首营是啥？", "退货条件？", "返利怎么返？", "冷链药要几度？", "客户嫌贵咋办"]
    covered = [q for q in answerable if pharma_base.search(q, 5).covered]
    assert len(covered) >= 4, covered
    for question in ["周末去哪钓鱼比较好", "二手房过户要交哪些税", "今天北京天气怎么样"]:
        assert not pharma_base.search(question, 5).covered, question


def test_a_question_half_above_the_yardstick_but_close_to_the_unrelated_list_is_declined() -> None:
    from bot.retrieval.coverage import CoverageConfig, Yardstick, decide

    config = CoverageConfig(covered=2.6, partial=1.2, partial_unrelated=0.89)
    yardstick = Yardstick(median=0.85, spread=0.01)
    assert decide(config, yardstick, 0.87, reference_similarity=0.86).partial  # near the material, far from the list
    assert not decide(config, yardstick, 0.87, reference_similarity=0.91).covered  # a stock tip, say
    assert decide(config, yardstick, 0.88, reference_similarity=0.91).covered  # clearly above: answered


# ---- questions that ask for a specific detail -------------------------------------------------------------


def _details():
    return load_coverage_config(PROJECT_ROOT / "knowledge").asked_details


def test_the_detail_asked_is_read_from_the_asking_clause_not_from_context() -> None:
    from bot.retrieval.coverage import asked_detail

    found = asked_detail(_details(), "客户签了两年长租，想提前退，要赔多少钱？")
    assert found is not None and found[0].id == "price" and found[1] == "赔多少"
    assert asked_detail(_details(), "客户这季度有一笔款晚了几天，季度那个奖励还能拿吗") is None  # 几天 is context
    assert asked_detail(_details(), "出差住酒店一晚能报多少钱？发票要怎么贴")[0].id == "price"  # an earlier asking clause
    assert asked_detail(_details(), "平时我跟客户基本零互动，主要得在哪几方面使劲？") is None
    assert asked_detail(_details(), "闭水试验的水要放多深？")[0].id == "measure"
    assert asked_detail(_details(), "分期的话利率多少？")[0].id == "share"


def test_a_detail_counts_only_in_a_sentence_about_the_question() -> None:
    from bot.retrieval.coverage import CandidateSentence, holds_detail

    price = next(d for d in _details() if d.id == "price")
    about_batteries = CandidateSentence("铅酸电池要定期加蒸馏水，电瓶寿命更长。", frozenset({"铅酸", "电池", "蒸馏水", "电瓶"}), 1.0)
    holiday_fee = CandidateSentence("节假日交车另收加班服务费300元/次。", frozenset({"节假日", "交车", "加班", "服务费"}), 0.2)
    common = {"叉车", "电池"}  # in most passages: says nothing about which sentence answers

    def specific(word: str) -> bool:
        return word not in common

    assert not holds_detail(price, ["电池", "换新"], [about_batteries, holiday_fee], specific, closest=1)
    assert holds_detail(price, ["电池", "换新"], [about_batteries, holiday_fee], specific, closest=2)  # among the closest
    assert holds_detail(price, ["交车", "节假日"], [about_batteries, holiday_fee], specific, closest=1)  # shares a specific word


def test_a_bad_detail_pattern_is_reported_in_chinese_with_its_field(tmp_path: Path) -> None:
    off_topic = "".join(f"  - 无关问题{n}\n" for n in range(10))
    body = f"off_topic:\n{off_topic}asked_details:\n  - id: price\n    name: {{zh: 价格, en: price}}\n    asks: ['多少(钱']\n    evidence: [元]\n"
    (tmp_path / "coverage.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(CoverageConfigError, match=r"asked_details\[0\]\.asks\[0\].*正则"):
        load_coverage_config(tmp_path)


def test_a_detail_the_material_gives_is_covered_and_one_it_does_not_is_only_partly(pharma_base) -> None:
    for question in ["有个连锁一个季度能回款50万左右，能给他返几个点？", "县城那边的客户下了单大概多久能到货？"]:
        given = pharma_base.search(question, 5)
        assert given.covered and not given.partial and not given.missing_detail, question
    missing = pharma_base.search("连锁总部的品类经理一般要收多少进场费、条码费？", 5)
    assert missing.covered and missing.partial and missing.missing_detail["zh"] == "具体价格或费用"
    # The same topic without asking for the detail is answered as before.
    assert not pharma_base.search("连锁总部的品类经理怎么打交道？", 5).missing_detail


def test_the_sentences_judged_for_an_asked_detail_are_scored_once_for_the_answer(pharma_base, monkeypatch) -> None:
    calls: list[tuple[str, ...]] = []
    score = pharma_base.sentences.of_chunks

    def counted(chunk_ids, queries):
        calls.append(tuple(chunk_ids))
        return score(chunk_ids, queries)

    pharma_base._refresh_cache(force=True)  # nothing kept from earlier tests
    monkeypatch.setattr(pharma_base.sentences, "of_chunks", counted)
    question = "县城那边的客户下了单大概多久能到货？"
    result = pharma_base.search(question, 5)
    assert len(calls) == 1  # the search judged the asked time span on them
    first = pharma_base.answer_sentences(question, [h.chunk_id for h in result.hits])
    assert len(calls) == 1 and first  # the answer reads the same scores
    pharma_base._refresh_cache(force=True)  # the index may have changed: scored again
    assert pharma_base.answer_sentences(question, [h.chunk_id for h in result.hits]) == first and len(calls) == 2
