-- Health counters per UTC hour (catch-ups run, 429 responses seen), for the digest's health section.

CREATE TABLE health_counters (
    hour TEXT NOT NULL,  -- the hour's start, ISO-8601 UTC like every time in the store
    kind TEXT NOT NULL CHECK (kind IN ('catch-up', 'rate-limited')),
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (hour, kind)
) STRICT, WITHOUT ROWID;
