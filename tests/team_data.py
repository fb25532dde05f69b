"""Seeded practice data for the manager's team report (shared by the CLI and Telegram tests)."""

from __future__ import annotations

import time

from bot.store.db import Database
from bot.store.practice import PracticeStore
from bot.store.users import UserStore

DAY_S = 86400
# rep id -> (first name, [(days ago, scenario, {criterion: score})])
TEAM = {
    101: ("小王", [(1, "kickback-purchaser", {"compliance": 40, "listen_first": 70, "acknowledge": 80}),
                  (9, "kickback-purchaser", {"compliance": 20, "listen_first": 50, "acknowledge": 60})]),
    102: ("小李", [(2, "oil-quality-dispute", {"evidence_check": 50, "listen_first": 60, "acknowledge": 90, "product_knowledge": 85})]),
    103: ("老赵", [(12, "abnormal-loss", {"evidence_check": 30, "process": 40})]),
    104: ("新人小陈", []),
}  # fmt: skip


def card(scenario: str, scores: dict[str, int]) -> dict:
    total = round(sum(scores.values()) / len(scores))
    return {
        "scenario_id": scenario,
        "total": total,
        "mode": "offline",
        "outcome": "finished",
        "criteria": [{"id": cid, "score_pct": pct, "weight": 1} for cid, pct in scores.items()],
    }


def seed_team(db: Database, now: float | None = None) -> None:
    now = time.time() if now is None else now
    users = UserStore(db)
    practice = PracticeStore(db)
    for user_id, (name, sessions) in TEAM.items():
        users.touch(user_id, username="", first_name=name)
        for days_ago, scenario, scores in sessions:
            practice.save(user_id, card(scenario, scores), [{"role": "rep", "text": "您好"}], finished_at=now - days_ago * DAY_S)
