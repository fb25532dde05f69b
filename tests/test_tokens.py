"""Offline tiktoken: the shipped o200k_base file loads without network and is hash-checked."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from bot import tokens


def test_counts_chinese_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("tiktoken tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    tokens.encoding.cache_clear()
    text = "客情关系是独特卖点，并不是所有能让客户赚钱的企业都能让客户满意。"
    n = tokens.count_tokens(text)
    assert 0.4 * len(text) < n < 1.2 * len(text)
    assert tokens.encoding().decode(tokens.encoding().encode(text)) == text


def test_truncate_respects_budget() -> None:
    text = "销售人员需要按照公司制作的《卸油安全调查表》对客户的盛油装置进行安全评价。" * 20
    cut = tokens.truncate_to_tokens(text, 25)
    assert tokens.count_tokens(cut) <= 25
    assert text.startswith(cut)


def test_tampered_encoding_file_is_rejected(tmp_path: Path) -> None:
    copy = tmp_path / "o200k_base.tiktoken"
    shutil.copy(tokens.ENCODING_FILE, copy)
    with copy.open("ab") as handle:
        handle.write(b"AAAA 1\n")
    assert len(tokens.verified_ranks(tokens.ENCODING_FILE)) > 190_000
    with pytest.raises(tokens.EncodingFileError, match="校验失败"):
        tokens.verified_ranks(copy)
