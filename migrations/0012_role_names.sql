-- The names of the server's roles, kept in step with Discord while the bot runs: a role
-- mentioned in a comment shows on the site as @name, as Discord shows it, also when the site
-- is served by `serve` alone.
CREATE TABLE roles (
    id INTEGER PRIMARY KEY,  -- the role's Discord id
    name TEXT NOT NULL
);
