"""`salescoach start`: the one command a newcomer runs.

Indexes the material on first use, then starts the Telegram bot when
TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat.
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("start", help="开始使用：有 TELEGRAM_BOT_TOKEN 就启动机器人，否则进入终端对话")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token:
        from bot.commands import bot as bot_command

        return bot_command.run(args, settings)
    print("未设置 TELEGRAM_BOT_TOKEN，进入终端对话（设置后再运行即启动 Telegram 机器人）。", file=sys.stderr)
    from bot.commands import chat

    return chat.run(argparse.Namespace(**{**vars(args), "json": False}), settings)
