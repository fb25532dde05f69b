"""Terminal progress for long work (ingest): a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Callable

from tqdm import tqdm


class TerminalProgress:
    """Adapts the knowledge base's `progress(stage, done, total)` callback to a tqdm bar."""

    def __init__(self, quiet: bool = False) -> None:
        self._bar: tqdm | None = None
        self._stage = ""
        self._quiet = quiet

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._quiet:
            return
        if not sys.stderr.isatty():
            if stage != self._stage:
                print(f"  {stage}", file=sys.stderr, flush=True)
                self._stage = stage
            return
        if self._bar is None:
            self._bar = tqdm(total=max(total, 1), file=sys.stderr, leave=False, unit="段")
        if stage != self._stage:
            self._bar.reset(total=max(total, 1))
            self._bar.set_description(stage[:30])
            self._stage = stage
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def ensure_index(knowledge, quiet: bool = False, say: Callable[[str], None] | None = None) -> None:
    """Ingest the shipped material on first use so a newcomer's first command just works."""
    if not knowledge.is_empty():
        return
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    say("首次使用：正在导入 knowledge/sources 里的资料（约 1 分钟，只需一次）…")
    progress = TerminalProgress(quiet=quiet)
    try:
        report = knowledge.ingest(progress=progress)
    finally:
        progress.close()
    for error in report.errors:
        say(f"  ⚠ {error}")
    say(f"导入完成：{len(report.added)} 份资料，{report.chunks_written} 段，用时 {report.seconds:.1f} 秒。")
