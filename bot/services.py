"""The composition root: builds every object a front end uses from `Settings`, once, on demand.

Why: no globals at import and one way to get anything. The terminal commands and
the Telegram app both call `Services.build(settings)` and use its members; no
handler or command constructs a store or a service itself. Tests build one
against temporary directories. Heavy members (embedding model, vector store,
LLM client, the scenario catalog) are created lazily on first use so
`salescoach --help` and start-up stay fast; blocking ones are first touched from
a worker thread by async callers (`await asyncio.to_thread(lambda: services.practice)`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.llm.prompts import configure_prompts
from bot.settings import Settings
from bot.store.db import Database
from bot.store.feedback import FeedbackStore
from bot.store.history import HistoryStore
from bot.store.practice import PracticeStore
from bot.store.subscriptions import SubscriptionStore
from bot.store.usage import UsageStore
from bot.store.users import UserStore

if TYPE_CHECKING:
    from bot.coach.answers.service import AnswerService
    from bot.coach.gaps import Gaps
    from bot.coach.hint_drafts import HintDrafter
    from bot.coach.material import Material
    from bot.coach.practice.session import PracticeService
    from bot.coach.team.summary import Team
    from bot.coach.tips.service import TipService
    from bot.llm.client import LLMClient
    from bot.retrieval.knowledge_base import KnowledgeBase
    from bot.speech.recognizer import Recognizer

logger = logging.getLogger(__name__)

# cached_property does not lock on Python 3.12: the few members that take seconds to build are built under this.
_BUILD_LOCK = threading.RLock()


@dataclass
class Services:
    """Everything a front end needs, built from one Settings object."""

    settings: Settings
    _closers: list = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> "Services":
        configure_prompts(settings.prompts_dir)  # t() and every prompt file read from SALESCOACH_PROMPTS_DIR
        return cls(settings=settings)

    # ---- storage ---------------------------------------------------------------------------
    @cached_property
    def db(self) -> Database:
        db = Database(self.settings.db_path)
        self._closers.append(db.close)
        return db

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.db, self.settings.language)

    @cached_property
    def history(self) -> HistoryStore:
        return HistoryStore(self.db)

    @cached_property
    def usage(self) -> UsageStore:
        return UsageStore(self.db)

    @cached_property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.db)

    @cached_property
    def practice_records(self) -> PracticeStore:
        """Finished role-plays and their criterion scores (progress charts, tips, team reports)."""
        return PracticeStore(self.db)

    @cached_property
    def subscriptions(self) -> SubscriptionStore:
        return SubscriptionStore(self.db)

    def forget_user(self, user_id: int) -> dict[str, int]:
        """`/forget_me`: every repository deletes the user's rows; rows removed per concern (never content)."""
        removed = {
            "history": self.history.delete_user(user_id),
            "questions": self.usage.delete_user(user_id),
            "feedback": self.feedback.delete_user(user_id),
            "practice": self.practice_records.delete_user(user_id),
            "subscriptions": self.subscriptions.delete_user(user_id),
            "settings": self.users.delete_user(user_id),
        }
        logger.info("Forgot user %s: %s", user_id, removed)
        return removed

    # ---- knowledge and model -----------------------------------------------------------------
    @cached_property
    def knowledge(self) -> "KnowledgeBase":
        from bot.retrieval.knowledge_base import KnowledgeBase

        return KnowledgeBase(self.settings)

    @cached_property
    def llm(self) -> "LLMClient | None":
        """The OpenAI-compatible client, or None in offline mode."""
        from bot.llm.client import build_llm

        return build_llm(self.settings)

    @cached_property
    def speech(self) -> "Recognizer":
        """Voice notes to text: the endpoint when configured (built-in model as its fallback), else the
        built-in model; without the speech extra, a stand-in whose every answer is the install hint.
        Cheap to build; `speech.load()` (the bot's start-up, `transcribe`) loads the model once."""
        from pathlib import Path

        from bot.retrieval.vocabulary import load_vocabulary
        from bot.speech.builtin import INSTALL_HINT, BuiltinRecognizer, speech_installed
        from bot.speech.endpoint import EndpointRecognizer
        from bot.speech.recognizer import SpeechLimits, UnavailableRecognizer

        s = self.settings
        listed = load_vocabulary(s.knowledge_dir / "vocabulary.yaml").words

        def glossary() -> list[str]:
            """The manager's vocabulary, then the material's own rare words (a new company needs no list).
            An unreadable index costs the glossary its material words, never a voice note."""
            try:
                return [*listed, *self.knowledge.key_terms()]
            except Exception:
                logger.exception("the material's words for the speech glossary could not be read")
                return list(listed)

        limits = SpeechLimits(max_seconds=s.max_voice_s, max_bytes=s.max_file_bytes)
        model_dir = Path(s.asr_model_dir).expanduser() if s.asr_model_dir else None
        builtin = None
        if speech_installed(with_model=model_dir is None):
            builtin = BuiltinRecognizer(s.speech_cache_dir, glossary, limits, model_dir=model_dir)
        if s.asr_endpoint_enabled:
            return EndpointRecognizer(
                s.asr_base_url, s.asr_model, s.asr_api_key, glossary, limits, fallback=builtin, timeout_s=s.llm_timeout_s
            )
        return builtin or UnavailableRecognizer(INSTALL_HINT)

    # ---- the coach's features ----------------------------------------------------------------
    @cached_property
    def answers(self) -> "AnswerService":
        from bot.coach.answers.service import AnswerService

        return AnswerService(knowledge=self.knowledge, llm=self.llm, settings=self.settings)

    @property
    def practice(self) -> "PracticeService":
        """Role-play: the scenario catalog (read and validated from files on first use) and the customers."""
        with _BUILD_LOCK:
            if "_practice" not in self.__dict__:
                from bot.coach.practice.session import PracticeService

                service = PracticeService.build(self.settings, self.knowledge, self.llm)
                for error in service.catalog.errors:
                    logger.warning("Scenario skipped: %s", error)
                self.__dict__["_practice"] = service
            return self.__dict__["_practice"]

    @cached_property
    def tips(self) -> "TipService":
        from bot.coach.tips.service import TipService

        return TipService.build(
            self.settings,
            self.subscriptions,
            self.practice_records,
            self.knowledge,
            practicable=lambda: self.practice.catalog.scenarios,  # only scenarios that loaded get "练一练"
        )

    @cached_property
    def team(self) -> "Team":
        from bot.coach.team.summary import Team

        return Team(self.practice_records, self.users, self.settings)

    @cached_property
    def material(self) -> "Material":
        from bot.coach.material import Material

        return Material(self.knowledge)

    @cached_property
    def gaps(self) -> "Gaps":
        """What the material is missing: flagged questions by topic (`salescoach report gaps`, /gaps)."""
        from bot.coach.gaps import Gaps

        return Gaps(self.usage, self.knowledge)

    @cached_property
    def hint_drafter(self) -> "HintDrafter | None":
        """Drafts situation hints with the LLM (`salescoach hints draft`, the upload button); None without an LLM."""
        if self.llm is None:
            return None
        from bot.coach.hint_drafts import HintDrafter

        return HintDrafter(self.knowledge, self.llm)

    def close(self) -> None:
        ownership = getattr(self.__dict__.get("knowledge"), "ownership", None)
        if ownership is not None:
            ownership.release()  # another process may now change the embedded store
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()
