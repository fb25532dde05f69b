"""Bot users: who has talked to the coach, their language, and whether they blocked us.

Why a table of its own: the language choice must survive restarts, `/stats`
counts users, and other features (daily tips) must know when Telegram answered
`Forbidden` so they stop sending. `blocked` is set on `Forbidden` and cleared as
soon as the user writes to the bot again (they have unblocked it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from bot.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id      INTEGER PRIMARY KEY,
    username     TEXT NOT NULL DEFAULT '',
    first_name   TEXT NOT NULL DEFAULT '',
    language     TEXT,                       -- NULL: not chosen yet, the default applies
    blocked      INTEGER NOT NULL DEFAULT 0, -- 1: Telegram said Forbidden; do not send
    blocked_at   REAL,
    created_at   REAL NOT NULL,
    last_seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS users_last_seen ON users(last_seen_at);
"""

LANGUAGES = ("zh", "en")
FRESH_S = 60.0  # a profile written less than this long ago is served from memory


@dataclass(frozen=True)
class UserProfile:
    """What handlers need to know about a user."""

    user_id: int
    username: str
    first_name: str
    language: str
    blocked: bool


@dataclass(frozen=True)
class UserCounts:
    total: int
    active: int
    blocked: int


class UserStore:
    """Repository of bot users; every method is short and synchronous."""

    def __init__(self, db: Database, default_language: str = "zh") -> None:
        self.db = db
        self.default_language = default_language if default_language in LANGUAGES else "zh"
        db.ensure_schema("users", SCHEMA)
        # Profiles this process wrote recently: lets the access gate skip a disk write per
        # message (no thread hop, no SQLite lock) when a rep sends several in a row.
        self._recent: dict[int, tuple[float, UserProfile]] = {}
        self._lock = threading.Lock()

    def recently_seen(self, user_id: int, username: str = "", first_name: str = "") -> UserProfile | None:
        """The profile if this process touched the user within FRESH_S and nothing changed (memory only)."""
        with self._lock:
            entry = self._recent.get(user_id)
        if entry is None or time.monotonic() - entry[0] > FRESH_S:
            return None
        profile = entry[1]
        if profile.blocked or profile.username != (username or "") or profile.first_name != (first_name or ""):
            return None
        return profile

    def _remember(self, profile: UserProfile) -> None:
        with self._lock:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[profile.user_id] = (time.monotonic(), profile)

    def _forget(self, user_id: int) -> None:
        with self._lock:
            self._recent.pop(user_id, None)

    def unsaved(self, user_id: int, username: str = "", first_name: str = "") -> UserProfile:
        """A profile with the default settings, written nowhere (when the database cannot be written)."""
        return UserProfile(user_id, username, first_name, self.default_language, False)

    def touch(self, user_id: int, username: str = "", first_name: str = "") -> UserProfile:
        """Record that the user wrote to us (creating them) and return their profile."""
        now = time.time()
        self.db.execute(
            """
            INSERT INTO users (user_id, username, first_name, created_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(user_id) DO UPDATE SET
                username = excluded.username,
                first_name = excluded.first_name,
                last_seen_at = excluded.last_seen_at,
                blocked = 0,
                blocked_at = NULL
            """,
            (user_id, username or "", first_name or "", now, now),
        )
        profile = self.get(user_id)
        assert profile is not None
        self._remember(profile)
        return profile

    def get(self, user_id: int) -> UserProfile | None:
        row = self.db.query_one("SELECT * FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return UserProfile(
            user_id=row["user_id"],
            username=row["username"],
            first_name=row["first_name"],
            language=row["language"] if row["language"] in LANGUAGES else self.default_language,
            blocked=bool(row["blocked"]),
        )

    def language(self, user_id: int) -> str:
        """The user's language, or the default when unknown or not chosen."""
        profile = self.get(user_id)
        return profile.language if profile else self.default_language

    def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"不支持的语言：{language!r}（只能是 zh 或 en）")
        now = time.time()
        self.db.execute(
            """
            INSERT INTO users (user_id, language, created_at, last_seen_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(user_id) DO UPDATE SET language = excluded.language
            """,
            (user_id, language, now, now),
        )
        with self._lock:
            entry = self._recent.get(user_id)
            if entry is not None:
                self._recent[user_id] = (entry[0], replace(entry[1], language=language))

    def mark_blocked(self, user_id: int) -> None:
        """Telegram answered Forbidden: stop sending until the user writes again."""
        now = time.time()
        self.db.execute(
            """
            INSERT INTO users (user_id, blocked, blocked_at, created_at, last_seen_at) VALUES (?, 1, ?, ?, ?)
            ON CONFLICT(user_id) DO UPDATE SET blocked = 1, blocked_at = excluded.blocked_at
            """,
            (user_id, now, now, now),
        )
        self._forget(user_id)

    def is_blocked(self, user_id: int) -> bool:
        row = self.db.query_one("SELECT blocked FROM users WHERE user_id = ?", (user_id,))
        return bool(row and row["blocked"])

    def counts(self, active_since: float) -> UserCounts:
        row = self.db.query_one(
            """
            SELECT COUNT(*) AS total,
                   COALESCE(SUM(last_seen_at >= ?), 0) AS active,
                   COALESCE(SUM(blocked), 0) AS blocked
            FROM users
            """,
            (active_since,),
        )
        assert row is not None
        return UserCounts(total=row["total"], active=row["active"], blocked=row["blocked"])

    def delete_user(self, user_id: int) -> int:
        """Forget the profile and settings (language) of a user (/forget_me); returns rows removed."""
        with self.db.transaction() as conn:
            removed = conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount
        self._forget(user_id)
        return removed

    def listing(self) -> list[UserProfile]:
        """Every known user, for the manager's team report (who has not practised)."""
        rows = self.db.query("SELECT user_id FROM users ORDER BY user_id")
        return [profile for profile in (self.get(r["user_id"]) for r in rows) if profile is not None]
