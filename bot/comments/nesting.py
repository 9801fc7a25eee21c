"""Where a reply hangs in its post's comment tree: under the comment it answers, or, when that
is already as deep as nesting goes, under the ancestor one level above the limit (as WordPress
does). Runs inside the comment writer's transaction."""

from __future__ import annotations

import sqlite3

from bot.store.nesting import orphan_replies_in, path_to_message_in, set_parent_in, subtree_in


def within_depth(path: list[int], max_depth: int) -> list[int]:
    """The part of a would-be parent's path that a child can hang from: a child of the last
    one is then at most `max_depth` deep."""
    return path[: max_depth - 1]


class TreePaths:
    """Where replies hang, for one batch: the path from the top down to each message's comment,
    read from the store once and then kept, with the comments the batch stores added as it
    stores them (most replies answer a message of the last few minutes)."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self._paths: dict[tuple[int, int], list[int]] = {}

    def place(self, db: sqlite3.Connection, post_id: int, reply_to: int | None) -> list[int]:
        """The path a reply hangs from (its parent last); empty at the top level: for the
        starter, a bot's message, a message never stored, or when nesting is off."""
        if reply_to is None or self.max_depth < 2:
            return []
        return within_depth(self._path(db, post_id, reply_to), self.max_depth)

    def stored(self, post_id: int, message_id: int, comment_id: int, above: list[int]) -> None:
        """The batch stored `message_id` as `comment_id`, hung from `above` (from `place`)."""
        self._paths[(post_id, message_id)] = [*above, comment_id]

    def adopt_orphans(self, db: sqlite3.Connection, post_id: int, message_id: int) -> None:
        """Nest the replies to this message that were stored before it (live replies arrive
        while catch-up has not yet stored what they reply to): they were put at the top level.
        Paths kept until then are read again from the store: comments moved."""
        if self.max_depth < 2:
            return
        orphans = orphan_replies_in(db, post_id, message_id)
        if not orphans:
            return
        parent_path = self._path(db, post_id, message_id)
        for orphan in orphans:
            _rehang(db, orphan, parent_path, self.max_depth)
        self._paths.clear()

    def _path(self, db: sqlite3.Connection, post_id: int, message_id: int) -> list[int]:
        key = (post_id, message_id)
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = path_to_message_in(db, post_id, message_id)
        return path


def _rehang(db: sqlite3.Connection, root_id: int, parent_path: list[int], max_depth: int) -> None:
    """Hang a top-level comment under the end of `parent_path`, and pull up the replies under
    it that would now nest deeper than the limit."""
    paths: dict[int, list[int]] = {}
    for comment_id, parent_id in subtree_in(db, root_id):
        path = parent_path if comment_id == root_id or parent_id is None else paths[parent_id]
        above = within_depth(path, max_depth)
        if above[-1] != parent_id:
            set_parent_in(db, comment_id, above[-1])
        paths[comment_id] = [*above, comment_id]
