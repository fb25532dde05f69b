"""What the bot says when nothing else handled an update.

Registered last (see `bot.telegram.app`): stickers, photos, voice, files and
other non-text messages get one friendly line about what the bot can do (in
groups only when they reply to the bot); unknown commands point to /help;
buttons of features that are not installed are answered instead of spinning.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.llm.prompts import t
from bot.telegram.context import CoachContext

NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
)


def _meant_for_bot(update: Update, context: CoachContext) -> bool:
    message = update.effective_message
    if message is None:
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)


async def on_non_text(update: Update, context: CoachContext) -> None:
    if not _meant_for_bot(update, context):
        return
    assert update.effective_message is not None
    await update.effective_message.reply_text(t("bot.not_text", await context.language()))


async def on_unknown_command(update: Update, context: CoachContext) -> None:
    if not _meant_for_bot(update, context):
        return
    assert update.effective_message is not None
    await update.effective_message.reply_text(t("bot.unknown_command", await context.language()))


async def on_unknown_button(update: Update, context: CoachContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(t("bot.feature_unavailable", await context.language()), show_alert=True)


def register(application: Application) -> None:
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & NON_TEXT, on_non_text))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, on_unknown_command))
    application.add_handler(CallbackQueryHandler(on_unknown_button))
