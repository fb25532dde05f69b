"""The one sentence and clause splitter (bot.text.sentences) and the callers that share it."""

from __future__ import annotations

from bot.coach.answers.extractive import point_sentences
from bot.coach.practice.cues import find_cues
from bot.coach.practice.acts import sentence_pieces
from bot.text.sentences import cut_long, sentences, split_clauses, split_sentences
from bot.tokens import count_tokens

TEXT = "客户收了礼品，关系却没提升。为什么？因为礼品是他觉得应得的！\n\n送完要回访；问问感受\n最后一句"


def test_sentences_end_after_marks_and_line_breaks_and_keep_the_text_contiguous() -> None:
    pieces = sentences(TEXT)
    assert pieces == ["客户收了礼品，关系却没提升。", "为什么？", "因为礼品是他觉得应得的！\n\n", "送完要回访；", "问问感受\n", "最后一句"]
    assert "".join(pieces) == TEXT  # a chunk re-joins its sentences into the source's own words


def test_trimmed_sentences_drop_blanks_and_optionally_their_end_marks() -> None:
    assert sentences(TEXT, trim=True)[2:4] == ["因为礼品是他觉得应得的！", "送完要回访；"]
    assert sentences("好吗？！ 。你好。", trim=True, keep_ends=False) == ["好吗", "你好"]


def test_a_long_sentence_is_cut_at_pauses_with_room_to_spare() -> None:
    clause = "第一要记住客户的喜好和家人情况"  # 15 characters
    short = "，".join([clause] * 4) + "。"  # 64 characters: under the limit, kept whole
    long = "，".join([clause] * 6) + "。"  # 96 characters: cut into pieces of at most 60
    assert split_sentences(short, 70, fill=60) == [short]
    pieces = split_sentences(long, 70, fill=60)
    assert len(pieces) == 2 and all(len(p) <= 60 for p in pieces) and "".join(pieces) == long
    assert all(p.endswith(("，", "。")) for p in pieces)  # cut after a pause, never inside a word


def test_cutting_at_spaces_and_labels_is_for_unpunctuated_text() -> None:
    slide = "客户是我们利润的来源 【企业与个人角度】 客户并不依赖于我们 而我们却需要依赖他们"
    assert cut_long(slide, 12) == [slide]  # no pauses: only spaces and labels can cut it
    pieces = cut_long(slide, 12, at_spaces=True)
    assert len(pieces) > 1 and "".join(pieces) == slide
    assert any(p.startswith("【") for p in pieces)


def test_length_can_be_measured_in_tokens() -> None:
    text = "，".join(["把握三条原则或底线一是法律底线"] * 10) + "。"
    pieces = split_sentences(text, 40, measure=count_tokens, at_spaces=True)
    assert len(pieces) > 1 and all(count_tokens(p) <= 40 for p in pieces)


def test_clauses_keep_a_listed_series_together_unless_asked() -> None:
    assert split_clauses("返点、购物卡这些我做不了，您理解一下…好吗？") == ["返点、购物卡这些我做不了", "您理解一下", "好吗"]
    assert split_clauses("经、济、关、系", list_items=True) == ["经", "济", "关", "系"]


def test_a_decimal_point_does_not_end_a_clause_but_a_full_stop_does() -> None:
    assert split_clauses("这批油密度0.84，少了3.5吨") == ["这批油密度0.84", "少了3.5吨"]
    assert split_clauses("好的.我们明天到") == ["好的", "我们明天到"]


def test_callers_share_the_rules() -> None:
    # The answer's points, the act recogniser's pieces and the cue clauses all end where a sentence ends.
    assert point_sentences("先回访。\n再送礼物！") == ["先回访。", "再送礼物！"]
    assert sentence_pieces("您好，我是小王。今天来给您送检测报告；您看一下。好的。") == [
        "您好，我是小王。", "今天来给您送检测报告；", "您看一下。好的。",
    ]
    [hit] = find_cues(["返点、购物卡这些我做不了。我们走正规的促销政策"], ["促销政策"])
    assert hit.clause == "我们走正规的促销政策"
    assert find_cues(["返点、购物卡这些我做不了"], ["购物卡"], risky=True) == []  # the negation covers the list
