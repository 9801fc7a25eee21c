-- Initial schema: posts and their mirrors, authors, comments with their history, moderation cases, digests, feed state.

-- Small key/value facts the bot keeps about itself (e.g. the hash of the last synced command tree).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A post of the community. (source, external_id) names it where it came from: a feed's guid,
-- a WordPress post id, or the id another program gave it.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (length(source) > 0),
    external_id TEXT NOT NULL CHECK (length(external_id) > 0),
    title TEXT NOT NULL,
    url TEXT,
    author_name TEXT,
    content_html TEXT NOT NULL DEFAULT '',
    image_url TEXT,
    categories TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
    published_at TEXT,
    updated_at TEXT,
    created_at TEXT NOT NULL,
    comments_closed INTEGER NOT NULL DEFAULT 0 CHECK (comments_closed IN (0, 1)),
    UNIQUE (source, external_id)
) STRICT;
CREATE INDEX posts_published ON posts (published_at);
CREATE INDEX posts_created ON posts (created_at);

-- The Discord side of a post: its thread, and where the mirroring stands.
CREATE TABLE mirrors (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'new'
        CHECK (state IN ('new', 'mirroring', 'mirrored', 'failed', 'broken')),
    channel_id INTEGER,
    thread_id INTEGER UNIQUE,
    starter_message_id INTEGER UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT,
    -- Newest Discord message id synced from the thread; moves with the rows it covers.
    sync_cursor INTEGER,
    last_activity_at TEXT,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX mirrors_state ON mirrors (state);

-- Whoever wrote a comment: a Discord user (external_id = user id) or a web commenter.
CREATE TABLE authors (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('discord', 'web')),
    external_id TEXT NOT NULL CHECK (length(external_id) > 0),
    name TEXT NOT NULL,
    url TEXT,
    is_bot INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    opted_out_at TEXT,
    first_seen_at TEXT NOT NULL,
    UNIQUE (source, external_id)
) STRICT;

CREATE TABLE comments (
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
    CHECK (parent_id IS NULL OR parent_id != id),
    CHECK (source = 'web' OR discord_message_id IS NOT NULL),
    UNIQUE (post_id, source, external_id)
) STRICT;
CREATE INDEX comments_post_created ON comments (post_id, created_at);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author_created ON comments (author_id, created_at);
CREATE INDEX comments_created ON comments (created_at);

-- Earlier bodies of edited comments, oldest first.
CREATE TABLE comment_revisions (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    replaced_at TEXT NOT NULL
) STRICT;
CREATE INDEX comment_revisions_comment ON comment_revisions (comment_id);

-- Every moderation decision, automatic (moderator_id NULL) or by a moderator.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    number INTEGER NOT NULL CHECK (number > 0),
    action TEXT NOT NULL,
    target_user_id INTEGER,
    comment_id INTEGER REFERENCES comments (id) ON DELETE SET NULL,
    post_id INTEGER REFERENCES posts (id) ON DELETE SET NULL,
    moderator_id INTEGER,
    rule TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    modlog_message_id INTEGER,
    UNIQUE (guild_id, number)
) STRICT;
CREATE INDEX cases_target ON cases (guild_id, target_user_id);
CREATE INDEX cases_created ON cases (created_at);

-- One row per digest period; the unique key is what makes a second post impossible.
CREATE TABLE digests (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL CHECK (period_end > period_start),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted')),
    channel_id INTEGER,
    message_id INTEGER,
    created_at TEXT NOT NULL,
    posted_at TEXT,
    UNIQUE (guild_id, period_start)
) STRICT;

-- Where each feed's polling stands, for conditional GETs and health reporting.
CREATE TABLE feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    first_polled_at TEXT,
    last_polled_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0
) STRICT;
