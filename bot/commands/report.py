"""`salescoach report --csv [--out FILE] [--days N]`: per-rep, per-criterion practice scores over time.

Why CSV: managers open it in Excel/WPS and pivot by rep or skill themselves.
Written with a UTF-8 BOM when going to a file, so Excel shows the Chinese names.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.coach.team.summary import write_csv
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="导出练习成绩（每人、每项、按时间）")
    parser.add_argument("--csv", action="store_true", help="以 CSV 格式导出")
    parser.add_argument("--out", type=Path, help="写入这个文件（默认输出到屏幕）")
    parser.add_argument("--days", type=float, default=0, help="只导出最近 N 天（默认全部）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.language
    if not args.csv:
        print(t("manager.cli_report_need_csv", lang), file=sys.stderr)
        return 2
    since = time.time() - args.days * 86400 if args.days > 0 else 0.0
    services = Services.build(settings)
    try:
        rows = services.team.score_rows(lang, since)
    finally:
        services.close()
    if args.out is None:
        write_csv(rows, sys.stdout)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8-sig", newline="") as handle:
        count = write_csv(rows, handle)
    print(t("manager.cli_report_written", lang, rows=count, path=args.out) if count else t("manager.cli_report_empty", lang))
    return 0
