"""Drafting a document's situation hints from Telegram: the button under "已加入知识库" (admins, LLM configured).

Why a button and not a command: the moment a manager has just added a handbook
is when its hints matter (colloquial questions find it only with them), and an
admin in Telegram cannot edit files. Pressing it drafts with the model (progress
edited into one message; `bot/coach/hint_drafts.py`), appends to
knowledge/hints/<doc>.yaml without touching hand-written entries, and re-indexes
so the hints are used at once. One draft or import at a time (the ingest lock).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.coach.hint_drafts import draft_text
from bot.llm.prompts import t
from bot.telegram.access import admin_only
from bot.telegram.admin import INGEST_LOCK_KEY
from bot.telegram.context import CoachContext
from bot.telegram.streaming import EDIT_INTERVAL_S, StreamEditor

logger = logging.getLogger(__name__)

HINTS_PREFIX = "hints:"
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback data


def draft_button(doc_id: str, lang: str) -> InlineKeyboardMarkup | None:
    """The "draft hints" button for a document (None when its id does not fit in a button)."""
    data = f"{HINTS_PREFIX}{doc_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(t("manager.hints_button", lang), callback_data=data)]])


@admin_only
async def on_draft_button(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = await context.language()
    doc_id = query.data[len(HINTS_PREFIX) :]
    chat_id = query.message.chat.id if query.message else query.from_user.id
    drafter = context.services.hint_drafter
    if drafter is None:
        await query.answer(t("manager.hints_no_llm", lang), show_alert=True)
        return
    lock: asyncio.Lock = context.bot_data.setdefault(INGEST_LOCK_KEY, asyncio.Lock())
    if lock.locked():
        await query.answer(t("manager.hints_busy", lang), show_alert=True)
        return
    await query.answer()
    try:
        await query.edit_message_reply_markup(None)  # one press per upload
    except BadRequest:
        pass
    async with lock:
        material = context.services.material
        info = await asyncio.to_thread(material.find, doc_id)
        if info is None:
            await context.bot.send_message(chat_id, t("manager.hints_unknown_doc", lang, doc_id=doc_id))
            return
        status = await context.bot.send_message(chat_id, t("manager.hints_started", lang, title=info.title))

        async def show(text: str) -> None:
            await context.bot.edit_message_text(text, chat_id=status.chat_id, message_id=status.message_id)

        editor = StreamEditor(show, EDIT_INTERVAL_S)

        def progress(done: int, total: int) -> None:  # called on the event loop between model calls
            editor.push(t("manager.hints_progress", lang, title=info.title, done=done, total=total))

        try:
            report = await drafter.draft(doc_id, progress)
            knowledge_dir = context.settings.knowledge_dir
            text = draft_text(report, lang, knowledge_dir)
            if report.drafted:
                await asyncio.to_thread(material.reindex)
                text += "\n" + t("manager.hints_applied", lang, path=f"{knowledge_dir.name}/hints/{doc_id}.yaml")
        except Exception as exc:  # a hints file the manager broke, the index failing: say so, change nothing else
            logger.exception("Drafting hints failed")
            text = t("manager.upload_failed", lang, error=f"{info.title}：{exc}")
        await editor.close()
    await show(text)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(on_draft_button, pattern=f"^{HINTS_PREFIX}"))
