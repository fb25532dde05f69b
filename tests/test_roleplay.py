"""The offline scripted customer: it answers what the rep actually said, resists, and can walk away."""

from __future__ import annotations

import json

import pytest

from bot.coach.practice.session import PracticeService, PracticeSession
from bot.coach.practice.customer import OUTCOME_GOAL, OUTCOME_TURN_LIMIT, OUTCOME_WALKED_AWAY
from bot.coach.practice.scenarios import load_catalog
from bot.coach.practice.semantic import TextVectors
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def practice(knowledge_base) -> PracticeService:
    catalog = load_catalog(PROJECT_ROOT / "knowledge" / "scenarios", PROJECT_ROOT / "knowledge" / "sources")
    return PracticeService(catalog, TextVectors(knowledge_base.embedder))


def _events(session: PracticeSession) -> list[str]:
    return session.state.events


def test_customer_answers_the_move_the_rep_made_even_in_other_words(practice: PracticeService) -> None:
    session = practice.start("abnormal-loss")
    scenario = practice.scenario("abnormal-loss")
    start = session.state.resistance
    turn = practice.reply_offline(session, "您别急，我这就让人把发油、路上运输、卸车这几段的记录都调出来，一段一段核对。")
    segments = next(b for b in scenario.beats if b.id == "segments")
    assert "beat:segments" in turn.events
    assert turn.text == segments.replies[0]
    assert session.state.resistance < start
    assert session.transcript[-2:] == [
        {"role": "rep", "text": "您别急，我这就让人把发油、路上运输、卸车这几段的记录都调出来，一段一段核对。"},
        {"role": "customer", "text": turn.text},
    ]


def test_ignoring_the_concern_costs_trust_and_gets_no_scripted_progress(practice: PracticeService) -> None:
    session = practice.start("abnormal-loss")
    before = session.state.resistance
    turn = practice.reply_offline(session, "周经理，最近行情不错，下个季度您那边还有没有新项目？")
    scenario = practice.scenario("abnormal-loss")
    assert turn.events == ("ignored",)
    assert turn.text in scenario.fallbacks + scenario.reactions["ignored"]
    assert session.state.resistance > before and session.state.hits == []


def test_pushing_makes_the_customer_end_the_meeting(practice: PracticeService) -> None:
    scenario = practice.scenario("team-decision")
    session = practice.start("team-decision")
    pushes = ["钱主管您就给个准话，今天能不能定？", "您表个态嘛，到底行不行？", "今天能不能定下来？您就定了吧。",
              "您就给个准话吧。", "到底行不行您说句话。", "您表个态。"]
    for line in pushes:
        turn = practice.reply_offline(session, line)
        if turn.ended:
            break
    assert turn.ended and turn.outcome == OUTCOME_WALKED_AWAY
    assert turn.text.endswith(scenario.persona.walk_away_line)
    assert session.state.turns < scenario.end.max_turns


def test_an_improper_offer_ends_a_hard_meeting_at_once(practice: PracticeService) -> None:
    session = practice.start("kickback-purchaser")
    turn = practice.reply_offline(session, "赵哥您放心，别人给多少我们也给，每吨返您二十，私下给您。")
    assert "improper" in turn.events
    assert turn.ended and turn.outcome == OUTCOME_WALKED_AWAY


def test_refusing_the_improper_thing_is_not_mistaken_for_offering_it(practice: PracticeService) -> None:
    session = practice.start("invoice-payment")
    before = session.state.resistance
    turn = practice.reply_offline(session, "邓总，油款只能打到我们公司对公账户，个人账户我们一分都不能收，这是规定。")
    assert "improper" not in turn.events
    assert "beat:payment_rule" in turn.events
    assert session.state.resistance < before and not turn.ended


def test_a_good_move_made_too_early_backfires(practice: PracticeService) -> None:
    scenario = practice.scenario("abnormal-loss")
    weighbridge = next(b for b in scenario.beats if b.id == "weighbridge")
    session = practice.start("abnormal-loss")
    first = practice.reply_offline(session, "周经理，要不先把您那边的地磅复核一下？")
    assert first.text == weighbridge.guarded.reply and "guarded:weighbridge" in first.events
    assert "weighbridge" not in session.state.hits
    practice.reply_offline(session, "这事换谁都着急，我们认真对待，一定给您一个说法，不会推。")
    practice.reply_offline(session, "我马上安排专人，把油库付油、车辆在途、您这边接卸三段都查一遍。")
    practice.reply_offline(session, "查实是我们付油或运输的问题，我们赔偿，承运商严肃处理，处理意见书面给您。")
    later = practice.reply_offline(session, "为了把账算清，我们也协助您把地磅复核一下。")
    assert later.text == weighbridge.replies[0] and "weighbridge" in session.state.hits


def test_reaching_the_goal_ends_the_meeting_with_the_goal_line(practice: PracticeService) -> None:
    scenario = practice.scenario("festival-care")
    session = practice.start("festival-care")
    lines = [
        "许姐，中秋快乐！儿子今年考上大学了吧，恭喜恭喜，头一回不在家过节吧？",
        "给您带了一盒公司定制的月饼，不贵，一点心意，给婆婆也尝尝。",
        "那我节后再给您打电话。",
    ]
    for line in lines:
        turn = practice.reply_offline(session, line)
    assert turn.ended and turn.outcome == OUTCOME_GOAL
    assert turn.text.endswith(scenario.end.goal_line)


def test_vague_talk_runs_into_the_turn_limit(practice: PracticeService) -> None:
    scenario = practice.scenario("festival-care")
    session = practice.start("festival-care")
    while not session.ended:
        turn = practice.reply_offline(session, "嗯嗯，是的是的。")
    assert turn.outcome == OUTCOME_TURN_LIMIT and session.state.turns == scenario.end.max_turns
    assert turn.text.endswith(scenario.end.turn_limit_line)


def test_a_session_survives_a_json_round_trip_mid_scenario(practice: PracticeService) -> None:
    session = practice.start("private-station")
    practice.reply_offline(session, "郑老板，听说去年油荒的时候站上断过油？")
    restored = PracticeSession.from_dict(json.loads(json.dumps(session.to_dict(), ensure_ascii=False)))
    assert restored.to_dict() == session.to_dict()
    line = "我们配送及时，您可以快用完了再进油，少压资金。"
    a = practice.reply_offline(session, line)
    b = practice.reply_offline(restored, line)
    assert a == b and restored.to_dict() == session.to_dict()


def test_turns_after_the_end_are_refused(practice: PracticeService) -> None:
    session = practice.start("kickback-purchaser")
    practice.reply_offline(session, "每吨返您二十，私下给您。")
    with pytest.raises(ValueError):
        practice.reply_offline(session, "那再聊聊？")


# ---------------------------------------------------------------- terminal


async def test_terminal_lists_scenarios_by_topic_and_difficulty(services) -> None:
    import argparse
    import io

    from bot.commands.practice import _run

    out, err = io.StringIO(), io.StringIO()
    code = await _run(argparse.Namespace(scenario=None, json=False, offline=True), services.settings, services, io.StringIO(), out, err)
    listing = out.getvalue()
    assert code == 0
    assert listing.index("【合规与发票】") < listing.index("invoice-payment") < listing.index("kickback-purchaser")
    assert "abnormal-loss" in listing and "挑战" in listing and "salescoach practice" in listing


async def test_terminal_dry_run_reads_piped_turns_and_prints_the_card_as_json(services) -> None:
    import argparse
    import io

    from bot.commands.practice import _run

    script = "周经理，三车都少这么多，换谁都着急，这事我们不推。\n\n我马上安排专人把油库付油、车辆在途、接卸三段都查一遍。\n/end\n这一行不会被读到\n"
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(scenario="abnormal-loss", json=True, offline=True)
    code = await _run(args, services.settings, services, io.StringIO(script), out, err)
    card = json.loads(out.getvalue())
    assert code == 0 and card["scenario_id"] == "abnormal-loss" and card["turns"] == 2
    assert card["outcome"] == "ended_by_rep" and 0 < card["total"] < 100
    assert len(card["improvements"]) == 2 and card["improvements"][0]["citations"]
    talk = err.getvalue()
    assert talk.count("周建国：") == 3 and "你的目标" in talk

    code = await _run(argparse.Namespace(scenario="no-such", json=False, offline=True), services.settings, services, io.StringIO(), io.StringIO(), err)
    assert code == 2 and "没有这个场景：no-such" in err.getvalue()
