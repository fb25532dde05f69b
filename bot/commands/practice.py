"""`salescoach practice [ID] [--json] [--offline]`: role-play a scenario in the terminal.

Without an ID it lists the scenarios by topic and difficulty (and any scenario
files that failed to load, so a manager sees their mistakes). With an ID it
plays the scenario interactively; when stdin is piped, each line is one turn of
the rep, so a manager can dry-run a scenario with a script and `--json` to get
the score card as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TextIO

from bot.coach.practice.scoring import ScoreCard
from bot.coach.practice.session import PracticeService, PracticeSession, UnknownScenario
from bot.coach.practice.text import brief_text, card_text, outcome_text, scenario_list
from bot.commands.progress import ensure_index
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings

END_COMMANDS = {"/end", "/结束", "结束"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("practice", help="角色扮演练习：和模拟客户对话，按评分标准打分")
    parser.add_argument("scenario", nargs="?", help="场景 ID；不填则列出全部场景")
    parser.add_argument("--json", action="store_true", help="结束后输出评分 JSON（配合管道输入台词做演练）")
    parser.add_argument("--offline", action="store_true", help="即使配置了模型，也用离线剧本客户和离线评分")
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
    card = await converse(practice, session, stdin, talk, lang, interactive=stdin.isatty())
    if card is None:
        print(t("practice.no_turns", lang), file=talk)
        if args.json:
            print(json.dumps({"scenario_id": session.scenario_id, "total": None, "turns": 0}, ensure_ascii=False), file=out)
        return 0
    if args.json:
        data = card.as_dict()
        if not card.acts:  # a card made without recognition (e.g. an old one): recognise now, the report is per turn
            scenario = practice.scenario(session.scenario_id)
            data["acts"] = [a.as_dict() for a in practice.scorer.acts(scenario, session.rep_turns)]
        if session.llm_steps:  # how often each LLM step fell back to the offline one
            data["llm_steps"] = dict(session.llm_steps)
        print(json.dumps(data, ensure_ascii=False, indent=2), file=out)
    else:
        print("\n" + card_text(card, lang), file=out)
    return 0


async def converse(
    practice: PracticeService, session: PracticeSession, stdin: TextIO, out: TextIO, lang: str, *, interactive: bool
) -> ScoreCard | None:
    """Run the conversation until the customer ends it, the rep types /end, or input runs out."""
    scenario = practice.scenario(session.scenario_id)
    name = scenario.persona.name
    print(brief_text(scenario, lang), file=out)
    print(t(f"practice.mode_{session.mode}", lang), file=out)
    print(t("practice.how_to_terminal", lang) + "\n", file=out)
    print(t("practice.customer_line", lang, name=name, text=scenario.opening), file=out, flush=True)
    while not session.ended:
        if interactive:
            out.write(t("practice.rep_prompt", lang))
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        if line in END_COMMANDS:
            break
        if not interactive:
            print(t("practice.rep_prompt", lang) + line, file=out)
        turn = await practice.reply(session, line)
        print(t("practice.customer_line", lang, name=name, text=turn.text), file=out, flush=True)
    if not session.rep_turns:
        return None
    card = await practice.finish(session)
    print(outcome_text(session.state.outcome, lang), file=out)
    if session.state.compliance_failed:
        print(t("practice.notice_compliance_failed", lang), file=out)
    for notice in session.notices:
        print(t(f"practice.notice_{notice}", lang), file=out)
    return card
