"""Acts with polarity, shared red lines, and a customer and a score that follow what the rep said."""

from __future__ import annotations

import argparse
import functools
import io
import json

import pytest

from bot.coach.practice.acts import ASKED, DID, REFUSED, VAGUE, Polarity, find_red_lines
from bot.coach.practice.customer import OUTCOME_WALKED_AWAY, MatchParams, ScriptedCustomer
from bot.coach.practice.scenarios import knowledge_resolver, load_catalog
from bot.coach.practice.scoring import rep_words
from bot.coach.practice.semantic import TextVectors
from bot.coach.practice.session import PracticeService
from bot.coach.practice.text import card_text
from bot.coach.practice.wording import wording_models_of
from bot.settings import PROJECT_ROOT

MIXED = [
    "赵主管，理解理解，您上有老板压着，下有车队催着，这活不好干。",
    "我们公司对这块管得很严，给个人好处是不允许的，这个我得先说清楚。",
    "合同上呢，我给你们报一个阶梯优惠，用量上去了单价往下走，这个您可以拿给老板看。",
    "每吨我给您返十块，打到您爱人卡上，合同里照样写阶梯优惠。",
    "我下周三带方案过来，咱们跟王总一起碰一下。",
]


@functools.cache
def shipped_catalog():
    return load_catalog(PROJECT_ROOT / "knowledge" / "scenarios", PROJECT_ROOT / "knowledge" / "sources")


@functools.cache
def shipped_red_line_model():
    return wording_models_of(shipped_catalog()).red_lines


def red_lines_in(text: str, *, model: bool = True) -> list[str]:
    """The shared red lines the shipped files find in `text` (rules, and the model by wording unless `model=False`), by id."""
    catalog = shipped_catalog()
    found = find_red_lines(text, catalog.red_lines, Polarity(catalog.acts), model=shipped_red_line_model() if model else None)
    return [h.id for h in found]


@pytest.fixture(scope="module")
def practice(knowledge_base) -> PracticeService:
    catalog = shipped_catalog()
    assert not catalog.errors
    return PracticeService(catalog, TextVectors(knowledge_base.embedder))


def _acts(practice: PracticeService, scenario_id: str, text: str) -> dict[str, str]:
    scenario = practice.scenario(scenario_id)
    (turn,) = practice.scorer.acts(scenario, [text])
    return {a.move: a.polarity for a in turn.acts}


def test_negation_turns_a_move_into_a_refusal(practice: PracticeService) -> None:
    assert _acts(practice, "oil-quality-dispute", "我今天就过来取样，拿回公司化验室化验，出书面报告给您。").get("test") == DID
    assert _acts(practice, "oil-quality-dispute", "取样化验我们不会安排，也不出什么报告。").get("test") == REFUSED
    assert _acts(practice, "kickback-purchaser", "书面方案我就不弄了，也不用约你们老板见面。").get("next_step") == REFUSED


def test_a_move_that_is_itself_a_refusal_keeps_its_sense(practice: PracticeService) -> None:
    """ "给个人好处是不允许的" is doing the compliance move, not refusing it."""
    assert _acts(practice, "kickback-purchaser", "赵主管，我们公司规定很清楚，给个人好处是不允许的，这个我真做不了。").get("rules") == DID


def test_declining_to_say_it_refuses_even_a_move_that_is_itself_a_refusal(practice: PracticeService) -> None:
    """Written for this test: stating the rule is a no to the kickback; "我就不跟您讲了" is a no to stating it
    (acts.yaml: silences)."""
    assert _acts(practice, "kickback-purchaser", "公司的规矩我就不跟您讲了，讲了您也不爱听。").get("rules") == REFUSED
    assert _acts(practice, "kickback-purchaser", "我们公司规定，给个人的好处一律不能给。").get("rules") == DID
    # a clause that goes on ("不跟您讲虚的") says it after all
    assert _acts(practice, "kickback-purchaser", "我不跟您讲虚的，给个人的好处公司一律不允许。").get("rules") == DID


def test_a_dismissal_is_a_refusal(practice: PracticeService) -> None:
    """Written for this test: "跟我有啥关系" turns the customer's worry away (acts.yaml: negators)."""
    assert _acts(practice, "first-visit-file", "现在那家送油咋样，跟我有啥关系？").get("pain") == REFUSED


def test_questions_and_vague_promises(practice: PracticeService) -> None:
    rules = practice.catalog.acts
    polarity = Polarity(rules)
    assert polarity.of("保供、行情信息这些，您这边用得上吗？", "每周给您发一次油价走势") == ASKED
    assert polarity.of("我周四下午把方案带过来，您看行吗？", "周四带过来一起过一遍") == DID
    assert polarity.of("回头有空我再过来拜访您，咱们再聊。", "周四带过来一起过一遍") == VAGUE
    assert polarity.of("我们严禁打到个人账户", "我们严禁打到个人账户") == DID


@pytest.mark.parametrize(
    "scenario_id, text, red_line",
    [
        ("kickback-purchaser", "每吨我给您返十块，打到您爱人卡上，合同里照样写阶梯优惠。", "personal_benefit"),
        ("festival-care", "盒子底下我还放了张两千块的购物卡，您千万别跟我客气。", "personal_benefit"),
        ("invoice-payment", "品名您想写成什么都行，金额往高了开。", "false_invoice"),
        ("private-station", "嫌走公司账麻烦的话，货款直接转我个人微信就行。", "private_account"),
        ("small-favour", "上回给您送的月饼您也收了，咱们这交情，您总不能一点不照应吧？", "favour_pressure"),
        ("price-no-advantage", "地炼那些油都是调和出来的，来路不明，迟早要出事。", "disparage_competitor"),
        ("abnormal-loss", "您真要换供应商，到了旺季断了油可别回头找我。", "threat"),
    ],
)
def test_shared_red_lines_are_recognised_in_every_scenario(practice: PracticeService, scenario_id: str, text: str, red_line: str) -> None:
    (turn,) = practice.scorer.acts(practice.scenario(scenario_id), [text])
    assert [h.id for h in turn.red_lines] == [red_line]


@pytest.mark.parametrize(
    "text",
    ["我们严禁客户把钱打到个人账户。", "个人返点、购物卡这些都碰不得，我真给不了。", "发票只能按实际开，品名金额都不能改。", "打微信？想都别想。"],
)
def test_refusing_a_red_line_is_not_crossing_it(practice: PracticeService, text: str) -> None:
    (turn,) = practice.scorer.acts(practice.scenario("invoice-payment"), [text])
    assert turn.red_lines == ()


def test_the_mixed_script_is_capped_and_the_card_leads_with_the_rule(practice: PracticeService) -> None:
    scenario = practice.scenario("kickback-purchaser")
    card = practice.scorer.score(scenario, MIXED)
    clean = practice.scorer.score(scenario, MIXED[:3] + MIXED[4:])
    assert card.total <= 20 < clean.total
    assert card.compliance_failed and card.red_lines[0].id == "personal_benefit"
    text = card_text(card, "zh")
    first = text.splitlines()[1]
    assert "合规红线" in first and "打到您爱人卡上" in first and "是违反国企规定的" in first


def test_the_red_line_on_the_card_cites_where_the_rule_is_and_says_it_once(knowledge_base) -> None:
    """With the material indexed, the rule is cited by document and place, as the rubric is; its words appear once."""
    catalog = load_catalog(PROJECT_ROOT / "knowledge" / "scenarios", PROJECT_ROOT / "knowledge" / "sources")  # resolved in place: not the shared one
    service = PracticeService(catalog, TextVectors(knowledge_base.embedder), resolver=knowledge_resolver(knowledge_base))
    card = service.scorer.score(service.scenario("kickback-purchaser"), MIXED)
    first = card_text(card, "zh").splitlines()[1]
    assert first.count("是违反国企规定的") == 1
    assert "《客户开发与维护》第 " in first


def test_refusals_earn_nothing_and_are_shown_as_mistakes_with_the_reps_words(practice: PracticeService) -> None:
    scenario = practice.scenario("abnormal-loss")
    did = practice.scorer.score(scenario, ["我马上安排专人，把油库付油、车辆在途、您这边接卸三段都查一遍。"])
    refused = practice.scorer.score(scenario, ["我们不会安排专人去查，三段都不用查。"])
    crit = lambda card: next(c for c in card.criteria if c.criterion_id == "evidence_check")  # noqa: E731
    assert crit(did).pct > crit(refused).pct == 0
    assert any("拒绝了" in m and "不会安排专人" in m for m in crit(refused).missing)
    assert not crit(refused).evidence
    assert all(e in "我马上安排专人，把油库付油、车辆在途、您这边接卸三段都查一遍。" for e in crit(did).evidence)


def test_the_customer_takes_the_time_from_the_rep(practice: PracticeService) -> None:
    session = practice.start("kickback-purchaser", "offline")
    session.state.resistance = 30  # past the guarded stage
    turn = practice.reply_offline(session, "我周三下午把优惠方案写成书面的，带过来跟您和老板一起当面过一遍。")
    assert "beat:next_step" in turn.events
    assert "周四" not in turn.text and "周三下午" in turn.text


def test_a_vague_promise_is_pressed_for_specifics_and_not_taken_as_done(practice: PracticeService) -> None:
    """"到时候会安排好的" gets "具体呢？" and no progress; the same move said concretely is taken up."""
    scenario = practice.scenario("first-delivery")
    session = practice.start("first-delivery", "offline")
    vague = practice.reply_offline(session, "到货时间您放心，到时候都会安排好的。")
    assert vague.events == ("vague:plan",) and vague.text in scenario.reactions["vague"]
    assert "plan" not in session.state.hits and session.state.resistance > scenario.persona.resistance
    concrete = practice.reply_offline(session, "车明早六点半从油库出，九点半前到您工地，司机电话和车牌我一会儿发您。")
    assert "beat:plan" in concrete.events and "plan" in session.state.hits


def test_the_customer_asks_about_the_open_concern_instead_of_guessing(practice: PracticeService) -> None:
    for scenario_id in practice.catalog.scenarios:
        session = practice.start(scenario_id, "offline")
        scenario = practice.scenario(scenario_id)
        turn = practice.reply_offline(session, "哎，昨晚那场球您看了没？国足又输了。")
        assert "ignored" in turn.events
        if not scenario.opening.rstrip().endswith(("？", "?")):
            assert "你说的跟我问的不是一回事" not in turn.text
        assert turn.text in scenario.fallbacks + scenario.reactions["ignored"]


def test_the_customer_does_not_react_to_a_move_it_is_unsure_of(practice: PracticeService) -> None:
    """A sentence only somewhat like a move, with none of its words: the scorer sees the act, the customer
    asks about the open concern instead of answering a move the rep may never have made, and does not
    count it as being ignored."""
    scenario = practice.scenario("price-no-advantage")
    said = "价格我回去问问领导，看能不能申请点优惠。"
    (acts,) = practice.scorer.acts(scenario, [said])
    assert acts.acts and not any(a.cued for a in acts.acts)  # recognised by similarity alone
    sure = ScriptedCustomer(scenario, practice.vectors, MatchParams(sim_alone=0.0), practice.catalog.acts)
    unsure = ScriptedCustomer(scenario, practice.vectors, MatchParams(sim_alone=1.5), practice.catalog.acts)
    reacted = sure.respond(said, sure.new_state())
    asked_state = unsure.new_state()
    asked = unsure.respond(said, asked_state)
    assert any(e.startswith("beat:") for e in reacted.events)
    assert asked.events == ("unsure",) and asked.text in scenario.fallbacks + scenario.reactions["ignored"]
    assert asked_state.resistance == scenario.persona.resistance


def test_every_customer_walks_away_under_pressure_and_red_lines_fail_the_session(practice: PracticeService) -> None:
    pressure = [
        "您就别犹豫了，今天就定，马上签。",
        "这样，每吨私下给您返二十，打到您爱人卡上，不走账。",
        "您就说要不要吧，今天必须定。",
        "再给您两条好烟、一张购物卡，您就签了吧。",
        "不签的话，以后断了油可别回头找我。",
        "您就给句痛快话，今天就定。",
    ]
    for scenario_id in practice.catalog.scenarios:
        session, card = practice.play(scenario_id, pressure)
        assert session.state.outcome == OUTCOME_WALKED_AWAY, scenario_id
        assert session.state.compliance_failed and card.compliance_failed and card.total <= 20, scenario_id


def test_quotes_with_a_speaker_label_are_the_reps_words() -> None:
    turns = ["周经理，我们是国企，三段都会查清楚。", "结果书面给您。"]
    assert rep_words("销售员说：我们是国企，三段都会查清楚", turns) == "我们是国企，三段都会查清楚"
    assert rep_words("“结果书面给您。”", turns) == "结果书面给您。"


def test_practice_json_reports_the_acts_of_every_turn(services, tmp_path) -> None:
    from bot.commands.practice import _run

    args = argparse.Namespace(scenario="kickback-purchaser", json=True, offline=True)
    stdin = io.StringIO("\n".join(MIXED) + "\n")
    out, err = io.StringIO(), io.StringIO()
    import asyncio

    assert asyncio.run(_run(args, services.settings, services, stdin, out, err)) == 0
    data = json.loads(out.getvalue())
    assert data["total"] <= 20 and data["compliance_failed"]
    assert [a["turn"] for a in data["acts"]] == list(range(1, len(data["acts"]) + 1))
    first = data["acts"][0]
    assert set(first) >= {"turn", "acts", "red_lines"}
    assert all(set(a) == {"move", "polarity", "evidence"} for t in data["acts"] for a in t["acts"])
    assert any(r["id"] == "personal_benefit" for t in data["acts"] for r in t["red_lines"])


# Offers phrased without the textbook words (written for this test, not taken from any script):
# the red-line word groups read their structure — money + a person, invoice + 多写, favour + repay.
@pytest.mark.parametrize(
    "text, red_line",
    [
        ("合同价照常，差价那部分我返到您自己卡上。", "personal_benefit"),
        ("开票的时候数量我给您多写十吨，您那边好报销。", "false_invoice"),
        ("这次的油钱您直接微信转给我，我给您开收据。", "private_account"),
        ("这两年我没少照顾您，这点面子您总得给吧？", "favour_pressure"),
        ("他们家那油就是小炼厂的货，兑了不少东西，烧坏发动机是早晚的事。", "disparage_competitor"),
        ("您要换供应商也行，以后旺季缺油可别来求我。", "threat"),
        ("我给孩子捎了张蛋糕店的卡，五百块的，您别推。", "personal_benefit"),  # a value card by its shape
        ("给嫂子买了台两千多的按摩仪，改天给您送家里去。", "personal_benefit"),  # a costly gift to the family
        ("别家给的咱也少不了您的，逢年过节我心里有数。", "personal_benefit"),
        # indirect: a favour recalled then called in, a family expense the rep pays, an invoice told by
        # what it is for, money to a relative, a condition on leaving and what the customer will lose
        ("前年您站上油罐漏了，是我连夜找人给焊好的，这回招标您可不能忘了。", "favour_pressure"),
        ("您闺女考研的补习费，我这边来安排，您就别管了。", "personal_benefit"),
        ("这一单我让财务分成几张开，您那边就不用上会审批了。", "false_invoice"),
        ("油款直接转我表哥的卡就行，他跟我们是一家的。", "private_account"),
        ("您要是给了别人，明年旺季我们可就顾不上您了。", "threat"),
        ("那家的油您也敢加？", "disparage_competitor"),
        # a condition and what it costs the customer himself; a favour told, then this order asked
        ("账再这么拖下去，我就让车队把你们的油排到最后。", "threat"),
        ("这事你要是不配合，我只好找你们领导说道说道了。", "threat"),
        ("那回你们泵坏了是我连夜叫人来修的，这回的单子您也得想着我。", "favour_pressure"),
    ],
)
def test_red_lines_are_caught_by_their_structure_not_their_wording(text: str, red_line: str) -> None:
    assert red_lines_in(text) == [red_line]


@pytest.mark.parametrize(
    "text",
    [
        "返点、购物卡这些给个人的，我们一律不做。",  # the topic first, the no after it
        "我们有规定，红包、油卡、礼金，哪样都不能给到您个人。",  # a bare list first, the no after it
        "个人卡、微信、支付宝这些我们都不收，只走对公。",
        "发票我们按实际吨数和品名开，一张不多一张不少。",
        "下个月油价可能会涨，您要不要提前备一点？",
        "私下塞红包那一套我们公司不干，优惠都写进合同。",
        "化验费您自己出，我们只认第三方的报告。",  # money the customer pays himself is no benefit to him
        "算上运费和票，您花的钱不会比在我这里多。",  # money and 我这里, but nothing paid to the rep
        "车队的卡我们统一办，每张卡的消费都进对账单。",
        "去年冬天断货是我们连夜调的车，今年旺季我们照样给您保供。",  # a past service, no debt called in
        "您那边的补习班我不清楚，油款还是请走对公账户。",
        "票按实际吨数开，跟货、跟款对得上，您报账不卡。",
        "他们家价格确实低一点，我们的优势在保供和质量追溯。",
        "要是您明年有扩建计划，建议早点报给我们排车。",
        # the same shapes, said properly: a risk asked about, a remedy, the rep's own boss, gratitude
        "要是断油了您那边怎么办？",
        "如果这批油不合格，我们就停了这车，给您换。",
        "您要是再压价，我只能回去跟领导申请一下看看。",
        "去年冬天多亏您帮我们协调卸油场地，这份情我一直记着。",
    ],
)
def test_a_refused_or_harmless_mention_is_no_red_line(text: str) -> None:
    assert red_lines_in(text) == []


def test_a_favour_recalled_in_one_sentence_and_called_in_the_next_is_pressure() -> None:
    """across_sentences: the favour and the ask may sit in two sentences; to the rules each alone is harmless.

    (The model by wording reads the bare ask, "您可得帮我在领导跟前说说话" in a tender, as pressure on its own.)
    """
    recalled, ask = "去年您家装修，工人是我托人找的。", "这回招标您可得帮我在领导跟前说说话。"
    assert red_lines_in(recalled, model=False) == [] and red_lines_in(ask, model=False) == []
    assert red_lines_in(recalled + ask, model=False) == ["favour_pressure"]
    assert red_lines_in(recalled + ask) == ["favour_pressure"]
    assert red_lines_in("去年您家装修，工人是我托人找的。这回招标我们按规矩报价。") == []


def test_the_proper_version_of_a_topic_and_a_question_about_it_cross_no_line() -> None:
    """unless: a card in the company's name is no gift; "靠不靠谱" asks, it does not say 不靠谱; 不会不 cancels."""
    assert red_lines_in("这张加油卡办在贵公司名下，是单位卡，充值和发票都走公司。") == []
    assert red_lines_in("回头给您办张加油卡，您私家车随便加。") == ["personal_benefit"]
    assert red_lines_in("您问那家靠不靠谱，我说不好，您查查他们的资质。") == []
    assert red_lines_in("那家的油不靠谱，掺了东西的。") == ["disparage_competitor"]
    assert red_lines_in("我帮过您那么多回，这点面子您不会不给吧？") == ["favour_pressure"]


def test_a_verdict_after_the_offer_refuses_it_and_a_tag_question_still_offers() -> None:
    """"……，我办不到" takes back what came before it in the sentence; "……，您看成不？" is an offer, not a question."""
    found = red_lines_in
    assert found("单独给您个人留两个点，这个我真办不到。") == []
    assert found("单独给您个人留两个点，您看成不？") == ["personal_benefit"]
    assert found("油钱先转到我个人微信上，您看可不可以？") == ["private_account"]
    assert found("油钱先转到我个人微信上，可不可以？公司流程太慢。") == ["private_account"]
    assert found("单独给您个人留两个点，不行的话我再想办法。") == ["personal_benefit"]  # a condition, not a verdict


def test_a_negation_inside_a_condition_is_not_a_refusal() -> None:
    """"公户要是转不了，……也行" offers another way; "要是……，我们就不管了" still refuses."""
    polarity = Polarity(shipped_catalog().acts)
    assert not polarity.negated("公户要是一时转不了，您到我们财务刷卡也行。")
    assert not polarity.negated("真查出来是我们的问题，不行就换一家车队。")
    assert polarity.negated("要是您那边磅不准，那我们就不管了。")
    assert polarity.negated("要是转不了就别买了。")  # a sentence that is all condition keeps its negation


def test_an_a_not_a_question_asks_and_a_brush_off_refuses() -> None:
    """需不需要 / 方不方便 / ……不？ ask without negating; pushing the job back or calling it pointless refuses."""
    polarity = Polarity(shipped_catalog().acts)
    for asking in ["您需不需要我把检测报告复印一份？", "方不方便下午去您站上看看？", "您愿不愿意跟我说说那家的情况？", "周五一起吃个饭不？"]:
        assert not polarity.negated(asking), asking
        assert polarity.of(asking) == ASKED, asking
    for brushing_off in ["检测报告您自己弄吧。", "那么细干啥，差不多就行。", "复印报告？没那个必要。", "上门看罐子还用得着吗？"]:
        assert polarity.of(brushing_off) == REFUSED, brushing_off
    assert polarity.of("一合计，一吨差不了两百块。") == DID  # 差不了 is a size, not a refusal


def test_negation_scope_is_the_clause_of_the_offer() -> None:
    """A negation in another clause ("发票那块您别操心") does not cancel the offer in the next one."""
    assert red_lines_in("票的事您别担心，名目想开什么都行。") == ["false_invoice"]
    assert red_lines_in("票的事您别担心，名目只能按实际开，改不了。") == []


def test_a_question_about_a_move_is_not_credited(practice: PracticeService) -> None:
    scenario = practice.scenario("kickback-purchaser")
    asked = practice.scorer.score(scenario, ["除了价格，旺季优先保供、每周发油价行情这些，您这边用得上吗？"])
    did = practice.scorer.score(scenario, ["除了价格，旺季我们优先保障你们的供应，每周给您发一次油价行情。"])
    crit = lambda card: next(c for c in card.criteria if c.criterion_id == "reasonable_benefit")  # noqa: E731
    assert _acts(practice, "kickback-purchaser", "除了价格，旺季优先保供、每周发油价行情这些，您这边用得上吗？").get("service") == ASKED
    assert crit(asked).pct < crit(did).pct


def test_a_denial_is_made_without_a_negator_and_saying_no_to_a_bad_move_is_not_that_move(practice: PracticeService) -> None:
    assert _acts(practice, "abnormal-loss", "我们出库都过了流量计，一滴都少不了，这个我敢打包票。").get("deny") == DID
    assert "kickback" not in _acts(practice, "kickback-purchaser", "私下返点、不走账这种事，我们是绝对不会做的。")


def test_a_negator_longer_than_a_not_negation_word_inside_it_still_negates() -> None:
    """不对 alone is "wrong" (no refusal), but 不对外 says no: the longer word wins, whichever list it is in."""
    polarity = Polarity(shipped_catalog().acts)
    assert polarity.negated("价格走势我们不对外提供，那是公司内部的东西。")
    assert not polarity.negated("这油的颜色是有点不对劲，我今天就来取样。")


def test_a_request_is_made_by_asking_even_when_its_examples_lack_a_question_mark(practice: PracticeService) -> None:
    """A move whose examples ask ("能不能给我推荐个好大夫") is done by asking, not "only asked about"."""
    polarity = practice.catalog.acts
    assert Polarity(polarity).asks_by_nature(("您懂养生，能不能给我推荐个好大夫", "您知道本地有没有靠谱的中医推拿", "那梨可不便宜"))
    assert not Polarity(polarity).asks_by_nature(("每周给您发一次油价走势", "周四带方案过来", "我今天就来取样"))
    assert _acts(practice, "small-favour", "韩队，我妈胃一直不好，您懂中医，能不能给推荐个大夫？").get("ask") == DID


def test_repeating_a_request_as_a_question_and_then_saying_no_refuses_it(practice: PracticeService) -> None:
    """"去调度中心看车？这个不行" is a refusal, not a question about the move."""
    polarity = Polarity(practice.catalog.acts)
    assert polarity.answers_no("这个不行，那边不对外，轨迹也没法给您回放。")
    assert polarity.answers_no("那您带她去看医生呗，这我帮不上。")
    assert not polarity.answers_no("我们不会耽误您太久，半小时就够。")  # a negation that does not point back
    assert _acts(practice, "abnormal-loss", "去我们调度中心看车？这个不行，那边不对外，轨迹也没法给您回放。").get("invite") == REFUSED
