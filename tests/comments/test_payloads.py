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


def test_a_history_payload_reads_as_the_discord_message_built_from_it():
    """Catch-up reads history pages as payloads; what it reads must be what discord.py's
    Message (which it used to build for every message) shows of the same payload."""
    import discord

    from bot.comments.payloads import incoming_from_history, reaction_counts_from_payload

    history = _payload(
        type=19,
        message_reference={"message_id": "99", "channel_id": "42"},
        attachments=[
            {"id": "5", "url": "https://cdn/a.png", "proxy_url": "https://cdn/a.png",
             "filename": "a.png", "size": 3,
             "content_type": "image/png"}
        ],
        sticker_items=[{"id": "1", "name": "s", "format_type": 1}],
        edited_timestamp="2026-01-01T00:00:00+00:00",
        reactions=[
            {"emoji": {"id": None, "name": "\N{THUMBS UP SIGN}"}, "count": 3, "me": True},
            {"emoji": {"id": "123", "name": "blob", "animated": True}, "count": 1, "me": False},
            {"emoji": {"id": "124", "name": "mine"}, "count": 1, "me": True},
        ],
    )
    del history["member"]  # history pages carry users, not members
    history["author"] |= {"discriminator": "0", "avatar": None}
    client = discord.Client(intents=discord.Intents(guilds=True))
    channel = discord.Object(42)
    channel.guild = None  # type: ignore[attr-defined]
    message = discord.Message(state=client._connection, channel=channel, data=history)  # type: ignore[arg-type]

    incoming = incoming_from_history(history, None)
    assert incoming.author_name == message.author.display_name == "Ann B"
    assert incoming.author_id == message.author.id and incoming.author_is_bot == message.author.bot
    assert incoming.content == message.content and incoming.edited_at == message.edited_at
    assert incoming.kind == "reply" and incoming.reply_to == message.reference.message_id == 99
    assert incoming.has_stickers == bool(message.stickers)
    assert [a.filename for a in incoming.attachments] == [a.filename for a in message.attachments]
    assert incoming.standing == Standing()
    assert reaction_counts_from_payload(history) == {
        str(r.emoji): r.count - (1 if r.me else 0)
        for r in message.reactions
        if r.count - (1 if r.me else 0) > 0
    } == {"\N{THUMBS UP SIGN}": 2, "<a:blob:123>": 1}
