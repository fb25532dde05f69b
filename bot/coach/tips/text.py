"""Daily tips as words, shared by the terminal and Telegram (Telegram adds only HTML and buttons).

A card is a list of `Block(style, text)`: "b" bold, "i" italic, "" plain. The
words come from `prompts/ui/tips.yaml` in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.coach.criteria import Criteria
from bot.coach.tips.bank import TipBank
from bot.coach.tips.service import TipCard, TipService
from bot.coach.tips.timezones import local_now, next_push
from bot.llm.prompts import t
from bot.store.subscriptions import Subscription


@dataclass(frozen=True)
class Block:
    style: str  # "b" | "i" | ""
    text: str


def card_blocks(card: TipCard, lang: str, service: TipService, revealed: bool = True) -> list[Block]:
    """The tip as the rep reads it. A quiz tip shows only the question (and a hint) until revealed."""
    tip = card.tip
    blocks = [Block("b", t("tips.heading_quiz" if tip.quiz else "tips.heading", lang, topic=card.topic_label))]
    if tip.quiz:
        blocks.append(Block("", tip.quiz.question))
    if tip.quiz is not None and not revealed:
        blocks.append(Block("i", t("tips.quiz_hint", lang)))
        return blocks
    if tip.quiz:
        blocks.append(Block("b", t("tips.quiz_answer", lang, answer=tip.quiz.answer)))
    blocks.append(Block("", tip.text))
    if card.criterion:
        blocks.append(Block("", t("tips.weak_focus", lang, criterion=service.criterion_label(card.criterion, lang))))
    blocks.append(Block("i", t("tips.source", lang, title=card.source.title, location=card.source.location).rstrip()))
    return blocks


def card_lines(card: TipCard, lang: str, service: TipService) -> list[str]:
    """The terminal's view of a card: the rep's words, then why it was chosen and what to practise."""
    lines = [b.text for b in card_blocks(card, lang, service)]
    lines[0] = t("tips.cli_heading", lang, heading=lines[0], id=card.tip.id)  # the manager looks tips up by id
    if not card.criterion:
        lines.append(t("tips.cli_rotation", lang))
    if card.scenario:
        lines.append(t("tips.cli_practice", lang, scenario=card.scenario))
    return lines


def next_push_text(sub: Subscription, now: datetime, lang: str) -> str:
    """'明天 09:00' — the next push in the subscriber's own zone."""
    upcoming = next_push(now, sub.at, sub.zone, sub.user_id, sub.weekdays_only)
    local = upcoming.astimezone(local_now(now, sub.zone).tzinfo)
    today = local_now(now, sub.zone).date()
    hhmm = f"{sub.at.hour:02d}:{sub.at.minute:02d}"
    if local.date() == today:
        return t("tips.next_today", lang, time=hhmm)
    if local.date() == today + timedelta(days=1):
        return t("tips.next_tomorrow", lang, time=hhmm)
    return t("tips.next_date", lang, date=local.date().isoformat(), time=hhmm)


def subscribed_text(sub: Subscription, now: datetime, lang: str) -> str:
    return t(
        "tips.subscribed",
        lang,
        time=f"{sub.at.hour:02d}:{sub.at.minute:02d}",
        zone=sub.zone,
        days=t("tips.days_weekdays" if sub.weekdays_only else "tips.days_every", lang),
        next=next_push_text(sub, now, lang),
    )


def coverage_lines(bank: TipBank, criteria: Criteria | None, lang: str) -> list[str]:
    """`salescoach tips check`: how many tips each topic, rubric criterion and scenario has."""
    cov = bank.coverage()
    lines = ["", t("tips.check_by_topic", lang)]
    for topic in bank.topics:
        n = cov["topic"].get(topic, 0)
        flag = t("tips.check_topic_empty", lang) if n == 0 else ""
        lines.append(f"  {t('tips.check_topic_count', lang, n=n, quiz=cov['quiz'].get(topic, 0))}  {topic:<16}{bank.topic_label(topic)}{flag}")
    if criteria:
        lines += ["", t("tips.check_by_criterion", lang)]
        for cid in criteria:
            n = cov["criteria"].get(cid, 0)
            flag = t("tips.check_criterion_empty", lang) if n == 0 else ""
            lines.append(f"  {t('tips.check_count', lang, n=n)}  {cid:<20}{criteria.name(cid, lang)}{flag}")
    if cov["scenario"]:
        lines += ["", t("tips.check_by_scenario", lang)]
        lines += [f"  {sid:<24}{t('tips.check_count', lang, n=n)}" for sid, n in sorted(cov["scenario"].items())]
    return lines
