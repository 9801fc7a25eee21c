-- Moderation: the rules moderators keep, comment bans, and what each case still owes Discord.

-- Words and patterns moderators listed with /mod rules add. `value` is stored as it will be
-- matched (words folded), so the same word cannot be listed twice in two spellings.
CREATE TABLE rule_entries (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    list TEXT NOT NULL CHECK (list IN ('disallowed_words', 'disallowed_patterns',
                                       'moderation_words', 'moderation_patterns')),
    value TEXT NOT NULL CHECK (length(value) > 0),
    added_by INTEGER,
    added_at TEXT NOT NULL,
    UNIQUE (guild_id, list, value)
) STRICT;

-- Limits changed with /mod rules set. No row: the operator's default from the settings.
CREATE TABLE rule_limits (
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    value INTEGER,  -- NULL turns the rule off
    changed_by INTEGER,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, name)
) STRICT;

-- Members banned from commenting. `until` NULL: until a moderator lifts it.
CREATE TABLE comment_bans (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    until TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT;
CREATE INDEX comment_bans_until ON comment_bans (until) WHERE until IS NOT NULL;

-- A case is the durable intent: what it asks of Discord (delete, mark, lock, DM) and its
-- mod-log post are done after the commit and retried from here until they succeed.
ALTER TABLE cases ADD COLUMN enforced_at TEXT;
ALTER TABLE cases ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE cases ADD COLUMN last_error TEXT;
-- The Discord message a case acts on when it has no stored comment: a member who opted out of
-- having their comments kept is still held to the rules, and their message is what is removed.
ALTER TABLE cases ADD COLUMN channel_id INTEGER;
ALTER TABLE cases ADD COLUMN message_id INTEGER;
CREATE INDEX cases_owed ON cases (guild_id, id)
    WHERE enforced_at IS NULL OR modlog_message_id IS NULL;
CREATE INDEX cases_comment ON cases (comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX cases_message ON cases (message_id) WHERE message_id IS NOT NULL;

-- The case that gave a comment its current status (held, removed, or approved back to visible).
ALTER TABLE comments ADD COLUMN status_case_id INTEGER REFERENCES cases (id);
-- When the status last changed to held, removed or deleted: the erasure job counts from it.
ALTER TABLE comments ADD COLUMN status_at TEXT;
-- When the body of a removed or deleted comment was erased (kept: the row and its case).
ALTER TABLE comments ADD COLUMN erased_at TEXT;
CREATE INDEX comments_held ON comments (post_id, created_at) WHERE status = 'held';
CREATE INDEX comments_status_case ON comments (status_case_id) WHERE status_case_id IS NOT NULL;
