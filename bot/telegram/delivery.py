"""Sending and editing rendered parts safely: HTML first, plain text on BadRequest.

Why one place: every message the bot sends goes through the same rules — HTML
parse mode with escaped text; if Telegram still refuses the entities, the
plain twin is sent; "message is not modified" is not an error; an edit of a
message that is gone becomes a new message.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ExtBot

from bot.telegram.render import Part

logger = logging.getLogger(__name__)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (read without PTB 22's int/timedelta deprecation warning)."""
    return float(exc.__reduce__()[1][0])


def _is(exc: BadRequest, *needles: str) -> bool:
    message = exc.message.lower()
    return any(needle in message for needle in needles)


async def send_part(
    bot: ExtBot,
    chat_id: int,
    part: Part,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    flood_retries: int | None = None,
) -> Message:
    """Send one part as HTML, or as plain text if Telegram rejects the HTML.

    `flood_retries` asks the rate limiter to wait out flood control more often
    than its default (pushes nobody is waiting for can afford to be patient).
    """
    reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    limits = {"rate_limit_args": flood_retries} if flood_retries is not None else {}  # AIORateLimiter: max retries
    try:
        return await bot.send_message(
            chat_id, part.html, parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=reply, **limits
        )
    except BadRequest as exc:
        logger.warning("HTML message refused (%s); sending plain text", exc.message)
        return await bot.send_message(chat_id, part.plain, reply_markup=markup, reply_parameters=reply, **limits)


async def edit_part(
    bot: ExtBot,
    message: Message,
    part: Part,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Edit `message` into `part`; falls back to plain text, or to a new message (the old one
    deleted) when it is gone or can no longer be edited."""
    try:
        return await _edit(bot, message, part.html, ParseMode.HTML, markup)
    except BadRequest as exc:
        if _is(exc, "not modified"):
            return message
        if _is(exc, "message to edit not found", "message can't be edited", "message_id_invalid"):
            await _try_delete(bot, message)  # an uneditable message must not linger; a gone one is fine
            return await send_part(bot, message.chat_id, part, markup)
        logger.warning("HTML edit refused (%s); editing as plain text", exc.message)
    try:
        return await _edit(bot, message, part.plain, None, markup)
    except BadRequest as exc:
        if _is(exc, "not modified"):
            return message
        raise


async def _try_delete(bot: ExtBot, message: Message) -> None:
    try:
        await bot.delete_message(message.chat_id, message.message_id)
    except BadRequest as exc:
        logger.debug("Old message not deleted: %s", exc.message)


async def _edit(
    bot: ExtBot, message: Message, text: str, parse_mode: str | None, markup: InlineKeyboardMarkup | None
) -> Message:
    edited = await bot.edit_message_text(
        text, chat_id=message.chat_id, message_id=message.message_id, parse_mode=parse_mode, reply_markup=markup
    )
    return edited if isinstance(edited, Message) else message
