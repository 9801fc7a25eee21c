"""The digest's chart: comments per day, this period against the one before, as a PNG.

Built on `matplotlib.figure.Figure` with the Agg canvas directly, never pyplot: no global
figure state and no GUI backend, so it is safe in the bot's process and in tests.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

# Discord's dark theme: the message background, and text colours that read on it.
BACKGROUND = "#313338"
TEXT = "#dbdee1"
MUTED = "#949ba4"
GRID = "#4e5058"
CURRENT = "#5865f2"  # blurple bars: this period
PREVIOUS = "#f0b232"  # amber dashed line: the period before, distinct for colour-blind readers

WIDTH_PX, HEIGHT_PX = 800, 400
_DPI = 100


def comments_per_day_png(current: Sequence[tuple[date, int]], previous: Sequence[int]) -> bytes:
    """An 800x400 PNG: this period's comments per day as bars, the period before as a dashed
    line on the same day positions (the first day of each aligned)."""
    # Imported here: matplotlib (with numpy and Pillow) is about 40 MB of the bot's memory,
    # needed once a week.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_facecolor(BACKGROUND)

    positions = list(range(len(current)))
    counts = [count for _, count in current]
    axes.bar(positions, counts, color=CURRENT, width=0.6, label="This period", zorder=2)
    before = list(previous)[: len(positions)]
    if before:
        axes.plot(
            positions[: len(before)],
            before,
            color=PREVIOUS,
            linestyle="--",
            linewidth=2,
            marker="o",
            markersize=4,
            label="Period before",
            zorder=3,
        )

    # One label per day ("Mon 3"); long periods show every few days to stay legible.
    step = max(1, len(positions) // 14 + (1 if len(positions) % 14 else 0)) if positions else 1
    axes.set_xticks(positions[::step])
    axes.set_xticklabels([f"{day:%a} {day.day}" for day, _ in current][::step])
    if positions:
        axes.set_xlim(-0.6, len(positions) - 0.4)
    # Whole comments only, and a visible axis even when every day is zero.
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    top = max([*counts, *before, 0])
    axes.set_ylim(0, max(top * 1.15, 5))

    axes.set_title("Comments per day", color=TEXT, fontsize=14, loc="left", pad=12)
    axes.tick_params(colors=MUTED, labelsize=11, length=0)
    axes.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    # Above the plot, level with the title, so it never covers a tall bar.
    handles, labels = axes.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] != "This period")
    axes.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=11,
        labelcolor=TEXT,
        ncols=2,
        borderaxespad=0.2,
    )
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=BACKGROUND, dpi=_DPI)
    return buffer.getvalue()
