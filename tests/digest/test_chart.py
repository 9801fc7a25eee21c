"""The digest's chart: a real PNG of the right size, whatever the data."""

from __future__ import annotations

import struct
from datetime import date, timedelta

import pytest

from bot.digest.chart import HEIGHT_PX, WIDTH_PX, comments_per_day_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = date(2026, 11, 16)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def week(counts: list[int]) -> list[tuple[date, int]]:
    return [(MONDAY + timedelta(days=i), n) for i, n in enumerate(counts)]


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        (week([12, 30, 25, 44, 18, 7, 9]), [10, 22, 31, 20, 15, 12, 4]),
        (week([0] * 7), [0] * 7),  # a quiet week still draws axes
        (week([3] * 7), []),  # no previous period recorded
        (week([1] * 30), [2] * 30),  # a month: day labels thinned out
        (week([5_000, 0, 1, 0, 0, 0, 0]), [0] * 7),
        ([], []),
    ],
)
def test_chart_is_an_800_by_400_png(current, previous):
    data = comments_per_day_png(current, previous)
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX) == (800, 400)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_a_shorter_previous_period_is_drawn_as_far_as_it_goes():
    data = comments_per_day_png(week([1, 2, 3, 4, 5, 6, 7]), [4, 4])
    assert png_size(data) == (800, 400)
