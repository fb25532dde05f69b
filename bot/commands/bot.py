"""`salescoach bot`: run the Telegram bot — long polling, or a webhook when WEBHOOK_URL is set.

Without TELEGRAM_BOT_TOKEN it explains what to set and exits non-zero (the
terminal chat, `salescoach chat`, needs no Telegram). Before going online it
makes sure the knowledge index exists and is warm, so the first rep does not
wait for the embedding model to load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import secrets
import sys
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.llm.prompts import t
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger("bot.commands.bot")

_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bot", help="启动 Telegram 机器人（长轮询；设置 WEBHOOK_URL 时用 webhook）")
    parser.set_defaults(func=run, verbose=True)  # a service logs at LOG_LEVEL by default


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.language
    if not settings.telegram_bot_token:
        print(t("bot.cli_no_token", lang), file=sys.stderr)
        return 2
    if settings.webhook_url and settings.webhook_secret and not _SECRET_OK.match(settings.webhook_secret):
        print(t("bot.cli_secret_invalid", lang), file=sys.stderr)
        return 2

    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.commands.progress import ensure_index
    from bot.services import Services
    from bot.telegram.app import build_application
    from bot.telegram.logs import install_token_redaction

    install_token_redaction(settings.telegram_bot_token)
    logger.info("Settings: %s", ", ".join(f"{k}={v}" for k, v in settings.describe().items()))
    services = Services.build(settings)
    try:
        services.material.claim()  # the bot owns the embedded store while it runs (CLI changes are refused)
        ensure_index(services, lang)
        _warm_up(services, lang)
        application = build_application(services)
        try:
            if settings.webhook_url:
                _run_webhook(application, settings, Update.ALL_TYPES)
            else:
                print(t("bot.cli_starting_polling", lang), file=sys.stderr, flush=True)
                application.run_polling(allowed_updates=Update.ALL_TYPES)
        except InvalidToken:
            print(t("bot.cli_bad_token", lang), file=sys.stderr)
            return 2
        except NetworkError as exc:
            url = settings.telegram_api_base_url or "https://api.telegram.org"
            print(t("bot.cli_network", lang, url=url, error=exc), file=sys.stderr)
            return 1
        except (TelegramError, KeyError) as exc:  # an answer that is not the Bot API's (no "result", not JSON)
            if isinstance(exc, KeyError) and exc.args != ("result",):
                raise
            url = settings.telegram_api_base_url or "https://api.telegram.org"
            logger.debug("Not a Bot API answer from %s", url, exc_info=True)
            print(t("bot.cli_not_bot_api", lang, url=url), file=sys.stderr)
            return 2
    finally:
        services.close()
    return 0


def _warm_up(services: "Services", lang: str) -> None:
    """Load modules, models and indexes now, so the first rep does not wait for them.

    Offline, one full answer is produced; with an LLM only retrieval is warmed
    (never spend tokens on a warm-up).
    """
    from bot.tokens import count_tokens

    question = t("bot.warm_up_question", lang)

    async def one_answer() -> None:
        async for _ in services.answers.stream(question, [], lang):
            pass

    started = time.perf_counter()
    try:
        count_tokens(question)
        services.answers  # noqa: B018 - imports the answer service and its client
        if services.settings.llm_enabled:
            services.knowledge.search(question, k=1)
        else:
            asyncio.run(one_answer())
    except Exception:  # answers will report the problem; start anyway
        logger.exception("Warm-up failed")
        return
    logger.info("Ready to answer (warm-up %.1f s)", time.perf_counter() - started)


def _run_webhook(application: object, settings: Settings, allowed_updates: list[str]) -> None:
    lang = settings.language
    secret = settings.webhook_secret
    if not secret:
        secret = secrets.token_urlsafe(32)
        print(t("bot.cli_secret_generated", lang), file=sys.stderr)
    url_path = urlsplit(settings.webhook_url).path.lstrip("/")
    print(
        t("bot.cli_starting_webhook", lang, url=settings.webhook_url, listen=settings.webhook_listen, port=settings.webhook_port),
        file=sys.stderr,
        flush=True,
    )
    application.run_webhook(  # type: ignore[attr-defined]
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=url_path,
        webhook_url=settings.webhook_url,
        secret_token=secret,
        allowed_updates=allowed_updates,
    )
