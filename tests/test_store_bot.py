"""The Telegram front end's SQLite repositories: users, history, usage, feedback, PTB persistence."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.coach.types import Answer, Turn
from bot.store.db import Database
from bot.store.feedback import FeedbackStore
from bot.store.history import HistoryStore
from bot.store.usage import UsageStore
from bot.store.users import UserStore
from bot.telegram.persistence import SqlitePersistence
from bot.tokens import count_tokens


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "bot.sqlite3")
    yield database
    database.close()


def test_users_language_blocked_and_counts(db: Database) -> None:
    users = UserStore(db, default_language="zh")
    assert users.language(1) == "zh"  # unknown users get the default
    profile = users.touch(1, "wang", "小王")
    assert (profile.language, profile.blocked, profile.first_name) == ("zh", False, "小王")
    users.set_language(1, "en")
    assert users.get(1).language == "en"
    with pytest.raises(ValueError):
        users.set_language(1, "fr")
    users.mark_blocked(1)
    users.mark_blocked(2)  # a user we only know from a failed send
    assert users.is_blocked(1) and users.is_blocked(2)
    counts = users.counts(active_since=0)
    assert (counts.total, counts.blocked) == (2, 2)
    users.touch(1)  # writing to the bot again means they unblocked it
    assert not users.is_blocked(1)
    assert users.get(1).language == "en"  # and their choice is kept


def test_users_survive_reopening(tmp_path: Path) -> None:
    first = Database(tmp_path / "x.sqlite3")
    UserStore(first).set_language(7, "en")
    first.close()
    second = Database(tmp_path / "x.sqlite3")
    assert UserStore(second).language(7) == "en"
    second.close()


def test_history_keeps_whole_recent_exchanges_within_budget(db: Database) -> None:
    history = HistoryStore(db)
    for i in range(5):
        history.append_exchange(10, 1, f"问题{i}", f"回答{i}" * 20)
    turns = history.recent(10, max_turns=4, max_tokens=10_000)
    assert [t.text[:3] for t in turns] == ["问题3", "回答3", "问题4", "回答4"]
    assert turns[0].role == "user"
    # An odd turn limit never starts with half an exchange.
    assert history.recent(10, max_turns=3, max_tokens=10_000)[0] == Turn("user", "问题4")
    # A tight token budget keeps the newest turns only.
    budget = count_tokens("回答4" * 20) + count_tokens("问题4")
    assert [t.text[:3] for t in history.recent(10, max_turns=6, max_tokens=budget)] == ["问题4", "回答4"]
    # Other chats are untouched by /reset.
    history.append_exchange(11, 2, "别的", "对话")
    assert history.clear(10) == 10
    assert history.recent(10, 6, 1000) == []
    assert len(history.recent(11, 6, 1000)) == 2


def test_history_truncates_a_single_overlong_turn(db: Database) -> None:
    history = HistoryStore(db)
    history.append_exchange(1, 1, "问" * 50, "答" * 3000)
    turns = history.recent(1, max_turns=2, max_tokens=100)
    # The only exchange is over budget: shortened, not dropped, so a follow-up still has context.
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[0].text.startswith("问") and turns[1].text.startswith("答")
    assert sum(count_tokens(t.text) for t in turns) <= 100


def test_usage_and_feedback(db: Database) -> None:
    usage, feedback = UsageStore(db), FeedbackStore(db)
    answer = Answer(text="好", citations=[], grounded=True, mode="llm", prompt_tokens=100, completion_tokens=20)
    q1 = usage.record(1, 1, "问1", answer)
    q2 = usage.record(2, 2, "问2", Answer(text="无", citations=[], grounded=False, mode="extractive"))
    assert q2 == q1 + 1 and usage.asker_of(q1) == 1
    totals = usage.totals()
    assert (totals.questions, totals.askers, totals.not_covered, totals.tokens) == (2, 2, 1, 120)
    assert usage.totals(user_id=2).tokens == 0
    feedback.record(q1, 1, helpful=True)
    feedback.record(q1, 1, helpful=False)  # a change of mind replaces, never double counts
    feedback.record(q2, 2, helpful=True)
    assert feedback.rating(q1, 1) == -1
    counts = feedback.counts()
    assert (counts.up, counts.down) == (1, 1)


async def test_persistence_round_trip(db: Database) -> None:
    persistence = SqlitePersistence(db)
    await persistence.update_conversation("practice", (5, 5), "AWAITING_REPLY")
    await persistence.update_conversation("practice", (6, 6), 2)
    await persistence.update_user_data(5, {"scenario": "磅差", "turns": [1, 2]})
    await persistence.update_chat_data(-100, {"x": 1})
    reopened = SqlitePersistence(db)
    assert await reopened.get_conversations("practice") == {(5, 5): "AWAITING_REPLY", (6, 6): 2}
    assert await reopened.get_user_data() == {5: {"scenario": "磅差", "turns": [1, 2]}}
    assert await reopened.get_chat_data() == {-100: {"x": 1}}
    await reopened.update_conversation("practice", (5, 5), None)  # conversation ended
    await reopened.drop_user_data(5)
    assert await reopened.get_conversations("practice") == {(6, 6): 2}
    assert await reopened.get_user_data() == {}
    assert await reopened.get_bot_data() == {}  # bot_data holds live services: never stored
    assert not persistence.store_data.bot_data


async def test_persistence_is_safe_from_many_tasks(db: Database) -> None:
    persistence = SqlitePersistence(db)
    await asyncio.gather(*(persistence.update_user_data(i, {"n": i}) for i in range(50)))
    assert await persistence.get_user_data() == {i: {"n": i} for i in range(50)}


async def test_persistence_writes_only_what_changed(db: Database) -> None:
    persistence = SqlitePersistence(db)
    await persistence.update_user_data(7, {"lang": "zh"})
    before = db.changes
    for _ in range(5):  # PTB stores every update's user and chat data, changed or not
        await persistence.update_user_data(7, {"lang": "zh"})
        await persistence.update_chat_data(7, {})
    assert db.changes == before
    await persistence.update_user_data(7, {"lang": "en"})
    assert db.changes == before + 1
    assert await SqlitePersistence(db).get_user_data() == {7: {"lang": "en"}}
