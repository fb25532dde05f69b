"""Push times and zones: what reps type, and the UTC instants PTB's JobQueue will fire at (incl. DST)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ApplicationBuilder

from bot.coach.tips.timezones import (
    DEFAULT_ZONE,
    BadTime,
    BadZone,
    load_city_zones,
    next_push,
    parse_push_setting,
    parse_time,
    resolve_zone,
    scheduled_instant,
    spread_seconds,
)
from bot.settings import PROJECT_ROOT
from bot.store.subscriptions import Subscription
from bot.telegram.tips import job_id, schedule, unschedule

UTC = timezone.utc


@pytest.fixture(scope="module")
def cities():
    table, problems = load_city_zones(PROJECT_ROOT / "knowledge" / "tips" / "_cities.yaml")
    assert problems == []
    return table


# ---- parsing what a rep types ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [("09:00", time(9)), ("9:30", time(9, 30)), ("21：05", time(21, 5)), ("０８：１５", time(8, 15)),
     ("7点", time(7)), ("7点半", time(7, 30)), ("8", time(8)), ("23:59", time(23, 59)), ("0:00", time(0))],
)  # fmt: skip
def test_parse_time_accepts_common_forms(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "9:60", "abc", "", "9:5:3", "-1:00", "12:30半"])
def test_parse_time_rejects_nonsense(text):
    with pytest.raises(BadTime):
        parse_time(text)


def test_zones_from_cities_and_iana_names(cities):
    assert resolve_zone("北京", cities) == "Asia/Shanghai"
    assert resolve_zone("深圳市", cities) == "Asia/Shanghai"
    assert resolve_zone("香港", cities) == "Asia/Hong_Kong"
    assert resolve_zone("伦敦", cities) == "Europe/London"
    assert resolve_zone("New York", cities) == "America/New_York"
    assert resolve_zone("america/new_york", cities) == "America/New_York"
    assert resolve_zone("Europe/Berlin", cities) == "Europe/Berlin"
    for bad in ("火星", "Mars/Olympus", "", "Asia"):
        with pytest.raises(BadZone):
            resolve_zone(bad, cities)


def test_subscribe_arguments(cities):
    default = parse_push_setting([], cities)
    assert (default.at, default.zone) == (time(9), DEFAULT_ZONE)
    assert parse_push_setting(["08:30"], cities).zone == DEFAULT_ZONE
    london = parse_push_setting(["21:00", "伦敦"], cities)
    assert (london.at, london.zone) == (time(21), "Europe/London")
    swapped = parse_push_setting(["纽约", "7:15"], cities)
    assert (swapped.at, swapped.zone) == (time(7, 15), "America/New_York")
    assert parse_push_setting(["Los", "Angeles"], cities).zone == "America/Los_Angeles"
    with pytest.raises(BadTime):
        parse_push_setting(["25:00", "上海"], cities)
    with pytest.raises(BadZone):
        parse_push_setting(["09:00", "火星"], cities)


# ---- the push instant in UTC ------------------------------------------------------------------


USER = 4242
SEC = spread_seconds(USER)


@pytest.mark.parametrize(
    "zone, now, expected",
    [
        # Shanghai: no DST, 09:00 local = 01:00 UTC every day.
        ("Asia/Shanghai", datetime(2026, 3, 6, 0, 0, tzinfo=UTC), datetime(2026, 3, 6, 1, 0, SEC, tzinfo=UTC)),
        ("Asia/Shanghai", datetime(2026, 3, 6, 2, 0, tzinfo=UTC), datetime(2026, 3, 7, 1, 0, SEC, tzinfo=UTC)),
        # New York: EST (UTC−5) before 8 March 2026, EDT (UTC−4) after.
        ("America/New_York", datetime(2026, 3, 6, 20, 0, tzinfo=UTC), datetime(2026, 3, 7, 14, 0, SEC, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 8, 13, 0, SEC, tzinfo=UTC)),
        # London: GMT before 29 March 2026, BST (UTC+1) after.
        ("Europe/London", datetime(2026, 3, 28, 10, 0, tzinfo=UTC), datetime(2026, 3, 29, 8, 0, SEC, tzinfo=UTC)),
        ("Europe/London", datetime(2026, 10, 24, 10, 0, tzinfo=UTC), datetime(2026, 10, 25, 9, 0, SEC, tzinfo=UTC)),
        # Sydney: DST ends at 03:00 on 5 April 2026 (UTC+11 → UTC+10).
        ("Australia/Sydney", datetime(2026, 4, 2, 23, 0, tzinfo=UTC), datetime(2026, 4, 3, 22, 0, SEC, tzinfo=UTC)),
        ("Australia/Sydney", datetime(2026, 4, 3, 23, 0, tzinfo=UTC), datetime(2026, 4, 4, 23, 0, SEC, tzinfo=UTC)),
    ],
)
def test_next_push_in_utc_across_dst(zone, now, expected):
    assert next_push(now, time(9), zone, USER, weekdays_only=False) == expected


def test_weekdays_only_skips_the_weekend():
    friday_after = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai, past 09:00
    monday = next_push(friday_after, time(9), "Asia/Shanghai", USER, weekdays_only=True)
    assert monday == datetime(2026, 3, 9, 1, 0, SEC, tzinfo=UTC)


def test_pushes_spread_over_the_minute():
    seconds = {spread_seconds(uid) for uid in range(1, 2001)}
    assert len(seconds) == 60  # every second of the minute is used
    assert spread_seconds(123) == spread_seconds(123)  # stable across restarts


def test_spring_forward_gap_still_gives_one_real_instant():
    # 02:30 does not exist in New York on 8 March 2026; the push still happens that day.
    instant = scheduled_instant(date(2026, 3, 8), time(2, 30), "America/New_York", USER)
    assert instant.date() == date(2026, 3, 8) and instant.tzinfo == UTC


# ---- what PTB's JobQueue will do ---------------------------------------------------------------


def _sub(user_id: int, zone: str, at: time = time(9), weekdays: bool = False) -> Subscription:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return Subscription(user_id, user_id, at, zone, weekdays, True, None, stamp, stamp)


@pytest.fixture
def job_queue():
    application = ApplicationBuilder().token("123456:TEST").build()
    return application.job_queue


@pytest.mark.parametrize(
    "zone, now",
    [
        ("Asia/Shanghai", datetime(2026, 3, 6, 2, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 7, 15, 0, tzinfo=UTC)),  # crosses the DST change
        ("America/New_York", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)),  # DST ends that night
        ("Europe/London", datetime(2026, 3, 28, 10, 0, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("weekdays", [False, True])
def test_run_daily_fires_when_we_expect(job_queue, zone, now, weekdays):
    sub = _sub(USER, zone, time(9), weekdays)
    schedule(job_queue, sub)
    aps_job = job_queue.scheduler.get_job(job_id(USER))
    ptb_job = aps_job.args[1]
    assert (ptb_job.user_id, ptb_job.chat_id, ptb_job.name) == (USER, USER, job_id(USER))
    fire = aps_job.trigger.get_next_fire_time(None, now)
    expected = next_push(now, time(9), zone, USER, weekdays)
    assert fire.astimezone(UTC) == expected
    # Fire times over the next weeks all land at 09:00:SS local (DST or not), only on push days.
    for _ in range(20):
        local = fire.astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute, local.second) == (9, 0, SEC)
        if weekdays:
            assert local.weekday() < 5
        fire = aps_job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))


async def test_rescheduling_replaces_and_unschedule_removes(job_queue):
    job_queue.scheduler.start(paused=True)  # a running scheduler, as after Application.start()
    schedule(job_queue, _sub(7, "Asia/Shanghai", time(9)))
    schedule(job_queue, _sub(7, "Europe/London", time(21, 30)))
    jobs = [j for j in job_queue.scheduler.get_jobs() if j.id == job_id(7)]
    assert len(jobs) == 1
    fire = jobs[0].trigger.get_next_fire_time(None, datetime(2026, 6, 1, tzinfo=UTC)).astimezone(UTC)
    assert (fire.hour, fire.minute) == (20, 30)  # 21:30 BST
    unschedule(job_queue, 7)
    unschedule(job_queue, 7)  # removing twice is harmless
    assert job_queue.scheduler.get_job(job_id(7)) is None
    job_queue.scheduler.shutdown(wait=False)
