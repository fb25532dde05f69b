"""Reading and chunking each document shape, with the locations citations rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus.chunking import chunk_document
from bot.corpus.documents import ManifestError, load_manifest
from bot.corpus.documents import IngestFileError
from bot.corpus.documents import ReadLimits
from bot.corpus.reading import read_source
from bot.settings import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "knowledge" / "sources"
MB = 1_048_576


def chunks_of(file_name: str):
    manifest = load_manifest(SOURCES)
    doc = read_source(SOURCES / file_name, manifest[file_name], ReadLimits(max_bytes=20 * MB))
    return doc, chunk_document(doc)


def test_manifest_gives_titles_and_kinds() -> None:
    manifest = load_manifest(SOURCES)
    assert len(manifest) == 5
    assert manifest["002_7fb6e2bc2460bc95.txt"].title == "客户开发与维护"
    assert {e.kind for e in manifest.values()} == {"transcript", "slides", "qa"}


def test_slide_deck_chunks_cite_pages_and_sections() -> None:
    doc, chunks = chunks_of("002_7fb6e2bc2460bc95.txt")
    kickback = [c for c in chunks if c.section.startswith("9.10 如何应对要好处的采购商")]
    assert kickback and kickback[0].location.startswith("第 84 页")
    assert "以给采购商“好处”的办法来促成销售是存在风险的" in kickback[0].text
    # The page number echoed at the start of a slide ("• 4. 4没有客户") is not part of the text.
    page4 = next(c for c in chunks if c.location.startswith("第 4 页"))
    assert page4.text.startswith("没有客户")
    # Tiny slides of one section are merged into a page range.
    assert any("–" in c.location for c in chunks)
    # Every displayed chunk is the source's own words (runs of spaces collapsed).
    source = " ".join(doc.text.split())
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            assert " ".join(line.split()) in source


def test_qa_chunks_cite_question_headings() -> None:
    _, chunks = chunks_of("003_29e3abf5e8800834.txt")
    locations = {c.location.split("（")[0] for c in chunks}
    assert "问题 6：客情营销是什么意思" in locations
    assert all(c.location.startswith("问题 ") for c in chunks)


def test_transcript_is_split_into_numbered_passages_with_filler_cleaned_for_search() -> None:
    doc, chunks = chunks_of("000_ce4f0f56569eee3a.txt")
    assert len(chunks) >= 3
    assert [c.location for c in chunks] == [f"第 {i} 段" for i in range(1, len(chunks) + 1)]
    assert "#销售技巧" not in "".join(c.text for c in chunks)
    assert "啊哈哈哈" in doc.text
    assert all("啊哈哈哈" not in c.embed_text for c in chunks)
    assert chunks[0].embed_text.startswith("《我给客户送了礼品")


def test_slide_dump_drops_template_noise_and_glues_split_words_for_search() -> None:
    _, chunks = chunks_of("004_9a1b488143a17ca7.txt")
    joined = "".join(c.text for c in chunks)
    assert "单击此处编辑母版" not in joined
    assert any(c.location.startswith("第三部分「四两拨千斤」") for c in chunks)
    assert any("经济关系" in c.embed_text for c in chunks)


def test_chunks_respect_token_budget() -> None:
    from bot.corpus.chunking import ChunkingConfig
    from bot.tokens import count_tokens

    config = ChunkingConfig()
    for name in load_manifest(SOURCES):
        _, chunks = chunks_of(name)
        assert all(count_tokens(c.text) <= config.max_tokens + config.overlap_tokens for c in chunks)


def test_gbk_text_is_detected_and_decoded(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    text = "客情关系的建立与维护：先推销自己，再推销产品。"
    path.write_bytes(text.encode("gbk"))
    doc = read_source(path, None, ReadLimits(max_bytes=MB))
    assert doc.text == text


def test_bad_files_get_clear_messages(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    big = tmp_path / "big.txt"
    big.write_text("客" * 600_000, encoding="utf-8")
    odd = tmp_path / "sheet.xls"
    odd.write_text("x")
    cases = {empty: "空", binary: "二进制", big: "太大", odd: "不支持"}
    for path, word in cases.items():
        with pytest.raises(IngestFileError) as info:
            read_source(path, None, ReadLimits(max_bytes=MB))
        assert path.name in str(info.value) and word in str(info.value)


def test_malformed_manifest_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "manifest.yaml").write_text("sources:\n  - file: a.txt\n    kind: video\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"sources\[0\]\.kind"):
        load_manifest(tmp_path)
