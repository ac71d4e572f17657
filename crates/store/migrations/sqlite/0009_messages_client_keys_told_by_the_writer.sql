-- SQLite has one node, whose message writer task is the only one to store messages: it
-- tells a client's retry from the client keys it read and stored itself (see the message
-- log's client_keys module), so a unique index on them no longer guards anything. It cost
-- every message a second B-tree leaf written to the log at commit, about half of what a
-- batch of messages wrote. PostgreSQL, shared by the nodes of a cluster, keeps it. The
-- sequence number stays the primary key, which the writer's inserts still conflict on.
-- SQLite drops a table's constraint only by building the table again.
CREATE TABLE messages_without_client_key (
    conversation_id BIGINT NOT NULL
        REFERENCES conversations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    tenant_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    sender_kind TEXT NOT NULL,
    sender_id BIGINT,
    client_message_id TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
INSERT INTO messages_without_client_key (
    conversation_id, tenant_id, seq, sender_kind, sender_id, client_message_id, content, created_at
)
SELECT conversation_id, tenant_id, seq, sender_kind, sender_id, client_message_id, content, created_at
FROM messages;
DROP TABLE messages;
ALTER TABLE messages_without_client_key RENAME TO messages;
