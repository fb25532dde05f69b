"""Plain text is a question: answered from the material, streamed, with sources and 👍/👎.

Thin by design: this module turns an update into a call on the answer service
(`services.answers.stream(question, history, lang)`, which yields `AnswerDelta`
pieces and ends with one `Answer`) and hands the result to the renderer. It
runs with `block=False` so one slow answer never holds up other users, while a
per-chat lock keeps one chat's questions in order (the follow-up sees the
previous answer in its history).

Registered after every feature module (see `bot.telegram.app`), so a role-play
conversation that is waiting for the rep's reply gets the text first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.coach.types import Answer, AnswerDelta, Turn
from bot.llm.prompts import t
from bot.telegram.context import CoachContext, services_of
from bot.telegram.delivery import send_part
from bot.telegram.limits import KeyedLocks, RateLimiter
from bot.telegram.render import render_answer, render_plain, tg_len
from bot.telegram.streaming import AnswerReply

logger = logging.getLogger(__name__)
_ADMIN_WARNED_KEY = "admin_warned_at"
ADMIN_WARNING_INTERVAL_S = 3600

PLACEHOLDER_DELAY_S = 1.0  # offline answers usually arrive first; no placeholder flashes by
HISTORY_SHARE_OF_CONTEXT = 4  # history may use a quarter of the LLM context budget
_LIMITER_KEY = "questions.rate_limiter"
_LOCKS_KEY = "questions.chat_locks"
_SLOTS_KEY = "questions.answer_slots"
# How many answers are computed at once. Offline answers are CPU work (retrieval, ranking):
# running more than one per core only time-slices them, so every rep in a burst waits for
# the slowest; a first-come queue answers most of them sooner. LLM answers mostly wait on
# the model, so many run at once (bounded, to be gentle with the API).
LLM_ANSWER_SLOTS = 32
EXAMPLE_PREFIX = "ask:"
FEEDBACK_PREFIX = "fb:"


def example_questions(lang: str) -> list[str]:
    """The example questions shown as buttons (one per line in prompts/ui/bot.yaml)."""
    return [line.strip() for line in t("bot.example_questions", lang).splitlines() if line.strip()]


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in `message`, or None when a group message is not meant for the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{bot_username}".lower()
    replied = message.reply_to_message
    addressed = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    for entity, value in message.parse_entities([MessageEntity.MENTION]).items():
        if value.lower() == mention:
            addressed = True
            text = text.replace(value, " ")
    return " ".join(text.split()) if addressed else None


def feedback_keyboard(question_id: int, lang: str, chosen: int | None = None) -> InlineKeyboardMarkup:
    """👍/👎 under an answer; the chosen one is ticked."""
    up = t("bot.button_helpful", lang)
    down = t("bot.button_not_helpful", lang)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(("✅ " if chosen == 1 else "") + up, callback_data=f"{FEEDBACK_PREFIX}{question_id}:up"),
                InlineKeyboardButton(
                    ("✅ " if chosen == -1 else "") + down, callback_data=f"{FEEDBACK_PREFIX}{question_id}:down"
                ),
            ]
        ]
    )


async def on_text(update: Update, context: CoachContext) -> None:
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    question = addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return
    await ask(context, message.chat, update.effective_user, question, message.message_id)


async def on_example(update: Update, context: CoachContext) -> None:
    """A tap on an example-question button asks that question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = await context.language()
    examples = example_questions(lang)
    try:
        question = examples[int(query.data.removeprefix(EXAMPLE_PREFIX))]
    except (ValueError, IndexError):
        await query.answer(t("bot.feature_unavailable", lang))
        return
    await query.answer()
    if query.message is None or update.effective_chat is None:
        return
    await context.bot.send_message(update.effective_chat.id, f"❓ {question}")
    await ask(context, update.effective_chat, query.from_user, question, None)


async def ask(context: CoachContext, chat: Chat, user: User, question: str, reply_to: int | None) -> None:
    """Answer `question` from `user` in `chat`, applying the length and rate limits."""
    lang = await context.language()
    settings = context.settings
    question = question.strip()
    if not question:
        return
    if tg_len(question) > settings.max_question_chars:
        await _say(context, chat.id, t("bot.too_long", lang, length=tg_len(question), limit=settings.max_question_chars))
        return
    decision = _limiter(context).check(user.id)
    if not decision.allowed:
        if decision.warn:
            text = t("bot.rate_limited", lang, seconds=decision.retry_in_s, limit=settings.rate_limit_per_minute)
            await _say(context, chat.id, text)
        return
    async with _locks(context).get(chat.id):
        await answer(context, chat, user, question, reply_to if chat.type != ChatType.PRIVATE else None, lang)


async def answer(context: CoachContext, chat: Chat, user: User, question: str, reply_to: int | None, lang: str) -> None:
    """Typing…, the streamed answer, the final text with sources and feedback buttons."""
    settings = context.settings
    reply = AnswerReply(context.bot, chat.id, lang, reply_to=reply_to)
    typing = asyncio.create_task(context.bot.send_chat_action(chat.id, ChatAction.TYPING))
    try:
        if settings.llm_enabled:
            await reply.show_placeholder()
        else:
            reply.show_placeholder_after(PLACEHOLDER_DELAY_S)
        async with context.bot_data[_SLOTS_KEY]:
            history = await asyncio.to_thread(
                context.services.history.recent,
                chat.id,
                2 * settings.history_turns,  # HISTORY_TURNS counts exchanges; the store counts messages
                max(256, settings.llm_context_tokens // HISTORY_SHARE_OF_CONTEXT),
            )
            final = await _run_answer(context, reply, question, history, lang)
        try:
            question_id: int | None = await asyncio.to_thread(_record, context, chat.id, user.id, question, final)
        except Exception:  # disk full, a locked or damaged database: the rep still gets the answer
            logger.exception("Could not record the question of chat %s; answering anyway", chat.id)
            context.application.create_task(warn_admins(context, t("bot.admin_storage_failed", context.settings.language)))
            question_id = None
        keyboard = feedback_keyboard(question_id, lang) if question_id is not None else None
        await reply.finish(render_answer(final, lang), keyboard)
    except Exception as exc:
        if not isinstance(exc, Forbidden):
            try:
                await reply.fail(t("bot.error", lang))
                exc.user_notified = True  # type: ignore[attr-defined]  # read by the error handler
            except TelegramError as notify_exc:
                logger.info("Could not tell the user about the error: %s", notify_exc)
        raise
    finally:
        await _finish_typing(typing)


async def _run_answer(context: CoachContext, reply: AnswerReply, question: str, history: list[Turn], lang: str) -> Answer:
    final: Answer | None = None
    partial = ""
    async for item in context.services.answers.stream(question, history, lang):
        if isinstance(item, AnswerDelta):
            partial += item.text
            if partial.strip():
                await reply.stream(partial)
        elif isinstance(item, Answer):
            final = item
    if final is None:
        raise RuntimeError("answer service ended without an Answer")
    return final


def _record(context: CoachContext, chat_id: int, user_id: int, question: str, final: Answer) -> int:
    """Log the question (usage, token spend) and extend the chat's history; returns the question id."""
    question_id = context.services.usage.record(user_id, chat_id, question, final)
    context.services.history.append_exchange(chat_id, user_id, question, final.text)
    return question_id


async def warn_admins(context: CoachContext, text: str) -> None:
    """Tell the admins once an hour that something needs them (e.g. the database cannot be written)."""
    now = time.monotonic()
    last = context.bot_data.get(_ADMIN_WARNED_KEY, -ADMIN_WARNING_INTERVAL_S)
    if now - last < ADMIN_WARNING_INTERVAL_S:
        return
    context.bot_data[_ADMIN_WARNED_KEY] = now
    for admin_id in sorted(context.settings.admin_user_ids):
        try:
            await context.bot.send_message(admin_id, text)
        except TelegramError as exc:
            logger.info("Could not warn admin %s: %s", admin_id, exc)


async def _finish_typing(task: asyncio.Task[Any]) -> None:
    try:
        await task
    except Forbidden:
        raise
    except TelegramError as exc:  # a missing "typing…" is cosmetic
        logger.debug("send_chat_action failed: %s", exc)


async def _say(context: CoachContext, chat_id: int, text: str) -> None:
    for part in render_plain(text):
        await send_part(context.bot, chat_id, part)


def _limiter(context: CoachContext) -> RateLimiter:
    return context.bot_data[_LIMITER_KEY]


def _locks(context: CoachContext) -> KeyedLocks:
    return context.bot_data[_LOCKS_KEY]


def questions_filter() -> filters.BaseFilter:
    return filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND


def register(application: Application) -> None:
    settings = services_of(application).settings
    application.bot_data[_LIMITER_KEY] = RateLimiter(settings.rate_limit_per_minute)
    application.bot_data[_LOCKS_KEY] = KeyedLocks()
    slots = LLM_ANSWER_SLOTS if settings.llm_enabled else max(1, os.cpu_count() or 1)
    application.bot_data[_SLOTS_KEY] = asyncio.Semaphore(slots)
    application.add_handler(MessageHandler(questions_filter(), on_text, block=False))
    application.add_handler(CallbackQueryHandler(on_example, pattern=rf"^{EXAMPLE_PREFIX}\d+$", block=False))

