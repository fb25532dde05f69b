"""The one tokeniser (bot.text.words): one stopword list, domain words passed in, never global state."""

from __future__ import annotations

import jieba

from bot.retrieval.lexical import tokenize
from bot.retrieval.vocabulary import load_vocabulary
from bot.settings import PROJECT_ROOT
from bot.text.words import STOPWORDS, Tokeniser, han_bigrams, tokeniser_for

VOCABULARY = load_vocabulary(PROJECT_ROOT / "knowledge" / "vocabulary.yaml")


def test_domain_words_are_kept_whole_only_by_the_tokeniser_given_them() -> None:
    plain = Tokeniser()
    before = plain.words("运油司机克扣磅差，决策人不认")
    domain = Tokeniser(("磅差", "决策人"))
    assert domain.words("运油司机克扣磅差，决策人不认") == ["运油", "司机", "克扣", "磅差", "决策人", "不认"]
    assert "磅差" not in before and "决策人" not in before
    # Teaching one tokeniser a word changes neither another tokeniser nor jieba's global dictionary.
    assert plain.words("运油司机克扣磅差，决策人不认") == before
    assert "磅差" not in jieba.lcut("运油司机克扣磅差")


def test_stopwords_punctuation_and_case() -> None:
    words = tokeniser_for().words("请问我们怎么办？客户老是不回消息，CRM 有没有用")
    assert words == ["客户", "不回", "消息", "crm", "用"]
    assert {"请问", "怎么办", "有没有", "问题", "咱们"} <= STOPWORDS  # one list for retrieval and answers
    assert "搞" in Tokeniser(stopwords=("搞",)).stopwords and "搞" not in STOPWORDS


def test_fine_mode_adds_the_words_inside_long_ones() -> None:
    tokeniser = Tokeniser(("用油决策人",))
    assert tokeniser.words("用油决策人") == ["用油决策人"]
    fine = tokeniser.words("用油决策人", fine=True)
    assert "用油决策人" in fine and "决策" in fine
    assert all(len(w) >= 2 for w in tokeniser.words("送一包茶叶给他", fine=True, min_length=2))


def test_bigrams_stay_inside_runs_of_chinese() -> None:
    assert han_bigrams("客情, 关系ab") == ["客情", "关系"]
    assert han_bigrams("磅差") == ["磅差"] and han_bigrams("a") == []


def test_one_shared_tokeniser_per_vocabulary_and_bm25_uses_it() -> None:
    shared = tokeniser_for(VOCABULARY.words, VOCABULARY.stopwords)
    assert tokeniser_for(VOCABULARY.words, VOCABULARY.stopwords) is shared
    tokens = tokenize("采购商要好处", shared)
    assert tokens[:2] == ["采购商", "好处"] and "§采购" in tokens and "§好处" in tokens


def test_the_knowledge_base_and_the_extractive_answer_share_the_tokeniser(knowledge_base) -> None:
    assert knowledge_base.tokeniser is tokeniser_for(knowledge_base.vocabulary.words, knowledge_base.vocabulary.stopwords)
    assert "磅差" in knowledge_base.tokeniser.words("客户说磅差太大")


def test_key_terms_are_the_materials_repeated_rare_words_not_common_ones() -> None:
    material = [
        "岩板铺贴前要先检查空鼓，空鼓率超过5%要返工。",
        "我们的岩板按批次出货，同一个工地尽量用同一批次，避免色差。",
        "客户说有色差或者空鼓，先拍照再登记批次号。今天我们去工地。",
    ]
    terms = tokeniser_for(("色差",)).key_terms(material)
    assert "岩板" in terms and "空鼓" in terms  # repeated trade words
    assert "色差" not in terms  # already in the vocabulary
    assert "我们" not in terms and "今天" not in terms and "工地" not in terms  # common words / said once
