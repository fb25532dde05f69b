"""What the material is missing (`bot/coach/gaps.py`): flagged questions by topic, and topics leaving once material answers them.

The knowledge base is a small temporary library (never the shipped `knowledge/`),
with the session's real embedders, so grouping and re-checking use the real models.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.cli import build_parser
from bot.coach.gaps import Gaps, gaps_text, group_by_topic, since_days
from bot.coach.types import Answer, Citation
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.services import Services
from bot.settings import Settings
from bot.store.db import Database
from bot.store.feedback import FeedbackStore
from bot.store.usage import UsageStore

DAY = 86400
SOCIAL = ["公司给我们交社保吗？", "五险一金是怎么交的", "入职以后社保从哪个月开始交？"]
LEAVE = ["年假有几天？", "请年休假要提前几天申请"]
GIFT = "客户感冒了送什么合适？"


def declined() -> Answer:
    return Answer(text="资料里没有讲到", citations=[], grounded=False, mode="extractive")


def answered(partial: bool = False) -> Answer:
    cite = Citation(n=1, doc="gift", title="送礼的学问", location="第 1 段", text="…")
    return Answer(text="送一盒药 [1]", citations=[cite], grounded=True, mode="extractive", partial=partial)


@pytest.fixture
def library(tmp_path: Path, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    knowledge_dir = tmp_path / "library"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "gift.md").write_text(
        "# 送礼的学问\n\n客户感冒了送一盒药，咳嗽送薄荷糖。送礼要看场合，价值不要太高，免得对方为难。", encoding="utf-8"
    )
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "library-data", knowledge_dir=knowledge_dir)
    kb = KnowledgeBase(settings, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)
    assert kb.ingest().ok
    return kb


def seed(db: Database) -> UsageStore:
    """Rep questions of the last days: two uncovered topics, a 👎, a partial answer, a good answer, an old one."""
    usage, feedback = UsageStore(db), FeedbackStore(db)
    for n, question in enumerate(SOCIAL):
        usage.record(7010 + n, 7010 + n, question, declined())  # three reps
    for question in LEAVE:
        usage.record(7020, 7020, question, declined())
    feedback.record(usage.record(7030, 7030, GIFT, answered()), 7030, helpful=False)
    liked = usage.record(7031, 7031, "咳嗽的客户送什么", answered())
    feedback.record(liked, 7031, helpful=False)
    feedback.record(liked, 7031, helpful=True)  # changed their mind: not a gap
    usage.record(7032, 7032, "送礼价值多少合适", answered(partial=True))
    usage.record(7033, 7033, "拜访客户带什么礼物", answered())  # answered, no rating: fine
    old = usage.record(7034, 7034, "差旅费报销标准是多少？", declined())
    db.execute("UPDATE questions SET created_at = ? WHERE id = ?", (time.time() - 40 * DAY, old))
    return usage


def test_topics_group_by_average_similarity() -> None:
    rng = np.random.default_rng(7)
    centre_a, centre_b = rng.normal(size=16), rng.normal(size=16)
    rows = [centre_a + rng.normal(scale=0.05, size=16) for _ in range(3)]
    rows += [centre_b + rng.normal(scale=0.05, size=16) for _ in range(2)]
    rows.append(-centre_a)  # unlike anything
    assert group_by_topic(rows, threshold=0.9) == [[0, 1, 2], [3, 4], [5]]
    assert group_by_topic([], threshold=0.9) == []
    assert len(group_by_topic(rows, threshold=-1.5)) == 1  # everything is one topic when nothing is too far


def test_flagged_questions_are_declined_partial_or_disliked_and_carry_no_rep(settings: Settings) -> None:
    db = Database(settings.db_path)
    usage = seed(db)
    flagged = usage.flagged(since_days(30))
    assert sorted(q.question for q in flagged) == sorted([*SOCIAL, *LEAVE, GIFT, "送礼价值多少合适"])
    assert {q.question: q.flag for q in flagged}[GIFT] == "disliked"
    assert {q.question: q.flag for q in flagged}["送礼价值多少合适"] == "partial"
    assert not any(hasattr(q, "user_id") for q in flagged)
    assert len(usage.flagged(0.0)) == len(flagged) + 1  # the 40-day-old question, outside 30 days
    db.close()


def test_an_older_database_gains_the_partial_column(settings: Settings) -> None:
    db = Database(settings.db_path)
    db.execute(
        "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, chat_id INTEGER NOT NULL,"
        " question TEXT NOT NULL, mode TEXT NOT NULL, grounded INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL DEFAULT 0,"
        " completion_tokens INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL)"
    )
    db.execute("INSERT INTO questions (user_id, chat_id, question, mode, grounded, created_at) VALUES (1, 1, '旧问题', 'llm', 0, ?)", (time.time(),))
    usage = UsageStore(db)
    usage.record(2, 2, "新问题", answered(partial=True))
    assert sorted((q.question, q.flag) for q in usage.flagged()) == [("新问题", "partial"), ("旧问题", "declined")]
    db.close()


def test_gaps_by_topic_most_asked_first_and_a_new_document_takes_its_topic_out(settings: Settings, library: KnowledgeBase) -> None:
    db = Database(settings.db_path)
    gaps = Gaps(seed(db), library)
    report = gaps.report(since_days(30))
    assert report.questions == 7 and report.resolved == 0
    first = report.gaps[0]
    assert first.count == 3 and set(first.examples) == set(SOCIAL) and first.flags == {"declined": 3}
    topics = [set(g.examples) for g in report.gaps]
    assert set(LEAVE) in topics  # the leave questions are one topic, not merged with social insurance
    assert first.nearest is not None and first.nearest.title == "送礼的学问"  # what the material has nearest
    text = gaps_text(report, "zh", 30)
    assert "最近 30 天" in text and "1. 问了 3 次（没答上 3）" in text and "· 五险一金是怎么交的" in text
    assert "《送礼的学问》" in text and "差旅费" not in text
    assert not any(str(user) in text for user in (7010, 7011, 7012, 7020, 7030))  # no rep identity anywhere

    (library.settings.sources_dir / "社保与福利.md").write_text(
        "# 社保与福利\n\n问：入职以后社保从哪个月开始交？答：公司给每位员工交社保，从入职当月开始交，"
        "五险一金都交，个人部分从工资里扣，试用期也交。",
        encoding="utf-8",
    )
    assert library.ingest().ok
    after = gaps.report(since_days(30))
    assert after.resolved == 1
    assert all(set(SOCIAL).isdisjoint(g.examples) for g in after.gaps)  # the topic left the list
    assert set(LEAVE) in [set(g.examples) for g in after.gaps]  # still missing
    assert "后来加入的资料已经能回答" in gaps_text(after, "zh", 30)
    db.close()


def test_report_gaps_on_the_terminal_and_as_csv(settings: Settings, library: KnowledgeBase, capsys, monkeypatch) -> None:
    db = Database(settings.db_path)
    seed(db)
    db.close()
    original = Services.build.__func__  # type: ignore[attr-defined]

    def build(cls: type[Services], built_from: Settings) -> Services:
        services = original(cls, built_from)
        services.__dict__["knowledge"] = library  # the temporary library, not the shipped material
        return services

    monkeypatch.setattr(Services, "build", classmethod(build))

    def run(argv: list[str]) -> int:
        args = build_parser().parse_args(argv)
        return args.func(args, settings)

    assert run(["report", "gaps"]) == 0
    assert "问了 3 次" in capsys.readouterr().out
    assert run(["report", "gaps", "--csv", "--days", "60"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["count"] == "3" and rows[0]["declined"] == "3" and rows[0]["nearest_title"] == "送礼的学问"
    assert any("差旅费报销标准是多少？" == r["example_1"] for r in rows)  # 60 days reach the old question
    assert "user" not in " ".join(rows[0].keys())
