"""`salescoach tip [--user ID]` and `salescoach tips check`: the daily tips from the terminal.

Why both: a manager editing knowledge/tips/ wants to know at once whether the
bank is valid and which topics and rubric criteria it covers (`tips check`);
anyone wants to see what a rep will get tomorrow without waiting (`tip`).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from bot.coach.criteria import criteria_or_none
from bot.coach.tips.bank import load_bank_for
from bot.coach.tips.service import TipCard
from bot.coach.tips.text import card_lines, coverage_lines
from bot.llm.prompts import t
from bot.services import Services
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    tip = sub.add_parser("tip", help="显示某位销售下一条会收到的每日提示")
    tip.add_argument("--user", type=int, default=0, help="Telegram 用户 ID（默认 0：没有历史的新用户）")
    tip.add_argument("--json", action="store_true", help="以 JSON 输出")
    tip.set_defaults(func=run)
    tips = sub.add_parser("tips", help="每日提示库：tips check 校验并统计覆盖")
    tips_sub = tips.add_subparsers(dest="tips_command", metavar="子命令")
    check = tips_sub.add_parser("check", help="校验 knowledge/tips/ 并按主题、评分维度统计覆盖")
    check.add_argument("--strict", action="store_true", help="有提醒（warning）也返回非零")
    check.set_defaults(func=run_check)
    tips.set_defaults(func=_tips_help(tips))


def _tips_help(parser: argparse.ArgumentParser):  # noqa: ANN202 - a command function
    def show(args: argparse.Namespace, settings: Settings) -> int:
        parser.print_help()
        return 2

    return show


# ---- salescoach tip ----------------------------------------------------------------------------


def run(args: argparse.Namespace, settings: Settings) -> int:
    services = Services.build(settings)
    try:
        service = services.tips
        card = service.peek(args.user, datetime.now(timezone.utc))
        if card is None:
            print(t("tips.cli_bank_empty", settings.language))
            return 1
        if args.json:
            print(json.dumps(_card_json(card), ensure_ascii=False, indent=2))
        else:
            print("\n".join(card_lines(card, settings.language, service)))
        return 0
    finally:
        services.close()


def _card_json(card: TipCard) -> dict[str, object]:
    tip = card.tip
    return {
        "id": tip.id,
        "topic": tip.topic,
        "text": tip.text,
        "source": {"doc": tip.source.doc, "title": card.source.title, "location": card.source.location, "quote": tip.source.quote},
        "criteria": list(tip.criteria),
        "scenario": card.scenario,
        "quiz": {"question": tip.quiz.question, "answer": tip.quiz.answer} if tip.quiz else None,
        "reason": card.reason,
        "criterion": card.criterion,
    }


# ---- salescoach tips check ---------------------------------------------------------------------


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    bank = load_bank_for(settings.knowledge_dir)
    services = Services.build(settings)
    try:
        indexed = not services.knowledge.is_empty()  # quotes are located in the indexed chunks
        resolver = services.tips.resolver
        unresolved = [tip.id for tip in bank.tips if not resolver.resolve(tip.source).location] if indexed else []
    finally:
        services.close()
    lang = settings.language
    for issue in bank.issues:
        print(issue)
    print(t("tips.check_folder", lang, folder=settings.knowledge_dir / "tips"))
    print(t("tips.check_counts", lang, tips=len(bank.tips), errors=len(bank.errors), warnings=len(bank.warnings)))
    if not indexed:
        print(t("tips.check_not_indexed", lang))
    if unresolved:
        print(t("tips.check_unresolved", lang, ids=", ".join(unresolved)))
    print("\n".join(coverage_lines(bank, criteria_or_none(settings.knowledge_dir / "scenarios"), lang)))
    if bank.errors or not bank.tips:
        return 1
    if args.strict and (bank.warnings or unresolved):
        return 1
    return 0
