"""The public tree of a post's comments: what shows, what stays as a placeholder, and pages."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.store.public import CommentRow, PublicPost
from bot.web.conversation import (
    MAX_DEPTH,
    BadCursor,
    Links,
    Rendered,
    build_conversation,
    decode_cursor,
    encode_cursor,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
POST = PublicPost(
    id=1,
    title="Post",
    url=None,
    author_name=None,
    content_html="",
    image_url=None,
    published_at=None,
    updated_at=None,
    created_at=T0,
    closed=False,
    thread_id=None,
    changed_at=T0,
)
LINKS = Links(message=lambda row: None, avatar=lambda row: None)


def row(n, parent=None, *, public=True, minutes=None):
    return CommentRow(
        id=n,
        parent_id=parent,
        public=public,
        source="discord",
        author_key=n if public else 0,
        author_name=f"member {n}" if public else "",
        body=f"comment {n}" if public else "",
        attachments=(),
        reactions=(),
        thread_id=None,
        discord_message_id=None,
        created_at=T0 + timedelta(minutes=n if minutes is None else minutes),
        edited_at=None,
    )


def render(r):
    return Rendered(html=f"<p>{r.body}</p>", text=r.body)


def shape(comments):
    return [(c.id, c.placeholder, shape(c.replies)) for c in comments]


def test_public_comments_nest_under_their_parents_oldest_first():
    rows = [row(1), row(2, 1), row(3), row(4, 2), row(5, 1)]
    conversation = build_conversation(POST, rows, render, LINKS)
    assert shape(conversation.top) == [
        (1, False, [(2, False, [(4, False, [])]), (5, False, [])]),
        (3, False, []),
    ]
    assert conversation.count == 5
    assert conversation.top[0].html == "<p>comment 1</p>"


def test_a_hidden_comment_with_public_replies_stays_as_an_empty_placeholder():
    rows = [row(1, public=False), row(2, 1), row(3, public=False), row(4, 3, public=False)]
    conversation = build_conversation(POST, rows, render, LINKS)
    assert shape(conversation.top) == [(1, True, [(2, False, [])])]
    placeholder = conversation.top[0]
    assert (placeholder.author_name, placeholder.html, placeholder.text) == (None, None, None)
    assert placeholder.as_json("https://x.org")["author"] is None
    assert conversation.count == 1  # placeholders are not comments


def test_a_placeholder_chain_is_kept_down_to_the_public_reply():
    rows = [row(1, public=False), row(2, 1, public=False), row(3, 2)]
    conversation = build_conversation(POST, rows, render, LINKS)
    assert shape(conversation.top) == [(1, True, [(2, True, [(3, False, [])])])]


def test_replies_whose_parent_is_missing_or_in_a_cycle_are_shown_at_the_top():
    rows = [row(1, 99), row(2, 3), row(3, 2)]
    conversation = build_conversation(POST, rows, render, LINKS)
    assert sorted(c.id for top in conversation.top for c in top.walk()) == [1, 2, 3]


def test_a_chain_deeper_than_the_limit_is_shown_at_the_limit():
    rows = [row(1)] + [row(n, n - 1) for n in range(2, MAX_DEPTH + 40)]
    conversation = build_conversation(POST, rows, render, LINKS)

    def depth(comments, level=1):
        return max([level] + [depth(c.replies, level + 1) for c in comments if c.replies])

    assert depth(conversation.top) == MAX_DEPTH + 1
    assert sum(1 for c in conversation.top[0].walk()) == len(rows)
    conversation.top[0].as_json("https://x.org")  # no recursion trouble


def test_pages_cover_every_top_level_comment_once_in_order():
    rows = [row(n) for n in range(1, 121)] + [row(1000 + n, n) for n in range(1, 121)]
    conversation = build_conversation(POST, rows, render, LINKS)
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = conversation.page(cursor, 50)
        pages += 1
        seen += [c.id for c in page]
        assert all(len(c.replies) == 1 for c in page)
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(range(1, 121))
    assert conversation.count == 240


def test_a_cursor_survives_a_new_comment_and_the_removal_of_its_own():
    rows = [row(n) for n in range(1, 11)]
    first, cursor = build_conversation(POST, rows, render, LINKS).page(None, 4)
    assert [c.id for c in first] == [1, 2, 3, 4]
    changed = [r for r in rows if r.id != 4] + [row(11)]
    rest, _ = build_conversation(POST, changed, render, LINKS).page(cursor, 100)
    assert [c.id for c in rest] == [5, 6, 7, 8, 9, 10, 11]


@pytest.mark.parametrize("cursor", ["", "zzz", "!!", "bm90IGEgY3Vyc29y"])
def test_a_cursor_the_server_did_not_make_is_refused(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=1, max_value=2**62))
def test_cursors_round_trip(moment, number):
    moment_text, decoded = decode_cursor(encode_cursor(moment, number))
    assert decoded == number
    assert datetime.fromisoformat(moment_text) == moment


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), max_size=30))
def test_every_public_comment_appears_exactly_once_and_nothing_hidden_leaks(spec):
    rows = [
        row(n + 1, parent if parent and parent <= n else None, public=public)
        for n, (parent, public) in enumerate(spec)
    ]
    conversation = build_conversation(POST, rows, render, LINKS)
    shown = [c for top in conversation.top for c in top.walk()]
    public = {r.id for r in rows if r.public}
    assert sorted(c.id for c in shown if not c.placeholder) == sorted(public)
    for c in shown:
        if c.placeholder:
            assert c.id not in public and c.text is None and c.author_name is None
            assert any(not d.placeholder for d in c.walk())  # kept only for a public reply
    assert conversation.count == len(public)
