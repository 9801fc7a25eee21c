-- A web comment's id is unique within its post through an index of web comments only: Discord comments (most of them) no longer add an entry to a second per-post index each.
-- threadbridge: foreign keys off
--
-- The uniqueness was a table constraint, which SQLite cannot change in place: the table is
-- rebuilt (new table, copy, drop, rename), the same columns in the same order, the same rows
-- and ids, and its indexes made anew. The runner checks foreign keys before it commits.

CREATE TABLE comments_rebuilt (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES comments (id),
    author_id INTEGER NOT NULL REFERENCES authors (id),
    -- The name shown with the comment when it was written (Discord display names change).
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'visible'
        CHECK (status IN ('visible', 'held', 'removed', 'deleted')),
    status_reason TEXT,
    source TEXT NOT NULL CHECK (source IN ('discord', 'web')),
    -- A web comment's id at its origin (e.g. a WordPress comment id); NULL for Discord comments.
    external_id TEXT,
    discord_message_id INTEGER UNIQUE,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    attachments TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(attachments) AND json_type(attachments) = 'array'),
    -- A comment can be only a sticker: this says why its body and attachments are empty.
    has_stickers INTEGER NOT NULL DEFAULT 0 CHECK (has_stickers IN (0, 1)),
    -- The Discord message this comment replied to, as written: the parent may differ (depth
    -- limit, or the replied-to message was not a comment).
    reply_to_message_id INTEGER,
    -- The case that gave a comment its current status (held, removed, or approved back).
    status_case_id INTEGER REFERENCES cases (id),
    -- When the status last changed to held, removed or deleted: the erasure job counts from it.
    status_at TEXT,
    -- When the body of a removed or deleted comment was erased (kept: the row and its case).
    erased_at TEXT,
    -- The thread a Discord comment was written in (NULL for web comments).
    thread_id INTEGER,
    CHECK (parent_id IS NULL OR parent_id != id),
    CHECK (source = 'web' OR discord_message_id IS NOT NULL)
) STRICT;

INSERT INTO comments_rebuilt (
    id, post_id, parent_id, author_id, author_name, body, status, status_reason, source,
    external_id, discord_message_id, created_at, edited_at, attachments, has_stickers,
    reply_to_message_id, status_case_id, status_at, erased_at, thread_id
)
SELECT
    id, post_id, parent_id, author_id, author_name, body, status, status_reason, source,
    external_id, discord_message_id, created_at, edited_at, attachments, has_stickers,
    reply_to_message_id, status_case_id, status_at, erased_at, thread_id
FROM comments;

DROP TABLE comments;
ALTER TABLE comments_rebuilt RENAME TO comments;

CREATE UNIQUE INDEX comments_web_id ON comments (post_id, source, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author_created ON comments (author_id, created_at);
CREATE INDEX comments_created ON comments (created_at);
CREATE INDEX comments_reply_to ON comments (reply_to_message_id)
    WHERE reply_to_message_id IS NOT NULL;
CREATE INDEX comments_status_created ON comments (status, created_at);
CREATE INDEX comments_held ON comments (post_id, created_at) WHERE status = 'held';
CREATE INDEX comments_status_case ON comments (status_case_id) WHERE status_case_id IS NOT NULL;
CREATE INDEX comments_post_status ON comments (post_id, status, created_at);
