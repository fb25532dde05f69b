"""Pytest fixtures and a harness for end-to-end Telegram tests (shared by every Telegram feature).

The harness runs the REAL `Application` from `bot.telegram.app.build_application`
— polling over HTTP, rate limiter, persistence — against the fake Bot API server
in tests/fakes/telegram_server.py. Use it from a test module::

    from tests.telegram_fixtures import bot, telegram_server  # noqa: F401  (pytest fixtures)

    async def test_something(bot):
        bot.server.send_command(42, "/start")
        [welcome] = await bot.server.wait_for_messages(42)
        final = await bot.ask(42, "客户收了礼为什么关系没提升？")   # -> the answer's BotMessages
        await bot.restart()                                         # same data dir, new Application

Fixtures:
    telegram_server   a started FakeTelegramServer (stopped after the test)
    bot_settings      the `settings` fixture pointed at the fake server, with its own data dir
    bot               a started BotHarness (real Application, real knowledge base, offline answers)

Helpers: `harness.ask(user_id, text)` / `harness.wait_answer(chat_id, before_ids)` return the
messages of one answer once its last part (with 👍/👎) arrived; `gather_answers(harness,
{user_id: text})` sends several questions at once; `is_final_answer(message)`.
`bot.telegram.context.services_of(harness.application)` reaches every store and service.

Voice notes: the harness's recogniser is the "speech extra not installed" stand-in unless a test passes
the session's loaded one: `BotHarness(server, settings, knowledge_base, speech=speech)` (tests/conftest.py).

To customise (admins, allow-list, LLM, limits) build a harness yourself::

    harness = BotHarness(server, replace(bot_settings, admin_user_ids=frozenset({1})), knowledge_base)
    await harness.start(); ...; await harness.stop()

Needs the `settings` and `knowledge_base` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.services import Services
from bot.settings import Settings
from bot.speech.builtin import INSTALL_HINT
from bot.speech.recognizer import UnavailableRecognizer
from bot.telegram.app import build_application
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer

POLL_TIMEOUT_S = 5  # long-poll timeout the bot asks for; stopping does not wait for it
FEEDBACK_PREFIX = "fb:"


def is_final_answer(message: BotMessage) -> bool:
    """An answer is final when its last part carries the 👍/👎 buttons."""
    return any(data.startswith(FEEDBACK_PREFIX) for _, data in message.buttons)


class BotHarness:
    """One bot process: the Application plus its Services, started and stopped like `salescoach bot`."""

    def __init__(
        self, server: FakeTelegramServer, settings: Settings, knowledge: Any | None = None, speech: Any | None = None
    ) -> None:
        self.server = server
        self.settings = settings
        self.knowledge = knowledge
        # Voice notes: the session's loaded recogniser (the `speech` fixture) when a test passes it; otherwise the
        # stand-in of an install without the speech extra, so no test loads the model by accident.
        self.speech = speech if speech is not None else UnavailableRecognizer(INSTALL_HINT)
        self.services: Services | None = None
        self.application: Any = None

    async def start(self) -> "BotHarness":
        services = Services.build(self.settings)
        if self.knowledge is not None:
            services.knowledge = self.knowledge  # share the session's ingested knowledge base
        services.__dict__["speech"] = self.speech
        application = build_application(services)
        self.configure(application)
        # The order run_polling() uses: initialize → post_init → polling → start.
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT_S)
        await application.start()
        self.services, self.application = services, application
        return self

    def configure(self, application: Any) -> None:
        """Hook for harnesses that must set bot_data before post_init runs (e.g. a test clock)."""

    async def stop(self) -> None:
        application, self.application = self.application, None
        if application is None:
            return
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        if self.services is not None:
            self.services.close()
            self.services = None

    async def restart(self, **changes: Any) -> "BotHarness":
        """Stop, then start a new Application on the same data directory (settings may change)."""
        await self.stop()
        if changes:
            self.settings = replace(self.settings, **changes)
        return await self.start()

    async def ask(self, user_id: int, text: str, chat_id: int | None = None, timeout: float = 20.0) -> list[BotMessage]:
        """Send `text` and return the bot's messages of that answer, once its final part arrived."""
        chat = user_id if chat_id is None else chat_id
        before = {m.message_id for m in self.server.messages(chat)}
        self.server.send_text(user_id, text, chat_id=chat_id)
        return await self.wait_answer(chat, before, timeout)

    async def wait_answer(self, chat_id: int, before: set[int], timeout: float = 20.0) -> list[BotMessage]:
        def ready() -> list[BotMessage] | None:
            new = [m for m in self.server.messages(chat_id) if m.message_id not in before]
            return new if any(is_final_answer(m) for m in new) else None

        new = await self.server.wait_for(ready, timeout, what=f"a final answer in chat {chat_id}")
        last = max(i for i, m in enumerate(new) if is_final_answer(m))
        return new[: last + 1]


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegramServer]:
    server = FakeTelegramServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot_settings(settings: Settings, telegram_server: FakeTelegramServer, tmp_path: Path) -> Settings:
    """Settings for a bot talking to the fake server, with a fresh data dir for its SQLite state."""
    return replace(
        settings,
        telegram_bot_token=telegram_server.token,
        telegram_api_base_url=telegram_server.base_url,
        data_dir=tmp_path / "bot-data",
        openai_base_url="",
        openai_api_key="",
    )


@pytest.fixture
async def bot(telegram_server: FakeTelegramServer, bot_settings: Settings, knowledge_base: Any) -> AsyncIterator[BotHarness]:
    harness = BotHarness(telegram_server, bot_settings, knowledge_base)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def gather_answers(harness: BotHarness, questions: dict[int, str], timeout: float = 30.0) -> dict[int, list[BotMessage]]:
    """Send every user's question at once; return each user's answer messages."""
    befores = {uid: {m.message_id for m in harness.server.messages(uid)} for uid in questions}
    for uid, text in questions.items():
        harness.server.send_text(uid, text)
    results = await asyncio.gather(*(harness.wait_answer(uid, befores[uid], timeout) for uid in questions))
    return dict(zip(questions, results))
