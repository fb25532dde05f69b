"""The OpenAI-compatible chat client: one small wrapper over the official `openai` SDK.

Why a wrapper: every provider the product supports (OpenAI, DeepSeek, Qwen, Ollama,
vLLM…) speaks this protocol, but each fails differently — timeouts, refused
connections, 4xx/5xx, streams that stop half-way or send garbage. Callers (answers,
role-play, tips) should not know any of that: every fault becomes one `LLMError`
with a `kind` and a short Chinese `user_message`, so each caller can fall back
gracefully. Token usage comes from the server when it reports it, else it is
counted offline with tiktoken (`bot.tokens`).

Usage::

    llm = build_llm(settings)                  # None when no LLM is configured
    reply = await llm.complete(messages)        # LLMReply(text, prompt_tokens, completion_tokens)
    stream = llm.stream(messages)               # LLMStream
    async for delta in stream:                  # text pieces as they arrive
        ...
    stream.prompt_tokens, stream.completion_tokens, stream.text   # after exhaustion

The API key is never logged or put into an error message.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator

import openai

from bot.llm.prompts import t
from bot.settings import Settings
from bot.tokens import count_tokens

log = logging.getLogger(__name__)

# Per-message overhead of the chat format (role markers), as OpenAI documents it.
MESSAGE_OVERHEAD_TOKENS = 4
# Request parameters some servers refuse; each is dropped (and remembered) at most once, see _relax.
OPTIONAL_PARAMETERS = ("max_tokens", "response_format", "stream_options")


class LLMError(Exception):
    """Any failure talking to the model.

    `kind` is one of: "timeout", "connection", "auth", "rate_limit", "http",
    "stream" (broke or sent garbage mid-way), "bad_response" (unreadable reply).
    `status` is the HTTP status when there was one.
    """

    def __init__(self, kind: str, detail: str = "", *, status: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.status = status

    def message(self, lang: str = "zh") -> str:
        """The one-line text for a user, in `lang`."""
        return t(f"llm.error_{self.kind}", lang, status=self.status or "", detail=self.detail)

    @property
    def user_message(self) -> str:
        """The one-line Chinese text for a user."""
        return self.message("zh")


@dataclass(frozen=True)
class LLMReply:
    """A finished (non-streamed) reply with its token usage."""

    text: str
    prompt_tokens: int
    completion_tokens: int


def count_message_tokens(messages: list[dict[str, str]]) -> int:
    """Offline estimate of the prompt tokens a chat request costs (used when the server reports none)."""
    return sum(count_tokens(m.get("content", "")) + MESSAGE_OVERHEAD_TOKENS for m in messages) + 3


def _translate(exc: BaseException, *, streaming: bool = False) -> LLMError:
    """Map an SDK/transport exception onto one `LLMError` (never carries the key)."""
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", "request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("stream" if streaming else "connection", type(exc.__cause__ or exc).__name__)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = "auth" if status in (401, 403) else "rate_limit" if status == 429 else "http"
        return LLMError(kind, f"HTTP {status}", status=status)
    if isinstance(exc, openai.APIError):  # e.g. an error event inside a stream
        return LLMError("stream" if streaming else "bad_response", type(exc).__name__)
    return LLMError("stream" if streaming else "bad_response", type(exc).__name__)


class LLMStream:
    """An async-iterable of text deltas; usage and full text are set once it is exhausted.

    Iterate it once. Raises `LLMError` from the iteration on any fault, including a
    stream that ends without a finish reason (cut off by a proxy or a crash).
    """

    def __init__(
        self,
        client: "LLMClient",
        messages: list[dict[str, str]],
        max_tokens: int | None,
        temperature: float,
    ) -> None:
        self._client = client
        self._messages = messages
        self._max_tokens = max_tokens
        self._temperature = temperature
        self.text = ""
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.finish_reason: str | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._run()

    async def _open(self) -> Any:
        try:
            return await self._client._create(
                self._messages, self._max_tokens, self._temperature, stream=True
            )
        except Exception as exc:
            err = _translate(exc)
            log.warning("LLM stream failed to open: %s", err)
            raise err from exc

    async def _run(self) -> AsyncIterator[str]:
        response = await self._open()
        usage = None
        try:
            async for chunk in response:
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    delta = getattr(choice.delta, "content", None) if choice.delta else None
                    if choice.finish_reason:
                        self.finish_reason = choice.finish_reason
                    if delta:
                        self.text += delta
                        yield delta
        except Exception as exc:
            err = _translate(exc, streaming=True)
            log.warning("LLM stream broke: %s", err)
            raise err from exc
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # closing a broken connection may fail again; nothing to save
                    pass
        if self.finish_reason is None and usage is None:
            raise LLMError("stream", "stream ended without a finish reason")
        if usage is not None and getattr(usage, "prompt_tokens", None):
            self.prompt_tokens = int(usage.prompt_tokens)
            self.completion_tokens = int(usage.completion_tokens or 0)
        else:
            self.prompt_tokens = count_message_tokens(self._messages)
            self.completion_tokens = count_tokens(self.text)


class LLMClient:
    """Chat over an OpenAI-compatible endpoint (embeddings live in `bot.retrieval.embedders`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.openai_model
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        # Optional request features; a server that refuses one is not asked again (see _relax).
        self._stream_usage_supported = True
        self._json_mode_supported = True
        self._max_tokens_param = "max_tokens"

    def __repr__(self) -> str:  # no key in reprs that end up in logs
        return f"LLMClient(model={self.model!r}, base_url={self.settings.openai_base_url or 'default'!r})"

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.openai_base_url or None,
            "api_key": self.settings.openai_api_key or "not-needed",
            "timeout": self.settings.llm_timeout_s,
            "max_retries": self.settings.llm_max_retries,
        }

    def _async_client(self) -> openai.AsyncOpenAI:
        """The SDK client for the running event loop (its connection pool is loop-bound)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(**self._client_kwargs())
            self._client_loop = loop
        return self._client

    async def _create(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        temperature: float,
        *,
        stream: bool = False,
        json_object: bool = False,
    ) -> Any:
        client = self._async_client()
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature}
        if max_tokens:
            kwargs[self._max_tokens_param] = max_tokens
        if json_object and self._json_mode_supported:
            kwargs["response_format"] = {"type": "json_object"}
        if stream:
            kwargs["stream"] = True
            if self._stream_usage_supported:
                kwargs["stream_options"] = {"include_usage": True}
        # One try, plus one per optional parameter a server may refuse: the loop always ends.
        attempts = 1 + len(OPTIONAL_PARAMETERS)
        for attempt in range(1, attempts + 1):
            try:
                return await client.chat.completions.create(**kwargs)
            except openai.BadRequestError as exc:
                if attempt == attempts or not self._relax(kwargs, exc):
                    raise _translate(exc) from exc
            except Exception as exc:
                raise _translate(exc) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _relax(self, kwargs: dict[str, Any], exc: openai.BadRequestError) -> bool:
        """Drop an optional parameter a server refused (and remember); True if the request changed.

        Providers differ: some reject `stream_options` (we then count tokens with
        tiktoken), some `response_format` (callers still get the text and parse it),
        and newer OpenAI models want `max_completion_tokens` instead of `max_tokens`.
        A parameter is dropped only when the refusal names it: any other 400 (a prompt
        too long, a bad message) is the caller's error and retrying cannot fix it.
        """
        message = str(exc).lower()
        if "max_tokens" in kwargs and "max_completion_tokens" in message:
            kwargs["max_completion_tokens"] = kwargs.pop("max_tokens")
            self._max_tokens_param = "max_completion_tokens"
            log.info("model server wants max_completion_tokens; switching")
            return True
        if "response_format" in kwargs and ("response_format" in message or "json" in message):
            del kwargs["response_format"]
            self._json_mode_supported = False
            log.info("model server refused response_format; asking for JSON in the prompt only")
            return True
        if "stream_options" in kwargs and ("stream_options" in message or "include_usage" in message):
            del kwargs["stream_options"]
            self._stream_usage_supported = False
            log.info("model server refused stream_options; counting tokens locally")
            return True
        return False

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.3,
        json_object: bool = False,
    ) -> LLMReply:
        """One whole reply. `json_object=True` asks the server for a JSON object (response_format)."""
        try:
            response = await self._create(messages, max_tokens, temperature, json_object=json_object)
            choice = response.choices[0]
            text = choice.message.content
            if text is None:
                raise LLMError("bad_response", "reply has no text")
        except LLMError as exc:
            log.warning("LLM call failed: %s", exc)
            raise
        except Exception as exc:
            err = _translate(exc)
            log.warning("LLM call failed: %s", err)
            raise err from exc
        usage = getattr(response, "usage", None)
        if usage is not None and getattr(usage, "prompt_tokens", None):
            return LLMReply(text, int(usage.prompt_tokens), int(usage.completion_tokens or 0))
        return LLMReply(text, count_message_tokens(messages), count_tokens(text))

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.3,
    ) -> LLMStream:
        """A streamed reply: `async for delta in llm.stream(...)`; usage on the object afterwards."""
        return LLMStream(self, messages, max_tokens, temperature)

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        if self._client is not None:
            try:
                await self._client.close()
            except Exception:
                pass
            self._client = None


def build_llm(settings: Settings) -> LLMClient | None:
    """The client for the configured endpoint, or None in offline (extractive) mode."""
    if not settings.llm_enabled:
        return None
    return LLMClient(settings)
