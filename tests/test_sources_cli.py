"""`salescoach ingest` copies outside files into the sources folder; `salescoach sources` lists and removes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.retrieval.knowledge_base import KnowledgeBase
from bot.services import Services
from bot.settings import Settings
from tests.fakes.office_files import make_docx


@pytest.fixture
def cli_settings(tmp_path: Path, knowledge_base: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a temporary library; every Services built by a command shares the loaded embedder."""
    knowledge_dir = tmp_path / "knowledge"
    (knowledge_dir / "sources").mkdir(parents=True)
    (knowledge_dir / "sources" / "gift.md").write_text("# 送礼\n\n客户感冒了送一盒药，咳嗽送薄荷糖。", encoding="utf-8")
    settings = replace(Settings.load(env={}), data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)
    original = Services.build

    def build(cls, s: Settings) -> Services:  # the command builds its own Services; give it the loaded model
        services = original(s)
        services.__dict__["knowledge"] = KnowledgeBase(s, embedder=knowledge_base.embedder, fast_embedder=knowledge_base.fast_embedder)
        return services

    monkeypatch.setattr(Services, "build", classmethod(build))
    return settings


def run(argv: list[str], settings: Settings) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, settings)


def test_ingest_copies_outside_file_and_full_reingest_keeps_it(cli_settings: Settings, tmp_path: Path, capsys) -> None:
    outside = tmp_path / "elsewhere" / "手册.docx"
    outside.parent.mkdir()
    outside.write_bytes(make_docx("油品销售手册", [("磅差的处理", ["过磅时要和客户当面核对磅单。"])]))
    broken = tmp_path / "elsewhere" / "坏的.docx"
    broken.write_bytes(b"PK\x03\x04 broken" * 20)
    assert run(["ingest", "--quiet", str(outside), str(broken)], cli_settings) == 1  # the broken one is reported
    err = capsys.readouterr().err
    assert "坏的.docx" in err and "损坏" in err
    assert (cli_settings.sources_dir / "手册.docx").is_file()
    assert not (cli_settings.sources_dir / "坏的.docx").exists()  # a bad file is not copied
    assert run(["ingest", "--quiet"], cli_settings) == 0  # a full re-ingest keeps the copied document
    capsys.readouterr()
    assert run(["sources"], cli_settings) == 0
    listing = capsys.readouterr().out
    assert "《油品销售手册》" in listing and "《送礼》" in listing and "手册.docx" in listing


def test_sources_remove_asks_and_retires_the_file(cli_settings: Settings, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(["ingest", "--quiet"], cli_settings) == 0
    services = Services.build(cli_settings)
    [info] = services.knowledge.sources()
    services.close()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert run(["sources", "remove", info.doc_id], cli_settings) == 1
    assert "已取消" in capsys.readouterr().out
    assert run(["sources", "remove", "no-such-doc", "--yes"], cli_settings) == 2
    assert run(["sources", "remove", info.doc_id, "--yes"], cli_settings) == 0
    assert "已删除《送礼》" in capsys.readouterr().out
    assert not (cli_settings.sources_dir / "gift.md").exists()
    assert (cli_settings.sources_dir / ".removed" / "gift.md").is_file()
    assert run(["ingest", "--quiet"], cli_settings) == 0  # a full re-ingest does not bring it back
    assert run(["sources"], cli_settings) == 0
    assert "知识库是空的" in capsys.readouterr().out


def test_ingest_of_a_new_version_leaves_no_backup_behind(cli_settings: Settings, tmp_path: Path, capsys) -> None:
    outside = tmp_path / "elsewhere" / "手册.docx"
    outside.parent.mkdir()
    outside.write_bytes(make_docx("油品销售手册", [("磅差的处理", ["过磅时要和客户当面核对磅单。"])]))
    assert run(["ingest", "--quiet", str(outside)], cli_settings) == 0
    outside.write_bytes(make_docx("油品销售手册", [("磅差的处理", ["磅差超过千分之三就要查原因。"])]))
    assert run(["ingest", "--quiet", str(outside)], cli_settings) == 0
    assert "更新 1" in capsys.readouterr().out
    leftovers = [p.name for p in cli_settings.sources_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == [".removed"]  # no half-done backup; the previous version is kept recoverable, once
    assert [p.name for p in (cli_settings.sources_dir / ".removed").iterdir()] == ["手册.docx"]


def test_changing_the_index_while_the_bot_owns_it_is_refused_with_what_to_do(cli_settings: Settings, capsys) -> None:
    """The embedded store is not safe across processes: a terminal ingest during a running bot is refused."""
    from bot.cli import main as cli_main

    bot = Services.build(cli_settings)
    bot.material.claim()  # what `salescoach bot` does at start
    try:
        import os

        os.environ["SALESCOACH_DATA_DIR"] = str(cli_settings.data_dir)
        os.environ["SALESCOACH_KNOWLEDGE_DIR"] = str(cli_settings.knowledge_dir)
        try:
            assert cli_main(["ingest", "--quiet"]) == 2
        finally:
            del os.environ["SALESCOACH_DATA_DIR"], os.environ["SALESCOACH_KNOWLEDGE_DIR"]
        err = capsys.readouterr().err
        assert "/reload" in err and "CHROMA_HOST" in err and "Traceback" not in err
    finally:
        bot.close()
    assert run(["ingest", "--quiet"], cli_settings) == 0  # once the bot has stopped, the same command works
