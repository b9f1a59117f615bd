-- Discord -> blog: members' messages in mirrored threads that are (or may become) blog comments,
-- each member's consent to publishing, each guild's approval mode, and a catch-up cursor per
-- thread. Work for the blog goes through the outbox (direction 'to_blog'), written in the same
-- transaction as the reply row it carries out. Times are ISO 8601 UTC text with milliseconds.

-- What a member answered to "publish your thread replies on the blog?" (per guild).
CREATE TABLE reply_consent (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('always', 'ask', 'never')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- How replies are approved: 'off' (at once), 'blog' (sent held for the blog's moderation
-- queue) or 'discord' (a moderator approves each in the moderator channel first).
CREATE TABLE reply_settings (
    guild_id       INTEGER PRIMARY KEY,
    approval       TEXT NOT NULL DEFAULT 'off' CHECK (approval IN ('off', 'blog', 'discord')),
    mod_channel_id INTEGER,
    updated_at     TEXT NOT NULL
);

-- One row per member message in a mirrored thread that the bot took in. The message's text is
-- kept (latest version) until it is on the blog, so a crash or an outage loses nothing.
CREATE TABLE discord_replies (
    message_id        INTEGER PRIMARY KEY,  -- the message in the thread that shows the reply
    thread_id         INTEGER NOT NULL REFERENCES mirror_threads (thread_id) ON DELETE CASCADE,
    guild_id          INTEGER NOT NULL,
    author_id         INTEGER NOT NULL,
    author_name       TEXT NOT NULL,  -- the member's server display name when last seen
    source            TEXT NOT NULL CHECK (source IN ('message', 'menu', 'command')),
    reply_to_id       INTEGER,        -- the Discord message it answers (parent resolved on send)
    content           TEXT NOT NULL,  -- Discord markdown, latest version
    content_html      TEXT NOT NULL,  -- the sanitised HTML the blog gets
    version           INTEGER NOT NULL DEFAULT 1,  -- bumped by every edit
    status            TEXT NOT NULL CHECK (status IN (
                          'awaiting_consent', 'awaiting_approval', 'queued', 'published',
                          'held', 'failed', 'discord_only', 'rejected', 'deleted')),
    held              INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),  -- create it held
    marker            TEXT NOT NULL UNIQUE,  -- carried by the blog comment: found after a crash
    sent_version      INTEGER NOT NULL DEFAULT 0,  -- >0: a create with this version was sent
    comment_id        TEXT,           -- the blog comment, once known
    parent_comment_id TEXT,
    published_version INTEGER NOT NULL DEFAULT 0,  -- the version the blog shows
    error             TEXT,           -- why it failed or waits, for its author and moderators
    prompt_message_id INTEGER,        -- the consent question posted in the thread
    approval_message_id INTEGER,      -- the moderators' card
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX discord_replies_by_thread ON discord_replies (thread_id, status);
CREATE INDEX discord_replies_by_author ON discord_replies (guild_id, author_id, status);
CREATE INDEX discord_replies_by_comment ON discord_replies (comment_id);

-- The newest message of each mirrored thread the bot has taken in: on start, the thread's
-- history after it is read again (the gateway does not replay what happened while offline).
CREATE TABLE reply_cursors (
    thread_id       INTEGER PRIMARY KEY REFERENCES mirror_threads (thread_id) ON DELETE CASCADE,
    last_message_id INTEGER NOT NULL
);
