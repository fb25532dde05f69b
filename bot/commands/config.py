"""`salescoach config`: show the effective settings, secrets masked."""

from __future__ import annotations

import argparse

from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="显示当前配置（密钥已隐藏）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    for key, value in settings.describe().items():
        print(f"{key} = {value}")
    print(f"llm_enabled = {settings.llm_enabled}")
    return 0
