-- Portcullis schema v4 (PostgreSQL): the privileged credential vault. Keep in step with
-- ../sqlite/0004_vault.sql (same tables, columns and indexes; only the types differ).
-- Every secret column (`*_sealed`) holds a value sealed by store::seal with an AAD naming the
-- record (`vault/account/<id>/password`, ...); keys and tokens are kept only as keyed hashes.
-- IDs the Password Safe API shows are integers (its clients parse them as such); Secrets Safe
-- folders and secrets use UUIDs, as that API does.

-- One-row-per-name vault settings (the keyed-hash key, the broker configuration), sealed.
CREATE TABLE vault_settings (
    name TEXT PRIMARY KEY,
    value_sealed BYTEA NOT NULL
);

CREATE TABLE vault_systems (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    platform TEXT NOT NULL,
    port BIGINT,
    workgroup TEXT,
    functional_user TEXT,
    functional_password_sealed BYTEA,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_accounts (
    id BIGSERIAL PRIMARY KEY,
    system_id BIGINT NOT NULL REFERENCES vault_systems (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    domain TEXT,
    description TEXT,
    api_enabled BOOLEAN NOT NULL,
    change_after_release BOOLEAN NOT NULL,
    max_release_minutes BIGINT NOT NULL,
    policy_length BIGINT NOT NULL,
    policy_classes TEXT NOT NULL,              -- subset of "luds": lower, upper, digits, symbols
    rotation_days BIGINT,                     -- scheduled rotation every N days; NULL = only after use
    password_sealed BYTEA,
    pending_sealed BYTEA,                       -- set before a rotation is tried, cleared after
    pending_maybe_set BOOLEAN NOT NULL,        -- the last failure may have set the pending one
    password_changed_at BIGINT,
    rotation_due_at BIGINT,                   -- when the next rotation attempt is due
    rotation_attempts BIGINT NOT NULL,
    rotation_error TEXT,                       -- code and sentence of the last failure
    created_at BIGINT NOT NULL,
    UNIQUE (system_id, name_key)
);
CREATE INDEX vault_accounts_due ON vault_accounts (rotation_due_at);

CREATE TABLE vault_users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT,                        -- argon2id PHC string
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_policies (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    auto_approve BOOLEAN NOT NULL,
    approvals_required BIGINT NOT NULL,
    all_day BOOLEAN NOT NULL,
    window_start BIGINT NOT NULL,             -- minutes after midnight UTC (when not all day)
    window_end BIGINT NOT NULL,
    max_minutes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_registrations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,             -- HMAC-SHA-256 (hex) of the 128-character key
    ip_rules TEXT NOT NULL,                    -- JSON list of {"Type","Value","Description"}
    token_minutes BIGINT NOT NULL,
    user_password_required BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_groups (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    policy_id BIGINT REFERENCES vault_policies (id) ON DELETE SET NULL,
    registration_id BIGINT REFERENCES vault_registrations (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_group_members (
    group_id BIGINT NOT NULL REFERENCES vault_groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX vault_group_members_user ON vault_group_members (user_id);

-- Roles per scope: scope_kind 'all' (scope_id 0), 'system' or 'account'.
CREATE TABLE vault_group_roles (
    group_id BIGINT NOT NULL REFERENCES vault_groups (id) ON DELETE CASCADE,
    scope_kind TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (group_id, scope_kind, scope_id, role)
);

CREATE TABLE vault_oauth_clients (
    client_id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES vault_oauth_clients (client_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE TABLE vault_sessions (
    session_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE vault_requests (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    system_id BIGINT NOT NULL REFERENCES vault_systems (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES vault_accounts (id) ON DELETE CASCADE,
    policy_id BIGINT,
    duration_minutes BIGINT NOT NULL,
    reason TEXT NOT NULL,
    access_type TEXT NOT NULL,
    status TEXT NOT NULL,                      -- pending, approved, denied, checked_in
    approvals BIGINT NOT NULL,
    rotate_on_checkin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX vault_requests_account_user ON vault_requests (account_id, user_id);

CREATE TABLE vault_request_approvals (
    request_id BIGINT NOT NULL REFERENCES vault_requests (id) ON DELETE CASCADE,
    approver_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    PRIMARY KEY (request_id, approver_id)
);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || canonical row); the head row records
-- the last seq and hash so that removing rows at the end is detected too.
CREATE TABLE vault_audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    account_id BIGINT,
    source TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE vault_audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO vault_audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE vault_folders (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES vault_folders (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    path_key TEXT NOT NULL UNIQUE,             -- lower-cased full path, '/' separated
    description TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_secrets (
    id TEXT PRIMARY KEY,
    folder_id TEXT NOT NULL REFERENCES vault_folders (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    secret_type TEXT NOT NULL,                 -- Credential, Text, File
    username TEXT NOT NULL,
    description TEXT NOT NULL,
    notes TEXT NOT NULL,
    file_name TEXT,
    value_sealed BYTEA NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES vault_users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    UNIQUE (folder_id, title_key)
);
