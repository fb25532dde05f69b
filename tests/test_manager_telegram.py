"""The manager's Telegram tools through the real Application and the fake Bot API server.

Uploads go into a knowledge base on a temporary library (never the shipped corpus);
/team reads practice data seeded into the bot's own database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.llm.prompts import t
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import Settings
from bot.store.history import HistoryStore
from bot.store.practice import PracticeStore
from bot.store.users import UserStore
from tests.fakes.office_files import encrypt_pdf, make_docx, make_pdf
from tests.fakes.openai_server import FakeReply, fake_openai_server
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer
from tests.team_data import seed_team
from tests.telegram_fixtures import BotHarness, bot_settings, telegram_server  # noqa: F401  (pytest fixtures)

ADMIN = 1
REP = 101
OUTSIDER = 555  # a rep with no seeded data (writing to the bot updates a seeded rep's name)
WEIGHBRIDGE = "过磅时要和客户当面核对磅单，磅差超过千分之三就要查原因。"


@pytest.fixture
def library_kb(tmp_path: Path, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    knowledge_dir = tmp_path / "library"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "gift.md").write_text("# 送礼的学问\n\n客户感冒了送一盒药，咳嗽送薄荷糖。", encoding="utf-8")
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "library-data", knowledge_dir=knowledge_dir)
    kb = KnowledgeBase(settings, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)  # reuse the loaded model
    assert kb.ingest().ok
    return kb


@pytest.fixture
async def manager_bot(
    telegram_server: FakeTelegramServer,  # noqa: F811
    bot_settings: Settings,  # noqa: F811
    library_kb: KnowledgeBase,
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(telegram_server, replace(bot_settings, admin_user_ids=frozenset({ADMIN})), library_kb)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def final_status(server: FakeTelegramServer, chat_id: int, needle: str) -> BotMessage:
    return await server.wait_for_text(chat_id, needle, timeout=20)


async def test_admin_upload_is_ingested_with_progress(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    content = make_docx("油品销售手册", [("磅差的处理", [WEIGHBRIDGE])])
    server.send_document(ADMIN, "手册.docx", content)
    status = await final_status(server, ADMIN, "已加入知识库")
    assert status.text.startswith("已加入知识库：1 段") and "《油品销售手册》" in status.text
    assert status.buttons == []  # no model configured: no "draft hints" button
    assert status.versions[0].startswith("收到《手册.docx》") and any("正在导入《手册.docx》" in v for v in status.versions)
    assert len(server.messages(ADMIN)) == 1  # progress was edited into one message
    assert (kb.settings.sources_dir / "手册.docx").read_bytes() == content  # kept by a later full re-ingest
    hit = kb.search("磅差超过多少要查原因", 3).hits[0]
    assert hit.title == "油品销售手册" and hit.location == "「磅差的处理」"


async def test_an_over_long_file_name_is_shortened_not_an_error(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    long_name = "油品销售手册" * 17 + ".docx"  # 306 bytes: over every file system's limit
    assert len(long_name.encode("utf-8")) > 255
    server.send_document(ADMIN, long_name, make_docx("油品销售手册", [("磅差的处理", [WEIGHBRIDGE])]))
    status = await final_status(server, ADMIN, "已加入知识库")
    assert status.text.startswith("已加入知识库：1 段")
    [stored] = [p for p in kb.settings.sources_dir.iterdir() if p.suffix == ".docx"]
    assert stored.name.startswith("油品销售手册") and len(stored.name.encode("utf-8")) <= 160


async def test_bad_upload_is_explained_and_changes_nothing(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    before = sorted(c.chunk_id for c in kb.store.all_chunks())
    server.send_document(ADMIN, "合同.pdf", encrypt_pdf(make_pdf([WEIGHBRIDGE])), mime_type="application/pdf")
    status = await final_status(server, ADMIN, "没有导入")
    assert "合同.pdf" in status.text and "加密" in status.text and "知识库没有任何改动" in status.text
    server.send_document(ADMIN, "扫描.pdf", make_pdf(["", ""]), mime_type="application/pdf")
    assert "扫描件" in (await final_status(server, ADMIN, "扫描.pdf：")).text
    server.send_document(ADMIN, "报表.xlsx", b"PK\x03\x04" * 10)
    assert "不是支持的格式" in (await final_status(server, ADMIN, "报表.xlsx")).text
    assert sorted(c.chunk_id for c in kb.store.all_chunks()) == before
    assert sorted(p.name for p in kb.settings.sources_dir.iterdir() if not p.name.startswith(".")) == ["gift.md"]


async def test_upload_from_a_rep_is_not_ingested(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    server.send_document(REP, "手册.docx", make_docx("油品销售手册", [("磅差", [WEIGHBRIDGE])]))
    [reply] = await server.wait_for_messages(REP)
    assert reply.text == t("bot.not_text", "zh")
    assert not (kb.settings.sources_dir / "手册.docx").exists() and [s.file for s in kb.sources()] == ["gift.md"]


async def test_sources_remove_needs_confirmation(manager_bot: BotHarness, caplog) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    server.send_command(REP, "/sources")
    assert (await server.wait_for_messages(REP))[0].text == t("bot.admin_only", "zh")
    server.send_command(ADMIN, "/sources")
    [listing] = await server.wait_for_messages(ADMIN)
    assert "1. 《送礼的学问》" in listing.text
    [(label, data)] = listing.buttons
    assert "送礼的学问" in label
    server.press_button(ADMIN, listing, data)
    await server.wait_for(lambda: "确定要从知识库删除" in listing.text, what="the confirm step")
    no = next(d for text, d in listing.buttons if text == "取消")
    server.press_button(ADMIN, listing, no)
    await server.wait_for(lambda: "已取消" in listing.text, what="cancel")
    assert [s.title for s in kb.sources()] == ["送礼的学问"]
    server.press_button(REP, listing, data.replace(":ask:", ":yes:"))  # a rep replaying the button is refused
    await server.wait_for(lambda: any(a.get("text") == t("bot.admin_only", "zh") for a in server.callback_answers), what="refusal")
    assert [s.title for s in kb.sources()] == ["送礼的学问"]
    server.press_button(ADMIN, listing, data)
    await server.wait_for(lambda: "确定要从知识库删除" in listing.text, what="the confirm step again")
    yes = next(d for text, d in listing.buttons if text == "确定删除")
    server.press_button(ADMIN, listing, yes)
    await server.wait_for(lambda: "已删除《送礼的学问》" in listing.text, what="removal")
    assert kb.sources() == [] and (kb.settings.sources_dir / ".removed" / "gift.md").is_file()
    answered = len(server.callback_answers)
    for _ in range(2):  # a stale button pressed again (twice): one clear word, no error logged
        server.press_button(ADMIN, listing, data)
        answered += 1
        await server.wait_for(lambda: len(server.callback_answers) == answered, what="the stale press")
    await server.wait_for(lambda: listing.text == t("manager.sources_gone", "zh"), what="gone")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "a stale button must not log an error"


async def test_team_report_with_chart(manager_bot: BotHarness) -> None:
    server = manager_bot.server
    assert manager_bot.services is not None
    seed_team(manager_bot.services.db)
    server.send_command(OUTSIDER, "/team")
    assert (await server.wait_for_messages(OUTSIDER))[0].text == t("bot.admin_only", "zh")
    server.send_command(ADMIN, "/team")
    text, photo = await server.wait_for_messages(ADMIN, count=2)
    assert "练习的人：2 人，练习 2 次" in text.text and "小王" in text.text
    assert "最需要加强：守住合规底线、用事实说话（调查、化验、复核）、先倾听、问清楚" in text.text
    assert "⚠ 守住合规底线：40 分" in text.text
    assert "新人小陈（从未练习）" in text.text and "老赵（上次：" in text.text
    assert photo.kind == "photo" and photo.file_bytes is not None and photo.file_bytes.startswith(b"\x89PNG")


async def test_forget_me_deletes_the_users_data(manager_bot: BotHarness) -> None:
    server = manager_bot.server
    assert manager_bot.services is not None
    db = manager_bot.services.db
    seed_team(db)
    HistoryStore(db).append_exchange(REP, REP, "客户不回消息怎么办？", "先问清楚原因。")
    persistence = manager_bot.application.persistence
    await persistence.update_conversation("practice", (REP, REP), 1)  # a role-play in progress
    await persistence.update_conversation("practice", (102, 102), 1)
    server.send_command(REP, "/forget_me")
    [confirm] = await server.wait_for_messages(REP)
    assert "永久删除" in confirm.text
    yes = next(d for text, d in confirm.buttons if text == "确定删除")
    server.press_button(102, confirm, yes)  # someone else's tap does nothing
    await server.wait_for(lambda: any("不是给你的" in (a.get("text") or "") for a in server.callback_answers), what="refusal")
    assert PracticeStore(db).totals(REP)
    server.press_button(REP, confirm, yes)
    await server.wait_for(lambda: "已删除你的全部记录" in confirm.text, what="deletion")
    assert PracticeStore(db).totals(REP) == [] and PracticeStore(db).criterion_history(REP) == []
    assert HistoryStore(db).recent(REP, 10, 1000) == []
    assert UserStore(db).get(REP) is None
    assert PracticeStore(db).totals(102)  # other reps keep theirs
    conversations = db.query("SELECT key FROM ptb_state WHERE kind = 'conversation:practice'")
    assert [r["key"] for r in conversations] == ["[102, 102]"]  # theirs gone, the other rep's kept


async def test_a_file_of_the_same_name_is_replaced_only_when_confirmed_and_the_old_one_is_kept(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    first = make_docx("油品销售手册", [("磅差的处理", [WEIGHBRIDGE])])
    server.send_document(ADMIN, "手册.docx", first)
    await final_status(server, ADMIN, "已加入知识库")
    second = make_docx("油品销售手册（第二版）", [("磅差的处理", [WEIGHBRIDGE + "第二版补充：复核要有记录。"])])
    seen = len(server.messages(ADMIN))
    server.send_document(ADMIN, "手册.docx", second)
    ask = await server.wait_for(lambda: server.messages(ADMIN)[seen] if len(server.messages(ADMIN)) > seen else None, what="the question")
    assert "已经有《手册.docx》" in ask.text and (kb.settings.sources_dir / "手册.docx").read_bytes() == first
    no = next(d for text, d in ask.buttons if text == "取消")
    server.press_button(ADMIN, ask, no)
    await server.wait_for(lambda: "保持原样" in ask.text, what="cancel")
    assert (kb.settings.sources_dir / "手册.docx").read_bytes() == first
    server.send_document(ADMIN, "手册.docx", second)
    ask = await server.wait_for(lambda: server.messages(ADMIN)[-1] if "已经有" in server.messages(ADMIN)[-1].text and server.messages(ADMIN)[-1] is not ask else None, what="the question again")
    yes = next(d for text, d in ask.buttons if text == "替换")
    server.press_button(ADMIN, ask, yes)
    await server.wait_for(lambda: any("第二版" in m.text and "已加入知识库" in m.text for m in server.messages(ADMIN)), what="the replacement")
    assert (kb.settings.sources_dir / "手册.docx").read_bytes() == second
    assert (kb.settings.sources_dir / ".removed" / "手册.docx").read_bytes() == first  # recoverable
    server.press_button(ADMIN, ask, yes)  # the same button again: stale, nothing happens twice
    await server.wait_for(lambda: "过期" in ask.text, what="stale")


async def test_a_long_import_can_be_cancelled_and_changes_nothing(manager_bot: BotHarness) -> None:
    server, kb = manager_bot.server, manager_bot.knowledge
    before = [s.file for s in kb.sources()]
    pages = [f"第{n}页：磅差超过千分之三就要查原因，先核对磅单，再查在途。" for n in range(1, 301)]
    server.send_document(ADMIN, "厚手册.pdf", make_pdf(pages))
    status = await server.wait_for(
        lambda: next((m for m in server.messages(ADMIN) if m.buttons and "取消导入" in m.buttons[0][0]), None), what="the progress"
    )
    server.press_button(ADMIN, status, status.buttons[0][1])
    await server.wait_for(lambda: "已取消导入《厚手册.pdf》" in status.text, what="the cancellation")
    assert not status.buttons
    assert [s.file for s in kb.sources()] == before and not (kb.settings.sources_dir / "厚手册.pdf").exists()


async def test_gaps_lists_what_reps_asked_and_the_material_lacks(manager_bot: BotHarness) -> None:
    server = manager_bot.server
    server.send_text(REP, "年假有几天？")  # the library only has 送礼的学问: declined
    await server.wait_for_text(REP, "没有")
    server.send_command(REP, "/gaps")
    assert (await server.wait_for_messages(REP, count=2))[-1].text == t("bot.admin_only", "zh")
    server.send_command(ADMIN, "/gaps")
    report = await final_status(server, ADMIN, "资料缺口")
    assert "最近 30 天" in report.text and "1. 问了 1 次（没答上 1）" in report.text and "· 年假有几天？" in report.text
    assert "资料里最接近的：《送礼的学问》" in report.text and str(REP) not in report.text  # no rep identity
    assert report.versions[0] == t("manager.gaps_working", "zh")  # the grouping's status, then the report in its place


async def test_after_an_upload_the_admin_can_have_its_hints_drafted(
    telegram_server: FakeTelegramServer,  # noqa: F811
    bot_settings: Settings,  # noqa: F811
    library_kb: KnowledgeBase,
) -> None:
    hint = {"quote": "磅差超过千分之三就要查原因", "asks": ["过磅少了好几吨，客户不认账咋办？", "磅单对不上怎么处理"]}
    with fake_openai_server() as model:
        model.reply = FakeReply(text=json.dumps({"hints": [hint]}, ensure_ascii=False))
        settings = replace(
            bot_settings, admin_user_ids=frozenset({ADMIN}), openai_base_url=model.base_url, openai_api_key="sk-test",
            llm_max_retries=0, llm_timeout_s=5,
        )
        harness = await BotHarness(telegram_server, settings, library_kb).start()
        try:
            server = telegram_server
            paragraph = WEIGHBRIDGE + "每次卸油都要留存磅单照片，发现磅差先和司机一起复磅再签字。"
            server.send_document(ADMIN, "手册.docx", make_docx("油品销售手册", [("磅差的处理", [paragraph])]))
            status = await final_status(server, ADMIN, "已加入知识库")
            [(label, data)] = status.buttons
            assert label == t("manager.hints_button", "zh") and data.startswith("hints:")
            server.press_button(REP, status, data)  # not an admin: refused, nothing drafted
            server.press_button(ADMIN, status, data)
            done = await final_status(server, ADMIN, "起草了 1 条问法提示")
            assert "已重新导入，提示已生效" in done.text and not model.chat_requests[1:]  # one passage, one call
            hints_file = library_kb.settings.knowledge_dir / "hints" / f"{data.removeprefix('hints:')}.yaml"
            assert "磅差超过千分之三就要查原因" in hints_file.read_text(encoding="utf-8")
            hit = library_kb.search("过磅少了好几吨，客户不认账咋办？", 3).hits[0]
            assert WEIGHBRIDGE in hit.text
        finally:
            await harness.stop()
