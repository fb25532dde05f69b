"""The simulated customer: a scripted one (offline) and an LLM one, sharing one hidden state.

Offline, the customer reads what the rep actually said: each rep turn is matched
against every beat's expected moves (cosine of e5 vectors) and cue words, and the
customer answers with the line of the best new beat. Pushing, ignoring the
customer's concern, or offering something improper raises a hidden resistance
(scaled by difficulty); when it reaches the persona's limit the customer ends the
meeting. Simulated customers are known to be too cooperative, so nothing here
rewards vague talk: an unmatched turn costs trust, a move only promised in general
("到时候会安排好的") is pressed for specifics and not counted as done, and a good move
made while the customer is still guarded can backfire (`guarded` lines).

In LLM mode the model plays the persona in Chinese and returns JSON
{"reply", "trust_delta", "walk_away"}; the offline analysis still runs on every
turn so the hidden state (and the walk-away decision) stays grounded in what the
rep said, and any model fault falls back to the scripted line for that turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.coach.practice.acts import DID, REFUSED, VAGUE, ActRecogniser, TurnActs
from bot.coach.practice.cues import find_cues
from bot.coach.practice.scenarios import ActRules, Beat, RedLine, Scenario
from bot.coach.practice.semantic import TextVectors
from bot.coach.practice.wording import WordingModels
from bot.llm.replies import strip_code_fence
from bot.llm.prompts import PromptFileError, PromptLibrary

log = logging.getLogger(__name__)

OUTCOME_GOAL = "goal"
OUTCOME_WALKED_AWAY = "walked_away"
OUTCOME_TURN_LIMIT = "turn_limit"
OUTCOME_ENDED_BY_REP = "ended_by_rep"
# The persona prompt, under the prompts directory; filled by bot.llm.prompts (re-read on edit).
CUSTOMER_PROMPT = "roleplay_customer.md"


@dataclass(frozen=True)
class MatchParams:
    """How sure the customer must be of a move to react to it.

    The scorer credits every recognised act; the customer answers only those with a cue
    word or a close match, because a reaction to a move the rep never made ("行情这个我需要"
    when nobody mentioned prices) breaks the conversation, while a question about the open
    concern never does. Measured on the labelled development scripts: acts without a cue
    word are right 73 % of the time overall, 82 % from a similarity of 0.905 up, 40 % below.
    With five more examples per move in the scenario files the best match of any sentence
    comes closer, so the bar moved to 0.92: replies off the point fell on all four labelled
    sets (dev 6.6 → 4.4 %) while the good moves the customer takes up moved by 2.2 points at most.
    """

    sim_alone: float = 0.92


@dataclass
class CustomerState:
    """The hidden state of a simulated customer; plain data so a session survives restarts."""

    resistance: float
    hits: list[str] = field(default_factory=list)
    turns: int = 0
    line_index: int = 0
    ended: bool = False
    outcome: str = ""
    events: list[str] = field(default_factory=list)  # per rep turn: "beat:<id>", "improper", "pushed", "ignored", …
    red_lines: list[str] = field(default_factory=list)  # red lines the rep crossed: the session fails on compliance
    time: str = ""  # the last time or date the rep proposed; the customer never names another
    last_line: str = ""  # the customer's last line (did the customer ask something?)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CustomerState":
        return cls(
            resistance=float(data.get("resistance", 50)),
            hits=list(data.get("hits", [])),
            turns=int(data.get("turns", 0)),
            line_index=int(data.get("line_index", 0)),
            ended=bool(data.get("ended", False)),
            outcome=str(data.get("outcome", "")),
            events=list(data.get("events", [])),
            red_lines=list(data.get("red_lines", [])),
            time=str(data.get("time", "")),
            last_line=str(data.get("last_line", "")),
        )

    @property
    def compliance_failed(self) -> bool:
        return bool(self.red_lines)


@dataclass(frozen=True)
class TurnAnalysis:
    """What one rep turn did, as the customer perceives it."""

    good: list[tuple[Beat, float]]  # matched good beats, best first, with their match score
    bad: list[Beat]
    improper: bool
    pushed: bool
    refused: list[Beat] = field(default_factory=list)  # good moves the rep refused ("化验要花钱，您自己去做")
    red_lines: list[str] = field(default_factory=list)
    time: str = ""  # a time or date the rep named in this turn
    acts: TurnActs | None = None
    unsure: bool = False  # something like a move, too unsure to react to: ask, do not punish
    vague: list[Beat] = field(default_factory=list)  # good moves only promised in general ("到时候会安排好的")

    @property
    def matched_any(self) -> bool:
        return bool(self.good or self.bad or self.improper or self.pushed or self.refused or self.vague)


@dataclass(frozen=True)
class CustomerTurn:
    """The customer's answer to one rep turn."""

    text: str
    ended: bool
    outcome: str
    resistance: int
    events: tuple[str, ...] = ()
    notice: str = ""  # e.g. the LLM failed and the scripted line was used


def join_lines(first: str, second: str) -> str:
    """Two customer lines as one turn: Chinese sentences need no space between them."""
    first, second = first.strip(), second.strip()
    if not first or not second:
        return first or second
    return first + ("" if first[-1] in "。！？…”」）" else " ") + second


class ScriptedCustomer:
    """The offline customer of one scenario."""

    def __init__(
        self,
        scenario: Scenario,
        vectors: TextVectors,
        params: MatchParams | None = None,
        rules: ActRules | None = None,
        red_lines: tuple[RedLine, ...] = (),
        models: WordingModels | None = None,
    ) -> None:
        self.scenario = scenario
        self.vectors = vectors
        self.params = params or MatchParams()
        self.rules = rules or ActRules()
        self.recogniser = ActRecogniser(scenario, vectors, self.rules, red_lines, models=models)

    def new_state(self) -> CustomerState:
        return CustomerState(resistance=float(self.scenario.persona.resistance), last_line=self.scenario.opening)

    # ---- reading the rep ------------------------------------------------
    def analyse(self, rep_text: str) -> TurnAnalysis:
        """What the rep did, from the recognised acts: the customer reacts to nothing else."""
        s = self.scenario
        acts = self.recogniser.recognise(rep_text)
        beats = {b.id: b for b in s.beats}
        good: list[tuple[Beat, float]] = []
        bad: list[Beat] = []
        refused: list[Beat] = []
        vague: list[Beat] = []
        unsure = False
        for act in acts.acts:
            beat = beats[act.move]
            if not act.cued and act.score < self.params.sim_alone:
                unsure = True
                continue
            if beat.bad:
                if act.polarity == DID:
                    bad.append(beat)
            elif act.polarity == DID:
                good.append((beat, act.score))
            elif act.polarity == VAGUE:
                vague.append(beat)
            elif act.polarity == REFUSED:
                refused.append(beat)
        pushed = bool(find_cues([rep_text], s.signals.push_cues, risky=True))
        good.sort(key=lambda pair: pair[1], reverse=True)
        bad.sort(key=lambda b: b.resistance, reverse=True)
        red = [h.id for h in acts.red_lines]
        improper = bool(red) or any(b.improper for b in bad)
        return TurnAnalysis(good=good, bad=bad, improper=improper, pushed=pushed, refused=refused,
                            red_lines=red, time=self.time_in(rep_text), acts=acts, unsure=unsure, vague=vague)

    def time_in(self, text: str) -> str:
        """The last time or date named in `text` (patterns in acts.yaml), or ""."""
        found = [(m.start(), m.group(0)) for p in self.rules.times for m in p.finditer(text)]
        if not found:
            return ""
        found.sort(key=lambda x: (x[0], -len(x[1])))
        return max(found, key=lambda x: (x[0] + len(x[1]), len(x[1])))[1]

    def with_time(self, line: str, state: CustomerState) -> str:
        """The customer only names the time the rep proposed; without one, "到时候" instead of inventing it."""
        spans = sorted(
            ((m.start(), m.end()) for p in self.rules.times for m in p.finditer(line)), key=lambda x: (x[0], -x[1])
        )
        if not spans:
            return line
        out, pos = [], 0
        for start, end in spans:
            if start < pos:
                continue
            out.append(line[pos:start])
            out.append(state.time or "到时候")
            pos = end
        out.append(line[pos:])
        return "".join(out)

    # ---- answering ------------------------------------------------------
    def respond(self, rep_text: str, state: CustomerState) -> CustomerTurn:
        """Advance the hidden state by one rep turn and return the customer's line."""
        analysis = self.analyse(rep_text)
        text, delta, events = self.react(analysis, state)
        self.apply(state, delta, events)
        return self.close_turn(state, text, events)

    def react(self, a: TurnAnalysis, state: CustomerState) -> tuple[str, float, list[str]]:
        """The customer's line for what the rep did, the change in resistance, and the events to record."""
        s = self.scenario
        events: list[str] = []
        rise = 0.0
        drop = 0.0
        line = ""
        if a.time:
            state.time = a.time
        if a.improper:
            improper_beat = next((b for b in a.bad if b.improper), None)
            rise += max(s.signals.improper, improper_beat.resistance if improper_beat else 0)
            line = improper_beat.replies[0] if improper_beat else self._pick(s.reactions["improper"], state)
            events.append("improper")
        for beat in a.bad:
            if beat.improper:
                continue
            rise += beat.resistance
            events.append(f"bad:{beat.id}")
            line = line or self._pick(beat.replies, state)
        if a.pushed:
            rise += s.signals.push
            events.append("pushed")
            line = line or self._pick(s.reactions["pushed"], state)
        new_good = [(b, score) for b, score in a.good if b.id not in state.hits]
        for beat, _ in new_good:
            if beat.guarded and state.resistance >= beat.guarded.at:
                rise += max(beat.guarded.resistance, 0)
                drop += -min(beat.guarded.resistance, 0)
                events.append(f"guarded:{beat.id}")
                line = line or beat.guarded.reply
                continue
            drop += -min(beat.resistance, 0)
            rise += max(beat.resistance, 0)
            events.append(f"beat:{beat.id}")
            line = line or self._pick(beat.replies, state)
        for beat in a.refused:
            rise += s.signals.ignored
            events.append(f"refused:{beat.id}")
        for beat in a.vague:
            if beat.id in state.hits:
                continue
            rise += s.signals.ignored / 2  # a promise without a when, who or how: asked to pin it down, no credit yet
            events.append(f"vague:{beat.id}")
            line = line or self._pick(s.reactions["vague"], state)
        if a.red_lines:
            events += [f"red_line:{r}" for r in a.red_lines]
        if a.refused and not line:
            line = self.ask_open(state)
        if not a.matched_any and a.unsure:
            events.append("unsure")  # perhaps a move the recogniser could not place: ask, at no cost
            line = self.ask_open(state)
        elif not a.matched_any:
            rise += s.signals.ignored
            events.append("ignored")
            line = self.ask_open(state)
        elif not line:  # only repeated a move already made
            rise += s.signals.ignored / 2
            events.append("repeated")
            line = self.ask_open(state)
        up, down = s.signals.factor(s.difficulty)
        timed = {b.id for b, _ in new_good if any(self.time_in(m) for m in b.examples)}
        if timed:  # a line answering a proposed time names only the rep's time
            line = self.with_time(line, state)
        return line, rise * up - drop * down, events

    def ask_open(self, state: CustomerState) -> str:
        """Nothing new was said: the customer presses on the open concern, in character (the scenario's own lines).

        "你说的跟我问的不是一回事" and the like only follow a question the customer asked.
        """
        s = self.scenario
        lines = list(s.fallbacks)
        if state.last_line.rstrip().endswith(("？", "?")):
            lines += list(s.reactions["ignored"])
        return self._pick(tuple(lines), state)

    def _pick(self, lines: tuple[str, ...], state: CustomerState) -> str:
        """Cycle through alternative lines so the customer does not repeat itself."""
        line = lines[state.line_index % len(lines)]
        state.line_index += 1
        return line

    def apply(self, state: CustomerState, delta: float, events: list[str]) -> None:
        """Record a rep turn's effect on the hidden state."""
        state.turns += 1
        for event in events:
            if event.startswith("red_line:") and event[9:] not in state.red_lines:
                state.red_lines.append(event[9:])
        state.resistance = max(0.0, min(100.0, state.resistance + delta))
        for event in events:
            if event.startswith("beat:"):
                beat_id = event.split(":", 1)[1]
                if beat_id not in state.hits:
                    state.hits.append(beat_id)
        state.events.append(",".join(events))

    def goal_reached(self, state: CustomerState) -> bool:
        goals = [b.id for b in self.scenario.beats if b.goal]
        return all(g in state.hits for g in goals) and state.resistance <= self.scenario.end.goal_resistance

    def close_turn(self, state: CustomerState, text: str, events: list[str], *, walk_away: bool = False) -> CustomerTurn:
        """Decide whether the meeting ends after this turn and with which line."""
        s = self.scenario
        if state.resistance >= s.persona.walk_away_at or walk_away:
            state.ended, state.outcome = True, OUTCOME_WALKED_AWAY
            text = join_lines(text, s.persona.walk_away_line)
        elif self.goal_reached(state) and not state.compliance_failed:
            state.ended, state.outcome = True, OUTCOME_GOAL
            text = join_lines(text, s.end.goal_line)
        elif state.turns >= s.end.max_turns:
            state.ended, state.outcome = True, OUTCOME_TURN_LIMIT
            text = join_lines(text, s.end.turn_limit_line)
        state.last_line = text
        return CustomerTurn(
            text=text,
            ended=state.ended,
            outcome=state.outcome,
            resistance=round(state.resistance),
            events=tuple(events),
        )


# ---------------------------------------------------------------- LLM customer


def acts_text(scenario: Scenario, analysis: TurnAnalysis | None) -> str:
    """The recognised acts of this turn as the persona prompt lists them (a weak model stays on track)."""
    if analysis is None or analysis.acts is None or not (analysis.acts.acts or analysis.acts.red_lines):
        return "（没有识别到具体动作：他没回应你的顾虑）"
    beats = {b.id: b for b in scenario.beats}
    how = {DID: "做了", VAGUE: "含糊地答应", REFUSED: "拒绝了", "asked": "只是问了问"}
    lines = [f"- {how.get(a.polarity, a.polarity)}：{beats[a.move].label or beats[a.move].examples[0]}（原话：“{a.evidence}”）"
             for a in analysis.acts.acts if a.move in beats]
    lines += [f"- 不当提议（违规）：“{h.evidence}”" for h in analysis.acts.red_lines]
    return "\n".join(lines)


def open_concerns(scenario: Scenario, state: CustomerState) -> str:
    """The customer's concerns while the goal moves are not all made yet."""
    goals = [b for b in scenario.beats if b.goal and b.id not in state.hits]
    if not goals:
        return "（基本放心了）"
    return "\n".join(f"- {c}" for c in scenario.persona.concerns)


def persona_values(scenario: Scenario, state: CustomerState, analysis: TurnAnalysis | None = None) -> dict[str, object]:
    """The values of the persona prompt's placeholders for this scenario and hidden state."""
    p = scenario.persona
    return {
        "acts": acts_text(scenario, analysis),
        "open_concerns": open_concerns(scenario, state),
        "rep_time": state.time or (analysis.time if analysis else "") or "（没提）",
        "name": p.name,
        "role": p.role,
        "company": p.company,
        "personality": p.personality,
        "situation": scenario.brief.situation,
        "concerns": "\n".join(f"- {c}" for c in p.concerns),
        "motives": "\n".join(f"- {m}" for m in p.motives),
        "ends_meeting": "\n".join(f"- {e}" for e in p.ends_meeting),
        "difficulty": scenario.difficulty,
        "difficulty_style": scenario.signals.styles.get(scenario.difficulty, ""),
        "resistance": round(state.resistance),
        "mood": scenario.signals.mood(state.resistance),
    }


def persona_prompt(prompts: PromptLibrary, scenario: Scenario, state: CustomerState, analysis: TurnAnalysis | None = None) -> str:
    """The customer persona prompt, filled; raises PromptFileError when the file cannot be read."""
    return prompts.render(CUSTOMER_PROMPT, **persona_values(scenario, state, analysis))


@dataclass(frozen=True)
class LLMCustomerReply:
    reply: str
    trust_delta: int
    walk_away: bool


def parse_customer_json(text: str) -> LLMCustomerReply:
    """Validate the model's JSON turn; raises ValueError on anything off-schema."""
    data = json.loads(strip_code_fence(text))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    reply = data.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        raise ValueError("reply missing")
    delta = data.get("trust_delta", 0)
    if isinstance(delta, bool) or not isinstance(delta, (int, float)):
        raise ValueError("trust_delta not a number")
    walk = data.get("walk_away", False)
    if not isinstance(walk, bool):
        raise ValueError("walk_away not a boolean")
    return LLMCustomerReply(reply=reply.strip(), trust_delta=int(max(-20, min(20, delta))), walk_away=walk)


class LLMCustomer:
    """The persona played by the LLM; the scripted analysis keeps the hidden state honest."""

    # The model may only move resistance a little on its own; the rep's actual moves decide the rest.
    LLM_WEIGHT = 0.5
    # The model's walk-away is honoured only once the customer is already this annoyed.
    WALK_AWAY_FLOOR = 60

    def __init__(self, scripted: ScriptedCustomer, llm: Any, prompts: PromptLibrary) -> None:
        self.scripted = scripted
        self.llm = llm
        self.prompts = prompts  # the persona prompt is read from here on every turn (re-read on edit)

    async def respond(self, rep_text: str, state: CustomerState, transcript: list[dict[str, str]], analysis: TurnAnalysis) -> CustomerTurn:
        """One in-character turn; any fault (the model, its JSON, the prompt file) falls back to the scripted line."""
        from bot.llm.client import LLMError

        scripted_line, delta, events = self.scripted.react(analysis, state)
        try:
            # Rendered inside the fallback: a broken prompt file costs the LLM turn, not the practice.
            system = await asyncio.to_thread(persona_prompt, self.prompts, self.scripted.scenario, state, analysis)
            messages = [{"role": "system", "content": system}]
            for item in transcript:
                role = "assistant" if item["role"] == "customer" else "user"
                messages.append({"role": role, "content": item["text"]})
            messages.append({"role": "user", "content": rep_text})
            reply = await self.llm.complete(messages, max_tokens=300, temperature=0.7, json_object=True)
            parsed = parse_customer_json(reply.text)
        except (LLMError, ValueError, PromptFileError) as exc:
            log.warning("LLM customer fell back to the script: %s", exc)
            self.scripted.apply(state, delta, events)
            turn = self.scripted.close_turn(state, scripted_line, events)
            return CustomerTurn(turn.text, turn.ended, turn.outcome, turn.resistance, turn.events, notice="llm_fallback")
        # a time the rep never proposed is replaced by the rep's own (or "到时候"), as in the scripted customer
        parsed = LLMCustomerReply(self.scripted.with_time(parsed.reply, state), parsed.trust_delta, parsed.walk_away)
        combined = delta - parsed.trust_delta * self.LLM_WEIGHT
        self.scripted.apply(state, combined, events + [f"llm:{parsed.trust_delta:+d}"])
        walk = parsed.walk_away and state.resistance >= self.WALK_AWAY_FLOOR
        return self.scripted.close_turn(state, parsed.reply, events, walk_away=walk)
