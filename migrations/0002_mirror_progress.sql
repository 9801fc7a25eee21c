-- Mirroring progress: a 'skipped' mirror state for feed backlog, the Discord messages of web comments, and feed error backoff.

-- SQLite cannot alter a CHECK constraint, so mirrors is rebuilt with the new state allowed.
CREATE TABLE mirrors_new (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'new'
        CHECK (state IN ('new', 'mirroring', 'mirrored', 'failed', 'broken', 'skipped')),
    channel_id INTEGER,
    thread_id INTEGER UNIQUE,
    starter_message_id INTEGER UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT,
    sync_cursor INTEGER,
    last_activity_at TEXT,
    updated_at TEXT NOT NULL,
    -- When a failed mirror may be tried again; NULL means now.
    retry_after TEXT,
    -- Set once the failure has been reported to the mod-log, so it is reported once.
    failure_reported INTEGER NOT NULL DEFAULT 0 CHECK (failure_reported IN (0, 1)),
    -- The post changed at its source after its starter message was posted.
    starter_stale INTEGER NOT NULL DEFAULT 0 CHECK (starter_stale IN (0, 1))
) STRICT;
INSERT INTO mirrors_new (post_id, state, channel_id, thread_id, starter_message_id, attempts,
                         last_error, sync_cursor, last_activity_at, updated_at)
    SELECT post_id, state, channel_id, thread_id, starter_message_id, attempts,
           last_error, sync_cursor, last_activity_at, updated_at
    FROM mirrors;
DROP TABLE mirrors;
ALTER TABLE mirrors_new RENAME TO mirrors;
CREATE INDEX mirrors_state ON mirrors (state);

-- Every Discord message that carries (part of) a comment posted by threadbridge, so that the
-- reply sync never takes them for new comments.
CREATE TABLE comment_messages (
    message_id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    part INTEGER NOT NULL CHECK (part >= 0),
    UNIQUE (comment_id, part)
) STRICT;

-- How each web comment stands in its thread. 'posting' is written before the webhook call, so a
-- crash in between is found and reconciled instead of posting the comment twice.
CREATE TABLE web_comment_mirrors (
    comment_id INTEGER PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('posting', 'posted', 'withdrawn')),
    thread_id INTEGER NOT NULL,
    -- What was posted, to notice later edits and status changes made in the store.
    posted_body TEXT,
    posted_status TEXT,
    updated_at TEXT NOT NULL
) STRICT;

ALTER TABLE feeds ADD COLUMN retry_after TEXT;
