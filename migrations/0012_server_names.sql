-- The names of the server's roles and of the channels everyone in it can see, kept in step
-- with Discord while the bot runs: a comment's mention of one shows on the site as @role or
-- #channel, as Discord shows it, also when the site is served by `serve` alone. Channels that
-- not everyone can see are left out, so that their names never reach a public page.
CREATE TABLE server_names (
    id INTEGER PRIMARY KEY,  -- the role's or channel's Discord id
    kind TEXT NOT NULL CHECK (kind IN ('role', 'channel')),
    name TEXT NOT NULL
);
