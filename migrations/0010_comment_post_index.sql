-- One index of a post's comments by status and time, in place of two (all comments by time,
-- and visible ones by time): every comment written touches each such index where its post's
-- entries are, so two of them cost ingest twice. Lookups by post alone use its first column.
DROP INDEX comments_post_created;
DROP INDEX comments_post_visible;
CREATE INDEX comments_post_status ON comments (post_id, status, created_at);
