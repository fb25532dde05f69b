"""`salescoach practice [ID] [--json] [--offline]`: role-play a scenario in the terminal.

Without an ID it lists the scenarios by topic and difficulty (and any scenario
files that failed to load, so a manager sees their mistakes). With an ID it
plays the scenario interactively; when stdin is piped, each line is one turn of
the rep, so a manager can dry-run a scenario with a script and `--json` to get
the score card as JSON. With `--voice-dir DIR` the rep's turns are the audio files in DIR (in
name order, 1.ogg before 10.ogg): each is transcribed, shown as "🎙 听到：…" and played like a typed
line, so a manager can check voice role-play without Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from bot.coach.practice.scoring import ScoreCard
from bot.coach.practice.session import PracticeService, PracticeSession, UnknownScenario
from bot.coach.practice.text import brief_text, card_text, outcome_text, scenario_list
from bot.coach.voice import heard_text, spoken_turns_text
from bot.commands.progress import ensure_index
from bot.commands.transcribe import hear_file, load_speech
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings

END_COMMANDS = {"/end", "/结束", "结束"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("practice", help="角色扮演练习：和模拟客户对话，按评分标准打分")
    parser.add_argument("scenario", nargs="?", help="场景 ID；不填则列出全部场景")
    parser.add_argument("--json", action="store_true", help="结束后输出评分 JSON（配合管道输入台词做演练）")
    parser.add_argument("--offline", action="store_true", help="即使配置了模型，也用离线剧本客户和离线评分")
    parser.add_argument("--voice-dir", type=Path, metavar="DIR", help="业务员的台词来自这个文件夹里的录音（按文件名顺序，每个文件一句）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    services = Services.build(settings)
    try:
        return asyncio.run(_run(args, settings, services, sys.stdin, sys.stdout, sys.stderr))
    finally:
        services.close()


async def _run(args: argparse.Namespace, settings: Settings, services: Services, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    lang = settings.language
    practice = services.practice
    if not args.scenario:
        print(scenario_list(practice.catalog, lang), file=out)
        if practice.catalog.scenarios:
            print("\n" + t("practice.list_hint", lang), file=out)
        return 1 if practice.catalog.errors and not practice.catalog.scenarios else 0
    if practice.catalog.get(args.scenario) is None:
        print(t("practice.unknown_scenario", lang, id=args.scenario), file=err)
        print(scenario_list(practice.catalog, lang), file=err)
        return 2
    ensure_index(services, lang, err)  # citations point at the indexed material
    try:
        session = practice.start(args.scenario, "offline" if args.offline else None)
    except UnknownScenario:  # pragma: no cover - checked above
        return 2
    # With --json the conversation goes to stderr so stdout carries only the JSON.
    talk = err if args.json else out
    if getattr(args, "voice_dir", None):  # (callers that build the Namespace themselves may leave it out)
        files = voice_files(args.voice_dir)
        if not files:
            print(t("voice.no_files", lang, dir=args.voice_dir), file=err)
            return 2
        turns = spoken_lines(services, practice.speech_terms(session.scenario_id), files, talk, lang)
        card = await converse(practice, session, turns, talk, lang, interactive=False, spoken=True)
    else:
        interactive = stdin.isatty()
        card = await converse(practice, session, typed_lines(stdin, talk, lang, interactive), talk, lang, interactive=interactive)
    if card is not None and session.spoken:
        print(spoken_turns_text(session.spoken, lang), file=talk)
    if card is None:
        print(t("practice.no_turns", lang), file=talk)
        if args.json:
            print(json.dumps({"scenario_id": session.scenario_id, "total": None, "turns": 0}, ensure_ascii=False), file=out)
        return 0
    if args.json:
        data = {**card.as_dict(), "spoken_turns": session.spoken}
        if not card.acts:  # a card made without recognition (e.g. an old one): recognise now, the report is per turn
            scenario = practice.scenario(session.scenario_id)
            data["acts"] = [a.as_dict() for a in practice.scorer.acts(scenario, session.rep_turns)]
        if session.llm_steps:  # how often each LLM step fell back to the offline one
            data["llm_steps"] = dict(session.llm_steps)
        print(json.dumps(data, ensure_ascii=False, indent=2), file=out)
    else:
        print("\n" + card_text(card, lang), file=out)
    return 0


def voice_files(folder: Path) -> list[Path]:
    """Audio files in `folder`, in natural name order (2.ogg before 10.ogg)."""
    if not folder.is_dir():
        return []
    key = lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p.name)]  # noqa: E731
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=key)


async def typed_lines(stdin: TextIO, out: TextIO, lang: str, interactive: bool) -> AsyncIterator[str]:
    """The rep's lines from stdin: one turn per line, until EOF or /end."""
    while True:
        if interactive:
            out.write(t("practice.rep_prompt", lang))
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return
        line = line.strip()
        if line in END_COMMANDS:
            return
        if line:
            yield line


async def spoken_lines(services: Services, terms: list[str], files: list[Path], out: TextIO, lang: str) -> AsyncIterator[str]:
    """The rep's lines from audio files: each transcribed and shown; a file nothing was heard in is skipped."""
    load_speech(services, out)
    for path in files:
        heard = await asyncio.to_thread(hear_file, services, path, terms)
        print(f"{path.name}: {heard_text(heard, lang, services.settings)}", file=out, flush=True)
        if heard.transcript is not None:
            yield heard.text


async def converse(
    practice: PracticeService,
    session: PracticeSession,
    lines: AsyncIterator[str],
    out: TextIO,
    lang: str,
    *,
    interactive: bool,
    spoken: bool = False,
) -> ScoreCard | None:
    """Run the conversation until the customer ends it, the rep ends it, or the lines run out."""
    scenario = practice.scenario(session.scenario_id)
    name = scenario.persona.name
    print(brief_text(scenario, lang), file=out)
    print(t(f"practice.mode_{session.mode}", lang), file=out)
    print(t("practice.how_to_terminal", lang) + "\n", file=out)
    print(t("practice.customer_line", lang, name=name, text=scenario.opening), file=out, flush=True)
    async for line in lines:
        if not interactive:
            print(t("practice.rep_prompt", lang) + line, file=out)
        turn = await practice.reply(session, line, spoken=spoken)
        print(t("practice.customer_line", lang, name=name, text=turn.text), file=out, flush=True)
        if session.ended:
            break
    if not session.rep_turns:
        return None
    card = await practice.finish(session)
    print(outcome_text(session.state.outcome, lang), file=out)
    if session.state.compliance_failed:
        print(t("practice.notice_compliance_failed", lang), file=out)
    for notice in session.notices:
        print(t(f"practice.notice_{notice}", lang), file=out)
    return card
