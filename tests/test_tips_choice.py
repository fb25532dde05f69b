"""Choosing the next tip with a controlled clock: no repeats, topic rotation, weak criteria spaced 1/3/7 days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.coach.tips.choice import (
    ChoicePolicy,
    CriterionScore,
    InMemoryPracticeScores,
    SentTip,
    choose_tip,
    remaining_in_cycle,
    weak_episodes,
)
from bot.coach.tips.bank import load_bank_for
from bot.settings import PROJECT_ROOT

ZONE = "Asia/Shanghai"
TZ = ZoneInfo(ZONE)
DAY0 = date(2026, 3, 2)  # a Monday


@pytest.fixture(scope="module")
def tips():
    return load_bank_for(PROJECT_ROOT / "knowledge").tips


def at_local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(timezone.utc)


def simulate(tips, days: int, scores=(), history=None, user_id: int = 1, start: date = DAY0 + timedelta(days=1)):
    """One push a day at 09:00 local for `days` days; returns [(day index from DAY0, Choice)]."""
    history = list(history or [])
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        now = at_local(day)
        choice = choose_tip(tips, history, list(scores), now, ZONE, user_id)
        assert choice is not None
        history.append(SentTip(choice.tip.id, now, choice.criterion))
        out.append(((day - DAY0).days, choice))
    return out, history


def test_no_repeats_until_the_bank_is_exhausted(tips):
    n = len(tips)
    picks, history = simulate(tips, n + 5)
    first_cycle = [c.tip.id for _, c in picks[:n]]
    assert len(set(first_cycle)) == n  # every tip once
    second = [c.tip.id for _, c in picks[n:]]
    assert len(set(second)) == len(second)  # a new cycle, again without repeats
    assert remaining_in_cycle(tips, history) and len(remaining_in_cycle(tips, history)) == n - 5


def test_topics_rotate(tips):
    topics = list(dict.fromkeys(t.topic for t in tips))
    picks, _ = simulate(tips, 40)
    sequence = [c.tip.topic for _, c in picks]
    assert all(a != b for a, b in zip(sequence, sequence[1:])), "same topic two days running"
    assert set(sequence[: len(topics)]) == set(topics), "the first days cover every topic once"


def test_excluded_tip_is_not_chosen_and_a_deleted_tip_is_ignored(tips):
    now = at_local(DAY0)
    first = choose_tip(tips, [], [], now, ZONE, 5)
    other = choose_tip(tips, [], [], now, ZONE, 5, exclude=[first.tip.id])
    assert other.tip.id != first.tip.id
    # History may mention tips a manager deleted since; they do not count towards the cycle.
    ghost = [SentTip("deleted-long-ago", now - timedelta(days=3))]
    assert len(remaining_in_cycle(tips, ghost)) == len(tips)
    assert choose_tip((), [], [], now, ZONE, 5) is None


def test_weak_criterion_comes_back_after_1_3_7_days(tips):
    # Practised on the evening of day 0 and scored 40 % on compliance, well on the rest.
    scores = [
        CriterionScore("compliance", 40.0, at_local(DAY0, 20), "kickback-purchaser"),
        CriterionScore("listen_first", 90.0, at_local(DAY0, 20), "kickback-purchaser"),
    ]
    picks, _ = simulate(tips, 15, scores)
    weak_days = [d for d, c in picks if c.reason == "weak"]
    assert weak_days == [1, 3, 7, 14]  # then every 7 days until it improves
    for day, choice in picks:
        if choice.reason == "weak":  # tips that train it first and foremost
            assert choice.criterion == "compliance" and choice.tip.criteria[0] == "compliance"
        else:  # between reviews the criterion is held back, so the spacing is real
            assert "compliance" not in choice.tip.criteria, day


def test_weak_criterion_stops_once_the_score_improves(tips):
    scores = [
        CriterionScore("compliance", 40.0, at_local(DAY0, 20)),
        CriterionScore("compliance", 85.0, at_local(DAY0 + timedelta(days=5), 20)),  # improved on day 5
    ]
    picks, _ = simulate(tips, 15, scores)
    assert [d for d, c in picks if c.reason == "weak"] == [1, 3]


def test_improved_but_still_weak_restarts_the_spacing(tips):
    scores = [
        CriterionScore("customer_file", 30.0, at_local(DAY0, 20)),
        CriterionScore("customer_file", 50.0, at_local(DAY0 + timedelta(days=4), 20)),  # better, still weak
    ]
    picks, _ = simulate(tips, 12, scores)
    assert [d for d, c in picks if c.reason == "weak"] == [1, 3, 5, 7, 11]


def test_no_repeats_beats_spacing_when_a_criterion_runs_out_of_tips(tips):
    safety = [t for t in tips if "safety" in t.criteria]
    scores = [CriterionScore("safety", 30.0, at_local(DAY0, 20))]
    picks, _ = simulate(tips, 40, scores)
    weak = [c.tip.id for _, c in picks if c.reason == "weak"]
    assert len(weak) == len(safety) == len(set(weak))  # each safety tip once, then rotation only


def test_a_worse_score_keeps_the_running_schedule(tips):
    scores = [
        CriterionScore("follow_up", 50.0, at_local(DAY0, 20)),
        CriterionScore("follow_up", 35.0, at_local(DAY0 + timedelta(days=2), 20)),
    ]
    picks, _ = simulate(tips, 8, scores)
    assert [d for d, c in picks if c.reason == "weak"] == [1, 3, 7]


def test_weakest_criterion_first_and_the_other_follows(tips):
    scores = [
        CriterionScore("compliance", 55.0, at_local(DAY0, 20)),
        CriterionScore("decision_maker", 20.0, at_local(DAY0, 20)),
    ]
    picks, _ = simulate(tips, 4, scores)
    assert [(d, c.criterion) for d, c in picks] == [
        (1, "decision_maker"),  # weakest first
        (2, "compliance"),  # overdue from day 1, served the next day
        (3, "decision_maker"),
        (4, "compliance"),  # its 2nd review was due on day 3
    ]


def test_only_the_weakest_few_are_tracked():
    criteria = ["a", "b", "c", "d", "e"]
    scores = [CriterionScore(c, 10.0 * (i + 1), at_local(DAY0)) for i, c in enumerate(criteria)]
    episodes = weak_episodes(scores, ZONE, ChoicePolicy(max_weak=3))
    assert set(episodes) == {"a", "b", "c"}
    assert weak_episodes([CriterionScore("a", 70.0, at_local(DAY0))], ZONE, ChoicePolicy()) == {}


def test_episode_starts_on_the_reps_local_day():
    # 23:30 UTC on 2 March is already 3 March in Shanghai but still 2 March in New York.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)
    score = [CriterionScore("compliance", 40.0, late)]
    assert weak_episodes(score, "Asia/Shanghai", ChoicePolicy())["compliance"].start_day == date(2026, 3, 3)
    assert weak_episodes(score, "America/New_York", ChoicePolicy())["compliance"].start_day == date(2026, 3, 2)


def test_scores_may_carry_iso_strings_or_epoch_seconds(tips):
    iso = CriterionScore("compliance", 40.0, at_local(DAY0, 20).isoformat())  # type: ignore[arg-type]
    epoch = CriterionScore("safety", 45.0, at_local(DAY0, 20).timestamp())  # type: ignore[arg-type]
    junk = CriterionScore("listen_first", 10.0, "not a date")  # type: ignore[arg-type]
    episodes = weak_episodes([iso, epoch, junk], ZONE, ChoicePolicy())
    assert set(episodes) == {"compliance", "safety"}


def test_in_memory_practice_scores_plug_in(tips):
    store = InMemoryPracticeScores({9: [CriterionScore("small_ask", 30.0, at_local(DAY0, 20))]})
    now = at_local(DAY0 + timedelta(days=1))
    choice = choose_tip(tips, [], store.criterion_history(9), now, ZONE, 9)
    assert choice.reason == "weak" and choice.criterion == "small_ask"
    assert choose_tip(tips, [], store.criterion_history(10), now, ZONE, 10).reason == "rotation"


def test_a_manual_extra_tip_the_same_day_does_not_repeat_the_review(tips):
    scores = [CriterionScore("compliance", 40.0, at_local(DAY0, 20))]
    day1 = at_local(DAY0 + timedelta(days=1))
    first = choose_tip(tips, [], scores, day1, ZONE, 1)
    assert first.reason == "weak"
    history = [SentTip(first.tip.id, day1, first.criterion)]
    extra = choose_tip(tips, history, scores, day1 + timedelta(hours=3), ZONE, 1, exclude=[first.tip.id])
    assert extra.reason == "rotation" and "compliance" not in extra.tip.criteria
