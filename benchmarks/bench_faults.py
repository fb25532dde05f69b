"""Fault benchmark: hostile or unlucky inputs, what happened, and what they cost in time and memory.

Not a test (the fault suite in tests/ pins the behaviour); this prints a table of
the fault kinds tried, the outcome, seconds and the peak memory above the idle
process, so the bounds can be checked on a given machine.

    .venv/bin/python benchmarks/bench_faults.py

Rows: a .docx zip bomb (declares ~1 GB of zeros in a file of about 1 MB), a
.pptx with a suspicious compression ratio, a PDF over the page limit, a model
that ignores max_tokens, a model that drips one chunk at a time.
"""

from __future__ import annotations

import asyncio
import io
import resource
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.corpus.documents import IngestFileError, ReadLimits  # noqa: E402
from bot.corpus.reading import read_source  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.office_files import make_docx, make_pdf, make_pptx  # noqa: E402
from tests.fakes.openai_server import FakeReply, fake_openai_server  # noqa: E402


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_member(office: bytes, name: str, size: int) -> bytes:
    buffer = io.BytesIO(office)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            chunk = b"\0" * (16 * 1_048_576)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def read_row(label: str, path: Path, limits: ReadLimits) -> tuple[str, str, float, float]:
    before = rss_mb()
    started = time.perf_counter()
    try:
        read_source(path, None, limits)
        outcome = "read (not refused!)"
    except IngestFileError as exc:
        outcome = "refused: " + exc.reason[:60]
    return label, outcome, time.perf_counter() - started, rss_mb() - before


async def llm_rows() -> list[tuple[str, str, float, float]]:
    from bot.coach.answers.service import AnswerService
    from bot.llm.client import build_llm
    from bot.retrieval.knowledge_base import KnowledgeBase

    rows = []
    with tempfile.TemporaryDirectory() as tmp, fake_openai_server() as server:
        knowledge = Path(tmp) / "knowledge" / "sources"
        knowledge.mkdir(parents=True)
        (knowledge / "gift.md").write_text("# 送礼\n\n礼品是有来有回的。礼物是对客户生活的关心，客户感冒了送一盒药。", encoding="utf-8")
        base = replace(Settings.load(env={}), data_dir=Path(tmp) / "data", knowledge_dir=knowledge.parent)
        settings = replace(base, openai_base_url=server.base_url, openai_api_key="sk-bench", llm_max_retries=0)
        kb = KnowledgeBase(settings)
        kb.ingest()
        cases = [
            ("model ignores max_tokens (≈540k chars)", FakeReply(text="礼物是关心[1]。" * 60_000, chunk_chars=2000), {}),
            ("model drips a chunk every 2 s", FakeReply(text="礼物是关心[1]。" * 50, chunk_chars=8, chunk_delay_s=2.0), {"llm_answer_deadline_s": 6.0}),
        ]
        for label, reply, overrides in cases:
            server.reply = reply
            case_settings = replace(settings, **overrides)
            llm = build_llm(case_settings)
            service = AnswerService(kb, llm, case_settings)
            before = rss_mb()
            started = time.perf_counter()
            answer = await service.answer("客户感冒了送什么？")
            outcome = f"{len(answer.text)} chars, notice: {answer.notice or '-'}"
            rows.append((label, outcome, time.perf_counter() - started, rss_mb() - before))
            await llm.aclose()
    return rows


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bomb = folder / "bomb.docx"
        bomb.write_bytes(with_member(make_docx("手册", [("一", ["正文"])]), "word/media/pad.bin", 1024 * 1_048_576))
        rows.append(read_row(f"docx zip bomb ({bomb.stat().st_size / 1_048_576:.1f} MB → 1 GB)", bomb, ReadLimits()))
        ratio = folder / "ratio.pptx"
        ratio.write_bytes(with_member(make_pptx([("标题", ["要点"])]), "ppt/media/pad.bin", 64 * 1_048_576))
        rows.append(read_row("pptx, 64 MB member at ratio ~1000", ratio, ReadLimits()))
        thick = folder / "thick.pdf"
        thick.write_bytes(make_pdf([f"第{n}页" for n in range(1, 1201)]))
        rows.append(read_row("PDF of 1,200 pages (limit 1,000)", thick, ReadLimits()))
    rows += asyncio.run(llm_rows())
    print(f"{'fault':44s} {'outcome':70s} {'seconds':>8s} {'peak +MB':>9s}")
    for label, outcome, seconds, memory in rows:
        print(f"{label:44s} {outcome:70s} {seconds:8.2f} {memory:9.0f}")
    print(f"process peak RSS: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
