"""`salescoach` command line: wires sub-commands, nothing else.

Each sub-command lives in `bot/commands/<name>.py` and exposes
`register(subparsers)`, which adds its parser and sets `func=run`, where
`run(args, settings) -> int` returns the exit code. A new command: write the
module and list it in `COMMANDS`. Command modules import heavy libraries inside
`run`, so `salescoach --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.commands import ask, bot, chat, config, hints, ingest, practice, report, search, sources, start, tips, transcribe
from bot.settings import Settings, SettingsError, StartupError

COMMANDS = (start, ingest, search, ask, chat, bot, practice, transcribe, tips, sources, hints, report, config)  # the order of --help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salescoach",
        description="客情教练：基于公司资料的销售教练（问答、角色扮演练习、每日一条）。",
    )
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for command in COMMANDS:
        command.register(sub)
    return parser


def readable(arg: str) -> str:
    """An argument as text: bytes that were not UTF-8 (kept by the OS as surrogates) become �."""
    return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):  # invalid UTF-8 in or out becomes �, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    parser = build_parser()
    args = parser.parse_args([readable(a) for a in (sys.argv[1:] if argv is None else argv)])
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO) if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args, settings) or 0)
    except StartupError as exc:  # damaged files and the like: what to do, not a traceback
        print(f"⚠ {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n已退出。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
