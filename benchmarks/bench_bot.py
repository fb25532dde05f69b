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

Prints p50/p95/max latency, answers per second, lost and crossed replies
(an answer in the wrong chat, or not the answer to that user's question),
Bot API calls per answer and peak RSS.

    .venv/bin/python benchmarks/bench_bot.py                 # 20 users: steady 30 s, then 5 bursts
    .venv/bin/python benchmarks/bench_bot.py --users 50 --mode burst --data-dir /tmp/kb

The per-user question limit is raised for the run (a rep asking every 1–3 s would
otherwise be told to slow down, which is what the limit is for).

The knowledge index is taken from --data-dir (default: the configured data dir),
and built there first if it is empty (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.coach.answer import is_follow_up  # noqa: E402
from bot.coach.types import Answer, Turn  # noqa: E402
from bot.retrieval.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer  # noqa: E402
from tests.telegram_fixtures import BotHarness, is_final_answer  # noqa: E402

QUESTIONS = [
    "客户收了礼品，为什么关系没有提升？",
    "客户说油品水分大、颜色不对，怎么处理？",
    "怎么找到民营加油站真正的决策人？",
    "发票有哪些陷阱要注意？",
    "客户关系做了很多，客户还是很无情怎么办？",
    "怎么给客户建立档案？",
    "送什么小礼物给客户比较好？",
    "大客户提出损益超常怎么取得信任？",
    "怎么为客户提供增值服务？",
    "新客户开发有哪些步骤？",
]


# Self-contained questions (not follow-ups), so a rep's history never changes the expected answer.
assert not any(is_follow_up(q, [Turn("user", "上一个问题")]) for q in QUESTIONS), "bench questions must stand alone"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def expected_answers(harness: BotHarness, questions: list[str]) -> dict[str, str]:
    """What each question's answer starts with (offline answers are deterministic)."""
    out: dict[str, str] = {}
    for question in questions:
        async for item in harness.services.answers.stream(question, [], "zh"):
            if isinstance(item, Answer):
                out[question] = item.text
    return out


async def run_round(
    server: FakeTelegramServer, users: list[int], questions: dict[int, str], expected: dict[str, str], timeout: float
) -> tuple[list[float], int, int, float]:
    """One burst: returns latencies, lost, crossed, and the wall time of the round."""
    before = {uid: {m.message_id for m in server.messages(uid)} for uid in users}
    sent_at: dict[int, float] = {}
    for uid in users:
        sent_at[uid] = time.monotonic()
        server.send_text(uid, questions[uid])

    def finals() -> dict[int, BotMessage]:
        found: dict[int, BotMessage] = {}
        for uid in users:
            for message in server.messages(uid):
                if message.message_id not in before[uid] and is_final_answer(message):
                    found[uid] = message
        return found

    try:
        await server.wait_for(lambda: len(finals()) == len(users) or None, timeout, what="all answers")
    except TimeoutError:
        pass
    got = finals()
    latencies = [got[uid].last_change_at - sent_at[uid] for uid in got]
    lost = len(users) - len(got)
    crossed = 0
    for uid, message in got.items():
        want = expected[questions[uid]]
        if message.chat_id != uid or not message.text.startswith(want[:60]):
            crossed += 1
    wall = (max(m.last_change_at for m in got.values()) - min(sent_at.values())) if got else float("nan")
    return latencies, lost, crossed, wall


async def run_steady(
    server: FakeTelegramServer,
    users: list[int],
    expected: dict[str, str],
    duration: float,
    think: tuple[float, float],
    timeout: float,
) -> tuple[list[float], int, int, float]:
    """Closed loop per user: ask, wait for the final answer, think, repeat until `duration` ends."""
    rng = random.Random(7)
    latencies: list[float] = []
    lost = crossed = 0
    started = time.monotonic()

    async def rep(index: int, uid: int) -> None:
        nonlocal lost, crossed
        await asyncio.sleep(rng.uniform(0, think[1]))  # reps do not start in lockstep
        n = index
        while time.monotonic() - started < duration:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            before = {m.message_id for m in server.messages(uid)}
            sent = time.monotonic()
            server.send_text(uid, question)

            def final(uid: int = uid, before: set[int] = before) -> BotMessage | None:
                for message in server._messages.get(uid, []):
                    if message.message_id not in before and is_final_answer(message):
                        return message
                return None

            try:
                message = await server.wait_for(final, timeout, what=f"answer for {uid}", poll_s=1.0)
            except TimeoutError:
                lost += 1
                continue
            latencies.append(message.last_change_at - sent)
            if message.chat_id != uid or not message.text.startswith(expected[question][:60]):
                crossed += 1
            await asyncio.sleep(rng.uniform(*think))

    await asyncio.gather(*(rep(i, uid) for i, uid in enumerate(users)))
    return latencies, lost, crossed, time.monotonic() - started


def report(title: str, latencies: list[float], lost: int, crossed: int, seconds: float) -> None:
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
    bot_dir = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    settings = replace(
        kb_settings,
        data_dir=bot_dir,
        telegram_bot_token=server.token,
        telegram_api_base_url=server.base_url,
        rate_limit_per_minute=1000,
        allowed_user_ids=frozenset(),
        admin_user_ids=frozenset(),
    )
    harness = await BotHarness(server, settings, knowledge).start()
    try:
        expected = await expected_answers(harness, QUESTIONS)  # also warms models and indexes
        await harness.ask(9_999, QUESTIONS[0])  # warm the Telegram path
        await asyncio.sleep(args.pause)
        calls_before = len(server.calls())
        results: list[tuple[str, list[float], int, int, float]] = []
        if args.mode in ("both", "steady"):
            users = [20_000 + i for i in range(args.users)]
            lat, lo, cr, secs = await run_steady(server, users, expected, args.duration, tuple(args.think), args.timeout)
            results.append((f"steady: {args.users} concurrent reps, think {args.think[0]:g}–{args.think[1]:g} s, "
                            f"{args.duration:g} s", lat, lo, cr, secs))  # fmt: skip
            await asyncio.sleep(args.pause)
        if args.mode in ("both", "burst"):
            latencies: list[float] = []
            lost = crossed = 0
            walls: list[float] = []
            for r in range(args.rounds):
                users = [10_000 + r * args.users + i for i in range(args.users)]  # new reps: no history
                questions = {uid: QUESTIONS[(i + r) % len(QUESTIONS)] for i, uid in enumerate(users)}
                lat, lo, cr, wall = await run_round(server, users, questions, expected, args.timeout)
                latencies += lat
                lost += lo
                crossed += cr
                walls.append(wall)
                print(f"burst round {r + 1}: p50 {statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
                      f"{len(lat)}/{len(users)} answered in {wall:.2f} s", flush=True)  # fmt: skip
                await asyncio.sleep(args.pause)
            results.append((f"burst: {args.users} questions at the same instant × {args.rounds}", latencies, lost,
                            crossed, sum(walls)))  # fmt: skip
        answered = sum(len(r[1]) for r in results)
        api_calls = [c for c in server.calls()[calls_before:] if c.method not in ("getUpdates",)]
        questions_calls = [c for c in api_calls if c.method in ("sendMessage", "editMessageText", "sendChatAction")]
    finally:
        await harness.stop()
        server.stop()

    print()
    print(f"bot benchmark (offline answers, real PTB stack over loopback HTTP, {os.cpu_count()} CPUs)")
    for title, lat, lo, cr, secs in results:
        report(title, lat, lo, cr, secs)
    print(f"Bot API calls per answer (send/edit/typing): {len(questions_calls) / max(1, answered):.2f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0 if all(r[2] == 0 and r[3] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
