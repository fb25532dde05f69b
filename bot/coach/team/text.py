"""The manager's team view as words (/team in Telegram); the terminal's CSV carries the same names."""

from __future__ import annotations

from bot.coach.team.summary import TeamSummary
from bot.llm.prompts import t


def team_text(summary: TeamSummary, names: dict[str, str], lang: str) -> str:
    """Activity this week, the average per criterion (weakest marked), and who has gone quiet."""
    lines = [t("manager.team_heading", lang), t("manager.team_activity", lang, active=len(summary.active_reps), sessions=summary.sessions)]
    if summary.active_reps:
        lines.append(t("manager.team_active_names", lang, names="、".join(summary.active_reps)))
    if summary.averages:
        lines += ["", t("manager.team_averages_heading", lang)]
        for a in summary.averages:
            marker = t("manager.team_weak_marker" if a.criterion_id in summary.weakest else "manager.team_ok_marker", lang)
            name = names.get(a.criterion_id, a.criterion_id)
            lines.append(t("manager.team_average_item", lang, marker=marker, name=name, average=a.average_pct, sessions=a.sessions, users=a.users))
        if summary.weakest:
            lines.append(t("manager.team_weakest", lang, names="、".join(names.get(c, c) for c in summary.weakest)))
    else:
        lines.append(t("manager.team_no_practice", lang))
    lines += ["", t("manager.team_idle_heading", lang)]
    for rep in summary.idle:
        if rep.last_practice is None:
            lines.append(t("manager.team_idle_never", lang, name=rep.name))
        else:
            day = rep.last_practice.astimezone().strftime("%Y-%m-%d")
            lines.append(t("manager.team_idle_since", lang, name=rep.name, date=day))
    if not summary.idle:
        lines.append(t("manager.team_idle_none", lang))
    return "\n".join(lines)
