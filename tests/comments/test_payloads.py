from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.comments.events import Standing, snowflake_time
from bot.comments.payloads import edited_content, incoming_from_payload, valid_text


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


def _payload(**changes):
    payload = {
        "id": "1234567890123456789",
        "channel_id": "42",
        "guild_id": "7",
        "type": 0,
        "content": "hello",
        "author": {"id": "100", "username": "ann", "global_name": "Ann B", "bot": False},
        "member": {"nick": None, "roles": ["5", "6"]},
        "attachments": [],
        "edited_timestamp": None,
    }
    return payload | changes


def test_a_raw_reply_reads_as_discord_py_would_show_it():
    message = incoming_from_payload(
        _payload(
            type=19,
            message_reference={"message_id": "99", "channel_id": "42"},
            member={"nick": "Annie", "roles": ["5"]},
            attachments=[
                {"url": "https://cdn/a.png", "filename": "a.png", "size": 3, "content_type": None}
            ],
            edited_timestamp="2026-01-01T00:00:00+00:00",
        ),
        None,
    )
    assert message.kind == "reply" and message.reply_to == 99
    assert message.author_name == "Annie"  # the server nickname wins, as display_name does
    assert message.thread_id == 42 and message.author_id == 100
    assert message.created_at == snowflake_time(1234567890123456789)
    assert message.edited_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert message.attachments[0].filename == "a.png"
    assert message.standing == Standing(frozenset({5}), False)


def test_raw_names_kinds_and_stickers():
    plain = incoming_from_payload(_payload(member={"roles": []}), None)
    assert plain.author_name == "Ann B" and plain.kind == "default" and plain.reply_to is None
    no_global = incoming_from_payload(
        _payload(author={"id": "100", "username": "ann"}, member={}), None
    )
    assert no_global.author_name == "ann"
    # A "reference" on a default message (a forward) is not a reply.
    forward = incoming_from_payload(_payload(message_reference={"message_id": "9"}), None)
    assert forward.reply_to is None
    pinned = incoming_from_payload(_payload(type=6), None)
    assert pinned.kind == "system"
    sticker = incoming_from_payload(_payload(content="", sticker_items=[{"id": "1"}]), None)
    assert sticker.has_stickers and sticker.content == ""
    hook = incoming_from_payload(_payload(webhook_id="77"), None)
    assert hook.webhook_id == 77
    broken = incoming_from_payload(_payload(content="x\ud800"), None)
    assert broken.content == "x\ufffd"
