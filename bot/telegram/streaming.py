"""One answer's messages: a placeholder, throttled streaming edits, the final parts.

Why throttled edits in a background task: Telegram allows about one edit per
second per chat before flood control; the LLM produces tokens much faster.
The stream only records the newest text; a single editor task shows it at most
every `edit_interval_s` and only when it changed, so the stream is never held
up by Telegram and flood control is never tripped.

Why `fail()`: a "please wait" message must never stay behind after an error;
it is turned into the error text.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.llm.prompts import t
from bot.telegram.delivery import edit_part, retry_after_seconds, send_part
from bot.telegram.render import Part, render_plain, render_streaming

logger = logging.getLogger(__name__)

EDIT_INTERVAL_S = 1.2  # ≥ 1 s between edits of one message keeps well clear of flood control


class StreamEditor:
    """Shows the newest pushed text through `edit`, at most every `interval_s`, only when changed."""

    def __init__(self, edit: Callable[[str], Awaitable[object]], interval_s: float = EDIT_INTERVAL_S) -> None:
        self._edit = edit
        self._interval_s = interval_s
        self._latest: str | None = None
        self._shown: str | None = None
        self._next_at = 0.0
        self._changed = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._fatal: BaseException | None = None
        self.edits = 0

    def push(self, text: str) -> None:
        """Record the newest text; never waits for Telegram. Ignored once closed."""
        if self._closed.is_set():
            return
        if self._fatal is not None:
            raise self._fatal
        self._latest = text
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="stream-editor")

    async def close(self) -> None:
        """Stop editing; an edit already in flight is allowed to finish (never cut mid-request)."""
        self._closed.set()
        self._changed.set()
        if self._task is not None:
            await self._task
        if self._fatal is not None:
            raise self._fatal

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            delay = self._next_at - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), delay)
                continue
            if self._latest is None or self._latest == self._shown:
                self._changed.clear()
                await self._changed.wait()
                continue
            text = self._latest
            try:
                await self._edit(text)
                self.edits += 1
            except Forbidden as exc:
                self._fatal = exc
                return
            except RetryAfter as exc:
                self._next_at = loop.time() + retry_after_seconds(exc)
                continue
            except TelegramError as exc:  # a skipped intermediate edit is harmless
                logger.debug("Streaming edit skipped: %s", exc)
            self._shown = text
            self._next_at = loop.time() + self._interval_s


class AnswerReply:
    """The messages of one answer in one chat."""

    def __init__(
        self,
        bot: ExtBot,
        chat_id: int,
        lang: str,
        reply_to: int | None = None,
        edit_interval_s: float = EDIT_INTERVAL_S,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.lang = lang
        self.reply_to = reply_to
        self.edit_interval_s = edit_interval_s
        self.placeholder: Message | None = None
        self.messages: list[Message] = []
        self._lock = asyncio.Lock()
        self._settled = False
        self._timer: asyncio.Task[None] | None = None
        self._editor: StreamEditor | None = None
        self._partial = ""

    async def show_placeholder(self) -> None:
        """Send the "looking it up…" message (once)."""
        async with self._lock:
            if self._settled or self.placeholder is not None:
                return
            text = t("bot.thinking", self.lang)
            self.placeholder = await send_part(
                self.bot, self.chat_id, Part(html=html.escape(text, quote=False), plain=text), reply_to=self.reply_to
            )
        if self._partial.strip():
            await self.stream(self._partial)

    def show_placeholder_after(self, delay_s: float) -> None:
        """Send the placeholder only if the answer is not ready within `delay_s`."""

        async def later() -> None:
            await asyncio.sleep(delay_s)
            try:
                await self.show_placeholder()
            except TelegramError as exc:  # the final answer will be sent as a new message
                logger.info("Placeholder not sent: %s", exc)

        self._timer = asyncio.create_task(later(), name="placeholder-timer")

    async def stream(self, partial: str) -> None:
        """Show the answer so far (throttled). Before a placeholder exists, only remember it:
        a fast answer then goes out as one message, with no placeholder and no edits."""
        self._partial = partial
        if self.placeholder is None or self._settled:
            return
        if self._editor is None:
            self._editor = StreamEditor(self._edit_streaming, self.edit_interval_s)
        self._editor.push(partial)  # rendered only when an edit is actually sent (throttled)

    async def _edit_streaming(self, partial: str) -> None:
        assert self.placeholder is not None
        await self.bot.edit_message_text(
            render_streaming(partial, self.lang),
            chat_id=self.chat_id,
            message_id=self.placeholder.message_id,
            parse_mode=ParseMode.HTML,
        )

    async def finish(self, parts: list[Part], markup: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Replace the placeholder by the first part, send the rest; `markup` goes under the last."""
        await self._settle()
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            part_markup = markup if last else None
            if index == 0 and self.placeholder is not None:
                try:
                    message = await edit_part(self.bot, self.placeholder, part, part_markup)
                except BadRequest as exc:  # the placeholder cannot take the answer: replace it
                    logger.warning("Could not edit the placeholder (%s); sending the answer anew", exc.message)
                    await self._drop_placeholder()
                    message = await send_part(self.bot, self.chat_id, part, part_markup, reply_to=self.reply_to)
            else:
                message = await send_part(
                    self.bot, self.chat_id, part, part_markup, reply_to=self.reply_to if index == 0 else None
                )
            self.messages.append(message)
        return self.messages

    async def fail(self, text: str) -> None:
        """Tell the user something went wrong, in place of the placeholder if there is one."""
        try:
            await self._settle()
        except Forbidden:
            raise
        except TelegramError:
            pass
        parts = render_plain(text)
        if self.placeholder is not None:
            try:
                await edit_part(self.bot, self.placeholder, parts[0])
                return
            except BadRequest:
                await self._drop_placeholder()
        await send_part(self.bot, self.chat_id, parts[0], reply_to=self.reply_to)

    async def _drop_placeholder(self) -> None:
        """Delete a placeholder that can no longer be edited, so no "please wait" stays behind."""
        if self.placeholder is None:
            return
        try:
            await self.bot.delete_message(self.chat_id, self.placeholder.message_id)
        except BadRequest as exc:
            logger.info("Could not delete the placeholder either: %s", exc.message)
        self.placeholder = None

    async def _settle(self) -> None:
        """Stop the placeholder timer and the streaming editor before the last word."""
        self._settled = True
        async with self._lock:  # a placeholder being sent right now completes first
            pass
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self._editor is not None:
            await self._editor.close()
