"""Chart set-up shared by every picture the coach draws (/progress, /team).

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
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, patheffects, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

TEXT_COLOUR = "#212529"
GRID_COLOUR = "#dee2e6"


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


@contextmanager
def chart(width: float, height: float, tight_pad: float) -> Iterator[tuple[Figure, io.BytesIO]]:
    """A white figure with the CJK font; on leaving, it is laid out, its text stroked and saved as PNG.

    rc_context is process-global, so it is held only while this one figure is drawn.
    """
    family = cjk_font_family()
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False}
    figure = Figure(figsize=(width, height), dpi=110, facecolor="white")
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with rc_context(rc):
        yield figure, buffer
        figure.tight_layout(pad=tight_pad)
        figure.canvas.draw()  # tick labels only exist once drawn
        stroke = [patheffects.withStroke(linewidth=0.6, foreground=TEXT_COLOUR)]
        for text in figure.findobj(match=Text):
            if text.get_text():
                text.set_path_effects(stroke)
        figure.savefig(buffer, format="png", facecolor="white")
