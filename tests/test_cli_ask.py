"""`salescoach ask` and `salescoach chat` run in-process through `bot.cli.main`, as a newcomer would."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.cli import main
from bot.llm.prompts import t
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, fake_openai_server

IN_SCOPE = "客户收了礼品为什么关系没提升？"
ENV_NAMES = [
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_EMBEDDING_MODEL", "SALESCOACH_KNOWLEDGE_DIR",
    "SALESCOACH_PROMPTS_DIR", "SALESCOACH_LANGUAGE", "LLM_TIMEOUT_S", "LLM_MAX_RETRIES", "TOP_K", "CHROMA_HOST",
]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, knowledge_base: Any) -> pytest.MonkeyPatch:
    """A clean environment (no .env, no OPENAI_*) whose data dir is the session's already-indexed one."""
    monkeypatch.chdir(tmp_path)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    return monkeypatch


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with fake_openai_server() as server:
        yield server


def test_ask_json_offline(cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", IN_SCOPE]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "extractive" and out["grounded"] is True
    assert out["answer"] and "[1]" in out["answer"]
    assert out["citations"] and [c["n"] for c in out["citations"]] == list(range(1, len(out["citations"]) + 1))
    for citation in out["citations"]:
        assert set(citation) == {"n", "doc", "title", "location", "text"}
        assert citation["title"] and citation["location"] and citation["text"]


def test_ask_streams_llm_answer_with_sources(
    cli_env: pytest.MonkeyPatch, openai_server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("OPENAI_BASE_URL", openai_server.base_url)
    cli_env.setenv("OPENAI_API_KEY", "sk-test")
    cli_env.setenv("LLM_MAX_RETRIES", "0")
    openai_server.reply = FakeReply(text="1. 礼品是客户觉得应得的[2]。\n2. 送完要回访[9]。")
    assert main(["ask", IN_SCOPE]) == 0
    out = capsys.readouterr().out
    assert "1. 礼品是客户觉得应得的[1]。\n2. 送完要回访。" in out
    assert t("answer.sources_heading", "zh") in out
    source_lines = [line for line in out.splitlines() if line.startswith("[")]
    assert len(source_lines) == 1 and "《" in source_lines[0]
    assert len(openai_server.chat_requests) == 1 and openai_server.chat_requests[0]["stream"] is True


def test_ask_json_out_of_scope(cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "Python", "怎么写快速排序"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["grounded"] is False and out["citations"] == []
    assert "没有讲到" in out["answer"]


def test_chat_with_piped_stdin(
    cli_env: pytest.MonkeyPatch, openai_server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("OPENAI_BASE_URL", openai_server.base_url)
    cli_env.setenv("LLM_MAX_RETRIES", "0")
    openai_server.reply = FakeReply(text=lambda body: f"第{len(body['messages'])}条消息的回答[1]。")
    lines = [IN_SCOPE, "那送完以后还要做什么？", "", "/reset", IN_SCOPE, "/quit", "这一行不会被读到"]
    cli_env.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    # History is kept for the follow-up, and cleared by /reset: system + (history) + question.
    assert [len(body["messages"]) for body in openai_server.chat_requests] == [2, 4, 2]
    assert out.count("的回答[1]。") == 3
    assert t("answer.chat_welcome", "zh") not in out and t("answer.chat_prompt", "zh") not in out


def test_first_run_ingests_automatically(
    cli_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "knowledge" / "sources"
    sources.mkdir(parents=True)
    (sources / "回访.txt").write_text(
        "# 送礼之后的回访\n\n"
        "送礼之后一定要回访客户的收礼感受。打电话问一句东西收到了吗，再提醒一个使用的小窍门，"
        "客户会因此记住你，这样一份礼品就唤醒了客户两次。\n",
        encoding="utf-8",
    )
    cli_env.setenv("SALESCOACH_DATA_DIR", str(tmp_path / "fresh-data"))
    cli_env.setenv("SALESCOACH_KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    assert main(["ask", "--json", "送礼之后要怎么回访客户的收礼感受？"]) == 0
    captured = capsys.readouterr()
    assert t("answer.ingest_first", "zh") in captured.err and t("answer.ingest_done", "zh") in captured.err
    out = json.loads(captured.out)
    assert out["grounded"] is True and out["citations"][0]["title"] == "送礼之后的回访"
    assert "回访" in out["answer"]


def test_invalid_utf8_input_is_read_as_text_not_a_crash(cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes that are not UTF-8 (a GBK terminal, a broken pipe) on stdin or in an argument."""
    raw = "客户收了礼品为什么关系没提升？".encode("utf-8") + b"\xff\xfe\n" + "怎么建客户档案".encode("gbk") + b"\n"
    cli_env.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))  # strict, like a real pipe
    assert main(["search", "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and rows[0]["hits"]  # the whole batch, the valid question answered
    bad_argument = "客户档案".encode("gbk").decode("utf-8", "surrogateescape")
    assert main(["ask", "--json", bad_argument]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "ingest" not in answer["answer"]  # not the misleading "run ingest" advice


def test_the_terminal_shows_the_notice_of_a_streamed_answer(cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    question = "公司定制的礼品一般多少钱一份？"  # the material says what to give, not what it costs
    assert main(["ask", question]) == 0
    out = capsys.readouterr().out
    notice = t("answer.detail_notice", "zh", detail="具体价格或费用")
    assert notice in out and out.index(notice) < out.index(t("answer.sources_heading", "zh"))
    assert main(["ask", IN_SCOPE]) == 0
    assert "资料里没有" not in capsys.readouterr().out
