"""Questions asked and LLM tokens spent, per user.

Why: `/stats` reports questions and token spend, feedback refers to a question
by its id, and a manager may want to see what reps ask. One row per answered
question; token counts come from the answer service (0 in offline mode).
The questions the material did not answer well — declined, answered only in
part, or rated 👎 — are the manager's list of missing material (`flagged`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.store.db import Database
from bot.store.feedback import SCHEMA as FEEDBACK_SCHEMA

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
    created_at        REAL NOT NULL,
    partial           INTEGER NOT NULL DEFAULT 0
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


# Columns added after the first release: (name, definition) for `ALTER TABLE … ADD COLUMN` on an older database.
_ADDED_COLUMNS = (("partial", "INTEGER NOT NULL DEFAULT 0"),)

Flag = Literal["declined", "partial", "disliked"]


@dataclass(frozen=True)
class FlaggedQuestion:
    """A question the material did not serve well, without who asked it (the manager sees topics, not reps)."""

    question_id: int
    question: str
    asked_at: float
    flag: Flag


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

    @property
    def partial(self) -> bool: ...


class UsageStore:
    """Repository of answered questions and their token cost."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("questions", SCHEMA)
        db.ensure_schema("feedback", FEEDBACK_SCHEMA)  # `flagged` reads the ratings
        present = {row["name"] for row in db.query("PRAGMA table_info(questions)")}
        for name, definition in _ADDED_COLUMNS:
            if name not in present:
                db.execute(f"ALTER TABLE questions ADD COLUMN {name} {definition}")

    def record(self, user_id: int, chat_id: int, question: str, answer: AnsweredQuestion) -> int:
        """Log an answered question; returns its id (used by the feedback buttons)."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                """
                INSERT INTO questions (user_id, chat_id, question, mode, grounded, prompt_tokens,
                                       completion_tokens, created_at, partial)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
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
                    int(bool(answer.partial)),
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

    def flagged(self, since: float = 0.0, limit: int = 2000) -> list[FlaggedQuestion]:
        """Declined, partly answered and 👎-rated questions since a unix time, newest first.

        Ratings live in the feedback table (`bot.store.feedback`); a rating changed
        to 👍 later un-flags the question.
        """
        rows = self.db.query(
            """
            SELECT q.id, q.question, q.created_at, q.grounded, q.partial,
                   EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.rating = -1) AS disliked
            FROM questions q
            WHERE q.created_at >= ?
              AND (q.grounded = 0 OR q.partial = 1
                   OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.rating = -1))
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT ?
            """,
            (since, limit),
        )
        out: list[FlaggedQuestion] = []
        for row in rows:
            flag: Flag = "declined" if not row["grounded"] else "disliked" if row["disliked"] else "partial"
            out.append(FlaggedQuestion(int(row["id"]), str(row["question"]), float(row["created_at"]), flag))
        return out

    def delete_user(self, user_id: int) -> int:
        """Drop a user's questions (they hold the question text) for /forget_me; returns rows removed."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM questions WHERE user_id = ?", (user_id,)).rowcount
