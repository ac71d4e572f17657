-- Where routing has a conversation, so that a restart finds queues in order and
-- assignments as they were, and the contact record: every routing decision, in order.
ALTER TABLE conversations ADD COLUMN queue_id BIGINT;
ALTER TABLE conversations ADD COLUMN queue_place BIGINT;
ALTER TABLE conversations ADD COLUMN queued_at BIGINT;
CREATE INDEX conversations_routing ON conversations (tenant_id, state, queue_place);

CREATE TABLE contact_events (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    queue_id BIGINT,
    agent_id BIGINT,
    detail TEXT NOT NULL
);
CREATE INDEX contact_events_conversation ON contact_events (tenant_id, conversation_id, id);
