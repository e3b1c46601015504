-- Portcullis schema v1 (SQLite). Keep in step with ../postgres/0001_directory.sql: same tables,
-- columns and constraints; only the types differ (Any driver: TEXT, INTEGER, BLOB; no BOOLEAN,
-- since sqlx's Any driver rejects a column declared BOOLEAN on SQLite).
-- UUIDs are lowercase hyphenated TEXT; times are unix seconds; booleans are INTEGER 0/1.
-- `*_key` columns hold the case-folded form of a name (computed in Rust, identical on both
-- backends) so that uniqueness and look-ups are case-insensitive.

CREATE TABLE tenants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,          -- creation order: the first is the default
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    membership_rev INTEGER NOT NULL DEFAULT 0       -- bumped to serialise group-membership changes
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    upn TEXT NOT NULL,
    upn_key TEXT NOT NULL,
    display_name TEXT NOT NULL,
    given_name TEXT,
    surname TEXT,
    mail TEXT,
    department TEXT,
    job_title TEXT,
    employee_id TEXT,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    password_hash TEXT,
    totp_secret_sealed BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, upn_key)
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT,
    security_enabled INTEGER NOT NULL CHECK (security_enabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name_key)
);

-- Memberships: one table per member kind so that both ends are real foreign keys and deleting a
-- user or a group removes its memberships.
CREATE TABLE group_user_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_user_members_user ON group_user_members (user_id);

CREATE TABLE group_group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_group_id),
    CHECK (group_id <> member_group_id)
);
CREATE INDEX group_group_members_member ON group_group_members (member_group_id);

CREATE TABLE apps (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    template TEXT NOT NULL,
    config_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX apps_tenant ON apps (tenant_id);

-- Entity IDs are URIs: compared exactly (case-sensitive), unique per tenant.
CREATE TABLE app_identifiers (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    PRIMARY KEY (tenant_id, identifier)
);
CREATE INDEX app_identifiers_app ON app_identifiers (app_id);

CREATE TABLE signing_certs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,          -- creation order, for "newest first"
    id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    cert_der BLOB NOT NULL,
    key_sealed BLOB NOT NULL,
    thumbprint TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX signing_certs_app ON signing_certs (app_id);
-- At most one active certificate per app, whatever the code does.
CREATE UNIQUE INDEX signing_certs_one_active ON signing_certs (app_id) WHERE active = 1;

CREATE TABLE app_user_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_user_assignments_user ON app_user_assignments (user_id);

CREATE TABLE app_group_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_group_assignments_group ON app_group_assignments (group_id);

-- Sign-in log: no foreign keys to users or apps, so the record outlives them.
CREATE TABLE sign_ins (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    user_id TEXT,
    upn TEXT,
    upn_key TEXT,
    app_id TEXT,
    ip TEXT,
    result_code TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX sign_ins_tenant_at ON sign_ins (tenant_id, at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    authn_instant INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    mfa INTEGER NOT NULL CHECK (mfa IN (0, 1))
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
