"""Per-chat conversation history, so follow-up questions work and survive restarts.

Why in SQLite and not in memory: "history lost on restart" is one of the most
common complaints about chat bots. Only the last few turns are ever passed to
the answer service, trimmed to a token budget; older rows are pruned on write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

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

@dataclass(frozen=True)
class Turn:
    """One message of a conversation, kept as short history for follow-ups."""

    role: Literal["user", "assistant"]
    text: str


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
        """The newest turns, oldest first: at most `max_turns` turns and `max_tokens` tokens.

        Whole exchanges only (the list starts with a question). When the newest
        exchange alone is over budget it is shortened rather than dropped, so a
        follow-up always sees what it follows.
        """
        if max_turns <= 0 or max_tokens <= 0:
            return []
        rows = self.db.query(
            "SELECT role, text, tokens FROM chat_history WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
            (chat_id, max_turns),
        )
        turns = [(row["role"], row["text"], int(row["tokens"])) for row in reversed(rows)]
        while turns and turns[0][0] != "user":
            turns.pop(0)
        picked: list[tuple[str, str, int]] = []
        budget = max_tokens
        end = len(turns)
        while end > 0:
            start = end - 1
            while start > 0 and turns[start][0] != "user":
                start -= 1
            exchange = turns[start:end]
            cost = sum(tokens for _, _, tokens in exchange)
            if cost <= budget:
                picked = exchange + picked
                budget -= cost
                end = start
                continue
            if not picked:
                picked = self._shorten(exchange, budget)
            break
        return [Turn(role=role, text=text) for role, text, _ in picked]  # type: ignore[arg-type]

    @staticmethod
    def _shorten(exchange: list[tuple[str, str, int]], budget: int) -> list[tuple[str, str, int]]:
        """Fit one exchange into `budget`: the question keeps up to half, the answer the rest."""
        question = exchange[0]
        q_text = truncate_to_tokens(question[1], max(1, budget // 2))
        out = [(question[0], q_text, count_tokens(q_text))]
        left = budget - out[0][2]
        for role, text, _ in exchange[1:]:
            if left <= 0:
                break
            cut = truncate_to_tokens(text, left)
            out.append((role, cut, count_tokens(cut)))
            left -= out[-1][2]
        return out

    def clear(self, chat_id: int) -> int:
        """Forget a chat's history (`/reset`); returns the number of turns removed."""
        # rowcount, not Database.execute(): its return value is lastrowid when one exists
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM chat_history WHERE chat_id = ?", (chat_id,)).rowcount

    def delete_user(self, user_id: int) -> int:
        """Forget everything a user said or was answered (/forget_me); returns rows removed."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM chat_history WHERE user_id = ?", (user_id,)).rowcount
