"""Daily-tip subscriptions and every tip sent, in SQLite.

Why the unique index on (user, local day) for daily pushes: PTB does not persist
jobs and a bot can restart at any moment, so "never a duplicate" must be a
database fact, not an in-memory flag. A push first *claims* its day (insert,
which fails if the day is taken), then sends; a restart finds the claim and sends
nothing. A claim is released only when the send failed before reaching the user.
Timestamps are stored as UTC ISO strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Generic, Protocol, TypeVar

from bot.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS tip_subscriptions (
    user_id       INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    hour          INTEGER NOT NULL,
    minute        INTEGER NOT NULL,
    zone          TEXT NOT NULL,
    weekdays_only INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 1,
    paused_reason TEXT,                      -- e.g. 'blocked' after Telegram said Forbidden
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL              -- when time/zone last changed (a catch-up never predates it)
);
CREATE INDEX IF NOT EXISTS tip_subscriptions_active ON tip_subscriptions(active);
CREATE TABLE IF NOT EXISTS tip_sends (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL,
    tip_id    TEXT NOT NULL,
    kind      TEXT NOT NULL,                 -- 'daily' (scheduled or catch-up) | 'manual' (/tip, 换一条)
    criterion TEXT,                          -- the weak criterion this tip was chosen to train
    local_day TEXT NOT NULL,                 -- YYYY-MM-DD in the subscriber's zone
    sent_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tip_sends_one_daily ON tip_sends(user_id, local_day) WHERE kind = 'daily';
CREATE INDEX IF NOT EXISTS tip_sends_user ON tip_sends(user_id, sent_at);
"""


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Subscription:
    user_id: int
    chat_id: int
    at: time
    zone: str
    weekdays_only: bool
    active: bool
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Subscription":
        return cls(
            user_id=row["user_id"],
            chat_id=row["chat_id"],
            at=time(row["hour"], row["minute"]),
            zone=row["zone"],
            weekdays_only=bool(row["weekdays_only"]),
            active=bool(row["active"]),
            paused_reason=row["paused_reason"],
            created_at=_parse(row["created_at"]),
            updated_at=_parse(row["updated_at"]),
        )


@dataclass(frozen=True)
class SentTip:
    """A tip the rep already received; `criterion` is set when it was sent to train a weak one."""

    tip_id: str
    sent_at: datetime
    criterion: str | None = None


class ChosenTip(Protocol):
    """What the store records of a tip the coach chose (the coach's `Choice` has these fields)."""

    @property
    def tip_id(self) -> str: ...

    @property
    def criterion(self) -> str | None: ...


Chosen = TypeVar("Chosen", bound=ChosenTip)


@dataclass(frozen=True)
class Claim(Generic[Chosen]):
    """A daily slot taken for a user: the chosen tip and the row to release if sending fails."""

    send_id: int
    choice: Chosen
    local_day: date


class SubscriptionStore:
    """Repository for tip subscriptions and sent tips; short synchronous calls."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema("tip_subscriptions", SCHEMA)

    # ---- subscriptions ----------------------------------------------------------------
    def subscribe(self, user_id: int, chat_id: int, at: time, zone: str, now: datetime) -> Subscription:
        """Create or update (and re-activate) a subscription; the weekdays choice is kept."""
        stamp = _iso(now)
        self.db.execute(
            """
            INSERT INTO tip_subscriptions (user_id, chat_id, hour, minute, zone, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(user_id) DO UPDATE SET
                chat_id = excluded.chat_id, hour = excluded.hour, minute = excluded.minute,
                zone = excluded.zone, active = 1, paused_reason = NULL, updated_at = excluded.updated_at
            """,
            (user_id, chat_id, at.hour, at.minute, zone, stamp, stamp),
        )
        sub = self.get(user_id)
        assert sub is not None
        return sub

    def get(self, user_id: int) -> Subscription | None:
        row = self.db.query_one("SELECT * FROM tip_subscriptions WHERE user_id = ?", (user_id,))
        return Subscription.from_row(row) if row else None

    def unsubscribe(self, user_id: int) -> bool:
        """Stop pushes; True when there was an active subscription."""
        return self.db.execute(
            "UPDATE tip_subscriptions SET active = 0, paused_reason = 'unsubscribed' WHERE user_id = ? AND active = 1",
            (user_id,),
        ) > 0

    def toggle_weekdays(self, user_id: int) -> Subscription | None:
        """Flip weekdays-only; None when the user has no subscription."""
        changed = self.db.execute("UPDATE tip_subscriptions SET weekdays_only = 1 - weekdays_only WHERE user_id = ?", (user_id,))
        return self.get(user_id) if changed else None

    def pause(self, user_id: int, reason: str) -> None:
        """Stop pushing (e.g. the user blocked the bot); /subscribe re-activates."""
        self.db.execute(
            "UPDATE tip_subscriptions SET active = 0, paused_reason = ? WHERE user_id = ?", (reason, user_id)
        )

    def active(self) -> list[Subscription]:
        rows = self.db.query("SELECT * FROM tip_subscriptions WHERE active = 1 ORDER BY user_id")
        return [Subscription.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        row = self.db.query_one(
            "SELECT COUNT(*) AS total, COALESCE(SUM(active), 0) AS active FROM tip_subscriptions"
        )
        assert row is not None
        return {"total": row["total"], "active": row["active"]}

    # ---- sent tips -----------------------------------------------------------------------
    def history(self, user_id: int) -> list[SentTip]:
        rows = self.db.query(
            "SELECT tip_id, sent_at, criterion FROM tip_sends WHERE user_id = ? ORDER BY sent_at, id", (user_id,)
        )
        return [SentTip(tip_id=r["tip_id"], sent_at=_parse(r["sent_at"]), criterion=r["criterion"]) for r in rows]

    def daily_days_since(self, since: date) -> set[tuple[int, str]]:
        """(user, local day) pairs that already have their daily tip, from `since` on (for start-up)."""
        rows = self.db.query(
            "SELECT user_id, local_day FROM tip_sends WHERE kind = 'daily' AND local_day >= ?", (since.isoformat(),)
        )
        return {(r["user_id"], r["local_day"]) for r in rows}

    def has_daily(self, user_id: int, day: date) -> bool:
        return self.db.query_one(
            "SELECT 1 FROM tip_sends WHERE user_id = ? AND local_day = ? AND kind = 'daily'", (user_id, day.isoformat())
        ) is not None

    def claim_daily(
        self, user_id: int, day: date, now: datetime, choose: Callable[[list[SentTip]], Chosen | None]
    ) -> Claim[Chosen] | None:
        """Atomically take today's slot with the tip `choose(history)` picks; None if taken (or no tip)."""
        with self.db.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM tip_sends WHERE user_id = ? AND local_day = ? AND kind = 'daily'",
                (user_id, day.isoformat()),
            ).fetchone()
            if taken:
                return None
            rows = conn.execute(
                "SELECT tip_id, sent_at, criterion FROM tip_sends WHERE user_id = ? ORDER BY sent_at, id", (user_id,)
            ).fetchall()
            history = [SentTip(r["tip_id"], _parse(r["sent_at"]), r["criterion"]) for r in rows]
            choice = choose(history)
            if choice is None:
                return None
            try:
                cur = conn.execute(
                    "INSERT INTO tip_sends (user_id, tip_id, kind, criterion, local_day, sent_at) VALUES (?, ?, 'daily', ?, ?, ?)",
                    (user_id, choice.tip_id, choice.criterion, day.isoformat(), _iso(now)),
                )
            except sqlite3.IntegrityError:  # another process took the day in between
                return None
            return Claim(send_id=int(cur.lastrowid), choice=choice, local_day=day)

    def record_manual(self, user_id: int, choice: ChosenTip, day: date, now: datetime) -> int:
        """A tip asked for with /tip or 换一条: counts for no-repeats, not for the daily slot."""
        return self.db.execute(
            "INSERT INTO tip_sends (user_id, tip_id, kind, criterion, local_day, sent_at) VALUES (?, ?, 'manual', ?, ?, ?)",
            (user_id, choice.tip_id, choice.criterion, day.isoformat(), _iso(now)),
        )

    def release(self, send_id: int) -> None:
        """Undo a claim whose message never reached the user (so a later catch-up may send it)."""
        self.db.execute("DELETE FROM tip_sends WHERE id = ?", (send_id,))

    def delete_user(self, user_id: int) -> int:
        """Remove the subscription and the record of sent tips (/forget_me); returns rows removed."""
        with self.db.transaction() as conn:
            removed = conn.execute("DELETE FROM tip_subscriptions WHERE user_id = ?", (user_id,)).rowcount
            return removed + conn.execute("DELETE FROM tip_sends WHERE user_id = ?", (user_id,)).rowcount
