-- The console's tables (PostgreSQL), migration set `console` (versions 20,000–29,999). Keep in step
-- with ../sqlite/20001_console.sql (same tables, columns and indexes; only the types differ:
-- SQLite has INTEGER for BIGINT and BOOLEAN). Times are unix seconds. No column ever holds a password: the
-- client secrets and access tokens are kept as SHA-256 hashes, credentials only by display name.

-- API accounts (OAuth 2.0 clients of the Command, Reporting and ECM APIs).
CREATE TABLE console_api_accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    command_api TEXT NOT NULL CHECK (command_api IN ('none', 'read', 'full')),
    reporting_api BOOLEAN NOT NULL,
    ecm_api BOOLEAN NOT NULL,
    ecm_group TEXT,
    created_at BIGINT NOT NULL,
    secret_changed_at BIGINT NOT NULL
);

-- Access tokens, by the SHA-256 of the token; deleted with their account, on disable and on rotation.
CREATE TABLE console_access_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES console_api_accounts (id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_access_tokens_account ON console_access_tokens (account_id);
CREATE INDEX console_access_tokens_expiry ON console_access_tokens (expires_at);

CREATE TABLE console_jump_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE console_jump_items (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    item_type TEXT NOT NULL CHECK (item_type IN ('ssh', 'web', 'app')),
    host TEXT NOT NULL,
    port BIGINT,
    url TEXT,
    application TEXT,
    jump_group_id TEXT NOT NULL REFERENCES console_jump_groups (id),
    tag TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX console_jump_items_group ON console_jump_items (jump_group_id);

-- The SSH host key pinned for a jump item on first use.
CREATE TABLE console_host_key_pins (
    jump_item_id TEXT PRIMARY KEY REFERENCES console_jump_items (id) ON DELETE CASCADE,
    algorithm TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    pinned_at BIGINT NOT NULL
);

-- Group policy (a name the sign-in maps a representative to) → the jump groups it may use.
CREATE TABLE console_policy_jump_groups (
    policy TEXT NOT NULL,
    policy_key TEXT NOT NULL,
    jump_group_id TEXT NOT NULL REFERENCES console_jump_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (policy_key, jump_group_id)
);

-- Access sessions. The jump item's name is kept so that a report outlives its jump item.
CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    representative TEXT NOT NULL,
    jump_item_id TEXT REFERENCES console_jump_items (id) ON DELETE SET NULL,
    jump_item_name TEXT NOT NULL,
    credential_display_name TEXT,
    vault_request_id BIGINT,
    approver TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    recording_path TEXT
);
CREATE INDEX console_sessions_started ON console_sessions (started_at);

-- The coded audit events of a session, in order.
CREATE TABLE console_session_events (
    session_id TEXT NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- Brokers connected to a console node (the ECM server keeps these rows; `seq` orders brokers
-- that connected within the same second).
CREATE TABLE console_brokers (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    ecm_group TEXT NOT NULL,
    api_account_id TEXT REFERENCES console_api_accounts (id) ON DELETE SET NULL,
    connected_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    node TEXT NOT NULL
);
