"""`/forget_me`: delete everything stored about one user, across every repository.

Why one function: a rep's request to be forgotten must not depend on which
features a handler remembered to clean up. Each repository deletes its own rows
(`delete_user`).
"""

from __future__ import annotations

import logging

from typing import TYPE_CHECKING

from bot.store.db import Database

if TYPE_CHECKING:
    from bot.store.users import UserStore

logger = logging.getLogger(__name__)


def forget_user(db: Database, user_id: int, users: "UserStore | None" = None) -> dict[str, int]:
    """Delete the user's history, questions, feedback, settings, practice results and tip subscription.

    Pass the running bot's `UserStore` as `users` so its in-memory profile cache forgets the user too.

    Returns rows removed per concern (for the confirmation and the log; never the content).
    """
    from bot.store.feedback import FeedbackStore
    from bot.store.history import HistoryStore
    from bot.store.practice import PracticeStore
    from bot.store.subscriptions import SubscriptionStore
    from bot.store.usage import UsageStore
    from bot.store.users import UserStore

    removed = {
        "history": HistoryStore(db).delete_user(user_id),
        "questions": UsageStore(db).delete_user(user_id),
        "feedback": FeedbackStore(db).delete_user(user_id),
        "practice": PracticeStore(db).delete_user(user_id),
        "subscriptions": SubscriptionStore(db).delete_user(user_id),
        "settings": (users or UserStore(db)).delete_user(user_id),
    }
    logger.info("Forgot user %s: %s", user_id, removed)
    return removed
