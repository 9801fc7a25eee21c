-- Digest indexes: the review queue found without scanning comments, and a guild's cases read by period.

-- The review queue (held comments: how many, the oldest) is a small slice of a large table.
CREATE INDEX comments_status_created ON comments (status, created_at);
-- A guild's cases in a period (cases_target only narrows by guild, which is all of them).
CREATE INDEX cases_guild_created ON cases (guild_id, created_at);
