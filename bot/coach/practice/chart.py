"""The /progress picture: a radar of the latest score per skill against the first attempt, and the trend of totals.

Why matplotlib's object API (Figure + Agg canvas) and not pyplot: charts are
rendered in worker threads (`asyncio.to_thread`), and pyplot keeps global state.
Chinese labels need a CJK font: matplotlib's own fonts have no Chinese glyphs.
The installed `justmytype-intl-cjk` wheel ships Noto Sans SC as a variable font,
which matplotlib draws at its thinnest weight, so text gets a thin stroke of its
own colour to read like a regular weight. Labels arrive already translated.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

FIRST_COLOUR = "#9aa5b1"
LATEST_COLOUR = "#d9480f"
TEXT_COLOUR = "#212529"
GRID_COLOUR = "#dee2e6"


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


@lru_cache(maxsize=1)
def cjk_font_family() -> str | None:
    """Register Noto Sans SC from the justmytype-intl-cjk wheel once; its family name, or None if absent."""
    try:
        import justmytype_intl_cjk
    except ImportError:
        return None
    root = Path(justmytype_intl_cjk.__file__).parent
    candidates = sorted(root.rglob("NotoSansSC*.ttf")) or sorted(root.rglob("NotoSans*CJK*.ttf"))
    if not candidates:
        return None
    font_manager.fontManager.addfont(str(candidates[0]))
    # The variable font has one registered weight; matplotlib would warn about "normal" on every label.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return font_manager.FontProperties(fname=str(candidates[0])).get_name()


def _text_effects() -> list:
    # The variable CJK font renders hairline-thin; a same-colour stroke gives it a regular weight.
    return [patheffects.withStroke(linewidth=0.6, foreground=TEXT_COLOUR)]


def render_progress(skills: list[SkillPoint], totals: list[int], texts: ChartTexts) -> bytes:
    """A PNG with the skills chart (radar, or bars when fewer than three skills) and the totals trend."""
    family = cjk_font_family()
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False}
    figure = Figure(figsize=(11, 5.2), dpi=110, facecolor="white")
    FigureCanvasAgg(figure)
    with _rc(rc):
        if len(skills) >= 3:
            left = figure.add_subplot(1, 2, 1, projection="polar")
            _radar(left, skills, texts)
        else:
            left = figure.add_subplot(1, 2, 1)
            _bars(left, skills, texts)
        right = figure.add_subplot(1, 2, 2)
        _trend(right, totals, texts)
        figure.tight_layout(pad=1.6)
        figure.canvas.draw()  # tick labels only exist once drawn
        for text in figure.findobj(match=Text):
            if text.get_text():
                text.set_path_effects(_text_effects())
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


class _rc:
    """matplotlib rc settings for one figure (rc_context is process-global, so it is only held briefly)."""

    def __init__(self, params: dict) -> None:
        from matplotlib import rc_context

        self._context = rc_context(params)

    def __enter__(self) -> None:
        self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)


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
