"""Charts as PNG bytes, drawn for Discord's dark theme.

Matplotlib's object-oriented API on the Agg canvas, never `pyplot`, whose global state is not
safe in the `asyncio.to_thread` workers these run in. Building a figure costs more than drawing
it, so each worker thread builds its chart once and later renders only move the bars, lines and
texts; nothing is shared between threads, and every render sets every changing artist, so the
output depends on the arguments alone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import offset_copy
from PIL import Image

from bot.ratings import SCORE_STEPS

# Discord's dark theme: the embed background, its text colours, blurple, and the accents.
BACKGROUND = "#2b2d31"
TEXT = "#dbdee1"
MUTED = "#949ba4"
AXIS = "#4e5058"
BAR = "#5865f2"
CRITIC = "#fee75c"
COMMUNITY = "#57f287"

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100
X_MIN, X_MAX = 0.6, 10.4  # the score axis, with room for the 1.0 and 10.0 bars
MAX_TITLE_CHARS = 70
# A flat chart uses a handful of colours plus their anti-aliasing; 64 keep the edges smooth
# and make the PNG a third of the RGB size.
PALETTE_COLOURS = 64


def render_distribution_png(
    distribution: Mapping[float, int], critic_score_on_10: float | None, title: str
) -> bytes:
    """Bars for how many members gave each score 1.0..10.0, with critic and community marks.

    `distribution` maps scores on the half-step grid to counts (missing scores count 0);
    `critic_score_on_10` is the critic's normalized score times 10 (see bot.ratings).
    Safe to call from several threads at once.
    """
    counts = _counts_on_grid(distribution)
    chart = _thread_chart()
    chart.show(counts, critic_score_on_10, _shorten(title))
    return chart.png()


def _counts_on_grid(distribution: Mapping[float, int]) -> list[int]:
    counts = [0] * len(SCORE_STEPS)
    for score, count in distribution.items():
        index = round(score * 2) - 2
        if not 0 <= index < len(SCORE_STEPS) or index != score * 2 - 2:
            raise ValueError(f"{score} is not a score from 1 to 10 in steps of 0.5")
        if count < 0:
            raise ValueError(f"negative count {count} for score {score}")
        counts[index] += count
    return counts


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


class _DistributionChart:
    """One figure with every artist the chart can need; `show` sets them for one review."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        self.figure.set_facecolor(BACKGROUND)
        self.canvas = FigureCanvasAgg(self.figure)
        # No axis machinery: tick objects cost more to draw than the rest of the chart.
        self.axes = self.figure.add_axes((0.04, 0.14, 0.92, 0.7))
        self.axes.set_axis_off()
        self.axes.set_xlim(X_MIN, X_MAX)
        self.axes.axhline(0, color=AXIS, linewidth=1)
        for score in range(1, 11):
            self._axis_text(score, -0.03, str(score), MUTED, va="top", ha="center")
        # Marker lines behind the bars, counts in front of everything on a patch of background,
        # so a line through a bar or its count never hides the number.
        self.critic_line = self.axes.axvline(0, color=CRITIC, linewidth=2, zorder=1)
        self.mean_line = self.axes.axvline(
            0, color=COMMUNITY, linewidth=2, linestyle="--", zorder=1
        )
        self.bars = self.axes.bar(
            SCORE_STEPS, [0] * len(SCORE_STEPS), width=0.4, color=BAR, zorder=2
        )
        count_box = {"facecolor": BACKGROUND, "edgecolor": "none", "pad": 1}
        above_bar = offset_copy(self.axes.transData, self.figure, y=3, units="points")
        self.counts = [
            self.axes.text(
                x, 0, "", color=TEXT, fontsize=9, ha="center", va="bottom", zorder=3,
                bbox=count_box, transform=above_bar,
            )
            for x in SCORE_STEPS
        ]  # fmt: skip
        self.critic_text = self._axis_text(0, 0.99, "", CRITIC, fontweight="bold", va="top")
        self.mean_text = self._axis_text(0, 0.9, "", COMMUNITY, fontweight="bold", va="top")
        self.empty_text = self._axis_text(5.5, 0.5, "", MUTED, fontsize=12, ha="center")
        self.title = self.figure.text(
            0.04, 0.95, "", color=TEXT, fontsize=14, va="top", parse_math=False
        )
        self.total = self.figure.text(0.5, 0.02, "", color=MUTED, fontsize=10, ha="center")

    def _axis_text(self, x: float, y: float, text: str, color: str, **style: object) -> Text:
        """Text at data `x` and axes-fraction `y`, so it stays put whatever the counts."""
        style = {"fontsize": 10, **style}
        transform = self.axes.get_xaxis_transform()
        return self.axes.text(x, y, text, color=color, transform=transform, **style)

    def show(self, counts: Sequence[int], critic_on_10: float | None, title: str) -> None:
        # Head room above the tallest bar for its count and the two captions.
        self.axes.set_ylim(0, max(*counts, 1) * 1.45)
        for bar, label, count in zip(self.bars, self.counts, counts, strict=True):
            bar.set_height(count)
            label.set_y(count)
            label.set_text(str(count) if count else "")
        total = sum(counts)
        _mark(self.mean_line, self.mean_text, _mean(counts), "Community {:.1f}")
        _mark(self.critic_line, self.critic_text, critic_on_10, "Critic {:g}")
        self.empty_text.set_text("" if total else "No ratings yet")
        self.title.set_text(title)
        self.total.set_text(f"{total} rating{'' if total == 1 else 's'}")

    def png(self) -> bytes:
        self.canvas.draw()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba())
        # Pillow writes no time or software chunks unless asked: same chart, same bytes.
        paletted = image.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        paletted.save(buffer, format="PNG")
        return buffer.getvalue()


def _mean(counts: Sequence[int]) -> float | None:
    total = sum(counts)
    return sum(s * c for s, c in zip(SCORE_STEPS, counts, strict=True)) / total if total else None


def _mark(line: Line2D, caption: Text, x: float | None, template: str) -> None:
    """Move a vertical marker and its caption to `x`, or hide both."""
    line.set_visible(x is not None)
    caption.set_visible(x is not None)
    if x is None:
        return
    # A critic's 0/10 sits left of the members' lowest score: pin it to the edge, keep the label.
    at = min(max(x, X_MIN), X_MAX)
    line.set_xdata([at, at])
    # The caption goes on the roomier side of its line, so it stays inside the chart.
    left_of_line = at > 5.5
    caption.set_x(at - 0.08 if left_of_line else at + 0.08)
    caption.set_horizontalalignment("right" if left_of_line else "left")
    caption.set_text(template.format(x))


_local = threading.local()


def _thread_chart() -> _DistributionChart:
    chart = getattr(_local, "chart", None)
    if chart is None:
        chart = _local.chart = _DistributionChart()
    return chart
