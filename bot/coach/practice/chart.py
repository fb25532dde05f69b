"""The /progress picture: a radar of the latest score per skill against the first attempt, and the trend of totals."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.coach.charts import GRID_COLOUR, TEXT_COLOUR, chart

FIRST_COLOUR = "#9aa5b1"
LATEST_COLOUR = "#d9480f"


@dataclass(frozen=True)
class ChartTexts:
    radar_title: str
    trend_title: str
    first: str
    latest: str
    axis_session: str
    axis_score: str


@dataclass(frozen=True)
class SkillPoint:
    """One criterion: its display name and first/latest score (0–100)."""

    name: str
    first: float
    latest: float


def render_progress(skills: list[SkillPoint], totals: list[int], texts: ChartTexts) -> bytes:
    """A PNG with the skills chart (radar, or bars when fewer than three skills) and the totals trend."""
    with chart(11, 5.2, tight_pad=1.6) as (figure, buffer):
        if len(skills) >= 3:
            left = figure.add_subplot(1, 2, 1, projection="polar")
            _radar(left, skills, texts)
        else:
            left = figure.add_subplot(1, 2, 1)
            _bars(left, skills, texts)
        right = figure.add_subplot(1, 2, 2)
        _trend(right, totals, texts)
    return buffer.getvalue()


def _radar(ax, skills: list[SkillPoint], texts: ChartTexts) -> None:
    n = len(skills)
    angles = [2 * math.pi * i / n for i in range(n)]
    closed = angles + angles[:1]
    for values, colour, label, fill in (
        ([s.first for s in skills], FIRST_COLOUR, texts.first, 0.10),
        ([s.latest for s in skills], LATEST_COLOUR, texts.latest, 0.18),
    ):
        ring = values + values[:1]
        ax.plot(closed, ring, color=colour, linewidth=2, label=label)
        ax.fill(closed, ring, color=colour, alpha=fill)
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles)
    ax.set_xticklabels([_wrap(s.name) for s in skills], fontsize=10, color=TEXT_COLOUR)
    ax.tick_params(axis="x", pad=14)
    ax.set_ylim(0, 100)
    ax.set_yticks([25, 50, 75, 100])
    ax.set_yticklabels(["25", "50", "75", "100"], fontsize=8, color="#868e96")
    ax.grid(color=GRID_COLOUR)
    ax.set_title(texts.radar_title, fontsize=13, pad=18, color=TEXT_COLOUR)
    ax.legend(loc="upper right", bbox_to_anchor=(1.25, 1.12), fontsize=9, frameon=False)


def _bars(ax, skills: list[SkillPoint], texts: ChartTexts) -> None:
    ys = list(range(len(skills)))
    ax.barh([y + 0.2 for y in ys], [s.first for s in skills], height=0.38, color=FIRST_COLOUR, label=texts.first)
    ax.barh([y - 0.2 for y in ys], [s.latest for s in skills], height=0.38, color=LATEST_COLOUR, label=texts.latest)
    ax.set_yticks(ys)
    ax.set_yticklabels([s.name for s in skills], fontsize=10)
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_title(texts.radar_title, fontsize=13, color=TEXT_COLOUR)
    ax.legend(fontsize=9, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _trend(ax, totals: list[int], texts: ChartTexts) -> None:
    xs = list(range(1, len(totals) + 1))
    ax.plot(xs, totals, color=LATEST_COLOUR, marker="o", linewidth=2)
    for x, y in zip(xs, totals):
        ax.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8, color=TEXT_COLOUR)
    ax.set_ylim(0, 105)
    ax.set_xlim(0.5, max(len(totals), 1) + 0.5)
    ax.set_xticks(xs if len(xs) <= 15 else xs[:: math.ceil(len(xs) / 15)])
    ax.set_xlabel(texts.axis_session, fontsize=10)
    ax.set_ylabel(texts.axis_score, fontsize=10)
    ax.set_title(texts.trend_title, fontsize=13, color=TEXT_COLOUR)
    ax.grid(axis="y", color=GRID_COLOUR)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _wrap(name: str, width: int = 9) -> str:
    """Long Chinese labels on two lines, broken at punctuation near the middle, so the radar stays readable."""
    if len(name) <= width:
        return name
    middle = len(name) / 2
    brackets = [i for i, ch in enumerate(name) if ch in "（(" and i > 1]
    commas = [i + 1 for i, ch in enumerate(name[:-1]) if ch in "，、 "]
    breaks = brackets or commas
    cut = min(breaks, key=lambda i: abs(i - middle)) if breaks else math.ceil(middle)
    return name[:cut].rstrip("，、 ") + "\n" + name[cut:].lstrip("，、 ")
