"""Voice notes on Telegram end to end: the real PTB Application against the fake Bot API server
(getFile + file download), the session's loaded speech model, offline answers and role-play."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.coach.practice.session import PracticeSession
from bot.coach.practice.text import card_text
from bot.llm.prompts import t
from bot.telegram.context import services_of
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer
from tests.telegram_fixtures import BotHarness, bot, bot_settings, is_final_answer, telegram_server  # noqa: F401

VOICE = Path(__file__).parent / "data" / "voice"
WAIT = 90.0  # the model and the embedder share two cores with the rest of the suite
USER = 7301


def clip(name: str) -> bytes:
    return (VOICE / f"{name}.ogg").read_bytes()


@pytest.fixture
async def voice_bot(telegram_server: FakeTelegramServer, bot_settings, knowledge_base, speech):  # noqa: F811
    harness = BotHarness(telegram_server, replace(bot_settings, max_voice_s=60, max_file_mb=1), knowledge_base, speech=speech)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def after(server: FakeTelegramServer, chat: int, seen: int, where, what: str) -> BotMessage:
    def ready():
        found = [m for m in server.messages(chat)[seen:] if where(m)]
        return found[0] if found else None

    return await server.wait_for(ready, WAIT, what=what)


async def test_a_voice_question_is_heard_shown_and_answered_with_sources(voice_bot: BotHarness) -> None:
    server = voice_bot.server
    server.send_voice(USER, clip("v02"), duration=6)
    heard = await after(server, USER, 0, lambda m: m.text.startswith("🎙 听到："), "the transcript")
    assert "打款" in heard.text and "发票" in heard.text and t("voice.heard_hint", "zh") in heard.text
    answer = await after(server, USER, 0, is_final_answer, "the answer")
    assert "来源" in answer.text and "打款" in answer.text
    assert server.file_downloads() == ["1/voice/voice.oga"]  # fetched through getFile + the file URL
    # The rep corrects what was heard by replying with text: that is simply the next question.
    seen = len(server.messages(USER))
    server.send_text(USER, "客户打款前要先问清楚什么？", reply_to=heard)
    corrected = await after(server, USER, seen, is_final_answer, "the corrected question's answer")
    assert "来源" in corrected.text


async def test_a_long_note_shows_progress_and_an_audio_file_works_too(voice_bot: BotHarness) -> None:
    server = voice_bot.server
    server.send_voice(USER, clip("long1"), duration=25)
    status = await after(server, USER, 0, lambda m: "🎙" in m.text, "the progress message")
    done = await server.wait_for(lambda: status if status.text.startswith("🎙 听到：") else None, WAIT, what="the edit")
    assert done.edits >= 1 and "节日快乐" in done.text  # "正在听…" was edited into what was heard
    assert server.calls("sendChatAction")  # typing… while it listens
    await after(server, USER, 0, is_final_answer, "the answer")
    seen = len(server.messages(USER))
    server.send_voice(USER, clip("v19"), duration=3, audio_file="录音.ogg")  # sent as a file, not a voice note
    assert (await after(server, USER, seen, lambda m: m.text.startswith("🎙 听到："), "the audio file")).text


async def test_silent_corrupt_and_over_long_notes_get_a_clear_message(voice_bot: BotHarness, monkeypatch) -> None:
    server = voice_bot.server
    server.send_voice(USER, clip("silent1"), duration=5)
    assert (await after(server, USER, 0, lambda m: "🎙" in m.text, "nothing heard")).text == t("voice.nothing_heard", "zh")
    seen = len(server.messages(USER))
    server.send_voice(USER, b"OggS" + bytes(range(256)) * 4, duration=3)
    assert (await after(server, USER, seen, lambda m: "🎙" in m.text, "corrupt")).text == t("voice.corrupt", "zh")
    # Declared too long: refused from the update, nothing fetched.
    seen, downloads = len(server.messages(USER)), len(server.file_downloads())
    server.send_voice(USER, clip("v01"), duration=600)
    message = await after(server, USER, seen, lambda m: "🎙" in m.text, "too long")
    assert "600 秒" in message.text and "60 秒" in message.text
    # Declared 3 s but really longer than the limit: refused while decoding.
    await voice_bot.restart(max_voice_s=10)
    monkeypatch.setattr(voice_bot.speech, "limits", replace(voice_bot.speech.limits, max_seconds=10))  # as Services builds it
    seen = len(server.messages(USER))
    server.send_voice(USER, clip("long1"), duration=3)
    message = await after(server, USER, seen, lambda m: "🎙" in m.text, "too long after decoding")
    assert "超过了 10 秒" in message.text
    assert not any(is_final_answer(m) for m in server.messages(USER))  # none of them became a question


async def test_forged_or_oversized_files_are_refused_before_decoding(voice_bot: BotHarness, monkeypatch) -> None:
    import bot.speech.recognizer as recognizer_module

    decoded: list[int] = []
    real_decode = recognizer_module.decode
    monkeypatch.setattr(recognizer_module, "decode", lambda data, s: decoded.append(len(data)) or real_decode(data, s))
    server = voice_bot.server
    big = b"OggS" + b"\x00" * (1_100_000)  # over MAX_FILE_MB=1
    server.send_voice(USER, big, duration=3)  # the update says how big it is: not even fetched
    assert "太大" in (await after(server, USER, 0, lambda m: "🎙" in m.text, "too big")).text
    assert server.calls("getFile") == [] and server.file_downloads() == []
    seen = len(server.messages(USER))
    server.send_voice(USER, big, duration=3, file_size=5000)  # the update lies; getFile tells the truth
    assert "太大" in (await after(server, USER, seen, lambda m: "🎙" in m.text, "too big by getFile")).text
    assert len(server.calls("getFile")) == 1 and server.file_downloads() == []
    seen = len(server.messages(USER))
    server.send_voice(USER, b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000, duration=3)  # not audio at all
    reply = await after(server, USER, seen, lambda m: "🎙" in m.text, "not audio")
    assert reply.text == t("voice.not_audio", "zh")
    assert decoded == []  # the decoder never saw any of them


async def test_without_the_speech_extra_the_bot_says_how_to_enable_it(bot: BotHarness) -> None:  # noqa: F811
    bot.server.send_voice(USER, clip("v01"), duration=5)
    reply = await after(bot.server, USER, 0, lambda m: "🎙" in m.text, "the hint")
    assert "语音识别还没有安装" in reply.text and "pip install -c constraints.txt -e '.[speech]'" in reply.text
    assert "ASR_BASE_URL" in reply.text


async def test_a_voice_note_in_role_play_is_the_reps_turn_and_the_card_says_so(voice_bot: BotHarness) -> None:
    server = voice_bot.server
    server.send_command(USER, "/practice invoice-payment")
    brief = await after(server, USER, 0, lambda m: any(d.startswith("practice:go:") for _, d in m.buttons), "the brief")
    seen = len(server.messages(USER))
    server.press_button(USER, brief, "practice:go:invoice-payment")
    opening = await after(server, USER, seen, lambda m: m.html.startswith("<b>"), "the opening line")
    name = opening.text.split("：")[0]

    seen = len(server.messages(USER))
    server.send_voice(USER, clip("v31"), duration=9)
    heard = await after(server, USER, seen, lambda m: m.text.startswith("🎙 听到："), "the transcript")
    await after(server, USER, seen, lambda m: m.text.startswith(f"{name}："), "the customer's answer")
    spoken = heard.text.removeprefix("🎙 听到：")
    assert "对公账户" in spoken and t("voice.heard_hint", "zh") not in heard.text
    assert not any(is_final_answer(m) for m in server.messages(USER))  # a turn, not a question

    seen = len(server.messages(USER))
    typed = "合同和备案表我都带来了，您先签一份客户告知书。"
    server.send_text(USER, typed)
    await after(server, USER, seen, lambda m: m.text.startswith(f"{name}："), "the answer to the typed turn")
    session = PracticeSession.from_dict(voice_bot.application.user_data[USER][f"practice:{USER}"])
    assert session.rep_turns == [spoken, typed] and session.spoken == [1]

    seen = len(server.messages(USER))
    server.send_command(USER, "/end")
    card = await after(server, USER, seen, lambda m: "/100" in m.text, "the score card")
    assert "🎙 语音说的：第 1 句" in card.text
    # Scored exactly like text: the same turns typed give the same card.
    practice = services_of(voice_bot.application).practice
    _, typed_card = practice.play("invoice-payment", [spoken, typed])
    assert card_text(typed_card, "zh") in card.text
