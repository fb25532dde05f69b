"""The speech layer: checks before decoding, the built-in recogniser on real clips, the endpoint path."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.coach.voice import CORRUPT, NOT_AUDIO, NOTHING, TOO_BIG, TOO_LONG, UNAVAILABLE, listen
from bot.services import Services
from bot.speech import audio as audio_module
from bot.speech.audio import AudioRejected, check_upload, decode, sniff
from bot.speech.endpoint import EndpointRecognizer
from bot.speech.recognizer import (
    PROMPT_HEAD,
    NothingHeard,
    SpeechLimits,
    SpeechUnavailable,
    UnavailableRecognizer,
    clean_transcript,
    glossary_prompt,
)
from tests.fakes.openai_server import FakeReply, closed_port_url, fake_openai_server

VOICE = Path(__file__).parent / "data" / "voice"
CLIPS = {c["id"]: c for c in map(json.loads, (VOICE / "manifest.jsonl").read_text(encoding="utf-8").splitlines())}
LIMITS = SpeechLimits(max_seconds=60, max_bytes=1_000_000)


def clip(name: str) -> bytes:
    return (VOICE / f"{name}.ogg").read_bytes()


def test_the_test_set_is_complete() -> None:
    spoken = [c for c in CLIPS.values() if c["kind"] != "empty"]
    assert len(spoken) >= 30 and {c["voice"] for c in spoken} >= {"female", "low", "high", "taco"}
    assert {c["variant"] for c in spoken} >= {"clean", "noise", "reverb", "silence"}
    assert all(3 <= c["seconds"] <= 30 for c in CLIPS.values())
    assert all(sniff(clip(name)) == "ogg" for name in CLIPS)


def test_signatures_and_sizes_are_checked_before_decoding() -> None:
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "wav" and sniff(b"\x00\x00\x00\x20ftypM4A ") == "mp4"
    assert sniff(b"ID3\x04") == "mp3" and sniff(b"fLaC") == "flac"
    for forged in (b"\x89PNG\r\n\x1a\n" + b"0" * 100, b"PK\x03\x04" + b"0" * 100, b"", b"<html>OggS"):
        with pytest.raises(AudioRejected) as err:
            check_upload(forged, 1000)
        assert err.value.reason == "format"
    with pytest.raises(AudioRejected) as err:
        check_upload(b"OggS" + b"0" * 2000, 1000)
    assert err.value.reason == "too_big"


def test_decoding_is_bounded_and_a_damaged_file_is_reported() -> None:
    data = clip("v22")  # 21.6 s
    assert 21 < decode(data, 60).seconds < 22.5
    with pytest.raises(AudioRejected) as err:
        decode(data, 5)
    assert err.value.reason == "too_long" and 5 < err.value.seconds < 7  # stopped soon after the limit
    for damaged in (b"OggS" + bytes(range(256)) * 8, data[:300]):
        with pytest.raises(AudioRejected) as err:
            decode(damaged, 60)
        assert err.value.reason == "corrupt"


def test_prompt_and_clean_up() -> None:
    prompt = glossary_prompt(["客情", "磅差", "决策人", "民营加油站"], ["赵志刚", "顺达物流"])
    assert prompt.startswith(PROMPT_HEAD) and prompt.index("赵志刚") < prompt.index("客情")
    assert clean_transcript("以下是普通话的句子,使用简体中文。", prompt) == ""  # the prompt read back
    assert clean_transcript("客情、磅差、决策人、民营加油站。", prompt) == ""  # the glossary read back
    assert clean_transcript("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", prompt) == ""
    assert clean_transcript("磅差怎麼處理？", prompt) == "磅差怎么处理？"  # simplified characters
    assert clean_transcript("，客户说磅差太大怎么办", prompt) == "客户说磅差太大怎么办"


def test_builtin_recogniser_hears_a_question_and_not_silence(speech) -> None:
    heard = listen(speech, clip("v01"), ())
    assert heard.transcript is not None and heard.transcript.engine == "builtin"
    assert "执行价" in heard.text and "大客户" in heard.text
    assert 5 < heard.transcript.audio_s < 6 and heard.transcript.compute_s > 0
    for empty in ("silent1", "noise1"):
        assert listen(speech, clip(empty)).problem == NOTHING
    with pytest.raises(NothingHeard):
        speech.transcribe(clip("silent1"))
    assert listen(speech, b"OggS not really").problem == CORRUPT
    assert listen(speech, b"\x89PNG\r\n\x1a\n fake").problem == NOT_AUDIO
    assert listen(speech, clip("v22")).text  # 21.6 s is within the test limit


def test_the_built_in_limits_come_from_settings(speech) -> None:
    short = replace(speech.limits, max_seconds=10)
    original, speech.limits = speech.limits, short
    try:
        assert listen(speech, clip("v22")).problem == TOO_LONG
    finally:
        speech.limits = original
    small = replace(speech.limits, max_bytes=100)
    speech.limits = small
    try:
        assert listen(speech, clip("v01")).problem == TOO_BIG
    finally:
        speech.limits = original


def test_endpoint_sends_the_note_with_the_glossary_and_falls_back_to_the_built_in_model(speech) -> None:
    with fake_openai_server() as server:
        endpoint = EndpointRecognizer(server.base_url, "whisper-1", "sk-asr", lambda: ["磅差", "客情"], LIMITS, fallback=speech)
        server.reply = FakeReply(text="打款前要先問清楚能不能開增值稅發票")
        heard = endpoint.transcribe(clip("v02"), ["赵志刚"])
        assert heard.text == "打款前要先问清楚能不能开增值税发票" and heard.engine == "endpoint" and not heard.fell_back
        [request] = server.transcription_requests
        assert request["model"] == "whisper-1" and request["language"] == "zh" and request["file_name"] == "voice.ogg"
        assert "磅差" in request["prompt"] and "赵志刚" in request["prompt"]
        assert server.audio_files == [clip("v02")]
        assert server.requests[-1].headers["authorization"] == "Bearer sk-asr"

        server.queue(FakeReply(status=500))  # the endpoint fails: the built-in model answers
        heard = endpoint.transcribe(clip("v01"))
        assert heard.fell_back and heard.engine == "builtin" and "执行价" in heard.text
        server.queue(FakeReply(text=""))  # an empty answer to real speech: asked again locally
        assert endpoint.transcribe(clip("v01")).fell_back

        forged = b"\x89PNG\r\n\x1a\n" + b"0" * 500  # refused before anything is sent
        sent = len(server.requests)
        assert listen(endpoint, forged).problem == NOT_AUDIO and len(server.requests) == sent

        alone = EndpointRecognizer(server.base_url, "whisper-1", "", lambda: [], LIMITS, fallback=None)
        server.queue(FakeReply(status=503))
        with pytest.raises(SpeechUnavailable):
            alone.transcribe(clip("v01"))
    down = EndpointRecognizer(closed_port_url(), "whisper-1", "", lambda: [], LIMITS, fallback=speech)
    assert down.transcribe(clip("v01")).fell_back


def test_services_pick_the_recogniser_from_settings(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services.build(replace(settings, asr_base_url="http://127.0.0.1:9/v1", asr_model="sensevoice"))
    recognizer = services.speech
    assert isinstance(recognizer, EndpointRecognizer) and recognizer.model == "sensevoice"
    assert recognizer.fallback is not None and recognizer.fallback.engine == "builtin"
    assert "磅差" in recognizer.glossary()  # the glossary: knowledge/vocabulary.yaml, then the material's own words
    assert services.speech is recognizer  # built once

    import bot.speech.builtin as builtin

    monkeypatch.setattr(builtin, "speech_installed", lambda with_model=True: False)
    bare = Services.build(settings).speech  # no speech extra, no endpoint
    assert isinstance(bare, UnavailableRecognizer)
    assert listen(bare, clip("v01")).problem == UNAVAILABLE


def test_nothing_is_decoded_for_a_refused_file(speech, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(audio_module, "decode", lambda data, s: calls.append(len(data)))
    import bot.speech.recognizer as recognizer_module

    monkeypatch.setattr(recognizer_module, "decode", lambda data, s: calls.append(len(data)))
    assert listen(speech, b"PK\x03\x04" + clip("v01")).problem == NOT_AUDIO
    monkeypatch.setattr(speech, "limits", replace(speech.limits, max_bytes=50_000))
    assert listen(speech, clip("v01") * 5).problem == TOO_BIG
    assert calls == []


def test_the_glossary_adds_the_materials_own_words_after_the_vocabulary(make_services) -> None:
    services = make_services()
    glossary = services.speech.glossary() if hasattr(services.speech, "glossary") else []
    listed = list(services.knowledge.vocabulary.words)
    assert glossary[: len(listed)] == listed
    own = services.knowledge.key_terms()
    assert own and glossary[len(listed):] == own
    assert "加油站" in own  # the sample material's repeated trade word, listed nowhere by hand


def test_loading_finds_the_glossary_at_start_up_not_on_the_first_note() -> None:
    calls: list[int] = []
    endpoint = EndpointRecognizer(closed_port_url(), "whisper-1", "", lambda: calls.append(1) or ["磅差"], LIMITS, fallback=None)
    endpoint.load()
    assert calls == [1]
