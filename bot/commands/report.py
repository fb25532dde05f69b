"""`salescoach report --csv [--out FILE] [--days N]`: per-rep, per-criterion practice scores over time.
`salescoach report gaps [--days 30] [--csv]`: what the material is missing, by topic (`bot/coach/gaps.py`).

Why CSV: managers open it in Excel/WPS and pivot by rep or skill themselves.
Written with a UTF-8 BOM when going to a file, so Excel shows the Chinese names.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

from bot.coach.gaps import DEFAULT_DAYS, gaps_text, since_days, write_gaps_csv
from bot.coach.team.summary import write_csv
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="导出练习成绩（每人、每项、按时间）；report gaps：资料里缺什么")
    parser.add_argument(
        "subject", nargs="?", choices=("scores", "gaps"), default="scores",
        help="scores：练习成绩（默认，需要 --csv）；gaps：没答上、只答了部分、👎 的问题按话题归类",
    )
    parser.add_argument("--csv", action="store_true", help="以 CSV 格式导出")
    parser.add_argument("--out", type=Path, help="写入这个文件（默认输出到屏幕）")
    parser.add_argument("--days", type=float, default=None, help=f"只看最近 N 天（成绩默认全部，gaps 默认 {DEFAULT_DAYS} 天）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.subject == "gaps":
        return run_gaps(args, settings)
    lang = settings.language
    args.days = args.days or 0
    if not args.csv:
        print(t("manager.cli_report_need_csv", lang), file=sys.stderr)
        return 2
    since = time.time() - args.days * 86400 if args.days > 0 else 0.0
    services = Services.build(settings)
    try:
        rows = services.team.score_rows(lang, since)
    finally:
        services.close()
    count = _write_csv(args.out, lambda handle: write_csv(rows, handle))
    if args.out is not None:
        print(t("manager.cli_report_written", lang, rows=count, path=args.out) if count else t("manager.cli_report_empty", lang))
    return 0


def run_gaps(args: argparse.Namespace, settings: Settings) -> int:
    """The gaps report: readable text on screen, or one CSV row per topic."""
    lang = settings.language
    days = DEFAULT_DAYS if args.days is None else args.days
    services = Services.build(settings)
    try:
        report = services.gaps.report(since_days(days))
    finally:
        services.close()
    if not args.csv:
        text = gaps_text(report, lang, days, limit=len(report.gaps) or 1)
        if args.out is None:
            print(text)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text + "\n", encoding="utf-8")
        return 0
    count = _write_csv(args.out, lambda handle: write_gaps_csv(report, handle))
    if args.out is not None:
        print(t("manager.cli_gaps_written", lang, rows=count, path=args.out))
    return 0


def _write_csv(out: Path | None, write: Callable[[TextIO], int]) -> int:
    """Rows to standard output, or to `out` with a BOM so Excel reads the Chinese; returns the row count."""
    if out is None:
        return write(sys.stdout)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        return write(handle)
