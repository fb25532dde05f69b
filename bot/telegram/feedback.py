"""👍/👎 under answers: store the rating, tick the chosen button, thank the rep."""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.llm.prompts import t
from bot.telegram.context import CoachContext
from bot.telegram.questions import FEEDBACK_PREFIX, feedback_keyboard

PATTERN = re.compile(rf"^{FEEDBACK_PREFIX}(\d+):(up|down)$")


async def on_feedback(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = await context.language()
    match = PATTERN.match(query.data)
    if match is None:
        await query.answer()
        return
    question_id, helpful = int(match.group(1)), match.group(2) == "up"
    services = context.services
    asker = await asyncio.to_thread(services.usage.asker_of, question_id)
    if asker is None:  # a forged or stale button (the question was never asked, or was forgotten): ignore quietly
        await query.answer()
        return
    if asker != query.from_user.id:
        await query.answer(t("bot.feedback_not_yours", lang))
        return
    previous = await asyncio.to_thread(services.feedback.rating, question_id, query.from_user.id)
    await asyncio.to_thread(services.feedback.record, question_id, query.from_user.id, helpful)
    await query.answer(t("bot.feedback_thanks_up" if helpful else "bot.feedback_thanks_down", lang))
    rating = 1 if helpful else -1
    if previous != rating:
        try:
            await query.edit_message_reply_markup(feedback_keyboard(question_id, lang, chosen=rating))
        except BadRequest:  # the message is too old to edit; the rating is stored anyway
            pass


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(on_feedback, pattern=PATTERN))
