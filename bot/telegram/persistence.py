"""PTB persistence on our SQLite database: conversation states, user_data, chat_data.

Why not PTB's PicklePersistence: it rewrites one pickle file per process, so
state is lost between intervals of a crash and cannot be shared by several bot
processes. This `BasePersistence` subclass keeps the same contract (values are
pickled, exactly like PicklePersistence) in one table of the database that
already holds users and history, and writes only what changed (PTB offers every
update's user and chat data; unchanged values are skipped).

What is stored: ConversationHandler states (role-play survives restarts),
`context.user_data` and `context.chat_data`. `bot_data` is NOT persisted: it
holds live objects (the `Services`), see `bot.telegram.context`. Callback data
is not used (our buttons carry short strings).
"""

from __future__ import annotations

import asyncio
import json
import pickle
import threading
from typing import TYPE_CHECKING, Any

from telegram.ext import BasePersistence, PersistenceInput

if TYPE_CHECKING:
    from bot.store.db import Database  # handed over by Services (services.db)

ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]

SCHEMA = """
CREATE TABLE IF NOT EXISTS ptb_state (
    kind  TEXT NOT NULL,   -- 'user_data' | 'chat_data' | 'conversation:<name>'
    key   TEXT NOT NULL,   -- user id, chat id or the JSON of a conversation key
    value BLOB NOT NULL,   -- pickled value
    PRIMARY KEY (kind, key)
);
"""

DEFAULT_UPDATE_INTERVAL_S = 5.0


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores PTB's user/chat data and conversation states in the `ptb_state` table."""

    def __init__(self, db: Database, update_interval: float = DEFAULT_UPDATE_INTERVAL_S) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        db.ensure_schema("ptb_state", SCHEMA)
        # The pickled value last read or written per (kind, key). PTB asks to store every
        # update's user and chat data, changed or not; identical values are not rewritten.
        self._stored: dict[tuple[str, str], bytes] = {}
        self._stored_lock = threading.Lock()

    # -- blocking helpers, always called through asyncio.to_thread -------------------------

    def _load_kind(self, kind: str) -> dict[str, Any]:
        rows = self.db.query("SELECT key, value FROM ptb_state WHERE kind = ?", (kind,))
        with self._stored_lock:
            self._stored.update({(kind, row["key"]): bytes(row["value"]) for row in rows})
        return {row["key"]: pickle.loads(row["value"]) for row in rows}

    def _put(self, kind: str, key: str, value: Any) -> None:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._stored_lock:
            previous = self._stored.get((kind, key))
            if blob == previous or (previous is None and value == {}):
                return  # unchanged, or a new empty dict (reads as missing, which PTB treats the same)
            self._stored[(kind, key)] = blob
        self.db.execute(
            "INSERT INTO ptb_state (kind, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value",
            (kind, key, blob),
        )

    def _delete(self, kind: str, key: str) -> None:
        with self._stored_lock:
            self._stored.pop((kind, key), None)
        self.db.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (kind, key))

    def _forget(self, user_id: int) -> int:
        """Every row of one user: their user_data, their private chat's data, every conversation they are in."""
        removed = 0
        for kind, key in (("user_data", str(user_id)), ("chat_data", str(user_id))):
            removed += self.db.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (kind, key))
        rows = self.db.query("SELECT kind, key FROM ptb_state WHERE kind LIKE 'conversation:%'")
        for row in rows:
            if user_id in json.loads(row["key"]):
                removed += self.db.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (row["kind"], row["key"]))
        with self._stored_lock:
            self._stored = {k: v for k, v in self._stored.items() if not _mentions(k, user_id)}
        return removed

    async def forget_user(self, user_id: int) -> int:
        """/forget_me: remove the user's rows (conversation states included); returns rows removed."""
        return await asyncio.to_thread(self._forget, user_id)

    # -- user_data / chat_data --------------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        loaded = await asyncio.to_thread(self._load_kind, "user_data")
        return {int(key): value for key, value in loaded.items()}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        loaded = await asyncio.to_thread(self._load_kind, "chat_data")
        return {int(key): value for key, value in loaded.items()}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await asyncio.to_thread(self._put, "user_data", str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        await asyncio.to_thread(self._put, "chat_data", str(chat_id), data)

    async def drop_user_data(self, user_id: int) -> None:
        await asyncio.to_thread(self._delete, "user_data", str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        await asyncio.to_thread(self._delete, "chat_data", str(chat_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to do: one process owns its in-memory copy between flushes."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Nothing to do: one process owns its in-memory copy between flushes."""

    # -- conversations ----------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        loaded = await asyncio.to_thread(self._load_kind, f"conversation:{name}")
        return {tuple(json.loads(key)): state for key, state in loaded.items()}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded = json.dumps(list(key))
        if new_state is None:
            await asyncio.to_thread(self._delete, f"conversation:{name}", encoded)
        else:
            await asyncio.to_thread(self._put, f"conversation:{name}", encoded, new_state)

    # -- not stored -------------------------------------------------------------------------

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """bot_data holds live services; it is rebuilt at start-up, never stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """bot_data is not persisted."""

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        """Arbitrary callback data is not used."""

    async def flush(self) -> None:
        """Every update is written through at once; nothing is buffered."""


def _mentions(stored: tuple[str, str], user_id: int) -> bool:
    kind, key = stored
    if kind in ("user_data", "chat_data"):
        return key == str(user_id)
    return kind.startswith("conversation:") and user_id in json.loads(key)
