"""Questions asked and LLM tokens spent, per user.

Why: `/stats` reports questions and token spend, feedback refers to a question
by its id, and a manager may want to see what reps ask. One row per answered
question; token counts come from the answer service (0 in offline mode).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from bot.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL,
    chat_id           INTEGER NOT NULL,
    question          TEXT NOT NULL,
    mode              TEXT NOT NULL,
    grounded          INTEGER NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_user ON questions(user_id, created_at);
CREATE INDEX IF NOT EXISTS questions_time ON questions(created_at);
"""


@dataclass(frozen=True)
class UsageTotals:
    questions: int
    askers: int
    not_covered: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class AnsweredQuestion(Protocol):
    """What the store logs of an answer (the coach's `Answer` has these fields)."""

    @property
    def mode(self) -> str: ...

    @property
    def grounded(self) -> bool: ...

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...


class UsageStore:
    """Repository of answered questions and their token cost."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("questions", SCHEMA)

    def record(self, user_id: int, chat_id: int, question: str, answer: AnsweredQuestion) -> int:
        """Log an answered question; returns its id (used by the feedback buttons)."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                """
                INSERT INTO questions (user_id, chat_id, question, mode, grounded, prompt_tokens,
                                       completion_tokens, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    user_id,
                    chat_id,
                    question,
                    answer.mode,
                    int(answer.grounded),
                    int(answer.prompt_tokens or 0),
                    int(answer.completion_tokens or 0),
                    time.time(),
                ),
            )
            return int(cur.lastrowid)

    def asker_of(self, question_id: int) -> int | None:
        row = self.db.query_one("SELECT user_id FROM questions WHERE id = ?", (question_id,))
        return int(row["user_id"]) if row else None

    def totals(self, since: float = 0.0, user_id: int | None = None) -> UsageTotals:
        """Totals since a unix time, for everyone or one user."""
        sql = """
            SELECT COUNT(*) AS questions,
                   COUNT(DISTINCT user_id) AS askers,
                   COALESCE(SUM(grounded = 0), 0) AS not_covered,
                   COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
                   COALESCE(SUM(completion_tokens), 0) AS completion_tokens
            FROM questions WHERE created_at >= ?
        """
        params: list[object] = [since]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        row = self.db.query_one(sql, params)
        assert row is not None
        return UsageTotals(**{key: int(row[key]) for key in row.keys()})

    def delete_user(self, user_id: int) -> int:
        """Drop a user's questions (they hold the question text) for /forget_me; returns rows removed."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM questions WHERE user_id = ?", (user_id,)).rowcount
