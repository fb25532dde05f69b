"""`salescoach start`, the README's first command: terminal chat without a token."""

from __future__ import annotations

import io
import sys

import pytest


def test_start_without_token_opens_the_terminal_chat(knowledge_base, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from bot import cli

    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setattr(sys, "stdin", io.StringIO("礼品和礼物有什么区别？\n帮我推荐几只明天会涨的股票\n/quit\n"))
    assert cli.main(["start"]) == 0
    captured = capsys.readouterr()
    assert "TELEGRAM_BOT_TOKEN" in captured.err
    assert "《我给客户送了礼品，为什么感觉关系没有提升呢》" in captured.out  # a cited answer
    assert "没有讲到" in captured.out  # and a plain decline for the off-topic question
