"""JSON written piece by piece: the same text as the json module writes, at any depth."""

import contextlib
import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.json_stream import json_pieces

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(values)
def test_the_same_text_as_json_dumps(value):
    assert "".join(json_pieces(value)) == json.dumps(value, ensure_ascii=False, indent=2)


@given(st.lists(values, max_size=5))
def test_a_list_written_item_by_item_is_the_whole_lists_text(items):
    """How `threadbridge export` writes its posts: each one as it is read."""
    text = "[" if items else "[]"
    for index, item in enumerate(items):
        text += ("," if index else "") + "\n  " + "".join(json_pieces(item, level=1))
    text += "\n]" if items else ""
    assert text == json.dumps(items, ensure_ascii=False, indent=2)


@contextlib.contextmanager
def recursion_limit(limit):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_a_reply_chain_far_deeper_than_the_recursion_limit():
    depth = 2_000
    chain: dict = {"body": "last", "replies": []}
    for n in reversed(range(depth - 1)):
        chain = {"body": f"reply {n}", "replies": [chain]}
    # Far fewer frames than the chain is deep: writing it must not recurse.
    with recursion_limit(sys.getrecursionlimit() // 2):
        text = "".join(json_pieces(chain))
    with recursion_limit(4 * depth + 1_000):
        read = json.loads(text)
    bodies = []
    while read is not None:
        bodies.append(read["body"])
        read = read["replies"][0] if read["replies"] else None
    assert bodies == [f"reply {n}" for n in range(depth - 1)] + ["last"]


def test_only_string_keys():
    with pytest.raises(TypeError, match="keys must be strings"):
        "".join(json_pieces({1: "one"}))
