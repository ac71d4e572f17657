-- Customers, conversations and messages. A message's seq is the conversation's next
-- number, taken in the transaction that stores it; a client message id is stored once per
-- conversation and kind of sender.

CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT customers_external_key UNIQUE (tenant_id, channel_id, external_id)
);

CREATE TABLE conversations (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    agent_id BIGINT,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX conversations_customer ON conversations (tenant_id, customer_id, state);
CREATE INDEX conversations_state ON conversations (tenant_id, state);

CREATE TABLE messages (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
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

-- A customer's web chat session (the ccmessaging-token cookie), stored by token hash.
CREATE TABLE widget_sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- auth-v2 signatures already accepted, kept until their timestamp leaves the window.
CREATE TABLE used_signatures (
    signature TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
