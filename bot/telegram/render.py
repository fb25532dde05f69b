"""Answers → Telegram messages: HTML-escaped, split under Telegram's length limit.

Why this order (split plain text first, then format each part): escaping and
tags never count towards the 4096-character limit, and a split can then never
cut through a tag or an entity, so "can't parse entities" cannot happen. Each
part keeps its plain twin for the plain-text fallback.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.coach.types import Answer, Citation
from bot.llm.prompts import t

TELEGRAM_LIMIT = 4096  # characters (UTF-16 code units) after entity parsing
PART_LIMIT = 3800  # leaves room for a "(continued)" marker and rounding

# Where a part may end, best first: after a sentence end, after a line, after a clause, at a space.
_SENTENCE_END = re.compile(r"(?<=[。！？!?…])[”’」』）)]*|(?<=[.;；])\s")
_LINE_END = re.compile(r"\n")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])")
_SPACE = re.compile(r"\s")


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Part:
    """One Telegram message: the HTML to send, and the plain text to fall back to."""

    html: str
    plain: str


def _cut_index(text: str, limit: int) -> int:
    """Index (in characters) where to cut `text` so the head fits in `limit` UTF-16 units."""
    # The largest prefix that fits, in characters.
    fit = 0
    units = 0
    for ch in text:
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        fit += 1
    window = text[:fit]
    floor = fit // 2  # never make parts shorter than half the limit when a hard cut is possible
    for pattern in (_LINE_END, _SENTENCE_END, _CLAUSE_END, _SPACE):
        ends = [m.end() for m in pattern.finditer(window) if m.end() > floor]
        if ends:
            return ends[-1]
    return fit


def split_text(text: str, limit: int = PART_LIMIT) -> list[str]:
    """Split plain text into pieces of at most `limit` units, at sentence boundaries when possible."""
    text = text.strip()
    pieces: list[str] = []
    while tg_len(text) > limit:
        cut = max(1, _cut_index(text, limit))
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


@dataclass(frozen=True)
class _Block:
    """A run of text with one style; `heading` is shown in bold above its first piece."""

    plain: str
    style: str = ""  # "" or "i"
    heading: str = ""

    def pieces(self, limit: int) -> list[tuple[str, str]]:
        """(plain, html) pieces of this block, each within `limit`."""
        head_len = tg_len(self.heading) + 1 if self.heading else 0
        out: list[tuple[str, str]] = []
        for i, piece in enumerate(split_text(self.plain, limit - head_len)):
            escaped = html.escape(piece, quote=False)
            if self.style:
                escaped = f"<{self.style}>{escaped}</{self.style}>"
            if self.heading and i == 0:
                out.append((f"{self.heading}\n{piece}", f"<b>{html.escape(self.heading, quote=False)}</b>\n{escaped}"))
            else:
                out.append((piece, escaped))
        return out


def source_lines(citations: list[Citation], lang: str) -> list[str]:
    """One line per distinct source: "[n]《title》location" (duplicates collapsed)."""
    seen: set[tuple[str, str]] = set()
    lines: list[str] = []
    for c in sorted(citations, key=lambda c: c.n):
        key = (c.title, c.location)
        if key in seen:
            continue
        seen.add(key)
        lines.append(t("bot.source_line", lang, n=c.n, title=c.title, location=c.location).strip())
    return lines


def _pack(blocks: list[_Block], limit: int) -> list[Part]:
    """Greedily pack blocks (split when too long) into parts of at most `limit` units."""
    parts: list[Part] = []
    html_acc: list[str] = []
    plain_acc: list[str] = []
    size = 0
    for block in blocks:
        for plain, markup in block.pieces(limit):
            extra = tg_len(plain) + (2 if plain_acc else 0)
            if plain_acc and size + extra > limit:
                parts.append(Part(html="\n\n".join(html_acc), plain="\n\n".join(plain_acc)))
                html_acc, plain_acc, size = [], [], 0
                extra = tg_len(plain)
            html_acc.append(markup)
            plain_acc.append(plain)
            size += extra
    if plain_acc:
        parts.append(Part(html="\n\n".join(html_acc), plain="\n\n".join(plain_acc)))
    return parts


def render_answer(answer: Answer, lang: str, limit: int = PART_LIMIT) -> list[Part]:
    """The final answer as one or more messages: notice, answer text, then the source list."""
    blocks: list[_Block] = []
    if answer.notice.strip():
        blocks.append(_Block(answer.notice.strip(), style="i"))
    blocks.append(_Block(answer.text.strip() or "…"))
    lines = source_lines(answer.citations, lang)
    if lines:
        blocks.append(_Block("\n".join(lines), heading=t("bot.sources_heading", lang).strip()))
    return _pack(blocks, limit)


def render_plain(text: str, limit: int = PART_LIMIT) -> list[Part]:
    """Any plain text (notices, command replies) as escaped parts."""
    return [Part(html=html.escape(piece, quote=False), plain=piece) for piece in split_text(text, limit)]


def render_streaming(partial: str, lang: str, limit: int = PART_LIMIT) -> str:
    """The text shown while an answer streams in: the first part so far plus a cursor."""
    pieces = split_text(partial, limit) or [""]
    return html.escape(pieces[0], quote=False) + html.escape(t("bot.streaming_cursor", lang), quote=False)
