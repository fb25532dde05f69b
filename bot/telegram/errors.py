"""The global error handler: log the traceback, tell the user something kind, mark blocked users.

Why `Forbidden` is special: it means the user blocked the bot (or deleted
their account). Retrying is pointless and answering impossible, so the user is
marked `blocked` in the users table — daily tips read that flag — and nothing
more is sent until they write to the bot again.
A handler that already told the user (e.g. by editing its "please wait"
message into the error text) sets `user_notified = True` on the exception.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.llm.prompts import t
from bot.telegram.context import CoachContext, services_of
from bot.telegram.delivery import retry_after_seconds

logger = logging.getLogger(__name__)


def _blocked_user_id(update: object, context: CoachContext) -> int | None:
    """Whose private chat refused us, if it was a private chat."""
    if isinstance(update, Update):
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            return chat.id
        return None
    job = context.job
    if job is not None:
        if job.user_id is not None:
            return job.user_id
        if job.chat_id is not None and job.chat_id > 0:  # private chats have positive ids
            return job.chat_id
    return None


async def on_error(update: object, context: CoachContext) -> None:
    error = context.error
    if isinstance(error, Forbidden):
        user_id = _blocked_user_id(update, context)
        if user_id is not None:
            await asyncio.to_thread(services_of(context.application).users.mark_blocked, user_id)
            logger.info("User %s blocked the bot; marked and not retried", user_id)
        else:
            logger.warning("Forbidden outside a private chat: %s", error)
        return
    if update is None and isinstance(error, NetworkError):
        logger.warning("Network problem talking to Telegram: %s", error)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    logger.error(
        "Error while handling update %s from user %s", update_id, user.id if user else None, exc_info=error
    )
    if getattr(error, "user_notified", False) or not isinstance(update, Update):
        return
    await _tell_user(update, context, error)


async def _tell_user(update: Update, context: CoachContext, error: BaseException | None) -> None:
    try:
        lang = await context.language()
    except Exception:  # the store itself may be what failed
        lang = context.settings.language
    if isinstance(error, RetryAfter):
        text = t("bot.error_busy", lang, seconds=int(retry_after_seconds(error)) + 1)
    else:
        text = t("bot.error", lang)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except Forbidden:
        user_id = _blocked_user_id(update, context)
        if user_id is not None:
            await asyncio.to_thread(services_of(context.application).users.mark_blocked, user_id)
    except TelegramError as exc:
        logger.info("Could not tell the user about the error: %s", exc)


def register(application: Application) -> None:
    application.add_error_handler(on_error)
