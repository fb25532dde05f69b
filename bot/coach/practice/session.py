"""Practice sessions: start a scenario, exchange turns with the simulated customer, get a score card.

Why a session is plain data: the Telegram conversation keeps it in PTB's
persistence and the terminal keeps it in memory, and a bot restart in the
middle of a scenario must resume exactly where the rep was. Everything needed
to continue (transcript, hidden customer state, mode) is in `to_dict()`.
The service holds only caches (scenario catalog, vectors) and the LLM client;
the front ends call the same methods.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.coach.practice.customer import (
    OUTCOME_ENDED_BY_REP,
    CustomerState,
    CustomerTurn,
    LLMCustomer,
    ScriptedCustomer,
)
from bot.coach.practice.scenarios import (
    CitationResolver,
    Scenario,
    ScenarioCatalog,
    cite_red_lines,
    knowledge_resolver,
    load_catalog,
    resolve_citations,
)
from bot.coach.practice.scoring import LLMEvaluator, OfflineScorer, ScoreCard
from bot.coach.practice.semantic import TextVectors, strip_address
from bot.coach.practice.wording import wording_models_of
from bot.llm.prompts import library_for

if TYPE_CHECKING:
    from bot.retrieval.knowledge_base import KnowledgeBase
    from bot.settings import Settings

SESSION_VERSION = 1
MODE_OFFLINE = "offline"
MODE_LLM = "llm"


class UnknownScenario(KeyError):
    """No scenario with that id loaded."""


@dataclass
class PracticeSession:
    """One rep practising one scenario. Serialisable with to_dict()/from_dict()."""

    scenario_id: str
    mode: str
    state: CustomerState
    transcript: list[dict[str, str]] = field(default_factory=list)  # {"role": "customer"|"rep", "text": …}
    started_at: str = ""
    notices: list[str] = field(default_factory=list)
    spoken: list[int] = field(default_factory=list)  # rep turns (1-based) that came as voice notes
    llm_steps: dict[str, int] = field(default_factory=dict)  # "customer"/"customer_fallback"/"evaluator"/… counts

    def count(self, step: str) -> None:
        self.llm_steps[step] = self.llm_steps.get(step, 0) + 1

    @property
    def ended(self) -> bool:
        return self.state.ended

    @property
    def rep_turns(self) -> list[str]:
        return [t["text"] for t in self.transcript if t["role"] == "rep"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SESSION_VERSION,
            "scenario_id": self.scenario_id,
            "mode": self.mode,
            "state": self.state.as_dict(),
            "transcript": [dict(t) for t in self.transcript],
            "started_at": self.started_at,
            "notices": list(self.notices),
            "spoken": list(self.spoken),
            "llm_steps": dict(self.llm_steps),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PracticeSession":
        if not isinstance(data, dict) or "scenario_id" not in data:
            raise ValueError("不是一个练习会话")
        return cls(
            scenario_id=str(data["scenario_id"]),
            mode=str(data.get("mode", MODE_OFFLINE)),
            state=CustomerState.from_dict(data.get("state") or {}),
            transcript=[{"role": str(t["role"]), "text": str(t["text"])} for t in data.get("transcript", [])],
            started_at=str(data.get("started_at", "")),
            notices=[str(n) for n in data.get("notices", [])],
            spoken=[int(n) for n in data.get("spoken", [])],
            llm_steps={str(k): int(v) for k, v in (data.get("llm_steps") or {}).items()},
        )


class PracticeService:
    """Role-play practice over a scenario catalog, offline or with an LLM."""

    def __init__(
        self,
        catalog: ScenarioCatalog,
        vectors: TextVectors,
        *,
        llm: Any = None,
        prompts_dir: Path | None = None,
        max_turn_chars: int = 1000,
        resolver: CitationResolver | None = None,
    ) -> None:
        self.catalog = catalog
        self.resolver = resolver
        self._resolved: set[str] = set()
        self.vectors = vectors
        self.llm = llm
        self.prompts_dir = prompts_dir
        self.max_turn_chars = max_turn_chars
        self.models = wording_models_of(catalog)
        self.scorer = OfflineScorer(
            vectors, rules=catalog.acts, red_lines=catalog.red_lines, models=self.models
        )
        self._customers: dict[str, ScriptedCustomer] = {}
        # The role-play prompts are read per turn through the prompt library (re-read on edit).
        self.prompts = library_for(prompts_dir) if prompts_dir is not None else None

    @classmethod
    def build(cls, settings: "Settings", knowledge: "KnowledgeBase", llm: Any) -> "PracticeService":
        """As the composition root builds it: scenarios from files, citations resolved through the knowledge base."""
        catalog = load_catalog(settings.knowledge_dir / "scenarios", settings.sources_dir)
        return cls(
            catalog,
            TextVectors(knowledge.embedder),
            llm=llm,
            prompts_dir=settings.prompts_dir,
            max_turn_chars=settings.max_question_chars,
            resolver=knowledge_resolver(knowledge),
        )

    # ---- scenarios ------------------------------------------------------
    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario, its rubric citations resolved through the knowledge base on first use."""
        scenario = self.catalog.get(scenario_id)
        if scenario is None:
            raise UnknownScenario(scenario_id)
        if self.resolver is not None and scenario_id not in self._resolved:
            scenario = resolve_citations(scenario, self.catalog.sources, self.resolver)
            self.catalog.scenarios[scenario_id] = scenario
            if not self._resolved:  # the shared red lines too, so the card cites the rule's place, not only its words
                self.catalog.red_lines = cite_red_lines(self.catalog.red_lines, self.catalog.sources, self.resolver)
                self.scorer.red_lines = self.catalog.red_lines
            self._resolved.add(scenario_id)
        return scenario

    def customer(self, scenario_id: str) -> ScriptedCustomer:
        if scenario_id not in self._customers:
            scenario = self.scenario(scenario_id)
            # One batch for all reference texts of the scenario instead of one embedder call per beat.
            refs = [m for b in scenario.beats for m in b.moves + b.negatives] + [c.example for c in scenario.rubric]
            refs += list(self.catalog.acts.smalltalk)
            self.vectors.passages([strip_address(t) for t in refs])
            self.models.prepare()
            self._customers[scenario_id] = ScriptedCustomer(
                scenario, self.vectors, rules=self.catalog.acts, red_lines=self.catalog.red_lines,
                models=self.models,
            )
        return self._customers[scenario_id]

    @property
    def llm_enabled(self) -> bool:
        return self.llm is not None and self.prompts is not None

    # ---- a session ------------------------------------------------------
    def start(self, scenario_id: str, mode: str | None = None) -> PracticeSession:
        """A new session with the customer's opening line already in the transcript."""
        scenario = self.scenario(scenario_id)
        if mode is None:
            mode = MODE_LLM if self.llm_enabled else MODE_OFFLINE
        if mode == MODE_LLM and not self.llm_enabled:
            mode = MODE_OFFLINE
        return PracticeSession(
            scenario_id=scenario_id,
            mode=mode,
            state=self.customer(scenario_id).new_state(),
            transcript=[{"role": "customer", "text": scenario.opening}],
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )

    def _rep_text(self, session: PracticeSession, rep_text: str) -> str:
        if session.ended:
            raise ValueError("这次练习已经结束了")
        text = " ".join(rep_text.split())[: self.max_turn_chars]
        if not text:
            raise ValueError("说点什么吧")
        return text

    def speech_terms(self, scenario_id: str) -> list[str]:
        """Names a rep says in this scenario (customer, role, company), for the speech recogniser's glossary."""
        scenario = self.catalog.get(scenario_id)
        if scenario is None:
            return []
        persona = scenario.persona
        return [x for x in (persona.name, persona.company, persona.role) if x]

    @staticmethod
    def _add_turns(session: PracticeSession, text: str, reply: str, spoken: bool) -> None:
        session.transcript += [{"role": "rep", "text": text}, {"role": "customer", "text": reply}]
        if spoken:
            session.spoken.append(len(session.rep_turns))

    def reply_offline(self, session: PracticeSession, rep_text: str, spoken: bool = False) -> CustomerTurn:
        """The scripted customer's answer (blocking: it embeds the rep's turn)."""
        text = self._rep_text(session, rep_text)
        turn = self.customer(session.scenario_id).respond(text, session.state)
        self._add_turns(session, text, turn.text, spoken)
        return turn

    async def reply(self, session: PracticeSession, rep_text: str, spoken: bool = False) -> CustomerTurn:
        """The customer's answer: the LLM persona in LLM mode (scripted on any fault), else scripted.

        `spoken`: the text is a voice note's transcript; it is treated exactly like typed text and only
        remembered so the score card can say which turns were spoken."""
        if session.mode != MODE_LLM or not self.llm_enabled:
            return await asyncio.to_thread(self.reply_offline, session, rep_text, spoken)
        text = self._rep_text(session, rep_text)
        # Building a customer embeds every move and resolves citations (after a restart): never on the event loop.
        scripted = await asyncio.to_thread(self.customer, session.scenario_id)
        analysis = await asyncio.to_thread(scripted.analyse, text)
        persona = LLMCustomer(scripted, self.llm, self.prompts)
        turn = await persona.respond(text, session.state, session.transcript, analysis)
        session.count("customer")
        if turn.notice:
            session.count("customer_fallback")
        if turn.notice and turn.notice not in session.notices:
            session.notices.append(turn.notice)
        self._add_turns(session, text, turn.text, spoken)
        return turn

    def end_by_rep(self, session: PracticeSession) -> None:
        """The rep ends the conversation (/end)."""
        if not session.ended:
            session.state.ended = True
            session.state.outcome = OUTCOME_ENDED_BY_REP

    def finish_offline(self, session: PracticeSession) -> ScoreCard:
        """Score with the offline scorer (blocking)."""
        self.end_by_rep(session)
        return self.scorer.score(self.scenario(session.scenario_id), session.rep_turns, session.state.outcome)

    async def finish(self, session: PracticeSession) -> ScoreCard:
        """Score the session: the LLM evaluator in LLM mode (offline scorer on failure), else offline."""
        self.end_by_rep(session)
        scenario = await asyncio.to_thread(self.scenario, session.scenario_id)  # may resolve citations
        if session.mode == MODE_LLM and self.llm_enabled and session.rep_turns:
            evaluator = LLMEvaluator(self.llm, self.prompts, self.scorer)
            card = await evaluator.evaluate(scenario, session.transcript, session.state.outcome)
            session.count("evaluator")
            if card.notice == "llm_eval_fallback":
                session.count("evaluator_fallback")
            elif card.acts_by != "llm":
                session.count("evaluator_acts_fallback")  # the card is the model's, the act labels the code's
            return card
        return await asyncio.to_thread(self.scorer.score, scenario, session.rep_turns, session.state.outcome)

    def play(self, scenario_id: str, rep_turns: list[str]) -> tuple[PracticeSession, ScoreCard]:
        """Play a whole script offline (dry runs, calibration): stops when the customer ends the meeting."""
        session = self.start(scenario_id, MODE_OFFLINE)
        for line in rep_turns:
            if session.ended:
                break
            if line.strip():
                self.reply_offline(session, line)
        return session, self.finish_offline(session)
