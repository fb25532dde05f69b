"""Daily tips on Telegram: /subscribe, /unsubscribe, /tip, the tip buttons, and the JobQueue pushes.

Why it is built this way:
* PTB does not persist jobs, so subscriptions live in SQLite and one
  `run_daily` job per subscriber is rebuilt by a start-up hook. A push missed
  while the bot was down is sent once, at start-up, if it is still that day.
* "Never a duplicate" is enforced by the store: each push claims its
  (user, local day) before sending; a restart finds the claim and stays quiet.
* Each subscriber fires at their own second within the minute (stable per
  user), and every send goes through PTB's AIORateLimiter, which waits out
  RetryAfter (a push asks it for more patience). `Forbidden` pauses the subscription.
* Handlers only translate updates into `TipService` calls (bot/coach/tip_service.py)
  and render its `TipCard`s; the choice rules live in the coach layer.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import httpx
from apscheduler.jobstores.base import JobLookupError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ExtBot, JobQueue

from bot.coach.tips.service import TipCard, TipService
from bot.coach.tips.text import card_blocks, subscribed_text
from bot.coach.tips.timezones import (
    DEFAULT_TIME,
    DEFAULT_ZONE,
    BadTime,
    BadZone,
    parse_push_setting,
    ptb_days,
    push_time,
)
from bot.llm.prompts import t
from bot.telegram.context import CoachContext, add_menu_command, add_startup_hook, services_of
from bot.telegram.delivery import edit_part, send_part
from bot.telegram.render import Part

if TYPE_CHECKING:
    from bot.store.subscriptions import Subscription

logger = logging.getLogger(__name__)

CLOCK_KEY = "tips_clock"  # tests may put a fixed clock here; defaults to the real UTC clock
STARTUP_REPORT_KEY = "tips_startup"
JOB_PREFIX = "tip:"
CB_PREFIX = "tips:"
CB_NEXT = "tips:next:"
CB_REVEAL = "tips:reveal:"
CB_WEEKDAYS = "tips:weekdays"
CB_SUBSCRIBE = "tips:subscribe"
PRACTICE_PREFIX = "practice:start:"  # handled by bot.telegram.practice
SEND_ATTEMPTS = 3  # for connections that were never made
PUSH_FLOOD_RETRIES = 3  # RetryAfter waits per push (answers use the application's default)
CATCH_UP_CONCURRENCY = 8
JOB_OPTIONS = {"misfire_grace_time": 3600, "coalesce": True}

Clock = Callable[[], datetime]


# ---- access to the service and clock ---------------------------------------------------------


def clock_of(application: Application) -> Clock:
    return application.bot_data.get(CLOCK_KEY) or (lambda: datetime.now(timezone.utc))


# ---- rendering ---------------------------------------------------------------------------------


def render_card(card: TipCard, lang: str, service: TipService, revealed: bool = True) -> tuple[Part, InlineKeyboardMarkup]:
    """The tip message (words from coach/tips/text.py) and its buttons."""
    blocks = card_blocks(card, lang, service, revealed)
    tags = {"b": "<b>{}</b>", "i": "<i>{}</i>", "": "{}"}
    part = Part(
        html="\n\n".join(tags[b.style].format(html.escape(b.text)) for b in blocks),
        plain="\n\n".join(b.text for b in blocks),
    )
    if card.tip.quiz is not None and not revealed:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(t("tips.button_reveal", lang), callback_data=f"{CB_REVEAL}{card.tip.id}")]])
    else:
        markup = InlineKeyboardMarkup([_buttons(card, lang)])
    return part, markup


def _buttons(card: TipCard, lang: str) -> list[InlineKeyboardButton]:
    row = []
    if card.scenario:
        row.append(InlineKeyboardButton(t("tips.button_practice", lang), callback_data=f"{PRACTICE_PREFIX}{card.scenario}"))
    row.append(InlineKeyboardButton(t("tips.button_next", lang), callback_data=f"{CB_NEXT}{card.tip.id}"))
    return row


# ---- scheduling ------------------------------------------------------------------------------


def job_id(user_id: int) -> str:
    return f"{JOB_PREFIX}{user_id}"


def schedule(job_queue: JobQueue, sub: "Subscription") -> None:
    """(Re)create this subscriber's daily job; the job id makes it replace any older one."""
    job_queue.run_daily(
        push_job,
        time=push_time(sub.at, sub.zone, sub.user_id),
        days=ptb_days(sub.weekdays_only),
        name=job_id(sub.user_id),
        chat_id=sub.chat_id,
        user_id=sub.user_id,
        job_kwargs={"id": job_id(sub.user_id), "replace_existing": True, **JOB_OPTIONS},
    )


def unschedule(job_queue: JobQueue, user_id: int) -> None:
    try:
        job_queue.scheduler.remove_job(job_id(user_id))
    except JobLookupError:
        pass


async def rebuild_jobs(application: Application) -> dict[str, int]:
    """Start-up hook: one job per active subscriber, then a single catch-up run for missed pushes."""
    service = services_of(application).tips
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required for daily tips"
    now = clock_of(application)()
    subs = await asyncio.to_thread(service.store.active)
    for sub in subs:
        schedule(job_queue, sub)
    sent = await asyncio.to_thread(service.store.daily_days_since, (now - timedelta(days=2)).date())
    missed = [sub.user_id for sub in subs if service.missed_today(sub, now, sent)]
    if missed:
        job_queue.run_once(catch_up_job, when=0, data=missed, name="tips:catch-up")
    report = {"scheduled": len(subs), "missed": len(missed)}
    application.bot_data[STARTUP_REPORT_KEY] = report
    logger.info("Daily tips: %d jobs scheduled, %d missed pushes to catch up", len(subs), len(missed))
    return report


async def push_job(context: CoachContext) -> None:
    """The daily job of one subscriber."""
    assert context.job is not None and context.job.user_id is not None
    await deliver_daily(context.application, context.job.user_id)


async def catch_up_job(context: CoachContext) -> None:
    """Send the pushes missed while the bot was down, a few at a time."""
    assert context.job is not None
    await catch_up(context.application, list(context.job.data or []))


async def catch_up(application: Application, user_ids: list[int]) -> dict[str, int]:
    gate = asyncio.Semaphore(CATCH_UP_CONCURRENCY)
    results: dict[str, int] = {}

    async def one(user_id: int) -> None:
        async with gate:
            outcome = await deliver_daily(application, user_id, catch_up=True)
            results[outcome] = results.get(outcome, 0) + 1

    await asyncio.gather(*(one(uid) for uid in user_ids))
    return results


async def deliver_daily(application: Application, user_id: int, catch_up: bool = False) -> str:
    """Claim today's slot and send the tip. Returns 'sent', 'duplicate', 'inactive', 'paused' or 'failed'."""
    service = services_of(application).tips
    services = services_of(application)
    now = clock_of(application)()
    sub = await asyncio.to_thread(service.store.get, user_id)
    if sub is None or not sub.active:
        unschedule(application.job_queue, user_id)
        return "inactive"
    if catch_up and not await asyncio.to_thread(service.missed_today, sub, now):
        return "duplicate"
    if await asyncio.to_thread(services.users.is_blocked, user_id):
        await asyncio.to_thread(service.store.pause, user_id, "blocked")
        unschedule(application.job_queue, user_id)
        return "paused"
    claimed = await asyncio.to_thread(service.claim_daily, sub, now)
    if claimed is None:
        return "duplicate"
    claim, card = claimed
    lang = await asyncio.to_thread(services.users.language, user_id)
    part, markup = await asyncio.to_thread(render_card, card, lang, service, card.tip.quiz is None)
    try:
        await send_with_retry(application.bot, sub.chat_id, part, markup)
    except Forbidden:
        await asyncio.to_thread(service.release, claim)
        await asyncio.to_thread(service.store.pause, user_id, "blocked")
        await asyncio.to_thread(services.users.mark_blocked, user_id)
        unschedule(application.job_queue, user_id)
        logger.info("User %s blocked the bot; daily tips paused", user_id)
        return "paused"
    except BadRequest as exc:
        await asyncio.to_thread(service.release, claim)
        if "chat not found" in exc.message.lower():
            await asyncio.to_thread(service.store.pause, user_id, "chat_not_found")
            unschedule(application.job_queue, user_id)
            return "paused"
        logger.warning("Daily tip to %s refused: %s", user_id, exc.message)
        return "failed"
    except NetworkError as exc:  # includes TimedOut
        if never_reached(exc):
            await asyncio.to_thread(service.release, claim)
        else:  # the request may have reached Telegram: keep the claim rather than risk a duplicate
            logger.warning("Daily tip to %s may not have arrived (%s); not resent to avoid a duplicate", user_id, exc)
        return "failed"
    except TelegramError as exc:  # RetryAfter after all attempts, or anything else Telegram refused
        await asyncio.to_thread(service.release, claim)
        logger.warning("Daily tip to %s not sent: %s", user_id, exc)
        return "failed"
    return "sent"


def never_reached(exc: NetworkError) -> bool:
    """True when the request certainly did not reach Telegram (the connection was never made)."""
    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))


async def send_with_retry(bot: ExtBot, chat_id: int, part: Part, markup: InlineKeyboardMarkup) -> Message:
    """Send once; flood control is waited out by the rate limiter (more patiently than for answers),
    failed connections are retried here — never a request that may have arrived."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send_part(bot, chat_id, part, markup, flood_retries=PUSH_FLOOD_RETRIES)
        except NetworkError as exc:
            if isinstance(exc, (BadRequest, RetryAfter)) or not never_reached(exc) or attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(2 * attempt)
    raise AssertionError("unreachable")


# ---- handlers --------------------------------------------------------------------------------


async def _send_card(update: Update, context: CoachContext, card: TipCard | None, lang: str) -> None:
    message = update.effective_message
    assert message is not None
    if card is None:
        await message.reply_text(t("tips.bank_empty", lang))
        return
    service = context.services.tips
    part, markup = await asyncio.to_thread(render_card, card, lang, service, card.tip.quiz is None)
    await send_part(context.bot, message.chat_id, part, markup)


async def cmd_subscribe(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    service = context.services.tips
    cities = await asyncio.to_thread(service.cities)
    try:
        setting = parse_push_setting(list(context.args or []), cities)
    except BadTime as exc:
        await message.reply_text(t("tips.bad_time", lang, text=exc.text))
        return
    except BadZone as exc:
        await message.reply_text(t("tips.bad_zone", lang, text=exc.text))
        return
    now = clock_of(context.application)()
    sub = await asyncio.to_thread(service.store.subscribe, user.id, chat.id, setting.at, setting.zone, now)
    schedule(context.application.job_queue, sub)
    await message.reply_text(subscribed_text(sub, now, lang))


async def cmd_unsubscribe(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    service = context.services.tips
    stopped = await asyncio.to_thread(service.store.unsubscribe, user.id)
    unschedule(context.application.job_queue, user.id)
    await message.reply_text(t("tips.unsubscribed" if stopped else "tips.not_subscribed", lang))


async def cmd_tip(update: Update, context: CoachContext) -> None:
    lang = await context.language()
    user = update.effective_user
    assert user is not None
    service = context.services.tips
    card = await asyncio.to_thread(service.give_now, user.id, clock_of(context.application)())
    await _send_card(update, context, card, lang)


async def on_button(update: Update, context: CoachContext) -> None:
    """tips:next:<id>, tips:reveal:<id>, tips:weekdays, tips:subscribe."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and query.data is not None and user is not None
    lang = await context.language()
    service = context.services.tips
    now = clock_of(context.application)()
    data = query.data
    if data.startswith(CB_NEXT):
        await query.answer()
        card = await asyncio.to_thread(service.give_now, user.id, now, [data[len(CB_NEXT):]])
        await _send_card(update, context, card, lang)
    elif data.startswith(CB_REVEAL):
        card = await asyncio.to_thread(service.card_for, data[len(CB_REVEAL):])
        if card is None:
            await query.answer(t("tips.tip_gone", lang), show_alert=True)
            return
        await query.answer()
        part, markup = await asyncio.to_thread(render_card, card, lang, service, True)
        if isinstance(query.message, Message):
            await edit_part(context.bot, query.message, part, markup)
        else:
            await _send_card(update, context, card, lang)
    elif data == CB_WEEKDAYS:
        await _toggle_weekdays(update, context, lang, now)
    elif data == CB_SUBSCRIBE:
        await query.answer()
        await _subscribe_default(update, context, lang, now)
    else:
        await query.answer()


async def _toggle_weekdays(update: Update, context: CoachContext, lang: str, now: datetime) -> None:
    query, user, message = update.callback_query, update.effective_user, update.effective_message
    assert query is not None and user is not None and message is not None
    service = context.services.tips
    sub = await asyncio.to_thread(service.store.toggle_weekdays, user.id)
    if sub is None or not sub.active:
        await query.answer(t("tips.weekdays_need_subscription", lang), show_alert=True)
        return
    schedule(context.application.job_queue, sub)
    key = "tips.weekdays_on" if sub.weekdays_only else "tips.weekdays_off"
    text = t(key, lang, time=f"{sub.at.hour:02d}:{sub.at.minute:02d}", zone=sub.zone)
    await query.answer(text)
    await message.reply_text(text)


async def _subscribe_default(update: Update, context: CoachContext, lang: str, now: datetime) -> None:
    """The /start button: keep an existing subscription's time, else 09:00 Asia/Shanghai."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None and message is not None
    service = context.services.tips
    existing = await asyncio.to_thread(service.store.get, user.id)
    if existing is not None and existing.active:
        sub = existing
    else:
        at, zone = (existing.at, existing.zone) if existing else (DEFAULT_TIME, DEFAULT_ZONE)
        sub = await asyncio.to_thread(service.store.subscribe, user.id, chat.id, at, zone, now)
        schedule(context.application.job_queue, sub)
    await message.reply_text(subscribed_text(sub, now, lang))


# ---- wiring ----------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Handlers, menu entries and the start-up hook that rebuilds the jobs."""
    application.add_handler(CommandHandler("subscribe", cmd_subscribe))
    application.add_handler(CommandHandler("unsubscribe", cmd_unsubscribe))
    application.add_handler(CommandHandler("tip", cmd_tip))
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{CB_PREFIX}"))
    add_menu_command(application, "tip", "tips.cmd_tip")
    add_menu_command(application, "subscribe", "tips.cmd_subscribe")
    add_menu_command(application, "unsubscribe", "tips.cmd_unsubscribe")
    add_startup_hook(application, rebuild_jobs)
