"""Practice results as text, shared by the terminal and Telegram front ends.

The coach layer returns structured objects (Scenario, ScoreCard); this module
turns them into reader-facing lines through `bot.llm.prompts.t`. Telegram passes an
`esc` (HTML escaping) and a `bold` wrapper; the terminal uses plain text.
"""

from __future__ import annotations

from typing import Callable, Iterable

from bot.coach.practice.scenarios import Scenario, ScenarioCatalog
from bot.coach.practice.scoring import ScoreCard
from bot.coach.types import Citation
from bot.llm.prompts import t

Fmt = Callable[[str], str]


def _same(text: str) -> str:
    return text


def citation_text(citation: Citation, lang: str) -> str:
    """《标题》第 66 页; without a location (material not indexed yet) the quote itself says where to look."""
    if not citation.location:
        return t("practice.citation_quote", lang, title=citation.title, quote=citation.text)
    return t("practice.citation", lang, title=citation.title, location=citation.location).strip()


def citations_text(citations: Iterable[Citation], lang: str) -> str:
    return t("practice.citation_separator", lang).join(citation_text(c, lang) for c in citations)


def scenario_list(catalog: ScenarioCatalog, lang: str) -> str:
    """All scenarios grouped by topic, easiest first, plus the files that failed to load."""
    if not catalog.scenarios:
        lines = [t("practice.list_empty", lang)]
    else:
        lines = [t("practice.list_heading", lang)]
        for topic, scenarios in catalog.by_topic().items():
            lines.append(t("practice.list_topic", lang, topic=topic))
            lines += [t("practice.list_item", lang, id=s.id, difficulty=s.difficulty, title=s.title) for s in scenarios]
    if catalog.errors:
        lines += ["", t("practice.list_errors", lang)] + [f"  {e}" for e in catalog.errors]
    return "\n".join(lines)


def brief_text(scenario: Scenario, lang: str, esc: Fmt = _same) -> str:
    p = scenario.persona
    return t(
        "practice.brief",
        lang,
        title=esc(scenario.title),
        topic=esc(scenario.topic),
        difficulty=esc(scenario.difficulty),
        situation=esc(scenario.brief.situation),
        goal=esc(scenario.brief.goal),
        name=esc(p.name),
        role=esc(p.role),
        company=esc(p.company),
    )


def outcome_text(outcome: str, lang: str) -> str:
    return t(f"practice.outcome_{outcome}", lang) if outcome else ""


def _rule_place(citation: Citation, lang: str) -> str:
    """Where a red line's rule is: 《标题》第 84 页, or only the title; its words are already on the card's line."""
    if citation.location:
        return citation_text(citation, lang)
    return t("practice.citation", lang, title=citation.title, location="").strip()


def card_text(card: ScoreCard, lang: str, esc: Fmt = _same, bold: Fmt = _same) -> str:
    """Total, each criterion with what was done and missing, then the two most valuable improvements."""
    sep = t("practice.item_separator", lang)
    lines = [bold(t("practice.card_heading", lang, total=card.total, title=esc(card.title)))]
    for r in card.red_lines:  # a red line leads the card, with the rule it breaks
        cited = _rule_place(r.citation, lang) if r.citation else r.line.rule.doc
        lines.append(bold(t("practice.card_red_line", lang, name=esc(r.name_in(lang)), said=esc(r.evidence),
                            rule=esc(r.line.rule.quote), citation=esc(cited), cap=20)))
    if card.notice:
        lines.append(t(f"practice.notice_{card.notice}", lang))
    for c in card.criteria:
        lines.append(t("practice.card_criterion", lang, name=esc(c.name_in(lang)), points=_points(c.points), weight=c.weight))
        if c.done_well:
            lines.append(t("practice.card_done", lang, items=esc(sep.join(c.done_well))))
        if c.missing:
            lines.append(t("practice.card_missing", lang, items=esc(sep.join(c.missing))))
    improvements = card.improvements
    lines.append("")
    if not improvements:
        lines.append(t("practice.card_perfect", lang))
        return "\n".join(lines)
    lines.append(bold(t("practice.card_improve_heading", lang)))
    for n, c in enumerate(improvements, start=1):
        lines.append(t("practice.card_improve", lang, n=n, name=esc(c.name_in(lang)), lost=_points(c.lost), good=esc(c.good)))
        lines.append(t("practice.card_better", lang, reply=esc(c.better_reply)))
        if c.citations:
            lines.append(t("practice.card_read", lang, citations=esc(citations_text(c.citations, lang))))
    return "\n".join(lines)


def _points(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
