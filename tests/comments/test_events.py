"""Which messages are comments, snowflake times, and the offline-deletion window: no Discord,
no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.comments.events import (
    DISCORD_EPOCH_MS,
    Attachment,
    Created,
    IncomingMessage,
    SyncPolicy,
    decide,
    reconcile_window,
    snowflake_time,
)

BOT_ID = 1
WEBHOOK_ID = 77
POLICY = SyncPolicy(own_user_id=BOT_ID, own_webhook_ids=frozenset({WEBHOOK_ID}))
PICTURE = Attachment("https://cdn.example/a.png", "a.png", 1234, "image/png")

MESSAGE = IncomingMessage(
    message_id=175928847299117063,
    thread_id=9,
    author_id=100,
    author_name="Ann",
    author_is_bot=False,
    webhook_id=None,
    kind="default",
    content="hello",
    created_at=snowflake_time(175928847299117063),
)


def test_snowflake_time_matches_discords_documented_example():
    # The example of Discord's "Snowflakes" reference page.
    assert snowflake_time(175928847299117063) == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )
    assert snowflake_time(0) == datetime.fromtimestamp(DISCORD_EPOCH_MS / 1000, UTC)


def test_snowflake_time_refuses_negative_ids():
    with pytest.raises(ValueError):
        snowflake_time(-1)


@given(st.integers(min_value=0, max_value=2**63 - 1), st.integers(min_value=0, max_value=2**22))
def test_snowflake_time_only_reads_the_timestamp_bits(snowflake, low_bits):
    base = snowflake >> 22 << 22
    assert snowflake_time(base) == snowflake_time(base | (low_bits % 2**22))
    assert snowflake_time(base).tzinfo is UTC


@pytest.mark.parametrize(
    ("changes", "policy", "reason"),
    [
        ({}, POLICY, None),
        ({"kind": "reply", "reply_to": 5}, POLICY, None),
        ({"author_id": BOT_ID}, POLICY, "own message"),
        ({"author_id": BOT_ID, "kind": "system"}, POLICY, "own message"),
        ({"webhook_id": WEBHOOK_ID, "author_is_bot": True}, POLICY, "threadbridge webhook"),
        ({"webhook_id": 78, "author_is_bot": True}, POLICY, "other bot"),
        (
            {"webhook_id": 78, "author_is_bot": True},
            replace(POLICY, include_other_bots=True),
            None,
        ),
        ({"kind": "system", "content": "Ann pinned a message"}, POLICY, "system message"),
        ({"author_is_bot": True}, POLICY, "other bot"),
        ({"author_is_bot": True}, replace(POLICY, include_other_bots=True), None),
        ({"content": ""}, POLICY, "empty"),
        ({"content": " \n\t "}, POLICY, "empty"),
        ({"content": "", "attachments": (PICTURE,)}, POLICY, None),
        ({"content": "", "has_stickers": True}, POLICY, None),
        ({"content": "", "author_is_bot": True}, POLICY, "other bot"),
    ],
)
def test_decide(changes, policy, reason):
    assert decide(replace(MESSAGE, **changes), policy) == reason


# Characters that show nothing: format characters (zero-width joiners and spaces, bidi marks,
# word joiners, tags), controls, spaces of every kind, variation selectors, fillers, blank
# letters. Messages made of them look empty in Discord.
INVISIBLE = st.one_of(
    st.characters(categories=("Cf", "Cc", "Zs", "Zl", "Zp")),
    st.sampled_from(
        "\u200d\u200b\u200c\u2060\ufeff\u00ad\u202e\u2066\u034f\u115f\u1160\u3164"
        "\uffa0\u2800\u17b4\u180b\u180e\ufe0f\U000e0020\U000e0101\U000e0fff"
    ),
)
VISIBLE = st.characters(categories=("L", "N", "P", "S"), exclude_characters="\u2800\u3164")


@given(st.text(INVISIBLE, max_size=2000))
def test_text_with_nothing_visible_is_empty(text):
    assert decide(replace(MESSAGE, content=text), POLICY) == "empty"


@given(st.text(INVISIBLE, max_size=50), VISIBLE, st.text(INVISIBLE, max_size=50))
def test_one_visible_character_is_enough(before, visible, after):
    assert decide(replace(MESSAGE, content=before + visible + after), POLICY) is None


@given(st.text(INVISIBLE, max_size=50))
def test_invisible_text_with_an_attachment_or_a_sticker_is_a_comment(text):
    assert decide(replace(MESSAGE, content=text, attachments=(PICTURE,)), POLICY) is None
    assert decide(replace(MESSAGE, content=text, has_stickers=True), POLICY) is None


def test_2000_zero_width_joiners_are_empty():
    assert decide(replace(MESSAGE, content="\u200d" * 2000), POLICY) == "empty"
    # The same joiner between emoji is spelling: the family shows.
    assert decide(replace(MESSAGE, content="\U0001f469\u200d\U0001f467"), POLICY) is None


def test_policy_needs_a_depth_of_at_least_one():
    with pytest.raises(ValueError):
        SyncPolicy(own_user_id=1, max_depth=0)
    assert SyncPolicy(own_user_id=1).max_depth == 5
    assert SyncPolicy(own_user_id=1).include_other_bots is False


def test_created_event_names_its_thread():
    assert Created(MESSAGE).thread_id == MESSAGE.thread_id
    assert Created(MESSAGE).advance_cursor is False


def test_reconcile_window_returns_stored_ids_missing_from_history_oldest_first():
    assert reconcile_window({5, 1, 3, 9}, {3, 4, 9}) == (1, 5)
    assert reconcile_window(set(), {1}) == ()
    assert reconcile_window({1, 2}, {1, 2}) == ()


@given(st.sets(st.integers(min_value=0)), st.sets(st.integers(min_value=0)))
def test_reconcile_window_is_the_sorted_difference(stored, seen):
    result = reconcile_window(stored, seen)
    assert set(result) == stored - seen
    assert list(result) == sorted(result)
