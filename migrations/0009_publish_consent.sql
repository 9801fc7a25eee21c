-- Members' consent to show their comments on the community's site (WEB_PUBLISH=consented), and an index for the site's comment counts.

-- When the member ran /comments publish; NULL: not given, or withdrawn.
ALTER TABLE authors ADD COLUMN publish_consent_at TEXT;
-- The site counts and lists only visible comments, post by post.
CREATE INDEX comments_post_visible ON comments (post_id, created_at) WHERE status = 'visible';
