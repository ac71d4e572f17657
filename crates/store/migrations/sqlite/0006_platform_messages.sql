-- Messages platforms delivered, stored before the platform hears back: a delivery the
-- platform repeats is recognised by its key, and one not yet turned into a conversation
-- message is picked up again after a restart.
CREATE TABLE inbound_events (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    processed_at BIGINT,
    CONSTRAINT inbound_events_platform_key UNIQUE (channel_id, platform_id)
);
CREATE INDEX inbound_events_pending ON inbound_events (next_attempt_at) WHERE processed_at IS NULL;
CREATE INDEX inbound_events_processed ON inbound_events (processed_at) WHERE processed_at IS NOT NULL;

-- Replies to customers on platforms, queued in the transaction that stores the message.
CREATE TABLE deliveries (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    tenant_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    -- A text too long for one platform message goes in parts; those sent are not sent again.
    parts_sent INTEGER NOT NULL DEFAULT 0,
    platform_message_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX deliveries_open ON deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_platform ON deliveries (channel_id, platform_message_id);
