"""Scoring a practice conversation against the scenario's rubric.

Offline: every criterion is scored from evidence in the rep's own turns only —
which of its checkable behaviours appear (cue words, negation-aware), how close
the rep came to the example good reply (e5 cosine), minus penalties for the
behaviours to avoid. Specific checks rather than vague impressions, because reps
stop trusting score cards they cannot verify.

LLM: a separate evaluator pass returns JSON per criterion with verbatim quotes
from the rep's turns as evidence. The JSON is validated (every criterion once,
scores 0–100, every quote really said by the rep, source numbers that exist);
one retry with the validation error, then the offline scorer takes over.

Both return the same `ScoreCard`: total /100, per-criterion feedback (done well,
missing, a better reply, the passages to read) and the two most valuable
improvements with citations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.coach.practice.cues import find_cues
from bot.coach.practice.scenarios import Criterion, Scenario
from bot.coach.practice.semantic import TextVectors
from bot.coach.types import Citation
from bot.llm.prompts import PromptFileError, PromptLibrary
from bot.text.sentences import sentences

log = logging.getLogger(__name__)

MODE_OFFLINE = "offline"
MODE_LLM = "llm"
# The evaluator prompt, under the prompts directory; filled by bot.llm.prompts (re-read on edit).
EVALUATOR_PROMPT = "roleplay_evaluator.md"


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's score and feedback."""

    criterion_id: str
    name: str
    weight: int
    pct: int  # 0–100
    done_well: tuple[str, ...]
    missing: tuple[str, ...]
    evidence: tuple[str, ...]  # the rep's own words
    better_reply: str
    good: str
    citations: tuple[Citation, ...]
    name_en: str = ""

    def display_name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    @property
    def points(self) -> float:
        return self.weight * self.pct / 100

    @property
    def lost(self) -> float:
        return self.weight - self.points

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.criterion_id,
            "name": self.name,
            "name_en": self.name_en,
            "weight": self.weight,
            "score_pct": self.pct,
            "points": round(self.points, 1),
            "done_well": list(self.done_well),
            "missing": list(self.missing),
            "evidence": list(self.evidence),
            "better_reply": self.better_reply,
            "good": self.good,
            "citations": [c.as_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class ScoreCard:
    """The result of one practice session."""

    scenario_id: str
    title: str
    total: int
    criteria: tuple[CriterionResult, ...]
    outcome: str
    mode: str
    turns: int
    notice: str = ""

    @property
    def improvements(self) -> list[CriterionResult]:
        """The two criteria where the most points were lost (the most valuable to work on)."""
        ranked = sorted((c for c in self.criteria if c.lost >= 1), key=lambda c: c.lost, reverse=True)
        return ranked[:2]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "title": self.title,
            "total": self.total,
            "outcome": self.outcome,
            "mode": self.mode,
            "turns": self.turns,
            "notice": self.notice,
            "criteria": [c.as_dict() for c in self.criteria],
            "improvements": [
                {
                    "id": c.criterion_id,
                    "name": c.name,
                    "lost_points": round(c.lost, 1),
                    "missing": list(c.missing),
                    "better_reply": c.better_reply,
                    "citations": [x.as_dict() for x in c.citations],
                }
                for c in self.improvements
            ],
        }


def make_card(scenario: Scenario, results: list[CriterionResult], outcome: str, mode: str, turns: int, notice: str = "") -> ScoreCard:
    total = int(round(sum(r.points for r in results)))
    return ScoreCard(scenario.id, scenario.title, max(0, min(100, total)), tuple(results), outcome, mode, turns, notice)


# ---------------------------------------------------------------- offline


@dataclass(frozen=True)
class ScoringParams:
    """How checks, similarity and penalties combine. e5 cosines live in a narrow band, hence sim_lo/sim_hi."""

    checks_weight: float = 0.75
    similarity_weight: float = 0.25
    sim_lo: float = 0.86
    sim_hi: float = 0.94


def _sentences(turns: list[str]) -> list[str]:
    """Turns plus their sentences, so a long turn is compared piece by piece too."""
    out: list[str] = []
    for turn in turns:
        out.append(turn)
        parts = [p for p in sentences(turn, trim=True, keep_ends=False) if len(p) >= 6]
        if len(parts) > 1:
            out.extend(parts)
    return list(dict.fromkeys(out))


class OfflineScorer:
    """Scores from evidence in the rep's turns: cues, similarity to the example, penalties."""

    def __init__(self, vectors: TextVectors, params: ScoringParams | None = None) -> None:
        self.vectors = vectors
        self.params = params or ScoringParams()

    def score(self, scenario: Scenario, rep_turns: list[str], outcome: str = "", notice: str = "") -> ScoreCard:
        turns = [t.strip() for t in rep_turns if t and t.strip()]
        pieces = _sentences(turns)
        examples = [c.example for c in scenario.rubric]
        sims = self.vectors.similarity(pieces, examples) if pieces else np.zeros((0, len(examples)))
        tainted = self._tainted(scenario, turns)
        results = [
            self._criterion(c, turns, sims[:, i] if len(pieces) else np.zeros(0), tainted)
            for i, c in enumerate(scenario.rubric)
        ]
        return make_card(scenario, results, outcome, MODE_OFFLINE, len(turns), notice)

    @staticmethod
    def _tainted(scenario: Scenario, turns: list[str]) -> set[tuple[int, str]]:
        """Clauses that are themselves a bad move; they cannot count as evidence of a good one
        ("节后的油您先订上吧" is hard selling, not following up)."""
        risky = [cue for c in scenario.rubric for a in c.avoid for cue in a.cues]
        risky += list(scenario.signals.improper_cues) + list(scenario.signals.push_cues)
        return {(h.turn, h.clause) for h in find_cues(turns, risky, risky=True)}

    def _criterion(self, criterion: Criterion, turns: list[str], sims: np.ndarray, tainted: set[tuple[int, str]]) -> CriterionResult:
        p = self.params
        done: list[str] = []
        missing: list[str] = []
        evidence: list[str] = []
        hit_checks = 0
        for check in criterion.checks:
            hits = [h for h in find_cues(turns, check.cues) if (h.turn, h.clause) not in tainted]
            if hits:
                hit_checks += 1
                done.append(check.label)
                evidence.extend(h.clause for h in hits[:1])
            else:
                missing.append(check.label)
        penalty = 0.0
        for avoid in criterion.avoid:
            hits = find_cues(turns, avoid.cues, risky=True)
            if hits:
                penalty += avoid.penalty
                missing.append(f"要避免：{avoid.label}（你说了“{hits[0].clause}”）")
        best = float(sims.max()) if sims.size else 0.0
        closeness = min(1.0, max(0.0, (best - p.sim_lo) / (p.sim_hi - p.sim_lo)))
        check_part = hit_checks / len(criterion.checks)
        # Similarity only counts as far as the checks back it up: sounding like the example is not doing it.
        raw = p.checks_weight * check_part + p.similarity_weight * closeness * (0.4 + 0.6 * check_part) - penalty
        pct = int(round(100 * min(1.0, max(0.0, raw))))
        return CriterionResult(
            criterion_id=criterion.id,
            name=criterion.name,
            name_en=criterion.name_en,
            weight=criterion.weight,
            pct=pct,
            done_well=tuple(done),
            missing=tuple(missing),
            evidence=tuple(dict.fromkeys(evidence)),
            better_reply=criterion.example,
            good=criterion.good,
            citations=tuple(criterion.citations),
        )


# ---------------------------------------------------------------- LLM evaluator


class EvaluationError(ValueError):
    """The evaluator's JSON does not follow the schema; the message says what to fix (sent back on retry)."""


def _norm(text: str) -> str:
    return re.sub(r"[\s，,。.！!？?；;：:、“”\"'‘’（）()…—-]+", "", text)


def parse_evaluation(text: str, scenario: Scenario, rep_turns: list[str]) -> list[dict[str, Any]]:
    """Validate the evaluator's JSON against the rubric and the rep's actual words."""
    raw = text.strip()
    if raw.startswith("```"):
        raw = raw.split("\n", 1)[1] if "\n" in raw else ""
        raw = raw.rsplit("```", 1)[0]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"不是合法的 JSON：{exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("criteria"), list):
        raise EvaluationError("顶层必须是 {\"criteria\": [...]}")
    said = _norm("".join(rep_turns))
    wanted = {c.id: c for c in scenario.rubric}
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(data["criteria"]):
        where = f"criteria[{i}]"
        if not isinstance(item, dict):
            raise EvaluationError(f"{where} 必须是对象")
        cid = item.get("id")
        if cid not in wanted:
            raise EvaluationError(f"{where}.id {cid!r} 不是本场景的评分项（应为：{', '.join(wanted)}）")
        if cid in out:
            raise EvaluationError(f"{where}.id {cid!r} 重复")
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
            raise EvaluationError(f"{where}.score 必须是 0–100 的数字")
        evidence = item.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise EvaluationError(f"{where}.evidence 必须是字符串列表")
        for quote in evidence:
            if not _norm(quote) or _norm(quote) not in said:
                raise EvaluationError(f"{where}.evidence 里的“{quote}”不是销售员的原话；只能逐字引用销售员说过的话")
        if score >= 30 and not evidence:
            raise EvaluationError(f"{where}: 给了 {score} 分却没有引用销售员的原话作为证据")
        for key in ("done_well", "missing", "better_reply"):
            if not isinstance(item.get(key, ""), str):
                raise EvaluationError(f"{where}.{key} 必须是字符串")
        if not str(item.get("better_reply", "")).strip():
            raise EvaluationError(f"{where}.better_reply 不能为空")
        refs = item.get("sources", [])
        n_sources = len(wanted[cid].sources)
        if not isinstance(refs, list) or not all(isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= n_sources for r in refs):
            raise EvaluationError(f"{where}.sources 只能是 1–{n_sources} 的编号列表")
        out[cid] = item
    missing = [cid for cid in wanted if cid not in out]
    if missing:
        raise EvaluationError(f"缺少评分项：{', '.join(missing)}")
    return [out[c.id] for c in scenario.rubric]


def rubric_for_prompt(scenario: Scenario) -> str:
    """The rubric as the evaluator sees it: ids, weights, checks, example and numbered sources."""
    lines: list[str] = []
    for c in scenario.rubric:
        lines.append(f"- id: {c.id}（{c.name}，权重 {c.weight}）")
        lines.append(f"  做得好的样子：{c.good}")
        lines.append("  检查点：" + "；".join(ch.label for ch in c.checks))
        if c.avoid:
            lines.append("  要避免：" + "；".join(a.label for a in c.avoid))
        lines.append(f"  示范回答：{c.example}")
        for n, ref in enumerate(c.sources, start=1):
            where = ref.citation.location if ref.citation and ref.citation.location else ""
            title = ref.citation.title if ref.citation else ref.doc
            lines.append(f"  资料[{n}]：《{title}》{where}：“{ref.quote}”")
    return "\n".join(lines)


class LLMEvaluator:
    """The evaluator pass of LLM mode, falling back to the offline scorer."""

    def __init__(self, llm: Any, prompts: PromptLibrary, fallback: OfflineScorer) -> None:
        self.llm = llm
        self.fallback = fallback
        self.prompts = prompts  # the evaluator prompt is read from here on every card (re-read on edit)

    def _messages(self, scenario: Scenario, transcript: list[dict[str, str]]) -> list[dict[str, str]]:
        """The evaluator's messages; raises PromptFileError when the prompt file cannot be read."""
        dialogue = "\n".join(
            f"{'销售员' if t['role'] == 'rep' else '客户'}：{t['text']}" for t in transcript
        )
        system = self.prompts.render(
            EVALUATOR_PROMPT,
            title=scenario.title,
            situation=scenario.brief.situation,
            goal=scenario.brief.goal,
            rubric=rubric_for_prompt(scenario),
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": f"对话记录：\n{dialogue}"}]

    async def evaluate(self, scenario: Scenario, transcript: list[dict[str, str]], outcome: str) -> ScoreCard:
        """The LLM's score card; the model, its JSON (after one retry) or the prompt file failing → offline card."""
        from bot.llm.client import LLMError

        rep_turns = [t["text"] for t in transcript if t["role"] == "rep"]
        try:
            # Rendered inside the fallback: a broken prompt file costs the LLM card, not the score.
            messages = await asyncio.to_thread(self._messages, scenario, transcript)
            for attempt in range(2):
                try:
                    reply = await self.llm.complete(messages, max_tokens=1800, temperature=0.1, json_object=True)
                    items = parse_evaluation(reply.text, scenario, rep_turns)
                    return self._card(scenario, items, outcome, len(rep_turns))
                except EvaluationError as exc:
                    log.warning("evaluator JSON rejected (attempt %d): %s", attempt + 1, exc)
                    messages = messages + [
                        {"role": "assistant", "content": reply.text[:4000]},
                        {"role": "user", "content": f"上面的 JSON 不合格：{exc}。请改正后只输出 JSON。"},
                    ]
        except LLMError as exc:
            log.warning("evaluator call failed: %s", exc)
        except PromptFileError as exc:
            log.error("evaluator prompt unusable, scoring offline: %s", exc)
        return await asyncio.to_thread(self.fallback.score, scenario, rep_turns, outcome, "llm_eval_fallback")

    def _card(self, scenario: Scenario, items: list[dict[str, Any]], outcome: str, turns: int) -> ScoreCard:
        results: list[CriterionResult] = []
        for criterion, item in zip(scenario.rubric, items):
            refs = item.get("sources") or list(range(1, len(criterion.sources) + 1))
            citations = [criterion.sources[r - 1].citation for r in dict.fromkeys(refs)]
            results.append(
                CriterionResult(
                    criterion_id=criterion.id,
                    name=criterion.name,
                    name_en=criterion.name_en,
                    weight=criterion.weight,
                    pct=int(round(item["score"])),
                    done_well=tuple(x for x in [str(item.get("done_well", "")).strip()] if x),
                    missing=tuple(x for x in [str(item.get("missing", "")).strip()] if x),
                    evidence=tuple(item.get("evidence", [])),
                    better_reply=str(item["better_reply"]).strip(),
                    good=criterion.good,
                    citations=tuple(c for c in citations if c is not None),
                )
            )
        return make_card(scenario, results, outcome, MODE_LLM, turns)
