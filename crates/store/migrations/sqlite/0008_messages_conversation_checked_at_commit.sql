-- The message writer inserts a batch's messages with one statement. A statement that
-- may fail half-way keeps a journal of every page it changes, to undo its own rows:
-- SQLite needs one for a foreign key checked row by row, and for a unique key whose
-- conflict aborts only the statement. With the key to the conversation checked at
-- commit, and the writer's inserts rolling the whole transaction back on a conflict
-- (it stores such a batch again the way that tells duplicates), it keeps none: no
-- journal written for every batch, and steady chat's slowest batches shorter. SQLite
-- changes a table's constraints only by building the table again.
CREATE TABLE messages_checked_at_commit (
    conversation_id BIGINT NOT NULL
        REFERENCES conversations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    tenant_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    sender_kind TEXT NOT NULL,
    sender_id BIGINT,
    client_message_id TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    CONSTRAINT messages_client_key UNIQUE (conversation_id, sender_kind, client_message_id)
);
INSERT INTO messages_checked_at_commit (
    conversation_id, tenant_id, seq, sender_kind, sender_id, client_message_id, content, created_at
)
SELECT conversation_id, tenant_id, seq, sender_kind, sender_id, client_message_id, content, created_at
FROM messages;
DROP TABLE messages;
ALTER TABLE messages_checked_at_commit RENAME TO messages;
