"""A small fake OpenAI-compatible HTTP server for tests (stdlib only).

Why: tests must drive the REAL `openai` client over a real socket, including the
faults real servers produce (slow replies, 4xx/5xx, streams cut mid-way, garbage).

Start it on 127.0.0.1 with an ephemeral port::

    from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, fake_openai_server

    with fake_openai_server() as server:                 # or FakeOpenAIServer().start() / .stop()
        settings = replace(settings, openai_base_url=server.base_url, openai_api_key="sk-test",
                           llm_max_retries=0, llm_timeout_s=2)
        server.reply = FakeReply(text="你好 [1]")          # the default for every request
        server.queue(FakeReply(status=500))              # only for the next request (FIFO)
        ...
        server.chat_requests[-1]["messages"]             # what the client sent (parsed JSON)

Endpoints:
- POST /v1/chat/completions — non-streaming JSON, or SSE when `"stream": true`
  (`data: {chunk}` lines, a last chunk with `finish_reason`, a usage chunk when
  the request asked `stream_options.include_usage`, then `data: [DONE]`), sent
  with chunked transfer encoding like real servers.
- POST /v1/embeddings — deterministic unit vectors (`embedding_dim`, default 8)
  derived from each input's hash, so equal texts get equal vectors.
- POST /v1/audio/transcriptions — multipart form like OpenAI's; answers `{"text": reply.text}`.
  The recorded `json` holds the form fields plus `file_name` and `file_size`; the audio bytes
  are in `server.audio_files`.

`FakeReply` fields (all optional):
- `text`: the reply, or a function `(request_json) -> str` (e.g. echo the prompt).
- `status`: HTTP status; not 200 → an OpenAI-style error JSON body.
- `delay_s`: sleep before answering (to trigger the client's timeout; the sleep
  ends early when the server stops, so tests never wait it out).
- `break_after`: in a stream, close the socket abruptly after this many content
  chunks (no terminating chunk, no [DONE]).
- `malformed`: send a body (or an SSE chunk) that is not valid JSON.
- `finish`: False → the stream ends cleanly without a finish_reason and [DONE].
- `chunk_chars`: characters per streamed content chunk (default 4).
- `usage`: False → no usage in the response (the client must count tokens itself).
- `chunk_delay_s`: pause between streamed content chunks (a slow model).

Other knobs: `server.reject_stream_options = True` answers 400 to any request
carrying `stream_options` (like some older servers); `server.reject_params =
{"response_format", "max_tokens", …}` does the same for other parameters
(for "max_tokens" the message suggests `max_completion_tokens`, like OpenAI's
newer models). Records: `server.requests`
(every request as `RecordedRequest(path, headers, json)`), `server.chat_requests`
(the JSON bodies of chat calls).
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

from bot.tokens import count_tokens


@dataclass
class FakeReply:
    """How the server answers one request (see the module docstring)."""

    text: str | Callable[[dict[str, Any]], str] = "好的。"
    status: int = 200
    delay_s: float = 0.0
    break_after: int | None = None
    malformed: bool = False
    finish: bool = True
    chunk_chars: int = 4
    usage: bool = True
    chunk_delay_s: float = 0.0  # pause between streamed chunks (added for the Telegram streaming tests)

    def render(self, request: dict[str, Any]) -> str:
        return self.text(request) if callable(self.text) else self.text


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # keys lower-cased
    json: dict[str, Any]


@dataclass
class FakeOpenAIServer:
    """The server object; `base_url` ends with /v1 as the SDK expects."""

    reply: FakeReply = field(default_factory=FakeReply)
    embedding_dim: int = 8
    reject_stream_options: bool = False
    reject_params: set[str] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    audio_files: list[bytes] = field(default_factory=list)
    _queue: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ---- control -------------------------------------------------------------
    def start(self) -> "FakeOpenAIServer":
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: FakeReply) -> None:
        """Use these replies for the next requests, in order, then fall back to `reply`."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def transcription_requests(self) -> list[dict[str, Any]]:
        return [r.json for r in self.requests if r.path.endswith("/audio/transcriptions")]

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.json for r in self.requests if r.path.endswith("/chat/completions")]

    # ---- internals -----------------------------------------------------------
    def _next_reply(self) -> FakeReply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.reply

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _vector(text: str, dim: int) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    raw = [(digest[i % len(digest)] - 127.5) for i in range(dim)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def _form(content_type: str, raw: bytes, server: FakeOpenAIServer) -> dict[str, Any]:
    """A multipart form as {field: text}; the file part becomes file_name/file_size (bytes kept on the server)."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields["file_name"], fields["file_size"] = part.get_filename(), len(payload)
            with server._lock:
                server.audio_files.append(payload)
        elif name:
            fields[name] = payload.decode("utf-8")
    return fields


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(count_tokens(str(m.get("content", ""))) + 4 for m in body.get("messages", [])) + 3


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        # -- helpers
        def _send_json(self, status: int, payload: Any | None, raw: bytes | None = None) -> None:
            body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send_json(status, {"error": {"message": message, "type": "fake_error", "code": status}})

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _sse(self, payload: Any) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            self._chunk(f"data: {data}\n\n".encode("utf-8"))

        def _abort(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        # -- entry point
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                body = _form(self.headers["Content-Type"], raw, server)
            else:
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
            server._record(RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            try:
                if self.path.endswith("/chat/completions"):
                    self._chat(body)
                elif self.path.endswith("/embeddings"):
                    self._embeddings(body)
                elif self.path.endswith("/audio/transcriptions"):
                    self._transcription(body)
                else:
                    self._error(404, f"no route {self.path}")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired)

        def _scripted(self) -> FakeReply | None:
            """The next scripted reply after its delay; None when it was a failure already answered."""
            reply = server._next_reply()
            if reply.delay_s:
                server._sleep(reply.delay_s)
            if reply.status != 200:
                self._error(reply.status, "scripted failure")
                return None
            if reply.malformed:
                self._send_json(200, None, raw=b"{not json")
                return None
            return reply

        def _transcription(self, body: dict[str, Any]) -> None:
            reply = self._scripted()
            if reply is None:
                return
            if not body.get("file_size"):
                return self._error(400, "file is required")
            self._send_json(200, {"text": reply.render(body)})

        def _embeddings(self, body: dict[str, Any]) -> None:
            reply = self._scripted()
            if reply is None:
                return
            inputs = body.get("input", [])
            inputs = [inputs] if isinstance(inputs, str) else inputs
            data = [
                {"object": "embedding", "index": i, "embedding": _vector(str(text), server.embedding_dim)}
                for i, text in enumerate(inputs)
            ]
            tokens = sum(count_tokens(str(x)) for x in inputs)
            self._send_json(200, {"object": "list", "data": data, "model": body.get("model", ""),
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        def _chat(self, body: dict[str, Any]) -> None:
            reply = server._next_reply()
            refused = set(server.reject_params) | ({"stream_options"} if server.reject_stream_options else set())
            for name in sorted(refused & set(body)):
                hint = " Use 'max_completion_tokens' instead." if name == "max_tokens" else ""
                return self._error(400, f"Unsupported parameter: '{name}'.{hint}")
            if reply.delay_s:
                server._sleep(reply.delay_s)
                if server._stopping.is_set():
                    return self._abort()
            if reply.status != 200:
                return self._error(reply.status, "scripted failure")
            text = reply.render(body)
            prompt_tokens = _prompt_tokens(body)
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": count_tokens(text),
                "total_tokens": prompt_tokens + count_tokens(text),
            }
            base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body.get("model", "fake")}
            if not body.get("stream"):
                if reply.malformed:
                    return self._send_json(200, None, raw=b'{"id": "chatcmpl-fake", "choices": [')
                payload = {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                }
                if reply.usage:
                    payload["usage"] = usage
                return self._send_json(200, payload)

            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = max(1, reply.chunk_chars)
            pieces = [text[i : i + step] for i in range(0, len(text), step)]
            chunk_base = {**base, "object": "chat.completion.chunk"}
            self._sse({**chunk_base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                  "finish_reason": None}]})
            for i, piece in enumerate(pieces):
                if reply.break_after is not None and i >= reply.break_after:
                    return self._abort()
                if reply.chunk_delay_s and i:
                    server._sleep(reply.chunk_delay_s)
                if reply.malformed and i == len(pieces) // 2:
                    self._sse("{this is not json")
                self._sse({**chunk_base, "choices": [{"index": 0, "delta": {"content": piece},
                                                      "finish_reason": None}]})
            if reply.break_after is not None and reply.break_after >= len(pieces):
                return self._abort()
            if reply.finish:
                self._sse({**chunk_base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                    self._sse({**chunk_base, "choices": [], "usage": usage})
                self._sse("[DONE]")
            self._chunk(b"")  # the terminating zero-length chunk: the body ended cleanly

    return Handler


@contextmanager
def fake_openai_server(**kwargs: Any) -> Iterator[FakeOpenAIServer]:
    """Run a FakeOpenAIServer for the duration of a `with` block (or a pytest fixture)."""
    server = FakeOpenAIServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def closed_port_url() -> str:
    """A base URL on a loopback port nothing listens on (for 'connection refused')."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
