-- Satisfaction evaluations: one per conversation, the customer's last one.
CREATE TABLE evaluations (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL,
    agent_id BIGINT NOT NULL,
    rating BIGINT NOT NULL,
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX evaluations_agent ON evaluations (tenant_id, agent_id);
