"""Voice notes (and audio files) on Telegram: heard, shown, then answered like a typed question.

Thin by design: what a note declares is checked before it is downloaded (`precheck`: size and
length from the update), the download's size is checked again from getFile, and the speech layer
checks the bytes' container signature and the decoded length before the model sees anything
(`bot.coach.voice.listen`). The rep sees "🎙 听到：…" (a reply with corrected text is simply a new
question), then the answer comes from `bot.telegram.questions.ask`, exactly as for text.
A long note first gets "🎙 正在听…", edited into what was heard; the chat shows "typing…" throughout.

The recogniser is built once by `Services` and loaded by a start-up hook, not per message.
In a practice session the role-play conversation takes the note first (bot/telegram/practice.py
uses `hear_message` from here), so it becomes the rep's turn instead of a question.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence

from telegram import Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import Application, MessageHandler, filters

from bot.coach.voice import FAILED, Heard, heard_text, precheck, problem_text
from bot.coach.voice import listen as listen_to
from bot.llm.prompts import t
from bot.telegram.context import CoachContext, add_startup_hook, services_of
from bot.telegram.delivery import edit_part, send_part
from bot.telegram.questions import ask
from bot.telegram.render import Part

logger = logging.getLogger(__name__)

LONG_NOTE_S = 15  # from this length the rep first sees "正在听…" (edited into the transcript)
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for about 5 s per action
VOICE = filters.VOICE | filters.AUDIO
_LOADING_KEY = "voice.loading"


def _part(text: str) -> Part:
    return Part(html=html.escape(text), plain=text)


async def _keep_typing(context: CoachContext, chat_id: int) -> None:
    while True:
        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # cosmetic
            logger.debug("send_chat_action failed: %s", exc)
        await asyncio.sleep(TYPING_EVERY_S)


async def hear_message(context: CoachContext, message: Message, terms: Sequence[str] = (), hint: bool = False) -> str | None:
    """The words of a voice/audio message, shown to the rep as "🎙 听到：…"; None (the rep told why) if unusable."""
    media = message.voice or message.audio
    if media is None:
        return None
    lang = await context.language()
    settings = context.settings
    refused = precheck(settings, media.file_size, float(media.duration) if media.duration is not None else None)
    if refused is not None:
        await message.reply_text(problem_text(refused, lang, settings))
        return None
    typing = asyncio.create_task(_keep_typing(context, message.chat_id))
    status: Message | None = None
    try:
        if (media.duration or 0) >= LONG_NOTE_S:
            status = await message.reply_text(t("voice.listening", lang, seconds=media.duration))
        heard = await _download_and_listen(context, media.file_id, terms)
    finally:
        typing.cancel()
    text = heard_text(heard, lang, settings)
    if heard.transcript is not None and hint:
        text += "\n" + t("voice.heard_hint", lang)
    if status is not None:
        await edit_part(context.bot, status, _part(text))
    else:
        await send_part(context.bot, message.chat_id, _part(text), reply_to=message.message_id)
    return heard.text or None


async def _download_and_listen(context: CoachContext, file_id: str, terms: Sequence[str]) -> Heard:
    settings = context.settings
    try:
        file = await context.bot.get_file(file_id)
        refused = precheck(settings, file.file_size, None)  # getFile's size, before any byte is fetched
        if refused is not None:
            return refused
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        logger.warning("Could not download a voice note: %s", exc)
        return Heard(problem=FAILED)
    return await asyncio.to_thread(listen_to, context.services.speech, data, terms)


def _meant_for_bot(message: Message, bot_id: int) -> bool:
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


async def on_voice(update: Update, context: CoachContext) -> None:
    """A voice note outside role-play is a question."""
    message = update.effective_message
    if message is None or update.effective_user is None or not _meant_for_bot(message, context.bot.id):
        return
    question = await hear_message(context, message, hint=True)
    if question:
        await ask(context, message.chat, update.effective_user, question, message.message_id)


async def _load_speech(application: Application) -> None:
    """Load the speech model at start-up (in the background: the bot answers text meanwhile)."""
    services = services_of(application)

    async def load() -> None:
        try:
            await asyncio.to_thread(services.speech.load)
        except Exception as exc:  # the rep gets the reason (e.g. how to install) with their first note
            logger.warning("Speech recogniser not loaded: %s", exc)

    # post_init runs before the application is "running": a plain asyncio task, kept so it is not collected.
    application.bot_data[_LOADING_KEY] = asyncio.get_running_loop().create_task(load())


def register(application: Application) -> None:
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & VOICE, on_voice, block=False))
    add_startup_hook(application, _load_speech)
