"""The emulator's truth against the store: members writing, editing and deleting in mirrored
threads (`Members` records what they did), and `compare`, which lists every way the store
differs from what is in Discord: lost, duplicated, wrong post, parent, text or status.

Used by the crash test and the fault matrix. It reads the store read-only (sqlite3), never
through threadbridge's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.comments.catchup import RECENT_WINDOW

MAX_DEPTH = 5  # SYNC_MAX_DEPTH's default; the bot runs with it
THREAD_CAP = RECENT_WINDOW - 30  # messages per thread, starter and webhook messages included

PHRASES = [
    "I agree with this.",
    "Not so sure — see the second paragraph.",
    "ممتاز، شكرا",
    "👍🏽 +1",
    "'; DROP TABLE comments; --",
    "e\u0301e\u0301 combining",
    "a longer thought " * 20,
]


@dataclass
class Written:
    thread_id: int
    author_id: int
    reply_to: int | None
    label: str


class Members:
    """Members writing in the threads: new messages, replies, edits and deletes, at random."""

    def __init__(self, emulator, rng, threads, member_ids, starters):
        self.emulator = emulator
        self.rng = rng
        self.threads = threads
        self.member_ids = member_ids
        self.starters = starters  # thread id -> the bot's starter message id
        self.written: dict[int, Written] = {}
        self.deleted: set[int] = set()
        self.edits = 0
        self.replies = 0

    def alive(self, thread_id: int) -> list[int]:
        return [
            i for i, w in self.written.items() if w.thread_id == thread_id and i not in self.deleted
        ]

    def step(self) -> None:
        thread_id = self.rng.choice(self.threads)
        alive = self.alive(thread_id)
        roll = self.rng.random()
        room = len(self.emulator.messages(thread_id)) < THREAD_CAP
        if room and (roll < 0.55 or not alive):
            self._write(thread_id, alive)
        elif roll < 0.8 and alive:
            target = self.rng.choice(alive)
            self.edits += 1
            self.emulator.edit_message(
                target,
                f"{self.written[target].label} edited #{self.edits}: {self.rng.choice(PHRASES)}",
            )
        elif alive:
            target = self.rng.choice(alive)
            self.deleted.add(target)
            self.emulator.delete_message(target)

    def write(self, thread_id: int) -> None:
        """A new message in the thread, a reply at random."""
        self._write(thread_id, self.alive(thread_id))

    def _write(self, thread_id: int, alive: list[int]) -> None:
        roll = self.rng.random()
        reply_to = None
        if roll < 0.5 and alive:
            # The newest message half the time: long reply chains, deeper than the depth limit.
            reply_to = alive[-1] if self.rng.random() < 0.5 else self.rng.choice(alive)
        elif roll < 0.6:
            hooks = [m.id for m in self.emulator.messages(thread_id) if m.webhook_id is not None]
            reply_to = self.rng.choice(hooks) if hooks else None
        elif roll < 0.65:
            reply_to = self.starters[thread_id]
        author = self.rng.choice(self.member_ids)
        label = f"m{len(self.written) + 1}"
        message = self.emulator.send_message(
            thread_id, author, f"{label}: {self.rng.choice(PHRASES)}", reply_to=reply_to
        )
        self.written[message.id] = Written(thread_id, author, reply_to, label)
        self.replies += reply_to is not None


@dataclass
class Snapshot:
    comments: list[sqlite3.Row]
    parts: dict[int, int]  # webhook message id -> web comment id
    posts: dict[int, int]  # thread id -> post id
    cursors: dict[int, int | None]


def read_store_once(path: Path) -> Snapshot:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        db.execute("BEGIN")  # one consistent snapshot for all three reads
        comments = db.execute(
            "SELECT id, post_id, parent_id, body, status, source, discord_message_id, "
            "reply_to_message_id FROM comments ORDER BY id"
        ).fetchall()
        parts = dict(db.execute("SELECT message_id, comment_id FROM comment_messages"))
        posts, cursors = {}, {}
        for row in db.execute("SELECT thread_id, post_id, sync_cursor FROM mirrors"):
            posts[row["thread_id"]] = row["post_id"]
            cursors[row["thread_id"]] = row["sync_cursor"]
        db.execute("COMMIT")
    return Snapshot(comments, parts, posts, cursors)


async def read_store(path: Path) -> Snapshot:
    deadline = time.monotonic() + 5
    while True:
        try:
            return read_store_once(path)
        except sqlite3.OperationalError:  # a starting bot recovering the WAL, briefly
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


def compare(members: Members, emulator, store: Snapshot) -> dict[str, list[str]]:
    """What differs between the store and the emulator's truth, by kind."""
    problems: dict[str, list[str]] = defaultdict(list)
    by_message: dict[int, list[sqlite3.Row]] = defaultdict(list)
    rows = {row["id"]: row for row in store.comments}
    for row in store.comments:
        if row["discord_message_id"] is not None:
            by_message[row["discord_message_id"]].append(row)
    for message_id, found in by_message.items():
        if len(found) > 1:
            problems["duplicated"].append(f"{message_id}: rows {[r['id'] for r in found]}")
    for row in store.comments:
        if row["source"] == "discord" and row["discord_message_id"] not in members.written:
            problems["not a member message"].append(
                f"row {row['id']} for message {row['discord_message_id']}"
            )

    def web_path(comment_id: int) -> list[int]:
        path = []
        while comment_id is not None:
            path.insert(0, comment_id)
            comment_id = rows[comment_id]["parent_id"]
        return path

    paths: dict[int, list[int]] = {}  # comment id -> ids from the top level down to it
    for message_id in sorted(members.written):
        written = members.written[message_id]
        where = f"{message_id} ({written.label})"
        found = by_message.get(message_id)
        if not found:
            if message_id not in members.deleted:
                problems["lost"].append(where)
            continue
        row = found[0]
        if row["source"] != "discord":
            problems["wrong source"].append(f"{where}: {row['source']}")
        if row["post_id"] != store.posts[written.thread_id]:
            problems["wrong post"].append(f"{where}: post {row['post_id']}")
        if message_id in members.deleted:
            if row["status"] != "deleted":
                problems["delete not applied"].append(f"{where}: {row['status']}")
        else:
            if row["status"] != "visible":
                problems["wrongly not visible"].append(f"{where}: {row['status']}")
            current = emulator.message(message_id).content
            if row["body"] != current:
                problems["edit not applied"].append(
                    f"{where}: {row['body'][:40]!r} != {current[:40]!r}"
                )
        if row["reply_to_message_id"] != written.reply_to:
            problems["wrong reply_to"].append(f"{where}: {row['reply_to_message_id']}")
        target = written.reply_to
        if target in members.written:
            target_rows = by_message.get(target)
            above = paths[target_rows[0]["id"]] if target_rows else []
        elif target in store.parts:
            above = web_path(store.parts[target])
        else:  # top level, or a reply to the bot's starter message
            above = []
        above = above[: MAX_DEPTH - 1]
        expected = above[-1] if above else None
        paths[row["id"]] = [*above, row["id"]]
        if row["parent_id"] != expected:
            problems["wrong parent"].append(
                f"{where}: parent {row['parent_id']}, expected {expected} (reply to {target})"
            )
    return problems


def summary(
    problems: dict[str, list[str]], members: Members, store: Snapshot, seed: int
) -> str:
    stored_deleted = sum(
        1 for i in members.deleted if any(r["discord_message_id"] == i for r in store.comments)
    )
    lines = [
        f"seed {seed}: {len(members.written)} member messages written, {members.replies} "
        f"replies, {members.edits} edits, {len(members.deleted)} deleted "
        f"({stored_deleted} of them ever stored), {len(store.comments)} comment rows",
    ]
    for kind, items in problems.items():
        if items:
            lines.append(f"{kind}: {len(items)}")
            lines.extend(f"    {item}" for item in items[:8])
    return "\n".join(lines)
