-- A conversation's last sequence number is the end of its messages' primary key, read
-- with the conversation; keeping a copy in its row rewrote that row for every batch of
-- messages stored.
ALTER TABLE conversations DROP COLUMN last_seq;
