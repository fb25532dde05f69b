"""The sources manifest (`knowledge/sources/manifest.yaml`): read through the one data-file reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.coach.tips.bank import load_source_texts
from bot.corpus.documents import ManifestError, load_manifest
from bot.datafiles import DataFileError


def write_manifest(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.yaml").write_text(body, encoding="utf-8")
    return folder


def test_entries_default_their_kind_id_and_title(tmp_path: Path) -> None:
    folder = write_manifest(tmp_path, "sources:\n  - file: 手册.md\n    id: manual\n  - file: notes.txt\n    kind: qa\n    title: 问答\n")
    manifest = load_manifest(folder)
    assert manifest["手册.md"].kind == "article" and manifest["手册.md"].title == "手册"
    assert manifest["notes.txt"].doc_id.startswith("notes-") and manifest["notes.txt"].title == "问答"
    assert load_manifest(write_manifest(tmp_path / "empty", "")) == {}


@pytest.mark.parametrize(
    "body, where, line",
    [
        ("sources:\n  - file: a.md\n    kind: video\n", "sources[0].kind", 3),
        ("sources:\n  - file: a.md\n    id: a\n  - file: b.md\n    id: a\n", "sources[1].id", 5),
        ("sources:\n  - file: a.md\n  - title: 没有文件\n", "sources[1].file", 3),
        ("sources:\n  - a.md\n", "sources[0]", 2),
        ("sources: a.md\n", "sources", 1),
        ("sources:\n  - file: a.md\n  - file: a.md\n    file: b.md\n", "", 4),
    ],
)
def test_a_bad_manifest_names_the_entry_and_the_line(tmp_path: Path, body: str, where: str, line: int) -> None:
    write_manifest(tmp_path, body)
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert isinstance(info.value, DataFileError)
    assert info.value.file == "manifest.yaml" and info.value.where == where and info.value.line == line


def test_the_tip_bank_reports_a_bad_manifest_once_not_with_the_file_name_twice(tmp_path: Path) -> None:
    write_manifest(tmp_path, "sources:\n  - file: a.md\n    kind: video\n")
    texts, issues = load_source_texts(tmp_path)
    assert texts is None
    assert [str(i) for i in issues] == ["[提醒] manifest.yaml: sources[0].kind: 只能是 transcript / slides / qa / article，收到 'video'（第 3 行）"]
