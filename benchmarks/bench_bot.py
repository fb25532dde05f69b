"""Benchmark: N concurrent reps asking the Telegram bot, offline (no LLM).

Drives the REAL bot (`bot.telegram.app.build_application`: PTB polling over HTTP,
AIORateLimiter, SQLite persistence, the real knowledge base) through the fake
Bot API server of tests/fakes/telegram_server.py (in the same process). The
time is measured from the update being queued at the server to the bot's final
reply (the message carrying 👍/👎) arriving there. Two load shapes:

* steady: N reps in a closed loop — ask, wait for the answer, read for a random
  1–3 s (--think), ask again — for --duration seconds. This is "N concurrent users".
* burst: every rep sends a question at the same instant (--rounds times) — the
  worst case, where the N retrievals queue for the CPU.

Every question text is different (a topic in varied wording), so caches of
repeated queries do not flatter the figures. After the run each reply is
checked against the answer the coach gives to that exact text: a reply in the
wrong chat or with another question's answer counts as crossed.

    .venv/bin/python benchmarks/bench_bot.py                 # 20 users: steady 30 s, then 5 bursts
    .venv/bin/python benchmarks/bench_bot.py --users 50 --mode burst --data-dir /tmp/kb

The knowledge index is taken from --data-dir (default: the configured data dir),
and built there first if it is empty (about a minute on 2 cores). The per-user
question limit is raised for the run (a rep asking every 1–3 s would otherwise be
told to slow down, which is what the limit is for).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.coach.answers.service import is_follow_up  # noqa: E402
from bot.coach.types import Answer, Turn  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer  # noqa: E402
from tests.telegram_fixtures import BotHarness, is_final_answer  # noqa: E402

TOPICS = [
    "客户收了礼品，为什么关系没有提升？",
    "客户说油品水分大、颜色不对，怎么处理？",
    "怎么找到民营加油站真正的决策人？",
    "开发票时有哪些陷阱要注意？",
    "客户关系做了很多，客户还是很无情怎么办？",
    "怎么给客户建立一份有用的档案？",
    "送什么小礼物给客户比较好？",
    "大客户提出损益超常怎么取得信任？",
    "怎么为客户提供增值服务？",
    "开发新客户有哪些步骤？",
]
OPENINGS = ["", "请问，", "老师好，", "想请教一下：", "我是新来的销售，", "最近碰到个情况，", "帮我看看：", "问个实际问题：",
            "领导让我问问，", "急："]  # fmt: skip
CLOSINGS = ["", "谢谢！", "有什么好办法？", "具体该怎么做？", "给点建议吧。", "在线等。"]


def question_texts() -> "itertools.cycle[str]":
    """An endless supply of different question texts (600 before any repeats)."""
    texts = [f"{o}{t}{c}" for c in CLOSINGS for o in OPENINGS for t in TOPICS]
    rng = random.Random(3)
    rng.shuffle(texts)
    # Self-contained questions (not follow-ups): a rep's history never changes the expected answer.
    assert not any(is_follow_up(q, [Turn("user", "上一个问题")]) for q in texts), "bench questions must stand alone"
    return itertools.cycle(texts)


@dataclass
class Reply:
    user_id: int
    question: str
    latency_s: float
    message: BotMessage


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def final_after(server: FakeTelegramServer, uid: int, before: set[int]) -> BotMessage | None:
    for message in server.messages(uid):
        if message.message_id not in before and is_final_answer(message):
            return message
    return None


async def run_burst(
    server: FakeTelegramServer, users: list[int], texts: "itertools.cycle[str]", timeout: float
) -> tuple[list[Reply], int, float]:
    """One burst: every user asks at once. Returns replies, lost count and the round's wall time."""
    before = {uid: {m.message_id for m in server.messages(uid)} for uid in users}
    questions = {uid: next(texts) for uid in users}
    sent_at: dict[int, float] = {}
    for uid in users:
        sent_at[uid] = time.monotonic()
        server.send_text(uid, questions[uid])

    def finals() -> dict[int, BotMessage]:
        found = {uid: final_after(server, uid, before[uid]) for uid in users}
        return {uid: m for uid, m in found.items() if m is not None}

    try:
        await server.wait_for(lambda: len(finals()) == len(users) or None, timeout, what="all answers")
    except TimeoutError:
        pass
    got = finals()
    replies = [Reply(uid, questions[uid], m.last_change_at - sent_at[uid], m) for uid, m in got.items()]
    wall = (max(m.last_change_at for m in got.values()) - min(sent_at.values())) if got else float("nan")
    return replies, len(users) - len(got), wall


async def run_steady(
    server: FakeTelegramServer,
    users: list[int],
    texts: "itertools.cycle[str]",
    duration: float,
    think: tuple[float, float],
    timeout: float,
) -> tuple[list[Reply], int, float]:
    """Closed loop per user: ask, wait for the final answer, think, repeat until `duration` ends."""
    rng = random.Random(7)
    replies: list[Reply] = []
    lost = 0
    started = time.monotonic()

    async def rep(uid: int) -> None:
        nonlocal lost
        await asyncio.sleep(rng.uniform(0, think[1]))  # reps do not start in lockstep
        while time.monotonic() - started < duration:
            question = next(texts)
            before = {m.message_id for m in server.messages(uid)}
            sent = time.monotonic()
            server.send_text(uid, question)
            try:
                message = await server.wait_for(
                    lambda: final_after(server, uid, before), timeout, what=f"answer for {uid}", poll_s=1.0
                )
            except TimeoutError:
                lost += 1
                continue
            replies.append(Reply(uid, question, message.last_change_at - sent, message))
            await asyncio.sleep(rng.uniform(*think))

    await asyncio.gather(*(rep(uid) for uid in users))
    return replies, lost, time.monotonic() - started


async def count_crossed(harness: BotHarness, replies: list[Reply]) -> int:
    """Replies that are not in the asker's chat or not the answer to the asker's exact question."""
    expected: dict[str, str] = {}
    crossed = 0
    for reply in replies:
        if reply.question not in expected:
            async for item in harness.services.answers.stream(reply.question, [], "zh"):
                if isinstance(item, Answer):
                    expected[reply.question] = item.text
        if reply.message.chat_id != reply.user_id or not reply.message.text.startswith(expected[reply.question][:60]):
            crossed += 1
    return crossed


def report(title: str, replies: list[Reply], lost: int, crossed: int, seconds: float) -> None:
    latencies = [r.latency_s for r in replies]
    print(title)
    if latencies:
        print(f"  latency update→final reply  p50 {percentile(latencies, 0.5) * 1000:.0f} ms   "
              f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms   max {max(latencies) * 1000:.0f} ms")  # fmt: skip
    print(f"  answers                      {len(latencies)} in {seconds:.1f} s = {len(latencies) / seconds:.1f} answers/s")
    print(f"  lost replies                 {lost}")
    print(f"  crossed replies              {crossed}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--mode", choices=["both", "steady", "burst"], default="both")
    parser.add_argument("--duration", type=float, default=30.0, help="steady mode: seconds")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), help="steady mode: read time range, s")
    parser.add_argument("--rounds", type=int, default=5, help="burst mode: rounds")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between rounds")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--data-dir", type=Path, default=None, help="where the knowledge index lives")
    args = parser.parse_args()

    base = Settings.load()
    data_dir = args.data_dir or base.data_dir
    kb_settings = replace(base, data_dir=data_dir, openai_base_url="", openai_api_key="")
    knowledge = KnowledgeBase(kb_settings)
    if knowledge.is_empty():
        print(f"索引为空，先导入资料到 {data_dir} …", flush=True)
        knowledge.ingest()

    server = FakeTelegramServer().start()
    settings = replace(
        kb_settings,
        data_dir=Path(tempfile.mkdtemp(prefix="bench-bot-")),
        telegram_bot_token=server.token,
        telegram_api_base_url=server.base_url,
        rate_limit_per_minute=1000,
        allowed_user_ids=frozenset(),
        admin_user_ids=frozenset(),
    )
    harness = await BotHarness(server, settings, knowledge).start()
    texts = question_texts()
    results: list[tuple[str, list[Reply], int, int, float]] = []
    try:
        await harness.ask(9_999, "怎么维护好老客户的关系？")  # warm models, indexes and the Telegram path
        await asyncio.sleep(args.pause)
        calls_before = len(server.calls())
        if args.mode in ("both", "steady"):
            users = [20_000 + i for i in range(args.users)]
            replies, lost, seconds = await run_steady(server, users, texts, args.duration, tuple(args.think), args.timeout)
            title = f"steady: {args.users} concurrent reps, think {args.think[0]:g}–{args.think[1]:g} s, {args.duration:g} s"
            results.append((title, replies, lost, 0, seconds))
            await asyncio.sleep(args.pause)
        if args.mode in ("both", "burst"):
            replies, lost, walls = [], 0, []
            for r in range(args.rounds):
                users = [10_000 + r * args.users + i for i in range(args.users)]  # new reps each round
                got, lo, wall = await run_burst(server, users, texts, args.timeout)
                lat = [x.latency_s for x in got]
                print(f"burst round {r + 1}: p50 {statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
                      f"{len(got)}/{len(users)} answered in {wall:.2f} s", flush=True)  # fmt: skip
                replies += got
                lost += lo
                walls.append(wall)
                await asyncio.sleep(args.pause)
            results.append((f"burst: {args.users} questions at the same instant × {args.rounds}", replies, lost, 0,
                            sum(walls)))  # fmt: skip
        calls = [c for c in server.calls()[calls_before:] if c.method in ("sendMessage", "editMessageText", "sendChatAction")]
        results = [(t, r, lo, await count_crossed(harness, r), s) for t, r, lo, _, s in results]
    finally:
        await harness.stop()
        server.stop()

    answered = sum(len(r[1]) for r in results)
    print()
    print(f"bot benchmark (offline answers, real PTB stack over loopback HTTP, {os.cpu_count()} CPUs, "
          f"load average before: {os.getloadavg()[0]:.1f})")  # fmt: skip
    for title, replies, lost, crossed, seconds in results:
        report(title, replies, lost, crossed, seconds)
    print(f"Bot API calls per answer (send/edit/typing): {len(calls) / max(1, answered):.2f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0 if all(r[2] == 0 and r[3] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
