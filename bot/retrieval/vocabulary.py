"""Domain vocabulary a manager edits: `knowledge/vocabulary.yaml`.

Why: reps ask in chat Chinese ("他想要点好处", "油里有水", "谁说了算") while the
material uses terms (采购商 好处, 水分, 决策人). Synonym groups expand a query with
the material's terms; domain words teach jieba not to split 磅差 or 客情.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.datafiles import DataFileError, read_yaml


class VocabularyError(DataFileError):
    """vocabulary.yaml is malformed; the message names the field and the line."""


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...] = ()
    stopwords: frozenset[str] = frozenset()
    synonyms: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default=())  # (triggers, terms)

    def expansions(self, query: str) -> list[str]:
        """Material terms for every synonym group whose trigger appears in the query."""
        out: list[str] = []
        for triggers, terms in self.synonyms:
            if any(trigger in query for trigger in triggers):
                out.extend(term for term in terms if term not in query and term not in out)
        return out


def load_vocabulary(path: Path) -> Vocabulary:
    """Load vocabulary.yaml; a missing file is an empty vocabulary, a malformed one raises VocabularyError."""
    if not path.is_file():
        return Vocabulary()
    doc = read_yaml(path, error=VocabularyError)
    f = doc.fields()
    data = f.root(doc.data, "（words / stopwords / synonyms）")
    words = f.texts(data, "words", "", min_items=0)
    stopwords = frozenset(f.texts(data, "stopwords", "", min_items=0))
    groups = []
    raw_groups = f.entries(data, "synonyms", "")
    for i, group in enumerate(raw_groups):
        where = f"synonyms[{i}]"
        if not isinstance(group, dict) or not group.get("when") or not group.get("add"):
            raise f.fail(where, "需要 when（口语说法列表）和 add（资料用语列表）", raw_groups, i)
        groups.append((f.texts(group, "when", where, one_or_list=True), f.texts(group, "add", where, one_or_list=True)))
    return Vocabulary(words=words, stopwords=stopwords, synonyms=tuple(groups))
