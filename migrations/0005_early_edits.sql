-- Edits that arrive before their message is stored (live, while catch-up still holds that message): kept until it arrives.

CREATE TABLE early_edits (
    message_id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    edited_at TEXT NOT NULL,
    -- NULL: the edit did not say (attachments unchanged)
    attachments TEXT CHECK (attachments IS NULL OR json_valid(attachments))
) STRICT;
