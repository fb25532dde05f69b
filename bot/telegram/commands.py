"""/start, /help, /reset and /settings, with their buttons.

Callback data owned elsewhere (rendered here only):
    "practice:start"  — role-play (bot.telegram.practice)
    "tips:subscribe"  — daily tip subscription (bot.telegram.tips)
    "tips:weekdays"   — weekdays-only push toggle (bot.telegram.tips)
Until those modules exist, `bot.telegram.fallbacks` answers such taps politely.
"""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.llm.prompts import t
from bot.telegram.context import CoachContext, add_menu_command
from bot.telegram.questions import EXAMPLE_PREFIX, example_questions

PRACTICE_START = "practice:start"
TIPS_SUBSCRIBE = "tips:subscribe"
TIPS_WEEKDAYS = "tips:weekdays"
EXAMPLES = "start:examples"
LANGUAGE_PREFIX = "settings:lang:"


def start_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t("bot.button_examples", lang), callback_data=EXAMPLES)],
            [
                InlineKeyboardButton(t("bot.button_practice", lang), callback_data=PRACTICE_START),
                InlineKeyboardButton(t("bot.button_subscribe", lang), callback_data=TIPS_SUBSCRIBE),
            ],
        ]
    )


def settings_view(lang: str) -> tuple[str, InlineKeyboardMarkup]:
    other = "en" if lang == "zh" else "zh"
    text = t("bot.settings", lang, language=t(f"bot.language_name_{lang}", lang))
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t("bot.button_language", lang), callback_data=f"{LANGUAGE_PREFIX}{other}")],
            [InlineKeyboardButton(t("bot.button_weekdays", lang), callback_data=TIPS_WEEKDAYS)],
        ]
    )
    return text, markup


async def start(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    user = update.effective_user
    name = (user.first_name if user else "") or ("朋友" if lang == "zh" else "there")
    assert update.effective_message is not None
    await update.effective_message.reply_text(t("bot.welcome", lang, name=name), reply_markup=start_keyboard(lang))


async def help_command(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    text = t("bot.help", lang)
    if context.is_admin():
        text += "\n\n" + t("bot.help_admin", lang)
    assert update.effective_message is not None
    await update.effective_message.reply_text(text)


async def reset(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    assert update.effective_chat is not None and update.effective_message is not None
    await asyncio.to_thread(context.services.history.clear, update.effective_chat.id)
    await update.effective_message.reply_text(t("bot.reset_done", lang))


async def settings_command(update: Update, context: CoachContext) -> None:
    text, markup = settings_view(await context.language())
    assert update.effective_message is not None
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_examples(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    lang = await context.language()
    await query.answer()
    buttons = [
        [InlineKeyboardButton(question, callback_data=f"{EXAMPLE_PREFIX}{index}")]
        for index, question in enumerate(example_questions(lang))
    ]
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id, t("bot.examples_intro", lang), reply_markup=InlineKeyboardMarkup(buttons)
        )


async def on_language(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = query.data.removeprefix(LANGUAGE_PREFIX)
    if lang not in ("zh", "en"):
        await query.answer()
        return
    await asyncio.to_thread(context.services.users.set_language, query.from_user.id, lang)
    await query.answer(t("bot.language_changed", lang))
    text, markup = settings_view(lang)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:  # unchanged or too old: the setting is stored either way
        pass


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("reset", reset))
    application.add_handler(CommandHandler("settings", settings_command))
    application.add_handler(CallbackQueryHandler(on_examples, pattern=f"^{EXAMPLES}$"))
    application.add_handler(CallbackQueryHandler(on_language, pattern=f"^{LANGUAGE_PREFIX}"))
    for command in ("start", "help", "reset", "settings"):
        add_menu_command(application, command, f"bot.cmd_{command}")
