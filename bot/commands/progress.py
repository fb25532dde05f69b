"""Terminal progress for long work (ingest): a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from bot.llm.prompts import t


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


def ensure_index(services, lang: str = "zh", err: TextIO | None = None, quiet: bool = False) -> None:
    """Bring the index up to date before use, so a newcomer's first command just works.

    Always an incremental ingest (about 0.1 s when nothing changed), so a first
    import interrupted by Ctrl-C, or material edited since, is completed here.
    Problems are reported on `err`; the command goes on (answers then say the
    material is missing rather than crash).
    """
    err = err or sys.stderr
    knowledge = services.knowledge
    try:
        first_time = knowledge.is_empty()
    except Exception as exc:  # an unreadable index: report it and carry on
        print(t("answer.ingest_failed", lang, error=exc), file=err)
        return
    if first_time:
        print(t("answer.ingest_first", lang), file=err, flush=True)
    progress = TerminalProgress(quiet=quiet or not first_time)
    try:
        report = knowledge.ingest(progress=progress)
    except Exception as exc:
        progress.close()
        print(t("answer.ingest_failed", lang, error=exc), file=err)
        return
    progress.close()
    for error in report.errors:
        print(f"  ⚠ {error}", file=err)
    if first_time:
        print(t("answer.ingest_done", lang), file=err, flush=True)
    elif report.added or report.updated or report.removed:
        print(t("answer.ingest_updated", lang, added=len(report.added), updated=len(report.updated), removed=len(report.removed)), file=err)
