"""The domain vocabulary (`knowledge/vocabulary.yaml`): read through the one data-file reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.datafiles import DataFileError
from bot.retrieval.vocabulary import Vocabulary, VocabularyError, load_vocabulary
from bot.settings import PROJECT_ROOT


def test_the_shipped_vocabulary_loads() -> None:
    vocabulary = load_vocabulary(PROJECT_ROOT / "knowledge" / "vocabulary.yaml")
    assert "磅差" in vocabulary.words and vocabulary.synonyms


def test_groups_expand_queries_and_a_single_phrase_is_one_trigger(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.yaml"
    path.write_text("words: [磅差]\nstopwords: [那个]\nsynonyms:\n  - when: 好处\n    add: [采购商 好处]\n", encoding="utf-8")
    vocabulary = load_vocabulary(path)
    assert vocabulary.words == ("磅差",) and vocabulary.stopwords == frozenset({"那个"})
    assert vocabulary.synonyms == ((("好处",), ("采购商 好处",)),)  # not ('好', '处')
    assert vocabulary.expansions("他想要点好处") == ["采购商 好处"]
    assert load_vocabulary(tmp_path / "absent.yaml") == Vocabulary()


@pytest.mark.parametrize(
    "body, where, line",
    [
        ("words: [磅差]\nsynonyms:\n  - when: [好处]\n", "synonyms[0]", 3),
        ("words:\n  - 磅差\n  - [客情]\n", "words[1]", 3),
        ("- 磅差\n", "顶层", 1),
        ("words: [磅差\n", "", 2),
    ],
)
def test_a_bad_vocabulary_names_the_field_and_the_line(tmp_path: Path, body: str, where: str, line: int) -> None:
    path = tmp_path / "vocabulary.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        load_vocabulary(path)
    assert isinstance(info.value, DataFileError)
    assert info.value.file == "vocabulary.yaml" and info.value.where == where and info.value.line == line


def test_expansions_reach_the_word_search_but_not_what_e5_encodes(tmp_path: Path) -> None:
    """e5 relates chat words to the material by itself; appended terms only lengthened what it encodes."""
    from bot.retrieval.query import QueryAnalyzer

    path = tmp_path / "vocabulary.yaml"
    path.write_text("synonyms:\n  - when: 好处\n    add: [采购商 好处]\n", encoding="utf-8")
    analysed = QueryAnalyzer(load_vocabulary(path)).analyse("他想要点好处！！")
    assert analysed.dense_text == analysed.text == "他想要点好处"
    assert "采购商 好处" in analysed.lexical_text and "采购商 好处" in analysed.fast_text  # the fast path's thresholds expect them
