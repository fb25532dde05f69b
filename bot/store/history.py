"""Per-chat conversation history, so follow-up questions work and survive restarts.

Why in SQLite and not in memory: "history lost on restart" is one of the most
common complaints about chat bots. Only the last few turns are ever passed to
the answer service, trimmed to a token budget; older rows are pruned on write.
"""

from __future__ import annotations

import time

from bot.coach.types import Turn
from bot.store.db import Database
from bot.tokens import count_tokens, truncate_to_tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT NOT NULL,
    tokens     INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_history_chat ON chat_history(chat_id, id);
CREATE INDEX IF NOT EXISTS chat_history_user ON chat_history(user_id);
"""

KEEP_ROWS_PER_CHAT = 40  # far more than any prompt uses; bounds the table


class HistoryStore:
    """Repository of conversation turns, keyed by chat."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("chat_history", SCHEMA)

    def append_exchange(self, chat_id: int, user_id: int, question: str, answer: str) -> None:
        """Store one question and its answer atomically, pruning old rows of the chat."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO chat_history (chat_id, user_id, role, text, tokens, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (chat_id, user_id, "user", question, count_tokens(question), now),
                    (chat_id, user_id, "assistant", answer, count_tokens(answer), now),
                ],
            )
            conn.execute(
                """
                DELETE FROM chat_history WHERE chat_id = ? AND id NOT IN (
                    SELECT id FROM chat_history WHERE chat_id = ? ORDER BY id DESC LIMIT ?
                )
                """,
                (chat_id, chat_id, KEEP_ROWS_PER_CHAT),
            )

    def recent(self, chat_id: int, max_turns: int, max_tokens: int) -> list[Turn]:
        """The newest turns, oldest first: at most `max_turns` and `max_tokens`.

        The list always starts with a user turn (never half an exchange), and the
        newest turn is truncated rather than dropped when it alone is too long.
        """
        if max_turns <= 0 or max_tokens <= 0:
            return []
        rows = self.db.query(
            "SELECT role, text, tokens FROM chat_history WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
            (chat_id, max_turns),
        )
        picked: list[Turn] = []
        budget = max_tokens
        for row in rows:  # newest first
            if row["tokens"] <= budget:
                picked.append(Turn(role=row["role"], text=row["text"]))
                budget -= row["tokens"]
                continue
            if not picked:  # the newest turn alone is over budget: keep its beginning
                picked.append(Turn(role=row["role"], text=truncate_to_tokens(row["text"], budget)))
            break
        picked.reverse()
        while picked and picked[0].role != "user":
            picked.pop(0)
        return picked

    def clear(self, chat_id: int) -> int:
        """Forget a chat's history (`/reset`); returns the number of turns removed."""
        # rowcount, not Database.execute(): its return value is lastrowid when one exists
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM chat_history WHERE chat_id = ?", (chat_id,)).rowcount
