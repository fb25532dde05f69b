"""Who may use the bot: one gate for every update, plus the admin check.

Why a gate in group −1 (PTB's recommended pattern) rather than checks in each
handler: a new handler cannot forget it. Allowed users get their profile
loaded (and `blocked` cleared, since they are writing to us); everyone else
gets one polite refusal per day, so a flood of messages is not answered with a
flood of refusals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.llm.prompts import t
from bot.telegram.context import CoachContext

logger = logging.getLogger(__name__)

REFUSAL_INTERVAL_S = 24 * 3600
_REFUSED_KEY = "access_refused_at"

Handler = Callable[[Update, CoachContext], Awaitable[Any]]


def is_allowed(user_id: int, allowed: frozenset[int], admins: frozenset[int]) -> bool:
    """Empty allow-list = open bot; admins are always allowed."""
    return not allowed or user_id in allowed or user_id in admins


async def gate(update: Update, context: CoachContext) -> None:
    """Stop updates from users who are not allowed; load the profile of those who are."""
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop  # channel posts, service updates: nothing for a coach to do
    settings = context.settings
    if not is_allowed(user.id, settings.allowed_user_ids, settings.admin_user_ids):
        await _refuse_once(update, context, user.id)
        raise ApplicationHandlerStop
    users = context.services.users
    profile = users.recently_seen(user.id, user.username or "", user.first_name or "")
    if profile is None:  # first message in a while: record it (a disk write, so off the event loop)
        try:
            profile = await asyncio.to_thread(users.touch, user.id, user.username or "", user.first_name or "")
        except Exception:  # disk full or a locked database: serve the update anyway (one error at most, later)
            logger.exception("Could not record user %s; serving with default settings", user.id)
            profile = users.unsaved(user.id, user.username or "", user.first_name or "")
    context.remember_profile(profile)


async def _refuse_once(update: Update, context: CoachContext, user_id: int) -> None:
    refused: dict[int, float] = context.bot_data.setdefault(_REFUSED_KEY, {})
    now = time.monotonic()
    if now - refused.get(user_id, -REFUSAL_INTERVAL_S) < REFUSAL_INTERVAL_S:
        if update.callback_query:
            await _quietly(update.callback_query.answer())
        return
    refused[user_id] = now
    logger.info("Refused user %s (not in ALLOWED_USER_IDS)", user_id)
    text = t("bot.not_allowed", context.settings.language, user_id=user_id)
    if update.callback_query:
        await _quietly(update.callback_query.answer(text, show_alert=True))
    elif update.effective_chat and update.effective_message:
        await _quietly(context.bot.send_message(update.effective_chat.id, text))


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except TelegramError as exc:  # a refusal that cannot be delivered is not worth an error
        logger.info("Could not deliver a refusal: %s", exc)


def admin_only(handler: Handler) -> Handler:
    """Decorate a handler so that non-admins get a short refusal instead."""

    @wraps(handler)
    async def wrapper(update: Update, context: CoachContext) -> Any:
        user = update.effective_user
        if user is None or not context.is_admin(user.id):
            lang = await context.language()
            if update.callback_query:
                await update.callback_query.answer(t("bot.admin_only", lang), show_alert=True)
            elif update.effective_message:
                await update.effective_message.reply_text(t("bot.admin_only", lang))
            return None
        return await handler(update, context)

    return wrapper


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, gate), group=-1)
