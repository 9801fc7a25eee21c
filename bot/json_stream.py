"""JSON written piece by piece, without recursion: an export's reply chain thousands of comments
deep costs no more stack than a flat one (the json module recurses once per level, and gives up
near a thousand)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Open:
    """A dict or list being written: what is left of it, and how to close it."""

    items: Iterator[Any]
    keyed: bool
    level: int
    closing: str
    written: int = 0


def json_pieces(value: Any, *, indent: int = 2, level: int = 0) -> Iterator[str]:
    """The text of `json.dumps(value, ensure_ascii=False, indent=indent)`, in pieces, written
    as if `level` containers deep (so that a list's items can be written one at a time).

    Dicts (with string keys) and lists nest; anything else is encoded by the json module."""
    stack: list[_Open] = []
    yield _start(value, stack, level)
    while stack:
        current = stack[-1]
        try:
            entry = next(current.items)
        except StopIteration:
            stack.pop()
            yield "\n" + " " * (indent * current.level) + current.closing
            continue
        piece = ("," if current.written else "") + "\n" + " " * (indent * (current.level + 1))
        current.written += 1
        if current.keyed:
            key, entry = entry
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}")
            piece += json.dumps(key, ensure_ascii=False) + ": "
        yield piece + _start(entry, stack, current.level + 1)


def _start(value: Any, stack: list[_Open], level: int) -> str:
    """A scalar's whole text, or an empty container's, or the opening of one to fill."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        stack.append(_Open(iter(value.items()), True, level, "}"))
        return "{"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        stack.append(_Open(iter(value), False, level, "]"))
        return "["
    return json.dumps(value, ensure_ascii=False)
