-- Configuration center: tenants, accounts, skill queues, called routes, channels,
-- sessions and channel export tasks. Times are milliseconds since the Unix epoch;
-- flags are 0/1; structured settings are JSON text validated by the domain crate.

CREATE TABLE tenants (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    limits TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CONSTRAINT tenants_name_key UNIQUE (name)
);

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    account_key TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    work_no BIGINT,
    agent_type TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT accounts_account_key UNIQUE (account_key),
    CONSTRAINT accounts_work_no_key UNIQUE (tenant_id, work_no)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE skill_queues (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    queue_type TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT skill_queues_name_key UNIQUE (tenant_id, name)
);

CREATE TABLE agent_skills (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL,
    queue_id BIGINT NOT NULL REFERENCES skill_queues (id),
    position BIGINT NOT NULL,
    skill_weight BIGINT NOT NULL,
    agent_weight BIGINT NOT NULL,
    PRIMARY KEY (account_id, queue_id)
);
CREATE INDEX agent_skills_queue ON agent_skills (tenant_id, queue_id);

CREATE TABLE called_routes (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    access_code TEXT NOT NULL,
    extension_code TEXT NOT NULL,
    media_type TEXT NOT NULL,
    queue_id BIGINT NOT NULL REFERENCES skill_queues (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT called_routes_code_key UNIQUE (tenant_id, access_code, extension_code)
);
CREATE INDEX called_routes_queue ON called_routes (tenant_id, queue_id);

CREATE TABLE channels (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    access_code TEXT NOT NULL,
    name TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT channels_access_code_key UNIQUE (tenant_id, access_code),
    CONSTRAINT channels_name_key UNIQUE (tenant_id, name)
);

-- Called routes a channel refers to, so a route in use cannot be deleted.
CREATE TABLE channel_routes (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL,
    route_id BIGINT NOT NULL REFERENCES called_routes (id),
    field TEXT NOT NULL,
    PRIMARY KEY (channel_id, field)
);
CREATE INDEX channel_routes_route ON channel_routes (tenant_id, route_id);

-- Credentials, sealed with the installation's secret key (ChaCha20-Poly1305).
CREATE TABLE channel_secrets (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (channel_id, name)
);

-- Platform identifiers only one channel of the installation may hold.
CREATE TABLE channel_keys (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    tenant_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX channel_keys_channel ON channel_keys (channel_id);

CREATE TABLE export_tasks (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    selection TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    file_count BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX export_tasks_status ON export_tasks (status);

CREATE TABLE export_files (
    task_id BIGINT NOT NULL REFERENCES export_tasks (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL,
    file_index BIGINT NOT NULL,
    records BIGINT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (task_id, file_index)
);
