"""Rendering answers for Telegram, the throttled stream editor and the rate limiter (no network)."""

from __future__ import annotations

import asyncio

import pytest

from bot.coach.types import Answer, Citation
from bot.telegram.limits import RateLimiter
from bot.telegram.render import PART_LIMIT, TELEGRAM_LIMIT, render_answer, render_streaming, split_text, tg_len
from bot.telegram.streaming import StreamEditor
from tests.fakes.telegram_server import HtmlError, parse_html

NASTY = "<b>&</b> <script>alert(1)</script> &amp; a < b > c \"q\" 'x' &lt;"


def cite(n: int, title: str = "客户开发与维护", location: str = "第 66 页") -> Citation:
    return Citation(n=n, doc="oil-customer-dev", title=title, location=location, text="…")


def test_fake_parser_is_as_strict_as_telegram() -> None:
    assert parse_html("<b>粗</b> &lt;x&gt; &amp;") == "粗 <x> &"
    for bad in ("<b>&</b>", "a < b", "<script>x</script>", "<b>x", "x</i>", "a > b"):
        with pytest.raises(HtmlError):
            parse_html(bad)


def test_metacharacters_are_escaped_everywhere() -> None:
    answer = Answer(
        text=f"答：{NASTY}[1]",
        citations=[cite(1, title=f"标题{NASTY}", location="问题 3：<回款>")],
        grounded=True,
        mode="llm",
        notice=f"注意{NASTY}",
    )
    [part] = render_answer(answer, "zh")
    plain = parse_html(part.html)  # would raise "can't parse entities" if anything leaked
    assert plain == part.plain
    assert NASTY in plain and "《标题" in plain and "问题 3：<回款>" in plain
    assert part.html.startswith("<i>") and "<b>来源：</b>\n[1]《标题" in part.html


def test_source_list_collapses_duplicates_and_keeps_numbers() -> None:
    answer = Answer(text="x [1][3]", citations=[cite(3, location="第 2 段"), cite(1), cite(2)], grounded=True, mode="llm")
    [part] = render_answer(answer, "zh")
    assert part.plain.endswith("来源：\n[1]《客户开发与维护》第 66 页\n[3]《客户开发与维护》第 2 段")
    [en] = render_answer(answer, "en")
    assert "Sources:\n[1] “客户开发与维护” 第 66 页" in en.plain


def test_long_answers_split_at_sentence_ends_under_the_limit() -> None:
    sentences = [f"第{i}句：客户说油品水分大，先取样封存，再约第三方检测。" for i in range(400)]
    answer = Answer(text="".join(sentences), citations=[cite(1)], grounded=True, mode="llm")
    parts = render_answer(answer, "zh")
    assert len(parts) >= 3
    for part in parts:
        assert tg_len(part.plain) <= PART_LIMIT < TELEGRAM_LIMIT
        assert parse_html(part.html) == part.plain
    for part in parts[:-1]:
        assert part.plain.endswith("。")  # cut after a sentence, never inside one
    joined = "".join(p.plain for p in parts)
    assert all(s in joined for s in sentences)  # nothing lost
    assert parts[-1].plain.endswith("来源：\n[1]《客户开发与维护》第 66 页")


def test_split_counts_utf16_and_survives_text_without_punctuation() -> None:
    assert all(tg_len(p) <= 100 for p in split_text("😀" * 500, 100))
    pieces = split_text("无标点" * 3000, 1000)
    assert "".join(pieces) == "无标点" * 3000 and all(tg_len(p) <= 1000 for p in pieces)
    assert split_text("") == []


def test_streaming_preview_is_escaped_and_short() -> None:
    preview = render_streaming(NASTY * 500, "zh")
    plain = parse_html(preview)
    assert tg_len(plain) <= TELEGRAM_LIMIT and plain.endswith("▌")


async def test_stream_editor_shows_latest_text_without_flooding() -> None:
    shown: list[str] = []

    async def edit(text: str) -> None:
        await asyncio.sleep(0)  # like an HTTP call, yields to the loop
        shown.append(text)

    editor = StreamEditor(edit, interval_s=3600)
    for i in range(200):  # a fast stream: many pieces, no pause
        editor.push(f"text {i}")
        await asyncio.sleep(0)
    await editor.close()
    assert len(shown) == 1  # one edit per interval, however many pieces arrived
    editor.push("after close")  # ignored once closed
    assert shown == ["text 0"]

    fast: list[str] = []

    async def record(text: str) -> None:
        fast.append(text)

    editor = StreamEditor(record, interval_s=0)
    editor.push("a")
    editor.push("a")  # unchanged text is never sent twice
    await asyncio.sleep(0.01)
    editor.push("b")
    await asyncio.sleep(0.01)
    await editor.close()
    assert fast == ["a", "b"]


def test_rate_limiter_sliding_window_and_single_warning() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.check(1).allowed and limiter.check(1).allowed
    refused = limiter.check(1)
    assert not refused.allowed and refused.warn and refused.retry_in_s == 60
    assert not limiter.check(1).warn  # a flood is not answered with a flood of warnings
    assert limiter.check(2).allowed  # per user
    now[0] = 60.0
    assert limiter.check(1).allowed
    assert RateLimiter(per_minute=0).check(1).allowed  # 0 = unlimited
