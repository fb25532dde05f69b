"""The value types of role-play scenarios (what `bot.coach.practice.scenarios` builds from YAML).

Plain frozen dataclasses: the scripted customer, the scorer and the front ends
read them; only the loader creates them. The schema is documented for managers
in knowledge/scenarios/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.coach.criteria import Criteria, CriterionInfo
from bot.coach.types import Citation
from bot.datafiles import DataFileError

DIFFICULTIES = ("入门", "进阶", "挑战")
DEFAULT_WALK_AWAY_AT = 100
DEFAULT_GOAL_RESISTANCE = 50
DEFAULT_AVOID_PENALTY = 0.4


ScenarioError = DataFileError
"""A problem in a scenario file: the one data-file error, "file: field: what（第 N 行）"."""


@dataclass(frozen=True)
class SourceRef:
    """A verbatim quote from a source document; `citation` is filled in at load time."""

    doc: str
    quote: str
    citation: Citation | None = None


@dataclass(frozen=True)
class Check:
    """One checkable behaviour of a criterion, detected by cue words in the rep's turns."""

    label: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Avoid:
    """A behaviour that costs points (e.g. offering a kickback)."""

    label: str
    cues: tuple[str, ...]
    penalty: float = DEFAULT_AVOID_PENALTY


@dataclass(frozen=True)
class Criterion:
    """A rubric criterion of one scenario."""

    id: str
    name: str
    weight: int
    good: str
    checks: tuple[Check, ...]
    avoid: tuple[Avoid, ...]
    example: str
    sources: tuple[SourceRef, ...]
    info: CriterionInfo | None = None  # the shared names (criteria.yaml); `name` is the Chinese one
    moves: tuple[str, ...] = ()  # the beats (moves) this criterion credits or penalises

    def name_in(self, lang: str) -> str:
        """The criterion's name in the reader's language."""
        return self.info.name(lang) if self.info else self.name

    @property
    def citations(self) -> list[Citation]:
        """One citation per passage: two quotes from the same chunk are one place to read."""
        seen: set[tuple[str, str]] = set()
        out: list[Citation] = []
        for ref in self.sources:
            c = ref.citation
            if c is None:
                continue
            key = (c.doc, c.location or c.text)
            if key not in seen:
                seen.add(key)
                out.append(c)
        return out


@dataclass(frozen=True)
class Guarded:
    """How a beat lands while the customer is still guarded (resistance at or above `at`)."""

    at: int
    reply: str
    resistance: int


@dataclass(frozen=True)
class Beat:
    """A customer line keyed to a move the rep may make (offline mode)."""

    id: str
    moves: tuple[str, ...]
    cues: tuple[str, ...]
    replies: tuple[str, ...]
    resistance: int
    goal: bool = False
    improper: bool = False
    guarded: Guarded | None = None
    negatives: tuple[str, ...] = ()  # near misses that are not this move (`not:` in the file)
    label: str = ""  # what the move does, in a manager's words (shown on the card)
    refusal: bool = False  # the move is itself a refusal ("返点我做不了"): negation does not undo it, conceding does

    @property
    def examples(self) -> tuple[str, ...]:
        """The positive examples the recogniser compares a rep's sentence with."""
        return self.moves

    @property
    def bad(self) -> bool:
        """A move that hurts (raises resistance): it only matches on a cue word, never on vague similarity."""
        return self.improper or self.resistance > 0


@dataclass(frozen=True)
class Persona:
    name: str
    role: str
    company: str
    personality: str
    concerns: tuple[str, ...]
    motives: tuple[str, ...]
    resistance: int
    ends_meeting: tuple[str, ...]
    walk_away_line: str
    walk_away_at: int = DEFAULT_WALK_AWAY_AT


@dataclass(frozen=True)
class Brief:
    situation: str
    goal: str


@dataclass(frozen=True)
class EndConditions:
    max_turns: int
    goal_line: str
    turn_limit_line: str
    goal_resistance: int = DEFAULT_GOAL_RESISTANCE


@dataclass(frozen=True)
class Signals:
    """Cue words that make any customer bristle, and how much (signals.yaml, extendable per scenario)."""

    improper_cues: tuple[str, ...] = ()
    push_cues: tuple[str, ...] = ()
    improper: int = 40
    push: int = 15
    ignored: int = 8
    # difficulty -> (factor on resistance rises, factor on resistance drops)
    factors: dict[str, tuple[float, float]] = field(default_factory=dict)
    # difficulty -> how the LLM should play it
    styles: dict[str, str] = field(default_factory=dict)
    # (resistance threshold, mood), highest threshold first
    moods: tuple[tuple[int, str], ...] = ()

    def factor(self, difficulty: str) -> tuple[float, float]:
        return self.factors.get(difficulty, (1.0, 1.0))

    def mood(self, resistance: float) -> str:
        return next((text for at, text in self.moods if resistance >= at), "")


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    topic: str
    difficulty: str
    brief: Brief
    persona: Persona
    opening: str
    beats: tuple[Beat, ...]
    fallbacks: tuple[str, ...]
    reactions: dict[str, tuple[str, ...]]
    signals: Signals
    rubric: tuple[Criterion, ...]
    end: EndConditions
    file: str = ""

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.rubric if c.id == criterion_id), None)


@dataclass(frozen=True)
class ActRules:
    """How polarity is read from a sentence, and what counts as chatter (acts.yaml)."""

    negators: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # a clause ending so is a topic the next clause negates ("返点这些，我们不做")
    concessions: tuple[str, ...] = ()
    # declining to say it at all ("规矩那套我就不跟您讲了"): refuses even a move that is itself a refusal
    silences: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()  # a refusal that follows what it refuses ("……打我微信，恐怕不太好吧")
    conditions: tuple[str, ...] = ()  # a clause holding one only sets a condition: its negation is not a refusal
    not_negation: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    tag_questions: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    vague: tuple[str, ...] = ()
    specifics: tuple[re.Pattern[str], ...] = ()
    smalltalk: tuple[str, ...] = ()
    times: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class RedLine:
    """A compliance red line shared by every scenario (red_lines.yaml), with the rule it breaks."""

    id: str
    zh: str
    en: str
    rule: SourceRef
    patterns: tuple[re.Pattern[str], ...]
    questions: bool = False  # a rhetorical question counts too ("您总不能一点不照应吧？")
    # word groups that cross the line when one word of every group is in one sentence, none negated
    # (money + a person or private account): the offer's structure, not the scripts' wording
    together: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # also read two sentences in a row as one: the favour recalled in one, the ask in the next;
    # the condition in one, the consequence in the next
    across_sentences: bool = False
    # words that make a sentence the proper version of the topic ("办在你们公司名下的单位卡"): then no red line
    unless: tuple[str, ...] = ()

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" and self.en else self.zh


# How a rep made a move: did it, refused or negated it, only asked about it, promised it vaguely.
DID, REFUSED, ASKED, VAGUE = "did", "refused", "asked", "vague"
POLARITIES = (DID, REFUSED, ASKED, VAGUE)
HARMLESS = ""  # the label of an example sentence that crosses no red line, and of "not sure"


@dataclass(frozen=True)
class LabelledSentences:
    """Example sentences by label (red_line_examples.yaml, polarity_examples.yaml), for a model by wording.

    Hashable, so one trained model serves every catalog loaded with the same examples.
    """

    labelled: tuple[tuple[str, tuple[str, ...]], ...]  # (label, sentences)
    threshold: float  # how sure the model must be before its reading counts
    strength: float = 100.0  # inverse regularisation (sklearn's C)

    def adding(self, label: str, sentences: tuple[str, ...]) -> LabelledSentences:
        """The same examples with more sentences under `label`."""
        if not sentences:
            return self
        known = dict(self.labelled)
        known[label] = known.get(label, ()) + sentences
        return replace(self, labelled=tuple(known.items()))


@dataclass
class ScenarioCatalog:
    """All scenarios that loaded, plus the errors of those that did not."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    errors: list[ScenarioError] = field(default_factory=list)
    criteria: Criteria = field(default_factory=Criteria)
    sources: dict[str, SourceText] = field(default_factory=dict)
    acts: ActRules = field(default_factory=ActRules)
    red_lines: tuple[RedLine, ...] = ()
    red_line_examples: LabelledSentences | None = None  # red_line_examples.yaml, for the model by wording
    polarity_examples: LabelledSentences | None = None  # polarity_examples.yaml, likewise

    def get(self, scenario_id: str) -> Scenario | None:
        return self.scenarios.get(scenario_id)

    def ordered(self) -> list[Scenario]:
        """By topic, then difficulty (入门 → 挑战), then title."""
        return sorted(
            self.scenarios.values(),
            key=lambda s: (s.topic, DIFFICULTIES.index(s.difficulty), s.title),
        )

    def by_topic(self) -> dict[str, list[Scenario]]:
        out: dict[str, list[Scenario]] = {}
        for scenario in self.ordered():
            out.setdefault(scenario.topic, []).append(scenario)
        return out

    def criterion_name(self, criterion_id: str, lang: str = "zh") -> str:
        return self.criteria.name(criterion_id, lang)


@dataclass(frozen=True)
class SourceText:
    """A source document's id, title and full text, used to check quotes verbatim."""

    doc_id: str
    title: str
    text: str
