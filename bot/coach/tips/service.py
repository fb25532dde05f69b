"""The daily-tip service: bank + choice rules + store + practice scores, with `now` passed in.

Why a service object: the Telegram handlers, the scheduler and `salescoach tip`
all ask the same questions ("what is this rep's next tip?", "claim today's
push") and must get the same answers. It returns structured `TipCard`s; the
front ends render them. No `telegram` import here. All methods are blocking
(SQLite, file reads): call them from coroutines with `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.coach.criteria import Criteria, criteria_or_none
from bot.coach.tips.bank import Tip, TipBank, load_bank_for, load_scenario_ids
from bot.coach.tips.choice import Choice, ChoicePolicy, PracticeScores, choose_tip
from bot.coach.tips.sources import QuoteLocator, ResolvedSource, SourceResolver
from bot.coach.tips.timezones import (
    CITIES_FILE,
    DEFAULT_ZONE,
    as_utc,
    is_push_day,
    load_city_zones,
    local_day,
    scheduled_instant,
)
from bot.settings import Settings
from bot.store.subscriptions import Claim, SentTip, Subscription, SubscriptionStore

logger = logging.getLogger(__name__)

RELOAD_CHECK_S = 10.0  # how often to look for edited tip files


@dataclass(frozen=True)
class TipCard:
    """Everything a front end needs to show one tip."""

    tip: Tip
    source: ResolvedSource
    topic_label: str
    scenario: str | None  # set only when the scenario exists, so "练一练" always works
    reason: str
    criterion: str | None = None


class TipService:
    """Chooses, records and describes tips for reps."""

    def __init__(
        self,
        knowledge_dir: Path,
        store: SubscriptionStore,
        practice: PracticeScores,
        policy: ChoicePolicy | None = None,
        resolver: SourceResolver | None = None,
        practicable: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.knowledge_dir = knowledge_dir
        self.store = store
        self.practice = practice
        self.policy = policy or ChoicePolicy()
        self.resolver = resolver or SourceResolver(None, knowledge_dir / "sources")  # titles only
        self._lock = threading.Lock()
        self._bank: TipBank | None = None
        self._stamp: tuple = ()
        self._scenarios: frozenset[str] | None = None
        self._checked_at = 0.0
        self._cities: dict[str, str] | None = None
        self._criteria = Criteria()
        self._practicable = practicable  # the scenarios role-play can actually start (valid files only)

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: SubscriptionStore,
        practice: PracticeScores,
        knowledge: QuoteLocator,
        practicable: Callable[[], Collection[str]] | None = None,
    ) -> "TipService":
        """As the composition root builds it: quotes located in the knowledge base's own passages."""
        return cls(
            knowledge_dir=settings.knowledge_dir,
            store=store,
            practice=practice,
            resolver=SourceResolver(knowledge, settings.sources_dir),
            practicable=practicable,
        )

    # ---- the bank, reloaded when a manager edits a file ----------------------------------
    def _files_stamp(self) -> tuple:
        folders = (self.knowledge_dir / "tips", self.knowledge_dir / "scenarios")
        stamp = []
        for folder in folders:
            if folder.is_dir():
                stamp.extend((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))
        return tuple(stamp)

    @property
    def bank(self) -> TipBank:
        with self._lock:
            if self._bank is not None and time.monotonic() - self._checked_at < RELOAD_CHECK_S:
                return self._bank
            self._checked_at = time.monotonic()
            stamp = self._files_stamp()
            if self._bank is None or stamp != self._stamp:
                self._bank = load_bank_for(self.knowledge_dir)
                self._scenarios = load_scenario_ids(self.knowledge_dir / "scenarios")
                self._criteria = criteria_or_none(self.knowledge_dir / "scenarios") or Criteria()
                self._stamp = stamp
            return self._bank

    def cities(self) -> dict[str, str]:
        """City name → IANA zone from knowledge/tips/_cities.yaml (problems are logged)."""
        with self._lock:
            if self._cities is None:
                self._cities, problems = load_city_zones(self.knowledge_dir / "tips" / CITIES_FILE)
                for problem in problems:
                    logger.warning("%s", problem)
            return self._cities

    def criterion_label(self, criterion: str, lang: str = "zh") -> str:
        _ = self.bank  # loads the criteria along with the bank
        return self._criteria.name(criterion, lang)

    # ---- choosing --------------------------------------------------------------------------
    def choose(self, user_id: int, now: datetime, zone: str, history=None, exclude: Iterable[str] = ()) -> Choice | None:
        history = self.store.history(user_id) if history is None else history
        scores = list(self.practice.criterion_history(user_id))
        return choose_tip(self.bank.tips, history, scores, now, zone, user_id, self.policy, exclude)

    def zone_for(self, user_id: int) -> str:
        sub = self.store.get(user_id)
        return sub.zone if sub else DEFAULT_ZONE

    def peek(self, user_id: int, now: datetime) -> TipCard | None:
        """The tip this user would get next, without recording anything (`salescoach tip`)."""
        choice = self.choose(user_id, now, self.zone_for(user_id))
        return self.card(choice) if choice else None

    def give_now(self, user_id: int, now: datetime, exclude: Iterable[str] = ()) -> TipCard | None:
        """A tip on request (/tip, 换一条): chosen and recorded so it is not repeated."""
        zone = self.zone_for(user_id)
        choice = self.choose(user_id, now, zone, exclude=exclude)
        if choice is None:
            return None
        self.store.record_manual(user_id, choice, local_day(now, zone), now)
        return self.card(choice)

    def card(self, choice: Choice) -> TipCard:
        tip = choice.tip
        bank = self.bank
        scenario = tip.scenario
        if scenario and self._scenarios is not None and scenario not in self._scenarios:
            scenario = None
        if scenario and self._practicable is not None and scenario not in self._practicable():
            scenario = None  # the file exists but failed validation: no "练一练" button that cannot start
        return TipCard(
            tip=tip,
            source=self.resolver.resolve(tip.source),
            topic_label=bank.topic_label(tip.topic),
            scenario=scenario,
            reason=choice.reason,
            criterion=choice.criterion,
        )

    def card_for(self, tip_id: str) -> TipCard | None:
        """Rebuild a card from a tip id (e.g. revealing a quiz answer after a restart)."""
        tip = self.bank.get(tip_id)
        return self.card(Choice(tip=tip, reason="shown")) if tip else None

    # ---- daily pushes ------------------------------------------------------------------------
    def claim_daily(self, sub: Subscription, now: datetime) -> tuple[Claim, TipCard] | None:
        """Take today's slot for this subscriber; None when it was already sent (or no tip)."""
        day = local_day(now, sub.zone)
        # Everything but the sent-tips history is read before the store's write transaction:
        # a bank reload (files) or the practice scores must not hold the database lock.
        tips = self.bank.tips
        scores = list(self.practice.criterion_history(sub.user_id))

        def choose(history: list[SentTip]) -> Choice | None:
            return choose_tip(tips, history, scores, now, sub.zone, sub.user_id, self.policy)

        claim = self.store.claim_daily(sub.user_id, day, now, choose)
        return (claim, self.card(claim.choice)) if claim else None

    def release(self, claim: Claim) -> None:
        self.store.release(claim.send_id)

    def missed_today(self, sub: Subscription, now: datetime, sent_days: set[tuple[int, str]] | None = None) -> bool:
        """True when today's push time has passed while nobody sent it (bot was down).

        Only for the subscriber's current local day, only on push days, and never
        for a time that was already past when they subscribed or changed it.
        """
        if not sub.active:
            return False
        day: date = local_day(now, sub.zone)
        if not is_push_day(day, sub.weekdays_only):
            return False
        due = scheduled_instant(day, sub.at, sub.zone, sub.user_id)
        if as_utc(now) < due or due < sub.updated_at:
            return False
        if sent_days is not None:
            return (sub.user_id, day.isoformat()) not in sent_days
        return not self.store.has_daily(sub.user_id, day)
