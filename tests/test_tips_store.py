"""Subscriptions and sent tips in SQLite, and the service rules built on them (controlled clock)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.coach.tips.choice import Choice, CriterionScore, InMemoryPracticeScores
from bot.coach.tips.service import TipService
from bot.coach.tips.sources import SourceResolver
from bot.settings import PROJECT_ROOT
from bot.store.db import Database
from bot.store.subscriptions import SubscriptionStore

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant given as Shanghai local time in March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SH).astimezone(UTC)


# Quotes are located in the indexed chunks, as in the bot: the session's knowledge base serves the module.
RESOLVER: SourceResolver | None = None


@pytest.fixture(autouse=True, scope="module")
def _resolver(knowledge_base):
    global RESOLVER
    RESOLVER = SourceResolver(knowledge_base, PROJECT_ROOT / "knowledge" / "sources")


class Process:
    """One bot process: its own connection, store and service on the shared database file."""

    def __init__(self, path, practice=None) -> None:
        self.db = Database(path)
        self.store = SubscriptionStore(self.db)
        self.service = TipService(
            PROJECT_ROOT / "knowledge", self.store, practice or InMemoryPracticeScores(), resolver=RESOLVER
        )

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def proc(tmp_path):
    p = Process(tmp_path / "tips.sqlite3")
    yield p
    p.close()


def test_subscribe_update_and_unsubscribe(proc):
    sub = proc.store.subscribe(1, 1, time(9), "Asia/Shanghai", sh(2, 8))
    assert (sub.at, sub.zone, sub.weekdays_only, sub.active) == (time(9), "Asia/Shanghai", False, True)
    assert proc.store.toggle_weekdays(1).weekdays_only is True
    moved = proc.store.subscribe(1, 1, time(21, 30), "Europe/London", sh(3, 8))
    assert (moved.at, moved.zone, moved.weekdays_only) == (time(21, 30), "Europe/London", True)  # weekdays kept
    assert moved.updated_at == sh(3, 8)
    assert proc.store.unsubscribe(1) is True and proc.store.unsubscribe(1) is False
    assert proc.store.active() == []
    assert proc.store.toggle_weekdays(999) is None


def test_one_daily_tip_per_local_day_even_across_restarts(tmp_path):
    path = tmp_path / "tips.sqlite3"
    first = Process(path)
    sub = first.store.subscribe(5, 5, time(9), "Asia/Shanghai", sh(1, 12))
    claimed = first.service.claim_daily(sub, sh(2, 9))
    assert claimed is not None
    claim, card = claimed
    assert card.source.title and card.source.location
    assert first.service.claim_daily(sub, sh(2, 9, 1)) is None  # the job fired twice
    first.close()
    second = Process(path)  # the bot restarted
    assert second.service.claim_daily(sub, sh(2, 23, 59)) is None
    assert second.service.missed_today(sub, sh(2, 10)) is False
    nxt = second.service.claim_daily(sub, sh(3, 9))  # next local day: a new tip
    assert nxt is not None and nxt[0].choice.tip.id != claim.choice.tip.id
    second.close()


def test_concurrent_claims_on_two_connections_yield_one(tmp_path):
    path = tmp_path / "tips.sqlite3"
    a, b = Process(path), Process(path)
    sub = a.store.subscribe(6, 6, time(9), "Asia/Shanghai", sh(1, 12))
    results = [a.service.claim_daily(sub, sh(2, 9)), b.service.claim_daily(sub, sh(2, 9))]
    assert sum(r is not None for r in results) == 1
    a.close()
    b.close()


def test_a_released_claim_can_be_sent_again(proc):
    sub = proc.store.subscribe(7, 7, time(9), "Asia/Shanghai", sh(1, 12))
    claim, _ = proc.service.claim_daily(sub, sh(2, 9))
    proc.service.release(claim)
    assert proc.service.missed_today(sub, sh(2, 10)) is True
    assert proc.service.claim_daily(sub, sh(2, 10)) is not None


def test_missed_push_rules(proc):
    sub = proc.store.subscribe(8, 8, time(9), "Asia/Shanghai", sh(1, 12))
    assert proc.service.missed_today(sub, sh(2, 8, 59)) is False  # not yet time: the job will fire
    assert proc.service.missed_today(sub, sh(2, 9, 5)) is True  # down at 09:00, up at 09:05
    assert proc.service.missed_today(sub, sh(2, 23, 50)) is True  # still the same local day
    # Subscribing at 12:00 for 09:00 does not create a "missed" push that day.
    late = proc.store.subscribe(9, 9, time(9), "Asia/Shanghai", sh(2, 12))
    assert proc.service.missed_today(late, sh(2, 13)) is False
    assert proc.service.missed_today(late, sh(3, 10)) is True
    # Weekdays only: nothing is missed on a Saturday (7 March 2026).
    proc.store.toggle_weekdays(8)
    weekdays = proc.store.get(8)
    assert proc.service.missed_today(weekdays, sh(7, 10)) is False
    assert proc.service.missed_today(weekdays, sh(9, 10)) is True  # Monday
    # A paused subscription misses nothing.
    proc.store.pause(8, "blocked")
    assert proc.service.missed_today(proc.store.get(8), sh(9, 10)) is False


def test_missed_push_uses_the_subscribers_local_day(proc):
    sub = proc.store.subscribe(10, 10, time(9), "America/New_York", datetime(2026, 3, 1, tzinfo=UTC))
    # 13:30 UTC on 9 March = 09:30 EDT: the push (13:00:SS UTC after the DST change) was missed.
    assert proc.service.missed_today(sub, datetime(2026, 3, 9, 13, 30, tzinfo=UTC)) is True
    # 03:00 UTC on 10 March is still 9 March, 23:00 in New York: same local day.
    assert proc.service.missed_today(sub, datetime(2026, 3, 10, 3, 0, tzinfo=UTC)) is True
    # 12:30 UTC on 9 March = 08:30 EDT: not yet due.
    assert proc.service.missed_today(sub, datetime(2026, 3, 9, 12, 30, tzinfo=UTC)) is False
    sent = proc.store.daily_days_since(date(2026, 3, 1))
    assert sent == set()


def test_manual_tips_count_for_no_repeats_but_not_for_the_daily_slot(proc):
    sub = proc.store.subscribe(11, 11, time(9), "Asia/Shanghai", sh(1, 12))
    manual = proc.service.give_now(11, sh(2, 8))
    assert manual is not None
    assert proc.service.missed_today(sub, sh(2, 10)) is True  # /tip does not use up the push
    claim, card = proc.service.claim_daily(sub, sh(2, 10))
    assert card.tip.id != manual.tip.id
    history = proc.store.history(11)
    assert [h.tip_id for h in history] == [manual.tip.id, card.tip.id]


def test_peek_records_nothing(proc):
    first = proc.service.peek(12, sh(2, 9))
    again = proc.service.peek(12, sh(2, 9))
    assert first.tip.id == again.tip.id and proc.store.history(12) == []


def test_weak_criterion_recorded_and_spaced_through_the_store(proc):
    practice = InMemoryPracticeScores({13: [CriterionScore("compliance", 35.0, sh(1, 20), "invoice-payment")]})
    proc.service.practice = practice
    sub = proc.store.subscribe(13, 13, time(9), "Asia/Shanghai", sh(1, 12))
    reasons = []
    for day in range(2, 10):
        _, card = proc.service.claim_daily(sub, sh(day, 9))
        reasons.append((day - 1, card.reason, card.criterion))
    assert [d for d, reason, _ in reasons if reason == "weak"] == [1, 3, 7]
    assert {c for _, reason, c in reasons if reason == "weak"} == {"compliance"}
    assert [h.criterion for h in proc.store.history(13)].count("compliance") == 3


def test_pause_and_resubscribe(proc):
    proc.store.subscribe(14, 14, time(9), "Asia/Shanghai", sh(1, 12))
    proc.store.pause(14, "blocked")
    paused = proc.store.get(14)
    assert (paused.active, paused.paused_reason) == (False, "blocked")
    assert proc.store.counts() == {"total": 1, "active": 0}
    resumed = proc.store.subscribe(14, 14, time(9), "Asia/Shanghai", sh(2, 12))
    assert (resumed.active, resumed.paused_reason) == (True, None)


def test_edited_bank_is_picked_up(tmp_path, proc, monkeypatch):
    """A manager's edit reaches the running service without a restart."""
    import shutil

    from bot.coach.tips import service as tip_service

    root = tmp_path / "knowledge"
    for name in ("sources", "scenarios", "tips"):
        shutil.copytree(PROJECT_ROOT / "knowledge" / name, root / name)
    service = TipService(root, proc.store, InMemoryPracticeScores(), resolver=RESOLVER)
    before = len(service.bank.tips)
    (root / "tips" / "zz_new.yaml").write_text(
        "topic: gifts\ntips:\n  - id: brand-new\n    text: 新加的一条提示。\n"
        "    source: {doc: gift-story, quote: 送之后呢，要回访一下客户的收礼感受啊}\n    tags: {criteria: [follow_up]}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(tip_service, "RELOAD_CHECK_S", 0.0)
    assert len(service.bank.tips) == before + 1 and service.bank.get("brand-new") is not None


def test_practice_store_contract(tmp_path):
    """The role-play store (when installed) is what the tips read practice scores from."""
    from bot.coach.tips.choice import PracticeScores
    from bot.store.practice import PracticeStore

    db = Database(tmp_path / "practice.sqlite3")
    scores: PracticeScores = PracticeStore(db)
    assert list(scores.criterion_history(123456)) == []  # a rep who never practised
    db.close()


def test_weak_spot_labels_use_the_shared_criterion_names(proc):
    assert proc.service.criterion_label("listen_first", "zh") == "先倾听、问清楚"
    assert proc.service.criterion_label("listen_first", "en") == "Listen and ask first"
    assert proc.service.criterion_label("no_such_skill", "en") == "no_such_skill"


def test_practise_button_only_for_scenarios_that_loaded(tmp_path):
    """A tip tagged with a scenario whose file fails validation must not offer "练一练" (it could not start)."""
    import shutil
    from dataclasses import replace as _replace
    from datetime import datetime as _dt, timezone as _tz

    from bot.services import Services
    from bot.settings import Settings

    knowledge = tmp_path / "knowledge"
    for name in ("sources", "scenarios", "tips"):
        shutil.copytree(PROJECT_ROOT / "knowledge" / name, knowledge / name)
    settings = _replace(Settings.load(env={}), knowledge_dir=knowledge, data_dir=tmp_path / "data")
    services = Services.build(settings)
    try:
        tagged = [tip for tip in services.tips.bank.tips if tip.scenario]
        assert tagged, "the shipped bank links some tips to scenarios"
        tip = tagged[0]
        choice = Choice(tip=tip, reason="rotation")
        assert services.tips.card(choice).scenario == tip.scenario
        broken = knowledge / "scenarios" / f"{tip.scenario}.yaml"
        broken.write_text(broken.read_text(encoding="utf-8").replace("rubric:", "rubric_typo:", 1), encoding="utf-8")
        fresh = Services.build(settings)  # a restart after the manager's bad edit
        try:
            assert tip.scenario not in fresh.practice.catalog.scenarios
            assert fresh.tips.card(choice).scenario is None
        finally:
            fresh.close()
    finally:
        services.close()
