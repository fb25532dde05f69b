"""Retrieval on the real corpus: a regression floor on the dev set, out-of-scope declines, the search CLI."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bot.corpus.documents import load_manifest
from bot.retrieval.evaluation import evaluate, load_questions
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import PROJECT_ROOT
from tests.spies import CountingEmbedder

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
LOCAL_SET = PROJECT_ROOT / "tests" / "data" / "retrieval_questions.jsonl"


def question_set() -> Path:
    return DEV_SET if DEV_SET.is_file() else LOCAL_SET


def test_dev_set_regression_floor(knowledge_base) -> None:
    questions = load_questions(question_set())
    file_of_doc = {e.doc_id: e.file for e in load_manifest(knowledge_base.settings.sources_dir).values()}
    scores = evaluate(questions, lambda q: knowledge_base.search(q, 5), file_of_doc)
    # Measured 0.94 / 0.66, off-topic 0 declined + 4 flagged "not directly covered" of 4 (bench_retrieval.py).
    # (Hints now count as one signal per passage: the sample's hinted passages lost the MRR the unfair rule gave them.)
    flagged = sum(knowledge_base.search(q.question, 5).partial for q in questions if q.kind == "out_of_scope")
    assert scores.hit5 >= 0.85, scores
    assert scores.mrr5 >= 0.60, scores
    assert scores.declined_oos + flagged == scores.total_oos, (scores, flagged)
    assert scores.wrongly_declined <= 2, scores


@pytest.mark.parametrize(
    "question",
    # Not in knowledge/coverage.yaml's list: these must be judged, not looked up.
    ["周末去哪钓鱼比较好", "手机电池不耐用了怎么办", "宝宝发烧38度要去医院吗", "二手房过户要交哪些税"],
)
def test_off_topic_questions_are_not_covered(knowledge_base, question: str) -> None:
    assert not knowledge_base.search(question, 5).covered


def test_clear_questions_skip_the_primary_embedder_and_off_topic_ones_use_it(knowledge_base) -> None:
    primary = CountingEmbedder(knowledge_base.embedder)
    kb = KnowledgeBase(knowledge_base.settings, embedder=primary, fast_embedder=knowledge_base.fast_embedder)
    clear = kb.search("客户说我们的油里有水、颜色也不对，我该怎么回应？", 5)
    assert clear.route == "fast" and clear.covered and primary.queries == []
    assert any(h.doc_id == "oil-customer-dev" and "质量" in h.text for h in clear.hits[:3])
    off_topic = kb.search("红烧肉怎么做才好吃", 5)
    assert off_topic.route == "full" and not off_topic.covered
    assert primary.queries == ["红烧肉怎么做才好吃"]


def test_two_stage_search_ranks_at_least_as_well_as_the_full_path(knowledge_base) -> None:
    questions = load_questions(question_set())
    file_of_doc = {e.doc_id: e.file for e in load_manifest(knowledge_base.settings.sources_dir).values()}
    routed = evaluate(questions, lambda q: knowledge_base.search(q, 5), file_of_doc)
    full = evaluate(questions, lambda q: knowledge_base.search(q, 5, mode="full"), file_of_doc)
    assert routed.hit5 >= full.hit5 - 0.04 and routed.mrr5 >= full.mrr5 - 0.03, (routed, full)
    assert routed.declined_oos == full.declined_oos


def test_kickback_question_finds_the_kickback_slide(knowledge_base) -> None:
    result = knowledge_base.search("采购那边暗示我得给他点好处才肯下单，我该怎么办？", 5)
    assert result.covered
    assert any(h.doc_id == "oil-customer-dev" and h.location.startswith("第 84 页") for h in result.hits[:3])


def test_search_cli_jsonl(knowledge_base, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from bot import cli

    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))
    monkeypatch.setattr(sys, "stdin", io.StringIO("礼品和礼物有什么区别\n油里有水客户不认怎么办\n"))
    assert cli.main(["search", "--k", "3", "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [r["query"] for r in rows] == ["礼品和礼物有什么区别", "油里有水客户不认怎么办"]
    for row in rows:
        assert len(row["hits"]) == 3
        assert set(row["hits"][0]) == {"text", "doc", "title", "location", "score"}
    assert rows[0]["hits"][0]["doc"] == "gift-story"
