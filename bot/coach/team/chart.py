"""The /team picture: the team's average per rubric criterion, the weakest three highlighted.

Why a horizontal bar chart: criterion names are long Chinese phrases that read
well on the y axis, and the weakest skills stand out by colour at the top.
Reuses the CJK font set-up of the rep's progress chart; rendered with the
object API (no pyplot state), so it is safe in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib import patheffects, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.coach.practice.chart import TEXT_COLOUR, cjk_font_family

WEAK_COLOUR = "#d9480f"
OTHER_COLOUR = "#74c0fc"
GRID_COLOUR = "#dee2e6"


@dataclass(frozen=True)
class TeamBar:
    name: str
    average: float  # 0–100
    weak: bool


def render_team_chart(bars: list[TeamBar], title: str, axis_label: str, weak_label: str) -> bytes:
    """A PNG of criterion averages, weakest first (top), weak ones in the highlight colour."""
    family = cjk_font_family()
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False}
    height = 1.6 + 0.45 * max(len(bars), 1)
    figure = Figure(figsize=(8.5, height), dpi=110, facecolor="white")
    FigureCanvasAgg(figure)
    with rc_context(rc):
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
        figure.tight_layout(pad=1.2)
        figure.canvas.draw()
        stroke = [patheffects.withStroke(linewidth=0.6, foreground=TEXT_COLOUR)]  # thin variable CJK font
        for text in figure.findobj(match=Text):
            if text.get_text():
                text.set_path_effects(stroke)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
