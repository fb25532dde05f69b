"""The composition root: builds every service from `Settings`, once, on demand.

Why: no globals at import. The terminal commands and the Telegram app both call
`Services.build(settings)` and pass the object down; tests build one against
temporary directories. Heavy members (embedding model, vector store, LLM client)
are created lazily on first use so `salescoach --help` and start-up stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.llm.prompts import configure_prompts
from bot.settings import Settings
from bot.store.db import Database

if TYPE_CHECKING:
    from bot.coach.answers.service import AnswerService
    from bot.llm.client import LLMClient
    from bot.retrieval.knowledge_base import KnowledgeBase


@dataclass
class Services:
    """Everything a front end needs, built from one Settings object."""

    settings: Settings
    _closers: list = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> "Services":
        configure_prompts(settings.prompts_dir)  # t() and every prompt file read from SALESCOACH_PROMPTS_DIR
        return cls(settings=settings)

    @cached_property
    def db(self) -> Database:
        db = Database(self.settings.db_path)
        self._closers.append(db.close)
        return db

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
    def answers(self) -> "AnswerService":
        from bot.coach.answers.service import AnswerService

        return AnswerService(knowledge=self.knowledge, llm=self.llm, settings=self.settings)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()
