-- Comment mirroring between the blog and Discord threads: which thread mirrors which review,
-- which blog comment became which Discord message(s), the outbox every write to Discord (and,
-- later, to the blog) goes through, the webhook per channel and the push nonces already seen.
-- Times are ISO 8601 UTC text with milliseconds ("...T12:00:00.000Z"): fixed width, so text
-- comparison is time comparison, and fine enough for retry schedules.

CREATE TABLE mirror_threads (
    thread_id           INTEGER PRIMARY KEY,
    review_id           TEXT NOT NULL,
    guild_id            INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,  -- the thread's parent: its webhook posts into the thread
    paused              INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    linked_at           TEXT NOT NULL,
    last_sync_at        TEXT,
    last_error          TEXT,
    -- The backfill's progress message. A marker without a message id is a post whose outcome
    -- is unknown: look for the marker in the thread before posting another.
    progress_marker     TEXT,
    progress_message_id INTEGER,
    UNIQUE (guild_id, review_id)
);

CREATE INDEX mirror_threads_by_review ON mirror_threads (review_id);

-- One row per blog comment a thread shows (or is about to show, or is about to stop showing).
CREATE TABLE mirrored_comments (
    thread_id         INTEGER NOT NULL REFERENCES mirror_threads (thread_id) ON DELETE CASCADE,
    comment_id        TEXT NOT NULL,
    parent_comment_id TEXT,
    content_hash      TEXT NOT NULL,
    -- Hash of everything the message shows (text, author, avatar, link, parent): differs => edit.
    render_key        TEXT NOT NULL,
    author            TEXT NOT NULL,
    published_at      TEXT NOT NULL,
    position          INTEGER NOT NULL,  -- blog display order when last planned
    late              INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),  -- appeared out of order
    packable          INTEGER NOT NULL DEFAULT 0 CHECK (packable IN (0, 1)),  -- long backfill
    marker            TEXT NOT NULL,  -- random token its messages carry in their blog link
    state             TEXT NOT NULL CHECK (state IN ('pending', 'mirrored', 'removing')),
    version           INTEGER NOT NULL DEFAULT 1,  -- bumped on every change, so edits can rerun
    snapshot          TEXT NOT NULL CHECK (json_valid(snapshot)),  -- what rendering needs
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (thread_id, comment_id)
) WITHOUT ROWID;

CREATE INDEX mirrored_comments_pending ON mirrored_comments (thread_id, position)
    WHERE state = 'pending';

-- The Discord message(s) of each comment: parts of a split comment, or its slot in a packed
-- message (a packed message maps many comments). A NULL message_id is a reservation: a send
-- whose outcome is unknown until the marker is found in the thread or the send is redone.
CREATE TABLE mirrored_messages (
    thread_id     INTEGER NOT NULL,
    comment_id    TEXT NOT NULL,
    part          INTEGER NOT NULL,
    message_id    INTEGER,
    packed        INTEGER NOT NULL DEFAULT 0 CHECK (packed IN (0, 1)),
    marker        TEXT NOT NULL,  -- the marker this message carries
    rendered_hash TEXT,           -- what was last sent or edited into it; NULL forces an edit
    PRIMARY KEY (thread_id, comment_id, part),
    FOREIGN KEY (thread_id, comment_id)
        REFERENCES mirrored_comments (thread_id, comment_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX mirrored_messages_by_message ON mirrored_messages (thread_id, message_id);
CREATE INDEX mirrored_messages_by_marker ON mirrored_messages (thread_id, marker);

-- Work for the outbox worker: todo -> doing -> done | failed. Rows of one (direction, thread)
-- run strictly in id order. dedup_key is set while a row is pending and cleared when it ends,
-- so the same intent cannot be queued twice but may be queued again later.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it is the lane order
    direction       TEXT NOT NULL CHECK (direction IN ('to_discord', 'to_blog')),
    thread_id       INTEGER NOT NULL REFERENCES mirror_threads (thread_id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    dedup_key       TEXT UNIQUE,
    payload         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    state           TEXT NOT NULL DEFAULT 'todo'
                    CHECK (state IN ('todo', 'doing', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE INDEX outbox_lanes ON outbox (direction, thread_id, id) WHERE state IN ('todo', 'doing');
CREATE INDEX outbox_finished ON outbox (updated_at) WHERE state IN ('done', 'failed');

-- One webhook per parent channel. Only its id: the token is a credential, kept in memory by
-- the Discord adapter, which fetches it from Discord.
CREATE TABLE webhooks (
    channel_id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL
);

-- Nonces of accepted push notifications, kept until their timestamp could no longer pass.
CREATE TABLE push_nonces (
    nonce      TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX push_nonces_expiry ON push_nonces (expires_at);
