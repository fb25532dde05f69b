"""Wiring only: builds the PTB `Application` from `Services`. No behaviour lives here.

How the pieces fit (for everyone adding Telegram features):

* Handlers receive `(update: Update, context: CoachContext)`; `CoachContext`
  (bot/telegram/context.py) gives typed access: `context.services` (settings,
  every store and service, built once by `Services`), `context.settings`, `await context.language()`,
  `context.is_admin()`.
* A feature module exposes `register(application)` and adds its handlers
  there; it may call `add_startup_hook` (e.g. rebuild JobQueue jobs — jobs are
  not persisted), `add_shutdown_hook` and `add_menu_command` from
  bot.telegram.context. Admin-only handlers use `bot.telegram.access.admin_only`.
* Access control is done once, before any handler, by the gate in group −1
  (bot/telegram/access.py). Errors go to one handler (bot/telegram/errors.py).
* Order matters inside group 0 (`HANDLER_MODULES`): core commands, then the
  features (`practice`, `tips`, `manager`), voice notes (bot/telegram/voice.py), then the catch-alls: any remaining text is a
  question (bot/telegram/questions.py) and anything else gets a friendly hint
  (bot/telegram/fallbacks.py). So a role-play ConversationHandler waiting for
  the rep's reply sees the text before the question handler does.
* Persistence: `SqlitePersistence` (bot/telegram/persistence.py) on the same
  SQLite database keeps ConversationHandler states, user_data and chat_data
  across restarts (name your ConversationHandler and pass `persistent=True`).
  `bot_data` is not persisted: it holds the live services.
* Sends go through `AIORateLimiter` (flood limits, RetryAfter retried twice).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.llm.prompts import t
from bot.services import Services
from bot.telegram import access, admin, commands, errors, fallbacks, feedback, hints, manager, practice, questions, tips, voice
from bot.telegram.context import (
    ADMIN_MENU_COMMANDS_KEY,
    MENU_COMMANDS_KEY,
    SERVICES_KEY,
    SHUTDOWN_HOOKS_KEY,
    STARTUP_HOOKS_KEY,
    CoachContext,
)
from bot.telegram.logs import quiet_http_loggers
from bot.telegram.persistence import SqlitePersistence

logger = logging.getLogger(__name__)

# Registration order matters inside group 0: core commands, then the features, then the catch-alls.
HANDLER_MODULES = (
    access,
    errors,
    commands,
    feedback,
    admin,
    practice,
    tips,
    manager,
    hints,
    voice,  # a voice note outside role-play is a question (heard, shown, then answered)
    questions,  # any remaining text is a question
    fallbacks,  # anything else gets a friendly hint
)
RATE_LIMIT_RETRIES = 2


def build_application(services: Services) -> Application:
    """The configured Application; start it with run_polling/run_webhook (or manually in tests)."""
    settings = services.settings
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN 未设置，无法启动 Telegram 机器人")
    quiet_http_loggers()
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .context_types(ContextTypes(context=CoachContext))
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .persistence(SqlitePersistence(services.db))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    for module in HANDLER_MODULES:
        module.register(application)
    return application


async def _post_init(application: Application) -> None:
    """Register the command menu and run the feature modules' start-up hooks."""
    await set_command_menu(application)
    for hook in application.bot_data.get(STARTUP_HOOKS_KEY, []):
        try:
            await hook(application)
        except Exception:
            logger.exception("Start-up hook %s failed", getattr(hook, "__qualname__", hook))


async def _post_shutdown(application: Application) -> None:
    for hook in application.bot_data.get(SHUTDOWN_HOOKS_KEY, []):
        try:
            await hook(application)
        except Exception:
            logger.exception("Shutdown hook %s failed", getattr(hook, "__qualname__", hook))


def _menu(entries: list[tuple[str, str]], lang: str) -> list[BotCommand]:
    return [BotCommand(command, t(key, lang)) for command, key in entries]


async def set_command_menu(application: Application) -> None:
    """Telegram's "/" menu in Chinese (default) and English; admins also see admin commands.

    A failure here is logged, never fatal: the bot works without a menu.
    """
    public = application.bot_data.get(MENU_COMMANDS_KEY, [])
    admin = application.bot_data.get(ADMIN_MENU_COMMANDS_KEY, [])
    bot = application.bot
    try:
        await bot.set_my_commands(_menu(public, "zh"))
        await bot.set_my_commands(_menu(public, "en"), language_code="en")
    except TelegramError as exc:
        logger.warning("Could not register the command menu: %s", exc)
        return
    settings = application.bot_data[SERVICES_KEY].settings
    for admin_id in sorted(settings.admin_user_ids):
        try:
            await bot.set_my_commands(_menu(public + admin, "zh"), scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:  # e.g. the admin has not opened a chat with the bot yet
            logger.info("Admin menu not set for %s: %s", admin_id, exc)
