"""The manager's tools in Telegram: add material by sending a file, /sources, /team, and /forget_me.

* An admin sends a document in a private chat → one status message, edited with
  the progress → "已加入知识库：N 段《title》". The file is downloaded to a
  staging folder, checked with the ingest's own reader, copied into
  knowledge/sources (so a later full re-ingest keeps it) and ingested alone, in
  a thread. A bad file gets the clear reason and changes nothing. Documents from
  non-admins are not matched here and reach the friendly fallback
  (bot/telegram/fallbacks.py: "I only read text").
* /sources lists the documents with a remove button each; removal asks first.
* /team: activity this week, the team's average per rubric criterion with the
  weakest three highlighted, reps who have not practised in 7 days, and a chart.
* /forget_me (anyone): after a confirm button, every store deletes the user's rows.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.coach.material import IngestCancelled, Material
from bot.coach.team.chart import team_chart
from bot.coach.team.text import team_text
from bot.llm.prompts import t
from bot.telegram.access import admin_only
from bot.telegram.admin import INGEST_LOCK_KEY
from bot.telegram.context import CoachContext, add_menu_command, services_of
from bot.telegram.hints import draft_button
from bot.telegram.persistence import SqlitePersistence
from bot.telegram.streaming import EDIT_INTERVAL_S, StreamEditor

logger = logging.getLogger(__name__)

SOURCES_PREFIX = "src:"
FORGET_PREFIX = "forget:"
REPLACE_PREFIX = "upl:"
CANCEL_KEY = "uploads_running"  # bot_data: token -> the threading.Event that cancels that import
PENDING_KEY = "uploads_pending"  # user_data: token -> (Telegram file id, file name) awaiting "replace?"
TITLE_IN_BUTTON = 24


# ---- adding material ------------------------------------------------------------------------
async def on_document(update: Update, context: CoachContext) -> None:
    """An admin sent a file: download, check, copy into the sources folder, ingest it alone."""
    message = update.effective_message
    assert message is not None and message.document is not None
    lang = await context.language()
    document = message.document
    name = Material.file_name(document.file_name or f"{document.file_unique_id}.bin")
    limit_mb = context.settings.max_file_mb
    if not Material.is_supported(name):
        await message.reply_text(t("manager.upload_unsupported", lang, name=name))
        return
    if document.file_size and document.file_size > limit_mb * 1_048_576:
        size_mb = f"{document.file_size / 1_048_576:.1f}"
        await message.reply_text(t("manager.upload_too_big", lang, name=name, size_mb=size_mb, limit_mb=f"{limit_mb:g}"))
        return
    if await asyncio.to_thread(context.services.material.exists, name):
        # Same name as a document already in the library: ask first (the old version is kept in .removed/).
        token = document.file_unique_id[-16:]
        context.user_data.setdefault(PENDING_KEY, {})[token] = (document.file_id, name)
        markup = InlineKeyboardMarkup(
            [[
                InlineKeyboardButton(t("manager.replace_yes", lang), callback_data=f"{REPLACE_PREFIX}yes:{token}"),
                InlineKeyboardButton(t("manager.replace_no", lang), callback_data=f"{REPLACE_PREFIX}no:{token}"),
            ]]
        )  # fmt: skip
        await message.reply_text(t("manager.replace_confirm", lang, name=name), reply_markup=markup)
        return
    await _receive(context, message.chat_id, document.file_id, name, lang)


async def on_replace_button(update: Update, context: CoachContext) -> None:
    """The admin's answer to "replace the document of the same name?"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = await context.language()
    _, action, token = (query.data.split(":", 2) + ["", ""])[:3]
    if action == "stop":  # "取消导入" under a running import's progress
        running = context.bot_data.get(CANCEL_KEY, {}).get(token)
        if running is not None:
            running.set()
        await query.answer(t("manager.upload_cancelling", lang) if running is not None else None)
        return
    pending = context.user_data.get(PENDING_KEY, {}).pop(token, None)
    await query.answer()
    if pending is None:  # a stale or forged button
        await _edit(query, t("manager.replace_gone", lang))
        return
    file_id, name = pending
    if action != "yes":
        await _edit(query, t("manager.replace_cancelled", lang, name=name))
        return
    await _edit(query, t("manager.replace_accepted", lang, name=name))
    await _receive(context, query.message.chat.id if query.message else query.from_user.id, file_id, name, lang)


async def _receive(context: CoachContext, chat_id: int, file_id: str, name: str, lang: str) -> None:
    """Download, check, copy into the sources folder and ingest one file, with progress in one message."""
    lock: asyncio.Lock = context.bot_data.setdefault(INGEST_LOCK_KEY, asyncio.Lock())
    if lock.locked():
        await context.bot.send_message(chat_id, t("manager.upload_busy", lang))
        return
    cancel = threading.Event()
    token = f"{chat_id}-{id(cancel)}"
    stop = InlineKeyboardMarkup([[InlineKeyboardButton(t("manager.upload_cancel_button", lang), callback_data=f"{REPLACE_PREFIX}stop:{token}")]])
    async with lock:
        context.bot_data.setdefault(CANCEL_KEY, {})[token] = cancel
        status = await context.bot.send_message(chat_id, t("manager.upload_received", lang, name=name), reply_markup=stop)

        async def show(text: str, done: bool = False, after: InlineKeyboardMarkup | None = None) -> None:
            markup = after if done else stop
            await context.bot.edit_message_text(text, chat_id=status.chat_id, message_id=status.message_id, reply_markup=markup)

        material = context.services.material
        staging = Path(await asyncio.to_thread(_staging_dir, context.settings.data_dir))
        try:
            local = staging / name
            try:
                telegram_file = await context.bot.get_file(file_id)
                await telegram_file.download_to_drive(local)
            except TelegramError as exc:
                await show(t("manager.upload_download_failed", lang, name=name, error=exc.message), done=True)
                return
            text, added = await _import(material, local, name, lang, show, cancel)
        finally:
            context.bot_data.get(CANCEL_KEY, {}).pop(token, None)
            await asyncio.to_thread(shutil.rmtree, staging, True)
    # Released before the result is shown: an admin who reads it may send the next file at once.
    # With a model configured, a new or changed document gets the button that drafts its hints.
    after = draft_button(added, lang) if added and context.services.llm is not None else None
    await show(text, done=True, after=after)


def _staging_dir(data_dir: Path) -> str:
    """A private folder for one download (a bad file never touches knowledge/sources)."""
    root = data_dir / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix="upload-", dir=root)


async def _import(
    material: Material, local: Path, name: str, lang: str, show, cancel: threading.Event  # noqa: ANN001
) -> tuple[str, str | None]:
    """Check, copy and ingest in a thread while progress is edited into the status message.

    Returns the final text, and the document's id when it was added or changed (None otherwise).

    The progress callback runs in the ingest thread between pages and batches; when
    the admin pressed "取消导入" it raises, and the import is undone.
    """
    loop = asyncio.get_running_loop()
    editor = StreamEditor(show, EDIT_INTERVAL_S)

    def progress(stage_name: str, done: int, total: int) -> None:  # called from the ingest thread
        if cancel.is_set():
            raise IngestCancelled(name)
        text = t("manager.upload_progress", lang, name=name, stage=stage_name, done=done, total=total)
        loop.call_soon_threadsafe(editor.push, text)

    try:
        result = await asyncio.to_thread(material.add, [local], [name], progress)
    except IngestCancelled:
        await editor.close()
        return t("manager.upload_cancelled", lang, name=name), None
    except Exception as exc:  # embedding or vector store failure: the previous index still answers
        logger.exception("Ingest of an uploaded file failed")
        await editor.close()
        return t("manager.upload_failed", lang, error=f"{name}：{type(exc).__name__}"), None
    await editor.close()
    if result.rejected:
        return t("manager.upload_failed", lang, error=result.rejected[0]), None
    staged, report = result.staged[0], result.report
    assert report is not None
    if not result.indexed(staged):
        return t("manager.upload_failed", lang, error="；".join(report.errors) or name), None
    chunks = report.chunks_written
    if staged.doc_id in report.unchanged:
        info = await asyncio.to_thread(material.find, staged.doc_id)
        return t("manager.upload_unchanged", lang, title=staged.title, chunks=info.chunks if info else 0), None
    return t("manager.upload_done", lang, chunks=chunks, title=staged.title, file=staged.path.name), staged.doc_id


# ---- /sources -------------------------------------------------------------------------------
@admin_only
async def sources(update: Update, context: CoachContext) -> None:
    message = update.effective_message
    assert message is not None
    lang = await context.language()
    text, markup = await _sources_view(context.services.material, lang)
    await message.reply_text(text, reply_markup=markup)


async def _sources_view(material: Material, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    docs = await asyncio.to_thread(material.sources)
    if not docs:
        return t("manager.sources_empty", lang), None
    lines = [t("manager.sources_heading", lang, count=len(docs))]
    buttons = []
    for n, doc in enumerate(docs, start=1):
        lines.append(t("manager.sources_item", lang, n=n, title=doc.title, chunks=doc.chunks, file=doc.file))
        short = doc.title if len(doc.title) <= TITLE_IN_BUTTON else doc.title[: TITLE_IN_BUTTON - 1] + "…"
        label = t("manager.sources_remove_button", lang, n=n, title=short)
        buttons.append([InlineKeyboardButton(label, callback_data=f"{SOURCES_PREFIX}ask:{doc.doc_id}")])
    lines.append(t("manager.sources_hint", lang))
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


@admin_only
async def on_sources_button(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = await context.language()
    material = context.services.material
    _, action, doc_id = (query.data.split(":", 2) + ["", ""])[:3]
    info = await asyncio.to_thread(material.find, doc_id)
    await query.answer()
    if action == "no":
        await _edit(query, t("manager.sources_remove_cancelled", lang))
        return
    if info is None:  # removed meanwhile, or a stale button pressed again: say so once, quietly
        await _edit(query, t("manager.sources_gone", lang))
        return
    if action == "ask":
        markup = InlineKeyboardMarkup(
            [[
                InlineKeyboardButton(t("manager.sources_confirm_yes", lang), callback_data=f"{SOURCES_PREFIX}yes:{doc_id}"),
                InlineKeyboardButton(t("manager.sources_confirm_no", lang), callback_data=f"{SOURCES_PREFIX}no:{doc_id}"),
            ]]
        )  # fmt: skip
        await query.edit_message_text(t("manager.sources_confirm", lang, title=info.title, chunks=info.chunks), reply_markup=markup)
        return
    if action == "yes":
        await asyncio.to_thread(material.remove, doc_id)  # the file moves to sources/.removed/
        await query.edit_message_text(t("manager.sources_removed", lang, title=info.title))


async def _edit(query, text: str, markup: InlineKeyboardMarkup | None = None) -> None:  # noqa: ANN001 - a CallbackQuery
    """Edit the button's message; a message already showing this text is left as it is (no error)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


# ---- /team ----------------------------------------------------------------------------------
@admin_only
async def team(update: Update, context: CoachContext) -> None:
    message = update.effective_message
    assert message is not None
    lang = await context.language()
    team = context.services.team
    summary, names = await asyncio.to_thread(lambda: (team.summary(), team.criterion_names(lang)))
    await message.reply_text(team_text(summary, names, lang))
    if summary.averages:
        picture = await asyncio.to_thread(team_chart, summary, names, lang)
        await message.reply_photo(picture, caption=t("manager.team_chart_caption", lang))


# ---- /forget_me -----------------------------------------------------------------------------
async def forget_me(update: Update, context: CoachContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    lang = await context.language()
    markup = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(t("manager.forget_yes", lang), callback_data=f"{FORGET_PREFIX}yes:{user.id}"),
            InlineKeyboardButton(t("manager.forget_no", lang), callback_data=f"{FORGET_PREFIX}no:{user.id}"),
        ]]
    )  # fmt: skip
    await message.reply_text(t("manager.forget_confirm", lang), reply_markup=markup)


async def on_forget_button(update: Update, context: CoachContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    lang = await context.language()
    _, action, owner = (query.data.split(":", 2) + ["", ""])[:3]
    if owner != str(user.id):  # a confirm button in a group, pressed by someone else
        await query.answer(t("manager.forget_not_yours", lang), show_alert=True)
        return
    await query.answer()
    if action != "yes":
        await query.edit_message_text(t("manager.forget_cancelled", lang))
        return
    removed = await asyncio.to_thread(context.services.forget_user, user.id)
    persistence = context.application.persistence
    if isinstance(persistence, SqlitePersistence):  # conversation states (a role-play in progress) too
        removed["conversations"] = await persistence.forget_user(user.id)
    _unschedule_tips(context, user.id)
    context.application.drop_user_data(user.id)
    if query.message is not None and query.message.chat.id == user.id:  # the private chat's data is theirs too
        context.application.drop_chat_data(user.id)
    await query.edit_message_text(t("manager.forget_done", lang, rows=sum(removed.values())))


def _unschedule_tips(context: CoachContext, user_id: int) -> None:
    """Stop the daily-tip job now (its subscription row is already gone)."""
    try:
        from bot.telegram.tips import unschedule
    except ImportError:
        return
    if context.job_queue is not None:
        unschedule(context.job_queue, user_id)


def register(application: Application) -> None:
    settings = services_of(application).settings
    admins = filters.User(user_id=sorted(settings.admin_user_ids), allow_empty=False)
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.Document.ALL & admins, on_document, block=False)
    )
    application.add_handler(CallbackQueryHandler(admin_only(on_replace_button), pattern=f"^{REPLACE_PREFIX}"))
    application.add_handler(CommandHandler("sources", sources))
    application.add_handler(CallbackQueryHandler(on_sources_button, pattern=f"^{SOURCES_PREFIX}"))
    application.add_handler(CommandHandler("team", team))
    application.add_handler(CommandHandler("forget_me", forget_me))
    application.add_handler(CallbackQueryHandler(on_forget_button, pattern=f"^{FORGET_PREFIX}"))
    add_menu_command(application, "sources", "manager.cmd_sources", admin_only=True)
    add_menu_command(application, "team", "manager.cmd_team", admin_only=True)
    add_menu_command(application, "forget_me", "manager.cmd_forget_me")
