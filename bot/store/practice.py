"""Finished practice sessions and their per-criterion scores.

Why per criterion: criterion ids are shared across scenarios (knowledge/scenarios/
criteria.yaml), so a rep's progress, the daily tips aimed at weak skills and the
manager's team report all aggregate by skill rather than by scenario. The full
transcript and score card are kept too, so a manager can read what was said.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS practice_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    scenario_id TEXT NOT NULL,
    total       INTEGER NOT NULL,
    mode        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    transcript  TEXT NOT NULL,
    card        TEXT NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS practice_sessions_user ON practice_sessions (user_id, finished_at);
CREATE INDEX IF NOT EXISTS practice_sessions_time ON practice_sessions (finished_at);
CREATE TABLE IF NOT EXISTS practice_scores (
    session_id   INTEGER NOT NULL REFERENCES practice_sessions (id) ON DELETE CASCADE,
    criterion_id TEXT NOT NULL,
    score_pct    INTEGER NOT NULL,
    weight       INTEGER NOT NULL,
    PRIMARY KEY (session_id, criterion_id)
);
CREATE INDEX IF NOT EXISTS practice_scores_criterion ON practice_scores (criterion_id);
"""


@dataclass(frozen=True)
class CriterionScore:
    """One score on one criterion in one session (what tips and progress charts read)."""

    criterion_id: str
    score_pct: float  # 0–100
    at: datetime  # UTC
    scenario_id: str


@dataclass(frozen=True)
class SessionTotal:
    session_id: int
    scenario_id: str
    total: int
    outcome: str
    at: datetime


@dataclass(frozen=True)
class SessionSummary:
    session_id: int
    user_id: int
    scenario_id: str
    total: int
    outcome: str
    mode: str
    at: datetime


@dataclass(frozen=True)
class CriterionAverage:
    criterion_id: str
    average_pct: float
    sessions: int
    users: int


@dataclass(frozen=True)
class SessionRecord:
    """A stored session in full, for a manager reading what the rep said."""

    summary: SessionSummary
    transcript: list[dict[str, str]]
    card: dict[str, Any]


def _when(value: datetime | float | int | None) -> float:
    if value is None:
        return time.time()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc)


class PracticeStore:
    """Repository of finished practice sessions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("practice", SCHEMA)

    def save(
        self,
        user_id: int,
        card: Any,
        transcript: list[dict[str, str]],
        finished_at: datetime | float | None = None,
    ) -> int:
        """Store a scored session (a `ScoreCard` or its `as_dict()`); returns the session id."""
        data = card.as_dict() if hasattr(card, "as_dict") else dict(card)
        at = _when(finished_at)
        with self.db.transaction() as conn:
            cur = conn.execute(
                """
                INSERT INTO practice_sessions (user_id, scenario_id, total, mode, outcome, transcript, card, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    user_id,
                    data["scenario_id"],
                    int(data["total"]),
                    str(data.get("mode", "")),
                    str(data.get("outcome", "")),
                    json.dumps(transcript, ensure_ascii=False),
                    json.dumps(data, ensure_ascii=False),
                    at,
                ),
            )
            session_id = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO practice_scores (session_id, criterion_id, score_pct, weight) VALUES (?, ?, ?, ?)",
                [(session_id, c["id"], int(c["score_pct"]), int(c["weight"])) for c in data["criteria"]],
            )
        return session_id

    def criterion_history(self, user_id: int) -> list[CriterionScore]:
        """Every criterion score of a user, oldest first."""
        rows = self.db.query(
            """
            SELECT c.criterion_id, c.score_pct, s.finished_at, s.scenario_id
            FROM practice_scores c JOIN practice_sessions s ON s.id = c.session_id
            WHERE s.user_id = ? ORDER BY s.finished_at, s.id, c.criterion_id
            """,
            (user_id,),
        )
        return [CriterionScore(r["criterion_id"], float(r["score_pct"]), _dt(r["finished_at"]), r["scenario_id"]) for r in rows]

    def totals(self, user_id: int) -> list[SessionTotal]:
        """Each session's total, oldest first."""
        rows = self.db.query(
            "SELECT id, scenario_id, total, outcome, finished_at FROM practice_sessions WHERE user_id = ? ORDER BY finished_at, id",
            (user_id,),
        )
        return [SessionTotal(r["id"], r["scenario_id"], r["total"], r["outcome"], _dt(r["finished_at"])) for r in rows]

    def sessions_since(self, since: datetime | float) -> list[SessionSummary]:
        """All users' sessions finished at or after `since`, oldest first (manager report)."""
        rows = self.db.query(
            """
            SELECT id, user_id, scenario_id, total, outcome, mode, finished_at FROM practice_sessions
            WHERE finished_at >= ? ORDER BY finished_at, id
            """,
            (_when(since),),
        )
        return [
            SessionSummary(r["id"], r["user_id"], r["scenario_id"], r["total"], r["outcome"], r["mode"], _dt(r["finished_at"]))
            for r in rows
        ]

    def criterion_averages(self, since: datetime | float) -> list[CriterionAverage]:
        """The team's average score per criterion since `since`, weakest first (manager report)."""
        rows = self.db.query(
            """
            SELECT c.criterion_id, AVG(c.score_pct) AS average, COUNT(*) AS sessions, COUNT(DISTINCT s.user_id) AS users
            FROM practice_scores c JOIN practice_sessions s ON s.id = c.session_id
            WHERE s.finished_at >= ? GROUP BY c.criterion_id ORDER BY average, c.criterion_id
            """,
            (_when(since),),
        )
        return [CriterionAverage(r["criterion_id"], round(float(r["average"]), 1), r["sessions"], r["users"]) for r in rows]

    def delete_user(self, user_id: int) -> int:
        """Forget a user's practice (sessions and their scores); returns the number of sessions deleted."""
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM practice_scores WHERE session_id IN (SELECT id FROM practice_sessions WHERE user_id = ?)",
                (user_id,),
            )
            return conn.execute("DELETE FROM practice_sessions WHERE user_id = ?", (user_id,)).rowcount

    def get(self, session_id: int) -> SessionRecord | None:
        r = self.db.query_one(
            "SELECT id, user_id, scenario_id, total, outcome, mode, finished_at, transcript, card FROM practice_sessions WHERE id = ?",
            (session_id,),
        )
        if r is None:
            return None
        summary = SessionSummary(r["id"], r["user_id"], r["scenario_id"], r["total"], r["outcome"], r["mode"], _dt(r["finished_at"]))
        return SessionRecord(summary, json.loads(r["transcript"]), json.loads(r["card"]))
