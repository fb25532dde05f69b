"""Role-play practice on Telegram: /practice, the conversation with the simulated customer, /end, /progress.

Flow: /practice → topics (inline keyboard) → scenarios of a topic, easiest first
→ the brief with a "开始" button → the conversation → /end or a natural end →
the score card with "再练一次". Why it is built this way:
* One PTB `ConversationHandler`, named and `persistent=True`, so the state
  survives a restart; the practice session itself (transcript + hidden
  customer state) is plain data in `user_data`, which the same persistence
  keeps. A restart in the middle of a scenario resumes at the next message.
* The customer's turn can be slow (LLM), so that handler is `block=False`;
  messages that arrive meanwhile land in the WAITING state and get a short
  "one moment" instead of reaching the Q&A handler. Handlers return the next
  state before the rep sees any result (replies, the score card) — those are
  sent by tasks scheduled on the way out — so nothing the rep sends after
  reading a reply can meet a conversation that is still "pending".
* Handlers only translate updates into `PracticeService` calls and render its
  results (bot/coach/practice/text.py); scoring and the customer live in bot/coach/.
Callback data: practice:start (menu), practice:start:<id> (daily tips),
practice:topic:<n>, practice:pick:<id>, practice:go:<id>, practice:again:<id>,
practice:topics.
"""

from __future__ import annotations

import asyncio
import html
import logging
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.coach.practice.chart import ChartTexts, SkillPoint, render_progress
from bot.coach.practice.scenarios import Scenario
from bot.coach.practice.scoring import ScoreCard
from bot.coach.practice.session import PracticeService, PracticeSession
from bot.coach.practice.text import brief_text, card_text, outcome_text
from bot.coach.voice import spoken_turns_text
from bot.llm.prompts import t
from bot.telegram.context import CoachContext, add_menu_command, services_of
from bot.telegram.delivery import edit_part, send_part
from bot.telegram.render import PART_LIMIT, Part, render_plain, tg_len
from bot.telegram.voice import VOICE, hear_message

logger = logging.getLogger(__name__)

CONVERSATION_NAME = "practice"
CHOOSING, BRIEFING, TALKING = range(3)
SESSION_PREFIX = "practice:"  # user_data key: practice:<chat id>
STALE_AFTER = timedelta(hours=6)

CB = "practice:"
MENU_PATTERN = r"^practice:(start|topics|topic:\d+|(start|pick|go|again):[a-z0-9_-]+)$"


# ---- services --------------------------------------------------------------------------------


async def practice_of(application: Application) -> PracticeService:
    """The role-play service from Services (the first use reads the scenario files: in a thread)."""
    services = services_of(application)
    return await asyncio.to_thread(lambda: services.practice)


def _session_key(chat_id: int) -> str:
    return f"{SESSION_PREFIX}{chat_id}"


def _load_session(context: CoachContext, chat_id: int) -> PracticeSession | None:
    raw = context.user_data.get(_session_key(chat_id)) if context.user_data is not None else None
    if not raw:
        return None
    try:
        return PracticeSession.from_dict(raw)
    except (ValueError, KeyError, TypeError):
        return None


async def _save_session(context: CoachContext, chat_id: int, user_id: int, session: PracticeSession) -> None:
    """Keep the session in user_data and write it to the database before the rep sees the reply.

    PTB flushes persistence every few seconds; a crash in between used to lose the
    last turns from the scored transcript. PTB marks a user's data for writing only
    once the handler has returned, so the flush here marks it itself: otherwise the
    write waits for the next periodic flush whenever one ran since the last update.
    """
    data = session.to_dict()
    data["last_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    context.user_data[_session_key(chat_id)] = data
    if context.application.persistence is not None:
        context.application.mark_data_for_update_persistence(user_ids=user_id)
        await context.application.update_persistence()


def _drop_session(context: CoachContext, chat_id: int) -> None:
    if context.user_data is not None:
        context.user_data.pop(_session_key(chat_id), None)


def _is_stale(context: CoachContext, chat_id: int) -> bool:
    raw = (context.user_data or {}).get(_session_key(chat_id)) or {}
    try:
        last = datetime.fromisoformat(raw.get("last_at") or raw.get("started_at") or "")
    except ValueError:
        return False
    return datetime.now(timezone.utc) - last > STALE_AFTER


# ---- rendering -------------------------------------------------------------------------------


def topics_view(service: PracticeService, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    topics = list(service.catalog.by_topic())
    rows = [[InlineKeyboardButton(topic, callback_data=f"{CB}topic:{i}")] for i, topic in enumerate(topics)]
    return t("practice.choose_topic", lang), InlineKeyboardMarkup(rows)


def scenarios_view(service: PracticeService, index: int, lang: str) -> tuple[str, InlineKeyboardMarkup] | None:
    topics = list(service.catalog.by_topic().items())
    if not 0 <= index < len(topics):
        return None
    topic, scenarios = topics[index]
    rows = [
        [InlineKeyboardButton(t("practice.scenario_button", lang, difficulty=s.difficulty, title=s.title), callback_data=f"{CB}pick:{s.id}")]
        for s in scenarios
    ]
    rows.append([InlineKeyboardButton(t("practice.back_button", lang), callback_data=f"{CB}topics")])
    return t("practice.choose_scenario", lang, topic=topic), InlineKeyboardMarkup(rows)


def brief_part(scenario: Scenario, lang: str) -> Part:
    plain = brief_text(scenario, lang) + "\n\n" + t("practice.how_to_telegram", lang)
    rich = brief_text(scenario, lang, esc=html.escape) + "\n\n<i>" + html.escape(t("practice.how_to_telegram", lang)) + "</i>"
    return Part(html=rich, plain=plain)


def brief_keyboard(scenario: Scenario, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(t("practice.start_button", lang), callback_data=f"{CB}go:{scenario.id}"),
            InlineKeyboardButton(t("practice.back_button", lang), callback_data=f"{CB}topics"),
        ]]
    )


def customer_part(scenario: Scenario, text: str, lang: str) -> Part:
    name = scenario.persona.name
    return Part(
        html=t("practice.customer_line", lang, name=f"<b>{html.escape(name)}</b>", text=html.escape(text)),
        plain=t("practice.customer_line", lang, name=name, text=text),
    )


def card_parts(card: ScoreCard, lang: str, session: PracticeSession) -> list[Part]:
    lines = [outcome_text(session.state.outcome, lang)]
    lines += [t(f"practice.notice_{n}", lang) for n in session.notices]
    if session.state.compliance_failed:
        lines.append(t("practice.notice_compliance_failed", lang))
    lines.append(spoken_turns_text(session.spoken, lang))
    head = "\n".join(x for x in lines if x)
    plain = f"{head}\n\n{card_text(card, lang)}"
    rich = f"<i>{html.escape(head)}</i>\n\n" + card_text(card, lang, esc=html.escape, bold=lambda s: f"<b>{s}</b>")
    if tg_len(rich) <= PART_LIMIT:
        return [Part(html=rich, plain=plain)]
    return render_plain(plain)


def card_keyboard(scenario_id: str, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(t("practice.retry_button", lang), callback_data=f"{CB}again:{scenario_id}"),
            InlineKeyboardButton(t("practice.other_button", lang), callback_data=f"{CB}start"),
        ]]
    )


# ---- entry: choosing a scenario -----------------------------------------------------------------


async def cmd_practice(update: Update, context: CoachContext) -> int:
    """/practice [id]: the topics keyboard, or straight to a scenario's brief."""
    lang = await context.language()
    message = update.effective_message
    assert message is not None
    service = await practice_of(context.application)
    if context.args:
        scenario = service.catalog.get(context.args[0])
        if scenario is not None:
            await send_part(context.bot, message.chat_id, brief_part(scenario, lang), brief_keyboard(scenario, lang))
            return BRIEFING
    if not service.catalog.scenarios:
        await message.reply_text(t("practice.list_empty", lang))
        return ConversationHandler.END
    text, markup = topics_view(service, lang)
    await message.reply_text(text, reply_markup=markup)
    return CHOOSING


async def on_menu(update: Update, context: CoachContext) -> int:
    """Every menu button: topics, a topic's scenarios, a scenario's brief, start, practise again."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    lang = await context.language()
    service = await practice_of(context.application)
    action, _, arg = query.data[len(CB):].partition(":")
    message = query.message if isinstance(query.message, Message) else None
    chat_id = update.effective_chat.id if update.effective_chat else query.from_user.id

    async def show(text: str | Part, markup: InlineKeyboardMarkup) -> None:
        part = text if isinstance(text, Part) else Part(html=html.escape(text), plain=text)
        if message is not None and action in {"topics", "topic", "pick"}:
            await edit_part(context.bot, message, part, markup)
        else:
            await send_part(context.bot, chat_id, part, markup)

    if action in {"start", "topics"} and not arg:
        text, markup = topics_view(service, lang)
        await show(text, markup)
        return CHOOSING
    if action == "topic":
        view = scenarios_view(service, int(arg), lang)
        if view is None:
            view = topics_view(service, lang)
        await show(*view)
        return CHOOSING
    scenario = service.catalog.get(arg)
    if scenario is None:
        await context.bot.send_message(chat_id, t("practice.scenario_gone", lang))
        return ConversationHandler.END
    if action in {"pick", "start"}:
        await show(brief_part(scenario, lang), brief_keyboard(scenario, lang))
        return BRIEFING
    # go / again: start the conversation
    if message is not None and action == "go":
        await _quietly(query.edit_message_reply_markup(reply_markup=None))
    return await _begin(context, chat_id, query.from_user.id, service, scenario, lang)


async def _begin(
    context: CoachContext, chat_id: int, user_id: int, service: PracticeService, scenario: Scenario, lang: str
) -> int:
    # The first start of a scenario resolves its citations and embeds its reference lines: keep it off the loop.
    session = await asyncio.to_thread(service.start, scenario.id)
    await _save_session(context, chat_id, user_id, session)
    mode = t(f"practice.mode_{session.mode}", lang)
    await context.bot.send_message(chat_id, mode)
    await send_part(context.bot, chat_id, customer_part(scenario, scenario.opening, lang))
    return TALKING


# ---- the conversation ----------------------------------------------------------------------


async def on_turn(update: Update, context: CoachContext) -> int:
    """The rep typed something: the customer answers; a natural end leads to the score card."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _take_turn(update, context, message.text)


async def on_voice_turn(update: Update, context: CoachContext) -> int:
    """The rep spoke: the note is transcribed (with the scenario's names as glossary), shown as
    "🎙 听到：…", and the words are the rep's turn — reacted to and scored exactly like typed text."""
    message = update.effective_message
    assert message is not None
    session = _load_session(context, message.chat_id)
    terms: list[str] = []
    if session is not None:
        service = await practice_of(context.application)
        terms = service.speech_terms(session.scenario_id)
    text = await hear_message(context, message, terms)
    if not text:
        return TALKING  # the rep was told why (nothing heard, too long…); the turn is still theirs
    return await _take_turn(update, context, text, spoken=True)


async def _take_turn(update: Update, context: CoachContext, text: str, spoken: bool = False) -> int:
    """One turn of the rep (typed or spoken).

    The next state is decided and returned before the rep sees anything: replies are
    delivered by a task scheduled on the way out, so a message the rep sends after
    reading the reply can never meet this turn still "pending".
    """
    message = update.effective_message
    assert message is not None
    chat_id = message.chat_id
    lang = await context.language()
    app = context.application
    if _is_stale(context, chat_id):
        _drop_session(context, chat_id)
        app.create_task(message.reply_text(t("practice.expired", lang)), update=update)
        return ConversationHandler.END
    service = await practice_of(app)
    session = _load_session(context, chat_id)
    scenario = service.catalog.get(session.scenario_id) if session else None
    if session is None or scenario is None:
        _drop_session(context, chat_id)
        app.create_task(message.reply_text(t("practice.scenario_gone", lang)), update=update)
        return ConversationHandler.END
    await _quietly(context.bot.send_chat_action(chat_id, ChatAction.TYPING))
    try:
        turn = await service.reply(session, text, spoken=spoken)
    except ValueError:
        app.create_task(message.reply_text(t("practice.empty_turn", lang)), update=update)
        return TALKING
    except Exception:
        logger.exception("Practice turn failed for chat %s", chat_id)
        app.create_task(message.reply_text(t("practice.failed", lang)), update=update)
        return TALKING
    line = customer_part(scenario, turn.text, lang)
    if turn.ended:
        _drop_session(context, chat_id)
        app.create_task(_conclude(context, chat_id, _user_id(update, chat_id), service, session, lang, line), update=update)
        return ConversationHandler.END
    await _save_session(context, chat_id, _user_id(update, chat_id), session)
    app.create_task(send_part(context.bot, chat_id, line), update=update)
    return TALKING


def _user_id(update: Update, chat_id: int) -> int:
    return update.effective_user.id if update.effective_user else chat_id


def _chat_id(update: Update) -> int | None:
    """Where to answer: the update's chat, else the user's private chat; None when there is neither."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


async def on_end(update: Update, context: CoachContext) -> int:
    """/end: the conversation ends now; the score card follows from a task."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return ConversationHandler.END
    lang = await context.language()
    service = await practice_of(context.application)
    session = _load_session(context, chat_id)
    _drop_session(context, chat_id)
    if session is None or service.catalog.get(session.scenario_id) is None:
        await context.bot.send_message(chat_id, t("practice.scenario_gone", lang))
        return ConversationHandler.END
    context.application.create_task(_conclude(context, chat_id, _user_id(update, chat_id), service, session, lang), update=update)
    return ConversationHandler.END


async def _conclude(
    context: CoachContext,
    chat_id: int,
    user_id: int,
    service: PracticeService,
    session: PracticeSession,
    lang: str,
    last_line: Part | None = None,
) -> None:
    """After the conversation ended: the customer's last line, then scoring, storing and the score card."""
    if last_line is not None:
        await send_part(context.bot, chat_id, last_line)
    if not session.rep_turns:
        await context.bot.send_message(chat_id, t("practice.no_turns", lang))
        return
    waiting = await context.bot.send_message(chat_id, t("practice.scoring", lang))
    try:
        card = await service.finish(session)
        await asyncio.to_thread(context.services.practice_records.save, user_id, card, session.transcript)
    except Exception:
        logger.exception("Scoring failed for chat %s", chat_id)
        failed = t("practice.failed", lang)
        await edit_part(context.bot, waiting, Part(html=html.escape(failed), plain=failed))
        return
    parts = card_parts(card, lang, session)
    markup = card_keyboard(session.scenario_id, lang)
    await edit_part(context.bot, waiting, parts[0], markup if len(parts) == 1 else None)
    for i, part in enumerate(parts[1:], start=2):
        await send_part(context.bot, chat_id, part, markup if i == len(parts) else None)


async def on_cancel(update: Update, context: CoachContext) -> int:
    chat_id = _chat_id(update)
    if chat_id is None:
        return ConversationHandler.END
    _drop_session(context, chat_id)
    await context.bot.send_message(chat_id, t("practice.cancelled", await context.language()))
    return ConversationHandler.END


async def on_not_text(update: Update, context: CoachContext) -> int:
    message = update.effective_message
    if message is not None:
        await message.reply_text(t("practice.text_only", await context.language()))
    return TALKING


async def on_waiting(update: Update, context: CoachContext) -> None:
    """A message while the customer is still answering: say so, and do not let it become a question."""
    lang = await context.language()
    if update.callback_query is not None:
        await _quietly(update.callback_query.answer(t("practice.thinking", lang)))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t("practice.thinking", lang))


async def on_busy(update: Update, context: CoachContext) -> int | None:
    """/practice or a menu button while a scenario is running: remind, keep the conversation."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return None
    lang = await context.language()
    if update.callback_query is not None:
        await _quietly(update.callback_query.answer())
    session = _load_session(context, chat_id)
    service = await practice_of(context.application)
    scenario = service.catalog.get(session.scenario_id) if session else None
    if scenario is None:
        return await cmd_practice(update, context) if update.callback_query is None else None
    await context.bot.send_message(chat_id, t("practice.already_running", lang, title=scenario.title))
    return None


async def _quietly(call: Any) -> None:
    try:
        await call
    except TelegramError as exc:
        logger.debug("Ignored Telegram error: %s", exc)


# ---- /progress -------------------------------------------------------------------------------


async def cmd_progress(update: Update, context: CoachContext) -> None:
    """Scores over time per criterion, as text and as a chart."""
    message = update.effective_message
    assert message is not None
    lang = await context.language()
    user_id = _user_id(update, message.chat_id)
    store = context.services.practice_records
    history = await asyncio.to_thread(store.criterion_history, user_id)
    totals = await asyncio.to_thread(store.totals, user_id)
    if not totals:
        await message.reply_text(t("practice.progress_empty", lang))
        return
    service = await practice_of(context.application)
    skills, text = progress_summary(history, totals, service, lang)
    await message.reply_text(text)
    texts = ChartTexts(
        radar_title=t("practice.chart_title_radar", lang),
        trend_title=t("practice.chart_title_trend", lang),
        first=t("practice.chart_legend_first", lang),
        latest=t("practice.chart_legend_latest", lang),
        axis_session=t("practice.chart_axis_session", lang),
        axis_score=t("practice.chart_axis_score", lang),
    )
    png = await asyncio.to_thread(render_progress, skills, [s.total for s in totals], texts)
    await context.bot.send_photo(message.chat_id, png, caption=t("practice.progress_chart_caption", lang))


def progress_summary(history: list, totals: list, service: PracticeService, lang: str) -> tuple[list[SkillPoint], str]:
    """First and latest score per criterion (in order of first practice) and the text summary."""
    per: dict[str, list[float]] = {}
    for score in history:
        per.setdefault(score.criterion_id, []).append(score.score_pct)
    skills = [SkillPoint(service.catalog.criterion_name(cid, lang), v[0], v[-1]) for cid, v in per.items()]
    lines = [t("practice.progress_heading", lang, sessions=len(totals), last=totals[-1].total, best=max(s.total for s in totals))]
    lines.append(t("practice.progress_criteria_heading", lang))
    for skill, values in zip(skills, per.values()):
        trend = " ↑" if skill.latest > skill.first else " ↓" if skill.latest < skill.first else ""
        lines.append(t("practice.progress_line", lang, name=skill.name, first=round(skill.first), latest=round(skill.latest), trend=trend, count=len(values)))
    weakest = min(skills, key=lambda s: s.latest)
    lines.append(t("practice.progress_weakest", lang, name=weakest.name))
    return skills, "\n".join(lines)


# ---- wiring ----------------------------------------------------------------------------------


def build_conversation() -> ConversationHandler:
    menu = CallbackQueryHandler(on_menu, pattern=MENU_PATTERN)
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is intended: the conversation is per user and chat.
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(
            entry_points=[CommandHandler("practice", cmd_practice), menu],
            states={
                CHOOSING: [menu],
                BRIEFING: [menu],
                TALKING: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_turn, block=False),
                    MessageHandler(VOICE, on_voice_turn, block=False),
                    CommandHandler("end", on_end),
                    CommandHandler("cancel", on_cancel),
                    CallbackQueryHandler(on_busy, pattern=r"^practice:"),
                    MessageHandler(~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_not_text),
                ],
                ConversationHandler.WAITING: [
                    MessageHandler(filters.ALL, on_waiting),
                    CallbackQueryHandler(on_waiting, pattern=r"^practice:"),
                ],
            },
            fallbacks=[CommandHandler("practice", on_busy), CommandHandler("cancel", on_cancel)],
            name=CONVERSATION_NAME,
            persistent=True,
            allow_reentry=False,
        )


def register(application: Application) -> None:
    application.add_handler(build_conversation())
    application.add_handler(CommandHandler("progress", cmd_progress))
    add_menu_command(application, "practice", "practice.cmd_practice")
    add_menu_command(application, "progress", "practice.cmd_progress")
