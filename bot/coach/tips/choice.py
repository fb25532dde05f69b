"""Choosing a rep's next tip: no repeats, rotating topics, aimed at weak criteria.

Why pure (history, scores and `now` passed in): the rules are easy to get subtly
wrong (time zones, a cycle wrapping, a criterion that improved), so they are
specified by tests that replay weeks of tips in milliseconds.

The rules, in order:
1. No repeats: a tip comes back only after the rep has seen the whole bank (a "cycle").
2. Weak criteria (spaced repetition): a criterion is weak when the rep's latest
   practice score on it is below `ChoicePolicy.weak_below`. Its episode starts on
   the local day of the score that made it weak; targeted tips are due on days
   +1, +3, +7 (then every 7 days) until a later score improves on that one.
   The weakest due criterion wins; on other days its tips are held back so the
   spacing is real.
3. Otherwise rotate topics: the topic served longest ago, never the previous one
   when another is available; within a topic a stable per-user order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

from bot.coach.tips.bank import Tip
from bot.coach.tips.timezones import as_utc, local_day
from bot.store.subscriptions import SentTip


@runtime_checkable
class CriterionScoreLike(Protocol):
    """One practice score on one rubric criterion (what `bot.store.practice` returns)."""

    criterion_id: str
    score_pct: float
    at: object  # datetime (aware or UTC-naive), ISO string or epoch seconds
    scenario_id: str | None


@runtime_checkable
class PracticeScores(Protocol):
    """The part of the practice store tips need; tests pass an in-memory one."""

    def criterion_history(self, user_id: int) -> Sequence[CriterionScoreLike]: ...


@dataclass(frozen=True)
class CriterionScore:
    """Our own value type for scores (the in-memory store and tests use it)."""

    criterion_id: str
    score_pct: float
    at: datetime
    scenario_id: str | None = None


class InMemoryPracticeScores:
    """A `PracticeScores` over a dict, for the CLI without practice data and for tests."""

    def __init__(self, scores: dict[int, list[CriterionScore]] | None = None) -> None:
        self.scores = scores or {}

    def criterion_history(self, user_id: int) -> Sequence[CriterionScore]:
        return list(self.scores.get(user_id, []))


@dataclass(frozen=True)
class ChoicePolicy:
    weak_below: float = 70.0
    review_days: tuple[int, ...] = (1, 3, 7)
    then_every_days: int = 7
    max_weak: int = 3  # track at most this many weakest criteria at once


@dataclass(frozen=True)
class Episode:
    """A criterion currently weak: since when, and on which score."""

    criterion: str
    start_day: date
    anchor_at: datetime
    anchor_score: float
    latest_score: float


@dataclass(frozen=True)
class Choice:
    tip: Tip
    reason: str  # "weak" | "rotation"
    criterion: str | None = None  # the weak criterion this tip trains, when reason == "weak"

    @property
    def tip_id(self) -> str:
        return self.tip.id


def to_datetime(value: object) -> datetime:
    """Scores may carry datetimes, ISO strings or epoch seconds; all become aware UTC."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, str):
        return as_utc(datetime.fromisoformat(value))
    raise TypeError(f"无法识别的时间：{value!r}")


def review_offset(index: int, policy: ChoicePolicy) -> int:
    """Days after the episode start when review number `index` (0-based) is due."""
    if index < len(policy.review_days):
        return policy.review_days[index]
    return policy.review_days[-1] + policy.then_every_days * (index - len(policy.review_days) + 1)


def weak_episodes(
    scores: Iterable[CriterionScoreLike], zone: str, policy: ChoicePolicy, now: datetime | None = None
) -> dict[str, Episode]:
    """Criteria that are weak now, each with the score that opened its current episode.

    A score below the threshold opens an episode (or restarts it when it beats
    the episode's score: the rep improved but is still weak); a score at or
    above the threshold closes it. Scores after `now` are not known yet and are ignored.
    """
    cutoff = as_utc(now) if now is not None else None
    by_criterion: dict[str, list[tuple[datetime, float]]] = {}
    for score in scores:
        try:
            at = to_datetime(score.at)
            value = float(score.score_pct)
        except (TypeError, ValueError):
            continue
        if cutoff is not None and at > cutoff:
            continue
        by_criterion.setdefault(score.criterion_id, []).append((at, value))
    episodes: dict[str, Episode] = {}
    for criterion, entries in by_criterion.items():
        entries.sort(key=lambda e: e[0])
        anchor: tuple[datetime, float] | None = None
        for at, value in entries:
            if value >= policy.weak_below:
                anchor = None
            elif anchor is None or value > anchor[1]:
                anchor = (at, value)
        if anchor is not None:
            episodes[criterion] = Episode(
                criterion=criterion,
                start_day=local_day(anchor[0], zone),
                anchor_at=anchor[0],
                anchor_score=anchor[1],
                latest_score=entries[-1][1],
            )
    weakest = sorted(episodes.values(), key=lambda e: (e.latest_score, e.criterion))[: policy.max_weak]
    return {e.criterion: e for e in weakest}


def due_day(episode: Episode, history: Sequence[SentTip], policy: ChoicePolicy) -> date:
    """The local day the next targeted tip for this episode is due."""
    served = sum(1 for s in history if s.criterion == episode.criterion and as_utc(s.sent_at) > episode.anchor_at)
    return episode.start_day + timedelta(days=review_offset(served, policy))


def remaining_in_cycle(tips: Sequence[Tip], history: Sequence[SentTip]) -> list[Tip]:
    """Tips not yet seen in the current cycle (a full cycle resets the slate)."""
    ids = {t.id for t in tips}
    seen: set[str] = set()
    for sent in sorted(history, key=lambda s: as_utc(s.sent_at)):
        if sent.tip_id in ids:
            seen.add(sent.tip_id)
            if seen >= ids:
                seen = set()
    return [t for t in tips if t.id not in seen]


def _stable_order(user_id: int, tip: Tip) -> str:
    return hashlib.sha256(f"{user_id}:{tip.id}".encode("utf-8")).hexdigest()


def choose_tip(
    tips: Sequence[Tip],
    history: Sequence[SentTip],
    scores: Sequence[CriterionScoreLike],
    now: datetime,
    zone: str,
    user_id: int,
    policy: ChoicePolicy = ChoicePolicy(),
    exclude: Iterable[str] = (),
) -> Choice | None:
    """The tip this rep should get at `now` (None only when the bank is empty)."""
    excluded = set(exclude)
    pool = [t for t in remaining_in_cycle(tips, history) if t.id not in excluded]
    if not pool:  # the cycle is used up (or only excluded tips remain): start a new one
        pool = [t for t in tips if t.id not in excluded] or list(tips)
    if not pool:
        return None
    topic_by_id = {t.id: t.topic for t in tips}
    today = local_day(now, zone)
    episodes = weak_episodes(scores, zone, policy, now)
    served_today = {
        s.criterion for s in history if s.criterion and local_day(s.sent_at, zone) == today
    }

    due = [
        e for e in sorted(episodes.values(), key=lambda e: (e.latest_score, e.criterion))
        if e.criterion not in served_today and today >= due_day(e, history, policy)
    ]
    for episode in due:
        targeted = [t for t in pool if episode.criterion in t.criteria]
        # Tips that train the criterion first and foremost go before those that touch it on the side.
        targeted = [t for t in targeted if t.criteria[0] == episode.criterion] or targeted
        if targeted:
            return Choice(tip=_rank(targeted, history, user_id, topic_by_id)[0], reason="weak", criterion=episode.criterion)

    held_back = set(episodes)
    relaxed = [t for t in pool if not held_back.intersection(t.criteria)] or pool
    return Choice(tip=_rank(relaxed, history, user_id, topic_by_id)[0], reason="rotation")


def _rank(candidates: Sequence[Tip], history: Sequence[SentTip], user_id: int, topic_by_id: dict[str, str]) -> list[Tip]:
    """Topic served longest ago first (never the previous one if avoidable), then a per-user order."""
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    last_served: dict[str, datetime] = {}
    last_topic: str | None = None
    for sent in sorted(history, key=lambda s: as_utc(s.sent_at)):
        topic = topic_by_id.get(sent.tip_id)
        if topic:
            last_served[topic] = as_utc(sent.sent_at)
            last_topic = topic
    topics = list(dict.fromkeys(t.topic for t in candidates))
    order = {topic: i for i, topic in enumerate(topics)}

    def key(tip: Tip) -> tuple:
        return (
            tip.topic == last_topic and len(topics) > 1,
            last_served.get(tip.topic, epoch),
            order[tip.topic],
            _stable_order(user_id, tip),
        )

    return sorted(candidates, key=key)
