-- The bot's copy of the blog's reviews (and of review links members shared), with full-text
-- search; which review was announced in which guild; each guild's watch baseline; member ratings.
-- Timestamps are ISO 8601 UTC text ("...Z"), so they sort and compare as text.

CREATE TABLE reviews (
    -- An explicit rowid for the external-content FTS index: VACUUM may renumber implicit rowids,
    -- which would silently point the index at the wrong reviews. AUTOINCREMENT keeps it
    -- monotonic, so a guild's watch baseline can be "every review up to this seq".
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id        TEXT NOT NULL UNIQUE,  -- the blog's id, or a hash of the URL for shared links
    source           TEXT NOT NULL CHECK (source IN ('blog', 'shared')),
    title            TEXT NOT NULL,
    url              TEXT NOT NULL UNIQUE,
    author           TEXT NOT NULL DEFAULT '',
    published_at     TEXT NOT NULL,
    modified_at      TEXT NOT NULL,
    excerpt          TEXT NOT NULL DEFAULT '',
    image_url        TEXT,
    categories       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
    tags             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    score_display    TEXT,
    score_value      REAL,
    score_scale      REAL,
    score_normalized REAL CHECK (score_normalized BETWEEN 0 AND 1),
    status           TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'withdrawn')),
    content_hash     TEXT NOT NULL,
    first_seen_at    TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX reviews_latest ON reviews (status, published_at DESC);

-- Search over title, excerpt and author. The prefix indexes keep autocomplete on 2-4 typed
-- letters from scanning the whole term list.
CREATE VIRTUAL TABLE reviews_fts USING fts5 (
    title, excerpt, author,
    content = 'reviews', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
);

CREATE TRIGGER reviews_fts_after_insert AFTER INSERT ON reviews BEGIN
    INSERT INTO reviews_fts (rowid, title, excerpt, author)
    VALUES (new.seq, new.title, new.excerpt, new.author);
END;

CREATE TRIGGER reviews_fts_after_delete AFTER DELETE ON reviews BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, title, excerpt, author)
    VALUES ('delete', old.seq, old.title, old.excerpt, old.author);
END;

-- Only when an indexed column really changed: status, score and id changes must not churn it.
CREATE TRIGGER reviews_fts_after_update AFTER UPDATE OF title, excerpt, author ON reviews
WHEN old.title IS NOT new.title OR old.excerpt IS NOT new.excerpt OR old.author IS NOT new.author
BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, title, excerpt, author)
    VALUES ('delete', old.seq, old.title, old.excerpt, old.author);
    INSERT INTO reviews_fts (rowid, title, excerpt, author)
    VALUES (new.seq, new.title, new.excerpt, new.author);
END;

-- One row per (guild, review), claimed as 'pending' before posting, so a crash between the
-- claim and the post leaves a row the announcer finds again instead of a second post.
CREATE TABLE announcements (
    guild_id   INTEGER NOT NULL,
    review_id  TEXT NOT NULL
               REFERENCES reviews (review_id) ON UPDATE CASCADE ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,
    message_id INTEGER,
    thread_id  INTEGER,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'withdrawn')),
    kind       TEXT NOT NULL CHECK (kind IN ('announce', 'share')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, review_id)
) WITHOUT ROWID;

CREATE INDEX announcements_by_review ON announcements (review_id);
CREATE INDEX announcements_pending ON announcements (created_at) WHERE state = 'pending';

-- A guild's first watch run records what exists instead of announcing the back catalogue:
-- reviews with seq <= baseline_seq are never announced there.
CREATE TABLE guild_watch (
    guild_id         INTEGER PRIMARY KEY,
    baseline_seq     INTEGER NOT NULL,
    baseline_done_at TEXT NOT NULL
);

CREATE TABLE ratings (
    guild_id  INTEGER NOT NULL,
    review_id TEXT NOT NULL REFERENCES reviews (review_id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    -- 1 to 10 in steps of 0.5; NaN arrives as NULL and fails NOT NULL.
    score     REAL NOT NULL CHECK (score BETWEEN 1 AND 10 AND score * 2 = CAST(score * 2 AS INTEGER)),
    rated_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, review_id, user_id)
) WITHOUT ROWID;

-- The primary key already clusters a guild's ratings by review (distributions); this one
-- serves a member's history, newest first.
CREATE INDEX ratings_by_member ON ratings (guild_id, user_id, rated_at DESC);

-- Count and sum per guild and review, kept by the triggers below, so leaderboards and summaries
-- read one row per review instead of aggregating every rating. Scores are multiples of 0.5,
-- which binary floating point adds and subtracts exactly: the sums cannot drift.
CREATE TABLE rating_totals (
    guild_id  INTEGER NOT NULL,
    review_id TEXT NOT NULL REFERENCES reviews (review_id) ON UPDATE CASCADE ON DELETE CASCADE,
    count     INTEGER NOT NULL,
    total     REAL NOT NULL,
    PRIMARY KEY (guild_id, review_id)
) WITHOUT ROWID;

CREATE TRIGGER rating_totals_after_insert AFTER INSERT ON ratings BEGIN
    INSERT INTO rating_totals (guild_id, review_id, count, total)
    VALUES (new.guild_id, new.review_id, 1, new.score)
    ON CONFLICT DO UPDATE SET count = count + 1, total = total + excluded.total;
END;

CREATE TRIGGER rating_totals_after_update AFTER UPDATE OF score ON ratings BEGIN
    UPDATE rating_totals SET total = total - old.score + new.score
    WHERE guild_id = new.guild_id AND review_id = new.review_id;
END;

CREATE TRIGGER rating_totals_after_delete AFTER DELETE ON ratings BEGIN
    UPDATE rating_totals SET count = count - 1, total = total - old.score
    WHERE guild_id = old.guild_id AND review_id = old.review_id;
    DELETE FROM rating_totals
    WHERE guild_id = old.guild_id AND review_id = old.review_id AND count = 0;
END;
