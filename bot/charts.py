"""Charts as PNG bytes, drawn for Discord's dark theme with Pillow.

A bar chart of 19 scores needs rectangles, two lines and some text: Pillow's ImageDraw does
that in a few milliseconds and a few megabytes, where matplotlib and numpy would cost about
40 MB of the bot's memory and 40 ms a chart. Every shape is axis-aligned, so nothing needs
anti-aliasing but the text, which FreeType smooths. Fonts are per thread, since these run in
`asyncio.to_thread` workers; the output depends on the arguments alone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from bot.ratings import SCORE_STEPS

# Discord's dark theme: the embed background, its text colours, blurple, and the accents.
BACKGROUND = "#2b2d31"
TEXT = "#dbdee1"
MUTED = "#949ba4"
AXIS = "#4e5058"
BAR = "#5865f2"
CRITIC = "#fee75c"
COMMUNITY = "#57f287"

WIDTH_PX, HEIGHT_PX = 800, 400
X_MIN, X_MAX = 0.6, 10.4  # the score axis, with room for the 1.0 and 10.0 bars
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 32, 768, 64, 344  # in output pixels
BAR_WIDTH = 0.4  # in score units
MAX_TITLE_CHARS = 70
# DejaVu covers the accents, dashes and scripts titles use; Pillow's bundled font is the
# fallback where it is not installed (it lacks some punctuation).
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


def render_distribution_png(
    distribution: Mapping[float, int], critic_score_on_10: float | None, title: str
) -> bytes:
    """Bars for how many members gave each score 1.0..10.0, with critic and community marks.

    `distribution` maps scores on the half-step grid to counts (missing scores count 0);
    `critic_score_on_10` is the critic's normalized score times 10 (see bot.ratings).
    Safe to call from several threads at once.
    """
    counts = _counts_on_grid(distribution)
    canvas = _Canvas(_thread_fonts())
    canvas.draw_chart(counts, critic_score_on_10, _shorten(title))
    return canvas.png()


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


def _mean(counts: Sequence[int]) -> float | None:
    total = sum(counts)
    return sum(s * c for s, c in zip(SCORE_STEPS, counts, strict=True)) / total if total else None


@dataclass(frozen=True)
class _Fonts:
    title: ImageFont.FreeTypeFont | ImageFont.ImageFont
    label: ImageFont.FreeTypeFont | ImageFont.ImageFont
    bold: ImageFont.FreeTypeFont | ImageFont.ImageFont
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont


_local = threading.local()


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_FILES[bold], size)
    except OSError:
        return ImageFont.load_default(size=size)


def _thread_fonts() -> _Fonts:
    fonts = getattr(_local, "fonts", None)
    if fonts is None:
        fonts = _local.fonts = _Fonts(
            title=_font(18), label=_font(13), bold=_font(13, bold=True), small=_font(12)
        )
    return fonts


class _Canvas:
    def __init__(self, fonts: _Fonts) -> None:
        self.fonts = fonts
        self.image = Image.new("RGB", (WIDTH_PX, HEIGHT_PX), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def x(self, score: float) -> float:
        fraction = (score - X_MIN) / (X_MAX - X_MIN)
        return PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT)

    def y(self, count: float, top: float) -> float:
        return PLOT_BOTTOM - (count / top) * (PLOT_BOTTOM - PLOT_TOP)

    def draw_chart(self, counts: Sequence[int], critic: float | None, title: str) -> None:
        top = max(*counts, 1) * 1.25  # head room above the tallest bar for its count
        self.draw.text((PLOT_LEFT, 20), title, fill=TEXT, font=self.fonts.title)
        self._axis()
        markers = [
            (_mean(counts), COMMUNITY, "Community {:.1f}", 1, True),
            (critic, CRITIC, "Critic {:g}", 0, False),
        ]
        # Lines behind the bars; captions and counts last, each on a patch of background.
        for at, colour, _, _, dashed in markers:
            self._marker_line(at, colour, dashed=dashed)
        self._bars(counts, top)
        for at, colour, template, row, _ in markers:
            self._marker_caption(at, colour, template, row=row)
        total = sum(counts)
        if not total:
            self._centered("No ratings yet", (PLOT_TOP + PLOT_BOTTOM) / 2, self.fonts.label)
        self._centered(f"{total} rating{'' if total == 1 else 's'}", 378, self.fonts.small)

    def _axis(self) -> None:
        self.draw.line([(PLOT_LEFT, PLOT_BOTTOM), (PLOT_RIGHT, PLOT_BOTTOM)], fill=AXIS, width=1)
        for score in range(1, 11):
            self.draw.text(
                (self.x(score), PLOT_BOTTOM + 8), str(score), fill=MUTED,
                font=self.fonts.label, anchor="mt",
            )  # fmt: skip

    def _bars(self, counts: Sequence[int], top: float) -> None:
        half = (self.x(BAR_WIDTH) - self.x(0)) / 2
        for score, count in zip(SCORE_STEPS, counts, strict=True):
            if not count:
                continue
            centre, height = self.x(score), self.y(count, top)
            self.draw.rectangle([(centre - half, height), (centre + half, PLOT_BOTTOM)], fill=BAR)
            label = str(count)
            box = self.draw.textbbox((centre, height - 4), label, self.fonts.small, anchor="mb")
            self.draw.rectangle(box, fill=BACKGROUND)
            self.draw.text(
                (centre, height - 4), label, fill=TEXT, font=self.fonts.small, anchor="mb"
            )

    def _marker_line(self, at: float | None, colour: str, *, dashed: bool) -> None:
        """A vertical line at score `at` (a critic's 0/10 pinned to the edge), or nothing."""
        if at is None:
            return
        x = self.x(min(max(at, X_MIN), X_MAX))
        step = 9 if dashed else PLOT_BOTTOM - PLOT_TOP
        for start in range(PLOT_TOP, PLOT_BOTTOM, step):
            end = min(start + (6 if dashed else step), PLOT_BOTTOM)
            self.draw.line([(x, start), (x, end)], fill=colour, width=2)

    def _marker_caption(self, at: float | None, colour: str, template: str, *, row: int) -> None:
        """The marker's caption on the roomier side of its line, so it stays in the chart."""
        if at is None:
            return
        x = self.x(min(max(at, X_MIN), X_MAX))
        left_of_line = at > 5.5
        anchor = "rt" if left_of_line else "lt"
        where = (x - 6 if left_of_line else x + 6, PLOT_TOP + row * 20)
        caption = template.format(at)
        box = self.draw.textbbox(where, caption, self.fonts.bold, anchor=anchor)
        self.draw.rectangle((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), fill=BACKGROUND)
        self.draw.text(where, caption, fill=colour, font=self.fonts.bold, anchor=anchor)

    def _centered(self, text: str, y: float, font: ImageFont.FreeTypeFont | ImageFont.ImageFont):
        self.draw.text((WIDTH_PX / 2, y), text, fill=MUTED, font=font, anchor="mm")

    def png(self) -> bytes:
        buffer = io.BytesIO()
        # Pillow writes no time or software chunks unless asked: same chart, same bytes.
        self.image.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
