"""`salescoach ask "问题" [--json]` / `salescoach ask --voice FILE`: one grounded, cited answer in the terminal.

With `--voice` the question is a recorded voice note: what was heard is shown first ("🎙 听到：…",
in JSON as `heard`), then it is answered exactly like a typed question.

Also holds the small terminal helpers `chat` shares: indexing the material on
first use, streaming an answer to the screen, and the source list.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from bot.coach.types import Answer, AnswerDelta, Turn
from bot.commands.progress import ensure_index
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ask", help="根据资料回答一个问题（附出处）")
    parser.add_argument("question", nargs="*", help="问题，例如：客户收了礼品为什么关系没提升？")
    parser.add_argument("--voice", type=Path, metavar="FILE", help="用一条录音提问（ogg/mp3/m4a/wav…），先转成文字再回答")
    parser.add_argument("--json", action="store_true", help="输出 JSON：answer、citations、grounded、mode")
    parser.add_argument("--lang", choices=["zh", "en"], default=None, help="回答语言（默认取 SALESCOACH_LANGUAGE）")
    parser.set_defaults(func=run)


def render_sources(answer: Answer, lang: str) -> str:
    """The numbered source list under an answer (title + location)."""
    if not answer.citations:
        return ""
    lines = [t("answer.sources_heading", lang)]
    lines += [t("answer.source_line", lang, n=c.n, title=c.title, location=c.location) for c in answer.citations]
    return "\n".join(lines)


async def print_answer(
    services: Services, question: str, history: list[Turn], lang: str, out: TextIO
) -> Answer:
    """Stream the answer to `out` as it arrives; if the final text differs (fallback, decline), show it."""
    shown: list[str] = []
    final: Answer | None = None
    async for item in services.answers.stream(question, history, lang):
        if isinstance(item, AnswerDelta):
            out.write(item.text)
            out.flush()
            shown.append(item.text)
        else:
            final = item
    assert final is not None
    if final.text != "".join(shown):
        if shown:
            out.write("\n\n")
        if final.notice:
            out.write(final.notice + "\n")
        out.write(final.text)
    elif final.notice:  # streamed as it was: the notice (partly covered, cut short) still has to be read
        out.write("\n\n" + final.notice)
    out.write("\n")
    sources = render_sources(final, lang)
    if sources:
        out.write("\n" + sources + "\n")
    out.flush()
    return final


async def _close_llm(services: Services) -> None:
    llm = services.llm
    if llm is not None:
        await llm.aclose()


async def _ask(services: Services, question: str, lang: str, as_json: bool, heard: dict | None = None) -> int:
    try:
        if as_json:
            answer = await services.answers.answer(question, None, lang)
            out = answer.as_dict() if heard is None else {"heard": heard, **answer.as_dict()}
            print(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            await print_answer(services, question, [], lang, sys.stdout)
    finally:
        await _close_llm(services)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.coach.voice import heard_text
    from bot.commands.transcribe import hear_file, load_speech

    lang = args.lang or settings.language
    question = " ".join(args.question).strip()
    if bool(question) == bool(args.voice):
        print("请给一个问题，或者用 --voice 给一条录音（二选一）。", file=sys.stderr)
        return 2
    services = Services.build(settings)
    try:
        heard = None
        if args.voice:
            load_speech(services, sys.stderr)
            result = hear_file(services, args.voice)
            print(heard_text(result, lang, settings), file=sys.stderr if args.json else sys.stdout, flush=True)
            if result.transcript is None:
                return 1
            question, heard = result.text, result.transcript.as_dict()
        ensure_index(services, lang)
        return asyncio.run(_ask(services, question, lang, args.json, heard))
    finally:
        services.close()
