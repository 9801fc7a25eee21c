-- The thread each Discord comment was written in: a post given a new thread keeps the comments of its lost one, and reconciling a thread touches only its own.

ALTER TABLE comments ADD COLUMN thread_id INTEGER;
-- Stored comments were written in their post's current thread, unless they are older than it (a
-- message is always newer than its thread): those were written in a thread since lost, which is
-- not known any more. They stay NULL, in no thread that can be reconciled.
UPDATE comments SET thread_id = (
    SELECT mirrors.thread_id FROM mirrors
    WHERE mirrors.post_id = comments.post_id AND mirrors.thread_id < comments.discord_message_id
)
WHERE source = 'discord';
