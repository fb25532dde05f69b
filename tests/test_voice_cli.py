"""`salescoach transcribe`, `ask --voice` and `practice ID --voice-dir` in-process through `bot.cli.main`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.llm.prompts import t

VOICE = Path(__file__).parent / "data" / "voice"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, knowledge_base: Any, speech: Any) -> pytest.MonkeyPatch:
    """Clean environment on the session's indexed data dir; the model is the one the `speech` fixture joined."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ASR_BASE_URL", "ASR_API_KEY", "MAX_VOICE_S", "SALESCOACH_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESCOACH_DATA_DIR", str(knowledge_base.settings.data_dir))
    monkeypatch.setenv("ASR_MODEL_DIR", str(speech.cache_dir))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    return monkeypatch


def test_transcribe_prints_the_words_and_timings(cli_env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", "--json", str(VOICE / "v03.ogg")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "客户" in out["text"] and out["engine"] == "builtin" and out["audio_s"] > 3 and out["compute_s"] > 0
    assert "load_s" in out
    assert main(["transcribe", str(VOICE / "v03.ogg")]) == 0
    captured = capsys.readouterr()
    assert "客户" in captured.out and "秒语音" in captured.err
    assert main(["transcribe", str(VOICE / "silent1.ogg")]) == 1
    assert t("voice.nothing_heard", "zh") in capsys.readouterr().err


def test_ask_voice_answers_like_the_typed_question(cli_env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--voice", str(VOICE / "v02.ogg")]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "打款" in out["heard"]["text"] and out["grounded"] and out["citations"]
    assert "🎙 听到：" in captured.err
    assert main(["ask", "--json", out["heard"]["text"]]) == 0
    typed = json.loads(capsys.readouterr().out)
    assert [c["doc"] for c in typed["citations"]] == [c["doc"] for c in out["citations"]]
    assert main(["ask", "问题", "--voice", str(VOICE / "v02.ogg")]) == 2  # one or the other


def test_practice_takes_the_reps_turns_from_audio_files(cli_env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    turns = tmp_path / "turns"
    turns.mkdir()
    shutil.copy(VOICE / "v31.ogg", turns / "1.ogg")
    shutil.copy(VOICE / "silent1.ogg", turns / "2.ogg")  # nothing heard: skipped, said so
    shutil.copy(VOICE / "v35.ogg", turns / "10.ogg")  # natural order: after 2
    assert main(["practice", "invoice-payment", "--voice-dir", str(turns), "--offline", "--json"]) == 0
    captured = capsys.readouterr()
    card = json.loads(captured.out)
    assert card["spoken_turns"] == [1, 2] and card["total"] is not None
    log = captured.err
    assert log.index("1.ogg: 🎙 听到：") < log.index("2.ogg: " + t("voice.nothing_heard", "zh")) < log.index("10.ogg: 🎙 听到：")
    assert "对公账户" in log
    assert main(["practice", "invoice-payment", "--voice-dir", str(tmp_path / "none")]) == 2
