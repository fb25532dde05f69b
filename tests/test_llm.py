"""The OpenAI-compatible client (bot/llm/client.py) against a fake server on loopback, through the real `openai` SDK."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Iterator

import pytest

from bot.llm.client import OPTIONAL_PARAMETERS, LLMClient, LLMError, LLMReply, build_llm
from bot.settings import Settings
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, closed_port_url, fake_openai_server

API_KEY = "sk-test-DO-NOT-LOG-4f9a"
MESSAGES = [{"role": "system", "content": "你是销售教练。"}, {"role": "user", "content": "客户不回消息怎么办？"}]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with fake_openai_server() as server:
        yield server


def llm_settings(base_url: str, **overrides: object) -> Settings:
    base = replace(
        Settings(),
        openai_base_url=base_url,
        openai_api_key=API_KEY,
        openai_model="fake-model",
        llm_timeout_s=5.0,
        llm_max_retries=0,
    )
    return replace(base, **overrides)


@pytest.fixture
def llm(openai_server: FakeOpenAIServer) -> LLMClient:
    client = build_llm(llm_settings(openai_server.base_url))
    assert client is not None
    return client


def test_build_llm_is_none_offline() -> None:
    assert build_llm(Settings()) is None
    assert isinstance(build_llm(replace(Settings(), openai_base_url="http://127.0.0.1:1/v1")), LLMClient)


async def test_complete_returns_text_usage_and_sends_the_request(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = FakeReply(text="先回访，再送礼物[1]。")
    reply = await llm.complete(MESSAGES, max_tokens=123, temperature=0.1)
    assert reply == LLMReply("先回访，再送礼物[1]。", reply.prompt_tokens, reply.completion_tokens)
    assert reply.prompt_tokens > 10 and reply.completion_tokens > 3
    [request] = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.json["model"] == "fake-model"
    assert request.json["messages"] == MESSAGES
    assert request.json["max_tokens"] == 123
    assert "response_format" not in request.json


async def test_complete_json_object_mode_and_local_token_count(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = FakeReply(text='{"score": 4}', usage=False)
    reply = await llm.complete(MESSAGES, json_object=True)
    assert reply.text == '{"score": 4}'
    assert openai_server.chat_requests[-1]["response_format"] == {"type": "json_object"}
    # No usage from the server: counted offline with tiktoken.
    assert reply.prompt_tokens > 10 and reply.completion_tokens > 0


async def test_stream_yields_deltas_and_usage(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    text = "第一步，先了解客户的需求；第二步，用小事建立信任[2]。"
    openai_server.reply = FakeReply(text=text, chunk_chars=3)
    stream = llm.stream(MESSAGES, max_tokens=50)
    deltas = [d async for d in stream]
    assert len(deltas) > 3 and "".join(deltas) == text == stream.text
    assert stream.finish_reason == "stop"
    assert stream.prompt_tokens > 10 and stream.completion_tokens > 5
    body = openai_server.chat_requests[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_stream_falls_back_when_server_rejects_stream_options(
    llm: LLMClient, openai_server: FakeOpenAIServer
) -> None:
    openai_server.reject_stream_options = True
    openai_server.reply = FakeReply(text="好的，明白了。")
    for _ in range(2):
        stream = llm.stream(MESSAGES)
        assert "".join([d async for d in stream]) == "好的，明白了。"
        assert stream.completion_tokens > 0  # counted locally
    # First call tried with the option and was refused; later calls no longer send it.
    sent = ["stream_options" in body for body in openai_server.chat_requests]
    assert sent == [True, False, False]


async def test_json_mode_and_max_tokens_adapt_to_the_server(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    """A server refusing response_format, or wanting max_completion_tokens, still gets answered."""
    openai_server.reject_params = {"response_format", "max_tokens"}
    openai_server.reply = FakeReply(text='{"ok": true}')
    for _ in range(2):
        reply = await llm.complete(MESSAGES, max_tokens=64, json_object=True)
        assert reply.text == '{"ok": true}'
    accepted = openai_server.chat_requests[-1]
    assert accepted["max_completion_tokens"] == 64
    assert "max_tokens" not in accepted and "response_format" not in accepted
    # The refusals are remembered: the second call went through on the first try.
    assert len(openai_server.chat_requests) == 3 + 1


async def test_other_bad_requests_are_not_retried(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = FakeReply(status=400)
    with pytest.raises(LLMError) as info:
        await llm.complete(MESSAGES, max_tokens=10)
    assert info.value.kind == "http" and len(openai_server.chat_requests) == 1


@pytest.mark.parametrize(
    ("reply", "kind", "status"),
    [
        (FakeReply(status=500), "http", 500),
        (FakeReply(status=400), "http", 400),
        (FakeReply(status=401), "auth", 401),
        (FakeReply(status=429), "rate_limit", 429),
        (FakeReply(malformed=True), "bad_response", None),
    ],
)
async def test_complete_faults_become_llm_error(
    llm: LLMClient, openai_server: FakeOpenAIServer, reply: FakeReply, kind: str, status: int | None
) -> None:
    openai_server.reply = reply
    with pytest.raises(LLMError) as info:
        await llm.complete(MESSAGES)
    assert info.value.kind == kind
    assert info.value.status == status
    assert re.search(r"[\u4e00-\u9fff]", info.value.user_message)  # a Chinese one-liner for the user


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (FakeReply(status=500), "http"),
        (FakeReply(text="这是一段会在中途断开的很长的回答内容", break_after=2), "stream"),
        (FakeReply(text="这是一段会夹带乱码的回答内容", malformed=True), "stream"),
        (FakeReply(text="没有结束标记的回答", finish=False), "stream"),
    ],
)
async def test_stream_faults_become_llm_error(
    llm: LLMClient, openai_server: FakeOpenAIServer, reply: FakeReply, kind: str
) -> None:
    openai_server.reply = reply
    received: list[str] = []
    with pytest.raises(LLMError) as info:
        async for delta in llm.stream(MESSAGES):
            received.append(delta)
    assert info.value.kind == kind
    if reply.break_after:
        assert received, "the deltas before the break still arrive"


async def test_timeout_becomes_llm_error(openai_server: FakeOpenAIServer) -> None:
    client = LLMClient(llm_settings(openai_server.base_url, llm_timeout_s=0.3))
    openai_server.reply = FakeReply(delay_s=10)
    with pytest.raises(LLMError) as info:
        await client.complete(MESSAGES)
    assert info.value.kind == "timeout"
    with pytest.raises(LLMError) as info:
        async for _ in client.stream(MESSAGES):
            pass
    assert info.value.kind == "timeout"
    assert info.value.user_message == "模型响应超时。"


async def test_connection_refused_becomes_llm_error() -> None:
    client = LLMClient(llm_settings(closed_port_url()))
    with pytest.raises(LLMError) as info:
        await client.complete(MESSAGES)
    assert info.value.kind == "connection"
    assert "OPENAI_BASE_URL" in info.value.user_message
    with pytest.raises(LLMError) as info:
        async for _ in client.stream(MESSAGES):
            pass
    assert info.value.kind == "connection"


async def test_retries_follow_settings(openai_server: FakeOpenAIServer) -> None:
    client = LLMClient(llm_settings(openai_server.base_url, llm_max_retries=1))
    openai_server.queue(FakeReply(status=503))
    openai_server.reply = FakeReply(text="重试后成功")
    reply = await client.complete(MESSAGES)
    assert reply.text == "重试后成功"
    assert len(openai_server.chat_requests) == 2


async def test_api_key_never_logged_or_in_errors(
    openai_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = LLMClient(llm_settings(openai_server.base_url))
    openai_server.reply = FakeReply(status=401)
    with pytest.raises(LLMError) as info:
        await client.complete(MESSAGES)
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)
    assert API_KEY not in repr(client)
    assert caplog.records, "the failure is logged"
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


async def test_a_400_about_stream_options_drops_them_and_is_remembered(
    llm: LLMClient, openai_server: FakeOpenAIServer
) -> None:
    """Only a refusal that names stream_options drops it; the next stream no longer sends it."""
    openai_server.reject_stream_options = True
    openai_server.reply = FakeReply(text="好的。")
    assert "".join([d async for d in llm.stream(MESSAGES)]) == "好的。"
    assert [("stream_options" in body) for body in openai_server.chat_requests] == [True, False]
    assert llm._stream_usage_supported is False


async def test_any_other_400_on_a_stream_keeps_stream_options_and_is_not_retried(
    llm: LLMClient, openai_server: FakeOpenAIServer
) -> None:
    """A 400 about something else (a prompt too long, a bad message) is not a stream_options refusal."""
    openai_server.queue(FakeReply(status=400))
    openai_server.reply = FakeReply(text="好的。")
    with pytest.raises(LLMError) as info:
        async for _ in llm.stream(MESSAGES):
            pass
    assert info.value.kind == "http" and info.value.status == 400
    assert len(openai_server.chat_requests) == 1, "an unrelated 400 is not retried"
    # The next stream still asks for usage, and gets the server's own token counts.
    stream = llm.stream(MESSAGES)
    assert "".join([d async for d in stream]) == "好的。"
    assert openai_server.chat_requests[-1]["stream_options"] == {"include_usage": True}


async def test_every_failure_of_a_request_is_an_llm_error(llm: LLMClient, openai_server: FakeOpenAIServer) -> None:
    """The request itself (not only its callers) turns SDK errors into LLMError."""
    openai_server.reply = FakeReply(status=500)
    with pytest.raises(LLMError) as info:
        await llm._create(MESSAGES, None, 0.3)
    assert info.value.kind == "http" and info.value.status == 500


async def test_attempts_are_bounded_even_if_a_refusal_could_be_relaxed_forever(
    llm: LLMClient, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One try plus one per optional parameter, then an LLMError; never a last unguarded call."""
    openai_server.reply = FakeReply(status=400)
    monkeypatch.setattr(llm, "_relax", lambda kwargs, exc: True)  # a server whose refusals never end
    with pytest.raises(LLMError) as info:
        await llm.complete(MESSAGES, max_tokens=10, json_object=True)
    assert info.value.kind == "http" and info.value.status == 400
    assert len(openai_server.chat_requests) == 1 + len(OPTIONAL_PARAMETERS)
    with pytest.raises(LLMError):
        await llm._create(MESSAGES, 10, 0.3)
    assert len(openai_server.chat_requests) == 2 * (1 + len(OPTIONAL_PARAMETERS))


async def test_client_survives_a_new_event_loop(openai_server: FakeOpenAIServer) -> None:
    """The SDK's connection pool is loop-bound; a client reused from another loop must still work."""
    client = LLMClient(llm_settings(openai_server.base_url))
    openai_server.reply = FakeReply(text="一")
    assert (await client.complete(MESSAGES)).text == "一"

    def other_loop() -> str:
        return asyncio.run(client.complete(MESSAGES)).text

    assert await asyncio.to_thread(other_loop) == "一"
