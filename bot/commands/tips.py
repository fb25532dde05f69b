"""`salescoach tip [--user ID]` and `salescoach tips check`: the daily tips from the terminal.

Why both: a manager editing knowledge/tips/ wants to know at once whether the
bank is valid and which topics and rubric criteria it covers (`tips check`);
anyone wants to see what a rep will get tomorrow without waiting (`tip`).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from bot.coach.tips.service import TipCard, TipService, build_tip_service
from bot.coach.tips.sources import SourceResolver
from bot.coach.criteria import Criteria, criteria_or_none
from bot.coach.tips.bank import TipBank, load_bank_for
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


def card_lines(card: TipCard, service: TipService) -> list[str]:
    tip = card.tip
    lines = [f"💡 每日一条 · {card.topic_label}（{tip.id}）"]
    if tip.quiz:
        lines += [f"❓ {tip.quiz.question}", f"答案：{tip.quiz.answer}"]
    lines.append(tip.text)
    lines.append(f"📖 出处：《{card.source.title}》{card.source.location}".rstrip())
    if card.criterion:
        lines.append(f"🎯 针对薄弱项：{service.criterion_label(card.criterion)}（{card.criterion}）")
    else:
        lines.append("🔁 按主题轮换选出")
    if card.scenario:
        lines.append(f"🎭 练一练：场景 {card.scenario}")
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    services = Services.build(settings)
    try:
        service = build_tip_service(settings, services.db, services.knowledge)
        card = service.peek(args.user, datetime.now(timezone.utc))
        if card is None:
            print("提示库是空的：请检查 knowledge/tips/（salescoach tips check）。")
            return 1
        if args.json:
            print(json.dumps(_card_json(card), ensure_ascii=False, indent=2))
        else:
            print("\n".join(card_lines(card, service)))
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


def coverage_lines(bank: TipBank, criteria: Criteria | None) -> list[str]:
    cov = bank.coverage()
    lines = ["", "按主题："]
    for topic in bank.topics:
        n = cov["topic"].get(topic, 0)
        flag = "  ⚠ 没有提示" if n == 0 else ""
        lines.append(f"  {n:>3} 条（测验 {cov['quiz'].get(topic, 0)}）  {topic:<16}{bank.topic_label(topic)}{flag}")
    if criteria:
        lines += ["", "按评分维度（knowledge/scenarios/criteria.yaml）："]
        for cid in criteria:
            n = cov["criteria"].get(cid, 0)
            flag = "  ⚠ 没有提示，薄弱项推送会落空" if n == 0 else ""
            lines.append(f"  {n:>3} 条  {cid:<20}{criteria.name(cid)}{flag}")
    if cov["scenario"]:
        lines += ["", "关联练习场景："]
        lines += [f"  {sid:<24}{n:>3} 条" for sid, n in sorted(cov["scenario"].items())]
    return lines


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    bank = load_bank_for(settings.knowledge_dir)
    services = Services.build(settings)
    try:
        indexed = not services.knowledge.is_empty()  # quotes are located in the indexed chunks
        resolver = SourceResolver(services.knowledge, settings.sources_dir)
        unresolved = [t.id for t in bank.tips if not resolver.resolve(t.source).location] if indexed else []
    finally:
        services.close()
    for issue in bank.issues:
        print(issue)
    print(f"提示库：{settings.knowledge_dir / 'tips'}")
    print(f"有效提示 {len(bank.tips)} 条，错误 {len(bank.errors)} 个，提醒 {len(bank.warnings)} 个。")
    if not indexed:
        print("[提醒] 资料还没有导入索引，无法核对引文在资料中的位置（先运行 salescoach ingest）。")
    if unresolved:
        print(f"[提醒] 这些提示的引文在资料分块中定位不到位置（只显示标题）：{', '.join(unresolved)}")
    print("\n".join(coverage_lines(bank, criteria_or_none(settings.knowledge_dir / "scenarios"))))
    if bank.errors or not bank.tips:
        return 1
    if args.strict and (bank.warnings or unresolved):
        return 1
    return 0
