"""SQLite, the one place state lives: users, history, feedback, practice, subscriptions.

Why SQLite in WAL mode: durable across restarts, safe for one bot process with
many threads, no server to run. Each concern (users, practice, tips…) owns a
repository module that declares its own schema; `Database` only connects and
applies schemas. Calls are short and synchronous; async callers wrap them in
`asyncio.to_thread` so the event loop never blocks on disk.
Upgrade path beyond one process: the repositories speak plain SQL, so pointing
them at PostgreSQL means swapping this class, not the callers.

Shared state when scaling out (several bot processes, or ingestion in its own
process): the vector index goes to a Chroma server (`CHROMA_HOST`, `chroma run`);
everything else a process must see from another (users, history, practice,
subscriptions, the bot's conversation persistence) lives here. Up to a few
processes on one machine, this WAL file is enough: writers serialise on a
30-second busy timeout and every write is one short transaction. Beyond one
machine, replace this class by one over PostgreSQL with the same five methods
(`ensure_schema`, `execute`, `query`, `query_one`, `transaction`): translate `?`
to the driver's placeholders, `INTEGER PRIMARY KEY AUTOINCREMENT` to identity
columns, `BEGIN IMMEDIATE` to a plain transaction; the `ON CONFLICT … DO UPDATE`
upserts the repositories use are PostgreSQL syntax already. JobQueue schedules
are per process; the daily tip's "one per day" rests on a unique index, so two
processes that both schedule a rep still send one tip.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.settings import StartupError


class DatabaseFileError(StartupError):
    """The application database cannot be opened (damaged, or not a database); names the file and the fix."""

    def __init__(self, path: object, detail: str) -> None:
        super().__init__(
            f"应用数据库打不开：{path}（{detail}）。请把这个文件改名留作备份（例如加上 .damaged 后缀，"
            f"连同同名的 -wal、-shm 文件），再启动时会新建一个空的数据库；用户设置、对话记录和练习成绩需要从备份恢复。"
        )
        self.path = path


class Database:
    """A thread-safe SQLite connection with schema registration."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema: fails if damaged
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise DatabaseFileError(self.path, str(exc)) from exc
        self._schemas: set[str] = set()

    def ensure_schema(self, name: str, sql: str) -> None:
        """Apply a repository's `CREATE TABLE IF NOT EXISTS …` script once per process."""
        if name in self._schemas:
            return
        with self._lock:
            self._conn.executescript(sql)
            self._schemas.add(name)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run several statements atomically."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the new row id for an INSERT, else the number of rows changed.

        (sqlite3's lastrowid is per connection and stale after an UPDATE or DELETE.)
        """
        with self._lock:
            cur = self._conn.execute(sql, params)
            if sql.lstrip()[:6].upper() in ("INSERT", "REPLAC"):
                return int(cur.lastrowid or 0)
            return cur.rowcount

    @property
    def changes(self) -> int:
        """Rows inserted, updated or deleted since the database was opened (for tests and diagnostics)."""
        with self._lock:
            return self._conn.total_changes

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def query_one(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
