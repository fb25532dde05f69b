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

from bot.coach.criteria import CriterionInfo
from bot.coach.practice.acts import ASKED, DID, POLARITIES, REFUSED, VAGUE, Act, ActRecogniser, RedLineHit, TurnActs
from bot.coach.practice.scenarios import ActRules, Beat, Criterion, RedLine, Scenario
from bot.coach.practice.semantic import TextVectors
from bot.coach.practice.wording import WordingModels
from bot.coach.types import Citation
from bot.llm.replies import strip_code_fence
from bot.llm.prompts import PromptFileError, PromptLibrary, t

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
    info: CriterionInfo | None = None  # the shared names; `name` stays Chinese (prompts, stored rows)

    def name_in(self, lang: str) -> str:
        """The criterion's name in the reader's language (an English user's card reads English)."""
        return self.info.name(lang) if self.info else self.name

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
class RedLineResult:
    """A red line the rep crossed: the rep's words and the rule in the material it breaks."""

    id: str
    line: RedLine
    evidence: str
    turn: int

    def name_in(self, lang: str) -> str:
        return self.line.name(lang)

    @property
    def citation(self) -> Citation | None:
        return self.line.rule.citation

    def as_dict(self) -> dict[str, Any]:
        c = self.citation
        return {
            "id": self.id,
            "name": self.line.zh,
            "turn": self.turn,
            "evidence": self.evidence,
            "rule": self.line.rule.quote,
            "citation": c.as_dict() if c else {"doc": self.line.rule.doc, "text": self.line.rule.quote},
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
    red_lines: tuple[RedLineResult, ...] = ()  # crossed: the total is capped and the card leads with them
    acts: tuple[TurnActs, ...] = ()
    acts_by: str = "offline"  # who labelled the acts: "llm" (checked against the rep's words) or "offline"

    @property
    def compliance_failed(self) -> bool:
        return bool(self.red_lines)

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
            "compliance_failed": self.compliance_failed,
            "red_lines": [r.as_dict() for r in self.red_lines],
            "acts": [a.as_dict() for a in self.acts],  # per rep turn: what was recognised (testable)
            "acts_by": self.acts_by,
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


def make_card(
    scenario: Scenario,
    results: list[CriterionResult],
    outcome: str,
    mode: str,
    turns: int,
    notice: str = "",
    *,
    red_lines: tuple[RedLineResult, ...] = (),
    acts: list[TurnActs] | tuple[TurnActs, ...] = (),
    cap: int = 20,
    acts_by: str = "offline",
) -> ScoreCard:
    """The card; a red line caps the total (in code, whoever scored the criteria)."""
    total = max(0, min(100, int(round(sum(r.points for r in results)))))
    if red_lines:
        total = min(total, cap)
    return ScoreCard(
        scenario.id, scenario.title, total, tuple(results), outcome, mode, turns, notice, tuple(red_lines), tuple(acts), acts_by
    )


# ---------------------------------------------------------------- offline


@dataclass(frozen=True)
class ScoringParams:
    """How much each way of making a move earns, and what a move that hurts costs."""

    credit: tuple[tuple[str, float], ...] = ((DID, 1.0), (VAGUE, 0.45), (ASKED, 0.35), (REFUSED, 0.0))
    bad_move_penalty: float = 0.5
    red_line_cap: int = 20

    def of(self, polarity: str) -> float:
        return dict(self.credit).get(polarity, 0.0)


class OfflineScorer:
    """Scores from the acts recognised in the rep's turns: only what the rep said earns credit."""

    def __init__(
        self,
        vectors: TextVectors,
        params: ScoringParams | None = None,
        rules: ActRules | None = None,
        red_lines: tuple[RedLine, ...] = (),
        models: WordingModels | None = None,
    ) -> None:
        self.vectors = vectors
        self.params = params or ScoringParams()
        self.rules = rules or ActRules()
        self.red_lines = red_lines
        self.models = models
        self._recognisers: dict[str, ActRecogniser] = {}

    def recogniser(self, scenario: Scenario) -> ActRecogniser:
        """One recogniser per scenario (its examples embedded once)."""
        r = self._recognisers.get(scenario.id)
        if r is None or r.scenario is not scenario:
            r = self._recognisers[scenario.id] = ActRecogniser(
                scenario, self.vectors, self.rules, self.red_lines, models=self.models
            )
        return r

    def acts(self, scenario: Scenario, rep_turns: list[str]) -> list[TurnActs]:
        turns = [t.strip() for t in rep_turns if t and t.strip()]
        return self.recogniser(scenario).recognise_all(turns)

    def score(self, scenario: Scenario, rep_turns: list[str], outcome: str = "", notice: str = "") -> ScoreCard:
        return self.score_acts(scenario, self.acts(scenario, rep_turns), outcome, notice)

    def score_acts(self, scenario: Scenario, turn_acts: list[TurnActs], outcome: str = "", notice: str = "") -> ScoreCard:
        """The card from recognised acts: partial credit per criterion, refusals as mistakes, red lines first."""
        acts = [a for t in turn_acts for a in t.acts]
        beats = {b.id: b for b in scenario.beats}
        done_good = [a for a in acts if a.move in beats and not beats[a.move].bad and a.polarity != REFUSED]
        # A criterion with nothing to do but avoid a bad move earns as much as the rest of the work went.
        engaged = min(1.0, sum(self.params.of(a.polarity) for a in _best_per_move(done_good).values()) / 3)
        results = [self._criterion(scenario, c, acts, beats, engaged) for c in scenario.rubric]
        hits = [h for t in turn_acts for h in t.red_lines]
        return make_card(scenario, results, outcome, MODE_OFFLINE, len(turn_acts), notice,
                         red_lines=red_line_results(hits, self.red_lines), acts=turn_acts, cap=self.params.red_line_cap)

    def _criterion(self, scenario: Scenario, criterion: Criterion, acts: list[Act], beats: dict[str, Beat], engaged: float) -> CriterionResult:
        p = self.params
        moves = [m for m in criterion.moves if m in beats]
        good = [m for m in moves if not beats[m].bad]
        bad = [m for m in moves if beats[m].bad]
        best = _best_per_move([a for a in acts if a.move in moves])
        done: list[str] = []
        missing: list[str] = []
        evidence: list[str] = []
        credits: list[float] = []
        for move in good:
            act = best.get(move)
            label = _label(beats[move])
            credit = p.of(act.polarity) if act else 0.0
            credits.append(credit)
            if act is None:
                missing.append(label)
            elif act.polarity == REFUSED:
                missing.append(t_mistake("refused", label, act.evidence))
            elif act.polarity == DID:
                done.append(label)
                evidence.append(act.evidence)
            else:
                done.append(t_mistake(act.polarity, label, act.evidence))
                evidence.append(act.evidence)
        penalty = 0.0
        held = 0
        for move in bad:
            for act in (a for a in acts if a.move == move):
                if act.polarity == REFUSED:
                    held += 1
                    done.append(t_mistake("held", _label(beats[move]), act.evidence))
                    evidence.append(act.evidence)
                elif act.polarity == DID:
                    penalty += p.bad_move_penalty
                    missing.append(t_mistake("bad", _label(beats[move]), act.evidence))
                    break
        if credits:
            base = sum(credits) / len(credits)
            if held:
                base = min(1.0, base + 0.25)
        else:
            base = 1.0 if held else engaged
        pct = int(round(100 * min(1.0, max(0.0, base - penalty))))
        return CriterionResult(
            criterion_id=criterion.id,
            name=criterion.name,
            weight=criterion.weight,
            pct=pct,
            done_well=tuple(dict.fromkeys(done)),
            missing=tuple(dict.fromkeys(missing)),
            evidence=tuple(dict.fromkeys(evidence)),
            better_reply=self.better_reply(criterion, [beats[m] for m in good], evidence or [a.evidence for a in acts]),
            good=criterion.good,
            citations=tuple(criterion.citations),
            info=criterion.info,
        )

    def better_reply(self, criterion: Criterion, beats: list[Beat], attempt: list[str]) -> str:
        """The exemplar closest to what this rep tried: the criterion's example or one of its moves' examples."""
        candidates = list(dict.fromkeys([criterion.example] + [m for b in beats for m in b.examples if len(m) >= 12]))
        if not attempt or len(candidates) == 1:
            return criterion.example
        sims = self.vectors.similarity(attempt, candidates)
        return candidates[int(np.argmax(sims.max(axis=0)))]


def _best_per_move(acts: list[Act]) -> dict[str, Act]:
    """Per move, the act that earned most (did over vague over asked over refused), first said first."""
    rank = {DID: 3, VAGUE: 2, ASKED: 1, REFUSED: 0}
    out: dict[str, Act] = {}
    for act in acts:
        if act.move not in out or rank[act.polarity] > rank[out[act.move].polarity]:
            out[act.move] = act
    return out


def _label(beat: Beat) -> str:
    """A move as the card names it: its shortest example (the manager's own words)."""
    return beat.label or min(beat.examples, key=len)


def t_mistake(kind: str, label: str, evidence: str) -> str:
    """A line about how a move was made, quoting the rep (texts in prompts/ui/practice.yaml)."""
    return t(f"practice.act_{kind}", "zh", move=label, said=evidence)


def red_line_results(hits: list[RedLineHit], red_lines: tuple[RedLine, ...]) -> tuple[RedLineResult, ...]:
    """One entry per red line crossed, with the rep's first words for it and the rule it breaks."""
    by_id = {r.id: r for r in red_lines}
    out: dict[str, RedLineResult] = {}
    for hit in hits:
        line = by_id.get(hit.id)
        if line is not None and hit.id not in out:
            out[hit.id] = RedLineResult(hit.id, line, hit.evidence, hit.turn)
    return tuple(out.values())


# ---------------------------------------------------------------- LLM evaluator


class EvaluationError(ValueError):
    """The evaluator's JSON does not follow the schema; the message says what to fix (sent back on retry)."""


def _norm(text: str) -> str:
    return re.sub(r"[\s，,。.！!？?；;：:、“”\"'‘’（）()…—-]+", "", text)


_SPEAKER = re.compile(r"^\s*(?:销售员|业务员|销售|我|rep|Rep|客户经理)\s*(?:[（(]第\s*\d+\s*轮[）)])?\s*[：:]\s*")


def rep_words(quote: str, rep_turns: list[str]) -> str:
    """What is verifiably the rep's in a quote: speaker label and quotation marks dropped, else the longest verbatim run.

    A small model writes "销售员说：我们是国企，……"; the words after the label are the rep's.
    """
    q = _SPEAKER.sub("", re.sub(r"^\s*(?:销售员|业务员)说\s*", "销售员：", quote.strip()))
    q = q.strip().strip("“”\"'‘’「」『』").strip()
    said = "".join(rep_turns)
    if q and q in said:
        return q
    best = ""
    for i in range(len(q)):  # the longest run of the quote that the rep really said
        j = i + len(best) + 1
        while j <= len(q) and q[i:j] in said:
            best = q[i:j] if j - i > len(best) else best
            j += 1
    return best if len(_norm(best)) >= 6 else q


def _json_reply(text: str) -> Any:
    """The evaluator's reply as JSON, a Markdown code fence around it allowed."""
    try:
        return json.loads(strip_code_fence(text))
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"不是合法的 JSON：{exc.msg}") from exc


def parse_evaluation(text: str, scenario: Scenario, rep_turns: list[str]) -> list[dict[str, Any]]:
    """Validate the evaluator's JSON against the rubric and the rep's actual words."""
    return _criteria(_json_reply(text), scenario, rep_turns)


def _criteria(data: Any, scenario: Scenario, rep_turns: list[str]) -> list[dict[str, Any]]:
    """The criteria of the evaluator's parsed reply, checked; raises EvaluationError saying what to fix."""
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
        evidence = [rep_words(q, rep_turns) for q in evidence]
        item["evidence"] = evidence
        for quote in evidence:
            if not _norm(quote) or _norm(quote) not in said:
                raise EvaluationError(f"{where}.evidence 里的“{quote}”不是销售员的原话；只能逐字引用销售员说过的话")
        if score >= 30 and not evidence:
            raise EvaluationError(f"{where}: 给了 {score} 分却没有引用销售员的原话作为证据")
        for key in ("done_well", "missing", "better_reply"):
            if not isinstance(item.get(key, ""), str):
                raise EvaluationError(f"{where}.{key} 必须是字符串")
        refs = item.get("sources", [])
        n_sources = len(wanted[cid].sources)
        if not isinstance(refs, list) or not all(isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= n_sources for r in refs):
            raise EvaluationError(f"{where}.sources 只能是 1–{n_sources} 的编号列表")
        out[cid] = item
    missing = [cid for cid in wanted if cid not in out]
    if missing:
        raise EvaluationError(f"缺少评分项：{', '.join(missing)}")
    return [out[c.id] for c in scenario.rubric]


def parse_acts(data: Any, scenario: Scenario, rep_turns: list[str]) -> tuple[list[list[Act]], int] | None:
    """The model's act labels per rep turn (from its parsed reply), keeping only what checks out,
    and how many were dropped.

    An act counts when its move is one of the scenario's, its polarity one of the four,
    and its evidence is verifiably the rep's words in that very turn (speaker labels and
    quotation marks dropped, as for the criteria's evidence). None when the model sent no
    "acts" list at all. Never raises: the criteria are the card; the acts are a bonus.
    """
    raw = data.get("acts") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return None
    moves = {b.id for b in scenario.beats}
    per_turn: list[dict[str, Act]] = [{} for _ in rep_turns]
    dropped = 0
    for item in raw:
        turn = item.get("turn") if isinstance(item, dict) else None
        ok = isinstance(turn, int) and not isinstance(turn, bool) and 1 <= turn <= len(rep_turns)
        ok = ok and item.get("move") in moves and item.get("polarity") in POLARITIES
        said = _verified_quote(item.get("evidence"), rep_turns[turn - 1]) if ok else ""
        if not said:
            dropped += 1
            continue
        per_turn[turn - 1].setdefault(item["move"], Act(item["move"], item["polarity"], said, turn, 1.0))
    return [list(acts.values()) for acts in per_turn], dropped


def _verified_quote(evidence: Any, turn_text: str) -> str:
    """The first quote in `evidence` (a string, or a list of them as small models write it) that is
    verifiably the rep's words in this turn, as the rep said them; "" when none is."""
    quotes = [evidence] if isinstance(evidence, str) else evidence if isinstance(evidence, list) else []
    for quote in quotes:
        said = rep_words(quote, [turn_text]) if isinstance(quote, str) else ""
        if _norm(said) and _norm(said) in _norm(turn_text):
            return said
    return ""


def merge_acts(model: list[list[Act]] | None, offline: list[TurnActs]) -> tuple[list[TurnActs], str]:
    """The acts shown on an LLM card: the model's checked labels, the red lines always from the code.

    The offline recogniser's acts stand in when the model labelled nothing usable while the
    rep's words held recognisable moves (a small model that skipped the list).
    """
    if model is None or (not any(model) and any(t.acts for t in offline)):
        return offline, "offline"
    return [TurnActs(t.turn, t.text, tuple(acts), t.red_lines) for t, acts in zip(offline, model)], "llm"


def moves_for_prompt(scenario: Scenario) -> str:
    """The scenario's moves as the evaluator labels them: id and what the move does."""
    return "\n".join(f"- {b.id}：{_label(b)}" for b in scenario.beats)


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
        lines, n = [], 0
        for turn in transcript:
            if turn["role"] == "rep":
                n += 1
                lines.append(f"销售员（第 {n} 轮）：{turn['text']}")  # the turn numbers the acts refer to
            else:
                lines.append(f"客户：{turn['text']}")
        dialogue = "\n".join(lines)
        system = self.prompts.render(
            EVALUATOR_PROMPT,
            title=scenario.title,
            situation=scenario.brief.situation,
            goal=scenario.brief.goal,
            rubric=rubric_for_prompt(scenario),
            moves=moves_for_prompt(scenario),
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
                    data = _json_reply(reply.text)
                    items = _criteria(data, scenario, rep_turns)
                    offline = await asyncio.to_thread(self.fallback.acts, scenario, rep_turns)
                    labelled = parse_acts(data, scenario, rep_turns)
                    if labelled and labelled[1]:
                        log.info("evaluator acts: %d label(s) dropped (not the rep's words, or unknown move)", labelled[1])
                    turn_acts, acts_by = merge_acts(labelled[0] if labelled else None, offline)
                    return self._card(scenario, items, outcome, len(rep_turns), turn_acts, acts_by)
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

    def _card(
        self,
        scenario: Scenario,
        items: list[dict[str, Any]],
        outcome: str,
        turns: int,
        turn_acts: list[TurnActs] | None = None,
        acts_by: str = "offline",
    ) -> ScoreCard:
        """The model's card with the red-line cap applied in code from the recognised acts, never left to the model."""
        turn_acts = turn_acts or []
        results: list[CriterionResult] = []
        for criterion, item in zip(scenario.rubric, items):
            refs = item.get("sources") or list(range(1, len(criterion.sources) + 1))
            citations = [criterion.sources[r - 1].citation for r in dict.fromkeys(refs)]
            results.append(
                CriterionResult(
                    criterion_id=criterion.id,
                    name=criterion.name,
                    weight=criterion.weight,
                    pct=int(round(item["score"])),
                    done_well=tuple(x for x in [str(item.get("done_well", "")).strip()] if x),
                    missing=tuple(x for x in [str(item.get("missing", "")).strip()] if x),
                    evidence=tuple(item.get("evidence", [])),
                    # a small model often leaves it empty: the rubric's own example reply stands in
                    better_reply=str(item.get("better_reply", "")).strip() or criterion.example,
                    good=criterion.good,
                    citations=tuple(c for c in citations if c is not None),
                    info=criterion.info,
                )
            )
        hits = [h for t in turn_acts for h in t.red_lines]
        return make_card(scenario, results, outcome, MODE_LLM, turns, red_lines=red_line_results(hits, self.fallback.red_lines),
                         acts=turn_acts, cap=self.fallback.params.red_line_cap, acts_by=acts_by)
