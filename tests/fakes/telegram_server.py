"""A fake Telegram Bot API server for tests and benchmarks (stdlib only, real HTTP on loopback).

Why: the bot must be tested through the REAL python-telegram-bot stack — its
HTTP client, polling loop, rate limiter, error mapping — so this server speaks
the Bot API wire format (form-encoded or multipart bodies, nested objects as
JSON strings, `{"ok": ..., "result": ...}` answers) and behaves like Telegram
where it matters: long-polling `getUpdates`, strict HTML entity parsing
("can't parse entities"), the 4096-character limit, "message is not
modified", edits that return the edited Message, and injectable faults.

Start it and point the bot at it::

    from tests.fakes.telegram_server import FakeTelegramServer

    server = FakeTelegramServer().start()        # 127.0.0.1, ephemeral port; server.stop() at the end
    settings = replace(settings, telegram_bot_token=server.token,
                       telegram_api_base_url=server.base_url)   # the bot uses {base}/bot<token>/<method>

Talk to the bot as users (each returns the injected `Update` id; private chat id = user id)::

    server.send_text(user_id, "客户不回消息怎么办？")           # chat_id=…, chat_type="supergroup", reply_to=msg
    server.send_command(user_id, "/start")                      # bot_command entity added
    server.mention(user_id, "问题", chat_id=-100)               # "@<bot username> 问题" in a group
    server.press_button(user_id, message, "fb:1:up")            # a callback query on a bot message
    server.send_sticker / send_photo / send_voice(user_id, …)
    server.send_document(user_id, "资料.pdf", b"%PDF…", mime_type="application/pdf")
                                                                # downloadable via getFile + /file/bot<token>/<path>

Observe what the bot did (all thread-safe; the `wait_*` helpers are async)::

    msgs = await server.wait_for_messages(chat_id, count=1, timeout=10)   # -> list[BotMessage]
    msg = await server.wait_for(lambda: ..., timeout=10, what="...")      # any predicate under the lock
    final = await server.wait_for_text(chat_id, "来源")                    # a message whose text contains it
    server.messages(chat_id)        # BotMessage list in send order (text = plain text after HTML parsing)
    msg.html, msg.text, msg.parse_mode, msg.buttons (list of (text, callback_data)), msg.versions
                                    # versions: every text it had (sent, then each edit), msg.edits
    server.calls("sendChatAction")  # every API call as ApiCall(method, params, at)
    server.callback_answers         # answerCallbackQuery params
    server.commands                 # setMyCommands: {(scope_json, language_code): [(command, description)]}
    server.errors                   # every error answer the server gave (status, description, method)

Make Telegram misbehave for a chat::

    server.fail(chat_id, "forbidden")                    # 403 "bot was blocked by the user", every call, until
    server.clear_faults(chat_id)                          #   cleared; times=N limits it to the next N calls
    server.fail(chat_id, "retry_after", retry_after=1, times=1, methods={"sendMessage"})
    server.fail(chat_id, "cant_parse", times=1)          # 400 can't parse entities
    server.fail(chat_id, "bad_request", description="Bad Request: chat not found")
    server.fail(None, "bad_request", methods={"setMyCommands"})   # chat_id None: calls without a chat

Webhook mode: `server.webhook_url` is what the bot registered with setWebhook;
`server.take_updates()` removes the queued updates so a test can POST them to the bot.

Pytest fixtures built on it live in tests/telegram_fixtures.py.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

T = TypeVar("T")

BOT_ID = 7000000001
BOT_USERNAME = "salescoach_test_bot"
DEFAULT_TOKEN = f"{BOT_ID}:AAFakeTokenForTestsOnly_abcdefghijklmno"
MESSAGE_LIMIT = 4096
JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "allowed_updates",
    "reply_parameters",
    "link_preview_options",
    "media",
}
SUPPORTED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*>")


class HtmlError(ValueError):
    """What Telegram reports as "Bad Request: can't parse entities: …"."""


def parse_html(text: str) -> str:
    """Validate Telegram-HTML like the real server and return the plain text it shows."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if not match:
                raise HtmlError(f"Unexpected '<' at byte offset {len(text[:i].encode())}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in SUPPORTED_TAGS:
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {len(text[:i].encode())}')
            if closing:
                if not stack or stack[-1] != name:
                    raise HtmlError(f'Unmatched end tag at byte offset {len(text[:i].encode())}, expected "</{stack[-1] if stack else ""}>", found "</{name}>"')
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise HtmlError(f"Character '&' is reserved and must be escaped, at byte offset {len(text[:i].encode())}")
            out.append(html.unescape(match.group(0)))
            i = match.end()
        elif ch == ">":
            raise HtmlError(f"Character '>' is reserved and must be escaped, at byte offset {len(text[:i].encode())}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class BotMessage:
    """A message the bot sent, as the fake server keeps it (mutated by edits)."""

    message_id: int
    chat_id: int
    kind: str  # "text" | "photo" | "document"
    text: str  # plain text (after HTML parsing) or caption
    html: str  # exactly what the bot sent
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    sent_at: float
    versions: list[str] = field(default_factory=list)  # plain text: as sent, then after each edit
    edited_at: list[float] = field(default_factory=list)
    deleted: bool = False
    file_bytes: bytes | None = None
    file_name: str | None = None

    @property
    def edits(self) -> int:
        return len(self.versions) - 1

    @property
    def last_change_at(self) -> float:
        return self.edited_at[-1] if self.edited_at else self.sent_at

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data or url) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b.get("callback_data") or b.get("url") or "") for row in rows for b in row]


@dataclass
class _Fault:
    chat_id: int
    kind: str
    times: int | None
    methods: set[str] | None
    retry_after: int
    description: str | None


@dataclass
class _Upload:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


class FakeTelegramServer:
    """The server and its state. See the module docstring for the API."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[int, list[BotMessage]] = {}
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._uploads: dict[str, _Upload] = {}
        self._downloads: list[str] = []
        self._next_file = 1
        self._next_callback = 1
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._closed = False
        self.api_calls: list[ApiCall] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.errors: list[tuple[int, str, str]] = []
        self.webhook_url = ""
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> "FakeTelegramServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeTelegramServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be (the bot appends /bot<token>/<method>)."""
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # ---- users talk to the bot ----------------------------------------------------------------

    def user(self, user_id: int, first_name: str | None = None, language_code: str = "zh-hans") -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"用户{user_id}",
            "username": f"user{user_id}",
            "language_code": language_code,
        }

    def _chat(self, chat_id: int, chat_type: str, user: dict[str, Any]) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": user["first_name"], "username": user["username"]}
        return {"id": chat_id, "type": chat_type, "title": f"群 {chat_id}"}

    def _inject_message(
        self,
        user_id: int,
        content: dict[str, Any],
        chat_id: int | None,
        chat_type: str | None,
        reply_to: "BotMessage | int | None",
        first_name: str | None,
    ) -> int:
        chat_id = user_id if chat_id is None else chat_id
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        user = self.user(user_id, first_name)
        with self._cond:
            message_id = self._new_message_id(chat_id)
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type, user),
                "from": user,
                **content,
            }
            if reply_to is not None:
                replied_id = reply_to.message_id if isinstance(reply_to, BotMessage) else reply_to
                replied = self._message_dict_locked(chat_id, replied_id)
                if replied is not None:
                    message["reply_to_message"] = replied
            self._user_messages[(chat_id, message_id)] = message
            return self._push_update_locked({"message": message})

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str | None = None,
        reply_to: "BotMessage | int | None" = None,
        entities: list[dict[str, Any]] | None = None,
        first_name: str | None = None,
    ) -> int:
        """A text message from `user_id` (in their private chat unless `chat_id` is given)."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._inject_message(user_id, content, chat_id, chat_type, reply_to, first_name)

    def send_command(self, user_id: int, command: str, chat_id: int | None = None, **kwargs: Any) -> int:
        """A command such as "/start" or "/subscribe 08:30 上海" (the bot_command entity is added)."""
        if not command.startswith("/"):
            command = "/" + command
        head = command.split()[0]
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(head)}
        return self.send_text(user_id, command, chat_id=chat_id, entities=[entity], **kwargs)

    def mention(self, user_id: int, text: str, chat_id: int, **kwargs: Any) -> int:
        """A group message that starts with "@<bot username>"."""
        handle = f"@{self.bot_username}"
        entity = {"type": "mention", "offset": 0, "length": utf16_len(handle)}
        return self.send_text(user_id, f"{handle} {text}", chat_id=chat_id, entities=[entity], **kwargs)

    def send_sticker(self, user_id: int, chat_id: int | None = None, **kwargs: Any) -> int:
        sticker = {"file_id": "sticker-1", "file_unique_id": "s1", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}  # fmt: skip
        return self._inject_message(user_id, {"sticker": sticker}, chat_id, kwargs.get("chat_type"),
                                    kwargs.get("reply_to"), kwargs.get("first_name"))  # fmt: skip

    def send_photo(self, user_id: int, content: bytes = b"\x89PNG fake", chat_id: int | None = None, caption: str | None = None) -> int:
        upload = self._store_upload(content, "photos/photo.jpg")
        photo = [{"file_id": upload.file_id, "file_unique_id": upload.file_unique_id, "width": 90, "height": 90,
                  "file_size": len(content)}]  # fmt: skip
        body: dict[str, Any] = {"photo": photo}
        if caption:
            body["caption"] = caption
        return self._inject_message(user_id, body, chat_id, None, None, None)

    def send_voice(
        self,
        user_id: int,
        content: bytes = b"OggS fake",
        chat_id: int | None = None,
        duration: int = 3,
        file_size: int | None = None,
        reply_to: "BotMessage | int | None" = None,
        audio_file: str | None = None,
    ) -> int:
        """A voice note (or, with `audio_file`, an audio file such as "录音.mp3"); the bot fetches it with
        getFile and the file URL. `duration` and `file_size` are what the update declares (a client can lie)."""
        kind = "audio" if audio_file else "voice"
        upload = self._store_upload(content, f"{kind}/{audio_file or 'voice.oga'}")
        media = {"file_id": upload.file_id, "file_unique_id": upload.file_unique_id, "duration": duration,
                 "mime_type": "audio/mpeg" if audio_file else "audio/ogg",
                 "file_size": len(content) if file_size is None else file_size}  # fmt: skip
        if audio_file:
            media["file_name"] = audio_file
        return self._inject_message(user_id, {kind: media}, chat_id, None, reply_to, None)

    def file_downloads(self) -> list[str]:
        """File paths the bot downloaded (GET /file/bot<token>/<path>), in order."""
        with self._cond:
            return list(self._downloads)

    def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat_id: int | None = None,
        caption: str | None = None,
    ) -> int:
        """A file from the user; the bot can fetch it with getFile and download it."""
        upload = self._store_upload(content, f"documents/{file_name}")
        document = {"file_id": upload.file_id, "file_unique_id": upload.file_unique_id, "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(content)}  # fmt: skip
        body: dict[str, Any] = {"document": document}
        if caption:
            body["caption"] = caption
        return self._inject_message(user_id, body, chat_id, None, None, None)

    def press_button(self, user_id: int, message: "BotMessage | int", data: str, chat_id: int | None = None) -> str:
        """A tap on an inline button of a bot message; returns the callback query id."""
        with self._cond:
            if isinstance(message, BotMessage):
                chat_id, message_id = message.chat_id, message.message_id
            else:
                chat_id, message_id = (user_id if chat_id is None else chat_id), message
            message_dict = self._message_dict_locked(chat_id, message_id)
            if message_dict is None:
                raise KeyError(f"no bot message {message_id} in chat {chat_id}")
            query_id = str(self._next_callback)
            self._next_callback += 1
            query = {
                "id": query_id,
                "from": self.user(user_id),
                "message": message_dict,
                "chat_instance": f"ci-{chat_id}",
                "data": data,
            }
            self._push_update_locked({"callback_query": query})
            return query_id

    def _store_upload(self, content: bytes, path: str) -> _Upload:
        with self._cond:
            n = self._next_file
            self._next_file += 1
            upload = _Upload(file_id=f"file-{n}", file_unique_id=f"u{n}", file_path=f"{n}/{path}", content=content)
            self._uploads[upload.file_id] = upload
            return upload

    def _push_update_locked(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **payload})
        self._cond.notify_all()
        return update_id

    def _new_message_id(self, chat_id: int) -> int:
        n = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = n
        return n

    # ---- faults --------------------------------------------------------------------------------

    def fail(
        self,
        chat_id: int | None,
        kind: str,
        times: int | None = None,
        methods: Iterable[str] | None = None,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer calls for `chat_id` (None: any call, e.g. setMyCommands) with an error:
        "forbidden", "retry_after", "cant_parse" or "bad_request"."""
        if kind not in {"forbidden", "retry_after", "cant_parse", "bad_request"}:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._cond:
            self._faults.append(_Fault(chat_id, kind, times, set(methods) if methods else None, retry_after, description))

    def clear_faults(self, chat_id: int | None = None) -> None:
        """Remove the faults of `chat_id`, or all faults when it is None."""
        with self._cond:
            self._faults = [f for f in self._faults if chat_id is not None and f.chat_id != chat_id]

    def _fault_for_locked(self, method: str, params: dict[str, Any]) -> tuple[int, str, dict[str, Any]] | None:
        try:
            chat_id: int | None = int(params.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            chat_id = None
        for fault in list(self._faults):
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.methods and method not in fault.methods:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            if fault.kind == "forbidden":
                return 403, fault.description or "Forbidden: bot was blocked by the user", {}
            if fault.kind == "retry_after":
                return 429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after}
            if fault.kind == "cant_parse":
                return 400, fault.description or "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0", {}
            return 400, fault.description or "Bad Request: chat not found", {}
        return None

    # ---- observing -----------------------------------------------------------------------------

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[BotMessage]:
        with self._cond:
            return [m for m in self._messages.get(chat_id, []) if include_deleted or not m.deleted]

    def all_messages(self) -> list[BotMessage]:
        with self._cond:
            return [m for msgs in self._messages.values() for m in msgs if not m.deleted]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._cond:
            return [c for c in self.api_calls if method is None or c.method == method]

    def take_updates(self) -> list[dict[str, Any]]:
        """Remove and return the queued updates (webhook tests POST them to the bot themselves)."""
        with self._cond:
            taken, self._updates = self._updates, []
            return taken

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    def _notify_locked(self) -> None:
        self._cond.notify_all()
        for loop, event in list(self._waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed
                self._waiters.discard((loop, event))

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "a condition", poll_s: float = 0.05
    ) -> T:
        """Wait until `predicate()` (run under the server lock) returns something truthy; return it.

        The predicate may also look at the bot's own state (e.g. its database); it is
        re-evaluated on every API call the bot makes and at least every `poll_s`.
        """
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._cond:
            self._waiters.add(waiter)
        try:
            while True:
                event.clear()
                with self._cond:
                    result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}; bot messages: {self.describe()}")
                try:  # woken by any API call; re-checked every `poll_s` for state outside the server
                    await asyncio.wait_for(event.wait(), min(remaining, poll_s))
                except TimeoutError:
                    pass
        finally:
            with self._cond:
                self._waiters.discard(waiter)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[BotMessage], bool] | None = None,
    ) -> list[BotMessage]:
        """The first `count` messages in `chat_id` (matching `where`), once there are that many."""

        def ready() -> list[BotMessage] | None:
            found = [m for m in self._messages.get(chat_id, []) if not m.deleted and (where is None or where(m))]
            return found[:count] if len(found) >= count else None

        return await self.wait_for(ready, timeout, what=f"{count} message(s) in chat {chat_id}")

    async def wait_for_text(self, chat_id: int, needle: str, timeout: float = 10.0) -> BotMessage:
        """The first message in `chat_id` whose current plain text contains `needle`."""
        found = await self.wait_for_messages(chat_id, 1, timeout, where=lambda m: needle in m.text)
        return found[0]

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        def ready() -> list[ApiCall] | None:
            found = [c for c in self.api_calls if c.method == method]
            return found if len(found) >= count else None

        return await self.wait_for(ready, timeout, what=f"{count} {method} call(s)")

    def describe(self) -> str:
        with self._cond:
            lines = [
                f"[chat {m.chat_id} #{m.message_id}{' edited' * bool(m.edits)}] {m.text[:80]!r}"
                for msgs in self._messages.values()
                for m in msgs
            ]
        return "\n" + "\n".join(lines[-20:]) if lines else "(none)"

    # ---- API implementation (called from server threads) ------------------------------------

    def _message_dict_locked(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        for m in self._messages.get(chat_id, []):
            if m.message_id == message_id and not m.deleted:
                return self._bot_message_dict(m)
        return self._user_messages.get((chat_id, message_id))

    def _bot_message_dict(self, m: BotMessage) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": m.chat_id, "type": "private" if m.chat_id > 0 else "supergroup"}
        if m.chat_id < 0:
            chat["title"] = f"群 {m.chat_id}"
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "date": int(m.sent_at),
            "chat": chat,
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "客情教练", "username": self.bot_username},
        }
        if m.kind == "text":
            out["text"] = m.text
        else:
            if m.text:
                out["caption"] = m.text
            if m.kind == "photo":
                out["photo"] = [{"file_id": f"sent-{m.message_id}", "file_unique_id": f"sp{m.message_id}", "width": 800, "height": 600}]
            else:
                out["document"] = {"file_id": f"sent-{m.message_id}", "file_unique_id": f"sd{m.message_id}", "file_name": m.file_name or "file"}
        if m.edited_at:
            out["edit_date"] = int(m.edited_at[-1])
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        return out

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Dispatch one API call; returns (HTTP status, JSON body)."""
        with self._cond:
            self.api_calls.append(ApiCall(method, params, time.monotonic()))
            self._notify_locked()
            fault = self._fault_for_locked(method, params)
            if fault is not None:
                status, description, parameters = fault
                return self._error_locked(status, description, method, parameters)
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._cond:
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                return self._error_locked(404, "Not Found: method not found", method)
            try:
                result = handler(params)
            except _ApiError as exc:
                return self._error_locked(exc.status, exc.description, method)
            self._notify_locked()
            return 200, {"ok": True, "result": result}

    def _error_locked(self, status: int, description: str, method: str, parameters: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        self.errors.append((status, description, method))
        self._notify_locked()
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return status, body

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self._updates[:limit])

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "客情教练", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        key = (json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), str(params.get("language_code", "")))
        self.commands[key] = [(c["command"], c["description"]) for c in params.get("commands", [])]
        return True

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        key = (json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), str(params.get("language_code", "")))
        self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = (json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), str(params.get("language_code", "")))
        return [{"command": c, "description": d} for c, d in self.commands.get(key, [])]

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._require_chat(params)
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    def _require_chat(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat_id is empty") from None

    def _render_text(self, params: dict[str, Any], key: str = "text", required: bool = True) -> tuple[str, str]:
        raw = str(params.get(key, ""))
        parse_mode = params.get("parse_mode")
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                plain = parse_html(raw)
            except HtmlError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif parse_mode:
            raise _ApiError(400, f"Bad Request: this fake supports only HTML parse mode, got {parse_mode}")
        else:
            plain = raw
        limit = MESSAGE_LIMIT if key == "text" else 1024
        if required and not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise _ApiError(400, "Bad Request: message is too long" if key == "text" else "Bad Request: message caption is too long")
        return raw, plain

    def _reply_to(self, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and reply.get("message_id"):
            return int(reply["message_id"])
        if params.get("reply_to_message_id"):
            return int(params["reply_to_message_id"])
        return None

    def _store_sent(self, chat_id: int, kind: str, raw: str, plain: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        m = BotMessage(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            kind=kind,
            text=plain,
            html=raw,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup") or None,
            reply_to_message_id=self._reply_to(params),
            sent_at=time.monotonic(),
            versions=[plain],
            **extra,
        )
        self._messages.setdefault(chat_id, []).append(m)
        return self._bot_message_dict(m)

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        raw, plain = self._render_text(params)
        return self._store_sent(chat_id, "text", raw, plain, params)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        raw, plain = self._render_text(params, "caption", required=False)
        photo = params.get("photo")
        content = photo[1] if isinstance(photo, tuple) else str(photo or "").encode()
        return self._store_sent(chat_id, "photo", raw, plain, params, file_bytes=content, file_name="photo")

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        raw, plain = self._render_text(params, "caption", required=False)
        document = params.get("document")
        name, content = (document if isinstance(document, tuple) else ("file", str(document or "").encode()))
        return self._store_sent(chat_id, "document", raw, plain, params, file_bytes=content, file_name=name)

    def _find(self, params: dict[str, Any]) -> BotMessage:
        if params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not supported by this fake")
        chat_id = self._require_chat(params)
        message_id = int(params.get("message_id") or 0)
        for m in self._messages.get(chat_id, []):
            if m.message_id == message_id and not m.deleted:
                return m
        raise _ApiError(400, "Bad Request: message to edit not found")

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        m = self._find(params)
        if m.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        raw, plain = self._render_text(params)
        markup = params.get("reply_markup") or None
        if plain == m.text and raw == m.html and markup == m.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        m.text, m.html, m.parse_mode, m.reply_markup = plain, raw, params.get("parse_mode"), markup
        m.versions.append(plain)
        m.edited_at.append(time.monotonic())
        return self._bot_message_dict(m)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        m = self._find(params)
        markup = params.get("reply_markup") or None
        if markup == m.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        m.reply_markup = markup
        m.edited_at.append(time.monotonic())
        return self._bot_message_dict(m)

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        try:
            m = self._find(params)
        except _ApiError:
            raise _ApiError(400, "Bad Request: message to delete not found") from None
        m.deleted = True
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = self._uploads.get(str(params.get("file_id", "")))
        if upload is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": upload.file_id, "file_unique_id": upload.file_unique_id,
                "file_size": len(upload.content), "file_path": upload.file_path}  # fmt: skip

    def file_content(self, file_path: str) -> bytes | None:
        with self._cond:
            self._downloads.append(file_path)
            for upload in self._uploads.values():
                if upload.file_path == file_path:
                    return upload.content
        return None


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _decode_value(key: str, value: str) -> Any:
    if key in JSON_FIELDS or (value[:1] in "[{" and value[-1:] in "]}"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_body(content_type: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Bot API parameters from a form-encoded, multipart or JSON body (and the query string)."""
    params: dict[str, Any] = {k: _decode_value(k, v[-1]) for k, v in parse_qs(query).items()}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" and body:
        params.update(json.loads(body))
    elif kind == "application/x-www-form-urlencoded":
        params.update({k: _decode_value(k, v[-1]) for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = (filename, payload)
            else:
                params[name] = _decode_value(name, payload.decode("utf-8"))
        for key, value in list(params.items()):  # "attach://name" references an uploaded part
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                params[key] = files[value[9:]]
        for name, value in files.items():
            params.setdefault(name, value)
    return params


def _make_handler(server: FakeTelegramServer) -> type[BaseHTTPRequestHandler]:
    bot_prefix = f"/bot{server.token}/"
    file_prefix = f"/file/bot{server.token}/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer on loopback.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
            return

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. polling stopped)
                self.close_connection = True

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            file_path = unquote(url.path)  # PTB percent-encodes file URLs (the token's ":", non-ASCII names)
            if file_path.startswith(file_prefix):
                content = server.file_content(file_path[len(file_prefix):])
                if content is None:
                    return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return self._reply(200, content, "application/octet-stream")
            if not url.path.startswith(bot_prefix):
                return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            method = url.path[len(bot_prefix):]
            try:
                params = parse_body(self.headers.get("Content-Type", ""), body, url.query)
            except (ValueError, UnicodeDecodeError) as exc:
                return self._json(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
            status, payload = server.handle(method, params)
            self._json(status, payload)

        do_GET = _handle
        do_POST = _handle

    return Handler
