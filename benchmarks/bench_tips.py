"""Daily tips at scale: rebuilding 10,000 subscribers' jobs at start-up, and the push sending rate.

What it measures (the real Application, JobQueue and AIORateLimiter, against the
fake Bot API server on loopback, with a SQLite file in a temp dir):
1. Start-up: time for the tips start-up hook to read the subscriptions and
   create one `run_daily` job each (plus the missed-push check), time for
   `Application.start()` to hand them to the scheduler, and peak RSS.
2. Spread: how many of those jobs fire in the same second when everyone chose 09:00.
3. Choosing and claiming: daily-slot claims (choice + SQLite insert) per second.
4. Sending: N pushes due at the same moment, all sent through AIORateLimiter;
   messages per second (Telegram allows about 30 per second overall).

Run: .venv/bin/python benchmarks/bench_tips.py [--subscribers 10000] [--send 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.coach.tips.timezones import spread_seconds  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.subscriptions import SubscriptionStore  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402
from bot.telegram.context import services_of
from bot.telegram.tips import CLOCK_KEY, STARTUP_REPORT_KEY, deliver_daily  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

ZONES = ["Asia/Shanghai"] * 6 + ["Asia/Hong_Kong", "Asia/Tokyo", "Europe/London", "America/New_York", "Australia/Sydney"]
TIMES = [dtime(9)] * 5 + [dtime(8, 30), dtime(7, 45), dtime(12), dtime(21)]
UTC = timezone.utc


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1_048_576


def seed(db_path: Path, n: int, now: datetime) -> None:
    """n subscribers with realistic times and zones, subscribed a week ago."""
    rng = random.Random(7)
    db = Database(db_path)
    store = SubscriptionStore(db)
    rows = []
    stamp = (now - timedelta(days=7)).isoformat(timespec="seconds")
    for uid in range(1, n + 1):
        at = rng.choice(TIMES)
        rows.append((uid, uid, at.hour, at.minute, rng.choice(ZONES), int(rng.random() < 0.3), stamp, stamp))
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO tip_subscriptions (user_id, chat_id, hour, minute, zone, weekdays_only, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    assert store.counts()["active"] == n
    db.close()


async def bench_startup(settings: Settings, n: int, now: datetime) -> dict[str, float]:
    services = Services.build(settings)
    application = build_application(services)
    application.bot_data[CLOCK_KEY] = lambda: now
    await application.initialize()
    rss_before = current_rss_mb()
    started = time.perf_counter()
    await application.post_init(application)  # menu + tips start-up hook (rebuild jobs, missed check)
    hook_s = time.perf_counter() - started
    started = time.perf_counter()
    await application.start()  # JobQueue starts: pending jobs enter the scheduler
    start_s = time.perf_counter() - started
    jobs = application.job_queue.scheduler.get_jobs()
    report = application.bot_data[STARTUP_REPORT_KEY]
    rss_after = current_rss_mb()
    # Pause the scheduler before the catch-up job fires: this part measures start-up only.
    application.job_queue.scheduler.pause()
    await application.stop()
    await application.shutdown()
    services.close()
    return {
        "hook_s": hook_s,
        "start_s": start_s,
        "jobs": len([j for j in jobs if j.id.startswith("tip:")]),
        "missed": report["missed"],
        "rss_delta_mb": rss_after - rss_before,
    }


def bench_claims(settings: Settings, n: int, now: datetime) -> float:
    """Daily-slot claims per second (choose the tip + unique insert), as the pushes do."""
    services = Services.build(settings)
    service = services.tips
    subs = service.store.active()[:n]
    service.card(service.choose(1, now, "Asia/Shanghai"))  # warm the bank and source resolver
    started = time.perf_counter()
    for sub in subs:
        service.claim_daily(sub, now)
    elapsed = time.perf_counter() - started
    services.close()
    return len(subs) / elapsed


async def bench_sending(settings: Settings, server: FakeTelegramServer, n: int, now: datetime) -> dict[str, float]:
    """n pushes due at once, each its own task like APScheduler runs them, through AIORateLimiter."""
    services = Services.build(settings)
    application = build_application(services)
    application.bot_data[CLOCK_KEY] = lambda: now
    await application.initialize()
    service = services_of(application).tips
    subs = [s for s in service.store.active() if not service.store.has_daily(s.user_id, now.date())][:n]
    user_ids = [s.user_id for s in subs]
    await asyncio.to_thread(service.card, service.choose(1, now, "Asia/Shanghai"))  # warm caches
    before = len(server.calls("sendMessage"))
    started = time.perf_counter()
    results = await asyncio.gather(*(deliver_daily(application, uid) for uid in user_ids))
    elapsed = time.perf_counter() - started
    calls = server.calls("sendMessage")[before:]
    stamps = sorted(c.at for c in calls)
    per_second = Counter(int(s - stamps[0]) for s in stamps)
    await application.shutdown()
    services.close()
    outcome = Counter(results)
    return {
        "sent": outcome.get("sent", 0),
        "other": sum(v for k, v in outcome.items() if k != "sent"),
        "elapsed_s": elapsed,
        "rate": outcome.get("sent", 0) / elapsed,
        "max_in_one_second": max(per_second.values()),
        "median_per_second": statistics.median(per_second.values()),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--send", type=int, default=300, help="pushes to send in the sending-rate test")
    parser.add_argument("--claims", type=int, default=2000, help="claims to time in the choice test")
    args = parser.parse_args()

    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: mornings were "missed" during the outage
    with tempfile.TemporaryDirectory() as tmp, FakeTelegramServer() as server:
        settings = replace(
            Settings.load(env={}),
            data_dir=Path(tmp),
            knowledge_dir=PROJECT_ROOT / "knowledge",
            prompts_dir=PROJECT_ROOT / "prompts",
            telegram_bot_token=server.token,
            telegram_api_base_url=server.base_url,
        )
        seed(settings.db_path, args.subscribers, now)
        print(f"Subscribers: {args.subscribers:,} (zones: {len(set(ZONES))}, 30 % weekdays only)")

        startup = await bench_startup(settings, args.subscribers, now)
        print("\n1. Start-up (rebuild jobs)")
        print(f"   start-up hook (read subscriptions, {startup['jobs']:,} run_daily jobs, missed check): {startup['hook_s'] * 1000:.0f} ms")
        print(f"   Application.start() (jobs enter the scheduler): {startup['start_s'] * 1000:.0f} ms")
        print(f"   missed pushes found for catch-up: {startup['missed']:,}")
        print(f"   RSS growth during start-up: {startup['rss_delta_mb']:.1f} MB; peak RSS so far: {peak_rss_mb():.0f} MB")

        nine = Counter(spread_seconds(uid) for uid in range(1, args.subscribers + 1))
        same_minute = args.subscribers * 5 // len(TIMES)
        print("\n2. Spread over the minute")
        print(f"   ~{same_minute:,} subscribers chose 09:00 Shanghai; busiest second gets "
              f"{max(nine.values()) * same_minute // args.subscribers} jobs, quietest "
              f"{min(nine.values()) * same_minute // args.subscribers}")  # fmt: skip

        rate = bench_claims(settings, args.claims, now + timedelta(days=1))
        print("\n3. Choosing + claiming the daily slot (SQLite, unique per user and day)")
        print(f"   {rate:,.0f} claims/s ({args.claims:,} claims)")

        sending = await bench_sending(settings, server, args.send, now + timedelta(days=2))
        print(f"\n4. Sending {args.send} pushes due at the same moment (AIORateLimiter, fake Bot API)")
        print(f"   sent {sending['sent']} (other outcomes {sending['other']}) in {sending['elapsed_s']:.1f} s = "
              f"{sending['rate']:.1f} msg/s; busiest second {sending['max_in_one_second']}, "
              f"median {sending['median_per_second']:.0f} per second (Telegram limit ≈ 30/s)")  # fmt: skip
        print(f"\nPeak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
