"""👍/👎 feedback on answers: one rating per user and question, changeable.

Why: managers need to know which answers helped; a rep may change their mind,
so a second press replaces the first rather than counting twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    rating      INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at  REAL NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
"""


@dataclass(frozen=True)
class FeedbackCounts:
    up: int
    down: int


class FeedbackStore:
    """Repository of answer ratings."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("feedback", SCHEMA)

    def record(self, question_id: int, user_id: int, helpful: bool) -> None:
        self.db.execute(
            """
            INSERT INTO feedback (question_id, user_id, rating, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(question_id, user_id) DO UPDATE SET rating = excluded.rating,
                                                            created_at = excluded.created_at
            """,
            (question_id, user_id, 1 if helpful else -1, time.time()),
        )

    def rating(self, question_id: int, user_id: int) -> int | None:
        row = self.db.query_one(
            "SELECT rating FROM feedback WHERE question_id = ? AND user_id = ?", (question_id, user_id)
        )
        return int(row["rating"]) if row else None

    def counts(self, since: float = 0.0) -> FeedbackCounts:
        row = self.db.query_one(
            """
            SELECT COALESCE(SUM(rating = 1), 0) AS up, COALESCE(SUM(rating = -1), 0) AS down
            FROM feedback WHERE created_at >= ?
            """,
            (since,),
        )
        assert row is not None
        return FeedbackCounts(up=int(row["up"]), down=int(row["down"]))

    def delete_user(self, user_id: int) -> int:
        """Drop a user's ratings (/forget_me); returns rows removed."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,)).rowcount
