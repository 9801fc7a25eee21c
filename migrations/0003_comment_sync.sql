-- Comment sync: attachments, stickers and reactions of Discord comments, delete tombstones, and an index to find recently active threads.

ALTER TABLE comments ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(attachments) AND json_type(attachments) = 'array');
-- A comment can be only a sticker: this says why its body and attachments are empty.
ALTER TABLE comments ADD COLUMN has_stickers INTEGER NOT NULL DEFAULT 0
    CHECK (has_stickers IN (0, 1));
-- The Discord message this comment replied to, as written: the parent may differ (depth limit,
-- or the replied-to message was not a comment).
ALTER TABLE comments ADD COLUMN reply_to_message_id INTEGER;

CREATE TABLE comment_reactions (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL CHECK (length(emoji) > 0),
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (comment_id, emoji)
) STRICT, WITHOUT ROWID;

-- Messages deleted in mirrored threads. Events can arrive out of order (live and catch-up at
-- once): a creation that arrives after its deletion must not bring the comment back.
CREATE TABLE deleted_messages (
    message_id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL,
    deleted_at TEXT NOT NULL
) STRICT;

CREATE INDEX mirrors_last_activity ON mirrors (last_activity_at);
-- Finds the replies stored before the message they reply to, to nest them when it arrives.
CREATE INDEX comments_reply_to ON comments (reply_to_message_id)
    WHERE reply_to_message_id IS NOT NULL;
