"""`salescoach start`: the one command a newcomer runs.

Indexes the material on first use, then starts the Telegram bot when
TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat. It delegates to the
`bot` or `chat` command with that command's own default options.
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("start", help="开始使用：有 TELEGRAM_BOT_TOKEN 就启动机器人，否则进入终端对话")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.commands import bot as bot_command
    from bot.commands import chat as chat_command

    command = "bot" if settings.telegram_bot_token else "chat"
    if command == "chat":
        print("未设置 TELEGRAM_BOT_TOKEN，进入终端对话（设置后再运行即启动 Telegram 机器人）。", file=sys.stderr)
    parser = argparse.ArgumentParser(prog="salescoach")
    (bot_command if command == "bot" else chat_command).register(parser.add_subparsers())
    target = parser.parse_args([command])  # the command's own default options
    return int(target.func(target, settings) or 0)
