"""`salescoach chat`: a terminal conversation with follow-up questions.

Interactive on a terminal (prompt, streamed answers, /reset, /quit, Ctrl-D);
with stdin piped it reads one question per line and prints only the answers,
each followed by a blank line, so it can be scripted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.coach.types import Turn
from bot.commands.ask import _close_llm, print_answer
from bot.commands.progress import ensure_index
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings

QUIT_COMMANDS = frozenset({"/quit", "/exit", "/q", "/退出"})
RESET_COMMANDS = frozenset({"/reset", "/new", "/清空"})


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="在终端里和教练对话（可以追问；/reset 清空，/quit 退出）")
    parser.add_argument("--lang", choices=["zh", "en"], default=None, help="回答语言（默认取 SALESCOACH_LANGUAGE）")
    parser.set_defaults(func=run)


def _read_line(interactive: bool, prompt: str) -> str | None:
    """One line from the user, or None at end of input."""
    if interactive:
        try:
            return input(prompt)
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line if line else None


def trim_history(history: list[Turn], max_exchanges: int) -> list[Turn]:
    """Keep the last `max_exchanges` question/answer pairs (the prompt builder trims further by tokens)."""
    return history[-2 * max_exchanges :] if max_exchanges > 0 else []


async def _chat(services: Services, settings: Settings, lang: str, interactive: bool) -> int:
    history: list[Turn] = []
    out = sys.stdout
    if interactive:
        print(t("answer.chat_welcome", lang))
    try:
        while True:
            line = await asyncio.to_thread(_read_line, interactive, t("answer.chat_prompt", lang))
            if line is None:
                break
            question = line.strip()
            if not question:
                continue
            command = question.lower()
            if command in QUIT_COMMANDS:
                break
            if command in RESET_COMMANDS:
                history.clear()
                if interactive:
                    print(t("answer.chat_reset_done", lang))
                continue
            answer = await print_answer(services, question, history, lang, out)
            history = trim_history([*history, Turn("user", question), Turn("assistant", answer.text)],
                                   settings.history_turns)
            out.write("\n")
            out.flush()
    finally:
        await _close_llm(services)
    if interactive:
        print(t("answer.chat_bye", lang))
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = args.lang or settings.language
    interactive = sys.stdin.isatty()
    services = Services.build(settings)
    try:
        ensure_index(services, lang)
        return asyncio.run(_chat(services, settings, lang, interactive))
    finally:
        services.close()
