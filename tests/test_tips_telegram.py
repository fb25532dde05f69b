"""Daily tips end to end: the real PTB Application (polling, JobQueue, AIORateLimiter) against the fake Bot API.

The bot's notion of "now" comes from a controlled clock put into `bot_data`
before start-up, so pushes, restarts and catch-ups happen on chosen days; the
JobQueue itself is real (jobs are forced to run now through its scheduler).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from bot.coach.tips.timezones import next_push
from bot.services import Services
from bot.settings import PROJECT_ROOT
from bot.telegram.app import build_application
from bot.telegram.context import services_of
from bot.telegram.tips import CLOCK_KEY, STARTUP_REPORT_KEY, deliver_daily, job_id, never_reached
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer
from tests.telegram_fixtures import POLL_TIMEOUT_S, BotHarness, telegram_server  # noqa: F401 (fixture)

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
USER = 501


class Clock:
    """A settable clock the bot reads instead of the system time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set_local(self, day: int, hour: int, minute: int = 0, zone: ZoneInfo = SH) -> None:
        self.now = datetime(2026, 3, day, hour, minute, tzinfo=zone).astimezone(UTC)


class TipsHarness(BotHarness):
    """BotHarness whose Application reads `clock` (set before post_init rebuilds the jobs)."""

    def __init__(self, server: FakeTelegramServer, settings, clock: Clock) -> None:
        super().__init__(server, settings, None)
        self.clock = clock

    def configure(self, application) -> None:
        application.bot_data[CLOCK_KEY] = self.clock

    @property
    def service(self):
        return services_of(self.application).tips

    @property
    def job_queue(self):
        return self.application.job_queue


@pytest.fixture
def clock() -> Clock:
    c = Clock(datetime(2026, 3, 2, tzinfo=UTC))
    c.set_local(2, 8, 0)  # Monday 2 March 2026, 08:00 in Shanghai
    return c


@pytest.fixture
def tips_settings(settings, telegram_server, tmp_path):  # noqa: F811
    return replace(
        settings,
        telegram_bot_token=telegram_server.token,
        telegram_api_base_url=telegram_server.base_url,
        data_dir=tmp_path / "bot-data",
    )


@pytest.fixture
async def tips_bot(telegram_server, tips_settings, clock):  # noqa: F811
    harness = TipsHarness(telegram_server, tips_settings, clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def command(server: FakeTelegramServer, user: int, text: str, contains: str = "") -> BotMessage:
    """Send a command and return the bot's next message (optionally one containing `contains`)."""
    before = {m.message_id for m in server.messages(user)}

    def reply() -> BotMessage | None:
        new = [m for m in server.messages(user) if m.message_id not in before and contains in m.text]
        return new[0] if new else None

    server.send_command(user, text)
    return await server.wait_for(reply, what=f"a reply to {text!r} containing {contains!r}")


def tip_id_of(message: BotMessage) -> str:
    for _, data in message.buttons:
        for prefix in ("tips:next:", "tips:reveal:"):
            if data.startswith(prefix):
                return data[len(prefix):]
    raise AssertionError(f"no tip buttons on {message.text!r}")


# ---- subscribing --------------------------------------------------------------------------


async def test_subscribe_change_and_unsubscribe(tips_bot, clock):
    server = tips_bot.server
    reply = await command(server, USER, "/subscribe")
    assert "09:00" in reply.text and "Asia/Shanghai" in reply.text and "今天 09:00" in reply.text
    aps = tips_bot.job_queue.scheduler.get_job(job_id(USER))
    assert aps.trigger.get_next_fire_time(None, clock.now) == next_push(clock.now, time(9), "Asia/Shanghai", USER, False)

    reply = await command(server, USER, "/subscribe 21:30 伦敦", "Europe/London")
    assert "21:30" in reply.text
    aps = tips_bot.job_queue.scheduler.get_job(job_id(USER))
    fire = aps.trigger.get_next_fire_time(None, clock.now).astimezone(UTC)
    assert (fire.hour, fire.minute) == (21, 30)  # GMT in early March
    summer = aps.trigger.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=UTC)).astimezone(UTC)
    assert (summer.hour, summer.minute) == (20, 30)  # BST

    reply = await command(server, USER, "/subscribe 25:00", "25:00")
    assert "不是有效的时间" in reply.text
    reply = await command(server, USER, "/subscribe 09:00 火星", "火星")
    assert "不认识" in reply.text
    assert tips_bot.service.store.get(USER).zone == "Europe/London"  # bad input changed nothing

    reply = await command(server, USER, "/unsubscribe", "退订")
    assert tips_bot.job_queue.scheduler.get_job(job_id(USER)) is None
    reply = await command(server, USER, "/unsubscribe", "还没有订阅")


async def test_weekdays_button_toggles_and_confirms(tips_bot, clock):
    server = tips_bot.server
    server.send_command(USER, "/settings")
    [settings_msg] = await server.wait_for_messages(USER, 1)
    assert ("📅 仅工作日推送", "tips:weekdays") in settings_msg.buttons
    server.press_button(USER, settings_msg, "tips:weekdays")  # not subscribed yet
    await server.wait_for(lambda: any("先订阅" in a.get("text", "") for a in server.callback_answers), what="an alert")

    await command(server, USER, "/subscribe 08:00 上海", "08:00")
    server.press_button(USER, settings_msg, "tips:weekdays")
    reply = (await server.wait_for_messages(USER, 1, where=lambda m: "仅工作日" in m.text and "已改为" in m.text))[0]
    assert "08:00" in reply.text
    aps = tips_bot.job_queue.scheduler.get_job(job_id(USER))
    saturday = datetime(2026, 3, 6, 12, tzinfo=UTC)  # Friday evening in Shanghai
    assert aps.trigger.get_next_fire_time(None, saturday).astimezone(SH).weekday() == 0  # Monday
    assert tips_bot.service.store.get(USER).weekdays_only is True

    server.press_button(USER, settings_msg, "tips:weekdays")
    await server.wait_for_messages(USER, 1, where=lambda m: "每天推送" in m.text)
    aps = tips_bot.job_queue.scheduler.get_job(job_id(USER))
    assert aps.trigger.get_next_fire_time(None, saturday).astimezone(SH).weekday() == 5  # Saturday again


async def test_subscribe_button_from_start(tips_bot):
    server = tips_bot.server
    server.send_command(USER, "/start")
    [welcome] = await server.wait_for_messages(USER, 1)
    server.press_button(USER, welcome, "tips:subscribe")
    reply = (await server.wait_for_messages(USER, 1, where=lambda m: "已订阅" in m.text))[0]
    assert "09:00" in reply.text and "Asia/Shanghai" in reply.text
    assert tips_bot.job_queue.scheduler.get_job(job_id(USER)) is not None


# ---- a tip now, its source and buttons ---------------------------------------------------------------


async def test_tip_now_shows_source_and_buttons_and_another_one(tips_bot):
    server = tips_bot.server
    server.send_command(USER, "/tip")
    [first] = await server.wait_for_messages(USER, 1)
    assert first.parse_mode == "HTML"
    assert "出处：《" in first.text
    first_id = tip_id_of(first)
    tip = tips_bot.service.bank.get(first_id)
    if tip.quiz:  # a quiz asks first
        assert tip.quiz.question in first.text and tip.quiz.answer not in first.text
    else:
        assert tip.text in first.text
        assert any(d == f"practice:start:{tip.scenario}" for _, d in first.buttons) == bool(tip.scenario)
    server.press_button(USER, first, f"tips:next:{first_id}")
    msgs = await server.wait_for_messages(USER, 2)
    second_id = tip_id_of(msgs[1])
    assert second_id != first_id
    sent = [h.tip_id for h in tips_bot.service.store.history(USER)]
    assert sent == [first_id, second_id]  # both count towards "no repeats"


@pytest.fixture
def quiz_settings(tips_settings, tmp_path):
    """A knowledge dir whose bank holds only quiz tips, so /tip is a quiz."""
    root = tmp_path / "knowledge"
    for name in ("sources", "scenarios"):
        shutil.copytree(PROJECT_ROOT / "knowledge" / name, root / name)
    (root / "tips").mkdir()
    for name in ("_topics.yaml", "_cities.yaml"):
        shutil.copy(PROJECT_ROOT / "knowledge" / "tips" / name, root / "tips" / name)
    (root / "tips" / "quiz.yaml").write_text(
        """
topic: gifts
tips:
  - id: quiz-pear
    text: 礼品寄出两三天后打个电话回访 <问收到没有> & 给一个实用提醒。
    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}
    tags: {criteria: [follow_up], scenario: gift-no-warmth}
    quiz: {question: 寄了一箱梨之后还要做什么？, answer: 打电话回访。}
""",
        encoding="utf-8",
    )
    return replace(tips_settings, knowledge_dir=root)


async def test_quiz_asks_first_and_reveals_on_a_button(telegram_server, quiz_settings, clock):  # noqa: F811
    harness = await TipsHarness(telegram_server, quiz_settings, clock).start()
    try:
        server = telegram_server
        server.send_command(USER, "/tip")
        [asked] = await server.wait_for_messages(USER, 1)
        assert "寄了一箱梨之后还要做什么？" in asked.text and "打电话回访。" not in asked.text
        assert asked.buttons == [("👀 看答案", "tips:reveal:quiz-pear")]
        server.press_button(USER, asked, "tips:reveal:quiz-pear")
        await server.wait_for(lambda: asked.edits == 1, what="the answer revealed")
        assert "答案：打电话回访。" in asked.text
        assert "<问收到没有> & 给一个实用提醒" in asked.text  # HTML metacharacters escaped, shown as typed
        assert "出处：《我给客户送了礼品，为什么感觉关系没有提升呢》" in asked.text
        assert ("🎭 练一练", "practice:start:gift-no-warmth") in asked.buttons
        assert ("🔄 换一条", "tips:next:quiz-pear") in asked.buttons
    finally:
        await harness.stop()


# ---- daily pushes -----------------------------------------------------------------------------


async def test_push_fires_from_the_job_queue_and_never_twice(tips_bot, clock):
    server = tips_bot.server
    await command(server, USER, "/subscribe 09:00", "已订阅")
    clock.set_local(2, 9, 0)
    # Let the real scheduler run the job now (its trigger says 09:00:SS local).
    tips_bot.job_queue.scheduler.get_job(job_id(USER)).modify(next_run_time=datetime.now(UTC))
    push = (await server.wait_for_messages(USER, 1, where=lambda m: "出处" in m.text))[0]
    pushed_id = tip_id_of(push)
    # The job firing again the same local day sends nothing.
    assert await deliver_daily(tips_bot.application, USER) == "duplicate"
    # A restart later that day: nothing missed, nothing resent.
    clock.set_local(2, 20, 0)
    await tips_bot.restart()
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY] == {"scheduled": 1, "missed": 0}
    assert await deliver_daily(tips_bot.application, USER) == "duplicate"
    assert len([m for m in server.messages(USER) if "出处" in m.text]) == 1
    # Next day: a different tip.
    clock.set_local(3, 9, 0)
    assert await deliver_daily(tips_bot.application, USER) == "sent"
    pushes = await server.wait_for_messages(USER, 2, where=lambda m: "出处" in m.text)
    assert tip_id_of(pushes[1]) != pushed_id


async def test_missed_push_is_sent_once_at_startup(tips_bot, clock):
    server = tips_bot.server
    await command(server, USER, "/subscribe 09:00", "已订阅")
    await command(server, USER + 1, "/subscribe 09:00 纽约", "已订阅")  # not yet 09:00 in New York
    await tips_bot.stop()
    clock.set_local(2, 11, 30)  # the bot was down at 09:00 Shanghai time
    await tips_bot.start()
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY] == {"scheduled": 2, "missed": 1}
    await server.wait_for_messages(USER, 1, where=lambda m: "出处" in m.text)
    await tips_bot.restart()  # and again, still the same day
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY] == {"scheduled": 2, "missed": 0}
    assert len([m for m in server.messages(USER) if "出处" in m.text]) == 1
    assert not [m for m in server.messages(USER + 1) if "出处" in m.text]
    # 3 March 09:30 in Shanghai is 2 March 20:30 in New York: both subscribers' pushes of their
    # own local day were missed; each gets exactly one.
    clock.set_local(3, 9, 30)
    await tips_bot.restart()
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY]["missed"] == 2
    await server.wait_for_messages(USER, 2, where=lambda m: "出处" in m.text)
    await server.wait_for_messages(USER + 1, 1, where=lambda m: "出处" in m.text)
    await tips_bot.restart()
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY]["missed"] == 0
    assert len([m for m in server.messages(USER + 1) if "出处" in m.text]) == 1


async def test_blocked_user_is_paused_not_retried(tips_bot, clock):
    server = tips_bot.server
    await command(server, USER, "/subscribe 09:00", "已订阅")
    server.fail(USER, "forbidden")
    clock.set_local(2, 9, 0)
    calls_before = len(server.calls("sendMessage"))
    assert await deliver_daily(tips_bot.application, USER) == "paused"
    assert len(server.calls("sendMessage")) == calls_before + 1  # one attempt, no retries
    sub = tips_bot.service.store.get(USER)
    assert (sub.active, sub.paused_reason) == (False, "blocked")
    assert tips_bot.job_queue.scheduler.get_job(job_id(USER)) is None
    assert services_of(tips_bot.application).users.is_blocked(USER)
    clock.set_local(3, 9, 0)
    assert await deliver_daily(tips_bot.application, USER) == "inactive"
    await tips_bot.restart()
    assert tips_bot.application.bot_data[STARTUP_REPORT_KEY] == {"scheduled": 0, "missed": 0}
    # Unblocking and subscribing again resumes; the tip that never arrived was not used up.
    server.clear_faults(USER)
    await command(server, USER, "/subscribe 09:00", "已订阅")
    assert tips_bot.service.store.get(USER).active


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside AIORateLimiter
async def test_retry_after_is_waited_out(tips_bot, clock):
    server = tips_bot.server
    await command(server, USER, "/subscribe 09:00", "已订阅")
    # Three 429s: a push asks the rate limiter for more patience than an answer gets.
    server.fail(USER, "retry_after", retry_after=1, times=3, methods={"sendMessage"})
    clock.set_local(2, 9, 0)
    calls_before = len(server.calls("sendMessage"))
    assert await deliver_daily(tips_bot.application, USER) == "sent"
    assert len(server.calls("sendMessage")) == calls_before + 4
    assert len([m for m in server.messages(USER) if "出处" in m.text]) == 1


def test_only_unreached_requests_are_retried():
    refused = NetworkError("httpx.ConnectError: refused")
    refused.__cause__ = httpx.ConnectError("refused")
    lost = NetworkError("httpx.ReadError: connection reset")  # the request may have been processed
    lost.__cause__ = httpx.ReadError("reset")
    assert never_reached(refused) and not never_reached(lost)
    assert not never_reached(TimedOut("read timeout"))


async def test_english_user_gets_english_texts(tips_bot):
    server = tips_bot.server
    services_of(tips_bot.application).users.set_language(USER, "en")
    reply = await command(server, USER, "/subscribe 7:30 Tokyo", "Subscribed")
    assert "07:30" in reply.text and "Asia/Tokyo" in reply.text
    server.send_command(USER, "/tip")
    tip = (await server.wait_for_messages(USER, 2))[1]
    assert "Source:" in tip.text and any(text in ("🔄 Another one", "👀 Show answer") for text, _ in tip.buttons)


async def test_menu_lists_tip_commands(tips_bot):
    menu = tips_bot.server.commands
    zh = next(cmds for (scope, lang), cmds in menu.items() if not lang)
    names = [c for c, _ in zh]
    assert {"tip", "subscribe", "unsubscribe"} <= set(names)
