from hypothesis import given
from hypothesis import strategies as st

from bot.incoming import edited_content, valid_text


def test_lone_surrogates_become_replacement_characters():
    assert valid_text("a\ud800b") == "a\ufffdb"
    assert valid_text("\ud83d\ude00") == "\U0001f600"  # a proper pair is the emoji
    assert valid_text("plain") == "plain"


@given(st.text())
def test_valid_text_always_encodes(text):
    valid_text(text).encode("utf-8")


def test_only_real_edits_count():
    assert edited_content({"content": "x"}) is None  # a link preview, not an edit
    assert edited_content(
        {"content": "x\ud800", "edited_timestamp": "2026-01-01T00:00:00+00:00"}
    ) == (
        "x\ufffd",
        None,
    )
