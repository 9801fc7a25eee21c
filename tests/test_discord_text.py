"""Text made safe and short for Discord: thread names, broken mentions, escaped titles."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.discord_text import (
    THREAD_NAME_LIMIT,
    escape_title,
    neutralise_mentions,
    shows_nothing,
    thread_name,
)

# The patterns Discord pings on.
PING_PATTERNS = [re.compile(r"@(everyone|here)"), re.compile(r"<@!?\d+>"), re.compile(r"<@&\d+>")]


def pings(text: str) -> list[str]:
    return [m.group(0) for p in PING_PATTERNS for m in p.finditer(text)]


# -- thread_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Ai WeiWei: Still Not Sorry", "Ai WeiWei: Still Not Sorry"),
        ("  spaced \t\n  out  ", "spaced out"),
        ("zero\u200bwidth\ufeff and\x00control\x07", "zerowidth andcontrol"),
        ("", "Untitled post"),
        (" \u200b\u200d\n ", "Untitled post"),
        ("\u3164", "Untitled post"),
        ("שלום עולם", "שלום עולם"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),
    ],
)
def test_thread_name_cleans(title: str, expected: str) -> None:
    assert thread_name(title) == expected


def test_thread_name_cuts_at_a_word() -> None:
    title = " ".join(["word"] * 40)
    name = thread_name(title)
    assert len(name) <= THREAD_NAME_LIMIT
    assert name.endswith("…")
    assert title.startswith(name[:-1])
    assert name[:-1].split() == ["word"] * len(name[:-1].split())


def test_thread_name_exactly_at_limit_is_kept() -> None:
    title = "x" * THREAD_NAME_LIMIT
    assert thread_name(title) == title


def test_thread_name_cuts_a_giant_word_hard() -> None:
    name = thread_name("y" * 150)
    assert name == "y" * 99 + "…"


def test_thread_name_does_not_split_a_combining_mark() -> None:
    name = thread_name("e\u0301" * 80)
    assert len(name) <= THREAD_NAME_LIMIT
    assert name[-2] == "\u0301"


@given(st.text())
def test_thread_name_is_always_one_short_line(title: str) -> None:
    name = thread_name(title)
    assert 1 <= len(name) <= THREAD_NAME_LIMIT
    assert "\n" not in name and "\r" not in name


# -- neutralise_mentions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["@everyone", "@here", "<@123>", "<@!123>", "<@&456>", "hi @everyone and <@&456>!"],
)
def test_mentions_no_longer_ping(text: str) -> None:
    assert pings(text)
    out = neutralise_mentions(text)
    assert pings(out) == []
    assert out.replace("\u200b", "") == text


@pytest.mark.parametrize("text", ["<#789>", "<:blob:123>", "<a:dance:123>", "</ban:123>"])
def test_chips_are_broken_but_visible(text: str) -> None:
    out = neutralise_mentions(text)
    assert out != text
    assert out.replace("\u200b", "") == text


@pytest.mark.parametrize(
    "text", ["email me@example.org", "<https://example.org>", "a < b > c", "@everyoneelse"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    if "everyone" in text:
        assert pings(neutralise_mentions(text)) == []
    else:
        assert neutralise_mentions(text) == text


mention_bits = st.sampled_from(
    ["@everyone", "@here", "@", "<@", "<@!", "<@&", "<#", "<", ">", "1", "23", " ", "\u200b", "e"]
)


@given(st.lists(mention_bits).map("".join) | st.text())
def test_neutralise_never_leaves_a_ping_and_is_idempotent(text: str) -> None:
    once = neutralise_mentions(text)
    assert pings(once) == []
    assert neutralise_mentions(once) == once


# -- escape_title ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("**x**", r"\*\*x\*\*"),
        ("_a_ ~~b~~ ||c|| `d`", r"\_a\_ \~\~b\~\~ \|\|c\|\| \`d\`"),
        ("# Heading", r"\# Heading"),
        ("> quote", r"\> quote"),
        ("- item", r"\- item"),
        ("1. item", r"1\. item"),
        ("[x](https://evil.example)", r"\[x\](https://evil.example)"),
        ("Plain: title, 2015.", "Plain: title, 2015."),
        ("see https://example.org/a_b_c", "see https://example.org/a_b_c"),
        ("two\n# lines\u200b ", r"two # lines"),
    ],
)
def test_escape_title(title: str, expected: str) -> None:
    assert escape_title(title) == expected


def test_escape_title_breaks_mentions() -> None:
    assert pings(escape_title("@everyone <@123>")) == []


# -- shows_nothing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        ("", True),
        (" \n\t\u00a0\u3000", True),
        ("\u200d" * 2000, True),
        ("\u200b\u2060\ufeff\u00ad\u202e\u2066\u061c", True),  # zero-width and bidi
        ("\u2800\u3164\u115f\uffa0", True),  # blank letters
        ("\ufe0f\U000e0101\u034f\u180b", True),  # selectors and joiners with nothing to join
        ("\U000e0067\U000e0062\U000e007f", True),  # tag characters without their flag
        ("\x00\x1b\x7f\x85", True),
        ("\u2764\ufe0f", False),  # a heart with its emoji selector
        ("\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", False),
        ("\u200b.", False),
        ("\u0301", False),  # a lone accent still draws
        ("\ue000", False),  # private use: drawn by some font, or as a box
    ],
)
def test_shows_nothing(text, blank):
    assert shows_nothing(text) is blank
