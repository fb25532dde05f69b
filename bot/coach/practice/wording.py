"""Reading a rep's sentence by its wording as a whole: small classifiers trained on labelled sentences.

Why: word lists and patterns (red_lines.yaml, acts.yaml) catch the wordings they
were written for, and every new set of rep lines brings wordings they miss ("票面
上我给您做得好看一点", "回去我跟领导汇报一下，我们会好好查一查的" said as a vague
promise). A linear model over the character and word n-grams of many labelled
sentences generalises from all of them at once and learns the near misses too,
so a manager teaches it by adding sentences, not rules. It adds to the rules,
never replaces them, and speaks only when it is sure:

- red lines (red_line_examples.yaml): a sentence crosses a line when the rules
  or the model read it so; the threshold is high, because a false red line caps
  a good rep at 20;
- how a move was made (polarity_examples.yaml: did / refused / asked / vague):
  for an ordinary move the model's reading wins when it is sure, else the rules'.

Trained on first use, once per process for the same examples (a second or two on
two cores); no embedder is involved, so it costs a sparse dot product per turn
and works the same whichever embedder the knowledge base uses.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bot.coach.practice.scenario_types import HARMLESS, LabelledSentences, ScenarioCatalog
from bot.text.chars import HAN
from bot.text.words import tokeniser_for

# A sentence with fewer Chinese characters than this ("您给说道说道。") has too few n-grams to be read by
# its wording alone; the rules still read it.
MIN_HAN = 8
_HAN_CHAR = re.compile(f"[{HAN}]")


class WordingModel:
    """The most likely label of a sentence, and how sure the model is, from labelled example sentences."""

    def __init__(self, examples: LabelledSentences) -> None:
        self.examples = examples
        self._pipeline: Any = None

    @property
    def usable(self) -> bool:
        """Two labels at least, or there is nothing to tell apart."""
        return len({label for label, said in self.examples.labelled if said}) >= 2

    def prepare(self) -> None:
        """Train now (a second or two, once per process), so the rep's first turn does not wait for it."""
        if self.usable:
            self._trained()

    def verdicts(self, sentences: list[str]) -> list[tuple[str, float]]:
        """For each sentence its label and probability when the model is sure (at or above the
        threshold, and long enough to read); otherwise ("", p)."""
        if not sentences or not self.usable:
            return [(HARMLESS, 0.0) for _ in sentences]
        pipeline = self._trained()
        out: list[tuple[str, float]] = []
        for sentence, row in zip(sentences, pipeline.predict_proba(sentences)):
            best = int(row.argmax())
            label, p = str(pipeline.classes_[best]), float(row[best])
            sure = p >= self.examples.threshold and len(_HAN_CHAR.findall(sentence)) >= MIN_HAN
            out.append((label, p) if sure else (HARMLESS, p))
        return out

    def _trained(self) -> Any:
        if self._pipeline is None:
            self._pipeline = _train(self.examples)
        return self._pipeline


@dataclass(frozen=True)
class WordingModels:
    """The catalog's models by wording; either may be missing (no examples file: the rules alone)."""

    red_lines: WordingModel | None = None
    polarity: WordingModel | None = None

    def prepare(self) -> None:
        for model in (self.red_lines, self.polarity):
            if model is not None:
                model.prepare()


def wording_models_of(catalog: ScenarioCatalog) -> WordingModels:
    """Built one way for the scorer and the customer: every scenario's good moves are harmless red-line examples too."""
    red_lines = None
    if catalog.red_line_examples is not None:
        good = tuple(sorted({m for s in catalog.scenarios.values() for b in s.beats if not b.bad for m in b.moves}))
        red_lines = WordingModel(catalog.red_line_examples.adding(HARMLESS, good))
    polarity = WordingModel(catalog.polarity_examples) if catalog.polarity_examples is not None else None
    return WordingModels(red_lines=red_lines, polarity=polarity)


# Trained models by their examples, shared by the scorer and the customer and across catalog reloads that
# leave the examples as they were. Bounded: a manager who edits the example files many times in a long-running
# bot would otherwise keep every old model (a few MB each); the most recently used ones stay.
KEPT_MODELS = 8
_models: OrderedDict[LabelledSentences, Any] = OrderedDict()
_lock = threading.Lock()


def _train(examples: LabelledSentences) -> Any:
    """Character 1–3-grams plus jieba words and word pairs, tf-idf weighted, into a balanced logistic regression."""
    with _lock:
        if examples not in _models:
            from sklearn.feature_extraction.text import TfidfVectorizer  # imported here: start-up stays fast
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline, make_union

            texts = [s for _, said in examples.labelled for s in said]
            labels = [label for label, said in examples.labelled for _ in said]
            features = make_union(
                TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
                TfidfVectorizer(tokenizer=tokeniser_for().words,  # the shared jieba dictionary
                                token_pattern=None, lowercase=False,
                                ngram_range=(1, 2), sublinear_tf=True),
            )
            classifier = LogisticRegression(C=examples.strength, max_iter=3000, class_weight="balanced")
            _models[examples] = make_pipeline(features, classifier).fit(texts, labels)
            while len(_models) > KEPT_MODELS:
                _models.popitem(last=False)
        _models.move_to_end(examples)
        return _models[examples]
