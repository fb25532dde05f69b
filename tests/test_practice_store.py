"""The practice store: sessions and per-criterion scores, per user and for the team, on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.coach.practice.scoring import CriterionResult, ScoreCard
from bot.coach.types import Citation
from bot.store.db import Database
from bot.store.practice import CriterionScore, PracticeStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def _card(scenario_id: str, scores: dict[str, int], weights: dict[str, int] | None = None) -> ScoreCard:
    weights = weights or {cid: 100 // len(scores) for cid in scores}
    results = [
        CriterionResult(cid, cid, weights[cid], pct, (), (), (), "更好的说法", "做得好的样子",
                        (Citation(1, "oil-customer-dev", "客户开发与维护", "第 66 页", "引文"),))
        for cid, pct in scores.items()
    ]
    total = round(sum(r.points for r in results))
    return ScoreCard(scenario_id, "标题", total, tuple(results), "goal", "offline", 3)


def test_history_totals_and_team_aggregates(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite3")
    store = PracticeStore(db)
    transcript = [{"role": "customer", "text": "你好"}, {"role": "rep", "text": "周经理好"}]
    first = store.save(7, _card("abnormal-loss", {"acknowledge": 40, "next_step": 20}), transcript, T0)
    store.save(7, _card("invoice-payment", {"compliance": 90, "next_step": 60}), transcript, T0 + timedelta(days=2))
    store.save(8, _card("abnormal-loss", {"acknowledge": 100, "next_step": 80}), transcript, T0 + timedelta(days=3))

    history = store.criterion_history(7)
    assert history[0] == CriterionScore("acknowledge", 40.0, T0, "abnormal-loss")
    assert [h.criterion_id for h in history] == ["acknowledge", "next_step", "compliance", "next_step"]
    assert all(h.at.tzinfo is not None for h in history)
    assert [t.total for t in store.totals(7)] == [30, 75]
    assert store.totals(9) == []

    since = T0 + timedelta(days=1)
    assert [s.user_id for s in store.sessions_since(since)] == [7, 8]
    averages = {a.criterion_id: a for a in store.criterion_averages(since)}
    assert averages["next_step"].average_pct == 70.0 and averages["next_step"].users == 2
    assert averages["acknowledge"].sessions == 1
    assert list(averages)[0] == "next_step"  # weakest first

    record = store.get(first)
    assert record.transcript == transcript and record.card["criteria"][0]["citations"][0]["location"] == "第 66 页"
    db.close()

    reopened = PracticeStore(Database(tmp_path / "s.sqlite3"))
    assert len(reopened.criterion_history(7)) == 4
    assert reopened.delete_user(7) == 2
    assert reopened.totals(7) == [] and reopened.criterion_history(7) == []
    assert [t.total for t in reopened.totals(8)] == [90]
    assert reopened.db.query_one("SELECT COUNT(*) AS n FROM practice_scores")["n"] == 2


def test_tips_read_practice_scores_from_this_store(tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.coach.tips.choice import PracticeScores
    from bot.services import Services
    from bot.settings import Settings

    services = Services.build(replace(Settings.load(env={}), data_dir=tmp_path))
    services.practice_records.save(5, _card("gift-no-warmth", {"follow_up": 50, "gift_story": 50}), [], T0)
    assert isinstance(services.practice_records, PracticeScores)
    assert services.tips.practice is services.practice_records  # one store, built once
    scores = services.tips.practice.criterion_history(5)
    assert {s.criterion_id for s in scores} == {"follow_up", "gift_story"}
    services.close()
