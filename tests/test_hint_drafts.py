"""`salescoach hints draft`: hints drafted by the LLM (the real openai client against the fake server),
every quote verified against the source, nothing hand-written overwritten.

The library is a temporary knowledge folder with a real Word file (never the shipped `knowledge/`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.coach.hint_drafts import HintDrafter, anchor_quote, clean_asks, draft_text, parse_reply
from bot.corpus.hints import load_hints
from bot.llm.client import build_llm
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.settings import Settings
from tests.fakes.office_files import make_docx
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, fake_openai_server

CREDIT = "大客户的账期最长不超过六十天，超过六十天未回款的，一律停止发货，并由区域经理书面通知客户。"
SAMPLE = "送样之前先让客户填写样品申请单，样品费在首单货款里抵扣，三个月内没有下单的，样品费不退。"
SITE = "上门勘察时要带激光测距仪和样板，量好尺寸以后当场拍照发给客户确认，避免以后因为尺寸扯皮。"
HAND_WRITTEN = (
    "# 经理手写的提示，不能被覆盖\n"
    "doc: handbook\n"
    "hints:\n"
    "  - quote: \"送样之前先让客户填写样品申请单\"   # 手写\n"
    "    asks:\n"
    "      - 客户要样品，我直接寄过去行不行？\n"
)


@pytest.fixture
def library(tmp_path: Path, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    knowledge_dir = tmp_path / "library"
    sources = knowledge_dir / "sources"
    sources.mkdir(parents=True)
    (sources / "manifest.yaml").write_text("sources:\n  - file: 销售手册.docx\n    id: handbook\n    title: 销售手册\n", encoding="utf-8")
    (sources / "销售手册.docx").write_bytes(
        make_docx("销售手册", [("账期", [CREDIT]), ("样品", [SAMPLE]), ("勘察", [SITE]), ("附录", ["联系电话见背面。"])])
    )
    (knowledge_dir / "hints").mkdir()
    (knowledge_dir / "hints" / "handbook.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)
    kb = KnowledgeBase(settings, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)
    assert kb.ingest().ok
    return kb


def model_reply(request: dict) -> str:
    """What a model might answer: an exact quote, one with its punctuation changed, one it made up."""
    prompt = request["messages"][-1]["content"]
    passage = re.search(r"<passage>\n(.*?)\n</passage>", prompt, re.S).group(1)
    if CREDIT in passage:
        hints = [
            {"quote": "大客户的账期最长不超过六十天", "asks": ["大客户能给多长账期？", "老板要三个月账期，我能答应吗"]},
            {"quote": "超过六十天未回款的一律停止发货", "asks": ["客户拖款两个多月了，还能发货吗？"]},  # comma dropped
            {"quote": "账期可以按客户信用延长到九十天", "asks": ["信用好的客户账期能放宽吗？"]},  # not in the source
        ]
    elif SITE in passage:
        hints = [{"quote": SITE, "asks": ["去工地量尺寸要带啥？", "量完尺寸怎么避免以后扯皮"]}]  # too long: cut to a clause
    else:
        hints = []
    return json.dumps({"hints": hints}, ensure_ascii=False)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with fake_openai_server() as fake:
        fake.reply = FakeReply(text=model_reply)
        yield fake


def drafter(library: KnowledgeBase, server: FakeOpenAIServer) -> HintDrafter:
    settings = replace(library.settings, openai_base_url=server.base_url, openai_api_key="sk-test", llm_max_retries=0, llm_timeout_s=5)
    return HintDrafter(library, build_llm(settings))


def test_quotes_are_anchored_in_the_source_or_dropped() -> None:
    passage = "大客户的账期最长不超过六十天，超过六十天未回款的，一律停止发货。"
    assert anchor_quote("大客户的账期最长不超过六十天", passage, passage) == "大客户的账期最长不超过六十天"
    assert anchor_quote("“超过六十天未回款的一律停止发货”", passage, passage) == "超过六十天未回款的，一律停止发货"  # the source's comma
    assert anchor_quote("账期可以延长到九十天", passage, passage) is None
    assert anchor_quote("六十天", passage, passage) is None  # too short to anchor anything
    assert anchor_quote("大客户的账期最长不超过六十天", passage, "另一份资料") is None  # must be in the source too
    assert parse_reply('```json\n{"hints": [{"quote": "q", "asks": ["a"]}]}\n```') == [{"quote": "q", "asks": ["a"]}]
    assert parse_reply('好的：{"hints": []}') == []
    example = "asks：例如“客户嫌贵，说隔壁便宜两块，我咋回？”"
    asks = ["问法一：大客户能给多长账期？", "客户嫌贵，说隔壁便宜两块，我咋回？", "超过六十天未回款的，一律停止发货", "账期"]
    assert clean_asks(asks, "大客户的账期", (example, passage)) == ("大客户能给多长账期？",)  # label cut; copies and scraps dropped


def test_drafted_hints_are_verified_appended_and_used(library: KnowledgeBase, server: FakeOpenAIServer) -> None:
    progress: list[tuple[int, int]] = []
    report = asyncio.run(drafter(library, server).draft("handbook", lambda done, total: progress.append((done, total))))
    assert (report.drafted, report.dropped, report.hinted) == (3, 1, 1)
    prompts = [r["messages"][-1]["content"] for r in server.chat_requests]
    assert len(prompts) == 2 and not any(SAMPLE in p for p in prompts)  # the hand-hinted passage and the short one cost no call
    assert progress[0] == (0, 2) and progress[-1] == (2, 2)
    hints_file = library.settings.knowledge_dir / "hints" / "handbook.yaml"
    text = hints_file.read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN)  # byte for byte, comments included
    source = (library.settings.sources_dir / "销售手册.docx")
    from bot.corpus.library import document_text

    hints = load_hints(library.settings.knowledge_dir, "handbook", document_text(library.settings, source.name))
    quotes = [h.quote for h in hints]
    assert quotes == ["送样之前先让客户填写样品申请单", "大客户的账期最长不超过六十天", "超过六十天未回款的，一律停止发货", quotes[3]]
    assert quotes[3] in SITE and len(quotes[3]) <= 40
    assert "账期可以按客户信用延长到九十天" not in text
    assert "1 条" in draft_text(report, "zh", library.settings.knowledge_dir)  # the drop is reported

    assert library.ingest().ok  # the ingest's own check accepts every drafted quote
    hit = library.search("客户拖款两个多月了，还能发货吗？", 3).hits[0]
    assert CREDIT in hit.text

    again = asyncio.run(drafter(library, server).draft("handbook"))  # every passage with substance has hints now
    assert again.drafted == 0 and len(server.chat_requests) == 2
    assert hints_file.read_text(encoding="utf-8") == text


def test_an_unreachable_model_stops_the_draft_and_writes_nothing(library: KnowledgeBase, server: FakeOpenAIServer) -> None:
    server.reply = FakeReply(status=500)
    report = asyncio.run(drafter(library, server).draft("handbook"))
    assert report.drafted == 0 and report.failed == 2 and report.error
    assert (library.settings.knowledge_dir / "hints" / "handbook.yaml").read_text(encoding="utf-8") == HAND_WRITTEN


def test_the_command_says_clearly_when_no_model_is_configured(library: KnowledgeBase, capsys) -> None:
    args = build_parser().parse_args(["hints", "draft", "handbook"])
    assert args.func(args, library.settings) == 2
    assert "没有配置大模型" in capsys.readouterr().err


def test_a_stopped_draft_keeps_what_was_drafted(library: KnowledgeBase, server: FakeOpenAIServer) -> None:
    report = asyncio.run(drafter(library, server).draft("handbook", stop=lambda: len(server.chat_requests) >= 1))
    assert report.stopped and len(server.chat_requests) == 1 and report.drafted == 2  # the credit passage only
    text = (library.settings.knowledge_dir / "hints" / "handbook.yaml").read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN) and "大客户的账期最长不超过六十天" in text
