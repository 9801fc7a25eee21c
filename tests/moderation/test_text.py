# ruff: noqa: RUF001, RUF003
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.text import collapse_spacing, normalise, strip_invisible, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FREE Money", "free money"),
        ("frée", "free"),
        ("FRÉÉ", "free"),
        ("fr\u200bee", "free"),  # zero-width space
        ("fr\u200dee\ufeff", "free"),  # zero-width joiner, BOM
        ("f\u00adree", "free"),  # soft hyphen
        ("fr\u2063ee", "free"),  # invisible separator
        ("fr\u3164ee", "free"),  # Hangul filler renders blank
        ("сlаss", "class"),  # Cyrillic с and а
        ("ѕех", "sex"),  # all look-alikes, no Latin at all
        ("fοο", "foo"),  # Greek omicron
        ("ＦＲＥＥ", "free"),  # fullwidth
        ("𝐟𝐫𝐞𝐞", "free"),  # mathematical bold
        ("ⓕⓡⓔⓔ", "free"),  # enclosed
        ("fr33", "free"),
        ("h4t3", "hate"),
        ("5p4m", "spam"),
        ("@$$", "ass"),
        ("$5 or $1,000 at 10:30", "$5 or $1,000 at 10:30"),  # numbers are not leetspeak
        ("@$5", "ass"),
        ("«2024» — 10%", "«2024» — 10%"),
        ("a$$", "ass"),
        ("in 2024 for $5", "in 2024 for $5"),  # numbers are not words
        ("ﬁne", "fine"),
        ("Straße", "strasse"),
        ("łódź", "lodz"),
        ("  many   spaces\n\there ", "many spaces here"),
        ("Привет мир", "привет мир"),  # a word wholly in another script stays
        ("中文", "中文"),
        ("", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f r e e  m o n e y", "free  money"),
        ("f.r.e.e", "free"),
        ("f-r-e-e", "free"),
        ("f - r - e - e", "free"),
        ("f_r_e_e money", "free money"),
        ("a s s", "ass"),
        ("free money", "free money"),
        ("e.g. this", "e.g. this"),  # two letters are left alone
        ("I am a b", "I am a b"),
        ("a b c d", "abcd"),
        ("fr e e", "fr e e"),  # only single letters join
    ],
)
def test_collapse_spacing(text, expected):
    assert collapse_spacing(text) == expected


def test_strip_invisible_keeps_case_and_digits():
    assert strip_invisible("Disc\u200bord.gg/AbC123") == "Discord.gg/AbC123"


def test_words_split_on_punctuation():
    assert words(normalise("Don't, class-act!")) == ["don", "t", "class", "act"]


@given(st.text())
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(st.text())
def test_normalise_has_no_invisible_or_upper_ascii(text):
    result = normalise(text)
    assert "\u200b" not in result
    assert not any("A" <= ch <= "Z" for ch in result)
    assert result == result.strip()
