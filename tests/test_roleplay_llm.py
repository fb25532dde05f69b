"""LLM mode through the real `openai` client against the fake OpenAI-compatible server on loopback:
the persona turn, the hidden state, the evaluator JSON, and every fallback to the offline path."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from typing import Iterator

import pytest

from bot.coach.practice.session import PracticeService
from bot.coach.practice.scenarios import knowledge_resolver, load_catalog
from bot.coach.practice.semantic import TextVectors
from bot.llm.client import build_llm
from bot.settings import PROJECT_ROOT, Settings
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, fake_openai_server

SEGMENTS = "周经理您别急，我马上安排专人把油库付油、车辆在途、您这边接卸三段都查一遍。"
COMPENSATE = "查出来是我们付油或运输的问题，我们赔偿，承运商严肃处理，处理意见书面给您。"


@pytest.fixture(scope="module")
def shared(knowledge_base):
    catalog = load_catalog(PROJECT_ROOT / "knowledge" / "scenarios", PROJECT_ROOT / "knowledge" / "sources")
    return catalog, TextVectors(knowledge_base.embedder), knowledge_resolver(knowledge_base)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with fake_openai_server() as fake:
        yield fake


@pytest.fixture
def practice(shared, server: FakeOpenAIServer) -> PracticeService:
    catalog, vectors, resolver = shared
    settings = replace(Settings(), openai_base_url=server.base_url, openai_api_key="sk-test",
                       openai_model="fake-model", llm_max_retries=0, llm_timeout_s=5.0)
    return PracticeService(catalog, vectors, llm=build_llm(settings), prompts_dir=PROJECT_ROOT / "prompts", resolver=resolver)


def customer_json(reply: str, trust: int = 0, walk: bool = False) -> FakeReply:
    return FakeReply(text=json.dumps({"reply": reply, "trust_delta": trust, "walk_away": walk}, ensure_ascii=False))


def evaluation(practice: PracticeService, scenario_id: str, evidence: str, **first) -> FakeReply:
    scenario = practice.scenario(scenario_id)
    items = [
        {"id": c.id, "score": 70, "evidence": [evidence], "done_well": "主动提出分段调查", "missing": "没有约时间",
         "better_reply": "三天内给您书面结果。", "sources": [1]}
        for c in scenario.rubric
    ]
    items[0].update(first)
    return FakeReply(text=json.dumps({"criteria": items}, ensure_ascii=False))


async def test_the_model_plays_the_persona_in_character_with_a_hidden_state(practice, server) -> None:
    session = practice.start("abnormal-loss")
    assert session.mode == "llm"
    server.queue(customer_json("分段查？行，那发油记录你也得拿给我看。", trust=4))
    before = session.state.resistance
    turn = await practice.reply(session, SEGMENTS)

    assert turn.text == "分段查？行，那发油记录你也得拿给我看。" and not turn.ended
    assert "beat:segments" in session.state.events[-1] and "llm:+4" in session.state.events[-1]
    assert session.state.resistance < before
    [request] = server.chat_requests
    assert request["response_format"] == {"type": "json_object"}
    system = request["messages"][0]["content"]
    persona = practice.scenario("abnormal-loss").persona
    assert persona.name in system and persona.motives[0] in system and "绝不直接说出来" in system
    assert "不是教练" in system and "挑战" in system
    assert request["messages"][1] == {"role": "assistant", "content": practice.scenario("abnormal-loss").opening}
    assert request["messages"][-1] == {"role": "user", "content": SEGMENTS}


async def test_the_model_cannot_end_the_meeting_on_a_whim_but_an_improper_offer_does(practice, server) -> None:
    session = practice.start("team-decision")
    server.queue(customer_json("今天先到这吧。", trust=0, walk=True))
    turn = await practice.reply(session, "钱主管，咱们换供应商一般是什么流程？最后谁拍板？")
    assert not turn.ended, "a calm customer is not allowed to walk away on the model's say-so"

    hard = practice.start("kickback-purchaser")
    server.queue(customer_json("……你这话我就当没听见。", trust=-15, walk=True))
    turn = await practice.reply(hard, "赵哥放心，每吨返您二十，私下给您。")
    assert turn.ended and turn.outcome == "walked_away"
    assert turn.text.startswith("……你这话我就当没听见。")


@pytest.mark.parametrize("bad", [FakeReply(malformed=True), FakeReply(text="好的，我考虑一下。"), FakeReply(status=500)])
async def test_a_broken_customer_turn_falls_back_to_the_script(practice, server, bad: FakeReply) -> None:
    session = practice.start("abnormal-loss")
    server.queue(bad)
    turn = await practice.reply(session, SEGMENTS)
    segments = next(b for b in practice.scenario("abnormal-loss").beats if b.id == "segments")
    assert turn.text == segments.replies[0] and turn.notice == "llm_fallback"
    assert session.notices == ["llm_fallback"] and "segments" in session.state.hits


async def test_evaluator_json_becomes_the_score_card_with_citations(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。", trust=2), evaluation(practice, "abnormal-loss", "我马上安排专人", score=90))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "llm" and card.notice == ""
    assert [c.pct for c in card.criteria] == [90, 70, 70, 70]
    assert card.total == round(0.9 * 20 + 0.7 * 80)
    assert card.criteria[0].evidence == ("我马上安排专人",)
    assert all(c.citations and c.citations[0].location for c in card.criteria)
    system = server.chat_requests[-1]["messages"][0]["content"]
    assert "资料[1]" in system and "积极给出正面答复,不能进行否认" in system


def with_acts(reply: FakeReply, acts: list[dict]) -> FakeReply:
    data = json.loads(reply.text)
    data["acts"] = acts
    return FakeReply(text=json.dumps(data, ensure_ascii=False))


async def test_the_models_act_labels_are_kept_only_where_they_are_the_reps_words(practice, server) -> None:
    """Labels with the rep's words (a speaker label stripped) stand; an invented quote, an unknown
    move or a wrong turn are dropped; the red lines and their cap come from the code, whatever the model says."""
    session = practice.start("abnormal-loss")
    kickback = "每吨我私下返您十块，打到您爱人卡上。"
    acts = [
        {"turn": 1, "move": "segments", "polarity": "did", "evidence": "销售员（第 1 轮）：“我马上安排专人把油库付油、车辆在途、您这边接卸三段都查一遍”"},
        {"turn": 1, "move": "compensate", "polarity": "did", "evidence": "我们全额赔偿"},  # never said
        {"turn": 2, "move": "segments", "polarity": "did", "evidence": "我马上安排专人"},  # said, but in turn 1
        {"turn": 1, "move": "bribe", "polarity": "did", "evidence": "我马上安排专人"},  # no such move
        {"turn": 1, "move": "acknowledge", "polarity": "did", "evidence": ["销售员说：周经理您别急"]},  # a list, as Qwen writes it
    ]
    card_reply = with_acts(evaluation(practice, "abnormal-loss", "我马上安排专人", score=90), acts)
    server.queue(customer_json("行。"), customer_json("嗯？"), card_reply)
    await practice.reply(session, SEGMENTS)
    await practice.reply(session, kickback)
    card = await practice.finish(session)
    assert card.mode == "llm" and card.acts_by == "llm"
    first, second = card.acts
    assert [(a.move, a.polarity) for a in first.acts] == [("segments", "did"), ("acknowledge", "did")]
    assert first.acts[0].evidence.startswith("我马上安排专人") and "销售员" not in first.acts[0].evidence
    assert second.acts == ()
    assert [h.id for h in second.red_lines] == ["personal_benefit"] and card.total <= 20  # the model never named it
    assert "evaluator_acts_fallback" not in session.llm_steps
    system = server.chat_requests[-1]["messages"][0]["content"]
    assert "- segments：" in system  # the moves the model labels with
    assert "销售员（第 2 轮）：" + kickback in server.chat_requests[-1]["messages"][1]["content"]


async def test_an_empty_better_reply_from_a_small_model_gets_the_rubrics_example(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), evaluation(practice, "abnormal-loss", "我马上安排专人", better_reply=""))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "llm" and card.notice == ""  # the model's card, not the offline one
    assert card.criteria[0].better_reply == practice.scenario("abnormal-loss").rubric[0].example
    assert card.criteria[1].better_reply == "三天内给您书面结果。"


async def test_a_card_without_act_labels_shows_the_codes_and_counts_the_fallback(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), evaluation(practice, "abnormal-loss", "我马上安排专人"))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "llm" and card.acts_by == "offline"
    assert card.acts == tuple(practice.scorer.acts(practice.scenario("abnormal-loss"), [SEGMENTS]))
    assert session.llm_steps.get("evaluator_acts_fallback") == 1


async def test_evaluator_gets_one_retry_with_the_validation_error(practice, server) -> None:
    session = practice.start("abnormal-loss")
    invented = evaluation(practice, "abnormal-loss", "我们全额赔偿并道歉")  # the rep never said this
    server.queue(customer_json("行。"), invented, evaluation(practice, "abnormal-loss", "车辆在途"))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "llm"
    retry = server.chat_requests[-1]["messages"]
    assert retry[-1]["role"] == "user" and "不是销售员的原话" in retry[-1]["content"]


@pytest.mark.parametrize("second", [FakeReply(malformed=True), FakeReply(text="{\"criteria\": []}")])
async def test_malformed_evaluator_json_twice_falls_back_to_the_offline_scorer(practice, server, second) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), customer_json("嗯。"), FakeReply(text="这是我的评价：很好"), second)
    await practice.reply(session, SEGMENTS)
    await practice.reply(session, COMPENSATE)
    card = await practice.finish(session)
    assert card.mode == "offline" and card.notice == "llm_eval_fallback"
    assert len(server.chat_requests) == 4
    offline = practice.scorer.score(practice.scenario("abnormal-loss"), [SEGMENTS, COMPENSATE])
    assert card.total == offline.total > 0


async def test_evaluator_server_error_falls_back_without_retrying(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), FakeReply(status=503))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "offline" and card.notice == "llm_eval_fallback" and len(server.chat_requests) == 2


# ---------------------------------------------------------------- the prompt files


@pytest.fixture
def own_prompts(tmp_path, shared, server: FakeOpenAIServer):
    """A PracticeService on a copy of the project's prompts that a test may edit or break."""
    prompts = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", prompts)
    catalog, vectors, resolver = shared
    settings = replace(Settings(), openai_base_url=server.base_url, openai_api_key="sk-test",
                       openai_model="fake-model", llm_max_retries=0, llm_timeout_s=5.0)
    practice = PracticeService(catalog, vectors, llm=build_llm(settings), prompts_dir=prompts, resolver=resolver)
    practice.prompts.recheck_seconds = 0  # look at the files on every turn, so edits show at once
    return practice, prompts


@pytest.mark.parametrize("damage", ["garbled", "missing"])
async def test_a_broken_customer_prompt_file_still_ends_in_an_offline_turn(own_prompts, server, damage: str) -> None:
    practice, prompts = own_prompts
    session = practice.start("abnormal-loss")
    assert session.mode == "llm"
    target = prompts / "roleplay_customer.md"
    if damage == "garbled":
        target.write_bytes(b"\xff\xfe\x00 not utf-8 {name")
    else:
        target.unlink()
    turn = await practice.reply(session, SEGMENTS)
    segments = next(b for b in practice.scenario("abnormal-loss").beats if b.id == "segments")
    assert turn.text == segments.replies[0] and turn.notice == "llm_fallback"
    assert "segments" in session.state.hits
    assert server.chat_requests == [], "no model call with a prompt that could not be read"


async def test_stray_braces_in_a_customer_prompt_are_text_not_a_crash(own_prompts, server) -> None:
    """With str.format, one stray brace raised outside the fallback; now only {identifier} is a placeholder."""
    practice, prompts = own_prompts
    (prompts / "roleplay_customer.md").write_text(
        "你是{name}。{不是占位符} {unknown} 例子：{\"reply\": \"…\"} 还有一个 { 和 }}\n阻力 {resistance}/100", encoding="utf-8"
    )
    session = practice.start("abnormal-loss")
    before = round(session.state.resistance)
    server.queue(customer_json("你说吧。"))
    turn = await practice.reply(session, SEGMENTS)
    assert turn.text == "你说吧。" and turn.notice == ""
    system = server.chat_requests[-1]["messages"][0]["content"]
    name = practice.scenario("abnormal-loss").persona.name
    assert system.startswith(f"你是{name}。{{不是占位符}} {{unknown}} 例子：{{\"reply\": \"…\"}} 还有一个 {{ 和 }}}}")
    assert system.endswith(f"阻力 {before}/100")  # the hidden state as the rep's turn found it


async def test_an_edited_customer_prompt_is_used_on_the_next_turn(own_prompts, server) -> None:
    practice, prompts = own_prompts
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), customer_json("嗯。"))
    await practice.reply(session, SEGMENTS)
    assert "新加的一条规则" not in server.chat_requests[-1]["messages"][0]["content"]
    path = prompts / "roleplay_customer.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n6. 新加的一条规则。\n", encoding="utf-8")
    await practice.reply(session, COMPENSATE)
    assert "新加的一条规则" in server.chat_requests[-1]["messages"][0]["content"]


@pytest.mark.parametrize("damage", ["garbled", "missing"])
async def test_a_broken_evaluator_prompt_file_still_ends_in_an_offline_card(own_prompts, server, damage: str) -> None:
    practice, prompts = own_prompts
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"))
    await practice.reply(session, SEGMENTS)
    target = prompts / "roleplay_evaluator.md"
    if damage == "garbled":
        target.write_bytes("评分：{rubric}".encode("gbk") + b"\xff\xff")
    else:
        target.unlink()
    card = await practice.finish(session)
    assert card.mode == "offline" and card.notice == "llm_eval_fallback"
    assert len(server.chat_requests) == 1, "only the customer turn reached the model"
    offline = practice.scorer.score(practice.scenario("abnormal-loss"), [SEGMENTS])
    assert card.total == offline.total > 0


async def test_the_shipped_prompts_reach_the_model_filled_and_with_single_brace_json(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。"), evaluation(practice, "abnormal-loss", "我马上安排专人"))
    await practice.reply(session, SEGMENTS)
    await practice.finish(session)
    customer, evaluator = (body["messages"][0]["content"] for body in server.chat_requests)
    assert '{"reply": ' in customer and '{"criteria": [{"id": ' in evaluator
    for system in (customer, evaluator):
        assert "{{" not in system and not re.search(r"\{[A-Za-z_]\w*\}", system), "every placeholder filled"


async def test_the_evaluators_card_names_criteria_in_the_readers_language(practice, server) -> None:
    session = practice.start("abnormal-loss")
    server.queue(customer_json("行。", trust=2), evaluation(practice, "abnormal-loss", "我马上安排专人", score=90))
    await practice.reply(session, SEGMENTS)
    card = await practice.finish(session)
    assert card.mode == "llm"
    names = practice.catalog.criteria
    assert [c.name_in("en") for c in card.criteria] == [names.name(c.criterion_id, "en") for c in card.criteria]
    assert [c.name_in("zh") for c in card.criteria] == [c.name for c in card.criteria]


async def test_llm_turns_and_scoring_build_the_customer_off_the_event_loop(practice, server, monkeypatch) -> None:
    """Building a customer embeds every move (and resolves citations): it must not block the bot's event loop."""
    import asyncio

    calls: list[bool] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    scored = evaluation(practice, "abnormal-loss", SEGMENTS)  # (the test's own look-up, before watching)
    real_customer, real_scenario = practice.customer, practice.scenario
    monkeypatch.setattr(practice, "customer", lambda sid: (calls.append(on_loop()), real_customer(sid))[1])
    monkeypatch.setattr(practice, "scenario", lambda sid: (calls.append(on_loop()), real_scenario(sid))[1])
    session = practice.start("abnormal-loss")
    calls.clear()
    server.queue(customer_json("分段查？行。", trust=2), scored)
    await practice.reply(session, SEGMENTS)
    await practice.finish(session)
    assert calls and not any(calls), "customer()/scenario() ran on the event loop"
