"""The /team picture: the team's average per rubric criterion, the weakest three highlighted.

Why a horizontal bar chart: criterion names are long Chinese phrases that read
well on the y axis, and the weakest skills stand out by colour at the top.
Drawn with the shared chart set-up (`bot.coach.charts`: CJK font, no pyplot state).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.coach.charts import GRID_COLOUR, TEXT_COLOUR, chart
from bot.coach.team.summary import TeamSummary
from bot.llm.prompts import t

WEAK_COLOUR = "#d9480f"
OTHER_COLOUR = "#74c0fc"


@dataclass(frozen=True)
class TeamBar:
    name: str
    average: float  # 0–100
    weak: bool


def render_team_chart(bars: list[TeamBar], title: str, axis_label: str, weak_label: str) -> bytes:
    """A PNG of criterion averages, weakest first (top), weak ones in the highlight colour."""
    height = 1.6 + 0.45 * max(len(bars), 1)
    with chart(8.5, height, tight_pad=1.2) as (figure, buffer):
        ax = figure.add_subplot(1, 1, 1)
        ys = list(range(len(bars)))
        colours = [WEAK_COLOUR if b.weak else OTHER_COLOUR for b in bars]
        ax.barh(ys, [b.average for b in bars], color=colours, height=0.6)
        for y, bar in zip(ys, bars):
            label = f"{bar.average:.0f}" + (f"  {weak_label}" if bar.weak else "")
            ax.annotate(label, (bar.average, y), textcoords="offset points", xytext=(4, -3), fontsize=9, color=TEXT_COLOUR)
        ax.set_yticks(ys)
        ax.set_yticklabels([b.name for b in bars], fontsize=10)
        ax.set_xlim(0, 110)
        ax.invert_yaxis()
        ax.set_xlabel(axis_label, fontsize=10)
        ax.set_title(title, fontsize=13, color=TEXT_COLOUR)
        ax.grid(axis="x", color=GRID_COLOUR)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return buffer.getvalue()


def team_chart(summary: TeamSummary, names: dict[str, str], lang: str) -> bytes:
    """The /team picture for this summary, labelled in the reader's language."""
    bars = [TeamBar(names.get(a.criterion_id, a.criterion_id), a.average_pct, a.criterion_id in summary.weakest) for a in summary.averages]
    return render_team_chart(bars, t("manager.team_chart_title", lang), t("manager.team_chart_axis", lang), t("manager.team_chart_weak", lang))
