-- Per-guild settings and small key/value facts the bot keeps about itself.
CREATE TABLE guild_settings (
    guild_id        INTEGER PRIMARY KEY,
    review_channel_id INTEGER,
    ping_role_id    INTEGER,
    author_role_id  INTEGER,
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE bot_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
