"""What the rep did in a turn: the scenario's moves, each with its polarity, and the red lines crossed.

Why acts and not cue words: "我们不会安排专人去查" contains every word of the
move "安排专人去查" and means the opposite, and a paraphrase ("对您也是个隐患")
contains none of them. So each sentence is matched to the move it is closest to
(e5 cosine against the move's examples in the scenario file, with its near
misses `not:` and plain chatter from acts.yaml as competitors), then read for
how it was made: did it, refused or negated it, only asked about it, or
promised it vaguely (word lists in acts.yaml; a move marked `refusal: true` —
"返点我做不了" — is made by negating and undone by conceding). A move that hurts
needs a cue word or a clear lead over the next move, and is never "refused": a
denial is made with or without a negator, and saying no to a kickback is the
rep's good move. Red lines (red_lines.yaml) are patterns and word groups (money
+ a person or private account…) checked per clause in every scenario; a negated
clause ("我们严禁打到个人账户", "返点这些，我们不做") or a question does not count.
Classifiers trained on example sentences (red_line_examples.yaml,
polarity_examples.yaml; see wording.py) add the wordings the rules miss.

The customer and the scorer both read these acts, and `salescoach practice ID
--json` reports them per turn, so recognition itself can be checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

# the polarities are defined with the scenario types (the example files are read there) and used from here
from bot.coach.practice.scenario_types import ASKED, DID, POLARITIES, REFUSED, VAGUE, ActRules, Beat, RedLine, Scenario
from bot.coach.practice.semantic import TextVectors
from bot.coach.practice.wording import WordingModel, WordingModels
from bot.text.chars import HAN
from bot.text.sentences import sentences, split_clauses


@dataclass(frozen=True)
class RecogniseParams:
    """How close a sentence must come to a move. e5 cosines of Chinese sentences sit in 0.80–0.97."""

    threshold: float = 0.875  # the best example of the move
    over_chatter: float = 0.005  # and above the closest chatter line
    cue_bonus: float = 0.025  # a cue word of the move in the sentence
    min_chars: int = 4  # shorter sentences join the next one
    margin: float = 0.0  # without a cue word, above the next closest move
    bad_margin: float = 0.01  # …and more for a move that hurts (a wrong accusation costs the rep)


@dataclass(frozen=True)
class Act:
    """One move the rep made, how, and the words that made it."""

    move: str
    polarity: str
    evidence: str
    turn: int = 0
    score: float = 0.0
    cued: bool = False  # a cue word of the move is in the words, not only a close sentence

    def as_dict(self) -> dict[str, Any]:
        return {"move": self.move, "polarity": self.polarity, "evidence": self.evidence}


@dataclass(frozen=True)
class RedLineHit:
    """A red line crossed in a turn, with the rep's words."""

    id: str
    evidence: str
    turn: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "evidence": self.evidence}


@dataclass(frozen=True)
class TurnActs:
    """Everything recognised in one rep turn."""

    turn: int
    text: str
    acts: tuple[Act, ...]
    red_lines: tuple[RedLineHit, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "text": self.text,
            "acts": [a.as_dict() for a in self.acts],
            "red_lines": [r.as_dict() for r in self.red_lines],
        }

    def moves(self, *polarities: str) -> list[str]:
        wanted = polarities or POLARITIES
        return [a.move for a in self.acts if a.polarity in wanted]


# ---------------------------------------------------------------- polarity


# 需不需要 / 有没有 / 愿不愿意 / 靠不靠谱: the same character either side of 不 or 没 asks, it does not negate.
_A_NOT_A = rf"([{HAN}])[不没]\1"
_A_NOT_A_FORMS = re.compile(_A_NOT_A)
# …and so does 不/没 right before a question mark ("周五一起吃个饭不？").
_ASKING_NOT = re.compile(rf"{_A_NOT_A}|[不没](?=[？?])")


def _masked(pattern: re.Pattern[str], text: str) -> str:
    """`text` with every match of `pattern` blanked out, positions kept."""
    return pattern.sub(lambda m: "＿" * len(m.group()), text)


class Polarity:
    """Reads negation, questions and vagueness from a sentence with the word lists of acts.yaml."""

    def __init__(self, rules: ActRules) -> None:
        self.rules = rules
        # Longest first; at equal length the word listed as not negating wins.
        self._words = sorted([(w, False) for w in rules.not_negation] + [(w, True) for w in rules.negators],
                             key=lambda item: (-len(item[0]), item[1]))
        # Read for verdicts, a word like 不太好 is part of one (恐怕不太好) and must stay; 可不可以 still goes.
        self._verdict_masks = sorted((w for w in rules.not_negation if not any(w in v for v in rules.verdicts)),
                                     key=len, reverse=True)

    def _without_verdict_masks(self, text: str) -> str:
        for word in self._verdict_masks:
            text = text.replace(word, "＿" * len(word))
        return text

    def negations(self, text: str) -> int:
        """How many negations the text holds: negators and not-negation words read together, the longer
        word first and each character once, so 不对外 negates though 不对 alone ("不对劲") does not.

        An A-not-A question (需不需要, 方不方便, 想不想) and a 不？ closing a question ask, they do not negate.
        """
        text = _masked(_ASKING_NOT, text)
        count = 0
        for word, negates in self._words:
            n = text.count(word)
            if n:
                count += n if negates else 0
                text = text.replace(word, "＿" * len(word))
        return count

    def negated(self, text: str) -> bool:
        """Holds a negation outside a condition ("公户要是转不了，您到财务刷卡也行" makes the offer);
        a sentence that is all condition ("要是转不了就别买了") keeps its negation."""
        clauses = split_clauses(text)
        asserted = [c for c in clauses if not self.conditional(c)] or clauses
        return any(self.negations(c) > 0 for c in asserted)

    def conditional(self, clause: str) -> bool:
        """A clause that only sets a condition ("要是真短在我们这头", "不行就换掉")."""
        return any(w in clause for w in self.rules.conditions)

    def is_topic(self, clause: str) -> bool:
        """A clause that only names a topic, for the next clause to say something about: one ending in a
        topic word ("……这些，"), or a bare list of things ("返点、购物卡、现金，一样都不能给")."""
        body = clause.rstrip("，,；;：: ")
        if self.rules.topics and body.endswith(self.rules.topics):
            return True
        items = body.split("、")
        return len(items) > 1 and all(0 < len(item.strip()) <= 6 for item in items)

    def concedes(self, text: str) -> bool:
        return any(w in text for w in self.rules.concessions)

    def declines_to_say(self, text: str) -> bool:
        """Declines to say or explain at all: a clause, not a condition, ending on it ("……我就不给您背了", "手续的事
        您甭问我"). Ending, because "我不跟您讲虚的，给个人的一律不行" goes on to say it."""
        ends = [c.rstrip("，,。！!？?；;…~ ").rstrip("了啦吧啊呀") for c in split_clauses(text) if not self.conditional(c)]
        return any(c.endswith(w) for c in ends for w in self.rules.silences)

    def overruled(self, after: str) -> bool:
        """What comes after an offer in the same sentence refuses it ("……转我微信，恐怕不太好吧")."""
        if self.concedes(after):
            return False
        masked = self._without_verdict_masks(after)  # "您看可不可以" asks, it does not refuse
        return any(w in masked for w in self.rules.verdicts)

    def is_question(self, text: str) -> bool:
        """A real question, not a tag after a proposal ("周四我带方案过来，您看行吗？")."""
        body = text.strip()
        if not body or any(w in body for w in self.rules.proposals):
            return False
        clauses = split_clauses(body)
        tail = clauses[-1].strip("？?！!。 ") if clauses else ""
        if len(clauses) > 1 and any(tail in (tag, "您看" + tag, "你看" + tag) for tag in self.rules.tag_questions):
            return False
        if len(clauses) == 1 and any(body.strip("？?！!。 ").endswith(tag) for tag in self.rules.tag_questions):
            # "您看行吗？" on its own, or "要不我们周三见，行吗" (one clause) — a proposal when it has specifics
            if self.specific(body):
                return False
        if body.endswith(("？", "?")):
            return True
        last = clauses[-1] if clauses else body
        return last.endswith(("吗", "么")) or (last.endswith("呢") and any(w in last for w in self.rules.asks))

    def answers_no(self, text: str) -> bool:
        """The sentence after a question says no to what was asked ("这个不行", "这我帮不上", "那边不对外"):
        negated, and pointing back at it (这/那) or a verdict of its own."""
        if not self.negated(text):
            return False
        first = split_clauses(text)[:2]
        return self.overruled(text) or any(("这" in c or "那" in c) and self.negations(c) for c in first)

    def specific(self, text: str) -> bool:
        return any(p.search(text) for p in self.rules.specifics)

    def vague(self, text: str) -> bool:
        return any(w in text for w in self.rules.vague) and not self.specific(text)

    def asks_by_nature(self, examples: tuple[str, ...]) -> bool:
        """A move made by asking (finding out details, family, who decides): a third of its examples ask."""
        if not examples:
            return False
        asking = sum(self._asks(e) for e in examples)
        return asking * 3 >= len(examples)

    def _asks(self, example: str) -> bool:
        """An example that asks, with or without its question mark ("您能不能给我推荐个好大夫")."""
        body = example.rstrip("。！!，, ")
        if any(self.is_question(s) for s in sentences(body)) or body.endswith(("吧", "吗")):
            return True
        # 能不能, 有没有, 要不要…: the A-not-A forms, asked of the listener — not reported after 看/问/查
        # ("……看看是不是罐子进水" says what the rep will check, it asks nothing)
        for clause in split_clauses(body):
            for word in (w for w in self.rules.asks if len(w) >= 3 and w in clause):
                if not re.search("[看问查]", clause[: clause.index(word)]):
                    return True
        return False

    def of(self, sentence: str, example: str = "", *, asking_move: bool = False, negated_move: bool | None = None) -> str:
        """The polarity of `sentence` for a move, read against the move's closest example.

        A move that is itself a refusal ("返点我做不了") is refused by conceding it
        ("也不是不能商量"); a move that is itself a question (asking for details) is
        made by asking.
        """
        example_negated = self.negated(example) if negated_move is None else negated_move
        if self.negated(sentence) != example_negated or (example_negated and self.concedes(sentence)):
            return REFUSED
        if example_negated and self.declines_to_say(sentence):
            return REFUSED  # "规矩那套我就不跟您讲了": the rule itself is a no, but this no is to saying it
        if self.is_question(sentence) and not asking_move:
            return ASKED
        if self.vague(sentence):
            return VAGUE
        return DID


# ---------------------------------------------------------------- red lines


def find_red_lines(
    text: str, red_lines: tuple[RedLine, ...], polarity: Polarity, turn: int = 0, model: WordingModel | None = None
) -> list[RedLineHit]:
    """Red lines crossed in `text`: a pattern, or a word of every `together` group, in a clause that is not negated;
    or a sentence the model by wording reads as crossing one, unless it holds the line's `unless` words, is a real
    question or holds a verdict (those only the rules judge)."""
    hits: list[RedLineHit] = []
    said = sentences(text, trim=True) or [text]
    # each sentence, then each two in a row for the lines that read across them
    readings = [(s, False) for s in said] + [(a.rstrip() + b.lstrip(), True) for a, b in zip(said, said[1:])]
    for sentence, paired in readings:
        question = _question(sentence) and polarity.is_question(sentence)  # "……给您补上，您看行不？" offers
        for line in red_lines:
            if any(h.id == line.id for h in hits) or (question and not line.questions):
                continue
            if paired and not line.across_sentences:
                continue
            if _crosses(sentence, line, polarity):
                hits.append(RedLineHit(line.id, sentence.strip(), turn))
    if model is not None:
        by_id = {line.id: line for line in red_lines}
        for sentence, (line_id, _) in zip(said, model.verdicts([s.strip() for s in said])):
            line = by_id.get(line_id)
            if line is None or any(h.id == line.id for h in hits) or any(w in sentence for w in line.unless):
                continue
            if polarity.is_question(sentence) or polarity.overruled(sentence):
                continue  # a real question, or a verdict ("……我真办不到"), reads like the offer it is about: the rules judge
                # (a tag after an offer, "……，您看成不？", is the offer: the model reads it)
            if _refused_by_rules(sentence, line, polarity):
                continue  # "个人卡、微信、支付宝这些我们都不收": every word of the line it holds is said no to
            hits.append(RedLineHit(line.id, sentence.strip(), turn))
        hits.sort(key=lambda h: text.find(h.evidence))
    return hits


def _crosses(sentence: str, line: RedLine, polarity: Polarity) -> bool:
    """A pattern matched outside a negated clause, or every word group met in clauses that are not negated.

    A pattern's span may take in a negation between its words ("金额都不能改"), so its
    whole clause is read; a group's own negators do not count ("不走账" is the offer, not a no).
    """
    if any(w in sentence for w in line.unless):
        return False
    for pattern in line.patterns:
        if any(not _clause_negated(sentence, m.start(), polarity) for m in pattern.finditer(sentence) if m.end() > m.start()):
            return True
    searched = _masked(_A_NOT_A_FORMS, sentence)  # "那家靠不靠谱" holds no 不靠谱
    for groups in line.together:
        if all(
            any(not _clause_negated(sentence, i, polarity, word=w) for w in words for i in _find_all(searched, w))
            for words in groups
        ):
            return True
    return False


def _refused_by_rules(sentence: str, line: RedLine, polarity: Polarity) -> bool:
    """The sentence names what the line is about, and only in clauses that say no to it: a refusal, however
    much its wording shares with the offer. A sentence holding none of the line's words is the model's to read."""
    searched = _masked(_A_NOT_A_FORMS, sentence)
    # words of two characters or more: a single 走 or 钱 names nothing on its own ("只走对公")
    found = [(w, i) for groups in line.together for words in groups for w in words if len(w) > 1 for i in _find_all(searched, w)]
    return bool(found) and all(_clause_negated(sentence, i, polarity, word=w) for w, i in found)


def _question(sentence: str) -> bool:
    """A real question ("打到个人账户？"), not a suggestion ending in 吧？."""
    body = sentence.rstrip()
    return body.endswith(("？", "?")) and not body.endswith(("吧？", "吧?"))


def _find_all(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


def _clause_negated(sentence: str, at: int, polarity: Polarity, *, word: str = "") -> bool:
    """The clause holding position `at` is negated, not counting negators inside the offer's `word` ("可别来求我").

    Counted rather than masked, so a negator that reaches into the word still negates ("不收现金").
    A clause that is only a topic ("返点、购物卡这些，") is negated by the clause after it, and
    anything said before a verdict later in the sentence ("……给您往下压，我做不到") by that verdict.
    """
    if polarity.overruled(sentence[at + max(len(word), 1) :]):
        return True
    clauses = re.split(r"(?<=[，,；;：:])", sentence)
    pos = 0
    for k, clause in enumerate(clauses):
        if pos <= at < pos + len(clause):
            if (polarity.negations(clause) - (polarity.negations(word) if word else 0)) % 2:
                return True  # two negations cancel ("您不会不给这个面子吧")
            topic = polarity.is_topic(clause) and k + 1 < len(clauses)
            return topic and polarity.negated(clauses[k + 1])
        pos += len(clause)
    return False


# ---------------------------------------------------------------- recogniser


class ActRecogniser:
    """Recognises the acts of one scenario's rep turns (vectors of the examples cached once)."""

    def __init__(
        self,
        scenario: Scenario,
        vectors: TextVectors,
        rules: ActRules,
        red_lines: tuple[RedLine, ...] = (),
        params: RecogniseParams | None = None,
        models: WordingModels | None = None,
    ) -> None:
        self.scenario = scenario
        self.vectors = vectors
        self.rules = rules
        self.red_lines = red_lines
        self.models = models or WordingModels()
        self.params = params or RecogniseParams()
        self.polarity = Polarity(rules)
        self.beats = list(scenario.beats)
        self._asking = [self.polarity.asks_by_nature(b.examples) for b in self.beats]
        self._negated = [b.refusal for b in self.beats]
        self._examples: list[tuple[int, str, bool]] = []  # (beat index, text, is a near miss)
        for i, beat in enumerate(self.beats):
            self._examples += [(i, m, False) for m in beat.examples]
            self._examples += [(i, m, True) for m in beat.negatives]

    def pieces(self, text: str) -> list[str]:
        return sentence_pieces(text, self.params.min_chars)

    def recognise(self, text: str, turn: int = 1) -> TurnActs:
        """The acts and red lines of one rep turn."""
        red = find_red_lines(text, self.red_lines, self.polarity, turn, self.models.red_lines)
        pieces = self.pieces(text)
        acts: dict[str, Act] = {}
        if self._examples:
            sims = self.vectors.similarity(pieces, [t for _, t, _ in self._examples])
            chatter = (
                self.vectors.similarity(pieces, list(self.rules.smalltalk)).max(axis=1)
                if self.rules.smalltalk
                else np.zeros(len(pieces))
            )
            model = self.models.polarity
            readings = model.verdicts(pieces) if model is not None else [("", 0.0)] * len(pieces)
            for k, piece in enumerate(pieces):
                crossing = any(h.evidence in piece or piece in h.evidence for h in red)
                act = self._best(piece, sims[k], float(chatter[k]), turn, red_line=crossing, reading=readings[k][0])
                if act and act.polarity == ASKED and k + 1 < len(pieces) and self.polarity.answers_no(pieces[k + 1]):
                    act = replace(act, polarity=REFUSED)  # "去调度中心看车？这个不行" repeats the request to refuse it
                if act and (act.move not in acts or act.score > acts[act.move].score):
                    acts[act.move] = act
        ordered = sorted(acts.values(), key=lambda a: text.find(a.evidence))
        return TurnActs(turn, text, tuple(ordered), tuple(red))

    def _best(
        self, piece: str, sims: np.ndarray, chatter: float, turn: int, *, red_line: bool, reading: str = ""
    ) -> Act | None:
        """The move `piece` makes, if any, and how. `reading` is the polarity model's, when it is sure: it wins
        for an ordinary move; a move that is itself a refusal or a question, or one that hurts, keeps the rules'."""
        p = self.params
        best_pos: dict[int, tuple[float, int]] = {}
        best_neg: dict[int, float] = {}
        for j, (i, _, near_miss) in enumerate(self._examples):
            sim = float(sims[j])
            if near_miss:
                best_neg[i] = max(best_neg.get(i, 0.0), sim)
            elif sim > best_pos.get(i, (0.0, -1))[0]:
                best_pos[i] = (sim, j)
        ranked: list[tuple[float, int, int]] = []
        for i, (sim, j) in best_pos.items():
            beat = self.beats[i]
            if best_neg.get(i, 0.0) >= sim:
                continue
            if red_line and not beat.bad:
                continue  # a sentence that crosses a red line is not also a good move
            score = sim + (p.cue_bonus if _has_cue(piece, beat) else 0.0)
            ranked.append((score, i, j))
        if not ranked:
            return None
        ranked.sort(reverse=True)
        score, i, j = ranked[0]
        if score < p.threshold or score < chatter + p.over_chatter:
            return None
        beat = self.beats[i]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if not _has_cue(piece, beat) and score - runner_up < (p.bad_margin if beat.bad else p.margin):
            return None  # as close to another move, and no word of its own: a guess
        polarity = self.polarity.of(piece, self._examples[j][1], asking_move=self._asking[i], negated_move=self._negated[i])
        if reading and not (beat.bad or beat.refusal or self._asking[i]):
            # asking takes a question's form, which the rules read well ("要不先……？" proposes, it does not ask)
            if reading != ASKED or self.polarity.is_question(piece):
                polarity = reading
        if beat.bad and polarity == REFUSED:
            if not beat.refusal:
                return None  # "我不会私下让价" is saying no to a bad move: the rep's good move, not this one
            polarity = DID  # a denial ("一滴不会少") is made with or without a negator
        return Act(beat.id, polarity, piece, turn, round(score, 4), _has_cue(piece, beat))

    def recognise_all(self, turns: list[str]) -> list[TurnActs]:
        return [self.recognise(text, n) for n, text in enumerate(turns, start=1)]


def sentence_pieces(text: str, min_chars: int = 4) -> list[str]:
    """The sentences of a turn, the unit an act is recognised in; very short ones ("好的。") join the next."""
    out: list[str] = []
    carry = ""
    for s in sentences(text, trim=True):
        s = carry + s
        if len(s.strip("，。！？!?,. ")) < min_chars:
            carry = s
            continue
        out.append(s.strip())
        carry = ""
    if carry.strip():
        if out:
            out[-1] += carry
        else:
            out.append(carry.strip())
    return out or [text.strip()]


def _has_cue(text: str, beat: Beat) -> bool:
    low = text.lower()
    return any(c.lower() in low for c in beat.cues)
