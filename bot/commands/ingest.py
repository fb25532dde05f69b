"""`salescoach ingest [PATH…]`: index the material (incremental; progress bar; clear errors)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.progress import TerminalProgress
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="导入/更新资料（knowledge/sources 或指定文件）")
    parser.add_argument("paths", nargs="*", type=Path, help="要导入的文件；不写则导入 knowledge/sources 下全部资料")
    parser.add_argument("--quiet", action="store_true", help="不显示进度")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    services = Services.build(settings)
    missing = [p for p in args.paths if not p.is_file()]
    if missing:
        for path in missing:
            print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    try:
        services.material.claim()  # refused while a bot on this embedded store runs: it would never see the change
    except Exception:
        services.close()
        raise
    progress = TerminalProgress(quiet=args.quiet)
    try:
        if args.paths:
            added = services.material.add(args.paths, progress=progress)
            if added.report is None:
                for error in added.rejected:
                    print(f"⚠ {error}", file=sys.stderr)
                return 1
            report = added.report
            report.errors[:0] = added.rejected
        else:
            report = services.material.reindex(progress=progress)
    finally:
        progress.close()
        services.close()
    print(
        f"新增 {len(report.added)}，更新 {len(report.updated)}，未变 {len(report.unchanged)}，"
        f"删除 {len(report.removed)}；写入 {report.chunks_written} 段；用时 {report.seconds:.1f} 秒。"
    )
    for notice in report.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for error in report.errors:
        print(f"⚠ {error}", file=sys.stderr)
    return 1 if report.errors else 0
