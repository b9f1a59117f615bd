-- Answering one comment of a packed backfill message: `/comment reply_to` lists the thread's
-- mirrored comments by commenter, date and first words, and the reply keeps the one chosen.

-- The first words of the comment as plain text (about 100 characters, from the mirror's last
-- create or update): enough to label and find it, never the whole comment. NULL for rows
-- mirrored before this migration, until the comment changes on the blog.
ALTER TABLE mirrored_comments ADD COLUMN excerpt TEXT;

-- The blog comment a member chose to answer (`/comment reply_to`); the parent of the blog
-- comment sent for it. Kept apart from parent_comment_id, which records the parent the blog
-- comment actually has and is cleared when that comment leaves the blog: a retry must still
-- answer the chosen one.
ALTER TABLE discord_replies ADD COLUMN reply_to_comment_id TEXT;
