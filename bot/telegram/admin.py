"""Admin commands: /reload re-imports the material with live progress; /stats shows usage; /gaps what the material lacks.

Admins are `ADMIN_USER_IDS`; the `admin_only` decorator refuses everyone else.
The ingest is blocking work (reading, embedding), so it runs in a thread while
its progress is edited into one message (throttled like streamed answers).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.coach.gaps import DEFAULT_DAYS, gaps_text, since_days
from bot.llm.prompts import t
from bot.telegram.access import admin_only
from bot.telegram.context import CoachContext, add_menu_command
from bot.telegram.delivery import edit_part
from bot.telegram.render import render_plain
from bot.telegram.streaming import EDIT_INTERVAL_S, StreamEditor

logger = logging.getLogger(__name__)

INGEST_LOCK_KEY = "admin.reload_lock"  # one ingest at a time: /reload here, uploads in bot/telegram/manager.py
WEEK_S = 7 * 24 * 3600


@admin_only
async def reload(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    message = update.effective_message
    assert message is not None
    lock: asyncio.Lock = context.bot_data.setdefault(INGEST_LOCK_KEY, asyncio.Lock())
    if lock.locked():
        await message.reply_text(t("bot.reload_busy", lang))
        return
    async with lock:
        status = await message.reply_text(t("bot.reload_started", lang))
        loop = asyncio.get_running_loop()

        async def show(text: str) -> None:
            await context.bot.edit_message_text(text, chat_id=status.chat_id, message_id=status.message_id)

        editor = StreamEditor(show, EDIT_INTERVAL_S)

        def progress(label: str, done: int, total: int) -> None:  # called from the ingest thread
            text = t("bot.reload_progress", lang, done=done, total=total, name=label)
            loop.call_soon_threadsafe(editor.push, text)

        started = time.perf_counter()
        knowledge = context.services.knowledge
        try:
            report = await asyncio.to_thread(knowledge.ingest, None, progress)
        except Exception as exc:
            logger.exception("Re-ingest failed")
            await editor.close()
            await edit_part(context.bot, status, render_plain(t("bot.reload_failed", lang, error=exc))[0])
            return
        await editor.close()
        summary = t(
            "bot.reload_summary",
            lang,
            added=len(report.added),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
            removed=len(report.removed),
            chunks=report.chunks_written,
        )
        if report.errors:
            summary += "\n" + t("bot.reload_errors", lang) + "\n" + "\n".join(f"• {e}" for e in report.errors)
        text = t("bot.reload_done", lang, seconds=f"{time.perf_counter() - started:.1f}", summary=summary)
        parts = render_plain(text)
        await edit_part(context.bot, status, parts[0])
        for part in parts[1:]:
            await message.reply_text(part.plain)


@admin_only
async def stats(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    assert update.effective_message is not None
    text = await asyncio.to_thread(stats_text, context, lang)
    await update.effective_message.reply_text(text)


def stats_text(context: CoachContext, lang: str) -> str:
    """The /stats report (blocking: reads SQLite)."""
    services = context.services
    now = time.time()
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    users = services.users.counts(active_since=now - WEEK_S)
    total = services.usage.totals()
    today = services.usage.totals(since=midnight)
    feedback = services.feedback.counts()
    return t(
        "bot.stats",
        lang,
        users=users.total,
        active=users.active,
        blocked=users.blocked,
        questions=total.questions,
        today=today.questions,
        not_covered=total.not_covered,
        up=feedback.up,
        down=feedback.down,
        tokens=total.tokens,
        prompt_tokens=total.prompt_tokens,
        completion_tokens=total.completion_tokens,
    )


@admin_only
async def gaps(update: Update, context: CoachContext) -> None:
    """`/gaps [days]`: declined, partial and 👎 questions by topic, most asked first (grouping takes seconds)."""
    lang = await context.language()
    message = update.effective_message
    assert message is not None
    days: float = DEFAULT_DAYS
    if context.args:
        try:
            days = float(context.args[0])
        except ValueError:
            days = DEFAULT_DAYS
    status = await message.reply_text(t("manager.gaps_working", lang))
    report = await asyncio.to_thread(context.services.gaps.report, since_days(days))
    parts = render_plain(gaps_text(report, lang, days))
    await edit_part(context.bot, status, parts[0])
    for part in parts[1:]:
        await message.reply_text(part.plain)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("reload", reload, block=False))
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("gaps", gaps, block=False))
    add_menu_command(application, "reload", "bot.cmd_reload", admin_only=True)
    add_menu_command(application, "stats", "bot.cmd_stats", admin_only=True)
    add_menu_command(application, "gaps", "manager.cmd_gaps", admin_only=True)
